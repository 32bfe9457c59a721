package account_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// rig is a staff listener in miniature: the account package's handlers
// and middleware on a TLS test server, with an injected clock.
type rig struct {
	t     *testing.T
	d     *datadir.Dir
	c     *clock
	accts *account.Accounts
	sess  *account.Sessions
	srv   *httptest.Server
}

const (
	rpID     = "localhost"
	rpOrigin = "https://localhost"
)

func status(err error) int {
	var te *account.ThrottledError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, account.ErrLogin), errors.Is(err, account.ErrNoSession):
		return http.StatusUnauthorized
	case errors.As(err, &te):
		return http.StatusTooManyRequests
	case errors.Is(err, account.ErrStep):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func reply(w http.ResponseWriter, err error, ok string) {
	if err != nil {
		http.Error(w, err.Error(), status(err))
		return
	}
	io.WriteString(w, ok)
}

func writeJSON(w http.ResponseWriter, v any, err error) {
	if err != nil {
		http.Error(w, err.Error(), status(err))
		return
	}
	json.NewEncoder(w).Encode(v)
}

func newRig(t *testing.T) *rig {
	d := openDir(t)
	c := newClock()
	accts := newAccounts(d, c)
	wa, err := account.NewWebAuthn(rpID, []string{rpOrigin})
	must(t, err)
	s := &account.Sessions{Accounts: accts, WebAuthn: wa, Now: c.Now}
	accts.OnChange = s.LogoutAccount
	d.Vault.OnSeal(s.DropAll)
	m := http.NewServeMux()
	open := s.RequireOrigin
	m.Handle("POST /login", open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		step, err := s.LoginPassphrase(w, r, r.PostFormValue("name"), []byte(r.PostFormValue("pass")))
		reply(w, err, fmt.Sprint(step))
	})))
	m.Handle("POST /login/totp", open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.LoginTOTP(w, r, r.PostFormValue("code")), "in")
	})))
	m.Handle("POST /login/passkey/begin", open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, err := s.PasskeyLoginBegin(r)
		writeJSON(w, opts, err)
	})))
	m.Handle("POST /login/passkey/finish", open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.PasskeyLoginFinish(w, r), "in")
	})))
	m.Handle("POST /enrol/totp/begin", open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, uri, err := s.TOTPEnrolBegin(r, "vigil")
		writeJSON(w, map[string]string{"secret": base64.StdEncoding.EncodeToString(secret), "uri": uri}, err)
	})))
	m.Handle("POST /enrol/totp/finish", open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.TOTPEnrolFinish(w, r, r.PostFormValue("code")), "enrolled")
	})))
	m.Handle("POST /enrol/passkey/begin", open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, err := s.PasskeyRegisterBegin(r)
		writeJSON(w, opts, err)
	})))
	m.Handle("POST /enrol/passkey/finish", open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.PasskeyRegisterFinish(w, r, "test key"), "enrolled")
	})))
	m.Handle("GET /whoami", s.RequireSession()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := account.Principal(r.Context())
		i, _ := account.FromContext(r.Context())
		fmt.Fprintf(w, "%s %s %s", p.Actor, p.Role, i.CSRF)
	})))
	m.Handle("GET /admin", s.RequireSession(vigil.RoleAdmin)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "admin page")
	})))
	m.Handle("/unseal", s.RequireSignedIn(s.RequireCSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := account.FromContext(r.Context())
		fmt.Fprintf(w, "unseal page sealed=%v csrf=%s", i.Sealed, i.CSRF)
	}))))
	m.Handle("/action", s.RequireSession()(s.RequireCSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "done "+r.Method)
	}))))
	m.Handle("POST /logout", s.RequireSignedIn(s.RequireCSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Logout(w, r)
		io.WriteString(w, "out")
	}))))
	m.Handle("POST /logout-everywhere", s.RequireSignedIn(s.RequireCSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := account.FromContext(r.Context())
		s.LogoutAccount(i.Account.ID)
		io.WriteString(w, "all out")
	}))))
	m.Handle("POST /reauth", s.RequireSession()(s.RequireCSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.Reauthenticate(w, r, []byte(r.PostFormValue("pass"))), "fresh")
	}))))
	m.Handle("GET /export", s.RequireSession()(s.RequireFresh(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "export")
	}))))
	srv := httptest.NewTLSServer(m)
	t.Cleanup(srv.Close)
	return &rig{t: t, d: d, c: c, accts: accts, sess: s, srv: srv}
}

