package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/web"
)

const pass = "web test passphrase"

func openDir(t *testing.T) *datadir.Dir {
	t.Helper()
	return datadirtest.Open(t, pass)
}

func handler(d *datadir.Dir, opt web.Options) http.Handler {
	return web.NewPublic(d, web.Keys{Origin: d.Config.Origin, LogVKey: d.Config.LogVKey, AgeRecipient: d.Config.Recipient}, d.Intake, opt)
}

func server(t *testing.T, d *datadir.Dir, opt web.Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler(d, opt))
	t.Cleanup(srv.Close)
	return srv
}

// state is what must not change when a request is refused.
type state struct {
	tree  int64
	blobs int
}

func snapshot(t *testing.T, d *datadir.Dir) state {
	t.Helper()
	var s state
	err := d.Store.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		s.tree, err = tx.TreeSize()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Blobs.List(context.Background(), func(string) error { s.blobs++; return nil }); err != nil {
		t.Fatal(err)
	}
	return s
}

// A formPart is a field (file == false) or a file part.
type formPart struct {
	name, filename, content string
	file                    bool
}

func field(name, value string) formPart { return formPart{name: name, content: value} }
func file(name, content string) formPart {
	return formPart{name: "files", filename: name, content: content, file: true}
}

// multipartBody writes parts; file names are written raw (quotes escaped
// only), so hostile names reach the server as given.
func multipartBody(parts ...formPart) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := make(textproto.MIMEHeader)
		if p.file {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="%s"`, p.name, strings.ReplaceAll(p.filename, `"`, `\"`)))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, _ := mw.CreatePart(h)
		io.WriteString(w, p.content)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func post(t *testing.T, c *http.Client, u string, body io.Reader, ctype string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return do(t, c, req)
}

var receiptRE = regexp.MustCompile(`<strong id="receipt"[^>]*>([0-9 ]+)</strong>`)

func receiptOf(t *testing.T, body string) string {
	t.Helper()
	m := receiptRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no receipt element in:\n%s", body)
	}
	return m[1]
}

// catalogKeyRE matches a message key that leaked into a page untranslated.
var catalogKeyRE = regexp.MustCompile(`\b(index|submit|receipt|followup|thread|error|nav|footer|limit|size|langname|site|lang|verify|time|month)\.[a-z_]+(\.[a-z0-9_]+)*\b`)

func checkHeaders(t *testing.T, what string, resp *http.Response, cookieOK bool) {
	t.Helper()
	h := resp.Header
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if !cookieOK && len(h.Values("Set-Cookie")) > 0 {
		t.Errorf("%s sets a cookie: %q", what, h.Values("Set-Cookie"))
	}
}

