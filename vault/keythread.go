package vault

import (
	"runtime"
	"sync"
)

// A keyThread runs an unsealed vault's work on its key file and Ed25519
// keys (reading and parsing the key file, expanding and signing with the
// keys) on a goroutine locked to an OS thread of its own, which cleans up
// after itself and ends at seal.
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
// in use so that the garbage collector never shrinks it, and clears the stack
// below its serving loop after every operation. At seal it clears its whole
// stack, overwrites the vector registers with zeroes and signals itself, so
// that the kernel writes those registers over the last frame on its signal
// stack (every frame is written at the same place, the top of that stack),
// and only then unlocks its OS thread and ends.
//
// It does not end the OS thread itself, which a locked goroutine returning
// would: the runtime parks the process's main thread instead (so it would
// keep its frames), and a thread that ends sends the parent-death signal to
// every child process it started with Pdeathsig (TestScaleCrash's
// PostgreSQL got SIGTERM that way, and refused connections "shutting down").
//
// X25519 unwrapping, which every decryption does, runs on the caller's
// goroutine instead (a hop to this thread costs about 35 µs, as much as the
// unwrapping): [x25519] keeps the scalar out of vector registers and off the
// stack.
type keyThread struct {
	reqs chan func()

	mu     sync.RWMutex
	closed bool
	done   chan struct{}
}

// startKeyThread starts a key thread.
func startKeyThread() *keyThread {
	k := &keyThread{reqs: make(chan func()), done: make(chan struct{})}
	ready := make(chan struct{})
	go k.run(ready)
	<-ready
	return k
}

// run is the key thread's goroutine.
func (k *keyThread) run(ready chan<- struct{}) {
	defer close(k.done)
	runtime.LockOSThread()
	k.serve(ready)
	scrubWholeStack()
	clearSignalFrame()
	runtime.UnlockOSThread()
}

// keyStackUse is what the serving loop keeps in use of its stack, which
// growStack makes 128 KiB (if the runtime's adaptive starting stack size is
// no more than that, as it is unless goroutines average over 64 KiB): the
// garbage collector shrinks (copies) a stack only when less than a quarter
// of it is in use.
const keyStackUse = 40 << 10

// serve grows the stack, says it is ready and runs requests until
// [keyThread.stop], clearing the stack the request used after each.
//
//go:noinline
func (k *keyThread) serve(ready chan<- struct{}) {
	var pad [keyStackUse]byte
	sink(pad[:])
	growStack()
	close(ready)
	for f := range k.reqs {
		f()
		scrubStack()
	}
}

// growStack grows the calling goroutine's stack, below serve's frame, to
// 128 KiB (the runtime doubles it until this frame fits) while it holds
// nothing secret.
//
//go:noinline
func growStack() {
	var b [64 << 10]byte
	sink(b[:])
}

// scrubWholeStack clears 96 KiB below its caller: all of the key thread's
// stack that serve and the requests used.
//
//go:noinline
func scrubWholeStack() {
	var b [96 << 10]byte
	clear(b[:])
	sink(b[:])
}

// clearSignalFrame overwrites the vector registers with zeroes and then
// signals this thread, so that the kernel saves those registers over the
// last frame on the thread's signal stack: the frame is always written at the
// same place, at the top of the stack. The registers are overwritten by
// runtime.memmove, which copies 129 to 256 bytes through X0 to X15 on amd64
// (TestKeyThreadClearsItsSignalFrame checks that it works); the length is a
// variable so that the compiler calls memmove rather than clearing d with a
// register it keeps zero, which left the key in X0 and X1 to be saved again.
func clearSignalFrame() {
	var z, d [256]byte
	copy(d[:vectorBytes], z[:vectorBytes])
	sink(d[:])
	signalSelf()
}

// vectorBytes is a variable: see clearSignalFrame.
var vectorBytes = 256

// do runs f on the key thread and returns when it has run. It returns
// false, without running f, after stop.
//
// A panic in f is recovered on the key thread and raised again on the
// caller's goroutine, where net/http, say, would recover it: unrecovered on
// the key thread, it would end the process.
func (k *keyThread) do(f func()) bool {
	done := make(chan struct{})
	var p any
	k.mu.RLock()
	if k.closed {
		k.mu.RUnlock()
		return false
	}
	k.reqs <- func() {
		defer close(done)
		defer func() { p = recover() }()
		f()
	}
	k.mu.RUnlock()
	<-done
	if p != nil {
		panic(p)
	}
	return true
}

// stop ends the key thread after the request it is running, and waits
// until it has cleared its stack, registers and signal frame. It is
// idempotent.
func (k *keyThread) stop() {
	k.mu.Lock()
	if !k.closed {
		k.closed = true
		close(k.reqs)
	}
	k.mu.Unlock()
	<-k.done
}
