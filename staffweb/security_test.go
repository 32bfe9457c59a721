package staffweb_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/staffweb"
)

// fill replaces a route's path wildcards with real IDs.
func fill(p string, sub, acct vigil.ID) string {
	p = strings.TrimSuffix(p, "{$}")
	p = strings.ReplaceAll(p, "{file}", sub.String())
	if strings.HasPrefix(p, "/accounts/") {
		return strings.ReplaceAll(p, "{id}", acct.String())
	}
	return strings.ReplaceAll(p, "{id}", sub.String())
}

// TestCSRFEveryRoute walks the route table: every state-changing route of
// a session refuses a request without the session's CSRF token, with a
// wrong one, and from another origin even with the token; every sign-in
// step refuses another origin. Nothing changes: the vault stays unsealed
// and the session alive.
func TestCSRFEveryRoute(t *testing.T) {
	e := newEnv(t, true, true)
	admin := e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	sub := e.submit(t, "text", nil)
	c := newClient(t, e.serve(t))
	secret := e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	n := 0
	for _, rt := range staffweb.Routes() {
		if rt.Method == "GET" {
			continue
		}
		p := fill(rt.Path, sub, admin.ID)
		form := url.Values{"text": {"forged"}, "state": {"rejected"}, "role": {"intake"}, "name": {"Forged Name"}, "passphrase": {vaultPass}, "lang": {"ru"}}
		switch rt.Access {
		case staffweb.SignedIn, staffweb.Staff:
			n++
			if r := c.post(p, form, false); r.status != http.StatusForbidden {
				t.Errorf("%s %s without CSRF token: %d, want 403", rt.Method, p, r.status)
			}
			form.Set("csrf", strings.Repeat("A", len(c.csrf)))
			if r := c.post(p, form, false); r.status != http.StatusForbidden {
				t.Errorf("%s %s with a wrong CSRF token: %d, want 403", rt.Method, p, r.status)
			}
			c.origin = "http://evil.example"
			if r := c.post(p, form, true); r.status != http.StatusForbidden {
				t.Errorf("%s %s from another origin: %d, want 403", rt.Method, p, r.status)
			}
			c.origin = c.base
		case staffweb.Origin:
			n++
			c.origin = "http://evil.example"
			if r := c.post(p, form, false); r.status != http.StatusForbidden {
				t.Errorf("%s %s from another origin: %d, want 403", rt.Method, p, r.status)
			}
			c.origin = c.base
		default:
			t.Errorf("%s %s: state-changing route without a guard", rt.Method, p)
		}
		// The refused request changed nothing: the session lives on, the
		// vault is still unsealed.
		if r := c.get("/vault"); r.status != 200 {
			t.Errorf("%s %s: the session ended (%d)", rt.Method, p, r.status)
			e.signIn(t, c, "Olga Admin", "correct horse battery staple", secret)
		}
		if e.d.Vault.Sealed() {
			t.Errorf("%s %s sealed the vault", rt.Method, p)
			must(t, e.d.Vault.Unseal([]byte(vaultPass)))
			e.signIn(t, c, "Olga Admin", "correct horse battery staple", secret)
		}
	}
	if n < 15 {
		t.Fatalf("only %d state-changing routes walked", n)
	}
	if e.d.Vault.Sealed() {
		t.Error("a forged request sealed the vault")
	}
	if r := c.get("/inbox"); r.status != 200 {
		t.Fatalf("session ended by forged requests: %d", r.status)
	}
	if r := c.get("/inbox/" + sub.String()); strings.Contains(r.body, "forged") || !strings.Contains(r.body, "state-new") && !strings.Contains(r.body, ">new<") {
		t.Errorf("a forged request changed the submission:\n%s", r.body)
	}
	// The control: with the token the same request goes through.
	if r := c.post("/inbox/"+sub.String()+"/reply", url.Values{"text": {"real reply"}}, true); r.status != http.StatusSeeOther {
		t.Errorf("reply with token: %d %s", r.status, r.body)
	}
}

