package staffweb_test

import (
	"context"
	"encoding/base64"
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