// browser is one client with its own cookie jar.
type browser struct {
	r    *rig
	c    *http.Client
	csrf string
}

func (r *rig) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *r.srv.Client() // a copy: the server's client is shared
	c.Jar = jar
	return &browser{r: r, c: &c}
}

// do sends a request and returns status and body. hdr are header pairs.
func (b *browser) do(method, path string, body io.Reader, ctype string, hdr ...string) (int, string) {
	b.r.t.Helper()
	req, err := http.NewRequest(method, b.r.srv.URL+path, body)
	must(b.r.t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	must(b.r.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(out))
}

func (b *browser) form(path string, kv ...string) (int, string) {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	if b.csrf != "" && v.Get(account.CSRFField) == "" {
		v.Set(account.CSRFField, b.csrf)
	}
	return b.do("POST", path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

// whoami returns the signed-in actor and role ("" if not signed in) and
// remembers the CSRF token.
func (b *browser) whoami() string {
	code, body := b.do("GET", "/whoami", nil, "")
	if code != 200 {
		return ""
	}
	f := strings.Fields(body)
	b.csrf = f[len(f)-1]
	return strings.Join(f[:len(f)-1], " ")
}

func (b *browser) cookie() string {
	u, _ := url.Parse(b.r.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == account.CookieName {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(v string) {
	u, _ := url.Parse(b.r.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: account.CookieName, Value: v, Path: "/", Secure: true}})
}

// enrolTOTP creates an account, signs it in for the first time and enrols
// TOTP; it returns the browser (signed in), the account and its secret.
func (r *rig) enrolTOTP(name, pass string, role vigil.Role) (*browser, account.Account, []byte) {
	r.t.Helper()
	a, err := r.accts.Create(context.Background(), "cli", name, role, "en", []byte(pass))
	must(r.t, err)
	b := r.browser()
	if code, body := b.form("/login", "name", name, "pass", pass); code != 200 || body != fmt.Sprint(account.StepEnrol) {
		r.t.Fatalf("first login: %d %s", code, body)
	}
	code, body := b.form("/enrol/totp/begin")
	if code != 200 {
		r.t.Fatalf("enrol begin: %d %s", code, body)
	}
	var got struct{ Secret, URI string }
	must(r.t, json.Unmarshal([]byte(body), &got))
	secret, _ := base64.StdEncoding.DecodeString(got.Secret)
	if code, body := b.form("/enrol/totp/finish", "code", account.TOTPCode(secret, r.c.Now())); code != 200 {
		r.t.Fatalf("enrol finish: %d %s", code, body)
	}
	r.c.Add(31 * time.Second) // the next login needs a fresh step
	return b, a, secret
}

// login signs a new browser in with passphrase and TOTP.
func (r *rig) login(name, pass string, secret []byte) *browser {
	r.t.Helper()
	b := r.browser()
	if code, body := b.form("/login", "name", name, "pass", pass); code != 200 {
		r.t.Fatalf("login: %d %s", code, body)
	}
	if code, body := b.form("/login/totp", "code", account.TOTPCode(secret, r.c.Now())); code != 200 {
		r.t.Fatalf("login totp: %d %s", code, body)
	}
	r.c.Add(31 * time.Second)
	if b.whoami() == "" {
		r.t.Fatal("not signed in after login")
	}
	return b
}

func TestEnrolAndLogin(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	b, a, secret := r.enrolTOTP("Marina", "a red passphrase!!", vigil.RoleInvestigator)
	if got := b.whoami(); got != "account:"+a.ID.String()+"/Marina investigator" {
		t.Fatalf("whoami after enrolment: %q", got)
	}
	b2 := r.login("marina", "a red passphrase!!", secret)
	if got := b2.whoami(); got != "account:"+a.ID.String()+"/Marina investigator" {
		t.Fatalf("whoami after login: %q", got)
	}
	if code, _ := b2.do("GET", "/admin", nil, ""); code != 403 {
		t.Fatalf("investigator on an admin page: %d, want 403", code)
	}
}

// TestWrongAnswersAlike: a wrong name, a wrong passphrase and a wrong
// code give the same first-step answer and the same final refusal.
func TestWrongAnswersAlike(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, _, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleIntake)
	type result struct {
		code1  int
		body1  string
		code2  int
		body2  string
		signed bool
	}
	try := func(name, pass, code string) result {
		b := r.browser()
		c1, b1 := b.form("/login", "name", name, "pass", pass)
		c2, b2 := b.form("/login/totp", "code", code)
		return result{c1, b1, c2, b2, b.whoami() != ""}
	}
	good := account.TOTPCode(secret, r.c.Now())
	wrongName := try("boris", "the right passphrase", good)
	wrongPass := try("anna", "the wrong passphrase", good)
	wrongCode := try("anna", "the right passphrase", "000000")
	tooLong := try("anna", strings.Repeat("x", account.MaxPassphrase+1), good)
	if wrongName != wrongPass || wrongPass != wrongCode || tooLong != wrongCode {
		t.Fatalf("answers differ:\nwrong name %+v\nwrong pass %+v\nwrong code %+v", wrongName, wrongPass, wrongCode)
	}
	if wrongName.code1 != 200 || wrongName.code2 != 401 || wrongName.signed {
		t.Fatalf("wrong answers: %+v", wrongName)
	}
	// The right ones sign in; the same code again (replay) does not.
	if right := try("anna", "the right passphrase", good); right.code2 != 200 || !right.signed {
		t.Fatalf("right answers: %+v", right)
	}
	if replay := try("anna", "the right passphrase", good); replay != wrongCode {
		t.Fatalf("replayed code: %+v, want %+v", replay, wrongCode)
	}
	// A second factor without the first step is out of order.
	if code, _ := r.browser().form("/login/totp", "code", good); code != 401 {
		t.Fatalf("TOTP without a pending login: %d", code)
	}
}

func TestBackoff(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, _, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleIntake)
	b := r.browser()
	for i := range 5 {
		if code, body := b.form("/login", "name", "anna", "pass", "wrong passphrase "+fmt.Sprint(i)); code != 200 {
			t.Fatalf("attempt %d: %d %s", i, code, body)
		}
	}
	// The sixth waits a second, whatever the passphrase; an unknown name has
	// its own counter.
	if code, body := b.form("/login", "name", "anna", "pass", "the right passphrase"); code != 429 || !strings.Contains(body, "1s") {
		t.Fatalf("after 5 failures: %d %s, want 429 and 1s", code, body)
	}
	if code, _ := b.form("/login", "name", "boris", "pass", "whatever it is"); code != 200 {
		t.Fatalf("another name throttled: %d", code)
	}
	r.c.Add(time.Second)
	if code, _ := b.form("/login", "name", "ANNA", "pass", "wrong again!!"); code != 200 {
		t.Fatalf("after the wait: %d", code)
	}
	// Now two seconds, then four.
	if code, body := b.form("/login", "name", "anna", "pass", "x"); code != 429 || !strings.Contains(body, "2s") {
		t.Fatalf("7th: %d %s", code, body)
	}
	r.c.Add(2 * time.Second)
	b.form("/login", "name", "anna", "pass", "wrong again!!")
	if code, body := b.form("/login", "name", "anna", "pass", "x"); code != 429 || !strings.Contains(body, "4s") {
		t.Fatalf("8th: %d %s", code, body)
	}
	// A success resets the counter.
	r.c.Add(4 * time.Second)
	r.login("anna", "the right passphrase", secret)
	for i := range 4 {
		if code, _ := b.form("/login", "name", "anna", "pass", "wrong passphrase "+fmt.Sprint(i)); code != 200 {
			t.Fatalf("after success, attempt %d throttled", i)
		}
	}
	// The delay is capped.
	bo := &account.Backoff{Now: r.c.Now}
	key := []byte("k")
	for range 40 {
		bo.Fail(key)
	}
	if w := bo.Wait(key); w != 15*time.Minute {
		t.Fatalf("capped wait %v", w)
	}
}

func TestGlobalBackoff(t *testing.T) {
	c := newClock()
	bo := &account.Backoff{Now: c.Now, GlobalThreshold: 10}
	for i := range 10 {
		bo.Fail([]byte{byte(i)})
	}
	if w := bo.Wait([]byte("fresh name")); w != time.Second {
		t.Fatalf("global wait %v, want 1s", w)
	}
	c.Add(2 * time.Minute) // quiet for longer than GlobalMax
	if w := bo.Wait([]byte("fresh name")); w != 0 {
		t.Fatalf("global wait after quiet %v", w)
	}
}

func TestSessionFixation(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, _, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleIntake)
	// The attacker starts a login and plants its session ID in the victim's
	// browser; the victim signs in with it.
	attacker := r.browser()
	attacker.form("/login", "name", "nobody", "pass", "nothing at all")
	planted := attacker.cookie()
	victim := r.browser()
	victim.setCookie(planted)
	victim.form("/login", "name", "anna", "pass", "the right passphrase")
	afterStep1 := victim.cookie()
	victim.form("/login/totp", "code", account.TOTPCode(secret, r.c.Now()))
	if victim.whoami() == "" {
		t.Fatal("victim not signed in")
	}
	if victim.cookie() == planted || victim.cookie() == afterStep1 {
		t.Fatal("session ID not renewed at login")
	}
	for _, id := range []string{planted, afterStep1} {
		x := r.browser()
		x.setCookie(id)
		if got := x.whoami(); got != "" {
			t.Fatalf("pre-login session ID %q works after login: %s", id, got)
		}
	}
}

func TestLogout(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, _, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleIntake)
	b := r.login("anna", "the right passphrase", secret)
	stolen := b.cookie()
	if code, _ := b.form("/logout"); code != 200 {
		t.Fatal("logout refused")
	}
	x := r.browser()
	x.setCookie(stolen)
	if x.whoami() != "" {
		t.Fatal("session reused after logout")
	}

	// Logout everywhere ends the other browsers' sessions of that account
	// only.
	b1 := r.login("anna", "the right passphrase", secret)
	b2 := r.login("anna", "the right passphrase", secret)
	_, _, other := r.enrolTOTP("boris", "a blue passphrase", vigil.RoleIntake)
	b3 := r.login("boris", "a blue passphrase", other)
	old2 := b2.cookie()
	if code, _ := b1.form("/logout-everywhere"); code != 200 {
		t.Fatal("logout everywhere refused")
	}
	if b1.whoami() != "" || b2.whoami() != "" {
		t.Fatal("a session survived logout everywhere")
	}
	x.setCookie(old2)
	if x.whoami() != "" {
		t.Fatal("session reused after logout everywhere")
	}
	if b3.whoami() == "" {
		t.Fatal("another account's session ended")
	}

	// A role change and seal end sessions too.
	b4 := r.login("anna", "the right passphrase", secret)
	list, _ := r.accts.List(context.Background())
	must(t, r.accts.SetRole(context.Background(), "cli", list[0].ID, vigil.RoleAnalyst))
	if b4.whoami() != "" {
		t.Fatal("session survived a role change")
	}
	r.d.Vault.Seal()
	if b3.whoami() != "" || r.sess.Len() != 0 {
		t.Fatal("sessions survived seal")
	}
}

