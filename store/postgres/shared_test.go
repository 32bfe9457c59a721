package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/store"
)

// Session rows: one per slot, found by ID, touched, deleted one by one,
// by expiry and all at once, from either of two connection pools.
func TestSessionRows(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	hour := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	s1 := store.Session{ID: []byte("id-1"), Slot: []byte("slot-x"), Sealed: []byte("sealed-1"), Expires: hour}
	if err := a.PutSession(ctx, s1, nil); err != nil {
		t.Fatal(err)
	}
	got, err := b.Session(ctx, s1.ID)
	if err != nil || string(got.Sealed) != "sealed-1" || string(got.Slot) != "slot-x" || !got.Expires.Equal(hour) {
		t.Fatalf("Session on the other pool: %+v %v", got, err)
	}
	// A second session of the same slot replaces the first.
	s2 := store.Session{ID: []byte("id-2"), Slot: []byte("slot-x"), Sealed: []byte("sealed-2"), Expires: hour}
	if err := b.PutSession(ctx, s2, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, s1.ID); !errors.Is(err, vigil.ErrNotFound) {
		t.Fatalf("the replaced session: %v, want ErrNotFound", err)
	}
	if err := a.TouchSession(ctx, s1); !errors.Is(err, vigil.ErrNotFound) {
		t.Fatalf("touch of the replaced session: %v, want ErrNotFound", err)
	}
	s2.Sealed, s2.Slot, s2.Expires = []byte("sealed-2b"), []byte("slot-y"), hour.Add(time.Hour)
	if err := a.TouchSession(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Session(ctx, s2.ID); err != nil || string(got.Sealed) != "sealed-2b" || string(got.Slot) != "slot-y" {
		t.Fatalf("touched session: %+v %v", got, err)
	}
	// Touching onto a slot another session holds is a conflict.
	s3 := store.Session{ID: []byte("id-3"), Slot: []byte("slot-z"), Sealed: []byte("s3"), Expires: hour}
	if err := a.PutSession(ctx, s3, nil); err != nil {
		t.Fatal(err)
	}
	s3.Slot = []byte("slot-y")
	if err := a.TouchSession(ctx, s3); !errors.Is(err, vigil.ErrConflict) {
		t.Fatalf("touch onto a held slot: %v, want ErrConflict", err)
	}
	// prev: a row of the previous window's slot goes too.
	s4 := store.Session{ID: []byte("id-4"), Slot: []byte("slot-next"), Sealed: []byte("s4"), Expires: hour.Add(time.Hour)}
	if err := b.PutSession(ctx, s4, []byte("slot-y")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, s2.ID); !errors.Is(err, vigil.ErrNotFound) {
		t.Fatalf("the previous window's session: %v, want ErrNotFound", err)
	}
	if err := a.DeleteSession(ctx, s4.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.PutSession(ctx, s2, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := b.DeleteSessions(ctx, hour.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("DeleteSessions(expired): %d %v, want 1", n, err)
	}
	if _, err := a.Session(ctx, s3.ID); !errors.Is(err, vigil.ErrNotFound) {
		t.Fatalf("expired session: %v, want ErrNotFound", err)
	}
	if err := a.DeleteSession(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Session(ctx, s2.ID); !errors.Is(err, vigil.ErrNotFound) {
		t.Fatalf("deleted session: %v, want ErrNotFound", err)
	}
	for i := range 3 {
		a.PutSession(ctx, store.Session{ID: []byte{byte(i)}, Slot: []byte{byte(i)}, Sealed: []byte("x"), Expires: hour}, nil)
	}
	if n, err := b.DeleteSessions(ctx, time.Time{}); err != nil || n != 3 {
		t.Fatalf("DeleteSessions(all): %d %v, want 3", n, err)
	}
}

// Buckets shared by two connection pools: concurrent takes from both never
// get more than the burst, a token comes back on time, Give hands one
// back, Peek changes nothing, and old epochs are deleted.
func TestBucketsShared(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	dbs := []store.BucketStore{mustOpen(t, url), mustOpen(t, url)}
	shape := store.Bucket{Burst: 20, Every: 10 * time.Second}
	now := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	key := []byte("client")
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				ok, _, err := dbs[i%2].TakeToken(ctx, key, 1, shape, now)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					granted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if g := granted.Load(); g != 20 {
		t.Fatalf("two pools took %d tokens from a bucket of 20", g)
	}
	if tok, err := dbs[0].PeekToken(ctx, key, shape, now.Add(5*time.Second)); err != nil || tok != 0.5 {
		t.Fatalf("Peek after 5s: %v %v, want 0.5", tok, err)
	}
	if ok, tok, err := dbs[1].TakeToken(ctx, key, 1, shape, now.Add(5*time.Second)); ok || err != nil || tok != 0.5 {
		t.Fatalf("take after 5s: %v %v %v, want refused with 0.5", ok, tok, err)
	}
	if ok, tok, err := dbs[0].TakeToken(ctx, key, 1, shape, now.Add(10*time.Second)); !ok || err != nil || tok != 1 {
		t.Fatalf("take after 10s: %v %v %v, want granted from 1", ok, tok, err)
	}
	if err := dbs[1].GiveToken(ctx, key, shape, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ok, tok, err := dbs[0].TakeToken(ctx, key, 1, shape, now.Add(10*time.Second)); !ok || err != nil || tok != 1 {
		t.Fatalf("take after Give: %v %v %v, want granted from 1", ok, tok, err)
	}
	// Refill never passes the burst; an unknown bucket is full.
	if tok, err := dbs[0].PeekToken(ctx, key, shape, now.Add(time.Hour)); err != nil || tok != 20 {
		t.Fatalf("Peek after an hour: %v %v, want 20", tok, err)
	}
	if tok, err := dbs[0].PeekToken(ctx, []byte("other"), shape, now); err != nil || tok != 20 {
		t.Fatalf("Peek of a new bucket: %v %v, want 20", tok, err)
	}
	if _, _, err := dbs[0].TakeToken(ctx, []byte("later"), 2, shape, now); err != nil {
		t.Fatal(err)
	}
	if err := dbs[1].DeleteBuckets(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The epoch-1 bucket is gone (full again); the epoch-2 one is kept.
	if tok, _ := dbs[0].PeekToken(ctx, key, shape, now.Add(10*time.Second)); tok != 20 {
		t.Fatalf("bucket of a deleted epoch holds %v tokens, want a new full one", tok)
	}
	if tok, _ := dbs[0].PeekToken(ctx, []byte("later"), shape, now); tok != 19 {
		t.Fatalf("bucket of the current epoch holds %v tokens, want 19", tok)
	}
	if _, _, err := dbs[0].TakeToken(ctx, key, 1, store.Bucket{}, now); !errors.Is(err, vigil.ErrInvalid) {
		t.Fatalf("a bucket of no tokens: %v, want ErrInvalid", err)
	}
}
