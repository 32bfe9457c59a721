package unsealguard

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/internal/ratelimit"
	"github.com/vigil-hr/vigil/vault"
)

// fakeVault takes "right" as its passphrase; block, if set, holds Unseal.
type fakeVault struct {
	mu     sync.Mutex
	sealed bool
	block  chan struct{}
	inside chan struct{} // closed when an Unseal is held by block
	other  error         // returned instead of a verdict, if set
}

func (v *fakeVault) Sealed() bool { v.mu.Lock(); defer v.mu.Unlock(); return v.sealed }
func (v *fakeVault) Unseal(p []byte) error {
	if v.block != nil {
		close(v.inside)
		<-v.block
	}
	if v.other != nil {
		return v.other
	}
	if string(p) != "right" {
		return vault.ErrWrongPassphrase
	}
	v.mu.Lock()
	v.sealed = false
	v.mu.Unlock()
	return nil
}

// TestLimit: wrong passphrases count against one limit whoever makes them;
// other failures and successes do not; the wait is told.
func TestLimit(t *testing.T) {
	now := time.Unix(0, 0)
	v := &fakeVault{sealed: true}
	g := &Guard{Vault: v, Limit: ratelimit.Config{Burst: 3, Every: time.Minute, Now: func() time.Time { return now }}}
	v.other = errors.New("disk on fire")
	for range 5 {
		if _, err := g.Unseal([]byte("x")); err == nil || errors.Is(err, vault.ErrWrongPassphrase) {
			t.Fatalf("other failure: %v", err)
		}
	}
	v.other = nil
	for i := range 3 {
		if _, err := g.Unseal([]byte("wrong")); !errors.Is(err, vault.ErrWrongPassphrase) {
			t.Fatalf("wrong passphrase %d: %v", i, err)
		}
	}
	var tooMany *TooManyError
	if _, err := g.Unseal([]byte("right")); !errors.As(err, &tooMany) || tooMany.Wait <= 0 {
		t.Fatalf("fourth attempt: %v, want a TooManyError with a wait", err)
	}
	now = now.Add(time.Minute)
	was, err := g.Unseal([]byte("right"))
	if err != nil || !was {
		t.Fatalf("after the wait: was sealed %v, %v", was, err)
	}
	// A success gives its token back: the one regained token is still there.
	if _, err := g.Unseal([]byte("wrong")); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("after a success: %v", err)
	}
}

// TestBusy: a second attempt while one runs is refused at once.
func TestBusy(t *testing.T) {
	v := &fakeVault{sealed: true, block: make(chan struct{}), inside: make(chan struct{})}
	g := &Guard{Vault: v}
	done := make(chan error)
	go func() { _, err := g.Unseal([]byte("right")); done <- err }()
	<-v.inside // the first attempt holds the guard
	if _, err := g.Unseal([]byte("right")); !errors.Is(err, ErrBusy) {
		t.Fatalf("second attempt: %v, want ErrBusy", err)
	}
	close(v.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
