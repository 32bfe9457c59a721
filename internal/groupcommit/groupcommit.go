// Package groupcommit runs many small write transactions as one, so that
// concurrent writers share one fsync (group commit).
//
// Each caller of [Committer.Do] waits until its function has been committed
// (durably) or has failed. Functions queued while a commit is in flight are
// run together in the next transaction, in order. If that transaction fails,
// each function is retried alone, so one bad write cannot fail the others:
// functions must therefore only write through the transaction they are given
// (and may run more than once).
package groupcommit

import (
	"context"
	"errors"
	"sync"

	"github.com/vigil-hr/vigil/store"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("committer closed")

// ErrPanic is returned by Do when its function panicked. The panic is
// recovered so that one bad writer fails only its own caller, not the
// process and every source waiting in the same batch.
var ErrPanic = errors.New("write function panicked")

// A Committer batches write transactions on a store. Its methods are safe for
// concurrent use.
type Committer struct {
	s        store.Store
	maxBatch int
	reqs     chan *request
	done     chan struct{}
	once     sync.Once
	mu       sync.RWMutex
	closed   bool
}

type request struct {
	fn  func(store.Tx) error
	err chan error
}

// New returns a committer on s that puts at most maxBatch functions in one
// transaction (0 means 256). Close it to stop its goroutine.
func New(s store.Store, maxBatch int) *Committer {
	if maxBatch <= 0 {
		maxBatch = 256
	}
	c := &Committer{s: s, maxBatch: maxBatch, reqs: make(chan *request, maxBatch), done: make(chan struct{})}
	go c.loop()
	return c
}

// Do runs fn in a write transaction shared with other callers and returns
// once it is durable, or its error. Once queued, fn runs even if ctx is
// cancelled: the caller learns the real outcome.
func (c *Committer) Do(ctx context.Context, fn func(store.Tx) error) error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	r := &request{fn: fn, err: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	return <-r.err
}

// Close stops the committer after the queued functions have run.
func (c *Committer) Close() {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.reqs)
		c.mu.Unlock()
		<-c.done
	})
}

func (c *Committer) loop() {
	defer close(c.done)
	for first := range c.reqs {
		batch := []*request{first}
	fill:
		for len(batch) < c.maxBatch {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.run(batch)
	}
}

func (c *Committer) run(batch []*request) {
	ctx := context.Background()
	err := c.s.Update(ctx, func(tx store.Tx) error {
		for _, r := range batch {
			if err := safe(r.fn, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.err <- err
		}
		return
	}
	// Something in the batch failed: run each alone to find out which.
	for _, r := range batch {
		r.err <- c.s.Update(ctx, func(tx store.Tx) error { return safe(r.fn, tx) })
	}
}

// safe runs fn, turning a panic into an error wrapping ErrPanic. The
// transaction then rolls back like after any other error. The panic value
// is not included: it may hold case content.
func safe(fn func(store.Tx) error, tx store.Tx) (err error) {
	defer func() {
		if recover() != nil {
			err = ErrPanic
		}
	}()
	return fn(tx)
}
