package staffweb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/browsertest"
)

// narrow checks that the page has no horizontal scroll at 375 px and
// saves a screenshot at that width.
func narrow(t *testing.T, ctx context.Context, shot string) {
	t.Helper()
	browsertest.Do(t, ctx, chromedp.EmulateViewport(375, 800))
	noScroll(t, ctx)
	browsertest.Screenshot(t, ctx, shot)
	browsertest.Do(t, ctx, chromedp.EmulateViewport(1024, 768))
}

// TestBrowserSearch: in Russian, an investigator types a Cyrillic name in
// Latin letters ("Akhmed") and finds the person "Ахмед"; the address bar
// never holds the search text; a facet narrows the results; the page works
// without scripts and at a phone's width.
func TestBrowserSearch(t *testing.T) {
	ctx, cancel := browsertest.StartWith(t, browsertest.Options{Lang: "ru"})
	defer cancel()
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Марина", vigil.RoleInvestigator, "ru", "длинная парольная фраза")
	f := e.insightRecords(t)
	browserSignIn(t, ctx, e, base, "Марина", "длинная парольная фраза", nil)

	browsertest.Do(t, ctx, chromedp.Navigate(base+"/search"), chromedp.WaitVisible(chromedp.ID("q")))
	checkLang(t, ctx, "ru", "Слова, имена")
	browsertest.Screenshot(t, ctx, "01-search-form-ru")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("q"), "Akhmed"),
		chromedp.Click(chromedp.ID("search-go")),
		chromedp.WaitVisible(chromedp.ID("search-total")))
	loc := browsertest.Run(t, ctx, chromedp.Location())
	if strings.Contains(strings.ToLower(loc), "akhmed") || strings.Contains(loc, "q=") || !strings.Contains(loc, "/search?s=") {
		t.Errorf("the address holds the search: %s", loc)
	}
	checkLang(t, ctx, "ru", "Результаты 1–")
	link := `a[href="/people/` + f.person.String() + `"]`
	if got := text(t, ctx, link); got != "Ахмед" {
		t.Errorf("result link %q, want Ахмед", got)
	}
	if v := browsertest.Run(t, ctx, chromedp.Value(chromedp.ID("q"))); v != "Akhmed" {
		t.Errorf("the form lost the query: %q", v)
	}
	browsertest.Screenshot(t, ctx, "02-search-akhmed-ru")
	narrow(t, ctx, "03-search-akhmed-375-ru")

	// Everything, then narrowed to acts by the facet.
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/search"), chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.Click(chromedp.ID("search-go")),
		chromedp.WaitVisible(chromedp.ID("search-total")),
		chromedp.Click(chromedp.CSS(`button[value="kind:act"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value="kind"]`)))
	checkLang(t, ctx, "ru", "Произвольное задержание")
	if n := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('ol.hits > li').length`)); n != 1 {
		t.Errorf("%d acts found, want 1 (the other is in an incident Марина is not let into)", n)
	}
	if n := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('a[href="/acts/`+f.restrictedAct.String()+`"]').length`)); n != 0 {
		t.Error("a non-member sees the restricted act")
	}
	if loc := browsertest.Run(t, ctx, chromedp.Location()); strings.Contains(loc, "act") {
		t.Errorf("the address holds the filter: %s", loc)
	}
	browsertest.Screenshot(t, ctx, "04-search-acts-ru")

	// The record's page is a click away.
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/search"), chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "Akhmed"),
		chromedp.Click(chromedp.ID("search-go")),
		chromedp.WaitVisible(chromedp.CSS(link)))
	if href := browsertest.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS(link), "href")).Value; href != "/people/"+f.person.String() {
		t.Errorf("link %q", href)
	}
}

