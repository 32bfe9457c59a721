package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeStaffUI: vigil serve mounts the staff web UI at / of the staff
// listener next to /api/v1, with its CSP, its sessions and the origin
// check of the default staff origins.
func TestServeStaffUI(t *testing.T) {
	bin := vigilBin(t)
	data := filepath.Join(t.TempDir(), "data")
	vigilRun(t, bin, vigilEnv("staff ui test passphrase"), "init", "--data", data, "--scrypt-work-factor", "10")
	srv := interopServe(t, bin, vigilEnv(""), data)
	base := strings.TrimSuffix(srv.staff, "/")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	get := func(p string) (*http.Response, string) {
		t.Helper()
		resp, err := noRedirect.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("/signin")
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/signin"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /signin: %s %v\n%s", resp.Status, resp.Header, body)
	}
	if resp, _ := get("/inbox"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Errorf("GET /inbox without a session: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	if resp, body := get("/api/v1/health"); resp.StatusCode != 200 || !strings.Contains(body, `"status":"up"`) {
		t.Errorf("GET /api/v1/health: %s %s", resp.Status, body)
	}
	post := func(origin string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(url.Values{"name": {"nobody"}, "passphrase": {"nothing here at all"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("http://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin sign-in: %s", resp.Status)
	}
	// The same origin starts a (doomed) login: a session cookie and the
	// second step, as for any name.
	resp = post(base)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin/second?next=%2Finbox" || !strings.Contains(resp.Header.Get("Set-Cookie"), "__Host-vigil=") {
		t.Errorf("same-origin sign-in: %s %v", resp.Status, resp.Header)
	}
}
