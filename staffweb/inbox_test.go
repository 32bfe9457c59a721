package staffweb_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
)

var rowLink = regexp.MustCompile(`<a href="/inbox/([a-z0-9]{26})">`)

// TestInboxPages: the inbox shows 50 submissions a page, newest first, an
// "older" link to the rest, a state filter with counts; a bad cursor or
// state is a 400.
func TestInboxPages(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	var subs []vigil.ID
	for range 55 {
		subs = append(subs, e.submit(t, "text", nil))
	}
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	r := c.get("/inbox")
	rows := rowLink.FindAllStringSubmatch(r.body, -1)
	if r.status != 200 || len(rows) != 50 {
		t.Fatalf("first page: %d, %d rows", r.status, len(rows))
	}
	if rows[0][1] != subs[54].String() || rows[49][1] != subs[5].String() {
		t.Errorf("first page not newest first: %s ... %s", rows[0][1], rows[49][1])
	}
	if !strings.Contains(r.body, "Submissions: 55") || !strings.Contains(r.body, "new (55)") {
		t.Errorf("counts missing:\n%s", r.body)
	}
	older := regexp.MustCompile(`href="(/inbox\?before=\d+)" rel="next"`).FindStringSubmatch(r.body)
	if older == nil {
		t.Fatalf("no link to older submissions:\n%s", r.body)
	}
	r = c.get(older[1])
	rows = rowLink.FindAllStringSubmatch(r.body, -1)
	if len(rows) != 5 || rows[4][1] != subs[0].String() || strings.Contains(r.body, `rel="next"`) {
		t.Fatalf("second page: %d rows\n%s", len(rows), r.body)
	}
	if err := e.d.Intake.SetState(t.Context(), vigil.Principal{Actor: "t", Role: vigil.RoleAdmin}, subs[3], "rejected"); err != nil {
		t.Fatal(err)
	}
	r = c.get("/inbox?state=rejected")
	if rows = rowLink.FindAllStringSubmatch(r.body, -1); len(rows) != 1 || rows[0][1] != subs[3].String() {
		t.Fatalf("rejected filter: %v", rows)
	}
	for _, p := range []string{"/inbox?state=bogus", "/inbox?before=x", "/inbox?before=-3"} {
		if r := c.get(p); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", p, r.status)
		}
	}
}
