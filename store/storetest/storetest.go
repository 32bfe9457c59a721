// Package storetest is the conformance suite for [store.Store] adapters.
//
// Every adapter's tests call [Run] with a function that opens a fresh, empty
// store; the suite checks the contract written in package store: record
// versions are never overwritten, a failed Update leaves nothing behind, a
// View sees one snapshot, log appends are serialized, and the stored Merkle
// hashes agree with a tree computed from the entries alone by
// golang.org/x/mod/sumdb/tlog.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/store"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call; the suite closes it (and open may also register a cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	mk := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	for _, test := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RecordVersionsNeverOverwritten", testRecordVersions},
		{"RecordInvalid", testRecordInvalid},
		{"RecordNotFound", testRecordNotFound},
		{"RecordsPagination", testRecordsPagination},
		{"CountRecords", testCountRecords},
		{"Blobs", testBlobs},
		{"UpdateRollback", testUpdateRollback},
		{"ViewSnapshot", testViewSnapshot},
		{"WriteLeafWrongIndex", testWriteLeafWrongIndex},
		{"LogMatchesReference", testLogMatchesReference},
		{"ReadEntriesRanges", testReadEntries},
		{"LeafOf", testLeafOf},
		{"ReadHashesMissing", testReadHashesMissing},
		{"Checkpoints", testCheckpoints},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentVersionRace", testConcurrentVersionRace},
		{"CloseTwice", testCloseTwice},
		{"RecordsByKey", testRecordsByKey},
	} {
		t.Run(test.name, func(t *testing.T) { test.fn(t, mk(t)) })
	}
}

var ctx = context.Background()

func update(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(store.ReadTx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// created is a time at second precision, the precision every adapter keeps.
var created = time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)

func rec(id vigil.ID, version int64, kind string) store.Record {
	return store.Record{ID: id, Version: version, Kind: kind, Created: created, LeafIndex: -1,
		Body: fmt.Appendf(nil, "body %s v%d", id, version)}
}

func sameRecord(t *testing.T, got, want store.Record) {
	t.Helper()
	if got.ID != want.ID || got.Version != want.Version || got.Kind != want.Kind ||
		!got.Created.Equal(want.Created) || got.LeafIndex != want.LeafIndex || got.Blob != want.Blob ||
		!bytes.Equal(got.Body, want.Body) || !bytes.Equal(got.Key, want.Key) {
		t.Errorf("record = %+v\nwant     %+v", got, want)
	}
}

func putErr(s store.Store, r store.Record) error {
	return s.Update(ctx, func(tx store.Tx) error { return tx.PutRecord(r) })
}

func testRecordVersions(t *testing.T, s store.Store) {
	id := vigil.NewID()
	v1 := rec(id, 1, "item")
	v1.Blob = "0123456789abcdef0123456789abcdef"
	v1.LeafIndex = 7
	if err := putErr(s, v1); err != nil {
		t.Fatalf("put v1: %v", err)
	}

	over := rec(id, 1, "item")
	over.Body = []byte("overwrite")
	if err := putErr(s, over); !errors.Is(err, vigil.ErrConflict) {
		t.Errorf("put v1 again = %v, want ErrConflict", err)
	}
	if err := putErr(s, rec(id, 3, "item")); !errors.Is(err, vigil.ErrInvalid) {
		t.Errorf("put v3 after v1 = %v, want ErrInvalid", err)
	}
	v2 := rec(id, 2, "item")
	if err := putErr(s, v2); err != nil {
		t.Fatalf("put v2: %v", err)
	}
	if err := putErr(s, rec(id, 1, "item")); !errors.Is(err, vigil.ErrConflict) {
		t.Errorf("put v1 after v2 = %v, want ErrConflict", err)
	}
	if err := putErr(s, rec(id, 2, "item")); !errors.Is(err, vigil.ErrConflict) {
		t.Errorf("put v2 again = %v, want ErrConflict", err)
	}

	view(t, s, func(tx store.ReadTx) error {
		for _, c := range []struct {
			version int64
			want    store.Record
		}{{0, v2}, {1, v1}, {2, v2}} {
			got, err := tx.Record(id, c.version)
			if err != nil {
				t.Errorf("Record(%d): %v", c.version, err)
				continue
			}
			sameRecord(t, got, c.want)
		}
		return nil
	})

	// The same check from inside the writing transaction.
	update(t, s, func(tx store.Tx) error {
		v3 := rec(id, 3, "item")
		if err := tx.PutRecord(v3); err != nil {
			return err
		}
		got, err := tx.Record(id, 0)
		if err != nil {
			return err
		}
		sameRecord(t, got, v3)
		if err := tx.PutRecord(rec(id, 3, "item")); !errors.Is(err, vigil.ErrConflict) {
			t.Errorf("put v3 twice in one transaction = %v, want ErrConflict", err)
		}
		return nil
	})
}

func testRecordInvalid(t *testing.T, s store.Store) {
	id := vigil.NewID()
	for _, c := range []struct {
		name string
		r    store.Record
	}{
		{"version 0", rec(id, 0, "item")},
		{"negative version", rec(id, -1, "item")},
		{"first version 2", rec(id, 2, "item")},
		{"empty kind", rec(id, 1, "")},
		{"zero id", rec(vigil.ID{}, 1, "item")},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := putErr(s, c.r); !errors.Is(err, vigil.ErrInvalid) {
				t.Errorf("PutRecord = %v, want ErrInvalid", err)
			}
		})
	}
	view(t, s, func(tx store.ReadTx) error {
		if n, err := tx.CountRecords("item"); err != nil || n != 0 {
			t.Errorf("CountRecords after invalid puts = %d, %v; want 0", n, err)
		}
		return nil
	})
}

