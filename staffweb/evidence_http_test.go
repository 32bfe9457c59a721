package staffweb_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/staffweb"
)

// caseSetup is an incident with one act, and a restricted incident with
// one act and one claim.
type caseSetup struct {
	incident, act          vigil.ID
	secret, secretAct      vigil.ID
	secretClaim, secretSrc vigil.ID
}

func (e *env) create(t testing.TB, doc cases.Doc) vigil.ID {
	t.Helper()
	refs, err := e.d.Cases.Apply(context.Background(), cli, []cases.Change{{Doc: doc}})
	must(t, err)
	return refs[0].ID
}

func (e *env) cases(t testing.TB, restrictedTo ...string) caseSetup {
	t.Helper()
	var c caseSetup
	c.incident = e.create(t, vigil.Incident{Title: "Detentions at the station square"})
	c.act = e.create(t, vigil.Act{Incident: c.incident, Type: "arbitrary_detention", Description: "Three people held overnight", Victims: vigil.VictimCount{Min: 3, Max: 3}})
	c.secret = e.create(t, vigil.Incident{Title: "Secret incident", Restricted: append([]string{"nobody-else"}, restrictedTo...)})
	c.secretAct = e.create(t, vigil.Act{Incident: c.secret, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}})
	c.secretSrc = e.create(t, vigil.Source{Name: "Hotline", Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB})
	c.secretClaim = e.create(t, vigil.Claim{Act: c.secretAct, Source: c.secretSrc, Stance: vigil.Affirms, Credibility: 2, Quote: "secret quote"})
	return c
}

// status returns the act's corroboration status as package cases has it.
func (e *env) status(t testing.TB, act vigil.ID) corroborate.Status {
	t.Helper()
	r, err := e.d.Cases.Corroboration(context.Background(), cli, act)
	must(t, err)
	return r.Result.Status
}

func (e *env) count(t testing.TB, kind string) int {
	t.Helper()
	recs, err := e.d.Cases.List(context.Background(), cli, kind, vigil.ID{}, cases.MaxLimit)
	must(t, err)
	return len(recs)
}

func (e *env) items(t testing.TB) int {
	t.Helper()
	l, err := e.d.Evidence.Page(context.Background(), vigil.ID{}, 500)
	must(t, err)
	return len(l)
}

