package datadir_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/bundle"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
)

// Bundles work for every logged kind: a file, a submission, an audit event
// and a case record each verify offline against the log, with the content
// its statement commits to; a kind that is not logged is refused.
func TestBundleEveryLoggedKind(t *testing.T) {
	const pass = "datadir test passphrase"
	ctx := context.Background()
	d := datadirtest.Open(t, pass)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	it, err := d.Evidence.Add(ctx, strings.NewReader("a photo"), "photo.jpg", "")
	if err != nil {
		t.Fatal(err)
	}
	_, sub, err := d.Intake.Submit(ctx, intake.Draft{Text: "Меня задержали."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	admin := vigil.Principal{Actor: "test", Account: "test", Role: vigil.RoleAdmin}
	party, err := d.Cases.Create(ctx, admin, "party", vigil.Party{Name: "Police unit"})
	if err != nil {
		t.Fatal(err)
	}
	var auditID, triageID vigil.ID
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		for kind, to := range map[string]*vigil.ID{"audit": &auditID, "triage": &triageID} {
			recs, err := tx.Records(kind, vigil.ID{}, 1)
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				t.Fatalf("no %s record", kind)
			}
			*to = recs[0].ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ids := []vigil.ID{it.ID, sub, auditID, party.ID}
	if err := d.Bundle(ctx, &buf, ids, true); err != nil {
		t.Fatal(err)
	}
	v, err := bundle.NewVerifier(d.Config.LogVKey)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bundle.Verify(bytes.NewReader(buf.Bytes()), int64(buf.Len()), v, bundle.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Items) != len(ids) {
		t.Fatalf("%d results for %d records", len(rep.Items), len(ids))
	}
	for _, r := range rep.Items {
		if !r.OK() {
			t.Errorf("%s: %s: %v", r.ID, r.Part, r.Err)
		}
	}
	if !bytes.Contains(buf.Bytes(), []byte("Police unit")) {
		t.Error("the case record's document is not in the bundle")
	}
	if err := d.Bundle(ctx, &bytes.Buffer{}, []vigil.ID{triageID}, true); !errors.Is(err, vigil.ErrInvalid) {
		t.Errorf("bundle of a triage record: %v, want ErrInvalid", err)
	}
}