func TestExpiry(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, _, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleIntake)

	b := r.login("anna", "the right passphrase", secret)
	r.c.Add(29 * time.Minute)
	if b.whoami() == "" {
		t.Fatal("idle 29 min: expired")
	}
	r.c.Add(30 * time.Minute)
	if b.whoami() != "" {
		t.Fatal("idle 30 min: still signed in")
	}

	// Busy all day: the absolute limit ends it at 12 hours.
	b = r.login("anna", "the right passphrase", secret)
	for range 12*4 - 1 {
		r.c.Add(15 * time.Minute)
		if b.whoami() == "" {
			t.Fatalf("active session ended early at %v", r.c.Now())
		}
	}
	r.c.Add(15 * time.Minute)
	if b.whoami() != "" {
		t.Fatal("active session outlived 12 hours")
	}

	// A pending login waits 5 minutes for its second factor.
	b = r.browser()
	b.form("/login", "name", "anna", "pass", "the right passphrase")
	r.c.Add(5 * time.Minute)
	if code, _ := b.form("/login/totp", "code", account.TOTPCode(secret, r.c.Now())); code != 401 {
		t.Fatalf("second factor after 5 min: %d", code)
	}
}

func TestCSRF(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, _, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleIntake)
	b := r.login("anna", "the right passphrase", secret)
	other := r.login("anna", "the right passphrase", secret)
	good := b.csrf
	form := "application/x-www-form-urlencoded"
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		for _, c := range []struct {
			desc  string
			body  string
			ctype string
			hdr   []string
			want  int
		}{
			{"no token", "", form, nil, 403},
			{"wrong token", "csrf=" + strings.Repeat("A", 43), form, nil, 403},
			{"another session's token", "csrf=" + other.csrf, form, nil, 403},
			{"token in header, other session", "", "", []string{account.CSRFHeader, other.csrf}, 403},
			{"truncated token", "csrf=" + good[:42], form, nil, 403},
			{"token in a multipart body's first part", "", "multipart/form-data; boundary=x", nil, 200},
			{"token in a later multipart part", "", "multipart/form-data; boundary=x; order=late", nil, 403},
			{"wrong token in a multipart body", "", "multipart/form-data; boundary=x; order=wrong", nil, 403},
			{"good token, cross-site", "csrf=" + good, form, []string{"Sec-Fetch-Site", "cross-site"}, 403},
			{"good token, other origin", "csrf=" + good, form, []string{"Origin", "https://evil.example"}, 403},
			{"good token in form", "csrf=" + good, form, nil, 200},
			{"good token in header", "", "", []string{account.CSRFHeader, good}, 200},
			{"good token, same origin", "", "", []string{account.CSRFHeader, good, "Origin", r.srv.URL, "Sec-Fetch-Site", "same-origin"}, 200},
		} {
			body := c.body
			if strings.HasPrefix(c.ctype, "multipart") {
				part := "--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + good + "\r\n"
				switch {
				case strings.HasSuffix(c.ctype, "late"):
					part = "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc\r\n" + part
				case strings.HasSuffix(c.ctype, "wrong"):
					part = strings.Replace(part, good, other.csrf, 1)
				}
				body = part + "--x--\r\n"
			}
			code, out := b.do(m, "/action", strings.NewReader(body), c.ctype, c.hdr...)
			if code != c.want {
				t.Errorf("%s %s: %d %s, want %d", m, c.desc, code, out, c.want)
			}
		}
	}
	if code, body := b.do("GET", "/action", nil, ""); code != 200 || body != "done GET" {
		t.Fatalf("GET without token: %d %s", code, body)
	}
	// Without a session, a token does not help.
	anon := r.browser()
	if code, _ := anon.do("POST", "/action", nil, "", account.CSRFHeader, good); code != 401 {
		t.Fatalf("anonymous POST: %d", code)
	}
	// The sign-in form refuses other origins too.
	if code, _ := anon.do("POST", "/login", strings.NewReader("name=anna&pass=x"), form, "Origin", "https://evil.example"); code != 403 {
		t.Fatalf("cross-origin login: %d", code)
	}
}