// upload posts a multipart form: fields in order, then the file.
func (c *client) upload(path string, fields [][2]string, name string, content io.Reader) resp {
	c.t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range fields {
			mw.WriteField(f[0], f[1])
		}
		if name != "" {
			fw, err := mw.CreateFormFile("file", name)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(fw, content); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest("POST", c.base+path, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.origin)
	return c.do(req)
}

var idInLoc = regexp.MustCompile(`^/(?:claims|sources|evidence)/([0-9a-z]{26})`)

func locID(t testing.TB, r resp) vigil.ID {
	t.Helper()
	m := idInLoc.FindStringSubmatch(r.loc)
	if m == nil {
		t.Fatalf("no ID in the redirect: %d %q\n%s", r.status, r.loc, r.body)
	}
	id, err := vigil.ParseID(m[1])
	must(t, err)
	return id
}

// TestEvidenceWorkflowHTTP: a source and claims made through the forms
// move the act from unverified to corroborated; an uploaded item attached
// to a claim confirms it; every page shows the status the service computes.
func TestEvidenceWorkflowHTTP(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	cs := e.cases(t)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)

	var sources []vigil.ID
	for i, origin := range []string{"Memorial hotline", "Novaya Gazeta"} {
		r := c.post("/sources", url.Values{"name": {fmt.Sprintf("Source %d", i)}, "type": {"ngo"}, "reliability": {"C"}, "origin": {origin}}, true)
		if r.status != http.StatusSeeOther {
			t.Fatalf("new source: %d %s", r.status, r.body)
		}
		sources = append(sources, locID(t, r))
	}
	if r := c.get("/sources"); r.status != 200 || !strings.Contains(r.body, "Source 1") || !strings.Contains(r.body, "fairly reliable") {
		t.Fatalf("sources list: %d\n%s", r.status, r.body)
	}
	var claims []vigil.ID
	for i, src := range sources {
		if r := c.get("/claims/new?act=" + cs.act.String()); r.status != 200 || !strings.Contains(r.body, "Three people held overnight") {
			t.Fatalf("claim form: %d\n%s", r.status, r.body)
		}
		r := c.post("/claims", url.Values{"act": {cs.act.String()}, "source": {src.String()}, "stance": {"affirms"}, "credibility": {"3"}, "quote": {"They were held"}, "evidence-shown": {"1"}}, true)
		if r.status != http.StatusSeeOther {
			t.Fatalf("claim %d: %d %s", i, r.status, r.body)
		}
		claims = append(claims, locID(t, r))
		want := []corroborate.Status{corroborate.Reported, corroborate.Corroborated}[i]
		if got := e.status(t, cs.act); got != want {
			t.Fatalf("after claim %d: %s, want %s", i, got, want)
		}
		page := c.get(r.loc)
		if !strings.Contains(page.body, `id="act-status">`+map[corroborate.Status]string{corroborate.Reported: "Reported", corroborate.Corroborated: "Corroborated"}[want]) {
			t.Errorf("claim page after save does not show %s:\n%s", want, page.body)
		}
	}
	r := c.upload("/evidence/upload", [][2]string{{"csrf", c.csrf}, {"claim", claims[0].String()}}, "photo.png", bytes.NewReader(pngBytes(t)))
	if r.status != http.StatusSeeOther || !strings.Contains(r.loc, "claim="+claims[0].String()) {
		t.Fatalf("upload: %d %q %s", r.status, r.loc, r.body)
	}
	item := locID(t, r)
	page := c.get(r.loc)
	if page.status != 200 || !strings.Contains(page.body, `id="attach"`) || !strings.Contains(page.body, "/evidence/"+item.String()+"/content") {
		t.Fatalf("item page: %d\n%s", page.status, page.body)
	}
	if r := c.get("/evidence/" + item.String() + "/content"); r.header.Get("Content-Type") != "image/png" || r.body != string(pngBytes(t)) {
		t.Errorf("item content: %s, %d bytes", r.header.Get("Content-Type"), len(r.body))
	}
	if r := c.get("/evidence"); !strings.Contains(r.body, "/evidence/"+item.String()) || strings.Contains(r.body, "photo.png") {
		t.Errorf("vault list: the item is missing or its name shows:\n%s", r.body)
	}
	r = c.post("/evidence/"+item.String()+"/attach", url.Values{"claim": {claims[0].String()}}, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("attach: %d %s", r.status, r.body)
	}
	if got := e.status(t, cs.act); got != corroborate.Confirmed {
		t.Fatalf("after attaching: %s", got)
	}
	if page := c.get(r.loc); !strings.Contains(page.body, `id="act-status">Confirmed`) || !strings.Contains(page.body, "Leaf ") {
		t.Errorf("claim page after attach:\n%s", page.body)
	}
}

