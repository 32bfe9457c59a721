package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

const inboxPass = "api inbox test passphrase"

type inboxEnv struct {
	srv    *httptest.Server
	api    *api.Server
	d      *datadir.Dir
	tokens *auth.Tokens
	token  string // a valid admin token
	tokID  vigil.ID
}

// inboxSetup opens a real data directory (sealed) with one token and serves
// the API over it.
func inboxSetup(t *testing.T) *inboxEnv {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := datadir.Init(dir, []byte(inboxPass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	d, err := datadir.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ts := &auth.Tokens{Store: d.Store, Vault: d.Vault, Audit: d.Intake.Audit}
	secret, tok, err := ts.Create(context.Background(), "test", "analyst one", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	s := &api.Server{
		Vault:  d.Vault,
		Health: func(*http.Request) (api.Health, error) { return api.Health{}, nil },
		Tokens: ts,
		Inbox:  d.Intake,
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &inboxEnv{srv: srv, api: s, d: d, tokens: ts, token: secret, tokID: tok.ID}
}

type reply struct {
	code   int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %.200q: %v", r.body, err)
	}
	return m
}

func (r reply) errMsg(t *testing.T) string {
	t.Helper()
	s, _ := r.json(t)["error"].(string)
	return s
}

// inboxDo sends a request with the given bearer token (none if empty); POST
// bodies are sent as application/json.
func (e *inboxEnv) do(t *testing.T, method, path, token, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (e *inboxEnv) submit(t *testing.T, text string, files map[string][]byte) (intake.Receipt, vigil.ID) {
	t.Helper()
	ctx := context.Background()
	var pend []*evidence.Pending
	for name, content := range files {
		p, err := e.d.Evidence.Stage(ctx, bytes.NewReader(content), name, "")
		if err != nil {
			t.Fatal(err)
		}
		pend = append(pend, p)
	}
	r, id, err := e.d.Intake.Submit(ctx, intake.Draft{Text: text, Language: "ru", Contact: "Signal, evenings"}, pend)
	if err != nil {
		t.Fatal(err)
	}
	return r, id
}

func (e *inboxEnv) unseal(t *testing.T) {
	t.Helper()
	if err := e.d.Vault.Unseal([]byte(inboxPass)); err != nil {
		t.Fatal(err)
	}
}

// counts returns the number of audit records and the log's size.
func (e *inboxEnv) counts(t *testing.T) (audits, tree int64) {
	t.Helper()
	err := e.d.Store.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		if audits, err = tx.CountRecords(intake.KindAudit); err != nil {
			return err
		}
		tree, err = tx.TreeSize()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return audits, tree
}

func TestInboxUnauthorized(t *testing.T) {
	e := inboxSetup(t)
	e.unseal(t)
	_, sub := e.submit(t, "text", nil)
	revoked, rtok, err := e.tokens.Create(context.Background(), "test", "gone", auth.RoleIntake)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tokens.Revoke(context.Background(), "test", rtok.ID); err != nil {
		t.Fatal(err)
	}
	paths := []struct{ method, path, body string }{
		{"GET", "/api/v1/submissions", ""},
		{"GET", "/api/v1/submissions/" + sub.String(), ""},
		{"POST", "/api/v1/submissions/" + sub.String() + "/messages", `{"text":"hi"}`},
		{"POST", "/api/v1/submissions/" + sub.String() + "/state", `{"state":"rejected"}`},
		{"GET", "/api/v1/submissions/" + sub.String() + "/files/" + vigil.NewID().String(), ""},
	}
	audits0, tree0 := e.counts(t)
	for _, tok := range []struct{ desc, header string }{
		{"none", ""},
		{"wrong scheme", "Basic " + e.token},
		{"no scheme", e.token},
		{"malformed", "Bearer vgl_short"},
		{"unknown", "Bearer vgl_" + strings.Repeat("A", 43)},
		{"altered", "Bearer " + e.token[:len(e.token)-2] + "AA"},
		{"revoked", "Bearer " + revoked},
	} {
		for _, p := range paths {
			req, _ := http.NewRequest(p.method, e.srv.URL+p.path, strings.NewReader(p.body))
			req.Header.Set("Content-Type", "application/json")
			if tok.header != "" {
				req.Header.Set("Authorization", tok.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || strings.TrimSpace(string(b)) != `{"error":"missing or invalid token"}` ||
				!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %s %s: %d %s", tok.desc, p.method, p.path, resp.StatusCode, b)
			}
		}
	}
	if a, n := e.counts(t); a != audits0 || n != tree0 {
		t.Errorf("refused requests wrote audit records or log entries: %d→%d, %d→%d", audits0, a, tree0, n)
	}
	// Without a token: health, seal, the OpenAPI document; unseal needs the
	// passphrase instead.
	if r := e.do(t, "GET", "/api/v1/health", "", ""); r.code != 200 {
		t.Errorf("health: %d", r.code)
	}
	if r := e.do(t, "GET", "/api/v1/openapi.json", "", ""); r.code != 200 || r.json(t)["openapi"] != "3.1.0" {
		t.Errorf("openapi.json: %d %.100s", r.code, r.body)
	}
	if r := e.do(t, "POST", "/api/v1/seal", "", "{}"); r.code != 200 || !e.d.Vault.Sealed() {
		t.Errorf("seal: %d", r.code)
	}
	if r := e.do(t, "POST", "/api/v1/unseal", "", `{"passphrase":"`+inboxPass+`"}`); r.code != 200 || e.d.Vault.Sealed() {
		t.Errorf("unseal: %d", r.code)
	}
	if r := e.do(t, "GET", "/api/v1/submissions", e.token, ""); r.code != 200 {
		t.Errorf("valid token: %d %s", r.code, r.body)
	}
}

// While sealed, intake still takes submissions; every staff read answers
// 503 "vault sealed" (after the token was checked).
func TestInboxSealed(t *testing.T) {
	e := inboxSetup(t)
	_, sub := e.submit(t, "sealed submission", map[string][]byte{"a.txt": []byte("a")})
	e.unseal(t)
	v, err := e.d.Intake.Get(context.Background(), staffP, sub)
	if err != nil {
		t.Fatal(err)
	}
	file := v.Files[0].ID
	e.d.Vault.Seal()
	if _, sub2 := e.submit(t, "another, still sealed", nil); sub2.IsZero() {
		t.Fatal("no submission ID")
	}
	audits0, _ := e.counts(t)
	for _, p := range []struct{ method, path, body string }{
		{"GET", "/api/v1/submissions", ""},
		{"GET", "/api/v1/submissions/" + sub.String(), ""},
		{"POST", "/api/v1/submissions/" + sub.String() + "/messages", `{"text":"hi"}`},
		{"POST", "/api/v1/submissions/" + sub.String() + "/state", `{"state":"rejected"}`},
		{"GET", "/api/v1/submissions/" + sub.String() + "/files/" + file.String(), ""},
	} {
		r := e.do(t, p.method, p.path, e.token, p.body)
		if r.code != 503 || r.errMsg(t) != "vault sealed" {
			t.Errorf("sealed %s %s: %d %s", p.method, p.path, r.code, r.body)
		}
	}
	if a, _ := e.counts(t); a != audits0 {
		t.Errorf("sealed reads wrote %d audit records", a-audits0)
	}
	e.unseal(t)
	r := e.do(t, "GET", "/api/v1/submissions", e.token, "")
	var list api.SubmissionList
	if err := json.Unmarshal(r.body, &list); r.code != 200 || err != nil || len(list.Submissions) != 2 {
		t.Fatalf("list after unseal: %d %s", r.code, r.body)
	}
}

func TestInboxFlow(t *testing.T) {
	ctx := context.Background()
	e := inboxSetup(t)
	big := make([]byte, 3<<20+17)
	rand.Read(big)
	receipt, sub := e.submit(t, "Меня задержали 3 марта. <script>alert(1)</script>",
		map[string][]byte{"фото 1.jpg": big, "../../etc/passwd\x1b[31m": []byte("small")})
	_, other := e.submit(t, "another source", map[string][]byte{"other.txt": []byte("other")})
	e.unseal(t)

	// Each staff action adds one audit record and its log leaf (a reply also
	// its message's leaf).
	step := func(desc string, wantLeaves int64, fn func()) {
		t.Helper()
		a0, n0 := e.counts(t)
		fn()
		a1, n1 := e.counts(t)
		if a1-a0 != 1 || n1-n0 != wantLeaves {
			t.Errorf("%s: %d audit records and %d log leaves, want 1 and %d", desc, a1-a0, n1-n0, wantLeaves)
		}
	}

	var list api.SubmissionList
	step("list", 1, func() {
		r := e.do(t, "GET", "/api/v1/submissions", e.token, "")
		if r.code != 200 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("list: %d %s", r.code, r.body)
		}
		json.Unmarshal(r.body, &list)
	})
	if len(list.Submissions) != 2 || list.Submissions[0].ID != other || list.Submissions[1].ID != sub ||
		list.Submissions[1].State != intake.StateNew || list.Submissions[1].Files != 2 || list.Submissions[1].Messages != 0 {
		t.Fatalf("list: %+v", list)
	}

	var v intake.View
	step("get", 1, func() {
		r := e.do(t, "GET", "/api/v1/submissions/"+sub.String(), e.token, "")
		if r.code != 200 {
			t.Fatalf("get: %d %s", r.code, r.body)
		}
		json.Unmarshal(r.body, &v)
	})
	if v.ID != sub || !strings.HasPrefix(v.Text, "Меня задержали") || v.Language != "ru" || v.Contact != "Signal, evenings" ||
		len(v.Files) != 2 || len(v.Messages) != 0 || v.State != intake.StateNew {
		t.Fatalf("get: %+v", v)
	}

	step("reply", 2, func() {
		r := e.do(t, "POST", "/api/v1/submissions/"+sub.String()+"/messages", e.token, `{"text":"Где вас держали?"}`)
		if r.code != 201 {
			t.Fatalf("reply: %d %s", r.code, r.body)
		}
		if m := r.json(t); m["from"] != "staff" || m["text"] != "Где вас держали?" {
			t.Errorf("reply answer: %s", r.body)
		}
	})
	// The source reads the reply with the receipt, sealed.
	e.d.Vault.Seal()
	src, err := e.d.Intake.OpenReceipt(ctx, []byte(receipt))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := e.d.Intake.SourceView(ctx, src)
	if err != nil || len(sv.Messages) != 1 || sv.Messages[0].Text != "Где вас держали?" || sv.Messages[0].From != "staff" {
		t.Fatalf("source view: %+v %v", sv, err)
	}
	e.unseal(t)

	step("state", 1, func() {
		r := e.do(t, "POST", "/api/v1/submissions/"+sub.String()+"/state", e.token, `{"state":"in_review"}`)
		if r.code != 200 || r.json(t)["state"] != "in_review" {
			t.Fatalf("state: %d %s", r.code, r.body)
		}
	})
	r := e.do(t, "GET", "/api/v1/submissions", e.token, "")
	json.Unmarshal(r.body, &list)
	if list.Submissions[1].State != intake.StateInReview || list.Submissions[1].Messages != 1 || list.Submissions[0].State != intake.StateNew {
		t.Errorf("list after state change: %+v", list)
	}

	// Downloads stream the exact bytes, as an attachment of no sniffable type.
	for _, f := range v.Files {
		step("download "+f.Name, 1, func() {
			r := e.do(t, "GET", "/api/v1/submissions/"+sub.String()+"/files/"+f.ID.String(), e.token, "")
			if r.code != 200 {
				t.Fatalf("download: %d %s", r.code, r.body)
			}
			want := []byte("small")
			if f.Size == int64(len(big)) {
				want = big
			}
			if !bytes.Equal(r.body, want) {
				t.Errorf("download %q: %d bytes, want %d", f.Name, len(r.body), len(want))
			}
			h := r.header
			if h.Get("Content-Type") != "application/octet-stream" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("download headers: %v", h)
			}
			typ, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
			if err != nil || typ != "attachment" || strings.ContainsAny(params["filename"], "/\\\x1b") || strings.HasPrefix(params["filename"], ".") {
				t.Errorf("Content-Disposition %q: %v", h.Get("Content-Disposition"), err)
			}
			if f.Size == int64(len(big)) && params["filename"] != "фото 1.jpg" {
				t.Errorf("filename %q", params["filename"])
			}
		})
	}

	// Every staff action above names the token in its audit event.
	var found int
	err = e.d.Store.View(ctx, func(tx store.ReadTx) error {
		recs, err := tx.Records(intake.KindAudit, vigil.ID{}, 1000)
		for _, rec := range recs {
			plain, err := e.d.Vault.OpenField(labelOf(rec), rec.Body)
			if err != nil {
				return err
			}
			if bytes.Contains(plain, []byte("token:"+e.tokID.String()+"/analyst one")) {
				found++
			}
		}
		return err
	})
	if err != nil || found != 7 {
		t.Errorf("%d audit events name the token, want 7 (2 lists, get, reply, state, 2 downloads): %v", found, err)
	}

	// Unknown and mismatched IDs.
	audits0, tree0 := e.counts(t)
	unknown := vigil.NewID().String()
	otherView, err := e.d.Intake.Get(ctx, staffP, other)
	if err != nil {
		t.Fatal(err)
	}
	audits0++
	tree0++
	for _, p := range []struct{ method, path, body string }{
		{"GET", "/api/v1/submissions/" + unknown, ""},
		{"GET", "/api/v1/submissions/not-an-id", ""},
		{"POST", "/api/v1/submissions/" + unknown + "/messages", `{"text":"hi"}`},
		{"POST", "/api/v1/submissions/" + unknown + "/state", `{"state":"linked"}`},
		{"GET", "/api/v1/submissions/" + sub.String() + "/files/" + unknown, ""},
		{"GET", "/api/v1/submissions/" + unknown + "/files/" + v.Files[0].ID.String(), ""},
		// A file of another submission is not this one's.
		{"GET", "/api/v1/submissions/" + sub.String() + "/files/" + otherView.Files[0].ID.String(), ""},
		// A file ID is not a submission.
		{"GET", "/api/v1/submissions/" + v.Files[0].ID.String(), ""},
		{"POST", "/api/v1/submissions/" + v.Files[0].ID.String() + "/state", `{"state":"linked"}`},
	} {
		if r := e.do(t, p.method, p.path, e.token, p.body); r.code != 404 || r.errMsg(t) != "not found" {
			t.Errorf("%s %s: %d %s, want 404", p.method, p.path, r.code, r.body)
		}
	}

	// Malformed and oversized bodies.
	e.api.MaxBody = 1000
	e.d.Intake.Config.MaxText = 100
	msgs := "/api/v1/submissions/" + sub.String() + "/messages"
	state := "/api/v1/submissions/" + sub.String() + "/state"
	for _, c := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{msgs, `{"text":`, 400, "invalid request"},
		{msgs, `not json`, 400, "invalid request"},
		{msgs, `{"text":"a","extra":1}`, 400, "invalid request"},
		{msgs, `{"text":"a"}{"text":"b"}`, 400, "invalid request"},
		{msgs, `{"text":"   "}`, 400, "invalid request"},
		{msgs, `{"text":"\xff\xfe"}`, 400, "invalid request"},
		{msgs, `{"text":"` + strings.Repeat("x", 2000) + `"}`, 413, "request too large"},
		{msgs, `{"text":"` + strings.Repeat("x", 200) + `"}`, 413, "request too large"}, // over intake's text cap
		{state, `{"state":"deleted"}`, 400, "invalid request"},
		{state, `{"state":""}`, 400, "invalid request"},
		{state, `{}`, 400, "invalid request"},
		{state, `{"state":"new"` + strings.Repeat(" ", 5000) + `}`, 413, "request too large"},
	} {
		r := e.do(t, "POST", c.path, e.token, c.body)
		if r.code != c.code || r.errMsg(t) != c.msg {
			t.Errorf("POST %s %.40q: %d %s, want %d %q", filepath.Base(c.path), c.body, r.code, r.body, c.code, c.msg)
		}
	}
	// A bad state name is answered with the valid ones.
	for _, body := range []string{`{"state":"bogus"}`, `{"state":""}`} {
		r := e.do(t, "POST", state, e.token, body)
		want := `{"error":"invalid request","fields":[{"field":"state","problem":"want new, in_review, linked or rejected"}]}`
		if r.code != 400 || strings.TrimSpace(string(r.body)) != want {
			t.Errorf("POST state %s: %d %s, want 400 %s", body, r.code, r.body, want)
		}
	}
	// POST bodies must be declared JSON: a cross-site form cannot post here.
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		for _, p := range []string{msgs, state, "/api/v1/seal"} {
			req, _ := http.NewRequest("POST", e.srv.URL+p, strings.NewReader(`{"state":"linked","text":"x"}`))
			req.Header.Set("Authorization", "Bearer "+e.token)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("POST %s as %q: %d, want 415", p, ct, resp.StatusCode)
			}
		}
	}
	if e.d.Vault.Sealed() {
		t.Error("a non-JSON POST sealed the vault")
	}
	if a, n := e.counts(t); a != audits0 || n != tree0 {
		t.Errorf("failed requests wrote %d audit records and %d log entries", a-audits0, n-tree0)
	}
}

