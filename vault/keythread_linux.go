package vault

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// gettid returns the calling OS thread's ID.
func gettid() int { return syscall.Gettid() }

// threadGone reports whether this process no longer has thread tid.
func threadGone(tid int) bool {
	_, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid))
	return errors.Is(err, fs.ErrNotExist)
}

// signalSelf sends SIGURG, which Go's runtime takes as a preemption hint and
// otherwise ignores, to the calling thread; the kernel delivers it before the
// call returns.
func signalSelf() { syscall.Tgkill(os.Getpid(), syscall.Gettid(), syscall.SIGURG) }
