package staffweb_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/internal/axe"
	"github.com/vigil-hr/vigil/internal/browsertest"
	"github.com/vigil-hr/vigil/staffweb"
)

// world is one record of every kind the UI shows, so that every route with
// a wildcard has a real target: the checks below walk Routes() and reach
// the pages added later without being told about them.
type world struct {
	admin                        account.Account
	sub, file, token             vigil.ID
	incident, act, person, place vigil.ID
	party, source, claim, item   vigil.ID
}

// secretMarker is in every field of the restricted incident's records.
const secretMarker = "Zqxjv"

// restricted is a restricted incident only its member (and admins) may
// see, with an act and a claim of its own, and a person (not restricted)
// as the act's victim.
type restricted struct {
	incident, act, person, claim vigil.ID
}

// newWorld fills e with records of every kind, written by admin.
func (e *env) newWorld(t testing.TB, admin account.Account) world {
	t.Helper()
	ctx := context.Background()
	p := admin.Principal()
	w := world{admin: admin}
	w.sub = e.submit(t, "Меня задержали у рынка. <b>bold</b>", map[string][]byte{"photo.png": pngBytes(t)})
	v, err := e.d.Intake.Get(ctx, p, w.sub)
	must(t, err)
	if len(v.Files) > 0 {
		w.file = v.Files[0].ID
	}
	create := func(kind string, doc cases.Doc) vigil.ID {
		t.Helper()
		ref, err := e.d.Cases.Create(ctx, p, kind, doc)
		must(t, err)
		return ref.ID
	}
	w.place = create(cases.KindPlace, vigil.Place{Names: map[string]string{"en": "Argun", "ru": "Аргун"}, Kind: "town"})
	w.party = create(cases.KindParty, vigil.Party{Name: "Argun police"})
	w.source = create(cases.KindSource, vigil.Source{Name: "NGO hotline", Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB, Origin: "hotline"})
	w.person = create(cases.KindPerson, vigil.Person{Pseudonym: "Ахмед"})
	w.incident = create(cases.KindIncident, vigil.Incident{Title: "Wave of detentions", Place: w.place})
	w.act = create(cases.KindAct, vigil.Act{Incident: w.incident, Type: "arbitrary_detention", Place: w.place,
		Victims: vigil.VictimCount{Min: 2, Max: 5}, VictimPersons: []vigil.ID{w.person}, Perpetrators: []vigil.ID{w.party}})
	w.claim = create(cases.KindClaim, vigil.Claim{Act: w.act, Source: w.source, Stance: vigil.Affirms, Credibility: 3, Quote: "at least two"})
	it, err := e.d.Evidence.Add(ctx, bytes.NewReader(pngBytes(t)), "evidence.png", "image/png")
	must(t, err)
	w.item = it.ID
	tokens := &auth.Tokens{Store: e.d.Store, Vault: e.d.Vault, Audit: e.d.Intake.Audit}
	_, tok, err := tokens.Create(ctx, admin.Actor(), "ci token", vigil.RoleAnalyst)
	must(t, err)
	w.token = tok.ID
	return w
}

// newRestricted adds a restricted incident whose only member is the
// account named member.
func (e *env) newRestricted(t testing.TB, w world, member string) restricted {
	t.Helper()
	ctx := context.Background()
	p := w.admin.Principal()
	create := func(kind string, doc cases.Doc) vigil.ID {
		t.Helper()
		ref, err := e.d.Cases.Create(ctx, p, kind, doc)
		must(t, err)
		return ref.ID
	}
	var r restricted
	// People are not restricted with an incident (one may be in several):
	// the person's page must not name the restricted act.
	r.person = create(cases.KindPerson, vigil.Person{Pseudonym: "Victim of a restricted act"})
	r.incident = create(cases.KindIncident, vigil.Incident{Title: secretMarker + " incident", Description: secretMarker + " summary",
		Place: w.place, Restricted: []string{member}})
	r.act = create(cases.KindAct, vigil.Act{Incident: r.incident, Type: "killing", Place: w.place,
		Victims: vigil.VictimCount{Min: 7, Max: 9}, VictimPersons: []vigil.ID{r.person}, Description: secretMarker + " notes"})
	r.claim = create(cases.KindClaim, vigil.Claim{Act: r.act, Source: w.source, Stance: vigil.Affirms, Credibility: 2, Quote: secretMarker + " quote"})
	return r
}

