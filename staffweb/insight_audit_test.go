package staffweb_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
)

var (
	auditRowRe   = regexp.MustCompile(`<tr><td>[^<]*</td><td>([^<]*)</td><td><code>([^<]*)</code></td><td>(?:<a href="[^"]*">)?(?:<code>)?([^<]*)`)
	auditNextRe  = regexp.MustCompile(`<a href="(/audit\?[^"]+)" rel="next"`)
	actorOptRe   = regexp.MustCompile(`<option value="([^"]+)">test:writer</option>`)
	auditTotalRe = regexp.MustCompile(`<p id="audit-total">Events: ([0-9,]+)</p>`)
)

// TestAuditPage: an admin reads the trail newest first in pages of 50,
// filters it by who (an opaque token in the URL) and by action; other
// roles are refused; bad parameters are 400.
func TestAuditPage(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	e.account(t, ninaName, vigil.RoleAnalyst, "en", ninaPass)
	var ch []cases.Change
	for i := range 60 {
		ch = append(ch, cases.Change{Doc: vigil.Party{Name: fmt.Sprintf("Party %02d", i)}})
	}
	refs, err := e.d.Cases.Apply(context.Background(), writer, ch)
	must(t, err)
	base := e.serve(t)
	c := newClient(t, base)
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)

	r := c.get("/audit")
	if r.status != 200 {
		t.Fatalf("/audit: %d", r.status)
	}
	rows := auditRowRe.FindAllStringSubmatch(r.body, -1)
	if len(rows) != 50 {
		t.Fatalf("%d rows on the first page, want 50", len(rows))
	}
	m := auditTotalRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no total:\n%s", r.body)
	}
	// Filter by who: the writer's 60 events, over two pages.
	opt := actorOptRe.FindStringSubmatch(r.body)
	if opt == nil {
		t.Fatalf("no actor option for test:writer:\n%s", r.body)
	}
	if strings.Contains(opt[1], "writer") {
		t.Errorf("actor token %q spells the actor", opt[1])
	}
	seen := map[string]bool{}
	next := "/audit?actor=" + opt[1] + "&action=create"
	pages := 0
	for next != "" && pages < 5 {
		pages++
		r = c.get(next)
		if r.status != 200 {
			t.Fatalf("%s: %d", next, r.status)
		}
		for _, row := range auditRowRe.FindAllStringSubmatch(r.body, -1) {
			if row[1] != "test:writer" || row[2] != "create:party" {
				t.Errorf("filtered row %v", row[1:])
			}
			if seen[row[3]] {
				t.Errorf("%s listed twice", row[3])
			}
			seen[row[3]] = true
		}
		next = ""
		if m := auditNextRe.FindStringSubmatch(r.body); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	if len(seen) != 60 || pages != 2 {
		t.Errorf("%d events over %d pages, want 60 over 2", len(seen), pages)
	}
	for _, ref := range refs {
		if !seen[ref.ID.String()] {
			t.Errorf("the creation of %s is missing", ref.ID)
		}
	}
	// The newest event is first: a new write shows on top (a second later:
	// events of the same second are ordered by ID).
	time.Sleep(1100 * time.Millisecond)
	refs2, err := e.d.Cases.Apply(context.Background(), writer, []cases.Change{{Doc: vigil.Party{Name: "Newest party"}}})
	must(t, err)
	r = c.get("/audit?actor=" + opt[1])
	if rows := auditRowRe.FindAllStringSubmatch(r.body, -1); len(rows) == 0 || rows[0][3] != refs2[0].ID.String() {
		t.Errorf("newest event not first: %v", rows[:1])
	}
	for _, bad := range []string{"/audit?actor=nosuchactor", "/audit?action=nosuchverb", "/audit?after=bad", "/audit?after=" + vigil.NewID().String()} {
		if r := c.get(bad); r.status != http.StatusBadRequest && r.status != http.StatusNotFound {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
	// An analyst may not read the trail.
	c2 := newClient(t, base)
	e.signIn(t, c2, ninaName, ninaPass, nil)
	if r := c2.get("/audit"); r.status != http.StatusForbidden {
		t.Errorf("analyst /audit: %d", r.status)
	}
}
