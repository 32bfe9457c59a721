package staffweb_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
)

// TestAccountsAdmin: an admin creates an account in the UI after
// re-authenticating, the new account signs in, the admin changes its role
// (its session ends) and disables it (it cannot sign in any more).
func TestAccountsAdmin(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	base := e.serve(t)
	admin := newClient(t, base)
	e.signIn(t, admin, "Olga Admin", "correct horse battery staple", nil)
	e.clock.Add(6 * time.Minute) // no longer fresh
	if r := admin.get("/accounts"); r.status != http.StatusSeeOther || r.loc != "/reauth?next=%2Faccounts" {
		t.Fatalf("accounts page without re-authentication: %d %s", r.status, r.loc)
	}
	form := url.Values{"name": {"Pavel"}, "role": {"analyst"}, "language": {"ru"}, "passphrase": {"first secret of the analyst"}}
	r := admin.post("/accounts", form, true)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/reauth") {
		t.Fatalf("create without re-authentication: %d %s", r.status, r.loc)
	}
	if _, err := e.accounts.Lookup(t.Context(), "Pavel"); err == nil {
		t.Fatal("account created without re-authentication")
	}
	if r := admin.post("/reauth", url.Values{"passphrase": {"wrong passphrase here"}, "next": {"/accounts"}}, true); r.status != http.StatusUnauthorized {
		t.Fatalf("reauth with a wrong passphrase: %d", r.status)
	}
	if r := admin.post("/reauth", url.Values{"passphrase": {"correct horse battery staple"}, "next": {"/accounts"}}, true); r.status != http.StatusSeeOther || r.loc != "/accounts" {
		t.Fatalf("reauth: %d %s", r.status, r.loc)
	}
	if r := admin.post("/accounts", form, true); r.status != http.StatusSeeOther || r.loc != "/accounts?done=created" {
		t.Fatalf("create: %d %s %s", r.status, r.loc, r.body)
	}
	pavel := newClient(t, base)
	secret := e.signIn(t, pavel, "Pavel", "first secret of the analyst", nil)
	if r := pavel.get("/vault"); r.status != 200 || !strings.Contains(r.body, `lang="ru"`) || !strings.Contains(r.body, "аналитик") {
		t.Fatalf("Pavel's page: %d\n%s", r.status, r.body)
	}
	id, err := e.accounts.Lookup(t.Context(), "Pavel")
	must(t, err)
	if r := admin.post("/accounts/"+id.String()+"/role", url.Values{"role": {"investigator"}}, true); r.status != http.StatusSeeOther || r.loc != "/accounts?done=changed" {
		t.Fatalf("role: %d %s", r.status, r.loc)
	}
	if r := pavel.get("/vault"); r.status != http.StatusSeeOther {
		t.Errorf("Pavel's session after a role change: %d", r.status)
	}
	if r := admin.post("/accounts/"+id.String()+"/disable", nil, true); r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	// Disabled: the passphrase step answers as for anyone, the code fails.
	r = pavel.post("/signin", url.Values{"name": {"Pavel"}, "passphrase": {"first secret of the analyst"}}, false)
	e.clock.Add(31 * time.Second)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/signin/second") {
		t.Fatalf("disabled sign-in step 1: %d %s", r.status, r.loc)
	}
	if r := pavel.post("/signin/totp", url.Values{"code": {totpNow(e, secret)}}, false); r.status != http.StatusUnauthorized {
		t.Errorf("disabled account signed in: %d %s", r.status, r.loc)
	}
}

// TestAdminNotSelf: an admin cannot demote or disable their own account
// from the UI (the last admin would lock everyone out).
func TestAdminNotSelf(t *testing.T) {
	e := newEnv(t, true, true)
	a := e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	if r := c.get("/accounts"); strings.Contains(r.body, "/accounts/"+a.ID.String()+"/disable") {
		t.Error("own account has a disable button")
	}
	for _, p := range []string{"/role", "/disable"} {
		if r := c.post("/accounts/"+a.ID.String()+p, url.Values{"role": {"intake"}}, true); r.status != http.StatusForbidden {
			t.Errorf("own %s: %d", p, r.status)
		}
	}
	got, err := e.accounts.Get(t.Context(), a.ID)
	must(t, err)
	if got.Role != vigil.RoleAdmin || !got.Disabled.IsZero() {
		t.Errorf("own account changed: %+v", got)
	}
}
