//go:build !linux

package vault

// gettid returns 0: other systems are not asked whether a thread is gone.
func gettid() int { return 0 }

// threadGone reports true: the runtime ends the thread shortly after its
// goroutine returns, which is all that can be said here.
func threadGone(int) bool { return true }

// signalSelf does nothing here.
func signalSelf() {}