// TestIntakeNotAdmin: an intake account reaches the inbox but no admin
// page or action, by direct URL.
func TestIntakeNotAdmin(t *testing.T) {
	e := newEnv(t, true, true)
	admin := e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	e.account(t, "Ivan Intake", vigil.RoleIntake, "en", "another long passphrase")
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan Intake", "another long passphrase", nil)
	if r := c.get("/inbox"); r.status != 200 {
		t.Fatalf("intake inbox: %d", r.status)
	}
	if r := c.get("/inbox"); strings.Contains(r.body, `href="/accounts"`) {
		t.Error("intake sees the accounts link")
	}
	// Fresh, so that the re-authentication redirect cannot hide a missing
	// role check.
	if r := c.post("/reauth", url.Values{"passphrase": {"another long passphrase"}, "next": {"/inbox"}}, true); r.status != http.StatusSeeOther {
		t.Fatalf("reauth: %d", r.status)
	}
	walked := 0
	for _, rt := range staffweb.Routes() {
		if !slices.Equal(rt.Roles, []vigil.Role{vigil.RoleAdmin}) {
			continue
		}
		walked++
		p := fill(rt.Path, admin.ID, admin.ID)
		var r resp
		if rt.Method == "GET" {
			r = c.get(p)
		} else {
			r = c.post(p, url.Values{"role": {"intake"}, "name": {"Sneaky Token"}, "passphrase": {"a new long passphrase"}}, true)
		}
		if r.status != http.StatusForbidden {
			t.Errorf("intake %s %s: %d, want 403", rt.Method, p, r.status)
		}
	}
	if walked < 5 {
		t.Fatalf("only %d admin routes", walked)
	}
	list, err := e.accounts.List(t.Context())
	must(t, err)
	for _, a := range list {
		if a.ID == admin.ID && (a.Role != vigil.RoleAdmin || !a.Disabled.IsZero()) {
			t.Errorf("intake changed the admin: %+v", a)
		}
	}
}

// TestSessionAfterLogout: the cookie of a session that logged out (or was
// logged out everywhere) no longer works.
func TestSessionAfterLogout(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	base := e.serve(t)
	c := newClient(t, base)
	secret := e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	u, _ := url.Parse(base)
	old := c.hc.Jar.Cookies(u)
	if len(old) == 0 {
		t.Fatal("no cookie")
	}
	if r := c.post("/logout", nil, true); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	c.hc.Jar.SetCookies(u, old) // the stolen or kept cookie
	if r := c.get("/inbox"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/signin") {
		t.Errorf("old cookie after logout: %d %s", r.status, r.loc)
	}
	// Logout everywhere ends a second browser's session too.
	c2 := newClient(t, base)
	e.signIn(t, c2, "Olga Admin", "correct horse battery staple", secret)
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", secret)
	if r := c.post("/logout/everywhere", nil, true); r.status != http.StatusSeeOther {
		t.Fatalf("logout everywhere: %d", r.status)
	}
	if r := c2.get("/inbox"); r.status != http.StatusSeeOther {
		t.Errorf("other browser after logout everywhere: %d", r.status)
	}
}

