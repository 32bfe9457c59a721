package vault

import (
	"runtime"
	"strings"
	"testing"
)

// TestKeyThreadLeavesMainThread has the key thread's first goroutine take
// itself for the process's main thread, which the runtime parks rather than
// ends when a locked goroutine returns: the key thread must start again on
// another thread, serve there, and be gone when stop returns. (Its second
// start may land on the real main thread, which it must leave too: without
// the move, this test failed that way once in three runs.)
func TestKeyThreadLeavesMainThread(t *testing.T) {
	orig := onMainThread
	t.Cleanup(func() { onMainThread = orig })
	calls := 0
	onMainThread = func() bool { calls++; return calls == 1 || orig() }

	k := startKeyThread()
	if calls < 2 {
		t.Fatalf("the key thread started %d times, want it moved", calls)
	}
	ran := false
	if !k.do(func() { ran = true }) || !ran {
		t.Fatal("the moved key thread did not run a request")
	}
	k.stop()
	if !threadGone(k.tid) {
		t.Errorf("thread %d is still there after stop", k.tid)
	}
	if k.do(func() { t.Error("ran after stop") }) {
		t.Error("do after stop reported true")
	}
	k.stop() // idempotent
}

// TestKeyThreadPanic checks that a panic on the key thread reaches the
// caller, as it would have without the thread, and that the thread serves
// on.
func TestKeyThreadPanic(t *testing.T) {
	k := startKeyThread()
	defer k.stop()
	func() {
		defer func() {
			if p := recover(); p == nil || !strings.Contains(p.(string), "boom") {
				t.Errorf("recovered %v, want the key thread's panic", p)
			}
		}()
		k.do(func() { panic("boom") })
		t.Error("do returned after a panic")
	}()
	if !k.do(func() {}) {
		t.Error("the key thread stopped serving after a panic")
	}
}

// TestKeyThreadEndsWithVault drops an unsealed vault: its cleanup must end
// its key thread.
func TestKeyThreadEndsWithVault(t *testing.T) {
	dir := t.TempDir()
	pub, err := Create(dir+"/keys.age", []byte("pass"), "example.org/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(dir+"/keys.age", pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unseal([]byte("pass")); err != nil {
		t.Fatal(err)
	}
	k := v.sec.thread
	v = nil
	for i := 0; i < 100 && !threadGone(k.tid); i++ {
		runtime.GC()
		k.mu.RLock()
		closed := k.closed
		k.mu.RUnlock()
		if closed {
			<-k.done
		}
	}
	if !threadGone(k.tid) {
		t.Errorf("the key thread %d of a dropped vault is still there", k.tid)
	}
}
