package staffweb_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
)

// Accounts of the insight tests: Ivan is let into the restricted
// incident, Nina (an analyst) is not.
const (
	ivanName = "Ivan Investigator"
	ivanPass = "ivan's long passphrase"
	ninaName = "Nina Analyst"
	ninaPass = "nina's long passphrase"
)

// insightRecords are case records written through the cases service: an
// open incident with a confirmed detention of 10 to 40 people, one of
// them "Ахмед", in March 2024 in Argun (in Chechnya); and an incident
// restricted to Ivan with a confirmed (credible sources) case of torture of 5 to 7 people
// in May 2024 at a place of its own.
type insightRecords struct {
	region, town, secretPlace vigil.ID
	person                    vigil.ID
	incident, act             vigil.ID
	restricted, restrictedAct vigil.ID
	ngo, paper                vigil.ID
	restrictedTitle, actQuote string
	restrictedPlace           string
}

var writer = vigil.Principal{Actor: "test:writer", Account: "writer", Role: vigil.RoleAdmin}

func create(t testing.TB, e *env, doc cases.Doc) vigil.ID {
	t.Helper()
	refs, err := e.d.Cases.Apply(context.Background(), writer, []cases.Change{{Doc: doc}})
	must(t, err)
	return refs[0].ID
}

func day(t testing.TB, s string) vigil.Date {
	t.Helper()
	d, err := vigil.ParseDate(s)
	must(t, err)
	return d
}

func (e *env) insightRecords(t testing.TB) insightRecords {
	t.Helper()
	var f insightRecords
	f.region = create(t, e, vigil.Place{Names: map[string]string{"en": "Chechnya", "ru": "Чечня"}, Kind: "region"})
	f.town = create(t, e, vigil.Place{Names: map[string]string{"en": "Argun", "ru": "Аргун"}, Parent: f.region})
	f.restrictedPlace = "Secretville"
	f.secretPlace = create(t, e, vigil.Place{Names: map[string]string{"en": f.restrictedPlace}})
	f.ngo = create(t, e, vigil.Source{Name: "NGO hotline", Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB, Origin: "hotline"})
	f.paper = create(t, e, vigil.Source{Name: "Newspaper", Type: vigil.SourceMedia, Reliability: vigil.ReliabilityC})
	f.person = create(t, e, vigil.Person{Pseudonym: "Ахмед"})
	f.incident = create(t, e, vigil.Incident{Title: "Задержания в Аргуне", Place: f.town, Period: vigil.Period{From: day(t, "2024-03-03")}})
	f.act = create(t, e, vigil.Act{Incident: f.incident, Type: "arbitrary_detention", Place: f.town, Period: vigil.Period{From: day(t, "2024-03-03")},
		Victims: vigil.VictimCount{Min: 10, Max: 40}, VictimPersons: []vigil.ID{f.person}})
	create(t, e, vigil.Claim{Act: f.act, Source: f.ngo, Stance: vigil.Affirms, Credibility: 2, Quote: "не менее десяти задержанных"})
	create(t, e, vigil.Claim{Act: f.act, Source: f.paper, Stance: vigil.Affirms, Credibility: 3})
	f.restrictedTitle = "Hidden torture case"
	f.restricted = create(t, e, vigil.Incident{Title: f.restrictedTitle, Restricted: []string{ivanName}, Place: f.secretPlace})
	f.actQuote = "beaten in the basement"
	f.restrictedAct = create(t, e, vigil.Act{Incident: f.restricted, Type: "torture", Place: f.secretPlace, Period: vigil.Period{From: day(t, "2024-05")},
		Victims: vigil.VictimCount{Min: 5, Max: 7}})
	create(t, e, vigil.Claim{Act: f.restrictedAct, Source: f.ngo, Stance: vigil.Affirms, Credibility: 2, Quote: f.actQuote})
	create(t, e, vigil.Claim{Act: f.restrictedAct, Source: f.paper, Stance: vigil.Affirms, Credibility: 2})
	return f
}

// memberAndNot serves the insight records with Nina (not let into the
// restricted incident) and Ivan (let in) signed in.
func memberAndNot(t *testing.T) (e *env, f insightRecords, nina, ivan *client) {
	e = newEnv(t, true, true)
	e.account(t, ivanName, vigil.RoleInvestigator, "en", ivanPass)
	e.account(t, ninaName, vigil.RoleAnalyst, "en", ninaPass)
	f = e.insightRecords(t)
	base := e.serve(t)
	nina, ivan = newClient(t, base), newClient(t, base)
	e.signIn(t, nina, ninaName, ninaPass, nil)
	e.signIn(t, ivan, ivanName, ivanPass, nil)
	return e, f, nina, ivan
}

// search posts a search and returns the results page and its URL.
func (c *client) search(form url.Values) (resp, string) {
	c.t.Helper()
	r := c.post("/search", form, true)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/search?s=") {
		c.t.Fatalf("search %v: %d %s\n%s", form, r.status, r.loc, r.body)
	}
	return c.get(r.loc), r.loc
}