// fill puts w's IDs into a route's wildcards, by the path's first segment.
func (w world) fill(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	p = strings.ReplaceAll(p, "{file}", w.file.String())
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	id := map[string]vigil.ID{
		"inbox": w.sub, "accounts": w.admin.ID, "tokens": w.token, "incidents": w.incident, "acts": w.act,
		"people": w.person, "places": w.place, "parties": w.party, "sources": w.source, "claims": w.claim,
		"evidence": w.item,
	}[seg]
	if id.IsZero() {
		id = w.sub
	}
	return strings.ReplaceAll(p, "{id}", id.String())
}

// fillRestricted puts r's IDs into a route's wildcards where the route is
// about a kind r has, and reports whether it did.
func (r restricted) fill(p string) (string, bool) {
	p = strings.TrimSuffix(p, "{$}")
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	id, ok := map[string]vigil.ID{"incidents": r.incident, "acts": r.act, "claims": r.claim}[seg]
	if !ok || !strings.Contains(p, "{id}") || strings.Count(p, "{") > 1 {
		return "", false
	}
	return strings.ReplaceAll(p, "{id}", id.String()), true
}

// pages are the GET routes that render a page for a signed-in user.
func pages() []staffweb.Route {
	var out []staffweb.Route
	for _, rt := range staffweb.Routes() {
		// Files (an inbox file, an evidence item's content) are not pages.
		if rt.Method != "GET" || rt.Access == staffweb.Public || strings.Contains(rt.Path, "{file}") || strings.HasSuffix(rt.Path, "/content") {
			continue
		}
		out = append(out, rt)
	}
	return out
}

// TestRestrictedEverywhere: a restricted incident, its act and its claim
// never show to an investigator who is not a member: not in
// any page of the UI (lists, search, figures, the audit trail...), and
// every page about them answers 404 by direct URL. A member sees them:
// the check can fail.
func TestRestrictedEverywhere(t *testing.T) {
	e := newEnv(t, true, true)
	admin := e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	e.account(t, "Ivan Other", vigil.RoleInvestigator, "en", "another long passphrase")
	e.account(t, "Mila Member", vigil.RoleInvestigator, "en", "a member's passphrase")
	w := e.newWorld(t, admin)
	r := e.newRestricted(t, w, "Mila Member")
	base := e.serve(t)

	visit := func(name, pass string) (seen map[string]bool, codes map[string]int) {
		c := newClient(t, base)
		e.signIn(t, c, name, pass, nil)
		e.clock.Add(30 * time.Second)
		if res := c.post("/reauth", url.Values{"passphrase": {pass}, "next": {"/inbox"}}, true); res.status != http.StatusSeeOther {
			t.Fatalf("reauth: %d", res.status)
		}
		seen, codes = map[string]bool{}, map[string]int{}
		// look notes a page that shows the marker or, unless the page was
		// asked for by one of them (it may repeat its own URL), a
		// restricted record's ID.
		look := func(what string, res resp, ids bool) {
			marks := []string{secretMarker}
			if strings.HasPrefix(what, "search "+secretMarker) {
				marks = nil // the search form shows what was typed
			}
			if ids {
				marks = append(marks, r.incident.String(), r.act.String(), r.claim.String())
			}
			for _, m := range marks {
				if i := strings.Index(res.body, m); i >= 0 {
					seen[what] = true
					t.Logf("%s shows %q: ...%s...", what, m, res.body[max(0, i-150):min(len(res.body), i+50)])
				}
			}
		}
		for _, rt := range pages() {
			p := w.fill(rt.Path)
			look("GET "+p, c.get(p), true)
			if rp, ok := r.fill(rt.Path); ok {
				res := c.get(rp)
				codes[rp] = res.status
				look("GET "+rp, res, false)
			}
		}
		// Search, if the UI has it, for the marker and for the place.
		for _, rt := range staffweb.Routes() {
			if rt.Method == "POST" && rt.Path == "/search" {
				for _, q := range []string{secretMarker, "Argun", "killing"} {
					res := c.post("/search", url.Values{"q": {q}}, true)
					if res.status == http.StatusSeeOther {
						res = c.get(res.loc)
					}
					look("search "+q, res, true)
				}
			}
		}
		return seen, codes
	}

	seen, codes := visit("Ivan Other", "another long passphrase")
	for what := range seen {
		t.Errorf("a non-member sees the restricted incident at %s", what)
	}
	if len(codes) == 0 {
		t.Log("no route shows a single incident, act, person or claim yet")
	}
	for p, code := range codes {
		if code != http.StatusNotFound {
			t.Errorf("non-member GET %s: %d, want 404", p, code)
		}
	}
	// The control: the member sees it where the UI shows incidents.
	mseen, mcodes := visit("Mila Member", "a member's passphrase")
	for p, code := range mcodes {
		if code != http.StatusOK && code != http.StatusSeeOther {
			t.Errorf("member GET %s: %d", p, code)
		}
	}
	if len(mcodes) > 0 && len(mseen) == 0 {
		t.Error("the member does not see the restricted incident anywhere: the check cannot fail")
	}
}

