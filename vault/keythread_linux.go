package vault

import (
	"os"
	"syscall"
)

// signalSelf sends SIGURG, which Go's runtime takes as a preemption hint and
// otherwise ignores, to the calling thread; the kernel delivers it before the
// call returns.
func signalSelf() { syscall.Tgkill(os.Getpid(), syscall.Gettid(), syscall.SIGURG) }
