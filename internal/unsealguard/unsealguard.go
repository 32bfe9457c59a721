// Package unsealguard paces guesses of the vault passphrase: one attempt
// at a time (the vault's scrypt then paces guessing by itself) and a
// bounded number of wrong ones, for every way in together. vigil serve
// makes one Guard and gives it to the staff API and the staff UI, so that
// two doors do not double the rate.
package unsealguard

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-hr/vigil/internal/ratelimit"
	"github.com/vigil-hr/vigil/vault"
)

// ErrBusy is an attempt made while another one runs its scrypt: it would
// only queue behind it, holding its passphrase and soon 256 MiB more.
var ErrBusy = errors.New("another unseal attempt is running")

// A TooManyError is an attempt over the limit; Wait is how long until the
// next one may be made.
type TooManyError struct{ Wait time.Duration }

func (e *TooManyError) Error() string {
	return fmt.Sprintf("too many unseal attempts, try again in %s", e.Wait.Round(time.Second))
}

// A Vault is what a Guard unseals: *vault.Vault.
type Vault interface {
	Sealed() bool
	Unseal(passphrase []byte) error
}

// A Guard unseals Vault for every caller. Its zero Limit allows 5 wrong
// passphrases, then one a minute.
type Guard struct {
	Vault Vault
	Limit ratelimit.Config

	once sync.Once
	mu   sync.Mutex
	lim  *ratelimit.Limiter
}

// bucket is the limiter's one key: the limit is on guesses, not on callers.
const bucket = "unseal"

// Unseal unseals the vault with passphrase and reports whether it was
// sealed before. It returns [ErrBusy] while another attempt runs, a
// *[TooManyError] over the limit, and the vault's error otherwise; only a
// wrong passphrase counts against the limit.
func (g *Guard) Unseal(passphrase []byte) (wasSealed bool, err error) {
	g.once.Do(func() {
		c := g.Limit
		if c.Burst == 0 {
			c.Burst = 5
		}
		if c.Every == 0 {
			c.Every = time.Minute
		}
		g.lim = ratelimit.New(c)
	})
	if !g.mu.TryLock() {
		return false, ErrBusy
	}
	defer g.mu.Unlock()
	if ok, wait := g.lim.Take(bucket); !ok {
		return false, &TooManyError{Wait: wait}
	}
	wasSealed = g.Vault.Sealed()
	if err := g.Vault.Unseal(passphrase); err != nil {
		if !errors.Is(err, vault.ErrWrongPassphrase) {
			g.lim.Give(bucket) // not a guess
		}
		return false, err
	}
	g.lim.Give(bucket)
	return wasSealed, nil
}