func testRecordNotFound(t *testing.T, s store.Store) {
	id := vigil.NewID()
	if err := putErr(s, rec(id, 1, "item")); err != nil {
		t.Fatal(err)
	}
	view(t, s, func(tx store.ReadTx) error {
		for _, c := range []struct {
			name    string
			id      vigil.ID
			version int64
		}{
			{"unknown id latest", vigil.NewID(), 0},
			{"unknown id v1", vigil.NewID(), 1},
			{"missing version", id, 2},
		} {
			if _, err := tx.Record(c.id, c.version); !errors.Is(err, vigil.ErrNotFound) {
				t.Errorf("%s: Record = %v, want ErrNotFound", c.name, err)
			}
		}
		if _, err := tx.Checkpoint(1); !errors.Is(err, vigil.ErrNotFound) {
			t.Errorf("Checkpoint(1) of an empty log = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testRecordsPagination(t *testing.T, s store.Store) {
	latest := make(map[vigil.ID]store.Record)
	var ids []vigil.ID
	update(t, s, func(tx store.Tx) error {
		for i := range 25 {
			id := vigil.NewID()
			ids = append(ids, id)
			r := rec(id, 1, "a")
			if err := tx.PutRecord(r); err != nil {
				return err
			}
			if i%3 == 0 { // some records have later versions
				r = rec(id, 2, "a")
				if err := tx.PutRecord(r); err != nil {
					return err
				}
			}
			latest[id] = r
		}
		for range 5 {
			if err := tx.PutRecord(rec(vigil.NewID(), 1, "b")); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(ids, func(a, b vigil.ID) int { return bytes.Compare(a[:], b[:]) })

	for _, limit := range []int{1, 7, 10, 25, 100} {
		t.Run(fmt.Sprintf("limit%d", limit), func(t *testing.T) {
			var got []vigil.ID
			view(t, s, func(tx store.ReadTx) error {
				var after vigil.ID
				for pages := 0; ; pages++ {
					if pages > 100 {
						t.Fatal("pagination does not end")
					}
					page, err := tx.Records("a", after, limit)
					if err != nil {
						return err
					}
					if len(page) > limit {
						t.Fatalf("page of %d records with limit %d", len(page), limit)
					}
					for _, r := range page {
						if r.Kind != "a" {
							t.Errorf("Records(a) returned kind %q", r.Kind)
						}
						sameRecord(t, r, latest[r.ID])
						got = append(got, r.ID)
					}
					if len(page) < limit {
						return nil
					}
					after = page[len(page)-1].ID
				}
			})
			if !slices.Equal(got, ids) {
				t.Errorf("paged IDs (%d) are not every kind-a ID in order (%d)", len(got), len(ids))
			}
		})
	}
	view(t, s, func(tx store.ReadTx) error {
		if page, err := tx.Records("none", vigil.ID{}, 10); err != nil || len(page) != 0 {
			t.Errorf("Records(none) = %d records, %v; want none", len(page), err)
		}
		if page, err := tx.Records("a", ids[len(ids)-1], 10); err != nil || len(page) != 0 {
			t.Errorf("Records(a) after the last ID = %d records, %v; want none", len(page), err)
		}
		return nil
	})
}

func testCountRecords(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := range 4 {
			id := vigil.NewID()
			for v := int64(1); v <= int64(i+1); v++ {
				if err := tx.PutRecord(rec(id, v, "a")); err != nil {
					return err
				}
			}
		}
		return tx.PutRecord(rec(vigil.NewID(), 1, "b"))
	})
	view(t, s, func(tx store.ReadTx) error {
		for kind, want := range map[string]int64{"a": 4, "b": 1, "c": 0} {
			if n, err := tx.CountRecords(kind); err != nil || n != want {
				t.Errorf("CountRecords(%q) = %d, %v; want %d", kind, n, err, want)
			}
		}
		return nil
	})
}

func testBlobs(t *testing.T, s store.Store) {
	view(t, s, func(tx store.ReadTx) error {
		return tx.Blobs(func(name string) error {
			t.Errorf("empty store lists blob %q", name)
			return nil
		})
	})
	const (
		b1 = "11111111111111111111111111111111"
		b2 = "22222222222222222222222222222222"
		b3 = "33333333333333333333333333333333"
	)
	update(t, s, func(tx store.Tx) error {
		id := vigil.NewID()
		for v, b := range []string{b1, b1, b2} { // versions 1-3
			r := rec(id, int64(v+1), "item")
			r.Blob = b
			if err := tx.PutRecord(r); err != nil {
				return err
			}
		}
		r := rec(vigil.NewID(), 1, "other") // every kind counts
		r.Blob = b3
		if err := tx.PutRecord(r); err != nil {
			return err
		}
		r = rec(vigil.NewID(), 1, "item")
		r.Blob = b2
		if err := tx.PutRecord(r); err != nil {
			return err
		}
		return tx.PutRecord(rec(vigil.NewID(), 1, "item")) // no blob
	})
	var got []string
	view(t, s, func(tx store.ReadTx) error {
		return tx.Blobs(func(name string) error { got = append(got, name); return nil })
	})
	slices.Sort(got)
	if want := []string{b1, b2, b3}; !slices.Equal(got, want) {
		t.Errorf("Blobs = %q, want %q (each once, old versions included)", got, want)
	}

	// An error from fn stops the walk and is returned.
	stop := errors.New("stop")
	calls := 0
	err := s.View(ctx, func(tx store.ReadTx) error {
		return tx.Blobs(func(string) error { calls++; return stop })
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Blobs with failing fn = %v after %d calls, want the error after 1", err, calls)
	}
}

// entry returns a distinct 32-byte log entry.
func entry(i int) [evlog.EntrySize]byte {
	return sha256.Sum256(binary.BigEndian.AppendUint64([]byte("storetest entry "), uint64(i)))
}

func testUpdateRollback(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	id := vigil.NewID()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecord(rec(id, 1, "item")); err != nil {
			return err
		}
		if _, err := evlog.Append(tx, entry(0)); err != nil {
			return err
		}
		if err := tx.PutCheckpoint(1, []byte("signed checkpoint")); err != nil {
			return err
		}
		if n, err := tx.TreeSize(); err != nil || n != 1 {
			t.Errorf("TreeSize inside the transaction = %d, %v; want 1", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want fn's error", err)
	}

	// A failed PutRecord after a good one: the good one is rolled back too.
	id2 := vigil.NewID()
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecord(rec(id2, 1, "item")); err != nil {
			return err
		}
		return tx.PutRecord(rec(id2, 1, "item"))
	})
	if !errors.Is(err, vigil.ErrConflict) {
		t.Fatalf("Update with a conflicting put = %v, want ErrConflict", err)
	}

	view(t, s, func(tx store.ReadTx) error {
		for _, id := range []vigil.ID{id, id2} {
			if _, err := tx.Record(id, 0); !errors.Is(err, vigil.ErrNotFound) {
				t.Errorf("record of a rolled-back Update: %v, want ErrNotFound", err)
			}
		}
		if n, err := tx.CountRecords("item"); err != nil || n != 0 {
			t.Errorf("CountRecords = %d, %v; want 0", n, err)
		}
		if n, err := tx.TreeSize(); err != nil || n != 0 {
			t.Errorf("TreeSize = %d, %v; want 0", n, err)
		}
		if _, err := tx.ReadHashes([]int64{0}); err == nil {
			t.Error("stored hash of a rolled-back leaf is readable")
		}
		if cp, err := tx.LatestCheckpoint(); err != nil || cp != nil {
			t.Errorf("LatestCheckpoint = %q, %v; want nil", cp, err)
		}
		return nil
	})

	// The store still works and the log starts at index 0.
	update(t, s, func(tx store.Tx) error {
		i, err := evlog.Append(tx, entry(0))
		if err == nil && i != 0 {
			t.Errorf("first append after rollback got index %d", i)
		}
		return err
	})
}

// testViewSnapshot checks that a View does not see an Update that commits
// while it runs. Adapters whose writers wait for readers pass trivially.
func testViewSnapshot(t *testing.T, s store.Store) {
	before := vigil.NewID()
	update(t, s, func(tx store.Tx) error {
		if _, err := evlog.Append(tx, entry(0)); err != nil {
			return err
		}
		return tx.PutRecord(rec(before, 1, "item"))
	})

	added := vigil.NewID()
	done := make(chan error, 1)
	concurrent := false
	view(t, s, func(tx store.ReadTx) error {
		n0, err := tx.TreeSize()
		if err != nil {
			return err
		}
		if _, err := tx.Record(before, 0); err != nil {
			return err
		}
		go func() {
			done <- s.Update(ctx, func(tx store.Tx) error {
				if _, err := evlog.Append(tx, entry(1)); err != nil {
					return err
				}
				if err := tx.PutRecord(rec(added, 1, "item")); err != nil {
					return err
				}
				if err := tx.PutRecord(rec(before, 2, "item")); err != nil {
					return err
				}
				return tx.PutCheckpoint(2, []byte("cp2"))
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("concurrent Update: %v", err)
			}
			concurrent = true
		case <-time.After(3 * time.Second):
			t.Log("Update waits for the open View; checking the snapshot anyway")
		}
		n1, err := tx.TreeSize()
		if err != nil {
			return err
		}
		if n1 != n0 {
			t.Errorf("TreeSize changed inside a View: %d then %d", n0, n1)
		}
		if _, err := tx.Record(added, 0); !errors.Is(err, vigil.ErrNotFound) {
			t.Errorf("View sees a record committed after it started: %v", err)
		}
		if r, err := tx.Record(before, 0); err != nil || r.Version != 1 {
			t.Errorf("View sees version %d (%v) of a record updated after it started, want 1", r.Version, err)
		}
		if n, err := tx.CountRecords("item"); err != nil || n != 1 {
			t.Errorf("CountRecords inside the View = %d, %v; want 1", n, err)
		}
		if cp, err := tx.LatestCheckpoint(); err != nil || cp != nil {
			t.Errorf("View sees checkpoint %q (%v) committed after it started", cp, err)
		}
		if _, err := tx.ReadEntries(0, 2); err == nil {
			t.Error("View reads an entry committed after it started")
		}
		return nil
	})
	if !concurrent {
		if err := <-done; err != nil {
			t.Fatalf("Update after the View: %v", err)
		}
	}
	view(t, s, func(tx store.ReadTx) error {
		if n, err := tx.TreeSize(); err != nil || n != 2 {
			t.Errorf("TreeSize after the Update = %d, %v; want 2", n, err)
		}
		if _, err := tx.Record(added, 0); err != nil {
			t.Errorf("new View does not see the committed record: %v", err)
		}
		return nil
	})
}

func testWriteLeafWrongIndex(t *testing.T, s store.Store) {
	e := entry(0)
	leaf := func(index int64) error {
		return s.Update(ctx, func(tx store.Tx) error {
			hashes, err := tlog.StoredHashes(index, e[:], tlog.HashReaderFunc(tx.ReadHashes))
			if err != nil {
				hashes = []tlog.Hash{tlog.RecordHash(e[:])}
			}
			return tx.WriteLeaf(index, e[:], hashes)
		})
	}
	if err := leaf(1); !errors.Is(err, vigil.ErrConflict) {
		t.Errorf("WriteLeaf(1) on an empty log = %v, want ErrConflict", err)
	}
	if err := leaf(0); err != nil {
		t.Fatalf("WriteLeaf(0): %v", err)
	}
	for _, i := range []int64{0, 2, -1} {
		if err := leaf(i); !errors.Is(err, vigil.ErrConflict) {
			t.Errorf("WriteLeaf(%d) with tree size 1 = %v, want ErrConflict", i, err)
		}
	}
	view(t, s, func(tx store.ReadTx) error {
		if n, err := tx.TreeSize(); err != nil || n != 1 {
			t.Errorf("TreeSize = %d, %v; want 1", n, err)
		}
		return evlog.Check(tx)
	})
}

// appendEntries appends entries [from, to) in transactions of batch entries.
func appendEntries(t *testing.T, s store.Store, from, to, batch int) {
	t.Helper()
	for start := from; start < to; start += batch {
		update(t, s, func(tx store.Tx) error {
			for i := start; i < min(start+batch, to); i++ {
				idx, err := evlog.Append(tx, entry(i))
				if err != nil {
					return err
				}
				if idx != int64(i) {
					t.Fatalf("Append returned index %d, want %d", idx, i)
				}
			}
			return nil
		})
	}
}

// refHashes is an in-memory tlog hash storage built from entries alone.
type refHashes []tlog.Hash

func (r refHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(r)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = r[x]
	}
	return out, nil
}

func reference(t *testing.T, n int) refHashes {
	t.Helper()
	var ref refHashes
	for i := range n {
		e := entry(i)
		hs, err := tlog.StoredHashes(int64(i), e[:], ref)
		if err != nil {
			t.Fatal(err)
		}
		ref = append(ref, hs...)
	}
	return ref
}

// rfc6962 is the Merkle tree hash of RFC 6962 section 2.1, written out
// directly, for an independent cross-check of tlog.
func rfc6962(leaves []tlog.Hash) tlog.Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return tlog.NodeHash(rfc6962(leaves[:k]), rfc6962(leaves[k:]))
}

func testLogMatchesReference(t *testing.T, s store.Store) {
	const n = 100
	appendEntries(t, s, 0, 10, 1)  // one per transaction
	appendEntries(t, s, 10, n, 30) // batched
	ref := reference(t, n)
	var leaves []tlog.Hash
	for i := range n {
		e := entry(i)
		leaves = append(leaves, tlog.RecordHash(e[:]))
	}
	view(t, s, func(tx store.ReadTx) error {
		if size, err := tx.TreeSize(); err != nil || size != n {
			t.Fatalf("TreeSize = %d, %v; want %d", size, err, n)
		}
		if err := evlog.Check(tx); err != nil {
			t.Errorf("evlog.Check: %v", err)
		}
		for k := int64(1); k <= n; k++ {
			got, err := evlog.TreeHash(tx, k)
			if err != nil {
				t.Fatalf("TreeHash(%d): %v", k, err)
			}
			want, err := tlog.TreeHash(k, ref)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("TreeHash(%d) = %v, reference %v", k, got, want)
			}
			if direct := rfc6962(leaves[:k]); direct != want {
				t.Fatalf("tlog reference and RFC 6962 disagree at %d", k)
			}
		}
		// Every stored hash is the reference's.
		idx := make([]int64, len(ref))
		for i := range idx {
			idx[i] = int64(i)
		}
		got, err := tx.ReadHashes(idx)
		if err != nil {
			t.Fatalf("ReadHashes(all %d): %v", len(idx), err)
		}
		if !slices.Equal(got, []tlog.Hash(ref)) {
			t.Error("stored hashes differ from the reference")
		}
		// Order of the requested indexes is kept.
		rev := slices.Clone(idx[:50])
		slices.Reverse(rev)
		got, err = tx.ReadHashes(rev)
		if err != nil {
			return err
		}
		for i, x := range rev {
			if got[i] != ref[x] {
				t.Fatalf("ReadHashes in reverse order: hash %d wrong", x)
			}
		}
		if got, err := tx.ReadHashes(nil); err != nil || len(got) != 0 {
			t.Errorf("ReadHashes(nil) = %d hashes, %v", len(got), err)
		}
		return nil
	})
}

func testReadEntries(t *testing.T, s store.Store) {
	const n = 40
	appendEntries(t, s, 0, n, 16)
	view(t, s, func(tx store.ReadTx) error {
		for _, c := range []struct{ start, end int64 }{{0, n}, {0, 1}, {10, 20}, {n - 1, n}, {7, 7}, {0, 0}, {n, n}} {
			got, err := tx.ReadEntries(c.start, c.end)
			if err != nil {
				t.Errorf("ReadEntries(%d, %d): %v", c.start, c.end, err)
				continue
			}
			if int64(len(got)) != c.end-c.start {
				t.Errorf("ReadEntries(%d, %d) returned %d entries", c.start, c.end, len(got))
				continue
			}
			for i, e := range got {
				want := entry(int(c.start) + i)
				if !bytes.Equal(e, want[:]) {
					t.Errorf("ReadEntries(%d, %d)[%d] is not entry %d", c.start, c.end, i, int(c.start)+i)
				}
			}
		}
		for _, c := range []struct{ start, end int64 }{{0, n + 1}, {n - 1, n + 1}, {n, n + 1}, {n + 5, n + 10}} {
			if got, err := tx.ReadEntries(c.start, c.end); err == nil {
				t.Errorf("ReadEntries(%d, %d) past the end returned %d entries and no error", c.start, c.end, len(got))
			}
		}
		return nil
	})
}

func testLeafOf(t *testing.T, s store.Store) {
	const n = 40
	appendEntries(t, s, 0, n, 16)
	view(t, s, func(tx store.ReadTx) error {
		for _, i := range []int{0, 1, 17, n - 1} {
			e := entry(i)
			got, err := tx.LeafOf(e[:])
			if err != nil || got != int64(i) {
				t.Errorf("LeafOf(entry %d) = %d, %v", i, got, err)
			}
		}
		e := entry(n)
		if got, err := tx.LeafOf(e[:]); !errors.Is(err, vigil.ErrNotFound) {
			t.Errorf("LeafOf(an entry not in the log) = %d, %v; want ErrNotFound", got, err)
		}
		return nil
	})
}

func testReadHashesMissing(t *testing.T, s store.Store) {
	view(t, s, func(tx store.ReadTx) error {
		if _, err := tx.ReadHashes([]int64{0}); err == nil {
			t.Error("ReadHashes on an empty log: no error")
		}
		return nil
	})
	appendEntries(t, s, 0, 5, 5)
	stored := tlog.StoredHashCount(5)
	view(t, s, func(tx store.ReadTx) error {
		if _, err := tx.ReadHashes([]int64{0, stored - 1}); err != nil {
			t.Errorf("ReadHashes of stored hashes: %v", err)
		}
		for _, idx := range [][]int64{{stored}, {0, stored}, {stored + 100, 1}} {
			if _, err := tx.ReadHashes(idx); err == nil {
				t.Errorf("ReadHashes(%v) with %d stored: no error", idx, stored)
			}
		}
		if _, err := evlog.TreeHash(tx, 6); err == nil {
			t.Error("TreeHash beyond the tree: no error")
		}
		return nil
	})
}

func testCheckpoints(t *testing.T, s store.Store) {
	view(t, s, func(tx store.ReadTx) error {
		if cp, err := tx.LatestCheckpoint(); err != nil || cp != nil {
			t.Errorf("LatestCheckpoint of an empty store = %q, %v; want nil, nil", cp, err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			size int64
			cp   string
		}{{3, "three"}, {10, "ten"}, {7, "seven"}} {
			if err := tx.PutCheckpoint(c.size, []byte(c.cp)); err != nil {
				return err
			}
		}
		if cp, err := tx.LatestCheckpoint(); err != nil || string(cp) != "ten" {
			t.Errorf("LatestCheckpoint inside the transaction = %q, %v", cp, err)
		}
		return nil
	})
	view(t, s, func(tx store.ReadTx) error {
		if cp, err := tx.LatestCheckpoint(); err != nil || string(cp) != "ten" {
			t.Errorf("LatestCheckpoint = %q, %v; want the largest size", cp, err)
		}
		for size, want := range map[int64]string{3: "three", 7: "seven", 10: "ten"} {
			if cp, err := tx.Checkpoint(size); err != nil || string(cp) != want {
				t.Errorf("Checkpoint(%d) = %q, %v; want %q", size, cp, err, want)
			}
		}
		for _, size := range []int64{0, 4, 11} {
			if _, err := tx.Checkpoint(size); !errors.Is(err, vigil.ErrNotFound) {
				t.Errorf("Checkpoint(%d) = %v, want ErrNotFound", size, err)
			}
		}
		return nil
	})
}

// testConcurrentUpdates appends from several goroutines, each append with a
// record pointing at its leaf, and checks none is lost or duplicated.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	const workers, each = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	var mu sync.Mutex
	leafOf := make(map[vigil.ID]int64)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := vigil.NewID()
				e := entry(1000 + w*each + i)
				var idx int64
				err := s.Update(ctx, func(tx store.Tx) error {
					var err error
					if idx, err = evlog.Append(tx, e); err != nil {
						return err
					}
					r := rec(id, 1, "item")
					r.LeafIndex = idx
					r.Body = e[:]
					return tx.PutRecord(r)
				})
				if err != nil {
					errs <- err
					continue
				}
				mu.Lock()
				leafOf[id] = idx
				mu.Unlock()
			}
		})
	}
	// Readers run alongside and must always see a consistent tree.
	stopRead := make(chan struct{})
	var rwg sync.WaitGroup
	for range 2 {
		rwg.Go(func() {
			for {
				select {
				case <-stopRead:
					return
				default:
				}
				err := s.View(ctx, func(tx store.ReadTx) error {
					n, err := tx.TreeSize()
					if err != nil {
						return err
					}
					if _, err := evlog.TreeHash(tx, n); err != nil {
						return fmt.Errorf("tree hash at %d: %w", n, err)
					}
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("concurrent View: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stopRead)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent: %v", err)
	}

	const total = workers * each
	view(t, s, func(tx store.ReadTx) error {
		if n, err := tx.TreeSize(); err != nil || n != total {
			t.Fatalf("TreeSize = %d, %v; want %d (lost or extra appends)", n, err, total)
		}
		if err := evlog.Check(tx); err != nil {
			t.Errorf("evlog.Check: %v", err)
		}
		if n, err := tx.CountRecords("item"); err != nil || n != total {
			t.Errorf("CountRecords = %d, %v; want %d", n, err, total)
		}
		entries, err := tx.ReadEntries(0, total)
		if err != nil {
			return err
		}
		seen := make(map[int64]bool)
		for id, idx := range leafOf {
			if seen[idx] {
				t.Errorf("leaf index %d given twice", idx)
			}
			seen[idx] = true
			r, err := tx.Record(id, 0)
			if err != nil {
				return err
			}
			if r.LeafIndex != idx || !bytes.Equal(entries[idx], r.Body) {
				t.Errorf("record %s: leaf %d does not hold its entry", id, idx)
			}
		}
		if len(seen) != total {
			t.Errorf("%d distinct leaf indexes, want %d", len(seen), total)
		}
		return nil
	})
}

// testConcurrentVersionRace has several goroutines write the same next
// version: exactly one wins, the others get ErrConflict.
func testConcurrentVersionRace(t *testing.T, s store.Store) {
	id := vigil.NewID()
	if err := putErr(s, rec(id, 1, "item")); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			r := rec(id, 2, "item")
			r.Body = fmt.Appendf(nil, "writer %d", i)
			results <- putErr(s, r)
		})
	}
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, vigil.ErrConflict):
		default:
			t.Errorf("racing PutRecord: %v, want nil or ErrConflict", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d writers of version 2 succeeded, want exactly 1", wins)
	}
}