func TestPagesRender(t *testing.T) {
	d := openDir(t)
	srv := server(t, d, web.Options{})
	for _, tc := range []struct{ lang, title, htmlLang string }{
		{"en", "Tell us what happened, safely", "en"},
		{"ru", "Расскажите, что произошло, — безопасно", "ru"},
	} {
		for _, path := range []string{"/", "/submit", "/followup", "/nope"} {
			t.Run(tc.lang+path, func(t *testing.T) {
				resp, body := get(t, nil, srv.URL+path+"?lang="+tc.lang)
				wantStatus := 200
				if path == "/nope" {
					wantStatus = 404
				}
				if resp.StatusCode != wantStatus {
					t.Fatalf("status %d", resp.StatusCode)
				}
				checkHeaders(t, path, resp, false)
				if !strings.Contains(body, `<html lang="`+tc.htmlLang+`">`) {
					t.Errorf("no lang attribute %q", tc.htmlLang)
				}
				if strings.Contains(body, "<script") {
					t.Error("page has a script element")
				}
				if m := catalogKeyRE.FindString(body); m != "" {
					t.Errorf("untranslated key %q", m)
				}
				// The language switch keeps the page.
				for _, l := range []string{"en", "ru"} {
					if l != tc.lang && !strings.Contains(body, `href="`+path+`?lang=`+l+`"`) && path != "/nope" {
						t.Errorf("no switch link to %s?lang=%s", path, l)
					}
				}
				if path == "/" && !strings.Contains(body, tc.title) {
					t.Errorf("title %q missing", tc.title)
				}
				// The verification links live on the verifiers' page.
				if !strings.Contains(body, `href="/verify?lang=`+tc.lang+`"`) {
					t.Errorf("no link to /verify?lang=%s", tc.lang)
				}
				if path == "/submit" {
					for _, s := range []string{`enctype="multipart/form-data"`, `method="post"`, `name="text"`, `name="language"`, `name="contact"`, `type="file"`, `name="files" multiple`, `type="hidden" name="lang" value="` + tc.lang + `"`, `<label for="text">`} {
						if !strings.Contains(body, s) {
							t.Errorf("form lacks %s", s)
						}
					}
				}
			})
		}
	}
	t.Run("accept-language", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Header.Set("Accept-Language", "de-DE,ru;q=0.8,en;q=0.5")
		_, body := do(t, nil, req)
		if !strings.Contains(body, `<html lang="ru">`) {
			t.Error("Accept-Language ru not honoured")
		}
		req.Header.Set("Accept-Language", "fr")
		_, body = do(t, nil, req)
		if !strings.Contains(body, `<html lang="en">`) {
			t.Error("fallback is not English")
		}
	})
	t.Run("instance", func(t *testing.T) {
		srv := server(t, d, web.Options{Instance: web.Instance{Name: map[string]string{"en": "Crimea Watch", "ru": "Крым: мониторинг"},
			About: map[string]string{"en": "Run by <Memorial>."}}})
		_, body := get(t, nil, srv.URL+"/?lang=ru")
		if !strings.Contains(body, "Крым: мониторинг") || !strings.Contains(body, "Run by &lt;Memorial&gt;.") {
			t.Errorf("instance texts missing or not escaped:\n%s", body)
		}
	})
	t.Run("style", func(t *testing.T) {
		resp, body := get(t, nil, srv.URL+"/static/style.css")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || len(body) < 100 {
			t.Fatalf("style.css: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if strings.Contains(body, "url(") || strings.Contains(body, "@import") {
			t.Error("style sheet loads something")
		}
	})
}

// The whole round through the pages: submit text and two files, come back
// with the receipt, read a staff reply, answer with a file, staff read it.
func TestSubmitFollowupRound(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	srv := server(t, d, web.Options{})
	body, ctype := multipartBody(field("lang", "ru"), field("text", "Меня задержали 3 марта у метро."), field("language", "ru"),
		field("contact", ""), file("фото.jpg", "\xff\xd8\xff jpeg bytes"), file("список.txt", "имена"))
	resp, page := post(t, nil, srv.URL+"/submit?lang=ru", body, ctype)
	if resp.StatusCode != 200 {
		t.Fatalf("submit: %d\n%s", resp.StatusCode, page)
	}
	checkHeaders(t, "POST /submit", resp, false)
	receipt := receiptOf(t, page)
	if !strings.Contains(page, "Как хранить квитанцию") || !strings.Contains(page, `<html lang="ru">`) {
		t.Errorf("receipt page not in Russian:\n%s", page)
	}
	src, err := d.Intake.OpenReceipt(ctx, []byte(receipt))
	if err != nil {
		t.Fatalf("OpenReceipt(%q): %v", receipt, err)
	}
	v, err := d.Intake.SourceView(ctx, src)
	if err != nil || v.Text != "Меня задержали 3 марта у метро." || v.Language != "ru" || len(v.Files) != 2 || v.Files[0].Name != "фото.jpg" {
		t.Fatalf("stored submission: %+v, %v", v, err)
	}

	// Staff reply, through the service (the API's path), unsealed.
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Intake.Reply(ctx, staffP, src.Submission, "Где именно? <script>alert(1)</script>"); err != nil {
		t.Fatal(err)
	}
	d.Vault.Seal() // the source's side works sealed

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := url.Values{"receipt": {strings.ReplaceAll(receipt, " ", "-")}, "lang": {"ru"}}
	resp, page = post(t, c, srv.URL+"/followup", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/followup/thread" {
		t.Fatalf("login: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	checkHeaders(t, "thread", resp, true)
	for _, s := range []string{"Меня задержали 3 марта у метро.", "фото.jpg", "список.txt", "Наша команда",
		"Где именно? &lt;script&gt;alert(1)&lt;/script&gt;", `name="csrf"`, `action="/followup/reply?lang=ru"`, `action="/followup/logout?lang=ru"`} {
		if !strings.Contains(page, s) {
			t.Errorf("thread lacks %q", s)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("staff text rendered as HTML")
	}
	// The cookie: HttpOnly, SameSite=Strict, Path=/followup, not Secure over plain HTTP.
	setCookie := ""
	{
		jar2, _ := cookiejar.New(nil)
		c2 := &http.Client{Jar: jar2, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r2, _ := post(t, c2, srv.URL+"/followup", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		setCookie = r2.Header.Get("Set-Cookie")
		if r2.StatusCode != http.StatusSeeOther {
			t.Errorf("login status %d, want 303", r2.StatusCode)
		}
	}
	for _, s := range []string{"vigil_followup=", "Path=/followup", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(setCookie, s) {
			t.Errorf("cookie %q lacks %s", setCookie, s)
		}
	}
	// That second login ended the first session (one per submission): log in again.
	resp, page = post(t, c, srv.URL+"/followup", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/followup/thread" {
		t.Fatalf("login again: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]

	// Answer with a file.
	body, ctype = multipartBody(field("csrf", csrf), field("lang", "ru"), field("text", "У выхода №2. <b>жирный</b>"), file("видео.mp4", "video"))
	resp, page = post(t, c, srv.URL+"/followup/reply?lang=ru", body, ctype)
	if resp.StatusCode != 200 || !strings.Contains(page, "Ваше сообщение отправлено.") || !strings.Contains(page, "У выхода №2. &lt;b&gt;жирный&lt;/b&gt;") || !strings.Contains(page, "видео.mp4") {
		t.Fatalf("reply: %d\n%s", resp.StatusCode, page)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	sv, err := d.Intake.Get(ctx, staffP, src.Submission)
	if err != nil {
		t.Fatal(err)
	}
	if len(sv.Messages) != 2 || sv.Messages[0].From != "staff" || sv.Messages[1].From != "source" || sv.Messages[1].Text != "У выхода №2. <b>жирный</b>" || len(sv.Messages[1].Files) != 1 {
		t.Fatalf("staff view: %+v", sv.Messages)
	}

	// Leave: the session is gone.
	lf := url.Values{"csrf": {csrf}}
	resp, page = post(t, c, srv.URL+"/followup/logout?lang=ru", strings.NewReader(lf.Encode()), "application/x-www-form-urlencoded")
	if resp.Request.URL.Path != "/followup" || !strings.Contains(page, "Вы вышли.") {
		t.Fatalf("logout: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, _ = get(t, c, srv.URL+"/followup/thread")
	if resp.Request.URL.Path != "/followup" {
		t.Fatalf("thread after logout: at %s", resp.Request.URL)
	}
}

func TestSessionExpires(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := server(t, d, web.Options{Now: clock})
	receipt, _, err := d.Intake.Submit(ctx, intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := url.Values{"receipt": {string(receipt)}}
	resp, _ := post(t, c, srv.URL+"/followup", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if resp.Request.URL.Path != "/followup/thread" {
		t.Fatalf("login failed: at %s", resp.Request.URL)
	}
	mu.Lock()
	now = now.Add(20 * time.Minute)
	mu.Unlock()
	if resp, _ := get(t, c, srv.URL+"/followup/thread"); resp.Request.URL.Path != "/followup/thread" {
		t.Fatal("session ended before its idle time")
	}
	mu.Lock()
	now = now.Add(31 * time.Minute)
	mu.Unlock()
	resp, page := get(t, c, srv.URL+"/followup/thread?lang=en")
	if resp.Request.URL.Path != "/followup" || !strings.Contains(page, "Your session has ended.") {
		t.Fatalf("expired session: at %s", resp.Request.URL)
	}
}

// A small instance so that caps are cheap to cross.
func smallDir(t *testing.T) *datadir.Dir {
	d := openDir(t)
	d.Intake.Config.MaxText = 4096
	d.Intake.Config.MaxFiles = 3
	d.Intake.Config.MaxTotal = 256 << 10
	return d
}

// tripReader fails the test if more than limit bytes are read.
type tripReader struct {
	t     *testing.T
	n     int
	limit int
}

func (r *tripReader) Read(b []byte) (int, error) {
	if r.n+len(b) > r.limit {
		b = b[:r.limit-r.n]
		if len(b) == 0 {
			r.t.Errorf("body read beyond %d bytes", r.limit)
			return 0, errors.New("read too far")
		}
	}
	for i := range b {
		b[i] = 'a'
	}
	r.n += len(b)
	return len(b), nil
}

func TestOverCapRefusedBeforeReading(t *testing.T) {
	d := smallDir(t)
	h := handler(d, web.Options{})
	before := snapshot(t, d)
	for _, path := range []string{"/submit?lang=ru", "/followup/reply?lang=ru"} {
		body := &tripReader{t: t, limit: 4 << 10}
		req := httptest.NewRequest("POST", path, body)
		req.ContentLength = 5 << 30
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		want := http.StatusRequestEntityTooLarge
		if path != "/submit?lang=ru" {
			want = http.StatusSeeOther // no session: sent back to the receipt form, body unread
		}
		if rec.Code != want {
			t.Errorf("%s: status %d, want %d", path, rec.Code, want)
		}
		if body.n > 0 {
			t.Errorf("%s: read %d bytes of an over-cap body", path, body.n)
		}
		if want == 413 && !strings.Contains(rec.Body.String(), "Слишком большой объём") {
			t.Errorf("%s: no Russian explanation:\n%s", path, rec.Body)
		}
	}
	// Over the wire with Expect: 100-continue the client never sends the body.
	srv := server(t, d, web.Options{})
	body := &tripReader{t: t, limit: 4 << 10}
	req, _ := http.NewRequest("POST", srv.URL+"/submit", io.NopCloser(body))
	req.ContentLength = 1 << 30
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	req.Header.Set("Expect", "100-continue")
	tr := &http.Transport{ExpectContinueTimeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || body.n > 0 {
		t.Errorf("over the wire: status %d, %d bytes read", resp.StatusCode, body.n)
	}
	if after := snapshot(t, d); after != before {
		t.Errorf("state changed: %+v → %+v", before, after)
	}
}

func TestHostileSubmissions(t *testing.T) {
	d := smallDir(t)
	srv := server(t, d, web.Options{})
	big := strings.Repeat("x", 200<<10)
	type tc struct {
		name   string
		body   func() (io.Reader, string)
		status int
		says   string
	}
	parts := func(ps ...formPart) func() (io.Reader, string) {
		return func() (io.Reader, string) { b, ct := multipartBody(ps...); return b, ct }
	}
	truncated := func() (io.Reader, string) {
		b, ct := multipartBody(field("text", "ok"), file("a.txt", strings.Repeat("y", 10000)), file("b.txt", "z"))
		return bytes.NewReader(b.Bytes()[:b.Len()/2]), ct
	}
	chunkedOverCap := func() (io.Reader, string) {
		// No Content-Length (a pipe), more than the body cap.
		b, ct := multipartBody(field("text", "ok"), file("a.bin", strings.Repeat("q", 600<<10)))
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(func() error { _, err := pw.Write(b.Bytes()); return err }()) }()
		return pr, ct
	}
	for _, c := range []tc{
		{"files over total", parts(field("text", "ok"), file("a.bin", big), file("b.bin", big)), 413, "too large"},
		{"body over cap, chunked", chunkedOverCap, 413, "too large"},
		{"text over cap", parts(field("text", strings.Repeat("ж", 3000))), 413, "too large"},
		{"too many files", parts(field("text", "ok"), file("1.txt", "1"), file("2.txt", "2"), file("3.txt", "3"), file("4.txt", "4")), 413, "Too many files: at most 3"},
		{"truncated multipart", truncated, 400, "interrupted or arrived incomplete"},
		{"dot-dot name", parts(field("text", "ok"), file("a.txt", "a"), file("../../etc/passwd", "x")), 400, "file name contains"},
		{"slash name", parts(field("text", "ok"), file("dir/a.txt", "x")), 400, "file name contains"},
		{"backslash name", parts(field("text", "ok"), file(`..\..\a.txt`, "x")), 400, "file name contains"},
		{"control char name", parts(field("text", "ok"), file("a\x01b.txt", "x")), 400, "file name contains"},
		{"tab in name", parts(field("text", "ok"), file("a\tb.txt", "x")), 400, "file name contains"},
		{"bidi override name", parts(field("text", "ok"), file("photo\u202egpj.exe", "x")), 400, "file name contains"},
		{"invalid UTF-8 text", parts(field("text", "ok \xff\xfe")), 400, "in a form we cannot read"},
		{"invalid UTF-8 contact", parts(field("text", "ok"), field("contact", "\xc3\x28")), 400, "in a form we cannot read"},
		{"invalid UTF-8 name", parts(field("text", "ok"), file("a\xff.txt", "x")), 400, "file name contains"},
		{"empty submission", parts(field("text", "  \r\n "), field("language", ""), field("contact", "")), 400, "Your testimony is empty"},
		{"empty with empty file input", parts(field("text", ""), formPart{name: "files", file: true}), 400, "Your testimony is empty"},
		{"unknown field", parts(field("text", "ok"), field("evil", "x")), 400, "form could not be read"},
		{"unknown language", parts(field("text", "ok"), field("language", "xx-evil")), 400, "form could not be read"},
		{"not multipart", func() (io.Reader, string) { return strings.NewReader("text=hi"), "application/x-www-form-urlencoded" }, 400, "form could not be read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, d)
			b, ct := c.body()
			resp, page := post(t, nil, srv.URL+"/submit?lang=en", b, ct)
			if resp.StatusCode != c.status || !strings.Contains(page, c.says) {
				t.Errorf("status %d, want %d with %q:\n%s", resp.StatusCode, c.status, c.says, page)
			}
			if !strings.Contains(c.says, "empty") && !strings.Contains(page, "Nothing was stored") {
				t.Error("page does not say nothing was stored")
			}
			checkHeaders(t, c.name, resp, false)
			if after := snapshot(t, d); after != before {
				t.Errorf("state changed: %+v → %+v", before, after)
			}
		})
	}
	// Russian error page.
	b, ct := multipartBody(field("lang", "ru"), field("text", ""))
	resp, page := post(t, nil, srv.URL+"/submit", b, ct)
	if resp.StatusCode != 400 || !strings.Contains(page, "Свидетельство пустое.") {
		t.Errorf("Russian empty page: %d\n%s", resp.StatusCode, page)
	}
}

// HTML in every field a source controls is inert wherever it is shown.
func TestScriptInert(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	srv := server(t, d, web.Options{})
	payload := `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	b, ct := multipartBody(field("text", payload), field("contact", payload), file(`<img src=x onerror=alert(3)>.jpg`, "x"))
	resp, page := post(t, nil, srv.URL+"/submit", b, ct)
	if resp.StatusCode != 200 {
		t.Fatalf("submit: %d\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<img") {
		t.Error("receipt page echoes markup")
	}
	receipt := receiptOf(t, page)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, page = post(t, c, srv.URL+"/followup", strings.NewReader(url.Values{"receipt": {receipt}}.Encode()), "application/x-www-form-urlencoded")
	if resp.Request.URL.Path != "/followup/thread" {
		t.Fatal("login failed")
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<img") {
		t.Errorf("thread renders markup:\n%s", page)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(page, "&lt;img src=x onerror=alert(3)&gt;.jpg") {
		t.Errorf("payload not shown escaped:\n%s", page)
	}
	src, err := d.Intake.OpenReceipt(ctx, []byte(receipt))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Intake.SourceView(ctx, src); v.Text != payload {
		t.Errorf("stored text changed: %q", v.Text)
	}
}

func TestReplyCSRFAndCaps(t *testing.T) {
	ctx := context.Background()
	d := smallDir(t)
	srv := server(t, d, web.Options{})
	receipt, _, err := d.Intake.Submit(ctx, intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	_, page := post(t, c, srv.URL+"/followup", strings.NewReader(url.Values{"receipt": {string(receipt)}}.Encode()), "application/x-www-form-urlencoded")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	for _, tc := range []struct {
		name   string
		parts  []formPart
		status int
	}{
		{"no token", []formPart{field("text", "hi")}, 403},
		{"wrong token", []formPart{field("csrf", strings.Repeat("A", 43)), field("text", "hi")}, 403},
		{"file before token", []formPart{file("a.txt", "a"), field("csrf", csrf), field("text", "hi")}, 403},
		{"too many files", []formPart{field("csrf", csrf), file("1", "1"), file("2", "2"), file("3", "3"), file("4", "4")}, 413},
		{"bad name", []formPart{field("csrf", csrf), file("../x", "1")}, 400},
		{"empty", []formPart{field("csrf", csrf), field("text", " ")}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, d)
			b, ct := multipartBody(tc.parts...)
			resp, page := post(t, c, srv.URL+"/followup/reply", b, ct)
			if resp.StatusCode != tc.status || tc.name != "empty" && !strings.Contains(page, "Nothing was stored") {
				t.Errorf("status %d, want %d:\n%s", resp.StatusCode, tc.status, page)
			}
			if after := snapshot(t, d); after != before {
				t.Errorf("state changed: %+v → %+v", before, after)
			}
		})
	}
	// Without a session the reply goes nowhere.
	before := snapshot(t, d)
	b, ct := multipartBody(field("csrf", csrf), field("text", "hi"))
	noJar := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, _ := post(t, noJar, srv.URL+"/followup/reply", b, ct); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reply without session: %d", resp.StatusCode)
	}
	if after := snapshot(t, d); after != before {
		t.Errorf("state changed: %+v → %+v", before, after)
	}
}

func TestReceiptStorm(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	receipt, _, err := d.Intake.Submit(ctx, intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := handler(d, web.Options{})
	try := func(addr, receipt, lang string) *httptest.ResponseRecorder {
		form := url.Values{"receipt": {receipt}, "lang": {lang}}
		req := httptest.NewRequest("POST", "/followup", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	wrong := []string{"abc", "1234", "0000 0000 0000 0000 0000 0000 0000", "1111-2222-3333-4444-5555-6666-7777", "", strings.Repeat("9", 28), "<script>", "1234 5678 9012 3456 7890 1234 567x"}
	var first string
	for i := 0; i < 10; i++ {
		rec := try("192.0.2.7:4000", wrong[i%len(wrong)], "ru")
		if rec.Code != 403 {
			t.Fatalf("attempt %d: status %d, want 403", i, rec.Code)
		}
		if first == "" {
			first = rec.Body.String()
			if !strings.Contains(first, "По этой квитанции ничего не найдено.") {
				t.Fatalf("uniform answer not in Russian:\n%s", first)
			}
		} else if rec.Body.String() != first {
			t.Fatalf("attempt %d (%q): answer differs from the first", i, wrong[i%len(wrong)])
		}
		if len(rec.Header().Values("Set-Cookie")) > 0 {
			t.Fatal("a failed attempt sets a cookie")
		}
	}
	rec := try("192.0.2.7:4001", wrong[0], "ru")
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "Слишком много попыток") {
		t.Fatalf("11th attempt: %d Retry-After %q\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	// The limit is checked before the receipt (issue 9, finding 9): a
	// client over its budget waits even with the right receipt.
	if rec := try("192.0.2.7:4002", string(receipt), "en"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right receipt while limited: %d, want 429", rec.Code)
	}
	// Cross-site logins (a page elsewhere posting its own receipt to swap a
	// source's session) are refused.
	req := httptest.NewRequest("POST", "/followup", strings.NewReader(url.Values{"receipt": {string(receipt)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	xs := httptest.NewRecorder()
	h.ServeHTTP(xs, req)
	if xs.Code != http.StatusForbidden || len(xs.Header().Values("Set-Cookie")) > 0 {
		t.Fatalf("cross-site login: %d %v", xs.Code, xs.Header().Values("Set-Cookie"))
	}
	if rec := try("198.51.100.1:4000", string(receipt), "en"); rec.Code != http.StatusSeeOther {
		t.Fatalf("other address: %d", rec.Code)
	}
	// IPv6 addresses in one /64 share a bucket.
	for i := range 10 {
		try(fmt.Sprintf("[2001:db8::%x]:1", i+1), "x", "en")
	}
	if rec := try("[2001:db8::ffff]:1", "x", "en"); rec.Code != 429 {
		t.Fatalf("IPv6 /64 not limited together: %d", rec.Code)
	}

	// The global bucket limits failures from many addresses; successes give
	// their token back.
	h = handler(d, web.Options{GlobalLimit: ratelimitConfig(3)})
	for i := range 3 {
		if rec := try(fmt.Sprintf("203.0.113.%d:1", i), "x", "en"); rec.Code != 403 {
			t.Fatalf("global %d: %d", i, rec.Code)
		}
	}
	if rec := try("203.0.113.99:1", "x", "en"); rec.Code != 429 || !strings.Contains(rec.Body.String(), "too many attempts") {
		t.Fatalf("global limit: %d", rec.Code)
	}
}

// One receipt cannot fill the session table: a new login of the same
// submission replaces the old session, and a full table drops the least
// recently used one instead of refusing.
func TestSessionsBounded(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	h := handler(d, web.Options{})
	login := func(receipt string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/followup", strings.NewReader(url.Values{"receipt": {receipt}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	thread := func(cookie string) int {
		req := httptest.NewRequest("GET", "/followup/thread", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	cookieOf := func(rec *httptest.ResponseRecorder) string {
		for _, c := range rec.Result().Cookies() {
			if c.Name == "vigil_followup" {
				return c.Name + "=" + c.Value
			}
		}
		t.Fatal("no session cookie")
		return ""
	}
	r1, _, _ := d.Intake.Submit(ctx, intake.Draft{Text: "one"}, nil)
	r2, _, _ := d.Intake.Submit(ctx, intake.Draft{Text: "two"}, nil)
	first := cookieOf(login(string(r1)))
	other := cookieOf(login(string(r2)))
	var last string
	for range 50 {
		last = cookieOf(login(string(r1)))
	}
	if thread(first) == http.StatusOK {
		t.Error("an older session of the same submission still works")
	}
	if thread(last) != http.StatusOK || thread(other) != http.StatusOK {
		t.Error("the newest session, or another submission's, was dropped")
	}
}

// With request logging on, a line has method, path and status and nothing
// about the client: no address, query, user agent, referrer or receipt.
func TestRequestLog(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	srv := server(t, d, web.Options{RequestLog: logger})
	receipt, _, err := d.Intake.Submit(ctx, intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const ua, ref, xff = "Canary-UA/7.7", "http://canary-referrer.example/", "203.0.113.77"
	send := func(method, u string, body io.Reader, ctype string) {
		req, _ := http.NewRequest(method, u, body)
		req.Header.Set("User-Agent", ua)
		req.Header.Set("Referer", ref)
		req.Header.Set("X-Forwarded-For", xff)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		do(t, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, req)
	}
	send("GET", srv.URL+"/?lang=ru&canary=q1", nil, "")
	send("GET", srv.URL+"/followup?lang=ru&canary=q2", nil, "")
	send("POST", srv.URL+"/followup?canary=q3", strings.NewReader(url.Values{"receipt": {string(receipt)}}.Encode()), "application/x-www-form-urlencoded")
	b, ct := multipartBody(field("text", "hello"))
	send("POST", srv.URL+"/submit?lang=en", b, ct)
	// The receipt page and the login's answer are written straight to the
	// connection before their handlers return and log: wait for the lines.
	var out string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		out = buf.String()
		mu.Unlock()
		if strings.Count(out, "\n") >= 4 || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{"method=GET path=/ status=200", "path=/followup status=200", "method=POST path=/followup status=303", "method=POST path=/submit status=200"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	digits := strings.ReplaceAll(string(receipt), " ", "")
	for _, bad := range []string{"canary", "lang=", ua, "Canary", ref, xff, "127.0.0.1", string(receipt), digits[:8], "?"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// Over TLS the session cookie is Secure.
func TestCookieSecureOverTLS(t *testing.T) {
	d := openDir(t)
	receipt, _, err := d.Intake.Submit(context.Background(), intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := handler(d, web.Options{})
	req := httptest.NewRequest("POST", "https://vigil.example/followup", strings.NewReader(url.Values{"receipt": {string(receipt)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if c := rec.Header().Get("Set-Cookie"); rec.Code != http.StatusSeeOther || !strings.Contains(c, "; Secure") {
		t.Fatalf("TLS login: %d, cookie %q", rec.Code, c)
	}
}

// An upload that stops sending is dropped after the stall time, and what it
// had staged is discarded.
func TestUploadStall(t *testing.T) {
	d := openDir(t)
	srv := server(t, d, web.Options{UploadStall: 300 * time.Millisecond})
	before := snapshot(t, d)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.bin\"\r\n\r\n" + strings.Repeat("x", 70000)
	fmt.Fprintf(conn, "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n%s", body)
	// Send nothing more: the server must give up on its own.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	resp, _ := io.ReadAll(conn)
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("connection held %v after the upload stalled", waited)
	}
	if strings.Contains(string(resp), `id="receipt"`) {
		t.Fatal("a stalled upload got a receipt")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if after := snapshot(t, d); after == before {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a stalled upload left %+v (before %+v)", after, before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// staffP is the investigator the tests act as.
var staffP = vigil.Principal{Actor: "staff", Account: "staff", Role: vigil.RoleInvestigator}
