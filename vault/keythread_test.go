package vault

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKeyThreadKeepsItsThread checks that ending a key thread does not end
// its OS thread, which would send the parent-death signal to every child
// process that thread had started with Pdeathsig (TestScaleCrash's
// PostgreSQL was told to shut down that way) and, on the process's main
// thread, would park it with its frames instead. The child here is started
// from the thread that then becomes the key thread.
func TestKeyThreadKeepsItsThread(t *testing.T) {
	for range 5 {
		var tid int
		var child *os.Process
		k := startKeyThread()
		if !k.do(func() {
			tid = syscall.Gettid()
			p, err := os.StartProcess("/bin/sleep", []string{"sleep", "30"}, &os.ProcAttr{Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}})
			if err != nil {
				t.Error(err)
				return
			}
			child = p
		}) {
			t.Fatal("a new key thread refused a request")
		}
		if child == nil {
			t.FailNow()
		}
		k.stop()
		if k.do(func() { t.Error("ran after stop") }) {
			t.Error("do after stop reported true")
		}
		k.stop() // idempotent
		if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid)); err != nil {
			t.Errorf("the key thread's OS thread %d ended with it: %v", tid, err)
		}
		type waited struct {
			st  *os.ProcessState
			err error
		}
		exited := make(chan waited, 1)
		go func() {
			st, err := child.Wait()
			exited <- waited{st, err}
		}()
		select {
		case w := <-exited:
			t.Errorf("the child the key thread started ended with it: %v %v", w.st, w.err)
		case <-time.After(50 * time.Millisecond):
			if err := child.Kill(); err != nil {
				t.Errorf("kill the child: %v", err)
			}
			if w := <-exited; w.err != nil {
				t.Errorf("wait for the child: %v", w.err)
			}
		}
	}
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

// TestKeyThreadEndsWithVault drops an unsealed vault: its cleanup must wipe
// the keys and end its key thread.
func TestKeyThreadEndsWithVault(t *testing.T) {
	v, _ := mustCreate(t)
	mustUnseal(t, v)
	s := v.sec
	runtime.KeepAlive(v)
	for i := 0; i < 100; i++ {
		runtime.GC()
		select {
		case <-s.thread.done:
			if s.identity != nil || s.logKey[0]|s.logKey[31] != 0 {
				t.Error("the keys of a dropped vault were not wiped")
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Error("the key thread of a dropped vault is still running")
}