func testCloseTwice(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// testRecordsByKey checks lookups by key: only the latest version counts,
// results come in leaf order, kinds are separate, and no key is no match.
func testRecordsByKey(t *testing.T, s store.Store) {
	parent := []byte("parent-key-0123456789")
	var want []store.Record
	for i := range 5 {
		r := rec(vigil.NewID(), 1, "message")
		r.Key = parent
		r.LeafIndex = int64(10 - i) // inserted in reverse leaf order
		update(t, s, func(tx store.Tx) error { return tx.PutRecord(r) })
		want = append([]store.Record{r}, want...)
	}
	other := rec(vigil.NewID(), 1, "other")
	other.Key = parent
	plain := rec(vigil.NewID(), 1, "message")
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutRecord(other); err != nil {
			return err
		}
		return tx.PutRecord(plain)
	})
	// A record whose latest version moved to another key is found only there.
	moved := rec(vigil.NewID(), 1, "message")
	moved.Key, moved.LeafIndex = parent, 20
	moved2 := rec(moved.ID, 2, "message")
	moved2.Key, moved2.LeafIndex = []byte("elsewhere"), 21
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutRecord(moved); err != nil {
			return err
		}
		return tx.PutRecord(moved2)
	})
	view(t, s, func(tx store.ReadTx) error {
		got, err := tx.RecordsByKey("message", parent, 100)
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			t.Fatalf("RecordsByKey: %d records, want %d", len(got), len(want))
		}
		for i := range got {
			sameRecord(t, got[i], want[i])
		}
		if got, _ := tx.RecordsByKey("message", parent, 2); len(got) != 2 {
			t.Errorf("limit 2: %d records", len(got))
		}
		if got, _ := tx.RecordsByKey("message", []byte("elsewhere"), 10); len(got) != 1 || got[0].Version != 2 {
			t.Errorf("moved record: %+v", got)
		}
		if got, _ := tx.RecordsByKey("message", []byte("nothing"), 10); len(got) != 0 {
			t.Errorf("unknown key matched %d records", len(got))
		}
		if _, err := tx.RecordsByKey("message", nil, 10); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("empty key: %v, want ErrInvalid", err)
		}
		r, err := tx.Record(plain.ID, 0)
		if err != nil {
			return err
		}
		if r.Key != nil {
			t.Errorf("record without key read back with key %q", r.Key)
		}
		return nil
	})
}
