package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
)

// TestTrail: the trail reads newest first in pages that neither skip nor
// repeat, filters by actor and verb, adds this process's new events
// without reading the store again, finds another writer's by a rescan,
// never lists an event whose transaction did not commit, and forgets
// everything on seal.
func TestTrail(t *testing.T) {
	ctx := context.Background()
	const pass = "correct horse battery staple"
	d := datadirtest.Open(t, pass)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	put := func(ps ...*record.Prepared) {
		t.Helper()
		if err := d.Store.Update(ctx, func(tx store.Tx) error { return record.PutAll(tx, ps...) }); err != nil {
			t.Fatal(err)
		}
	}
	event := func(i int) *record.Prepared {
		t.Helper()
		actor := []string{"account:a/Olga", "account:b/Ivan", "cli"}[i%3]
		action := []string{"create:act", "update:claim", "read"}[i%3]
		p, err := audit.Prepare(d.Vault, vigil.Principal{Actor: actor}, action, vigil.NewID(), base.Add(time.Duration(i)*time.Minute), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i := range 10 {
		put(event(i))
	}
	tr := &audit.Trail{Store: d.Store, Vault: d.Vault}
	read := func(f audit.Filter) []audit.Entry {
		t.Helper()
		var all []audit.Entry
		var after vigil.ID
		for range 20 {
			p, err := tr.Read(ctx, f, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p.Entries...)
			if p.Next.IsZero() {
				if p.Total != len(all) {
					t.Errorf("total %d, read %d", p.Total, len(all))
				}
				return all
			}
			after = p.Next
		}
		t.Fatal("pages do not end")
		return nil
	}
	all := read(audit.Filter{})
	if len(all) != 10 {
		t.Fatalf("%d events, want 10", len(all))
	}
	for i, e := range all {
		if want := base.Add(time.Duration(9-i) * time.Minute); !e.Time.Equal(want) {
			t.Errorf("event %d at %v, want %v (newest first)", i, e.Time, want)
		}
	}
	if got := read(audit.Filter{Actor: "cli"}); len(got) != 3 || got[0].Actor != "cli" {
		t.Errorf("actor filter: %v", got)
	}
	if got := read(audit.Filter{Action: "create"}); len(got) != 4 || got[0].Action != "create:act" {
		t.Errorf("verb filter: %v", got)
	}
	if n := tr.Scans(); n != 1 {
		t.Errorf("%d scans after the first reads, want 1", n)
	}
	if _, err := tr.Read(ctx, audit.Filter{}, vigil.NewID(), 3); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("unknown cursor: %v", err)
	}

	// New events of this process: no rescan. One prepared but never
	// committed: never listed.
	put(event(10), event(11))
	event(12)
	if got := read(audit.Filter{}); len(got) != 12 || !got[0].Time.Equal(base.Add(11*time.Minute)) {
		t.Errorf("after two new events: %d, newest %v", len(got), got[0].Time)
	}
	if n := tr.Scans(); n != 1 {
		t.Errorf("%d scans after this process's events, want 1", n)
	}
	// Another writer's event (sealed without Prepare, as another process's
	// Prepare is unknown here): found by a rescan.
	other, err := audit.Kind.Seal(d.Vault, record.Version{ID: vigil.NewID(), Version: 1, Time: base.Add(time.Hour), Created: base, Author: "other", Prev: -1},
		audit.Event{Actor: "other", Action: "read", Time: base.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	put(other)
	if got := read(audit.Filter{}); len(got) != 13 || got[0].Actor != "other" {
		t.Errorf("after another writer's event: %d, newest %+v", len(got), got[0])
	}
	if n := tr.Scans(); n != 2 {
		t.Errorf("%d scans after another writer's event, want 2", n)
	}

	d.Vault.Seal()
	if _, err := tr.Read(ctx, audit.Filter{}, vigil.ID{}, 5); !errors.Is(err, vigil.ErrSealed) {
		t.Errorf("sealed: %v", err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	if got := read(audit.Filter{}); len(got) != 13 {
		t.Errorf("after unseal: %d", len(got))
	}
	if n := tr.Scans(); n != 3 {
		t.Errorf("%d scans after a seal, want 3 (the index was dropped)", n)
	}
}