func TestCookieAttributes(t *testing.T) {
	r := newRig(t)
	b := r.browser()
	req, _ := http.NewRequest("POST", r.srv.URL+"/login", strings.NewReader("name=x&pass=y"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	must(t, err)
	resp.Body.Close()
	cs := resp.Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies %v", cs)
	}
	c := cs[0]
	raw := resp.Header.Get("Set-Cookie")
	if c.Name != "__Host-vigil" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Fatalf("cookie %q", raw)
	}
	id, ok := account.ParseSessionID(c.Value)
	if !ok || len(id) != 32 {
		t.Fatalf("session ID %q is not 256 bits", c.Value)
	}
	// The store holds only the ID's hash: no session ID in the data dir.
	if hits := scanDir(t, r.d.Path, canaries(c.Value)); len(hits) > 0 {
		t.Fatalf("session ID on disk: %v", hits)
	}
}

func TestSealedLogin(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, a, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleAdmin)
	r.d.Vault.Seal()
	b := r.browser()
	b.form("/login", "name", "Anna", "pass", "the right passphrase")
	if code, body := b.form("/login/totp", "code", account.TOTPCode(secret, r.c.Now())); code != 200 {
		t.Fatalf("sealed login: %d %s", code, body)
	}
	// No role: every page that needs one refuses; the unseal page does not.
	if code, _ := b.do("GET", "/whoami", nil, ""); code != 403 {
		t.Fatalf("sealed session on a role page: %d, want 403", code)
	}
	code, body := b.do("GET", "/unseal", nil, "")
	if code != 200 || !strings.Contains(body, "sealed=true") {
		t.Fatalf("unseal page: %d %s", code, body)
	}
	csrf := body[strings.Index(body, "csrf=")+5:]
	if code, _ := b.do("POST", "/unseal", nil, "", account.CSRFHeader, csrf); code != 200 {
		t.Fatalf("unseal POST: %d", code)
	}
	if code, _ := b.do("POST", "/unseal", nil, ""); code != 403 {
		t.Fatalf("unseal POST without token: %d", code)
	}
	// The principal: the account's ID and the name as typed, no role.
	s := &account.Sessions{Accounts: r.accts, Now: r.c.Now}
	_ = s
	var got vigil.Principal
	h := r.sess.RequireSignedIn(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got, _ = account.Principal(req.Context())
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: account.CookieName, Value: b.cookie()})
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.Actor != "account:"+a.ID.String()+"/Anna" || got.Role != "" || got.Can(vigil.ReadSubmissions) {
		t.Fatalf("sealed principal %+v", got)
	}
}

