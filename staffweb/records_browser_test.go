package staffweb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/browsertest"
)

// noScroll fails if the page is wider than the window at 375 px.
func noScroll(t *testing.T, ctx context.Context) {
	t.Helper()
	if w := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
		t.Errorf("%s is %d px wide at 375 px", path(t, ctx), w)
	}
}

// TestBrowserTriage: in Russian, an investigator opens a submission, starts
// an incident from it, first forgets the title (the form comes back with
// the problem next to the field and the values kept), adds a third act row
// and leaves it blank, and creates the incident with two acts; the
// incident page shows both acts as reported by the submission, also at a
// phone's width.
func TestBrowserTriage(t *testing.T) {
	ctx, cancel := browsertest.StartWith(t, browsertest.Options{Lang: "ru"})
	defer cancel()
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Марина", vigil.RoleInvestigator, "ru", "длинная парольная фраза")
	sub := e.submit(t, "5 марта у рынка в Аргуне задержали троих, одного избили в отделе.", nil)
	browserSignIn(t, ctx, e, base, "Марина", "длинная парольная фраза", nil)

	browsertest.Do(t, ctx, chromedp.Navigate(base+"/inbox/"+sub.String()), chromedp.WaitVisible(chromedp.ID("triage-link")))
	checkLang(t, ctx, "ru", "Завести инцидент по этому обращению")
	browsertest.Screenshot(t, ctx, "01-submission-ru")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("triage-link")), chromedp.WaitVisible(chromedp.ID("f-incident-title")))
	checkLang(t, ctx, "ru", "Нарушение 2")
	browsertest.Screenshot(t, ctx, "02-triage-form-ru")
	browsertest.Do(t, ctx, chromedp.EmulateViewport(375, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("f-incident-title")))
	noScroll(t, ctx)
	browsertest.Screenshot(t, ctx, "02a-triage-form-375-ru")
	browsertest.Do(t, ctx, chromedp.EmulateViewport(1024, 768))

	// Two acts, but no title yet.
	browsertest.Do(t, ctx,
		chromedp.SetValue(chromedp.ID("f-incident-period-from"), "2024-03-05"),
		chromedp.SetValue(chromedp.ID("f-acts-0-type"), "arbitrary_detention"),
		chromedp.SendKeys(chromedp.ID("f-acts-0-description"), "Задержаны трое у рынка"),
		chromedp.SetValue(chromedp.ID("f-acts-0-period-from"), "2024-03-05"),
		chromedp.SetValue(chromedp.ID("f-acts-0-victims-min"), "3"),
		chromedp.SetValue(chromedp.ID("f-acts-0-victims-max"), "3"),
		chromedp.SetValue(chromedp.ID("f-acts-1-type"), "torture"),
		chromedp.SendKeys(chromedp.ID("f-acts-1-description"), "Избиение в отделе полиции"),
		chromedp.Click(chromedp.ID("triage-submit")),
		chromedp.WaitVisible(chromedp.ID("f-incident-title-err")))
	if got := text(t, ctx, "#f-incident-title-err"); got != "Обязательное поле." {
		t.Errorf("title problem %q", got)
	}
	if got := browsertest.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById('f-acts-1-description').value`)); got != "Избиение в отделе полиции" {
		t.Errorf("the form lost a value: %q", got)
	}
	checkLang(t, ctx, "ru", "Ничего не сохранено")
	browsertest.Screenshot(t, ctx, "03-triage-missing-title-ru")

	// One more act row, left blank.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("more-act")), chromedp.WaitVisible(chromedp.ID("f-acts-2-type")))
	checkLang(t, ctx, "ru", "Нарушение 3")
	browsertest.Screenshot(t, ctx, "04-triage-three-rows-ru")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-incident-title"), "Задержания у рынка в Аргуне"),
		chromedp.Click(chromedp.ID("triage-submit")),
		chromedp.WaitVisible(chromedp.ID("incident-title")))
	checkLang(t, ctx, "ru", "Инцидент заведён по обращению.")
	if got := text(t, ctx, "#incident-title"); got != "Задержания у рынка в Аргуне" {
		t.Errorf("incident title %q", got)
	}
	if n := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('.act').length`)); n != 2 {
		t.Fatalf("%d acts on the incident page, want 2", n)
	}
	acts := text(t, ctx, ".acts")
	for _, want := range []string{"Произвольное задержание", "Пытки", "Задержаны трое у рынка", "Избиение в отделе полиции", "Обращение " + sub.String()[:8]} {
		if !strings.Contains(acts, want) {
			t.Errorf("incident page acts lack %q:\n%s", want, acts)
		}
	}
	if strings.Count(acts, "сообщено") != 2 {
		t.Errorf("both acts should be reported by the submission:\n%s", acts)
	}
	browsertest.Screenshot(t, ctx, "05-incident-ru")
	browsertest.Do(t, ctx, chromedp.EmulateViewport(375, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("incident-title")))
	noScroll(t, ctx)
	browsertest.Screenshot(t, ctx, "06-incident-375-ru")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(".act h3 a")), chromedp.WaitVisible(chromedp.ID("act-status")))
	noScroll(t, ctx)
	browsertest.Screenshot(t, ctx, "07-act-375-ru")

	v, err := e.d.Intake.Get(t.Context(), cli, sub)
	must(t, err)
	if v.State != intake.StateLinked {
		t.Errorf("submission state %s, want linked", v.State)
	}
}

