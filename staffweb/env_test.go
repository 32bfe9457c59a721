package staffweb_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"html"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/staffweb"
)

const vaultPass = "staffweb test vault passphrase"

// fast are argon2id parameters small enough for tests.
var fast = account.Params{Time: 1, Memory: 64, Threads: 1}

// clock is real time plus an offset tests move forward (a TOTP step is
// used once per account, so each sign-in moves to the next step).
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// env is a staff UI over a real data directory.
type env struct {
	d        *datadir.Dir
	clock    *clock
	accounts *account.Accounts
	sessions *account.Sessions
	srv      *staffweb.Server
	h        http.Handler
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newEnv opens a data directory, unsealed if unsealed is set. insecure
// drops the Secure cookie attribute for Go's cookie jar on plain http.
func newEnv(t testing.TB, unsealed, insecure bool) *env {
	t.Helper()
	return newEnvOn(t, datadirtest.Open(t, vaultPass), unsealed, insecure)
}

// newEnvOn is newEnv on an opened data directory d.
func newEnvOn(t testing.TB, d *datadir.Dir, unsealed, insecure bool) *env {
	t.Helper()
	c := &clock{}
	accts := &account.Accounts{Store: d.Store, Vault: d.Vault, Salt: d.Config.ReceiptSalt, NameParams: fast, LoginParams: fast, Now: c.Now, Audit: d.Intake.Audit}
	s := &account.Sessions{Accounts: accts, Now: c.Now, Insecure: insecure}
	accts.OnChange = s.LogoutAccount
	d.Vault.OnSeal(s.DropAll)
	if unsealed {
		must(t, d.Vault.Unseal([]byte(vaultPass)))
	}
	tokens := &auth.Tokens{Store: d.Store, Vault: d.Vault, Audit: d.Intake.Audit}
	srv := &staffweb.Server{Sessions: s, Vault: d.Vault, Inbox: d.Intake, Tokens: tokens, Cases: d.Cases,
		Evidence: d.Evidence, Bundle: d.Bundle,
		Audit: &audit.Trail{Store: d.Store, Vault: d.Vault},
		Status: func(ctx context.Context) (staffweb.Status, error) {
			return staffweb.Status{TreeSize: 12345, Checkpoint: -1}, nil
		}}
	return &env{d: d, clock: c, accounts: accts, sessions: s, srv: srv, h: srv.Handler()}
}

// account creates an account (the vault must be unsealed for the role to
// be readable later; creation itself works sealed).
func (e *env) account(t testing.TB, name string, role vigil.Role, lang, pass string) account.Account {
	t.Helper()
	a, err := e.accounts.Create(context.Background(), "cli", name, role, lang, []byte(pass))
	must(t, err)
	return a
}

// submit stores a submission with files.
func (e *env) submit(t testing.TB, text string, files map[string][]byte) vigil.ID {
	t.Helper()
	ctx := context.Background()
	var pend []*evidence.Pending
	for name, content := range files {
		p, err := e.d.Evidence.Stage(ctx, bytes.NewReader(content), name, "")
		must(t, err)
		pend = append(pend, p)
	}
	_, id, err := e.d.Intake.Submit(ctx, intake.Draft{Text: text, Language: "ru"}, pend)
	must(t, err)
	return id
}

// client is a browser-like HTTP client of a test server: a cookie jar, no
// automatic redirects, the same Origin on every POST.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
	csrf string
	// origin is sent on POSTs; "" sends none.
	origin string
}

func (e *env) serve(t testing.TB) string {
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func newClient(t testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, origin: base, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status int
	loc    string
	body   string
	header http.Header
}

var csrfMeta = regexp.MustCompile(`<meta name="vigil-csrf" content="([^"]+)">`)

func (c *client) do(req *http.Request) resp {
	c.t.Helper()
	r, err := c.hc.Do(req)
	must(c.t, err)
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if m := csrfMeta.FindSubmatch(b); m != nil {
		c.csrf = html.UnescapeString(string(m[1]))
	}
	return resp{r.StatusCode, r.Header.Get("Location"), string(b), r.Header}
}

func (c *client) get(path string) resp {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

// post sends a form; the CSRF field is added when withCSRF is set.
func (c *client) post(path string, form url.Values, withCSRF bool) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if withCSRF {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	return c.do(req)
}

var secretText = regexp.MustCompile(`<code id="totp-secret" class="secret">([A-Z2-7 ]+)</code>`)

// secretFrom reads the TOTP secret off the enrolment page.
func secretFrom(t testing.TB, page string) []byte {
	t.Helper()
	m := secretText.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no TOTP secret on the page:\n%s", page)
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	must(t, err)
	return b
}

// signIn signs c in as name with TOTP, enrolling it first if needed, and
// returns the TOTP secret.
func (e *env) signIn(t testing.TB, c *client, name, pass string, secret []byte) []byte {
	t.Helper()
	r := c.post("/signin", url.Values{"name": {name}, "passphrase": {pass}}, false)
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	e.clock.Add(31 * time.Second)
	if strings.HasPrefix(r.loc, "/signin/enrol") {
		page := c.get(r.loc)
		secret = secretFrom(t, page.body)
		r = c.post("/signin/enrol/totp", url.Values{"code": {account.TOTPCode(secret, e.clock.Now())}}, false)
	} else {
		r = c.post("/signin/totp", url.Values{"code": {account.TOTPCode(secret, e.clock.Now())}}, false)
	}
	if r.status != http.StatusSeeOther || strings.HasPrefix(r.loc, "/signin") {
		t.Fatalf("second factor: %d %s %s", r.status, r.loc, r.body)
	}
	c.get("/vault") // picks up the CSRF token
	return secret
}

// pngBytes is a 4×4 PNG.
func pngBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var b bytes.Buffer
	must(t, png.Encode(&b, img))
	return b.Bytes()
}

// totpNow moves e's clock to the next TOTP step and returns its code.
func totpNow(e *env, secret []byte) string {
	e.clock.Add(30 * time.Second)
	return account.TOTPCode(secret, e.clock.Now())
}
