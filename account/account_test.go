package account_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
)

const vaultPass = "account test vault passphrase"

// fast are argon2id parameters small enough for tests; TestDefaultParams
// runs the real ones once.
var fast = account.Params{Time: 1, Memory: 64, Threads: 1}

// clock is an injected clock tests move by hand.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time           { return c.t }
func (c *clock) Add(d time.Duration)      { c.t = c.t.Add(d) }
func newClock() *clock                    { return &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)} }
func openDir(t *testing.T) *datadir.Dir   { t.Helper(); return datadirtest.Open(t, vaultPass) }
func unseal(t *testing.T, d *datadir.Dir) { t.Helper(); must(t, d.Vault.Unseal([]byte(vaultPass))) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newAccounts(d *datadir.Dir, c *clock) *account.Accounts {
	return &account.Accounts{Store: d.Store, Vault: d.Vault, Salt: d.Config.ReceiptSalt, NameParams: fast, LoginParams: fast, Now: c.Now}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	c := newClock()
	var audits []string
	accts := newAccounts(d, c)
	accts.Audit = func(_ context.Context, actor, action string, id vigil.ID) error {
		audits = append(audits, actor+" "+action)
		return nil
	}
	var changed []vigil.ID
	accts.OnChange = func(id vigil.ID) { changed = append(changed, id) }

	// Created sealed.
	a, err := accts.Create(ctx, "cli", "Marina Petrova", vigil.RoleAdmin, "ru", []byte("correct horse battery"))
	must(t, err)
	if _, err := accts.Create(ctx, "cli", "MARINA PETROVA", vigil.RoleIntake, "", []byte("another good passphrase")); !errors.Is(err, vigil.ErrConflict) {
		t.Fatalf("same name in other case: %v, want ErrConflict", err)
	}
	// Sealed check: the name as typed, no role.
	v, err := accts.Check(ctx, "marina petrova", []byte("correct horse battery"))
	must(t, err)
	if !v.Account.Sealed || v.Account.Role != "" || v.Account.ID != a.ID || v.Account.Name != "marina petrova" {
		t.Fatalf("sealed check: %+v", v.Account)
	}
	if p := v.Account.Principal(); p.Role != "" || p.Can(vigil.ReadCases) {
		t.Fatalf("sealed principal %+v can act", p)
	}
	if v.Enrolled() {
		t.Fatal("new account has a second factor")
	}
	if _, err := accts.List(ctx); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("List sealed: %v", err)
	}

	unseal(t, d)
	v, err = accts.Check(ctx, "Marina Petrova", []byte("correct horse battery"))
	must(t, err)
	if v.Account.Sealed || v.Account.Role != vigil.RoleAdmin || v.Account.Name != "Marina Petrova" || v.Account.Language != "ru" {
		t.Fatalf("unsealed check: %+v", v.Account)
	}
	p := v.Account.Principal()
	if p.Actor != "account:"+a.ID.String()+"/Marina Petrova" || p.Account != "Marina Petrova" || p.Role != vigil.RoleAdmin {
		t.Fatalf("principal %+v", p)
	}

	// A user's change (TOTP) keeps the admin's part; an admin's change
	// (role) keeps the user's part.
	secret := account.NewTOTPSecret()
	must(t, accts.SetTOTP(ctx, v, secret))
	must(t, accts.SetRole(ctx, "cli", a.ID, vigil.RoleInvestigator))
	v, err = accts.Check(ctx, "Marina Petrova", []byte("correct horse battery"))
	must(t, err)
	if v.Account.Role != vigil.RoleInvestigator || !v.HasTOTP() {
		t.Fatalf("after role change: %+v totp %v", v.Account, v.HasTOTP())
	}

	// Passphrase change.
	must(t, accts.ChangePassphrase(ctx, v, []byte("a new passphrase, longer")))
	if _, err := accts.Check(ctx, "Marina Petrova", []byte("correct horse battery")); !errors.Is(err, account.ErrLogin) {
		t.Fatalf("old passphrase: %v", err)
	}
	v, err = accts.Check(ctx, "Marina Petrova", []byte("a new passphrase, longer"))
	must(t, err)
	if !v.HasTOTP() {
		t.Fatal("passphrase change lost the TOTP secret")
	}

	// Disabled: refused sealed and unsealed, with the one error.
	must(t, accts.Disable(ctx, "cli", a.ID))
	if _, err := accts.Check(ctx, "Marina Petrova", []byte("a new passphrase, longer")); !errors.Is(err, account.ErrLogin) {
		t.Fatalf("disabled, unsealed: %v", err)
	}
	d.Vault.Seal()
	if _, err := accts.Check(ctx, "Marina Petrova", []byte("a new passphrase, longer")); !errors.Is(err, account.ErrLogin) {
		t.Fatalf("disabled, sealed: %v", err)
	}
	unseal(t, d)
	list, err := accts.List(ctx)
	must(t, err)
	if len(list) != 1 || list[0].Disabled.IsZero() || list[0].Role != vigil.RoleInvestigator {
		t.Fatalf("list %+v", list)
	}
	must(t, accts.Enable(ctx, "cli", a.ID))
	if _, err := accts.Check(ctx, "Marina Petrova", []byte("a new passphrase, longer")); err != nil {
		t.Fatalf("enabled again: %v", err)
	}
	if len(changed) != 3 {
		t.Fatalf("OnChange called %d times, want 3 (role, disable, enable)", len(changed))
	}
	want := []string{"cli account-create", "account:" + a.ID.String() + "/Marina Petrova account-totp", "cli account-role",
		"account:" + a.ID.String() + "/Marina Petrova account-passphrase", "cli account-disable", "cli account-enable"}
	if strings.Join(audits, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audits\n%s\nwant\n%s", strings.Join(audits, "\n"), strings.Join(want, "\n"))
	}

	// Records: never overwritten, times coarse, key is not the name.
	d.Store.View(ctx, func(tx store.ReadTx) error {
		for ver := int64(1); ver <= 6; ver++ {
			r, err := tx.Record(a.ID, ver)
			if err != nil {
				t.Fatalf("version %d: %v", ver, err)
			}
			if r.Created.Truncate(time.Hour) != r.Created {
				t.Fatalf("version %d time %v not coarse", ver, r.Created)
			}
			if bytes.Contains(r.Body, []byte("Marina")) || bytes.Contains(r.Key, []byte("marina")) {
				t.Fatalf("version %d holds the name in the clear", ver)
			}
		}
		return nil
	})
}

