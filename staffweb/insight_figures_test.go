package staffweb_test

import (
	"context"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/staffweb"
)

// figureRow returns the "confirmed at least" and "reported up to" cells of
// the row labelled label in the table of chart by, or "" if there is none.
func figureRow(t testing.TB, body, by, label string) string {
	t.Helper()
	i := strings.Index(body, `<section class="figure" id="by-`+by+`"`)
	if i < 0 {
		t.Fatalf("no %s chart:\n%s", by, body)
	}
	sec := body[i:]
	if j := strings.Index(sec[1:], `<section`); j >= 0 {
		sec = sec[:j+1]
	}
	re := regexp.MustCompile(`<th scope="row">(?:<a href="[^"]*">)?` + regexp.QuoteMeta(label) + `(?:</a>)?</th><td class="num">([0-9,]+)</td><td class="num">([0-9,]+)</td>`)
	m := re.FindStringSubmatch(sec)
	if m == nil {
		return ""
	}
	return m[1] + "-" + m[2]
}

// TestFiguresRestricted: the member's figures count the restricted act, the
// non-member's never do, even right after the member's were cached; a write
// shows in the next page.
func TestFiguresRestricted(t *testing.T) {
	e, f, nina, ivan := memberAndNot(t)

	r := ivan.get("/figures")
	if r.status != 200 {
		t.Fatalf("member figures: %d", r.status)
	}
	for _, c := range []struct{ by, label, want string }{
		{"type", "Torture", "5-7"}, {"type", "Arbitrary detention", "10-40"},
		{"month", "May 2024", "5-7"}, {"month", "March 2024", "10-40"},
		{"place", f.restrictedPlace, "5-7"}, {"place", "Chechnya", "10-40"}, {"place", "Argun", "10-40"},
	} {
		if got := figureRow(t, r.body, c.by, c.label); got != c.want {
			t.Errorf("member's %s %s: %q, want %q", c.by, c.label, got, c.want)
		}
	}
	r = nina.get("/figures")
	if r.status != 200 {
		t.Fatalf("non-member figures: %d", r.status)
	}
	for _, c := range []struct{ by, label, want string }{
		{"type", "Torture", ""}, {"type", "Arbitrary detention", "10-40"},
		{"month", "May 2024", ""}, {"month", "March 2024", "10-40"},
		{"place", f.restrictedPlace, ""}, {"place", "Chechnya", "10-40"},
	} {
		if got := figureRow(t, r.body, c.by, c.label); got != c.want {
			t.Errorf("non-member's %s %s: %q, want %q", c.by, c.label, got, c.want)
		}
	}
	for _, leak := range []string{"Torture", f.restrictedPlace, "May 2024", "at least 5,"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("non-member's figures show %q", leak)
		}
	}
	// The chart is an accessible SVG with a title and a description.
	if !strings.Contains(r.body, `<svg class="chart"`) || !strings.Contains(r.body, `<title id="t-type">By act type</title>`) || !strings.Contains(r.body, `<desc id="s-type">`) {
		t.Errorf("no accessible chart:\n%s", r.body)
	}
	// A write: another detention of 2 people in Argun, affirmed by both
	// sources, shows at once.
	act := create(t, e, vigil.Act{Incident: f.incident, Type: "arbitrary_detention", Place: f.town, Period: vigil.Period{From: day(t, "2024-03-20")},
		Victims: vigil.VictimCount{Min: 2, Max: 3}})
	create(t, e, vigil.Claim{Act: act, Source: f.ngo, Stance: vigil.Affirms, Credibility: 2})
	create(t, e, vigil.Claim{Act: act, Source: f.paper, Stance: vigil.Affirms, Credibility: 2})
	r = nina.get("/figures")
	if got := figureRow(t, r.body, "type", "Arbitrary detention"); got != "12-43" {
		t.Errorf("after a write: %q, want 12-43", got)
	}

	// The restricted incident is let into Nina instead of Ivan: the next
	// page of each follows, though both had their figures counted.
	if got := figureRow(t, ivan.get("/figures").body, "type", "Torture"); got != "5-7" {
		t.Fatalf("member's torture before the move: %q", got)
	}
	rec, err := e.d.Cases.Get(context.Background(), writer, f.restricted)
	must(t, err)
	inc := rec.Doc.(vigil.Incident)
	inc.Restricted = []string{ninaName}
	_, err = e.d.Cases.Apply(context.Background(), writer, []cases.Change{{Kind: cases.KindIncident, ID: f.restricted, Version: rec.Version, Doc: inc}})
	must(t, err)
	r = ivan.get("/figures")
	for _, leak := range []string{"Torture", f.restrictedPlace, "May 2024"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("Ivan, let out, still sees %q in the figures", leak)
		}
	}
	if got := figureRow(t, r.body, "type", "Arbitrary detention"); got != "12-43" {
		t.Errorf("Ivan's detentions after the move: %q, want 12-43", got)
	}
	if got := figureRow(t, nina.get("/figures").body, "type", "Torture"); got != "5-7" {
		t.Errorf("Nina, let in, sees torture %q, want 5-7", got)
	}

	// Argun moves from Chechnya to a new region: the place chart follows.
	dagestan := create(t, e, vigil.Place{Names: map[string]string{"en": "Dagestan"}})
	rec, err = e.d.Cases.Get(context.Background(), writer, f.town)
	must(t, err)
	town := rec.Doc.(vigil.Place)
	town.Parent = dagestan
	_, err = e.d.Cases.Apply(context.Background(), writer, []cases.Change{{Kind: cases.KindPlace, ID: f.town, Version: rec.Version, Doc: town}})
	must(t, err)
	r = ivan.get("/figures")
	for label, want := range map[string]string{"Argun": "12-43", "Dagestan": "12-43", "Chechnya": ""} {
		if got := figureRow(t, r.body, "place", label); got != want {
			t.Errorf("after Argun moved, %s: %q, want %q", label, got, want)
		}
	}
}