// TestStoredHTMLInert: HTML and script in a submission, a reply, a file
// name, an account name and a token name come out escaped.
func TestStoredHTMLInert(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`
	sub := e.submit(t, "testimony "+evil, map[string][]byte{`a<script>.png`: pngBytes(t)})
	e.account(t, "Evil <i>x<i>", vigil.RoleIntake, "en", "yet another passphrase")
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	if r := c.post("/inbox/"+sub.String()+"/reply", url.Values{"text": {"reply " + evil}}, true); r.status != http.StatusSeeOther {
		t.Fatalf("reply: %d", r.status)
	}
	if r := c.post("/tokens", url.Values{"name": {"tok <script>alert(3)<script>"}, "role": {"intake"}}, true); r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/inbox/" + sub.String(), "/accounts", "/tokens"} {
		r := c.get(p)
		for _, bad := range []string{"<script>alert", "<img src=x", "<i>x<i>", "a<script>.png"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("%s renders %q raw", p, bad)
			}
		}
		if !strings.Contains(r.body, "&lt;script&gt;") && p != "/accounts" {
			t.Errorf("%s: the escaped text is missing", p)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
}

// TestBackoffUI: repeated wrong passphrases on the sign-in form are slowed
// down, and the page says how long to wait.
func TestBackoffUI(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	c := newClient(t, e.serve(t))
	for i := range 5 {
		r := c.post("/signin", url.Values{"name": {"Olga Admin"}, "passphrase": {"wrong passphrase guess"}}, false)
		if r.status != http.StatusSeeOther {
			t.Fatalf("guess %d: %d, want the second step (the answer hides a wrong passphrase)", i, r.status)
		}
	}
	r := c.post("/signin", url.Values{"name": {"Olga Admin"}, "passphrase": {"correct horse battery staple"}}, false)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many failed sign-ins. Wait") {
		t.Fatalf("sixth try: %d\n%s", r.status, r.body)
	}
	e.clock.Add(2 * time.Second)
	if r := c.post("/signin", url.Values{"name": {"Olga Admin"}, "passphrase": {"correct horse battery staple"}}, false); r.status != http.StatusSeeOther {
		t.Fatalf("after the wait: %d", r.status)
	}
}

// TestFileHeaders: a file is served from the decrypted stream with its
// sniffed type, inline only for images and PDF, under a CSP that runs
// nothing.
func TestFileHeaders(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	sub := e.submit(t, "files", map[string][]byte{"p.png": pngBytes(t), "x.html": []byte("<html><script>alert(1)</script>")})
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	v, err := e.d.Intake.Get(t.Context(), vigil.Principal{Actor: "t", Role: vigil.RoleAdmin}, sub)
	must(t, err)
	for _, f := range v.Files {
		r := c.get("/inbox/" + sub.String() + "/files/" + f.ID.String())
		ct, cd, csp := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), r.header.Get("Content-Security-Policy")
		switch f.Name {
		case "p.png":
			if ct != "image/png" || !strings.HasPrefix(cd, "inline") || len(r.body) != len(pngBytes(t)) {
				t.Errorf("png: %s %s %d bytes", ct, cd, len(r.body))
			}
		case "x.html":
			if ct != "application/octet-stream" || !strings.HasPrefix(cd, "attachment") {
				t.Errorf("html file served as %s %s", ct, cd)
			}
		}
		if !strings.Contains(csp, "default-src 'none'") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", f.Name, r.header)
		}
	}
}

// TestNoOpenRedirect: "next" and "back" only lead to paths on this server.
func TestNoOpenRedirect(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	for _, bad := range []string{"//evil.example/", "/\t/evil.example", "/\\evil.example", "https://evil.example/", "/\n/evil.example", "javascript:alert(1)"} {
		r := c.post("/reauth", url.Values{"passphrase": {"correct horse battery staple"}, "next": {bad}}, true)
		if r.status != http.StatusSeeOther || r.loc != "/inbox" {
			t.Errorf("reauth next=%q: %d %q", bad, r.status, r.loc)
		}
		r = c.post("/language", url.Values{"lang": {"ru"}, "back": {bad}}, true)
		if r.status != http.StatusSeeOther || r.loc != "/" {
			t.Errorf("language back=%q: %d %q", bad, r.status, r.loc)
		}
		e.clock.Add(2 * time.Second)
	}
}

// TestUnsealLimit: wrong vault passphrases from the unseal page are
// limited for everyone together; the right one waits its turn too.
func TestUnsealLimit(t *testing.T) {
	e := newEnv(t, false, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	c := newClient(t, e.serve(t))
	// Signed in while sealed: the unseal page only.
	r := c.post("/signin", url.Values{"name": {"Olga Admin"}, "passphrase": {"correct horse battery staple"}}, false)
	page := c.get(r.loc)
	secret := secretFrom(t, page.body)
	if r := c.post("/signin/enrol/totp", url.Values{"code": {totpNow(e, secret)}}, false); r.status != http.StatusSeeOther {
		t.Fatalf("enrol: %d", r.status)
	}
	if r := c.get("/inbox"); r.status != http.StatusSeeOther || r.loc != "/unseal" {
		t.Fatalf("sealed session at /inbox: %d %s", r.status, r.loc)
	}
	c.get("/unseal")
	for i := range 5 {
		if r := c.post("/unseal", url.Values{"passphrase": {"wrong vault passphrase"}}, true); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong passphrase %d: %d", i, r.status)
		}
	}
	r = c.post("/unseal", url.Values{"passphrase": {vaultPass}}, true)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many wrong vault passphrases") || !e.d.Vault.Sealed() {
		t.Fatalf("sixth attempt: %d sealed=%v", r.status, e.d.Vault.Sealed())
	}
}
