package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/vault"
)

func newServer(t *testing.T) (*httptest.Server, *vault.Vault, *int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.age")
	pub, err := vault.Create(path, []byte("right passphrase"), "example.org/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(path, pub)
	if err != nil {
		t.Fatal(err)
	}
	unsealed := new(int)
	s := &api.Server{
		Vault:    v,
		Health:   func(*http.Request) (api.Health, error) { return api.Health{TreeSize: 7, Checkpoint: 5}, nil },
		OnUnseal: func() { *unsealed++ },
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, v, unsealed
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusMethodNotAllowed && ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, url, ct)
	}
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestUnsealSeal(t *testing.T) {
	srv, v, unsealed := newServer(t)
	code, h := call(t, "GET", srv.URL+"/api/v1/health", "")
	if code != 200 || len(h) != 1 || h["status"] != "up" {
		t.Fatalf("health: %d %v", code, h)
	}
	for _, tc := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"passphrase":"wrong"}`, 403, "wrong passphrase"},
		{`{"passphrase":""}`, 400, "invalid request"},
		{`not json`, 400, "invalid request"},
		{`{"passphrase":"` + strings.Repeat("x", 5000) + `"}`, 400, "invalid request"},
	} {
		code, m := call(t, "POST", srv.URL+"/api/v1/unseal", tc.body)
		if code != tc.code || m["error"] != tc.msg {
			t.Errorf("unseal %.30q: %d %v, want %d %q", tc.body, code, m, tc.code, tc.msg)
		}
		if !v.Sealed() || *unsealed != 0 {
			t.Fatalf("vault unsealed by %.30q", tc.body)
		}
	}
	if code, m := call(t, "POST", srv.URL+"/api/v1/unseal", `{"passphrase":"right passphrase"}`); code != 200 || m["sealed"] != false {
		t.Fatalf("unseal: %d %v", code, m)
	}
	if v.Sealed() || *unsealed != 1 {
		t.Fatal("vault still sealed, or OnUnseal not called")
	}
	if code, m := call(t, "POST", srv.URL+"/api/v1/seal", `{}`); code != 200 || m["sealed"] != true {
		t.Fatalf("seal: %d %v", code, m)
	}
	if !v.Sealed() {
		t.Fatal("vault not sealed")
	}
}

func TestMethods(t *testing.T) {
	srv, _, _ := newServer(t)
	for _, c := range [][2]string{{"GET", "/api/v1/unseal"}, {"GET", "/api/v1/seal"}, {"POST", "/api/v1/health"}} {
		if code, _ := call(t, c[0], srv.URL+c[1], ""); code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d, want 405", c[0], c[1], code)
		}
	}
}

// A web page that rebinds its own name to the staff listener's address must
// not reach it: only IP literals, localhost and configured names pass.
func TestHostCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.age")
	pub, err := vault.Create(path, []byte("right passphrase"), "example.org/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := vault.Open(path, pub)
	s := &api.Server{Vault: v, Hosts: []string{"staff.example.org"},
		Health: func(*http.Request) (api.Health, error) { return api.Health{}, nil }}
	h := s.Handler()
	for host, want := range map[string]int{
		"127.0.0.1:8081": 200, "[::1]:8081": 200, "localhost:8081": 200, "LOCALHOST": 200,
		"staff.example.org": 200, "evil.example:8081": 421, "127.0.0.1.evil.example": 421, "": 421,
	} {
		req := httptest.NewRequest("GET", "/api/v1/health", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: %d, want %d", host, rec.Code, want)
		}
	}
	req := httptest.NewRequest("POST", "/api/v1/seal", strings.NewReader("{}"))
	req.Host = "rebound.example:8081"
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 421 {
		t.Errorf("seal through a rebound name: %d", rec.Code)
	}
}