// TestBrowserFigures: in English, an analyst opens the figures page and
// sees the three charts with the right numbers in their tables.
func TestBrowserFigures(t *testing.T) {
	ctx, cancel := browsertest.StartWith(t, browsertest.Options{Lang: "en"})
	defer cancel()
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Anna", vigil.RoleAnalyst, "en", "a long analyst passphrase")
	e.insightRecords(t)
	browserSignIn(t, ctx, e, base, "Anna", "a long analyst passphrase", nil)

	browsertest.Do(t, ctx, chromedp.Navigate(base+"/figures"), chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	checkLang(t, ctx, "en", "By act type")
	if n := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart').length`)); n != 3 {
		t.Errorf("%d charts, want 3", n)
	}
	rows := func(sel string) []string {
		return browsertest.Run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('`+sel+` tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent).join(' ')).sort()`))
	}
	for _, c := range []struct {
		sel  string
		want []string
	}{
		{"#by-type", []string{"Arbitrary detention 10 40 1"}},
		{"#by-month", []string{"March 2024 10 40 1"}},
		{"#by-place", []string{"Argun 10 40 1", "Chechnya 10 40 1"}},
	} {
		if got := rows(c.sel); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s table: %q, want %q", c.sel, got, c.want)
		}
	}
	// The bars are drawn: the confirmed part is a quarter of the reported.
	w := browsertest.Run(t, ctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll('#by-type g.row rect')).map(r => r.getBBox().width)`))
	if len(w) != 2 || w[0] <= 0 || w[1] <= w[0] {
		t.Errorf("bar widths %v", w)
	}
	if body := text(t, ctx, "body"); strings.Contains(body, "Torture") || strings.Contains(body, "May 2024") {
		t.Error("a non-member's figures show the restricted act")
	}
	browsertest.Screenshot(t, ctx, "01-figures-en")
	narrow(t, ctx, "02-figures-375-en")
}

// TestBrowserAccount: in English, an account signed in with TOTP opens its
// page, confirms its passphrase, adds a named passkey (Chromium's virtual
// authenticator), renames it, removes it again, and sees its sessions; at
// 375 px too.
func TestBrowserAccount(t *testing.T) {
	ctx := startBrowser(t, browsertest.Options{Lang: "en"})
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Pavel", vigil.RoleInvestigator, "en", "a long investigator passphrase")
	browserSignIn(t, ctx, e, base, "Pavel", "a long investigator passphrase", nil)
	addAuthenticator(t, ctx)

	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/account"]`)), chromedp.WaitVisible(chromedp.ID("confirm-me")))
	checkLang(t, ctx, "en", "this browser")
	browsertest.Screenshot(t, ctx, "01-account-en")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("confirm-me")), chromedp.WaitVisible(chromedp.ID("passphrase")),
		chromedp.SendKeys(chromedp.ID("passphrase"), "a long investigator passphrase"),
		chromedp.Submit(chromedp.ID("passphrase")),
		chromedp.WaitVisible(chromedp.ID("add-passkey")))
	checkLang(t, ctx, "en", "An authenticator app is set up.")
	// The passkey is named, in any script; markup in the name stays text.
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("pk-name"), "  Рабочий <b>ноутбук</b> "),
		chromedp.Click(chromedp.ID("add-passkey")), chromedp.WaitVisible(chromedp.CSS(`form[action="/account/passkeys/remove"]`)))
	checkLang(t, ctx, "en", "The passkey was added.")
	if got := text(t, ctx, "ul.factors li span"); !strings.HasPrefix(got, "Рабочий <b>ноутбук</b> · added") {
		t.Errorf("the passkey is listed as %q", got)
	}
	browsertest.Screenshot(t, ctx, "02-passkey-added-en")
	// Renamed from its row, with the form alone (no script).
	browsertest.Do(t, ctx, chromedp.SetValue(chromedp.ID("pk-rename-0"), "Home laptop"),
		chromedp.Submit(chromedp.ID("pk-rename-0")),
		chromedp.WaitVisible(chromedp.CSS(`#pk-rename-0[value="Home laptop"]`)))
	checkLang(t, ctx, "en", "The passkey was renamed.")
	if got := text(t, ctx, "ul.factors li span"); !strings.HasPrefix(got, "Home laptop · added") {
		t.Errorf("the renamed passkey is listed as %q", got)
	}
	browsertest.Screenshot(t, ctx, "02b-passkey-renamed-en")
	narrow(t, ctx, "03-account-375-en")
	// The "added" notice is on the page already: wait for the form to go.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/account/passkeys/remove"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action="/account/passkeys/remove"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	checkLang(t, ctx, "en", "The passkey was removed.")
	if n := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[action="/account/passkeys/remove"]').length`)); n != 0 {
		t.Errorf("%d remove buttons with TOTP as the last factor", n)
	}
	browsertest.Screenshot(t, ctx, "04-passkey-removed-en")
}
