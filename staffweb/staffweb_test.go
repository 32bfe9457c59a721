package staffweb_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
)

func TestSignInTOTP(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	c := newClient(t, e.serve(t))
	if r := c.get("/inbox"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/signin") {
		t.Fatalf("inbox without session: %d %s", r.status, r.loc)
	}
	secret := e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	r := c.get("/inbox")
	if r.status != 200 || !strings.Contains(r.body, "No submissions yet") {
		t.Fatalf("inbox: %d %s", r.status, r.body)
	}
	// A second sign-in uses the enrolled TOTP.
	c2 := newClient(t, c.base)
	e.signIn(t, c2, "olga admin", "correct horse battery staple", secret)
	if r := c2.get("/accounts"); r.status != 200 || !strings.Contains(r.body, "Olga Admin") {
		t.Fatalf("accounts: %d %s", r.status, r.body)
	}
	_ = url.Values{}
}