// TestEvidenceBadInput: bad forms are a 400 with the problem named next to
// its field, and nothing is written.
func TestEvidenceBadInput(t *testing.T) {
	e := newEnv(t, true, true)
	e.srv.MaxUpload = 1000
	e.h = e.srv.Handler()
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	cs := e.cases(t)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)
	sources, claims, items := e.count(t, cases.KindSource), e.count(t, cases.KindClaim), e.items(t)

	r := c.post("/sources", url.Values{"name": {"Bad grade"}, "type": {"ngo"}, "reliability": {"Z"}}, true)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="reliability-err">Choose a grade from A to F.`) || !strings.Contains(r.body, `value="Bad grade"`) {
		t.Errorf("bad grade: %d\n%s", r.status, r.body)
	}
	r = c.post("/claims", url.Values{"act": {vigil.NewID().String()}, "source": {cs.secretSrc.String()}, "stance": {"affirms"}, "credibility": {"2"}}, true)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Choose an act that exists") {
		t.Errorf("unknown act: %d\n%s", r.status, r.body)
	}
	r = c.post("/claims", url.Values{"act": {cs.act.String()}, "source": {cs.secretSrc.String()}, "stance": {"supports"}, "credibility": {"9"}}, true)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="stance-err"`) || !strings.Contains(r.body, `id="credibility-err"`) {
		t.Errorf("bad stance and credibility: %d\n%s", r.status, r.body)
	}
	if r := c.get("/claims/new?act=" + vigil.NewID().String()); r.status != http.StatusNotFound {
		t.Errorf("claim form for an unknown act: %d", r.status)
	}
	r = c.upload("/evidence/upload", [][2]string{{"csrf", c.csrf}}, "big.bin", bytes.NewReader(make([]byte, 4000)))
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "larger than the limit of 1,000 bytes") {
		t.Errorf("oversize upload: %d\n%s", r.status, r.body)
	}
	r = c.upload("/evidence/upload", [][2]string{{"csrf", c.csrf}}, "", nil)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Choose a file") {
		t.Errorf("no file: %d\n%s", r.status, r.body)
	}
	// A multipart body cut short in the middle of the file.
	body := "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + c.csrf + "\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\r\nhalf a fi"
	req, _ := http.NewRequest("POST", c.base+"/evidence/upload", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.Header.Set("Origin", c.origin)
	if r := c.do(req); r.status != http.StatusBadRequest || !strings.Contains(r.body, "not a proper file form") {
		t.Errorf("malformed multipart: %d\n%s", r.status, r.body)
	}
	// Not multipart at all (the CSRF token in a urlencoded form).
	if r := c.post("/evidence/upload", url.Values{"file": {"text"}}, true); r.status != http.StatusBadRequest {
		t.Errorf("urlencoded upload: %d\n%s", r.status, r.body)
	}
	if r := c.post("/evidence/"+vigil.NewID().String()+"/attach", url.Values{"claim": {"nope"}}, true); r.status != http.StatusNotFound {
		t.Errorf("attach an unknown item: %d", r.status)
	}
	if got := [3]int{e.count(t, cases.KindSource), e.count(t, cases.KindClaim), e.items(t)}; got != [3]int{sources, claims, items} {
		t.Errorf("bad input changed the records: sources, claims, items %v, want %v", got, [3]int{sources, claims, items})
	}
}

// TestEvidenceAccess: a non-member gets 404 for a restricted incident's
// claims and acts on every claim route; intake gets 403 on every route of
// the area; analysts read but cannot write.
func TestEvidenceAccess(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	e.account(t, "Inna", vigil.RoleIntake, "en", "intake passphrase long")
	e.account(t, "Anna", vigil.RoleAnalyst, "en", "analyst passphrase long")
	cs := e.cases(t)
	item, err := e.d.Evidence.Add(context.Background(), strings.NewReader("doc"), "doc.txt", "")
	must(t, err)
	base := e.serve(t)
	c := newClient(t, base)
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)
	claims := e.count(t, cases.KindClaim)
	for _, p := range []string{"/claims/" + cs.secretClaim.String(), "/claims/new?act=" + cs.secretAct.String(), "/evidence/" + item.ID.String() + "?claim=" + cs.secretClaim.String()} {
		if r := c.get(p); r.status != http.StatusNotFound || strings.Contains(r.body, "secret quote") {
			t.Errorf("non-member GET %s: %d", p, r.status)
		}
	}
	if r := c.post("/claims/"+cs.secretClaim.String(), url.Values{"version": {"1"}, "source": {cs.secretSrc.String()}, "stance": {"denies"}, "credibility": {"1"}}, true); r.status != http.StatusNotFound {
		t.Errorf("non-member edit: %d", r.status)
	}
	if r := c.post("/claims", url.Values{"act": {cs.secretAct.String()}, "source": {cs.secretSrc.String()}, "stance": {"affirms"}, "credibility": {"1"}}, true); r.status != http.StatusBadRequest {
		t.Errorf("non-member claim on a restricted act: %d", r.status)
	}
	if r := c.post("/evidence/"+item.ID.String()+"/attach", url.Values{"claim": {cs.secretClaim.String()}}, true); r.status != http.StatusNotFound {
		t.Errorf("non-member attach: %d", r.status)
	}
	if r := c.get("/claims/new"); strings.Contains(r.body, cs.secretAct.String()) || strings.Contains(r.body, "Secret incident") {
		t.Error("the act chooser lists a restricted act")
	}
	if r := c.get("/evidence/bundle"); r.status == 200 && strings.Contains(r.body, "Secret incident") {
		t.Error("the bundle page lists a restricted incident")
	}
	if claims != e.count(t, cases.KindClaim) || e.status(t, cs.secretAct) != corroborate.Reported {
		t.Error("a non-member changed the restricted incident's claims")
	}

	ci := newClient(t, base)
	e.signIn(t, ci, "Inna", "intake passphrase long", nil)
	sub := e.submit(t, "statement", nil)
	n := 0
	for _, rt := range evidenceRoutesForTest() {
		n++
		p := strings.NewReplacer("{id}", item.ID.String()).Replace(rt[1])
		if strings.HasPrefix(rt[1], "/inbox/") {
			p = "/inbox/" + sub.String() + "/claims"
		}
		var r resp
		if rt[0] == "GET" {
			r = ci.get(p)
		} else {
			r = ci.post(p, url.Values{"name": {"x"}}, true)
		}
		if r.status != http.StatusForbidden {
			t.Errorf("intake %s %s: %d, want 403", rt[0], p, r.status)
		}
	}
	if n < 15 {
		t.Fatalf("only %d routes", n)
	}
	ca := newClient(t, base)
	e.signIn(t, ca, "Anna", "analyst passphrase long", nil)
	if r := ca.get("/sources"); r.status != 200 || strings.Contains(r.body, `href="/sources/new"`) {
		t.Errorf("analyst sources: %d", r.status)
	}
	if r := ca.post("/sources", url.Values{"name": {"x"}, "type": {"ngo"}, "reliability": {"A"}}, true); r.status != http.StatusForbidden {
		t.Errorf("analyst creates a source: %d", r.status)
	}
}

