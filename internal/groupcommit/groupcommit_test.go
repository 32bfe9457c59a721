package groupcommit_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/groupcommit"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/sqlite"
)

func open(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Concurrent writers each get their own outcome; a failing function fails
// only its caller; every successful write is there, exactly once.
func TestConcurrentWithFailures(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	c := groupcommit.New(s, 16)
	defer c.Close()
	const n = 200
	errBad := errors.New("bad write")
	var wg sync.WaitGroup
	results := make([]error, n)
	ids := make([]vigil.ID, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = vigil.NewID()
			results[i] = c.Do(ctx, func(tx store.Tx) error {
				if _, err := evlog.Append(tx, [32]byte{byte(i), byte(i >> 8)}); err != nil {
					return err
				}
				if err := tx.PutRecord(store.Record{ID: ids[i], Version: 1, Kind: "t", Created: time.Unix(0, 0), LeafIndex: -1, Body: []byte{1}}); err != nil {
					return err
				}
				if i%7 == 3 {
					return errBad
				}
				return nil
			})
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range results {
		if i%7 == 3 {
			if !errors.Is(err, errBad) {
				t.Errorf("write %d: %v, want errBad", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
		ok++
	}
	err := s.View(ctx, func(tx store.ReadTx) error {
		size, err := tx.TreeSize()
		if err != nil {
			return err
		}
		if size != int64(ok) {
			t.Errorf("tree size %d, want %d", size, ok)
		}
		cnt, err := tx.CountRecords("t")
		if err != nil {
			return err
		}
		if cnt != int64(ok) {
			t.Errorf("%d records, want %d", cnt, ok)
		}
		for i, id := range ids {
			_, err := tx.Record(id, 0)
			if (i%7 == 3) != errors.Is(err, vigil.ErrNotFound) {
				t.Errorf("write %d: record lookup %v", i, err)
			}
		}
		return evlog.Check(tx)
	})
	if err != nil {
		t.Fatalf("check the store after the writes: %v", err)
	}
}

// A function that panics fails its own caller with an error, not the
// process, and the writes queued with it still commit.
func TestPanicRecovered(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	c := groupcommit.New(s, 16)
	defer c.Close()
	const n = 40
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.Do(ctx, func(tx store.Tx) error {
				if _, err := evlog.Append(tx, [32]byte{byte(i)}); err != nil {
					return err
				}
				if i%5 == 2 {
					panic("a bug in one writer")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range results {
		switch {
		case i%5 == 2 && !errors.Is(err, groupcommit.ErrPanic):
			t.Errorf("write %d panicked: got %v, want ErrPanic", i, err)
		case i%5 != 2 && err != nil:
			t.Errorf("write %d: %v", i, err)
		case err == nil:
			ok++
		}
	}
	err := s.View(ctx, func(tx store.ReadTx) error {
		size, err := tx.TreeSize()
		if err == nil && size != int64(ok) {
			t.Errorf("tree size %d, want %d", size, ok)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClosed(t *testing.T) {
	c := groupcommit.New(open(t), 0)
	c.Close()
	c.Close()
	if err := c.Do(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, groupcommit.ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
}
