package account

import (
	"context"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
)

// TestSameWork checks that a sign-in does the same argon2id work whether
// the name exists or not, is disabled or not, and the passphrase is right
// or not: one login derivation with the same parameters, so timing does
// not tell them apart.
func TestSameWork(t *testing.T) {
	ctx := context.Background()
	d := datadirtest.Open(t, "vault passphrase")
	if err := d.Vault.Unseal([]byte("vault passphrase")); err != nil {
		t.Fatal(err)
	}
	p := Params{Time: 1, Memory: 64, Threads: 1}
	s := &Accounts{Store: d.Store, Vault: d.Vault, Salt: d.Config.ReceiptSalt, NameParams: p, LoginParams: p}
	var runs []Params
	s.derived = func(p Params) { runs = append(runs, p) }
	if _, err := s.Create(ctx, "cli", "anna", vigil.RoleIntake, "en", []byte("the right passphrase")); err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, "cli", "boris", vigil.RoleIntake, "en", []byte("the right passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Disable(ctx, "cli", b.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ desc, name, pass string }{
		{"right", "anna", "the right passphrase"},
		{"wrong passphrase", "anna", "the wrong passphrase"},
		{"unknown name", "vera", "the right passphrase"},
		{"disabled", "boris", "the right passphrase"},
	} {
		runs = nil
		s.Check(ctx, c.name, []byte(c.pass))
		if len(runs) != 1 || runs[0] != p {
			t.Errorf("%s: login KDF runs %v, want one with %v", c.desc, runs, p)
		}
	}
}