// TestBrowserOfficialDenial: in English, an investigator records the
// ministry's denial of an act its police unit committed; the act and the
// incident pages show the flag "denied by an implicated party" and the
// explanation naming the ministry, and the status stays.
func TestBrowserOfficialDenial(t *testing.T) {
	ctx, cancel := browsertest.StartWith(t, browsertest.Options{Lang: "en"})
	defer cancel()
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Marina", vigil.RoleInvestigator, "en", "a long staff passphrase")
	ministry := e.mk(t, cli, vigil.Party{Name: "Ministry of Internal Affairs"})
	police := e.mk(t, cli, vigil.Party{Name: "Argun district police", Parent: ministry})
	inc := e.mk(t, cli, vigil.Incident{Title: "Detentions in Argun"})
	act := e.mk(t, cli, vigil.Act{Incident: inc, Type: "arbitrary_detention", Victims: vigil.VictimCount{Min: 3, Max: 5}, Perpetrators: []vigil.ID{police}})
	ngo := e.mk(t, cli, vigil.Source{Name: "Memorial hotline", Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB})
	e.mk(t, cli, vigil.Claim{Act: act, Source: ngo, Stance: vigil.Affirms, Credibility: 3, Quote: "Three men were taken"})
	browserSignIn(t, ctx, e, base, "Marina", "a long staff passphrase", nil)

	browsertest.Do(t, ctx, chromedp.Navigate(base+"/acts/"+act.String()), chromedp.WaitVisible(chromedp.ID("act-status")))
	checkLang(t, ctx, "en", "Memorial hotline")
	if got := text(t, ctx, "#act-status"); strings.Contains(got, "denied") {
		t.Fatalf("flag before the denial: %q", got)
	}
	browsertest.Screenshot(t, ctx, "01-act-en")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("record-denial")), chromedp.WaitVisible(chromedp.ID("f-source-party")))
	browsertest.Screenshot(t, ctx, "02-denial-form-en")
	browsertest.Do(t, ctx,
		chromedp.SetValue(chromedp.ID("f-source-party"), ministry.String()),
		chromedp.SendKeys(chromedp.ID("f-source-name"), "Ministry press service"),
		chromedp.SendKeys(chromedp.ID("f-claim-quote"), "No detentions took place in Argun."),
		chromedp.SendKeys(chromedp.ID("f-claim-date"), "2024-03-07"),
		chromedp.Submit(chromedp.ID("f-claim-date")),
		chromedp.WaitVisible(chromedp.ID("act-status")))
	checkLang(t, ctx, "en", "The denial was recorded.")
	if got := text(t, ctx, "#act-status"); !strings.Contains(got, "reported") || !strings.Contains(got, "denied by an implicated party") {
		t.Errorf("act status after the denial: %q", got)
	}
	expl := text(t, ctx, "#explanation")
	for _, want := range []string{"Denied by an implicated party", "Ministry of Internal Affairs", "Argun district police", "Ministry press service"} {
		if !strings.Contains(expl, want) {
			t.Errorf("explanation lacks %q: %s", want, expl)
		}
	}
	if against := text(t, ctx, "#claims-against + ul"); !strings.Contains(against, "No detentions took place in Argun.") || !strings.Contains(against, "F6") {
		t.Errorf("claims against: %q", against)
	}
	browsertest.Screenshot(t, ctx, "03-act-denied-en")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("back-incident")), chromedp.WaitVisible(chromedp.ID("incident-title")))
	if got := text(t, ctx, ".act"); !strings.Contains(got, "denied by an implicated party") || !strings.Contains(got, "Denied by an implicated party: Ministry of Internal Affairs") {
		t.Errorf("incident page act: %s", got)
	}
	browsertest.Screenshot(t, ctx, "04-incident-denied-en")
}