// evidenceRoutesForTest lists this area's routes: method and path.
func evidenceRoutesForTest() [][2]string {
	var out [][2]string
	for _, rt := range staffweb.Routes() {
		for _, pre := range []string{"/sources", "/claims", "/evidence", "/inbox/{id}/claims"} {
			if strings.HasPrefix(rt.Path, pre) {
				out = append(out, [2]string{rt.Method, rt.Path})
				break
			}
		}
	}
	return out
}

// TestBundleHTTP: the bundle route streams a zip of records the principal
// may see, refuses one it may not (404) and needs a fresh sign-in.
func TestBundleHTTP(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	cs := e.cases(t)
	item, err := e.d.Evidence.Add(context.Background(), strings.NewReader("doc"), "doc.txt", "")
	must(t, err)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)
	if r := c.post("/reauth", url.Values{"passphrase": {"investigator passphrase"}, "next": {"/evidence/bundle"}}, true); r.status != http.StatusSeeOther {
		t.Fatalf("reauth: %d", r.status)
	}
	r := c.post("/evidence/bundle", url.Values{"id": {cs.act.String(), item.ID.String()}, "content": {"1"}}, true)
	if r.status != 200 || r.header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(r.body, "PK") {
		t.Fatalf("bundle: %d %v\n%.500s", r.status, r.header, r.body)
	}
	if r := c.post("/evidence/bundle", url.Values{"id": {cs.secretClaim.String()}}, true); r.status != http.StatusNotFound || strings.HasPrefix(r.body, "PK") {
		t.Errorf("bundle of a restricted claim: %d", r.status)
	}
	if r := c.post("/evidence/bundle", url.Values{"id": {"not-an-id"}}, true); r.status != http.StatusBadRequest {
		t.Errorf("bundle of a bad ID: %d", r.status)
	}
}