func TestCheckUniformError(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	accts := newAccounts(d, newClock())
	_, err := accts.Create(ctx, "cli", "anna", vigil.RoleIntake, "en", []byte("her long passphrase"))
	must(t, err)
	for _, c := range []struct{ name, pass string }{
		{"anna", "a wrong passphrase!"},
		{"boris", "her long passphrase"},
		{"", "her long passphrase"},
		{"anna", strings.Repeat("x", account.MaxPassphrase+1)},
	} {
		if _, err := accts.Check(ctx, c.name, []byte(c.pass)); err != account.ErrLogin {
			t.Errorf("Check(%q, %q): %v, want exactly ErrLogin", c.name, c.pass, err)
		}
	}
}

func TestCreateRefuses(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	accts := newAccounts(d, newClock())
	for _, c := range []struct {
		desc, name, pass string
		role             vigil.Role
	}{
		{"short passphrase", "ok", "short pass", vigil.RoleAdmin},
		{"common passphrase", "ok", "Password12345", vigil.RoleAdmin},
		{"repeated character", "ok", "aaaaaaaaaaaaaaaa", vigil.RoleAdmin},
		{"name in passphrase", "Boris", "my name is boris!", vigil.RoleAdmin},
		{"long passphrase", "ok", strings.Repeat("ab", account.MaxPassphrase), vigil.RoleAdmin},
		{"bad role", "ok", "a fine passphrase", "root"},
		{"slash in name", "a/b", "a fine passphrase", vigil.RoleAdmin},
		{"empty name", "", "a fine passphrase", vigil.RoleAdmin},
		{"padded name", " x", "a fine passphrase", vigil.RoleAdmin},
	} {
		t.Run(c.desc, func(t *testing.T) {
			if _, err := accts.Create(ctx, "cli", c.name, c.role, "en", []byte(c.pass)); !errors.Is(err, vigil.ErrInvalid) {
				t.Fatalf("%v, want ErrInvalid", err)
			}
		})
	}
	var n int64
	d.Store.View(ctx, func(tx store.ReadTx) error {
		n, _ = tx.CountRecords(account.Kind)
		return nil
	})
	if n != 0 {
		t.Fatalf("%d accounts stored after refusals", n)
	}
}

// TestDefaultParams creates and checks an account with the real argon2id
// parameters once (BenchmarkLoginKDF times them).
func TestDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB argon2id runs; skipped in -short")
	}
	ctx := context.Background()
	d := openDir(t)
	accts := &account.Accounts{Store: d.Store, Vault: d.Vault, Salt: d.Config.ReceiptSalt}
	_, err := accts.Create(ctx, "cli", "admin", vigil.RoleAdmin, "en", []byte("the real parameters"))
	must(t, err)
	if _, err := accts.Check(ctx, "Admin", []byte("the real parameters")); err != nil {
		t.Fatal(err)
	}
	if _, err := accts.Check(ctx, "admin", []byte("the wrong parameters")); err != account.ErrLogin {
		t.Fatal(err)
	}
}

func TestCanonical(t *testing.T) {
	for _, c := range [][2]string{
		{"Marina", "MARINA"},
		{"Mar\u0069\u0301na", "Marína"}, // decomposed and composed
		{"Ёлка", "ёЛКА"},
		{"Straße", "STRASSE"},
	} {
		if account.Canonical(c[0]) != account.Canonical(c[1]) {
			t.Errorf("Canonical(%q) = %q != Canonical(%q) = %q", c[0], account.Canonical(c[0]), c[1], account.Canonical(c[1]))
		}
	}
	if account.Canonical("Marina") == account.Canonical("Marian") {
		t.Error("different names canonicalize alike")
	}
}