var facetCount = func(name, value string) *regexp.Regexp {
	return regexp.MustCompile(`name="facet" value="` + regexp.QuoteMeta(name+":"+value) + `"[^>]*>[^<]*<span class="count">([0-9,]+)</span>`)
}

func facet(body, name, value string) string {
	m := facetCount(name, value).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestSearchPage: a Latin-typed name finds the Cyrillic pseudonym; the URL
// carries only an opaque ID; facets count and refine; the saved search is
// the session's own and is forgotten on seal.
func TestSearchPage(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	f := e.insightRecords(t)
	base := e.serve(t)
	c := newClient(t, base)
	secret := e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)

	if r := c.get("/search"); r.status != 200 || !strings.Contains(r.body, `id="q"`) {
		t.Fatalf("empty form: %d", r.status)
	}
	page, loc := c.search(url.Values{"q": {"Akhmed"}})
	if strings.Contains(strings.ToLower(loc), "akhmed") || len(loc) > len("/search?s=")+30 {
		t.Errorf("search URL %q", loc)
	}
	if page.status != 200 || !strings.Contains(page.body, `href="/people/`+f.person.String()+`">Ахмед</a>`) {
		t.Fatalf("Akhmed does not find Ахмед: %d\n%s", page.status, page.body)
	}
	// Browse everything: facets count kinds; a facet refines.
	page, loc = c.search(url.Values{"q": {""}})
	if got := facet(page.body, "kind", "act"); got != "2" {
		t.Errorf("act facet %q, want 2 (the admin sees the restricted act)", got)
	}
	id := strings.TrimPrefix(loc, "/search?s=")
	r := c.post("/search", url.Values{"s": {id}, "facet": {"kind:act"}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("facet: %d", r.status)
	}
	page = c.get(r.loc)
	if !strings.Contains(page.body, `href="/acts/`+f.act.String()+`"`) || strings.Contains(page.body, `href="/incidents/`) {
		t.Errorf("kind facet did not narrow to acts:\n%s", page.body)
	}
	// Date range and place filters.
	page, _ = c.search(url.Values{"from": {"2024-05"}, "to": {"2024-12"}, "kind": {"act"}})
	if !strings.Contains(page.body, `/acts/`+f.restrictedAct.String()) || strings.Contains(page.body, `/acts/`+f.act.String()) {
		t.Errorf("date filter:\n%s", page.body)
	}
	page, _ = c.search(url.Values{"place": {f.region.String()}, "kind": {"act"}})
	if !strings.Contains(page.body, `/acts/`+f.act.String()) || strings.Contains(page.body, `/acts/`+f.restrictedAct.String()) {
		t.Errorf("place filter (region holds the town):\n%s", page.body)
	}
	// Another browser's session cannot open this session's search.
	c2 := newClient(t, base)
	e.signIn(t, c2, "Olga Admin", "correct horse battery staple", secret)
	if r := c2.get(loc); r.status != http.StatusNotFound || strings.Contains(r.body, "/people/") {
		t.Errorf("another session opened the search: %d", r.status)
	}
	// Sealing forgets saved searches.
	e.d.Vault.Seal()
	must(t, e.d.Vault.Unseal([]byte(vaultPass)))
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", secret)
	if r := c.get(loc); r.status != http.StatusNotFound {
		t.Errorf("saved search after seal: %d", r.status)
	}
}

// TestSearchRestricted: a non-member finds nothing of a restricted
// incident, in hits or facets; a member does.
func TestSearchRestricted(t *testing.T) {
	_, f, nina, ivan := memberAndNot(t)
	for _, q := range []string{"", "torture", "Hidden", "basement", "Secretville"} {
		page, _ := nina.search(url.Values{"q": {q}})
		for _, leak := range []string{f.restrictedTitle, f.actQuote, f.restricted.String(), f.restrictedAct.String(), "type:torture"} {
			if strings.Contains(page.body, leak) {
				t.Errorf("non-member searching %q sees %q", q, leak)
			}
		}
		if q == "" {
			if got := facet(page.body, "kind", "act"); got != "1" {
				t.Errorf("non-member's act facet %q, want 1", got)
			}
			if got := facet(page.body, "kind", "incident"); got != "1" {
				t.Errorf("non-member's incident facet %q, want 1", got)
			}
			if got := facet(page.body, "status", "confirmed"); got != "1" {
				t.Errorf("non-member's status facet %q, want 1\n%s", got, page.body)
			}
		}
	}
	page, _ := ivan.search(url.Values{"q": {"basement"}})
	if !strings.Contains(page.body, "/acts/"+f.restrictedAct.String()) {
		t.Errorf("member does not find the restricted act:\n%s", page.body)
	}
	page, _ = ivan.search(url.Values{})
	if got := facet(page.body, "kind", "act"); got != "2" {
		t.Errorf("member's act facet %q, want 2", got)
	}
}

// TestSearchBadInput: a bad field is refused with 400 and its message,
// and no search is saved (no redirect); a bad page or facet is 400 too.
func TestSearchBadInput(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	e.insightRecords(t)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	for _, tc := range []struct {
		form  url.Values
		field string
		msg   string
	}{
		{url.Values{"from": {"2024-13-01"}}, "from", "Write the date as YYYY-MM-DD"},
		{url.Values{"to": {"yesterday"}}, "to", "Write the date as YYYY-MM-DD"},
		{url.Values{"from": {"2024-05"}, "to": {"2024-03"}}, "to", "The end date is before the start date."},
		{url.Values{"kind": {"secret"}}, "kind", "Choose a kind from the list."},
		{url.Values{"type": {"no_such_type"}}, "type", "Choose an act type from the list."},
		{url.Values{"status": {"open"}}, "status", "Choose a status from the list."},
		{url.Values{"place": {vigil.NewID().String()}}, "place", "That place does not exist."},
		{url.Values{"place": {"not an id"}}, "place", "That place does not exist."},
		{url.Values{"q": {strings.Repeat("слово ", 100)}}, "q", "The search text is too long"},
	} {
		r := c.post("/search", tc.form, true)
		if r.status != http.StatusBadRequest || r.loc != "" {
			t.Errorf("%v: %d %q, want 400", tc.form, r.status, r.loc)
			continue
		}
		if !strings.Contains(r.body, `id="`+tc.field+`-err">`+tc.msg) || (tc.field != "place" && !strings.Contains(r.body, `aria-invalid="true"`)) {
			t.Errorf("%v: no message %q next to %s:\n%s", tc.form, tc.msg, tc.field, r.body)
		}
	}
	_, loc := c.search(url.Values{"q": {"Ахмед"}})
	for _, p := range []string{"0", "-1", "x", "100000"} {
		if r := c.get(loc + "&page=" + p); r.status != http.StatusBadRequest {
			t.Errorf("page %s: %d", p, r.status)
		}
	}
	id := strings.TrimPrefix(loc, "/search?s=")
	for _, form := range []url.Values{{"s": {id}, "facet": {"secret:x"}}, {"s": {id}, "unset": {"secret"}}, {"s": {id}, "facet": {"kind:secret"}}} {
		if r := c.post("/search", form, true); r.status != http.StatusBadRequest || r.loc != "" {
			t.Errorf("%v: %d %q", form, r.status, r.loc)
		}
	}
	if r := c.get("/search?s=nosuchsearch"); r.status != http.StatusNotFound || !strings.Contains(r.body, "no longer kept") {
		t.Errorf("unknown search: %d", r.status)
	}
}

// TestInsightIntake: an intake account may search (submissions only) but
// never finds a case record; the figures page is refused.
func TestInsightIntake(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ira Intake", vigil.RoleIntake, "en", "ira's long passphrase")
	e.insightRecords(t)
	e.submit(t, "Ахмед пропал после задержания", nil)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ira Intake", "ira's long passphrase", nil)
	page, _ := c.search(url.Values{"q": {"Akhmed"}})
	if strings.Contains(page.body, "/people/") || !strings.Contains(page.body, `href="/inbox/`) {
		t.Errorf("intake search:\n%s", page.body)
	}
	if r := c.get("/figures"); r.status != http.StatusForbidden {
		t.Errorf("intake /figures: %d, want 403", r.status)
	}
}

// TestInsightInert: HTML and script in stored names, titles, quotes, place
// names and account names come out escaped on the search, figures, audit
// and account pages.
func TestInsightInert(t *testing.T) {
	e := newEnv(t, true, true)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	const name, pass = `Olga <b>Admin<b>`, "correct horse battery staple"
	e.account(t, name, vigil.RoleAdmin, "en", pass)
	place := create(t, e, vigil.Place{Names: map[string]string{"en": "Town " + evil}})
	src := create(t, e, vigil.Source{Name: "Source " + evil, Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB})
	src2 := create(t, e, vigil.Source{Name: "Paper " + evil, Type: vigil.SourceMedia, Reliability: vigil.ReliabilityB})
	create(t, e, vigil.Person{Pseudonym: "Person " + evil})
	inc := create(t, e, vigil.Incident{Title: "Incident " + evil, Place: place})
	act := create(t, e, vigil.Act{Incident: inc, Type: "torture", Place: place, Victims: vigil.VictimCount{Min: 1, Max: 2}})
	create(t, e, vigil.Claim{Act: act, Source: src, Stance: vigil.Affirms, Credibility: 2, Quote: "Quote " + evil})
	create(t, e, vigil.Claim{Act: act, Source: src2, Stance: vigil.Affirms, Credibility: 2})
	c := newClient(t, e.serve(t))
	e.signIn(t, c, name, pass, nil)
	page, _ := c.search(url.Values{"q": {"script alert"}})
	pages := []resp{page, c.get("/figures"), c.get("/audit"), c.get("/account")}
	for i, r := range pages {
		if r.status != 200 {
			t.Fatalf("page %d: %d", i, r.status)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<b>Admin"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("page %d renders %q raw", i, bad)
			}
		}
	}
	if !strings.Contains(page.body, "&lt;script&gt;") || !strings.Contains(pages[1].body, "Town &lt;script&gt;") {
		t.Error("the escaped text is missing")
	}
}