// staleVisibility answers one Visibility call with key: as if the account
// were let into or out of an incident between the figures page reading its
// visibility and its acts.
type staleVisibility struct {
	staffweb.Cases
	key  string
	used atomic.Bool
}

func (s *staleVisibility) Visibility(ctx context.Context, p vigil.Principal) (string, error) {
	if !s.used.Swap(true) {
		return s.key, nil
	}
	return s.Cases.Visibility(ctx, p)
}

// TestFiguresVisibilityRace: counts are kept per visibility, and a member
// whose visibility changed between the two reads gets their own numbers,
// never those of the principals who see less, nor counts into theirs.
func TestFiguresVisibilityRace(t *testing.T) {
	e, f, nina, ivan := memberAndNot(t)
	if got := figureRow(t, nina.get("/figures").body, "type", "Torture"); got != "" {
		t.Fatalf("non-member sees torture: %q", got)
	}
	// A claim on the restricted act: the next page for any visibility
	// looks at that act again.
	create(t, e, vigil.Claim{Act: f.restrictedAct, Source: f.paper, Stance: vigil.PartiallyAffirms, Credibility: 3})
	open, err := e.d.Cases.Visibility(context.Background(), vigil.Principal{Account: ninaName, Role: vigil.RoleAnalyst})
	must(t, err)
	e.srv.Cases = &staleVisibility{Cases: e.d.Cases, key: open}
	if got := figureRow(t, ivan.get("/figures").body, "type", "Torture"); got != "5-7" {
		t.Errorf("member's torture: %q, want 5-7", got)
	}
	if r := nina.get("/figures"); strings.Contains(r.body, "Torture") || strings.Contains(r.body, "Secretville") {
		t.Errorf("the member's acts were counted into the non-member's figures:\n%s", r.body)
	}
}
