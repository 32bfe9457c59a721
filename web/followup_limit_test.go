package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/web"
)

// viewCounter is the real store with a count of read transactions: each
// receipt check that gets as far as the lookup opens one.
type viewCounter struct {
	store.Store
	views atomic.Int64
}

func (c *viewCounter) View(ctx context.Context, fn func(store.ReadTx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

// TestReceiptLimitBeforeWork checks that a client over its failure budget
// is refused before its receipt is derived or looked up (issue 9, finding
// 9): no store read happens for it, even for the right receipt, while a
// client under its budget is checked as before.
func TestReceiptLimitBeforeWork(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	receipt, _, err := d.Intake.Submit(ctx, intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	vc := &viewCounter{Store: d.Intake.Store}
	d.Intake.Store = vc
	h := handler(d, web.Options{ReceiptLimit: ratelimitConfig(3)})
	try := func(addr, r string) int {
		req := httptest.NewRequest("POST", "/followup", strings.NewReader(url.Values{"receipt": {r}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	wrong := "1111 2222 3333 4444 5555 6666 7777"
	for i := range 3 {
		before := vc.views.Load()
		if code := try("192.0.2.9:1", wrong); code != http.StatusForbidden {
			t.Fatalf("attempt %d: %d, want 403", i, code)
		}
		if vc.views.Load() == before {
			t.Fatalf("attempt %d: the receipt was not looked up; the counter sees nothing", i)
		}
	}
	for _, r := range []string{wrong, string(receipt)} {
		before := vc.views.Load()
		if code := try("192.0.2.9:2", r); code != http.StatusTooManyRequests {
			t.Fatalf("over the budget: %d, want 429", code)
		}
		if n := vc.views.Load() - before; n != 0 {
			t.Errorf("over the budget: %d receipt lookups done before the 429, want none", n)
		}
	}
	if code := try("198.51.100.9:1", string(receipt)); code != http.StatusSeeOther {
		t.Fatalf("another client with the right receipt: %d, want 303", code)
	}
}

// TestLoginOrigin checks the login CSRF rule (issue 9, finding 7): without
// fetch metadata, a foreign Origin or "Origin: null" is refused with the
// CSRF page and no session; the same origin, no Origin at all, and a
// browser's Sec-Fetch-Site: same-origin get in.
func TestLoginOrigin(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	receipt, _, err := d.Intake.Submit(ctx, intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := handler(d, web.Options{})
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"foreign origin", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"foreign origin, same host other port", map[string]string{"Origin": "http://vigil.example:8080"}, http.StatusForbidden},
		{"null origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"garbage origin", map[string]string{"Origin": "::"}, http.StatusForbidden},
		{"cross-site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same origin", map[string]string{"Origin": "http://vigil.example"}, http.StatusSeeOther},
		{"same origin, fetch metadata", map[string]string{"Origin": "http://vigil.example", "Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"no origin", nil, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://vigil.example/followup", strings.NewReader(url.Values{"receipt": {string(receipt)}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			cookies := rec.Header().Values("Set-Cookie")
			if tc.want == http.StatusForbidden {
				if len(cookies) > 0 {
					t.Errorf("refused login set a cookie: %q", cookies)
				}
				if !strings.Contains(rec.Body.String(), "This form has expired") {
					t.Errorf("refused login without the CSRF page:\n%s", rec.Body)
				}
			} else if len(cookies) == 0 {
				t.Error("login set no session cookie")
			}
		})
	}
}
