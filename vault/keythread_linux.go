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
