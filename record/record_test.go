package record_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
)

const pass = "record test passphrase"

var ctx = context.Background()

var (
	noteKind  = record.Kind{Name: "note", Logged: true}
	draftKind = record.Kind{Name: "draft"}
)

type note struct {
	Text string   `json:"text"`
	Ref  vigil.ID `json:"ref,omitzero"`
}

func open(t *testing.T) *datadir.Dir {
	t.Helper()
	d := datadirtest.Open(t, pass)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	return d
}

func put(t *testing.T, d *datadir.Dir, k record.Kind, v record.Version, doc any) (*record.Prepared, int64) {
	t.Helper()
	p, err := k.Seal(d.Vault, v, doc)
	if err != nil {
		t.Fatal(err)
	}
	var leaf int64
	err = d.Store.Update(ctx, func(tx store.Tx) error {
		leaf, err = p.Put(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, leaf
}

func verify(d *datadir.Dir, kinds record.Registry) (record.Report, error) {
	var rep record.Report
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		rep, err = record.Verify(tx, d.Vault.OpenField, kinds)
		return err
	})
	return rep, err
}

// Versions round-trip through the envelope; each logged version finds its
// leaf by its commitment; the plaintext columns hold no leaf, blob or
// reference; Verify accounts for every leaf.
func TestRoundTrip(t *testing.T) {
	d := open(t)
	id, other := vigil.NewID(), vigil.NewID()
	when := time.Date(2026, 11, 30, 14, 7, 9, 0, time.UTC)
	_, leaf1 := put(t, d, noteKind, record.Version{ID: id, Version: 1, Time: when, Created: when.Truncate(time.Hour), Author: "token:x/alice", Prev: -1}, note{Text: "first", Ref: other})
	_, leaf2 := put(t, d, noteKind, record.Version{ID: id, Version: 2, Time: when.Add(time.Minute), Created: when.Truncate(time.Hour), Prev: leaf1}, note{Text: "second"})
	_, leafD := put(t, d, draftKind, record.Version{ID: other, Version: 1, Prev: -1}, note{Text: "not logged"})
	if leaf1 != 0 || leaf2 != 1 || leafD != -1 {
		t.Fatalf("leaves %d, %d, %d; want 0, 1, -1", leaf1, leaf2, leafD)
	}
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		for v, want := range map[int64]string{1: "first", 2: "second"} {
			r, err := tx.Record(id, v)
			if err != nil {
				return err
			}
			if r.LeafIndex != -1 || r.Blob != "" || r.Key != nil || !r.Created.Equal(when.Truncate(time.Hour)) {
				t.Errorf("version %d: plaintext leaf %d, blob %q, key %x, created %s", v, r.LeafIndex, r.Blob, r.Key, r.Created)
			}
			if strings.Contains(string(r.Body), other.String()) || strings.Contains(string(r.Body), want) {
				t.Errorf("version %d: body holds plaintext", v)
			}
			var n note
			env, err := noteKind.Decode(d.Vault.OpenField, r, &n)
			if err != nil {
				return err
			}
			if n.Text != want {
				t.Errorf("version %d: %q, want %q", v, n.Text, want)
			}
			leaf, err := env.Leaf(tx)
			if err != nil || leaf != v-1 {
				t.Errorf("version %d: leaf %d, %v; want %d", v, leaf, err, v-1)
			}
			st, err := evlog.ParseStatement([]byte(env.Statement))
			if err != nil {
				return err
			}
			if st.Kind != "note" || st.ID != id.String() || st.Version != v || st.Prev != map[int64]int64{1: -1, 2: 0}[v] {
				t.Errorf("version %d: statement %+v", v, st)
			}
		}
		// A record read as another kind is not found, not misread.
		r, err := tx.Record(other, 0)
		if err != nil {
			return err
		}
		if _, err := noteKind.Open(d.Vault.OpenField, r); !errors.Is(err, vigil.ErrNotFound) {
			t.Errorf("a draft opened as a note: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify(d, record.Registry{noteKind, draftKind})
	if err != nil || rep.Records != 2 || rep.Versions != 3 || rep.Leaves != 2 {
		t.Errorf("Verify = %+v, %v; want 2 records, 3 versions, 2 leaves", rep, err)
	}
}

// Bodies are padded: eleven documents of 1,000 to 1,010 bytes have
// ciphertexts of at most two lengths (at most one Padmé boundary between).
func TestPadded(t *testing.T) {
	d := open(t)
	sizes := map[int]int{}
	for n := 1000; n <= 1010; n++ {
		p, err := noteKind.Seal(d.Vault, record.Version{ID: vigil.NewID(), Version: 1, Prev: -1}, note{Text: strings.Repeat("a", n)})
		if err != nil {
			t.Fatal(err)
		}
		sizes[len(p.Record.Body)]++
	}
	if len(sizes) > 2 {
		t.Errorf("ciphertext sizes %v, want at most two", sizes)
	}
}

// Verify finds a leaf without its record, a record without its leaf, a body
// that does not decrypt and a version whose commitment is logged twice.
func TestVerifyFindsDamage(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, d *datadir.Dir)
		want   string
	}{
		{"leaf without record", func(t *testing.T, d *datadir.Dir) {
			err := d.Store.Update(ctx, func(tx store.Tx) error {
				_, err := evlog.Append(tx, [32]byte{1, 2, 3})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}, "commits to no record"},
		{"record without leaf", func(t *testing.T, d *datadir.Dir) {
			p, err := noteKind.Seal(d.Vault, record.Version{ID: vigil.NewID(), Version: 1, Prev: -1}, note{Text: "orphan"})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Store.Update(ctx, func(tx store.Tx) error { return tx.PutRecord(p.Record) }); err != nil {
				t.Fatal(err)
			}
		}, "not in the log"},
		{"body of another record", func(t *testing.T, d *datadir.Dir) {
			p, err := noteKind.Seal(d.Vault, record.Version{ID: vigil.NewID(), Version: 1, Prev: -1}, note{Text: "moved"})
			if err != nil {
				t.Fatal(err)
			}
			p.Record.ID = vigil.NewID() // its label no longer matches
			if err := d.Store.Update(ctx, func(tx store.Tx) error { _, err := p.Put(tx); return err }); err != nil {
				t.Fatal(err)
			}
		}, "label"},
		{"one commitment for two versions", func(t *testing.T, d *datadir.Dir) {
			p, err := noteKind.Seal(d.Vault, record.Version{ID: vigil.NewID(), Version: 1, Prev: -1}, note{Text: "twice"})
			if err != nil {
				t.Fatal(err)
			}
			q := *p
			q.Record.ID = vigil.NewID()
			err = d.Store.Update(ctx, func(tx store.Tx) error {
				if _, err := p.Put(tx); err != nil {
					return err
				}
				return tx.PutRecord(q.Record)
			})
			if err != nil {
				t.Fatal(err)
			}
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := open(t)
			put(t, d, noteKind, record.Version{ID: vigil.NewID(), Version: 1, Prev: -1}, note{Text: "fine"})
			if _, err := verify(d, record.Registry{noteKind}); err != nil {
				t.Fatalf("before the damage: %v", err)
			}
			c.damage(t, d)
			_, err := verify(d, record.Registry{noteKind})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Verify after the damage: %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}
