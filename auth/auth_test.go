package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
)

const pass = "auth test passphrase"

func openDir(t *testing.T) *datadir.Dir {
	t.Helper()
	return datadirtest.Open(t, pass)
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	var audits []string
	ts := &auth.Tokens{Store: d.Store, Vault: d.Vault, Audit: func(_ context.Context, actor, action string, target vigil.ID) error {
		audits = append(audits, actor+" "+action+" "+target.String())
		return nil
	}}

	// Created while sealed: only the recipient is needed.
	secret, tok, err := ts.Create(ctx, "cli", "Marina's laptop", auth.RoleIntake)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "vgl_") || len(secret) != 4+43 {
		t.Fatalf("secret %q: want vgl_ and 43 characters", secret)
	}
	if tok.Name != "Marina's laptop" || tok.Role != auth.RoleIntake || tok.ID.IsZero() {
		t.Fatalf("token %+v", tok)
	}
	if len(audits) != 1 || audits[0] != "cli token-create "+tok.ID.String() {
		t.Fatalf("audits %q", audits)
	}

	// Stored: the hash as lookup key; neither secret nor name in the clear.
	var rec store.Record
	d.Store.View(ctx, func(tx store.ReadTx) error {
		rec, err = tx.Record(tok.ID, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(secret))
	if rec.Kind != auth.Kind || !bytes.Equal(rec.Key, h[:]) {
		t.Fatalf("record kind %q key %x, want %q and SHA-256 of the secret", rec.Kind, rec.Key, auth.Kind)
	}
	for _, s := range []string{secret, "Marina", "intake"} {
		if bytes.Contains(rec.Body, []byte(s)) {
			t.Errorf("record body holds %q in the clear", s)
		}
	}

	// Sealed: authenticates, without name and role.
	got, err := ts.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Name != "" {
		t.Fatalf("sealed Authenticate: %+v %v", got, err)
	}
	if got.Actor() != "token:"+tok.ID.String() {
		t.Errorf("sealed actor %q", got.Actor())
	}
	if _, err := ts.List(ctx); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("sealed List: %v", err)
	}
	if err := ts.Revoke(ctx, "cli", tok.ID); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("sealed Revoke: %v", err)
	}

	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	got, err = ts.Authenticate(ctx, secret)
	if err != nil || got.Name != tok.Name || got.Role != auth.RoleIntake {
		t.Fatalf("unsealed Authenticate: %+v %v", got, err)
	}
	if got.Actor() != "token:"+tok.ID.String()+"/Marina's laptop" {
		t.Errorf("actor %q", got.Actor())
	}

	secret2, tok2, err := ts.Create(ctx, "cli", "ci", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ts.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List: %+v %v", list, err)
	}

	// Wrong secrets, all alike.
	for _, bad := range []string{"", "vgl_", secret + "x", secret[:len(secret)-1], "Bearer " + secret,
		strings.ToUpper(secret), "vgl_" + strings.Repeat("A", 43), "xyz_" + secret[4:], secret[:len(secret)-1] + "!"} {
		if _, err := ts.Authenticate(ctx, bad); err != auth.ErrUnauthorized {
			t.Errorf("Authenticate(%.20q): %v, want ErrUnauthorized", bad, err)
		}
	}

	if err := ts.Revoke(ctx, "admin", tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Authenticate(ctx, secret); err != auth.ErrUnauthorized {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := ts.Authenticate(ctx, secret2); err != nil {
		t.Fatalf("other token after revoke: %v", err)
	}
	if err := ts.Revoke(ctx, "admin", tok.ID); err != nil {
		t.Fatalf("revoke twice: %v", err)
	}
	if err := ts.Revoke(ctx, "admin", vigil.NewID()); !errors.Is(err, vigil.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	list, _ = ts.List(ctx)
	for _, l := range list {
		if (l.ID == tok.ID) == l.Revoked.IsZero() || (l.ID == tok2.ID && l.Name != "ci") {
			t.Errorf("after revoke: %+v", l)
		}
	}
	if n := len(audits); n != 3 {
		t.Errorf("%d audit events, want 3 (create, create, revoke): %q", n, audits)
	}
}

func TestCreateRefuses(t *testing.T) {
	d := openDir(t)
	ts := &auth.Tokens{Store: d.Store, Vault: d.Vault}
	for _, c := range []struct {
		name string
		role auth.Role
	}{
		{"", auth.RoleAdmin},
		{strings.Repeat("n", 65), auth.RoleAdmin},
		{"a/b", auth.RoleAdmin},
		{"esc\x1b[31m", auth.RoleAdmin},
		{"rtl\u202e", auth.RoleAdmin},
		{"ok", "root"},
		{"ok", ""},
	} {
		if _, _, err := ts.Create(context.Background(), "cli", c.name, c.role); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("Create(%q, %q): %v, want ErrInvalid", c.name, c.role, err)
		}
	}
}
