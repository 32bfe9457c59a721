package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/vigil-hr/vigil/auth"
)

// An admin can list and revoke tokens while the server runs; a revoked token
// stops working at once; an intake token may not manage tokens; while the
// vault is sealed nobody's role is known, so the answer is "vault sealed".
func TestTokenAdmin(t *testing.T) {
	e := inboxSetup(t)
	e.api.TokenAdmin = e.tokens
	leaked, leakedTok, err := e.tokens.Create(context.Background(), "test", "leaked laptop", auth.RoleIntake)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "GET", "/api/v1/tokens", e.token, ""); r.code != http.StatusServiceUnavailable || r.errMsg(t) != "vault sealed" {
		t.Fatalf("list sealed: %d %s", r.code, r.body)
	}
	e.unseal(t)
	if r := e.do(t, "GET", "/api/v1/tokens", leaked, ""); r.code != http.StatusForbidden {
		t.Fatalf("intake token lists tokens: %d %s", r.code, r.body)
	}
	if r := e.do(t, "DELETE", "/api/v1/tokens/"+e.tokID.String(), leaked, ""); r.code != http.StatusForbidden {
		t.Fatalf("intake token revokes: %d %s", r.code, r.body)
	}
	r := e.do(t, "GET", "/api/v1/tokens", e.token, "")
	if toks, _ := r.json(t)["tokens"].([]any); r.code != 200 || len(toks) != 2 {
		t.Fatalf("list: %d %s", r.code, r.body)
	}
	if r := e.do(t, "GET", "/api/v1/submissions", leaked, ""); r.code != 200 {
		t.Fatalf("leaked token before revocation: %d", r.code)
	}
	audits, _ := e.counts(t)
	if r := e.do(t, "DELETE", "/api/v1/tokens/"+leakedTok.ID.String(), e.token, ""); r.code != 200 {
		t.Fatalf("revoke: %d %s", r.code, r.body)
	}
	if after, _ := e.counts(t); after <= audits {
		t.Errorf("revocation left no audit event (%d -> %d)", audits, after)
	}
	if r := e.do(t, "GET", "/api/v1/submissions", leaked, ""); r.code != http.StatusUnauthorized {
		t.Fatalf("revoked token still works: %d", r.code)
	}
	if r := e.do(t, "DELETE", "/api/v1/tokens/0000000000000000000000000g", e.token, ""); r.code != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", r.code)
	}
}
