package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/ratelimit"
	"github.com/vigil-hr/vigil/web"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// twoServers opens two data directories with the same configuration and
// keys on one new PostgreSQL database (blobs stay local: the tests submit
// text only), as two vigil serve processes of one deployment do.
func twoServers(t *testing.T) (a, b *datadir.Dir, dbURL string) {
	t.Helper()
	dbURL = pgtest.URL(t)
	dirA := filepath.Join(t.TempDir(), "a")
	if _, err := datadir.Init(dirA, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	dirB := filepath.Join(t.TempDir(), "b")
	if err := os.Mkdir(dirB, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"vigil.json", "keys.age"} {
		b, err := os.ReadFile(filepath.Join(dirA, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dirB, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	open := func(dir string) *datadir.Dir {
		d, err := datadir.OpenWith(context.Background(), dir, datadir.Backends{Store: dbURL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	return open(dirA), open(dirB), dbURL
}

// shared clock for both servers.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// call sends one request to h with the session cookie (if any) from addr.
func call(h http.Handler, method, target, cookie, addr string, body io.Reader, ctype string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "vigil_followup", Value: cookie})
	}
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// loginOn logs in on h with receipt and returns the session cookie.
func loginOn(t *testing.T, h http.Handler, receipt string) string {
	t.Helper()
	rec := call(h, "POST", "/followup", "", "192.0.2.1:1", strings.NewReader(url.Values{"receipt": {receipt}}.Encode()), "application/x-www-form-urlencoded")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/followup/thread") {
		t.Fatalf("login: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "vigil_followup" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatal("login set no session cookie")
	return ""
}

// threadOn reads the thread on h: the page, or "" if the session has ended
// (a redirect to the receipt form saying so).
func threadOn(t *testing.T, h http.Handler, cookie string) string {
	t.Helper()
	rec := call(h, "GET", "/followup/thread", cookie, "192.0.2.1:1", nil, "")
	switch {
	case rec.Code == http.StatusOK:
		return rec.Body.String()
	case rec.Code == http.StatusSeeOther && strings.Contains(rec.Header().Get("Location"), "m=expired"):
		return ""
	}
	t.Fatalf("thread: %d to %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	return ""
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// A follow-up session made on server A works on server B with the same
// cookie (read, reply with A's CSRF token, leave); a new login of the same
// submission on either ends the old session on both; idle expiry and a seal
// end it on both; and the session table, read as a seizer would, holds
// neither the receipt, the cookie, the source's key material nor the
// thread, and no time finer than the intake precision.
func TestSharedSessionsTwoServers(t *testing.T) {
	ctx := context.Background()
	da, db, dbURL := twoServers(t)
	clk := &testClock{t: time.Date(2026, 3, 1, 10, 7, 13, 0, time.UTC)}
	opt := web.Options{Now: clk.Now, SessionIdle: 30 * time.Minute}
	var stopping atomic.Bool
	optA := opt
	optA.Stopping = stopping.Load
	ha, hb := handler(da, optA), handler(db, opt)

	const text = "shared session: detained near the river port"
	receipt, _, err := da.Intake.Submit(ctx, intake.Draft{Text: text}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cookie := loginOn(t, ha, string(receipt))
	page := threadOn(t, hb, cookie)
	if !strings.Contains(page, text) {
		t.Fatalf("B does not open A's session:\n%.1500s", page)
	}
	csrf := csrfRE.FindStringSubmatch(threadOn(t, ha, cookie))[1]
	body, ctype := multipartBody(field("csrf", csrf), field("text", "answer sent through B"))
	if rec := call(hb, "POST", "/followup/reply", cookie, "192.0.2.1:1", body, ctype); rec.Code != http.StatusSeeOther {
		t.Fatalf("reply on B with A's session: %d\n%s", rec.Code, rec.Body)
	}
	if page := threadOn(t, ha, cookie); !strings.Contains(page, "answer sent through B") {
		t.Fatal("A's thread lacks the answer sent on B")
	}

	// What a seizure of the database shows.
	src, err := da.Intake.OpenReceipt(ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := src.AppendExport(nil)
	if err != nil {
		t.Fatal(err)
	}
	src.Forget()
	cookieBytes, _ := base64.RawURLEncoding.DecodeString(cookie)
	secrets := map[string][]byte{
		"receipt": receipt, "receipt digits": []byte(strings.ReplaceAll(string(receipt), " ", "")),
		"cookie": []byte(cookie), "cookie bytes": cookieBytes, "source export": exp,
		"identity": exp[1+16+32:], "thread key": exp[1+16 : 1+16+32], "submission ID": exp[1 : 1+16],
		"text": []byte(text), "answer": []byte("answer sent through B"), "csrf token": []byte(csrf),
	}
	raw, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	dump := func() (rows [][]byte, expires []time.Time) {
		t.Helper()
		rs, err := raw.Query(ctx, `SELECT id, slot, sealed, expires FROM followup_sessions`)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id, slot, sealed []byte
			var e time.Time
			if err := rs.Scan(&id, &slot, &sealed, &e); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, bytes.Join([][]byte{id, slot, sealed, []byte(e.String())}, nil))
			expires = append(expires, e)
		}
		return rows, expires
	}
	rows, expires := dump()
	if len(rows) != 1 {
		t.Fatalf("the table holds %d rows, want 1", len(rows))
	}
	for name, s := range secrets {
		for _, r := range rows {
			if bytes.Contains(r, s) {
				t.Errorf("a session row holds the %s", name)
			}
		}
	}
	precision := da.Intake.Config.WithDefaults().TimePrecision
	for _, e := range expires {
		if !e.Equal(e.Truncate(precision)) || !e.After(clk.Now().Add(30*time.Minute)) {
			t.Errorf("row expiry %v: not on the %v grid past the idle time", e, precision)
		}
	}
	// The row's name as a cookie opens nothing.
	var rowID []byte
	raw.QueryRow(ctx, `SELECT id FROM followup_sessions`).Scan(&rowID)
	if page := threadOn(t, hb, base64.RawURLEncoding.EncodeToString(rowID)); page != "" {
		t.Fatal("the row's stored name opened the session")
	}

	// A second login of the same submission, on B, ends the first on both.
	cookie2 := loginOn(t, hb, string(receipt))
	for name, h := range map[string]http.Handler{"A": ha, "B": hb} {
		if threadOn(t, h, cookie) != "" {
			t.Errorf("the replaced session still works on %s", name)
		}
	}
	if rows, _ := dump(); len(rows) != 1 {
		t.Fatalf("after a second login the table holds %d rows, want 1", len(rows))
	}
	// Use keeps it alive; idle time ends it on both.
	clk.Add(25 * time.Minute)
	if threadOn(t, ha, cookie2) == "" {
		t.Fatal("a session used 25 minutes ago has ended")
	}
	clk.Add(25 * time.Minute)
	if threadOn(t, hb, cookie2) == "" {
		t.Fatal("a session used 25 minutes ago has ended on the other server")
	}
	clk.Add(31 * time.Minute)
	if threadOn(t, ha, cookie2) != "" || threadOn(t, hb, cookie2) != "" {
		t.Fatal("an idle session still works")
	}
	// Across a slot window (an hour, from 11:28 to 12:10): a new login
	// still replaces the old row.
	cookie3 := loginOn(t, ha, string(receipt))
	clk.Add(22 * time.Minute)
	if threadOn(t, hb, cookie3) == "" {
		t.Fatal("a session used 22 minutes ago has ended")
	}
	clk.Add(20 * time.Minute)
	cookie4 := loginOn(t, hb, string(receipt))
	if rows, _ := dump(); len(rows) != 1 {
		t.Fatalf("after a login in the next hour the table holds %d rows, want 1", len(rows))
	}
	if threadOn(t, ha, cookie3) != "" {
		t.Fatal("a session of the previous hour survived a new login")
	}
	// Leaving on A ends the session on B.
	csrf = csrfRE.FindStringSubmatch(threadOn(t, hb, cookie4))[1]
	if rec := call(ha, "POST", "/followup/logout", cookie4, "192.0.2.1:1", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()), "application/x-www-form-urlencoded"); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout on A: %d", rec.Code)
	}
	if threadOn(t, hb, cookie4) != "" {
		t.Fatal("a session left on A still works on B")
	}

	// A stopping server seals only itself: B's sessions stay. A seal on A
	// deletes every row: B's sessions end too.
	cookie5 := loginOn(t, hb, string(receipt))
	stopping.Store(true)
	da.Vault.Seal()
	stopping.Store(false)
	if threadOn(t, hb, cookie5) == "" {
		t.Fatal("a server stopping ended another server's session")
	}
	if err := da.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	da.Vault.Seal()
	if rows, _ := dump(); len(rows) != 0 {
		t.Fatalf("after a seal the table holds %d rows", len(rows))
	}
	if threadOn(t, hb, cookie5) != "" {
		t.Fatal("a session survived a seal on the other server")
	}
}

// The receipt limits hold across two servers: failed attempts from one
// client split between A and B are limited as one (and so is the global
// limit), while without the shared secret each server keeps its own.
func TestSharedReceiptLimitTwoServers(t *testing.T) {
	ctx := context.Background()
	da, db, _ := twoServers(t)
	if _, _, err := da.Intake.Submit(ctx, intake.Draft{Text: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	wrong := url.Values{"receipt": {"1111 2222 3333 4444 5555 6666 7777"}}.Encode()
	attempts := func(opt web.Options, addrs ...string) (forbidden, limited int) {
		ha, hb := handler(da, opt), handler(db, opt)
		for i := range 8 {
			h := ha
			if i%2 == 1 {
				h = hb
			}
			switch code := call(h, "POST", "/followup", "", addrs[i%len(addrs)], strings.NewReader(wrong), "application/x-www-form-urlencoded").Code; code {
			case http.StatusForbidden:
				forbidden++
			case http.StatusTooManyRequests:
				limited++
			default:
				t.Fatalf("attempt %d: %d", i, code)
			}
		}
		return forbidden, limited
	}
	secret := bytes.Repeat([]byte{1}, 32)
	per := web.Options{ReceiptLimit: ratelimit.Config{Burst: 4, Every: time.Hour}, LimitSecret: secret}
	if f, l := attempts(per, "192.0.2.7:1"); f != 4 || l != 4 {
		t.Fatalf("one client on two servers: %d refused, %d limited; want 4 and 4", f, l)
	}
	global := web.Options{GlobalLimit: ratelimit.Config{Burst: 4, Every: time.Hour}, LimitSecret: bytes.Repeat([]byte{2}, 32)}
	if f, l := attempts(global, "192.0.2.8:1", "192.0.2.9:1", "198.51.100.1:1", "198.51.100.2:1"); f != 4 || l != 4 {
		t.Fatalf("four clients on two servers, global limit: %d refused, %d limited; want 4 and 4", f, l)
	}
	// Without the secret each server limits alone: twice the budget.
	alone := web.Options{ReceiptLimit: ratelimit.Config{Burst: 4, Every: time.Hour}}
	if f, l := attempts(alone, "192.0.2.10:1"); f != 8 || l != 0 {
		t.Fatalf("per-process limits: %d refused, %d limited; want 8 and 0", f, l)
	}
}
