package ratelimit_test

import (
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/internal/ratelimit"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)} }

func TestBurstAndRefill(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Burst: 3, Every: 10 * time.Second, Rotate: time.Hour, Now: c.Now})
	for i := range 3 {
		if ok, _ := l.Take("a"); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	ok, wait := l.Take("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("empty bucket: ok=%v wait=%v, want refused with 10s", ok, wait)
	}
	if ok, _ := l.Take("b"); !ok {
		t.Fatal("another id shares a's bucket")
	}
	c.Add(4 * time.Second)
	if ok, wait := l.Take("a"); ok || wait != 6*time.Second {
		t.Fatalf("after 4s: ok=%v wait=%v, want refused with 6s", ok, wait)
	}
	c.Add(6 * time.Second)
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("a token should be back after 10s")
	}
	if ok, _ := l.Take("a"); ok {
		t.Fatal("only one token should be back")
	}
	l.Give("a")
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("Give did not hand a token back")
	}
	// Refill never exceeds the burst.
	c.Add(time.Minute * 59)
	for range 3 {
		l.Take("a")
	}
	if ok, _ := l.Take("a"); ok {
		t.Fatal("bucket held more than its burst")
	}
}

func TestRotationDropsTable(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Burst: 1, Every: 24 * time.Hour, Rotate: time.Hour, Now: c.Now})
	l.Take("a")
	l.Take("b")
	if ok, _ := l.Take("a"); ok {
		t.Fatal("limit not applied")
	}
	if n := l.Len(); n != 2 {
		t.Fatalf("table has %d buckets, want 2", n)
	}
	c.Add(time.Hour)
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("rotation did not drop the table")
	}
	if n := l.Len(); n != 1 {
		t.Fatalf("after rotation the table has %d buckets, want 1", n)
	}
}

func TestMaxKeys(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Burst: 1, MaxKeys: 100, Now: c.Now})
	for i := range 1000 {
		l.Take(string(rune(i)))
		if l.Len() > 100 {
			t.Fatalf("table grew to %d", l.Len())
		}
	}
}

func TestConcurrent(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Burst: 50, Every: time.Hour})
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if ok, _ := l.Take("x"); ok {
					mu.Lock()
					granted++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if granted != 50 {
		t.Fatalf("granted %d tokens from a bucket of 50", granted)
	}
}

// Peek reports without taking: a full bucket stays full however often it
// is peeked, and an empty one says how long to wait, like Take.
func TestPeek(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Burst: 2, Every: 10 * time.Second, Rotate: time.Hour, Now: c.Now})
	for range 5 {
		if ok, _ := l.Peek("a"); !ok {
			t.Fatal("Peek refused a full bucket")
		}
	}
	l.Take("a")
	l.Take("a")
	if ok, wait := l.Peek("a"); ok || wait != 10*time.Second {
		t.Fatalf("empty bucket: Peek ok=%v wait=%v, want refused with 10s", ok, wait)
	}
	c.Add(10 * time.Second)
	if ok, _ := l.Peek("a"); !ok {
		t.Fatal("Peek refused after a token came back")
	}
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("Peek took the token")
	}
}
