package datadir_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
)

// Fsck goes on past a bad record: each one is a problem of its own, and
// the good ones are still counted.
func TestFsckListsEveryBadRecord(t *testing.T) {
	const pass = "datadir test passphrase"
	ctx := context.Background()
	d := datadirtest.Open(t, pass)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	admin := vigil.Principal{Actor: "test", Account: "test", Role: vigil.RoleAdmin}
	if _, err := d.Cases.Create(ctx, admin, "party", vigil.Party{Name: "Police unit"}); err != nil {
		t.Fatal(err)
	}
	rep, err := d.Fsck(ctx)
	if err != nil || !rep.OK("") {
		t.Fatalf("fsck of a good directory: %+v, %v", rep, err)
	}
	// Two versions nobody can open, written past the services.
	bad := []vigil.ID{vigil.NewID(), vigil.NewID()}
	err = d.Store.Update(ctx, func(tx store.Tx) error {
		for _, id := range bad {
			r := store.Record{ID: id, Version: 1, Kind: "party", Created: time.Now().Truncate(time.Hour), LeafIndex: -1, Body: []byte("not age ciphertext")}
			if err := tx.PutRecord(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = d.Fsck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, p := range rep.Problems {
		if p.Part != "records" {
			t.Errorf("problem in part %s: %s", p.Part, p.Text)
		}
		texts = append(texts, p.Text)
	}
	all := strings.Join(texts, "\n")
	for _, id := range bad {
		if !strings.Contains(all, id.String()) {
			t.Errorf("fsck does not name bad record %s:\n%s", id, all)
		}
	}
}
