package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/internal/ratelimit"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Without a token, health says only that the server is up: the live tree
// size, polled, would date each submission to the second.
func TestHealthDetailsNeedToken(t *testing.T) {
	e := inboxSetup(t)
	treeSize := func() int64 {
		var n int64
		err := e.d.Store.View(context.Background(), func(tx store.ReadTx) error {
			var err error
			n, err = tx.TreeSize()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	s := &api.Server{
		Vault: e.d.Vault,
		Health: func(*http.Request) (api.Health, error) {
			return api.Health{TreeSize: treeSize(), Checkpoint: -1}, nil
		},
		Tokens: e.tokens,
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	get := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/health", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if code, body := get(""); code != 200 || body != `{"status":"up"}` {
		t.Errorf("health without a token: %d %s, want 200 {\"status\":\"up\"}", code, body)
	}
	if code, body := get("vgl_not-a-token"); code != 401 {
		t.Errorf("health with a wrong token: %d %s, want 401", code, body)
	}
	n := treeSize()
	if n == 0 {
		t.Fatal("the log is empty: the test would not see a tree size")
	}
	code, body := get(e.token)
	var h api.Health
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 {
		t.Fatalf("health with a token: %d %s (%v)", code, body, err)
	}
	if h != (api.Health{Status: "up", Sealed: true, TreeSize: n, Checkpoint: -1}) {
		t.Errorf("health with a token: %+v, want the tree size %d and sealed", h, n)
	}
}

// heldVault opens a real vault and can hold Unseal until released, so a
// test can run a second attempt during the first.
type heldVault struct {
	*vault.Vault
	entered chan struct{}
	release chan struct{}
}

func (v *heldVault) Unseal(p []byte) error {
	select {
	case v.entered <- struct{}{}:
	default: // a later attempt: only the first is announced
	}
	<-v.release
	return v.Vault.Unseal(p)
}

func newVault(t *testing.T) *vault.Vault {
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
	return v
}

// A second unseal attempt while one runs is refused at once, not queued.
func TestUnsealOneAtATime(t *testing.T) {
	hv := &heldVault{Vault: newVault(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
	s := &api.Server{Vault: hv, Health: func(*http.Request) (api.Health, error) { return api.Health{}, nil }}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	wg.Add(1)
	var first int
	go func() {
		defer wg.Done()
		first, _ = call(t, "POST", srv.URL+"/api/v1/unseal", `{"passphrase":"wrong"}`)
	}()
	<-hv.entered
	// Were the second attempt queued, it would wait for the first, which
	// waits for this test: the client's timeout turns that into a failure.
	client := &http.Client{Timeout: 10 * time.Second}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/unseal", strings.NewReader(`{"passphrase":"right passphrase"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	close(hv.release)
	wg.Wait()
	if err != nil {
		t.Fatalf("second attempt during the first: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second attempt during the first: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if first != http.StatusForbidden || !hv.Sealed() {
		t.Errorf("first attempt: %d, sealed %v", first, hv.Sealed())
	}
}

// After repeated wrong passphrases every attempt gets 429 with Retry-After,
// the right passphrase too, until a token comes back.
func TestUnsealBackoff(t *testing.T) {
	v := newVault(t)
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := &api.Server{Vault: v, Health: func(*http.Request) (api.Health, error) { return api.Health{}, nil },
		UnsealLimit: ratelimit.Config{Burst: 3, Every: 10 * time.Minute, Now: clock}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	unseal := func(pass string) (int, string, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/unseal", strings.NewReader(`{"passphrase":"`+pass+`"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		msg, _ := m["error"].(string)
		return resp.StatusCode, resp.Header.Get("Retry-After"), msg
	}
	for i := range 3 {
		if code, _, msg := unseal("wrong"); code != 403 {
			t.Fatalf("wrong passphrase #%d: %d %s, want 403", i+1, code, msg)
		}
	}
	for _, pass := range []string{"wrong", "right passphrase"} {
		code, ra, msg := unseal(pass)
		secs, _ := strconv.Atoi(ra)
		if code != 429 || secs < 1 || secs > 600 || msg != "too many unseal attempts, try again later" {
			t.Errorf("%q after three wrong passphrases: %d, Retry-After %q, %q; want 429 and a wait of up to 10 minutes", pass, code, ra, msg)
		}
		if !v.Sealed() {
			t.Fatal("unsealed over the limit")
		}
	}
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	if code, _, msg := unseal("right passphrase"); code != 200 || v.Sealed() {
		t.Fatalf("right passphrase once a token is back: %d %s", code, msg)
	}
	// A success gives its token back: the bucket still has one.
	v.Seal()
	if code, _, msg := unseal("right passphrase"); code != 200 {
		t.Errorf("second success: %d %s", code, msg)
	}
}
