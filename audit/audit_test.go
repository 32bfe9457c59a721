package audit_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
)

// TestPrepare: an audit event seals its exact time, actor and target;
// its plaintext time is coarse and it has no lookup key. Intake's audit
// events, written before this package, read as the same Event.
func TestPrepare(t *testing.T) {
	ctx := context.Background()
	d := datadirtest.Open(t, "correct horse battery staple")
	if err := d.Vault.Unseal([]byte("correct horse battery staple")); err != nil {
		t.Fatal(err)
	}
	p := vigil.Principal{Actor: "token:abc/ci", Account: "ci", Role: vigil.RoleInvestigator}
	target := vigil.NewID()
	now := time.Date(2024, 3, 9, 14, 37, 21, 500, time.UTC)
	pre, err := audit.Prepare(d.Vault, p, "update:act", target, now, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Store.Update(ctx, func(tx store.Tx) error { _, err := pre.Put(tx); return err }); err != nil {
		t.Fatal(err)
	}
	if err := d.Intake.Audit(ctx, "intake-actor", "read", target); err != nil {
		t.Fatal(err)
	}
	var events []audit.Event
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		return store.EachRecord(tx, audit.Kind.Name, func(r store.Record) error {
			if r.Key != nil || bytes.Contains(r.Body, target[:]) || bytes.Contains(r.Body, []byte(target.String())) {
				t.Errorf("audit record shows its target or a key: key %x", r.Key)
			}
			if r.ID == pre.Record.ID && !r.Created.Equal(time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC)) {
				t.Errorf("plaintext time %v, want it at the 6h precision", r.Created)
			}
			ev, err := audit.Decode(d.Vault.OpenField, r)
			if err != nil {
				return err
			}
			events = append(events, ev)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events", len(events))
	}
	for _, ev := range events {
		if ev.Target != target.String() {
			t.Errorf("event %+v: target", ev)
		}
		if ev.Actor == p.Actor && (ev.Action != "update:act" || !ev.Time.Equal(now.Truncate(time.Second))) {
			t.Errorf("event %+v", ev)
		}
		if ev.Actor != p.Actor && (ev.Actor != "intake-actor" || ev.Action != "read") {
			t.Errorf("intake's event %+v", ev)
		}
	}
	if _, err := audit.Prepare(d.Vault, p, "", target, now, 0); err == nil {
		t.Error("an event without an action")
	}
}
