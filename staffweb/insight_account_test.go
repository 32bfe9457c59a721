package staffweb_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
)

// TestAccountPage: the account's own page lists its sessions, sets its
// language (bad input: 400, nothing changed; the other sessions go on in
// the new language), shows and removes second
// factors only after re-authentication and never the last one, and
// changes the passphrase (typed twice), ending the other sessions.
func TestAccountPage(t *testing.T) {
	e := newEnv(t, true, true)
	const name, pass = "Olga Admin", "correct horse battery staple"
	a := e.account(t, name, vigil.RoleAdmin, "en", pass)
	base := e.serve(t)
	c, c2 := newClient(t, base), newClient(t, base)
	secret := e.signIn(t, c, name, pass, nil)
	e.signIn(t, c2, name, pass, secret)
	// A passkey besides TOTP (registered as the ceremony would store it).
	v, err := e.accounts.Check(context.Background(), name, []byte(pass))
	must(t, err)
	pk := account.Passkey{ID: []byte("credential-1"), PublicKey: []byte("cose key"), Name: "laptop", Added: e.clock.Now().Unix()}
	must(t, e.accounts.AddPasskey(context.Background(), v, pk))
	v.Wipe()

	r := c.get("/account")
	if r.status != 200 || strings.Count(r.body, "<tr><td>") != 2 || !strings.Contains(r.body, "this browser") {
		t.Fatalf("sessions: %d\n%s", r.status, r.body)
	}
	if !strings.Contains(r.body, `id="confirm-me"`) || strings.Contains(r.body, "laptop") {
		t.Errorf("second factors shown before re-authentication")
	}
	// Removing or changing without re-authenticating goes to /reauth.
	e.clock.Add(6 * time.Minute)
	if r := c.post("/account/passkeys/remove", url.Values{"passkey": {base64.RawURLEncoding.EncodeToString(pk.ID)}}, true); r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/reauth") {
		t.Errorf("remove without re-authentication: %d %s", r.status, r.loc)
	}
	if r := c.post("/reauth", url.Values{"passphrase": {pass}, "next": {"/account"}}, true); r.status != http.StatusSeeOther || r.loc != "/account" {
		t.Fatalf("reauth: %d %s", r.status, r.loc)
	}
	r = c.get("/account")
	if !strings.Contains(r.body, "laptop") || !strings.Contains(r.body, "An authenticator app is set up.") || !strings.Contains(r.body, `action="/account/passkeys/remove"`) {
		t.Fatalf("second factors after re-authentication:\n%s", r.body)
	}

	// Language: bad input changes nothing; ru is kept on the account.
	if r := c.post("/account/language", url.Values{"language": {"xx"}}, true); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Choose a language from the list.") {
		t.Errorf("bad language: %d", r.status)
	}
	if got, err := e.accounts.Get(context.Background(), a.ID); err != nil || got.Language != "en" {
		t.Errorf("after a bad language: %+v %v", got.Language, err)
	}
	r = c.post("/account/language", url.Values{"language": {"ru"}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("language: %d %s", r.status, r.body)
	}
	done := r.loc
	if got, err := e.accounts.Get(context.Background(), a.ID); err != nil || got.Language != "ru" {
		t.Errorf("account language %q, %v", got.Language, err)
	}
	if r := c.get(done); r.status != 200 || !strings.Contains(r.body, `<html lang="ru">`) || !strings.Contains(r.body, "Язык сохранён") {
		t.Errorf("after choosing Russian: %d", r.status)
	}
	// The other browser stays signed in, in the new language.
	if r := c2.get("/account"); r.status != 200 || !strings.Contains(r.body, `<html lang="ru">`) {
		t.Errorf("the other session after the language change: %d", r.status)
	}
	c.post("/account/language", url.Values{"language": {"en"}}, true)

	// Passkeys: an unknown one is 400; the laptop's goes (TOTP stays);
	// then TOTP is the last factor and no remove button is offered.
	if r := c.post("/reauth", url.Values{"passphrase": {pass}, "next": {"/account"}}, true); r.status != http.StatusSeeOther {
		t.Fatalf("reauth: %d", r.status)
	}
	if r := c.post("/account/passkeys/remove", url.Values{"passkey": {base64.RawURLEncoding.EncodeToString([]byte("other"))}}, true); r.status != http.StatusBadRequest || !strings.Contains(r.body, "That passkey is not on your account.") {
		t.Errorf("unknown passkey: %d", r.status)
	}
	if r := c.post("/account/passkeys/remove", url.Values{"passkey": {"!!"}}, true); r.status != http.StatusBadRequest {
		t.Errorf("bad passkey ID: %d", r.status)
	}
	if r := c.post("/account/passkeys/remove", url.Values{"passkey": {base64.RawURLEncoding.EncodeToString(pk.ID)}}, true); r.status != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	r = c.get("/account")
	if strings.Contains(r.body, "laptop") || strings.Contains(r.body, `action="/account/passkeys/remove"`) || !strings.Contains(r.body, "cannot be removed") {
		t.Errorf("after removing the passkey:\n%s", r.body)
	}

	// Passphrase: typed twice, checked, then the other browser is out.
	if r := c2.get("/account"); r.status != 200 || !strings.Contains(r.body, `<html lang="en">`) {
		t.Fatalf("other browser: %d", r.status)
	}
	for _, f := range []url.Values{{"new": {"a brand new passphrase"}, "again": {"a brand new passphrasE"}}, {"new": {"short"}, "again": {"short"}}} {
		if r := c.post("/account/passphrase", f, true); r.status != http.StatusBadRequest {
			t.Errorf("passphrase %v: %d", f, r.status)
		}
	}
	if _, err := e.accounts.Check(context.Background(), name, []byte(pass)); err != nil {
		t.Fatalf("a refused change changed the passphrase: %v", err)
	}
	r = c.post("/account/passphrase", url.Values{"new": {"a brand new passphrase"}, "again": {"a brand new passphrase"}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	done = r.loc
	if _, err := e.accounts.Check(context.Background(), name, []byte("a brand new passphrase")); err != nil {
		t.Errorf("new passphrase: %v", err)
	}
	if _, err := e.accounts.Check(context.Background(), name, []byte(pass)); err == nil {
		t.Error("the old passphrase still works")
	}
	if r := c2.get("/account"); r.status != http.StatusSeeOther {
		t.Errorf("the other session after the change: %d", r.status)
	}
	if r := c.get(done); r.status != 200 || !strings.Contains(r.body, "The passphrase was changed.") {
		t.Errorf("this session after the change: %d", r.status)
	}
}

// TestRenamePasskey: a passkey is renamed from the account page, only after
// re-authentication; what is typed is cleaned as at enrolment (space runs,
// control and format characters), nothing usable or an unknown passkey is
// 400 and changes nothing, and the name is shown as text.
func TestRenamePasskey(t *testing.T) {
	e := newEnv(t, true, true)
	const name, pass = "Olga Admin", "correct horse battery staple"
	e.account(t, name, vigil.RoleAdmin, "en", pass)
	base := e.serve(t)
	c := newClient(t, base)
	e.signIn(t, c, name, pass, nil)
	ctx := context.Background()
	v, err := e.accounts.Check(ctx, name, []byte(pass))
	must(t, err)
	pk := account.Passkey{ID: []byte("credential-1"), PublicKey: []byte("cose key"), Name: "passkey", Added: e.clock.Now().Unix()}
	must(t, e.accounts.AddPasskey(ctx, v, pk))
	for _, bad := range []string{"", " laptop", "lap\ntop", "lap\u202etop", strings.Repeat("я", 41), "\xff"} {
		if err := e.accounts.RenamePasskey(ctx, v, pk.ID, bad); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("Accounts.RenamePasskey(%q): %v, want ErrInvalid", bad, err)
		}
	}
	v.Wipe()
	id := base64.RawURLEncoding.EncodeToString(pk.ID)
	stored := func() string {
		t.Helper()
		v, err := e.accounts.Check(ctx, name, []byte(pass))
		must(t, err)
		defer v.Wipe()
		return v.Passkeys()[0].Name
	}

	e.clock.Add(6 * time.Minute)
	if r := c.post("/account/passkeys/rename", url.Values{"passkey": {id}, "name": {"laptop"}}, true); r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/reauth") {
		t.Errorf("rename without re-authentication: %d %s", r.status, r.loc)
	}
	if r := c.post("/account/passkeys/rename", url.Values{"passkey": {id}, "name": {"laptop"}}, false); r.status != http.StatusForbidden {
		t.Errorf("rename without the CSRF token: %d", r.status)
	}
	if got := stored(); got != "passkey" {
		t.Fatalf("renamed to %q without re-authentication or token", got)
	}
	if r := c.post("/reauth", url.Values{"passphrase": {pass}, "next": {"/account"}}, true); r.status != http.StatusSeeOther {
		t.Fatalf("reauth: %d", r.status)
	}
	if r := c.get("/account"); !strings.Contains(r.body, `action="/account/passkeys/rename"`) || !strings.Contains(r.body, `value="passkey"`) {
		t.Fatalf("no rename form after re-authentication:\n%s", r.body)
	}
	for _, f := range []url.Values{
		{"passkey": {id}, "name": {" \t\u200b\n "}},
		{"passkey": {base64.RawURLEncoding.EncodeToString([]byte("other"))}, "name": {"laptop"}},
		{"passkey": {"!!"}, "name": {"laptop"}},
	} {
		if r := c.post("/account/passkeys/rename", f, true); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="passkeys-err"`) {
			t.Errorf("rename %q: %d", f, r.status)
		}
	}
	if got := stored(); got != "passkey" {
		t.Fatalf("a refused rename changed the name to %q", got)
	}
	r := c.post("/account/passkeys/rename", url.Values{"passkey": {id}, "name": {"  Рабочий \u202e<b>ноутбук</b>\t "}}, true)
	if r.status != http.StatusSeeOther || r.loc != "/account?done=renamed" {
		t.Fatalf("rename: %d %s %s", r.status, r.loc, r.body)
	}
	if got, want := stored(), "Рабочий <b>ноутбук</b>"; got != want {
		t.Errorf("stored name %q, want %q", got, want)
	}
	r = c.get(r.loc)
	if !strings.Contains(r.body, "The passkey was renamed.") || !strings.Contains(r.body, "Рабочий &lt;b&gt;ноутбук&lt;/b&gt; · added") || strings.Contains(r.body, "<b>ноутбук") {
		t.Errorf("after renaming:\n%s", r.body)
	}
}