func TestReauthenticate(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, _, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleAdmin)
	b := r.login("anna", "the right passphrase", secret)
	if code, _ := b.do("GET", "/export", nil, ""); code != 200 {
		t.Fatal("export right after login refused")
	}
	r.c.Add(5 * time.Minute)
	if code, _ := b.do("GET", "/export", nil, ""); code != 403 {
		t.Fatalf("export 5 min after login: %d, want 403", code)
	}
	if code, _ := b.form("/reauth", "pass", "not the passphrase"); code != 401 {
		t.Fatalf("reauth with a wrong passphrase: %d", code)
	}
	if code, _ := b.do("GET", "/export", nil, ""); code != 403 {
		t.Fatal("export after a failed reauth")
	}
	if code, body := b.form("/reauth", "pass", "the right passphrase"); code != 200 {
		t.Fatalf("reauth: %d %s", code, body)
	}
	if code, _ := b.do("GET", "/export", nil, ""); code != 200 {
		t.Fatal("export after reauth refused")
	}
	// While fresh, the session may add a second factor; later not.
	if code, body := b.form("/enrol/totp/begin"); code != 200 {
		t.Fatalf("enrol while fresh: %d %s", code, body)
	}
	r.c.Add(5 * time.Minute)
	if code, _ := b.form("/enrol/totp/begin"); code != 409 {
		t.Fatalf("enrol when stale: %d, want 409", code)
	}
}

