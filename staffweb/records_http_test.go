package staffweb_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/staffweb"
)

var cli = vigil.Principal{Actor: "test:cli", Account: "cli", Role: vigil.RoleAdmin}

// mk creates a case record through the cases service and returns its ID.
func (e *env) mk(t testing.TB, p vigil.Principal, doc cases.Doc) vigil.ID {
	t.Helper()
	refs, err := e.d.Cases.Apply(t.Context(), p, []cases.Change{{Doc: doc}})
	must(t, err)
	return refs[0].ID
}

// nrecords counts the case records of every kind an admin sees.
func (e *env) nrecords(t testing.TB) int {
	t.Helper()
	n := 0
	for _, k := range []string{cases.KindIncident, cases.KindAct, cases.KindPerson, cases.KindPlace, cases.KindParty, cases.KindSource, cases.KindClaim} {
		recs, err := e.d.Cases.List(t.Context(), cli, k, vigil.ID{}, cases.MaxLimit)
		must(t, err)
		n += len(recs)
	}
	return n
}

// fieldError returns the error shown next to the field with element ID
// id, or "".
func fieldError(body, id string) string {
	m := regexp.MustCompile(`<label for="` + regexp.QuoteMeta(id) + `">[^<]*</label>(?:<span class="hint"[^>]*>[^<]*</span>)?<span class="field-error" id="` + regexp.QuoteMeta(id) + `-err">([^<]*)</span>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestRecordForms: an investigator creates an incident, an act, a person, a
// place and a party through the forms and sees them on their pages; bad
// input is refused with 400 and the problem next to its field, and nothing
// is stored.
func TestRecordForms(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)

	r := c.post("/incidents", url.Values{"title": {"Detentions at the market"}, "period.from": {"2024-03"}, "description": {"Several people"}}, true)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/incidents/") {
		t.Fatalf("create incident: %d %s\n%s", r.status, r.loc, r.body)
	}
	inc := r.loc
	r = c.post("/parties", url.Values{"name": {"District police"}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create party: %d %s", r.status, r.body)
	}
	party := strings.TrimSuffix(strings.TrimPrefix(r.loc, "/parties/"), "?done=saved")
	r = c.post("/people", url.Values{"pseudonym": {"Witness A"}, "private.names": {"Latn Ivan Petrov\nCyrl Иван Петров"}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create person: %d %s", r.status, r.body)
	}
	person := strings.TrimSuffix(strings.TrimPrefix(r.loc, "/people/"), "?done=saved")
	r = c.post("/places", url.Values{"names.en": {"Argun"}, "names.ru": {"Аргун"}, "kind": {"town"}, "coordinates.lat": {"43.29"}, "coordinates.lon": {"45.87"}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create place: %d %s", r.status, r.body)
	}
	place := strings.TrimSuffix(strings.TrimPrefix(r.loc, "/places/"), "?done=saved")
	r = c.post(inc+"/acts", url.Values{"type": {"arbitrary_detention"}, "period.from": {"2024-03-05"}, "place": {place},
		"victims.min": {"3"}, "victims.max": {"5"}, "victim_persons": {person}, "perpetrators": {party}}, true)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/acts/") {
		t.Fatalf("add act: %d %s\n%s", r.status, r.loc, r.body)
	}
	act, _, _ := strings.Cut(r.loc, "?")
	page := c.get(inc)
	for _, want := range []string{"Detentions at the market", "Arbitrary detention", "unverified", "Witness A", "Argun", "District police", `href="` + act + `"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("incident page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "Ivan Petrov") {
		t.Error("the incident page shows a person's private name")
	}
	page = c.get(act)
	for _, want := range []string{"Arbitrary detention", "No source affirms", `/claims/new?act=` + strings.TrimPrefix(act, "/acts/"), "/denial", "3–5"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("act page lacks %q", want)
		}
	}
	if r := c.get("/people/" + person); !strings.Contains(r.body, "Ivan Petrov") || !strings.Contains(r.body, "Иван Петров") {
		t.Errorf("investigator does not see the private names: %d", r.status)
	}
	for _, p := range []string{"/people/" + person, "/parties/" + party, "/places/" + place} {
		if r := c.get(p); !strings.Contains(r.body, `href="`+act+`"`) || !strings.Contains(r.body, "Detentions at the market") {
			t.Errorf("%s does not list the act that names it", p)
		}
	}
	for _, p := range []string{"/incidents", "/people", "/places", "/parties", "/places/" + place, "/parties/" + party} {
		if r := c.get(p); r.status != 200 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	if r := c.get("/incidents"); !strings.Contains(r.body, "unverified: 1") {
		t.Errorf("incident list lacks the act count by status")
	}

	// References by name: the exact name (any case) of one record.
	e.mk(t, cli, vigil.Party{Name: "Twin unit"})
	e.mk(t, cli, vigil.Party{Name: "Twin unit"})
	r = c.post(inc+"/acts", url.Values{"type": {"torture"}, "place": {"аргун"}, "victim_persons": {"witness a"}, "perpetrators": {"District police"}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("act by names: %d\n%s", r.status, r.body)
	}
	byName, _, _ := strings.Cut(r.loc, "?")
	page = c.get(byName)
	for _, want := range []string{`href="/places/` + place + `"`, `href="/people/` + person + `"`, `href="/parties/` + party + `"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("act made by names lacks %s", want)
		}
	}

	// Bad input: 400, the problem next to its field, nothing stored.
	before := e.nrecords(t)
	bad := []struct {
		path  string
		form  url.Values
		field string // element ID of the field that must show the problem
		want  string
	}{
		{"/incidents", url.Values{"title": {""}}, "f-title", "Required."},
		{"/incidents", url.Values{"title": {"x"}, "period.from": {"March"}}, "f-period-from", "Not a date"},
		{"/incidents", url.Values{"title": {"x"}, "period.from": {"2024-05"}, "period.to": {"2024-04"}}, "f-period-to", "Ends before it starts."},
		{"/incidents", url.Values{"title": {"x"}, "place": {party}}, "f-place", "No such record"},
		{inc + "/acts", url.Values{"type": {"arbitrary_detention"}, "victims.min": {"5"}, "victims.max": {"2"}}, "f-act-victims-min", "More than the maximum."},
		{inc + "/acts", url.Values{"type": {""}, "victims.min": {"1"}}, "f-act-type", "Required."},
		{inc + "/acts", url.Values{"type": {"arbitrary_detention"}, "victim_persons": {"Witness A\nNobody by this name"}}, "f-act-victim-persons", "No record has this name"},
		{inc + "/acts", url.Values{"type": {"arbitrary_detention"}, "perpetrators": {"Twin unit"}}, "f-act-perpetrators", "Several records have this name"},
		{act, url.Values{"type": {"no_such_type"}, "version": {"1"}}, "f-type", "Not a known type of act."},
		{"/people", url.Values{"pseudonym": {""}}, "f-pseudonym", "Required."},
		{"/people", url.Values{"pseudonym": {"P"}, "private.names": {"Latin Ivan"}}, "f-private-names", "script code"},
		{"/places", url.Values{"names.en": {"X"}, "coordinates.lat": {"95"}, "coordinates.lon": {"0"}}, "f-coordinates-lat", "Out of range."},
		{"/parties", url.Values{"name": {""}}, "f-name", "Required."},
		{"/parties", url.Values{"name": {"Unit"}, "parent": {place}}, "f-parent", "No such record"},
		{act + "/denial", url.Values{"source.name": {"Press service"}, "source.reliability": {"F"}, "claim.credibility": {"6"}}, "f-claim-quote", "Required."},
		{"/parties/" + party, url.Values{"name": {""}, "version": {"1"}}, "f-name", "Required."},
	}
	for _, b := range bad {
		r := c.post(b.path, b.form, true)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s %v: %d, want 400", b.path, b.form, r.status)
			continue
		}
		if got := fieldError(r.body, b.field); !strings.Contains(got, b.want) {
			t.Errorf("%s %v: problem at %s is %q, want %q", b.path, b.form, b.field, got, b.want)
		}
		if !strings.Contains(r.body, "Nothing was saved.") {
			t.Errorf("%s: no alert", b.path)
		}
	}
	if after := e.nrecords(t); after != before {
		t.Errorf("bad input stored records: %d before, %d after", before, after)
	}
	// A stale version is a conflict, not an overwrite.
	if r := c.post("/parties/"+party, url.Values{"name": {"Renamed"}, "version": {"7"}}, true); r.status != http.StatusConflict {
		t.Errorf("stale edit: %d", r.status)
	}
	if r := c.post("/parties/"+party, url.Values{"name": {"Renamed police"}, "version": {"1"}}, true); r.status != http.StatusSeeOther {
		t.Errorf("edit: %d %s", r.status, r.body)
	}
	if r := c.get("/parties/" + party); !strings.Contains(r.body, "Renamed police") {
		t.Error("edit not shown")
	}
}

// TestRecordsRestricted: an incident restricted to one investigator is
// invisible to another: 404 by direct URL for it, its acts and their
// forms, absent from the list; its member sees it, and can add the other.
func TestRecordsRestricted(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	e.account(t, "Olga", vigil.RoleInvestigator, "en", "another investigator passphrase")
	base := e.serve(t)
	ivan, olga := newClient(t, base), newClient(t, base)
	e.signIn(t, ivan, "Ivan", "investigator passphrase", nil)
	e.signIn(t, olga, "Olga", "another investigator passphrase", nil)
	open := e.mk(t, cli, vigil.Incident{Title: "Open incident"})
	r := ivan.post("/incidents", url.Values{"title": {"Secret wave"}, "restricted": {"1"}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	inc := r.loc
	incID, _ := vigil.ParseID(strings.TrimPrefix(inc, "/incidents/"))
	act := e.mk(t, cli, vigil.Act{Incident: incID, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}})
	if r := ivan.get(inc); r.status != 200 || !strings.Contains(r.body, "Secret wave") || !strings.Contains(r.body, "Members") {
		t.Fatalf("member: %d", r.status)
	}
	for _, p := range []string{inc, "/acts/" + act.String(), "/acts/" + act.String() + "/denial"} {
		if r := olga.get(p); r.status != http.StatusNotFound || strings.Contains(r.body, "Secret wave") {
			t.Errorf("non-member GET %s: %d", p, r.status)
		}
	}
	for _, p := range []string{inc, inc + "/acts", inc + "/members", "/acts/" + act.String(), "/acts/" + act.String() + "/denial"} {
		r := olga.post(p, url.Values{"title": {"x"}, "type": {"torture"}, "add": {"Olga"}, "version": {"1"}, "claim.quote": {"no"}, "source.name": {"x"}}, true)
		if r.status != http.StatusNotFound {
			t.Errorf("non-member POST %s: %d", p, r.status)
		}
	}
	if r := olga.get("/incidents"); strings.Contains(r.body, "Secret wave") || strings.Contains(r.body, incID.String()) || !strings.Contains(r.body, open.String()) {
		t.Errorf("non-member's list shows the restricted incident or lacks the open one")
	}
	// The member adds Olga; then she sees it.
	if r := ivan.post(inc+"/members", url.Values{"add": {"Olga"}, "version": {"1"}}, true); r.status != http.StatusSeeOther {
		t.Fatalf("add member: %d %s", r.status, r.body)
	}
	if r := olga.get("/acts/" + act.String()); r.status != 200 {
		t.Errorf("new member: %d", r.status)
	}
	// Ivan cannot remove himself (the service keeps the writer a member).
	if r := ivan.post(inc+"/members", url.Values{"remove": {"Ivan"}, "version": {"2"}}, true); r.status != http.StatusBadRequest || !strings.Contains(r.body, "must keep you") {
		t.Errorf("remove self: %d", r.status)
	}
	if r := ivan.post(inc+"/members", url.Values{"remove": {"Olga"}, "version": {"2"}}, true); r.status != http.StatusSeeOther {
		t.Errorf("remove Olga: %d %s", r.status, r.body)
	}
	if r := olga.get(inc); r.status != http.StatusNotFound {
		t.Errorf("removed member: %d", r.status)
	}
}

// recordPath reports whether a route is one of the case record routes.
func recordPath(p string) bool {
	for _, pre := range []string{"/incidents", "/acts/", "/people", "/places", "/parties"} {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return strings.HasSuffix(p, "/triage")
}

// TestRecordsIntake: an intake account gets 403 on every case record
// route, and a change it tries stores nothing; an analyst reads but
// cannot write (403 from the service).
func TestRecordsIntake(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Iris", vigil.RoleIntake, "en", "door keys and tea")
	e.account(t, "Ana", vigil.RoleAnalyst, "en", "numbers all day long")
	inc := e.mk(t, cli, vigil.Incident{Title: "Wave"})
	sub := e.submit(t, "text", nil)
	base := e.serve(t)
	c := newClient(t, base)
	e.signIn(t, c, "Iris", "door keys and tea", nil)
	before := e.nrecords(t)
	n := 0
	for _, rt := range staffweb.Routes() {
		if !recordPath(rt.Path) {
			continue
		}
		n++
		p := strings.ReplaceAll(rt.Path, "{id}", inc.String())
		if strings.HasPrefix(rt.Path, "/inbox/") {
			p = strings.ReplaceAll(rt.Path, "{id}", sub.String())
		}
		var r resp
		if rt.Method == "GET" {
			r = c.get(p)
		} else {
			r = c.post(p, url.Values{"title": {"x"}, "name": {"x"}, "pseudonym": {"x"}, "incident.title": {"x"}, "acts[0].type": {"torture"}}, true)
		}
		if r.status != http.StatusForbidden {
			t.Errorf("intake %s %s: %d, want 403", rt.Method, p, r.status)
		}
	}
	if n < 20 {
		t.Fatalf("only %d record routes", n)
	}
	if r := c.get("/inbox/" + sub.String()); strings.Contains(r.body, "/triage") {
		t.Error("intake sees the triage link")
	}
	a := newClient(t, base)
	e.signIn(t, a, "Ana", "numbers all day long", nil)
	if r := a.get("/incidents/" + inc.String()); r.status != 200 || strings.Contains(r.body, `action="/incidents/`) {
		t.Errorf("analyst incident page: %d (forms shown?)", r.status)
	}
	if r := a.post("/incidents", url.Values{"title": {"Analyst's"}}, true); r.status != http.StatusForbidden {
		t.Errorf("analyst create: %d", r.status)
	}
	if after := e.nrecords(t); after != before {
		t.Errorf("refused requests stored records: %d, %d", before, after)
	}
}

// TestRecordsHTMLInert: HTML and script in every stored field of the case
// records render as text on every record page.
func TestRecordsHTMLInert(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`
	sub := e.submit(t, "testimony "+evil, nil)
	region := e.mk(t, cli, vigil.Place{Names: map[string]string{"en": "R " + evil, "ru": "Р " + evil}, Kind: "k " + evil})
	place := e.mk(t, cli, vigil.Place{Names: map[string]string{"en": "P " + evil}, Parent: region})
	ministry := e.mk(t, cli, vigil.Party{Name: "M " + evil})
	unit := e.mk(t, cli, vigil.Party{Name: "U " + evil, Parent: ministry})
	person := e.mk(t, cli, vigil.Person{Pseudonym: "W " + evil, Private: &vigil.PersonPrivate{
		Names: []vigil.PersonName{{Script: "Latn", Name: "N " + evil}}, Contacts: []vigil.Contact{{Kind: "k" + evil, Value: "v" + evil}}}})
	inc := e.mk(t, cli, vigil.Incident{Title: "T " + evil, Description: "D " + evil, Place: region, Restricted: []string{"Ivan", "x" + evil}})
	act := e.mk(t, cli, vigil.Act{Incident: inc, Type: "torture", Description: "A " + evil, Place: place, Perpetrators: []vigil.ID{unit},
		VictimPersons: []vigil.ID{person}, Victims: vigil.VictimCount{Min: 1, Max: 1}})
	src := e.mk(t, cli, vigil.Source{Name: "S " + evil, Type: vigil.SourceOfficial, Reliability: "F", Party: ministry, Origin: "o" + evil})
	e.mk(t, cli, vigil.Claim{Act: act, Source: src, Stance: vigil.Denies, Credibility: 6, Quote: "Q " + evil})
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)
	for _, p := range []string{"/incidents", "/incidents/" + inc.String(), "/acts/" + act.String(), "/acts/" + act.String() + "/denial",
		"/people", "/people/" + person.String(), "/places", "/places/" + region.String(), "/places/" + place.String(),
		"/parties", "/parties/" + ministry.String(), "/parties/" + unit.String(), "/inbox/" + sub.String() + "/triage"} {
		r := c.get(p)
		if r.status != 200 {
			t.Errorf("%s: %d", p, r.status)
			continue
		}
		for _, bad := range []string{"<script>alert", "<img src=x"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("%s renders %q raw", p, bad)
			}
		}
		if !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: the escaped text is missing", p)
		}
	}
}

// TestIncidentsPaginate: the incident list shows 50 a page with a link to
// the next; the second page holds the rest, none twice; restricted
// incidents of others are on no page.
func TestIncidentsPaginate(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	var changes []cases.Change
	for i := range 66 {
		inc := vigil.Incident{Title: fmt.Sprintf("Incident number %02d", i)}
		if i%11 == 0 {
			inc.Restricted = []string{"Olga"}
			inc.Title = fmt.Sprintf("Hidden incident %02d", i)
		}
		changes = append(changes, cases.Change{Doc: inc})
	}
	_, err := e.d.Cases.Apply(t.Context(), cli, changes)
	must(t, err)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)
	rows := regexp.MustCompile(`>Incident number (\d\d)</a>`)
	next := regexp.MustCompile(`href="(/incidents\?after=[0-9a-z]{26})" rel="next"`)
	seen := map[string]bool{}
	p1 := c.get("/incidents")
	got := rows.FindAllStringSubmatch(p1.body, -1)
	m := next.FindStringSubmatch(p1.body)
	if len(got) != 50 || m == nil {
		t.Fatalf("page 1: %d rows, next link %v", len(got), m)
	}
	p2 := c.get(m[1])
	got2 := rows.FindAllStringSubmatch(p2.body, -1)
	if len(got2) != 10 || next.MatchString(p2.body) {
		t.Errorf("page 2: %d rows (want 10), next link %v", len(got2), next.MatchString(p2.body))
	}
	for _, g := range append(got, got2...) {
		if seen[g[1]] {
			t.Errorf("incident %s on two pages", g[1])
		}
		seen[g[1]] = true
	}
	for _, b := range []string{p1.body, p2.body} {
		if strings.Contains(b, "Hidden incident") {
			t.Error("a restricted incident of others is listed")
		}
	}
}

// TestRecordPagesUniqueIDs: no element ID is used twice on a record page
// (two forms with fields of the same names), and every label points to a
// field.
func TestRecordPagesUniqueIDs(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	party := e.mk(t, cli, vigil.Party{Name: "Police"})
	place := e.mk(t, cli, vigil.Place{Names: map[string]string{"en": "Town"}})
	person := e.mk(t, cli, vigil.Person{Pseudonym: "W"})
	inc := e.mk(t, cli, vigil.Incident{Title: "Wave", Restricted: []string{"Ivan"}})
	act := e.mk(t, cli, vigil.Act{Incident: inc, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}, Perpetrators: []vigil.ID{party}})
	sub := e.submit(t, "text", nil)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)
	idRe := regexp.MustCompile(` id="([^"]+)"`)
	forRe := regexp.MustCompile(` for="([^"]+)"`)
	for _, p := range []string{"/incidents", "/incidents/" + inc.String(), "/acts/" + act.String(), "/acts/" + act.String() + "/denial",
		"/people", "/people/" + person.String(), "/places", "/places/" + place.String(), "/parties", "/parties/" + party.String(),
		"/inbox/" + sub.String() + "/triage", "/inbox/" + sub.String()} {
		r := c.get(p)
		ids := map[string]int{}
		for _, m := range idRe.FindAllStringSubmatch(r.body, -1) {
			ids[m[1]]++
		}
		for id, n := range ids {
			if n > 1 {
				t.Errorf("%s: id %q used %d times", p, id, n)
			}
		}
		for _, m := range forRe.FindAllStringSubmatch(r.body, -1) {
			if ids[m[1]] != 1 {
				t.Errorf("%s: label for %q has no field", p, m[1])
			}
		}
	}
}