// TestStatementsToClaims: a submission's text and its source's messages
// become claims about an act, all with a new source for the submission
// and the submission named; a bad form (no statement ticked, a restricted
// act) stores nothing.
func TestStatementsToClaims(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	cs := e.cases(t)
	sub := e.submit(t, "They took three people from the square.", nil)
	_, err := e.d.Intake.Reply(context.Background(), cli, sub, "Staff question: when?")
	must(t, err)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)
	if r := c.get("/inbox/" + sub.String()); !strings.Contains(r.body, `href="/inbox/`+sub.String()+`/claims"`) {
		t.Fatalf("the submission page does not link to its statements:\n%s", r.body)
	}
	page := c.get("/inbox/" + sub.String() + "/claims")
	if page.status != 200 || !strings.Contains(page.body, "They took three people") || strings.Contains(page.body, "Staff question") || strings.Contains(page.body, "Secret incident") {
		t.Fatalf("statements page: %d\n%s", page.status, page.body)
	}
	sources, claims := e.count(t, cases.KindSource), e.count(t, cases.KindClaim)
	form := url.Values{"act": {cs.act.String()}, "stance": {"affirms"}, "credibility": {"6"}, "source": {"new"},
		"source-name": {"Submission A"}, "source-type": {"victim"}, "source-reliability": {"F"}}
	if r := c.post("/inbox/"+sub.String()+"/claims", form, true); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Tick at least one statement") {
		t.Errorf("no statement ticked: %d\n%s", r.status, r.body)
	}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("act", cs.secretAct.String())
	bad.Set("statement", "text")
	if r := c.post("/inbox/"+sub.String()+"/claims", bad, true); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Choose an act that exists") {
		t.Errorf("restricted act: %d\n%s", r.status, r.body)
	}
	if got := [2]int{e.count(t, cases.KindSource), e.count(t, cases.KindClaim)}; got != [2]int{sources, claims} {
		t.Fatalf("a refused form stored records: %v", got)
	}
	form.Set("statement", "text")
	r := c.post("/inbox/"+sub.String()+"/claims", form, true)
	if r.status != http.StatusSeeOther {
		t.Fatalf("statements into claims: %d\n%s", r.status, r.body)
	}
	rec, err := e.d.Cases.Get(context.Background(), cli, locID(t, r))
	must(t, err)
	cl := rec.Doc.(vigil.Claim)
	if cl.Act != cs.act || cl.Quote != "They took three people from the square." || len(cl.Submissions) != 1 || cl.Submissions[0] != sub {
		t.Errorf("claim %+v", cl)
	}
	src, err := e.d.Cases.Get(context.Background(), cli, cl.Source)
	must(t, err)
	if s := src.Doc.(vigil.Source); s.Name != "Submission A" || s.Type != vigil.SourceVictim {
		t.Errorf("source %+v", s)
	}
	if e.status(t, cs.act) != corroborate.Reported {
		t.Errorf("act %s", e.status(t, cs.act))
	}
}

// TestEvidenceHTMLInert: HTML in a source's name and origin and a claim's
// statement renders inert on the evidence pages.
func TestEvidenceHTMLInert(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	cs := e.cases(t)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	src := e.create(t, vigil.Source{Name: "src " + evil, Type: vigil.SourceMedia, Reliability: vigil.ReliabilityC, Origin: "o " + evil})
	claim := e.create(t, vigil.Claim{Act: cs.act, Source: src, Stance: vigil.Affirms, Credibility: 3, Quote: "q " + evil})
	item, err := e.d.Evidence.Add(context.Background(), strings.NewReader("x"), evil+".txt", "")
	must(t, err)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Olga Admin", "correct horse battery staple", nil)
	for _, p := range []string{"/sources", "/sources/" + src.String(), "/claims/" + claim.String(), "/claims/new", "/evidence/" + item.ID.String() + "?claim=" + claim.String(), "/evidence/bundle?incident=" + cs.incident.String()} {
		r := c.get(p)
		if r.status != 200 {
			t.Errorf("%s: %d", p, r.status)
		}
		if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x") {
			t.Errorf("%s renders HTML raw", p)
		}
	}
}

