package account

import (
	"fmt"
	"sync"
	"time"
)

// A Backoff slows down password guessing without storing who guesses: it
// counts failed sign-ins per account lookup key (an unknown name has a key
// too, so the counter does not tell names apart) and over all accounts, in
// memory only. After Threshold failures a key must wait Base, doubling with
// each further failure up to Max; the global counter does the same from
// GlobalThreshold up to GlobalMax. A success resets its key's counter. A
// restart resets every counter: an attacker who can restart the server can
// guess faster, which docs/accounts.md accepts (the passphrase is still
// behind argon2id and the second factor). Its methods are safe for
// concurrent use.
type Backoff struct {
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// Threshold, Base and Max shape the per-account delay; zero means 5
	// failures, 1 s and 15 min.
	Threshold int
	Base, Max time.Duration
	// GlobalThreshold and GlobalMax shape the delay over all accounts
	// (base Base); zero means 100 failures and 1 min. A quiet period of
	// GlobalMax without failures resets it.
	GlobalThreshold int
	GlobalMax       time.Duration

	mu     sync.Mutex
	keys   map[string]*counter
	global counter
}

type counter struct {
	fails int
	last  time.Time // of the last failure
}

// maxKeys bounds the map: past it, counters idle for a day are dropped.
const maxKeys = 100_000

// ErrThrottled is wrapped by [ThrottledError].
var ErrThrottled = fmt.Errorf("too many failed sign-ins")

// A ThrottledError says how long to wait before the next attempt.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: try again in %v", ErrThrottled, e.Wait.Round(time.Second))
}

func (e *ThrottledError) Unwrap() error { return ErrThrottled }

func (b *Backoff) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func orInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func orDur(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}

// delay returns the wait after n failures.
func delay(n, threshold int, base, limit time.Duration) time.Duration {
	if n < threshold {
		return 0
	}
	d := base
	for i := threshold; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Wait returns how long key must wait before its next attempt (0: now).
func (b *Backoff) Wait(key []byte) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	base, kmax := orDur(b.Base, time.Second), orDur(b.Max, 15*time.Minute)
	gmax := orDur(b.GlobalMax, time.Minute)
	if now.Sub(b.global.last) > gmax {
		b.global = counter{}
	}
	w := until(now, b.global.last.Add(delay(b.global.fails, orInt(b.GlobalThreshold, 100), base, gmax)))
	if c := b.keys[string(key)]; c != nil {
		w = max(w, until(now, c.last.Add(delay(c.fails, orInt(b.Threshold, 5), base, kmax))))
	}
	return w
}

// Fail counts a failed (or not yet successful) attempt for key.
func (b *Backoff) Fail(key []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.keys == nil {
		b.keys = map[string]*counter{}
	}
	c := b.keys[string(key)]
	if c == nil {
		if len(b.keys) >= maxKeys {
			for k, o := range b.keys {
				if now.Sub(o.last) > 24*time.Hour {
					delete(b.keys, k)
				}
			}
		}
		c = &counter{}
		b.keys[string(key)] = c
	}
	c.fails++
	c.last = now
	b.global.fails++
	b.global.last = now
}

// Succeed resets key's counter and takes its last attempt back from the
// global one.
func (b *Backoff) Succeed(key []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.keys, string(key))
	if b.global.fails > 0 {
		b.global.fails--
	}
}

// until returns how long from now until t, or 0 if t is past.
func until(now, t time.Time) time.Duration {
	return max(t.Sub(now), 0)
}
