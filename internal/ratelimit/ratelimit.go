// Package ratelimit keeps in-memory token buckets keyed by a keyed hash that
// rotates, so that abuse control needs no stored identity.
//
// Use [New] to make a [Limiter], then [Limiter.Take] before the work a
// bucket guards and [Limiter.Give] to hand a token back when the work turned
// out not to count (for example a receipt that did open a submission), or
// [Limiter.Peek] before the work and Take only when it failed:
//
//	l := ratelimit.New(ratelimit.Config{Burst: 10, Every: 30 * time.Second})
//	if ok, wait := l.Take(host); !ok {
//		// answer 429 with Retry-After: wait
//	}
//
// # What is kept
//
// A bucket is found by HMAC-SHA256(k, id) with a random 32-byte key k made
// in memory. Every [Config.Rotate] (an hour by default) the key and the whole
// table are dropped together and a fresh key is drawn, so an id (a client
// address, say) is never stored and a table seen in a memory dump cannot be
// tested against a guessed address once the key is gone. Nothing is written
// to disk. A table that reaches [Config.MaxKeys] is dropped too, rather than
// growing without bound; that forgets limits early but never refuses a
// stranger for another's sake.
//
// [Shared] is the same for several servers: its buckets live in a store
// they share, keyed the same way under a key they all derive.
package ratelimit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"math"
	"sync"
	"time"
)

// Config tunes a [Limiter]. Zero fields take the defaults.
type Config struct {
	// Burst is how many tokens a full bucket holds; default 10.
	Burst int
	// Every is how long one token takes to come back; default one minute.
	Every time.Duration
	// Rotate is how often the hashing key and the table are dropped; default
	// one hour.
	Rotate time.Duration
	// MaxKeys bounds the table; default 100000.
	MaxKeys int
	// Now returns the current time. Defaults to time.Now. Can be mocked for
	// tests.
	Now func() time.Time
}

// A Limiter is a set of token buckets. Its methods are safe for concurrent
// use.
type Limiter struct {
	c       Config
	mu      sync.Mutex
	key     [32]byte
	rotated time.Time
	buckets map[[32]byte]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter with full buckets.
func New(c Config) *Limiter {
	if c.Burst <= 0 {
		c.Burst = 10
	}
	if c.Every <= 0 {
		c.Every = time.Minute
	}
	if c.Rotate <= 0 {
		c.Rotate = time.Hour
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 100000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Limiter{c: c}
}

// rotate drops the key and the table when they are due. l.mu is held.
func (l *Limiter) rotate(now time.Time) {
	if l.buckets != nil && now.Sub(l.rotated) < l.c.Rotate && now.Sub(l.rotated) >= 0 && len(l.buckets) < l.c.MaxKeys {
		return
	}
	clear(l.buckets)
	l.buckets = make(map[[32]byte]*bucket)
	rand.Read(l.key[:])
	l.rotated = now
}

// get returns id's bucket, refilled to now. l.mu is held.
func (l *Limiter) get(id string, now time.Time) *bucket {
	l.rotate(now)
	m := hmac.New(sha256.New, l.key[:])
	m.Write([]byte(id))
	var k [32]byte
	m.Sum(k[:0])
	b := l.buckets[k]
	if b == nil {
		b = &bucket{tokens: float64(l.c.Burst), last: now}
		l.buckets[k] = b
		return b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(float64(l.c.Burst), b.tokens+float64(el)/float64(l.c.Every))
		b.last = now
	}
	return b
}

// Take takes a token from id's bucket. If the bucket is empty it takes
// nothing and returns false with how long until a token is back (at least one
// second).
func (l *Limiter) Take(id string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.c.Now()
	b := l.get(id, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait = time.Duration((1 - b.tokens) * float64(l.c.Every))
	return false, max(wait.Round(time.Second), time.Second)
}

// Peek reports whether id's bucket holds a token, without taking it, and
// if not how long until one is back (at least one second). Use it to refuse
// before doing work whose failure would [Limiter.Take] a token.
func (l *Limiter) Peek(id string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(id, l.c.Now())
	if b.tokens >= 1 {
		return true, 0
	}
	wait = time.Duration((1 - b.tokens) * float64(l.c.Every))
	return false, max(wait.Round(time.Second), time.Second)
}

// Give hands a token back to id's bucket (never above the burst).
func (l *Limiter) Give(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(id, l.c.Now())
	b.tokens = math.Min(float64(l.c.Burst), b.tokens+1)
}

// Len reports how many buckets the table holds now.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