// TestRefresh: a session signed in while sealed takes up the account's
// name and role once the vault is unsealed; a sealed vault changes
// nothing; a disabled account's session ends.
func TestRefresh(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	_, a, secret := r.enrolTOTP("anna", "the right passphrase", vigil.RoleInvestigator)
	r.d.Vault.Seal()
	b := r.browser()
	b.form("/login", "name", "ANNA", "pass", "the right passphrase")
	if code, body := b.form("/login/totp", "code", account.TOTPCode(secret, r.c.Now())); code != 200 {
		t.Fatalf("sealed login: %d %s", code, body)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: account.CookieName, Value: b.cookie()})
	if _, err := r.sess.Refresh(t.Context(), req); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("refresh sealed: %v, want ErrSealed", err)
	}
	if i, _ := r.sess.Session(req); !i.Sealed || i.Account.Role != "" {
		t.Fatalf("sealed refresh changed the session: %+v", i.Account)
	}
	unseal(t, r.d)
	i, err := r.sess.Refresh(t.Context(), req)
	must(t, err)
	if i.Sealed || i.Account.Role != vigil.RoleInvestigator || i.Account.Name != "anna" || i.Account.ID != a.ID {
		t.Fatalf("refreshed session: %+v", i.Account)
	}
	if code, _ := b.do("GET", "/whoami", nil, ""); code != 200 {
		t.Fatalf("refreshed session on a role page: %d", code)
	}
	// Disabled behind the sessions' back (no OnChange): Refresh itself
	// must notice.
	r.accts.OnChange = nil
	must(t, r.accts.Disable(t.Context(), "cli", a.ID))
	if _, err := r.sess.Refresh(t.Context(), req); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("refresh of a disabled account: %v", err)
	}
	if _, ok := r.sess.Session(req); ok {
		t.Fatal("a disabled account's session lives on")
	}
}
