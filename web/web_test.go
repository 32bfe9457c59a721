package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/web"
)

// memLog is a tiny read-only evlog.Source with one entry.
type memLog struct{ entry []byte }

func (m memLog) TreeSize() (int64, error) { return 1, nil }
func (m memLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i := range idx {
		out[i] = tlog.RecordHash(m.entry)
	}
	return out, nil
}
func (m memLog) ReadEntries(start, end int64) ([][]byte, error) { return [][]byte{m.entry}, nil }
func (m memLog) ViewLog(ctx context.Context, fn func(evlog.Reader) error) error {
	return fn(m)
}
func (m memLog) LatestCheckpoint(context.Context) ([]byte, error) { return []byte(checkpoint), nil }

// checkpoint is a (fake-signed) checkpoint of size 1: the handler serves
// tiles up to it.
const checkpoint = "example.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— example.org/log AAAA\n"

func TestPublic(t *testing.T) {
	h := web.NewPublic(memLog{make([]byte, 32)}, web.Keys{Origin: "example.org/log", LogVKey: "example.org/log+01234567+AAAA", AgeRecipient: "age1xyz"}, nil, web.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, path := range []string{"/", "/.well-known/vigil.json", "/log/checkpoint", "/log/tile/0/000.p/1", "/log/tile/entries/000.p/1", "/nope"} {
		resp, _ := get(path)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if rp := resp.Header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", path, rp)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s sets a cookie", path)
		}
	}
	resp, body := get("/.well-known/vigil.json")
	var keys map[string]string
	if err := json.Unmarshal([]byte(body), &keys); err != nil || resp.StatusCode != 200 {
		t.Fatalf("vigil.json: %d %v %s", resp.StatusCode, err, body)
	}
	if keys["log_vkey"] != "example.org/log+01234567+AAAA" || keys["age_recipient"] != "age1xyz" || keys["log_prefix"] != "/log/" {
		t.Fatalf("vigil.json: %v", keys)
	}
	if resp, body := get("/log/checkpoint"); resp.StatusCode != 200 || body != checkpoint || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("checkpoint: %d %q", resp.StatusCode, body)
	}
	if resp, body := get("/log/tile/entries/000.p/1"); resp.StatusCode != 200 || len(body) != 34 {
		t.Fatalf("entry bundle: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get("/log/tile/0/000.p/2"); resp.StatusCode != 404 {
		t.Fatalf("tile beyond the tree: %d", resp.StatusCode)
	}
	if resp, _ := get("/nope"); resp.StatusCode != 404 {
		t.Fatalf("/nope: %d", resp.StatusCode)
	}
}