// TestSourcesPages: 120 sources come 50 a page, each once, following the
// next-page links; a bad cursor is a 400.
func TestSourcesPages(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Anna", vigil.RoleAnalyst, "en", "analyst passphrase long")
	var changes []cases.Change
	for i := range 120 {
		changes = append(changes, cases.Change{Doc: vigil.Source{Name: fmt.Sprintf("Source no. %03d", i), Type: vigil.SourceWitness, Reliability: vigil.ReliabilityD}})
	}
	_, err := e.d.Cases.Apply(context.Background(), cli, changes)
	must(t, err)
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Anna", "analyst passphrase long", nil)
	next := regexp.MustCompile(`href="(/sources\?after=[0-9a-z]{26})"`)
	row := regexp.MustCompile(`Source no\. \d{3}`)
	seen := map[string]bool{}
	p, pages := "/sources", 0
	for ; p != ""; pages++ {
		r := c.get(p)
		if r.status != 200 || pages > 3 {
			t.Fatalf("%s: %d (page %d)", p, r.status, pages)
		}
		rows := row.FindAllString(r.body, -1)
		if len(rows) > 50 {
			t.Errorf("%s: %d rows", p, len(rows))
		}
		for _, n := range rows {
			if seen[n] {
				t.Errorf("%s listed twice", n)
			}
			seen[n] = true
		}
		p = ""
		if m := next.FindStringSubmatch(r.body); m != nil {
			p = m[1]
		}
	}
	if len(seen) != 120 || pages != 3 {
		t.Errorf("%d sources on %d pages, want 120 on 3", len(seen), pages)
	}
	if r := c.get("/sources?after=nonsense"); r.status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", r.status)
	}
}

// TestClaimFormFindSource: with more sources than the claim form's list
// holds, a source beyond the first 200 by name is found by a word of its
// name typed in the other script or by its origin, and the chosen source
// stays listed first.
func TestClaimFormFindSource(t *testing.T) {
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	cs := e.cases(t)
	var changes []cases.Change
	for i := range 250 {
		changes = append(changes, cases.Change{Doc: vigil.Source{Name: fmt.Sprintf("Witness %03d", i), Type: vigil.SourceWitness, Reliability: vigil.ReliabilityD}})
	}
	_, err := e.d.Cases.Apply(context.Background(), cli, changes)
	must(t, err)
	paper := e.create(t, vigil.Source{Name: "Новая газета", Type: vigil.SourceMedia, Reliability: vigil.ReliabilityB, Origin: "newsroom"})
	chosen := e.create(t, vigil.Source{Name: "Witness 999", Type: vigil.SourceWitness, Reliability: vigil.ReliabilityC})
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)
	option := regexp.MustCompile(`<option value="([0-9a-z]{26})"[^>]*>([^<]*)</option>`)
	sources := func(body string) []string {
		var out []string
		for _, m := range option.FindAllStringSubmatch(body, -1) {
			if m[1] != cs.act.String() {
				out = append(out, m[2])
			}
		}
		return out
	}
	base := "/claims/new?act=" + cs.act.String()
	r := c.get(base)
	if got := sources(r.body); r.status != 200 || len(got) != 200 || got[0] != "Hotline (B)" || got[199] != "Witness 198 (D)" {
		t.Fatalf("unfiltered: %d, %d sources from %q to %q", r.status, len(got), got[0], got[len(got)-1])
	}
	if !strings.Contains(r.body, "first 200 of 253 sources") || strings.Contains(r.body, paper.String()) {
		t.Errorf("unfiltered list does not say it is cut, or holds the paper beyond 200:\n%s", r.body)
	}
	for _, q := range []string{"novaya", "Новая", "gazet", "NEWSROOM"} {
		r := c.get(base + "&find-source=" + url.QueryEscape(q))
		if got := sources(r.body); len(got) != 1 || got[0] != "Новая газета (B)" || !strings.Contains(r.body, "1 of 253 sources match") {
			t.Errorf("find %q: %q\n%s", q, got, r.body)
		}
		if !strings.Contains(r.body, `value="`+paper.String()+`" selected`) {
			t.Errorf("find %q: the one source found is not chosen", q)
		}
		if !strings.Contains(r.body, `name="act" value="`+cs.act.String()+`"`) {
			t.Errorf("find %q: the form lost its act", q)
		}
	}
	r = c.get(base + "&source=" + chosen.String() + "&find-source=novaya")
	if got := sources(r.body); len(got) != 2 || got[0] != "Witness 999 (C)" || !strings.Contains(r.body, `value="`+chosen.String()+`" selected`) {
		t.Errorf("the chosen source is not kept first and selected: %q", got)
	}
	if got := sources(c.get(base + "&find-source=zzz").body); len(got) != 0 {
		t.Errorf("find zzz: %q", got)
	}

}