func labelOf(r store.Record) vault.Label {
	return vault.Label{Kind: r.Kind, ID: r.ID, Field: "body", Version: r.Version}
}

func TestAttachment(t *testing.T) {
	id := vigil.NewID()
	for _, c := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\photo.jpg`, "photo.jpg"},
		{".bashrc", "bashrc"},
		{"a\x1b[31mb\r\n.txt", "a_[31mb__.txt"},
		{"evil\u202egpj.exe", "evil_gpj.exe"},
		{`say "hi".txt`, "say _hi_.txt"},
		{"фото.jpg", "фото.jpg"},
		{"", "file-" + id.String()},
		{"..", "file-" + id.String()},
		{"/", "file-" + id.String()},
		{"\x00\x01", "file-" + id.String()},
		{strings.Repeat("я", 300), strings.Repeat("я", 100)},
	} {
		v := api.Attachment(c.in, id)
		typ, params, err := mime.ParseMediaType(v)
		if err != nil || typ != "attachment" || params["filename"] != c.want {
			t.Errorf("Attachment(%q) = %q → %q %v, want filename %q", c.in, v, params["filename"], err, c.want)
		}
	}
}

// A file whose blob was altered on disk streams until the damage and is then
// cut short: the client never gets a complete response.
func TestInboxDownloadTampered(t *testing.T) {
	ctx := context.Background()
	e := inboxSetup(t)
	content := make([]byte, 1<<20)
	rand.Read(content)
	_, sub := e.submit(t, "tampered", map[string][]byte{"a.bin": content})
	e.unseal(t)
	v, err := e.d.Intake.Get(ctx, staffP, sub)
	if err != nil {
		t.Fatal(err)
	}
	it, err := e.d.Evidence.Get(ctx, v.Files[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.d.Path, "blobs", it.Blob[:2], it.Blob)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-100] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/submissions/"+sub.String()+"/files/"+it.ID.String(), nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err == nil || len(got) >= len(content) || resp.ContentLength != int64(len(content)) {
		t.Fatalf("tampered download: %d of %d bytes (Content-Length %d), err %v; want it cut short", len(got), len(content), resp.ContentLength, err)
	}
}

// staffP is the investigator the tests act as.
var staffP = vigil.Principal{Actor: "staff", Account: "staff", Role: vigil.RoleInvestigator}

// An analyst token is authenticated but may not touch the inbox: every
// inbox route answers 403, and nothing is audited or logged for it.
func TestInboxForbiddenRole(t *testing.T) {
	e := inboxSetup(t)
	e.unseal(t)
	_, sub := e.submit(t, "text", map[string][]byte{"a.txt": []byte("a")})
	analyst, _, err := e.tokens.Create(context.Background(), "test", "analyst", auth.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	audits0, tree0 := e.counts(t)
	for _, p := range []struct{ method, path, body string }{
		{"GET", "/api/v1/submissions", ""},
		{"GET", "/api/v1/submissions/" + sub.String(), ""},
		{"POST", "/api/v1/submissions/" + sub.String() + "/messages", `{"text":"hi"}`},
		{"POST", "/api/v1/submissions/" + sub.String() + "/state", `{"state":"rejected"}`},
		{"GET", "/api/v1/tokens", ""},
	} {
		if r := e.do(t, p.method, p.path, analyst, p.body); r.code != http.StatusForbidden {
			t.Errorf("analyst %s %s: %d %s, want 403", p.method, p.path, r.code, r.body)
		}
	}
	if audits, tree := e.counts(t); audits != audits0 || tree != tree0 {
		t.Errorf("refused requests wrote %d audit events, %d leaves", audits-audits0, tree-tree0)
	}
}
