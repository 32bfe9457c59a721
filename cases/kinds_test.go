package cases

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store/sqlite"
	"github.com/vigil-hr/vigil/vault"

	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
)

// TestForeignKinds keeps the names of other services' kinds that claims
// refer to, and the audit kind, in step with their owners.
func TestForeignKinds(t *testing.T) {
	if kindItem != evidence.ItemKind.Name {
		t.Errorf("item kind %q, evidence says %q", kindItem, evidence.ItemKind.Name)
	}
	if kindSubmission != intake.KindSubmission {
		t.Errorf("submission kind %q, intake says %q", kindSubmission, intake.KindSubmission)
	}
	if audit.Kind.Name != intake.KindAudit {
		t.Errorf("audit kind %q, intake says %q", audit.Kind.Name, intake.KindAudit)
	}
	for _, s := range specs {
		if !s.kind.Logged {
			t.Errorf("%s is not logged", s.kind.Name)
		}
	}
}

// TestSealDropsModel: the model is forgotten when the vault seals, not
// only hidden behind the vault's state.
func TestSealDropsModel(t *testing.T) {
	// Not datadirtest: datadir imports cases, so an internal test cannot.
	const pass = "correct horse battery staple"
	dir := t.TempDir()
	pub, err := vault.Create(filepath.Join(dir, "keys.age"), []byte(pass), "cases.test/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(filepath.Join(dir, "keys.age"), pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &Service{Store: db, Vault: v}
	p := vigil.Principal{Actor: "t", Account: "t", Role: vigil.RoleAdmin}
	if _, err := s.Create(context.Background(), p, KindParty, vigil.Party{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	s.mu.RLock()
	loaded := s.m != nil && len(s.m.parties) == 1
	s.mu.RUnlock()
	if !loaded {
		t.Fatal("no model after a write")
	}
	v.Seal()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.m != nil {
		t.Error("the model outlived the seal")
	}
}