// browserSignIn signs name in through the browser, enrolling a TOTP app
// from the secret on the page at the first sign-in, and returns the
// secret for the next ones.
func browserSignIn(t *testing.T, ctx context.Context, e *env, base, name, pass string, secret []byte) []byte {
	t.Helper()
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("passphrase"), pass),
		chromedp.Submit(chromedp.ID("passphrase")))
	if secret == nil {
		browsertest.Do(t, ctx, chromedp.WaitVisible(chromedp.ID("totp-secret")))
		var err error
		secret, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(text(t, ctx, "#totp-secret"), " ", ""))
		must(t, err)
	} else {
		e.clock.Add(30 * time.Second)
		browsertest.Do(t, ctx, chromedp.WaitVisible(chromedp.ID("code")))
	}
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("code"), account.TOTPCode(secret, e.clock.Now())),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("seal-now")))
	return secret
}

// browserReauth confirms the passphrase on the re-authentication page, so
// that the routes behind it open.
func browserReauth(t *testing.T, ctx context.Context, base, pass string) {
	t.Helper()
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/reauth"), chromedp.WaitVisible(chromedp.ID("passphrase")),
		chromedp.SendKeys(chromedp.ID("passphrase"), pass),
		chromedp.Submit(chromedp.ID("passphrase")),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action="/reauth"]`)))
}

// TestBrowserSealEverywhere: after "Seal now" every staff page of the
// route table, with real IDs in its wildcards, sends the browser to the
// sign-in page and shows nothing of the records; another account's
// session, in another client, ended too.
func TestBrowserSealEverywhere(t *testing.T) {
	ctx := startBrowser(t, browsertest.Options{Lang: "ru"})
	e := newEnv(t, true, false)
	base := e.listen(t)
	admin := e.account(t, "Ольга", vigil.RoleAdmin, "ru", "длинная парольная фраза")
	w := e.newWorld(t, admin)
	browserSignIn(t, ctx, e, base, "Ольга", "длинная парольная фраза", nil)
	// Another account in another browser.
	other := startBrowser(t, browsertest.Options{Lang: "ru"})
	e.account(t, "Иван", vigil.RoleInvestigator, "ru", "другая длинная фраза")
	browserSignIn(t, other, e, base, "Иван", "другая длинная фраза", nil)
	browsertest.Do(t, other, chromedp.Navigate(base+"/incidents"), chromedp.WaitVisible(chromedp.ID("seal-now")))
	browsertest.Do(t, ctx, chromedp.Navigate(base+w.fill("/inbox/{id}")), chromedp.WaitVisible(chromedp.ID("seal-now")))
	browsertest.Screenshot(t, ctx, "01-before-seal-ru")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("seal-now")), chromedp.WaitVisible(chromedp.ID("name")))
	if !e.d.Vault.Sealed() {
		t.Fatal("the button did not seal the vault")
	}
	if n := e.sessions.Len(); n != 0 {
		t.Errorf("%d sessions live after seal", n)
	}
	browsertest.Do(t, other, chromedp.Navigate(base+"/incidents"), chromedp.WaitReady(chromedp.CSS("body")))
	if got := path(t, other); !strings.HasPrefix(got, "/signin") {
		t.Errorf("the other account's browser is at %s after seal, want the sign-in page", got)
	}
	checkLang(t, ctx, "ru", "")
	browsertest.Screenshot(t, ctx, "02-sealed-ru")
	n := 0
	for _, rt := range pages() {
		p := w.fill(rt.Path)
		browsertest.Do(t, ctx, chromedp.Navigate(base+p), chromedp.WaitReady(chromedp.CSS("body")))
		n++
		got := path(t, ctx)
		body := text(t, ctx, "body")
		if !strings.HasPrefix(got, "/signin") {
			t.Errorf("%s after seal: at %s, want the sign-in page", p, got)
		}
		for _, leak := range []string{"Wave of detentions", "Ахмед", "NGO hotline", "задержали"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s after seal shows %q", p, leak)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d pages walked", n)
	}
	browsertest.Screenshot(t, ctx, "03-page-after-seal-ru")
}

// TestAxe runs axe-core on every page of the route table, with real
// records behind each, in English at a desktop width and in Russian at a
// phone's (375 px, where no page may scroll sideways), and on the sign-in
// pages: no serious or critical violation.
func TestAxe(t *testing.T) {
	axe.Source(t)
	ctx := startBrowser(t, browsertest.Options{Lang: "en"})
	e := newEnv(t, true, false)
	base := e.listen(t)
	admin := e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	w := e.newWorld(t, admin)
	e.newRestricted(t, w, "Olga Admin")

	browsertest.Do(t, ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.ID("name")))
	axe.Check(t, ctx, "/signin")
	browserSignIn(t, ctx, e, base, "Olga Admin", "correct horse battery staple", nil)
	// A passkey besides TOTP, so that the account page has its rename and
	// remove forms.
	v, err := e.accounts.Check(context.Background(), "Olga Admin", []byte("correct horse battery staple"))
	must(t, err)
	must(t, e.accounts.AddPasskey(context.Background(), v, account.Passkey{ID: []byte("axe-credential"), PublicKey: []byte("cose key"), Name: "laptop", Added: e.clock.Now().Unix()}))
	v.Wipe()
	for _, c := range []struct {
		lang  string
		width int64
	}{{"en", 1280}, {"ru", 375}} {
		if c.lang == "ru" {
			browsertest.Do(t, ctx, chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.ID("seal-now")),
				chromedp.Click(chromedp.CSS(`form.lang button`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="ru"]`)))
		}
		browsertest.Do(t, ctx, chromedp.EmulateViewport(c.width, 900))
		browserReauth(t, ctx, base, "correct horse battery staple")
		for _, rt := range pages() {
			p := w.fill(rt.Path)
			browsertest.Do(t, ctx, chromedp.Navigate(base+p), chromedp.WaitReady(chromedp.CSS("body")))
			if ct := browsertest.Run(t, ctx, chromedp.Evaluate[string](`document.contentType`)); ct != "text/html" {
				continue
			}
			name := fmt.Sprintf("%s %s (%s, %d px)", rt.Method, rt.Path, c.lang, c.width)
			if at := path(t, ctx); strings.HasPrefix(at, "/signin") {
				t.Fatalf("%s: signed out (at %s)", name, at)
			}
			if rt.Path == "/account" && browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#pk-rename-0, form[action="/account/passkeys/remove"]').length`)) != 2 {
				t.Errorf("%s: no rename and remove forms to check", name)
			}
			axe.Check(t, ctx, name)
			if c.width == 375 {
				noScroll(t, ctx)
			}
		}
	}
	// The second step and the enrolment page of a fresh account.
	e.account(t, "Ivan New", vigil.RoleInvestigator, "en", "another long passphrase")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "Ivan New"),
		chromedp.SendKeys(chromedp.ID("passphrase"), "another long passphrase"),
		chromedp.Submit(chromedp.ID("passphrase")), chromedp.WaitVisible(chromedp.ID("totp-secret")))
	axe.Check(t, ctx, "/signin/enrol")
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "Olga Admin"),
		chromedp.SendKeys(chromedp.ID("passphrase"), "correct horse battery staple"),
		chromedp.Submit(chromedp.ID("passphrase")), chromedp.WaitVisible(chromedp.ID("code")))
	axe.Check(t, ctx, "/signin/second")
}
