package vault

import (
	"runtime"
	"sync"
	"time"
)

// A keyThread runs an unsealed vault's work on its key file and Ed25519
// keys (reading and parsing the key file, expanding and signing with the
// keys) on a goroutine locked to an OS thread of its own, which ends at seal.
//
// Why: Go code moves data through vector registers (runtime.memmove copies
// 17 to 32 bytes through X0 and X1, a 32-byte key whole; SHA-512 and HMAC
// copy their states the same way), and a signal that interrupts a thread (Go's
// runtime sends SIGURG to preempt) makes the kernel save every register on
// that thread's signal stack, where the bytes stay after the handler returns.
// TestKeysNotInSignalFrames found the identity scalar and the signing keys
// there after seal, as TestMemoryAfterSeal in cmd/vigil had once in CI. And a
// goroutine's stack that the runtime grows or shrinks is copied and the old
// one freed as it was, with whatever key bytes its dead frames held (the log
// key's seed, in a SHA-512 state, was found that way).
//
// So the thread: locks itself, grows its stack once, before any key is
// touched, to a size no operation outgrows, keeps more than a quarter of it
// in use so that the garbage collector never shrinks it, clears the stack
// below its serving loop after every operation, and at seal returns without
// unlocking, which makes the runtime end the OS thread and free its signal
// stack and goroutine stack; [Vault.Seal] waits until the thread is gone and
// then returns the freed memory to the OS.
//
// X25519 unwrapping, which every decryption does, runs on the caller's
// goroutine instead (a hop to this thread costs about 35 µs, as much as the
// unwrapping): [x25519] keeps the scalar out of vector registers and off the
// stack.
type keyThread struct {
	reqs chan func()
	tid  int

	mu     sync.RWMutex
	closed bool
	done   chan struct{}
}

// startKeyThread starts a key thread.
func startKeyThread() *keyThread {
	k := &keyThread{reqs: make(chan func()), done: make(chan struct{})}
	tid := make(chan int)
	go k.run(tid)
	k.tid = <-tid
	return k
}

// run is the key thread's goroutine. It never unlocks its OS thread, so the
// runtime ends that thread when it returns.
func (k *keyThread) run(tid chan<- int) {
	defer close(k.done)
	runtime.LockOSThread()
	growStack()
	tid <- gettid()
	k.serve()
}

// keyStackUse is what the serving loop keeps in use of its stack, which
// growStack makes 128 KiB: the garbage collector shrinks (copies) a stack
// only when less than a quarter of it is in use.
const keyStackUse = 40 << 10

// serve runs requests until [keyThread.stop], clearing the stack the
// request used after each.
//
//go:noinline
func (k *keyThread) serve() {
	var pad [keyStackUse]byte
	sink(pad[:])
	for f := range k.reqs {
		f()
		scrubStack()
	}
}

// growStack grows the calling goroutine's stack to 128 KiB (the runtime
// doubles it until its frame fits) while it holds nothing secret.
//
//go:noinline
func growStack() {
	var b [96 << 10]byte
	sink(b[:])
}

// do runs f on the key thread and returns when it has run. It returns
// false, without running f, after stop.
func (k *keyThread) do(f func()) bool {
	done := make(chan struct{})
	k.mu.RLock()
	if k.closed {
		k.mu.RUnlock()
		return false
	}
	k.reqs <- func() {
		defer close(done)
		f()
	}
	k.mu.RUnlock()
	<-done
	return true
}

// stop ends the key thread after the request it is running, and waits (up
// to two seconds) until its OS thread is gone, so that its stacks are freed.
// It is idempotent.
func (k *keyThread) stop() {
	k.mu.Lock()
	if !k.closed {
		k.closed = true
		close(k.reqs)
	}
	k.mu.Unlock()
	<-k.done
	for deadline := time.Now().Add(2 * time.Second); !threadGone(k.tid) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}
