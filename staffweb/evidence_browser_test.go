package staffweb_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/internal/browsertest"
)

// TestBrowserCorroborate: in Russian, an investigator adds two sources of
// different origins and a claim from each until the act (prepared through
// the cases service) is corroborated, then uploads a photo from the claim
// (the progress script on), attaches it, and sees the act confirmed. Each
// step's page shows the status package cases computes.
func TestBrowserCorroborate(t *testing.T) {
	ctx := startBrowser(t, browsertest.Options{Lang: "ru"})
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Марина", vigil.RoleInvestigator, "ru", "длинная парольная фраза")
	cs := e.cases(t)
	photo := filepath.Join(t.TempDir(), "фото.png")
	must(t, os.WriteFile(photo, pngBytes(t), 0o600))
	browserSignIn(t, ctx, e, base, "Марина", "длинная парольная фраза", nil)

	// 1. The sources list, empty but for the restricted incident's source.
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/sources"), chromedp.WaitVisible(chromedp.CSS(`a[href="/sources/new"]`)))
	checkLang(t, ctx, "ru", "Источники")
	browsertest.Screenshot(t, ctx, "01-sources-ru")

	status := map[corroborate.Status]string{corroborate.Reported: "Сообщено", corroborate.Corroborated: "Подкреплено", corroborate.Confirmed: "Подтверждено"}
	for i, src := range []struct{ name, typ, rel, origin, quote string }{
		{"Горячая линия Мемориала", "ngo", "B", "Мемориал", "Троих задержали у вокзала и продержали ночь."},
		{"Новая газета", "media", "C", "Новая газета", "Газета подтверждает задержание трёх человек."},
	} {
		want := []corroborate.Status{corroborate.Reported, corroborate.Corroborated}[i]
		// 2. A claim about the act, as its page links to it; the source is
		// new, made from the claim form.
		browsertest.Do(t, ctx, chromedp.Navigate(base+"/claims/new?act="+cs.act.String()), chromedp.WaitVisible(chromedp.ID("new-source")),
			chromedp.Click(chromedp.ID("new-source")), chromedp.WaitVisible(chromedp.ID("origin")),
			chromedp.SendKeys(chromedp.ID("name"), src.name),
			chromedp.SetValue(chromedp.ID("type"), src.typ),
			chromedp.Click(chromedp.ID("rel-"+src.rel)),
			chromedp.SendKeys(chromedp.ID("origin"), src.origin))
		checkLang(t, ctx, "ru", "полностью надёжен")
		browsertest.Screenshot(t, ctx, fmt.Sprintf("%02d-new-source-ru", 2+2*i))
		browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("save-source")), chromedp.WaitVisible(chromedp.ID("quote")),
			chromedp.SendKeys(chromedp.ID("quote"), src.quote),
			chromedp.SetValue(chromedp.ID("credibility"), "3")) // B3 and C3: no grade confirms
		if got := browsertest.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById("source").selectedOptions[0].text`)); !strings.HasPrefix(got, src.name) {
			t.Errorf("the new source is not chosen: %q", got)
		}
		// The form shows the act's status too: wait for the saved page's
		// notice, not for #act-status.
		browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("save-claim")), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
		if got := text(t, ctx, "#act-status"); got != status[want] {
			t.Errorf("claim %d: the page shows %q, want %q", i, got, status[want])
		}
		if got := e.status(t, cs.act); got != want {
			t.Errorf("claim %d: the act is %s, want %s", i, got, want)
		}
		checkLang(t, ctx, "ru", "Сохранено. Статус нарушения теперь: "+status[want])
		browsertest.Screenshot(t, ctx, fmt.Sprintf("%02d-claim-saved-ru", 3+2*i))
	}

	// 3. Evidence for the last claim: upload with the progress bar, attach.
	claimPath := path(t, ctx)

	// The claim form finds a source by a word of its name typed in Latin
	// letters, without JavaScript (a GET form), keeping its act.
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/claims/new?act="+cs.act.String()), chromedp.WaitVisible(chromedp.ID("find-source")),
		chromedp.SendKeys(chromedp.ID("find-source"), "novaya"), chromedp.Click(chromedp.ID("find-source-go")),
		// The answer's input carries the query as its attribute (the
		// typed one only as its property): the answer has loaded.
		chromedp.WaitVisible(chromedp.CSS(`#find-source[value="novaya"]`)))
	if got := browsertest.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#source option")].filter(o => o.value).map(o => o.text)`)); len(got) != 1 || !strings.HasPrefix(got[0], "Новая газета") {
		t.Errorf("sources found for novaya: %q", got)
	}
	if got := browsertest.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById("source").selectedOptions[0].text`)); !strings.HasPrefix(got, "Новая газета") {
		t.Errorf("the one source found is not chosen: %q", got)
	}
	checkLang(t, ctx, "ru", "по запросу «novaya»")
	if !strings.Contains(path(t, ctx), "act="+cs.act.String()) {
		t.Errorf("the finder lost the act: %s", path(t, ctx))
	}
	browsertest.Screenshot(t, ctx, "05b-claim-find-source-ru")
	browsertest.Do(t, ctx, chromedp.Navigate(base+claimPath), chromedp.WaitVisible(chromedp.ID("upload-for-claim")))
	browsertest.Do(t, ctx, chromedp.EmulateViewport(375, 800))
	noScroll(t, ctx)
	browsertest.Screenshot(t, ctx, "06-claim-375-ru")
	browsertest.Do(t, ctx, chromedp.EmulateViewport(1024, 768),
		chromedp.Click(chromedp.ID("upload-for-claim")), chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{photo}))
	checkLang(t, ctx, "ru", "Файл шифруется по мере поступления")
	browsertest.Screenshot(t, ctx, "07-upload-ru")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("upload")), chromedp.WaitVisible(chromedp.ID("attach")))
	checkLang(t, ctx, "ru", "Файл в хранилище")
	if !strings.HasPrefix(path(t, ctx), "/evidence/") {
		t.Fatalf("after the upload: %s", path(t, ctx))
	}
	if w := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelector(".preview img").naturalWidth`)); w != 4 {
		t.Errorf("the preview image is %d px wide, want the 4 px PNG", w)
	}
	browsertest.Screenshot(t, ctx, "08-item-ru")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("attach")), chromedp.WaitVisible(chromedp.ID("claim-items")))
	if p := path(t, ctx); p != claimPath {
		t.Errorf("after attaching: %s, want the claim %s", p, claimPath)
	}
	if got := text(t, ctx, "#act-status"); got != status[corroborate.Confirmed] {
		t.Errorf("after attaching the page shows %q", got)
	}
	if got := e.status(t, cs.act); got != corroborate.Confirmed {
		t.Errorf("after attaching the act is %s", got)
	}
	checkLang(t, ctx, "ru", "Лист ")
	browsertest.Screenshot(t, ctx, "09-confirmed-ru")
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/evidence"), chromedp.WaitVisible(chromedp.CSS("table")))
	if strings.Contains(text(t, ctx, "body"), "фото.png") {
		t.Error("the vault list shows a file name")
	}
	browsertest.Screenshot(t, ctx, "10-vault-ru")

	// 4. A submission's statement becomes one more claim, from the inbox.
	sub := e.submit(t, "Меня продержали в отделе всю ночь.", nil)
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/inbox/"+sub.String()), chromedp.WaitVisible(chromedp.ID("to-claims")),
		chromedp.Click(chromedp.ID("to-claims")), chromedp.WaitVisible(chromedp.ID("make-claims")),
		chromedp.SetValue(chromedp.ID("act"), cs.act.String()))
	checkLang(t, ctx, "ru", "Меня продержали в отделе всю ночь.")
	browsertest.Screenshot(t, ctx, "11-statements-ru")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("make-claims")), chromedp.WaitVisible(chromedp.ID("act-status")))
	if q := browsertest.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById("quote").value`)); q != "Меня продержали в отделе всю ночь." {
		t.Errorf("the statement's claim quotes %q", q)
	}
	if got := text(t, ctx, "#act-status"); got != status[corroborate.Confirmed] {
		t.Errorf("after the statement's claim the page shows %q", got)
	}
	browsertest.Screenshot(t, ctx, "12-statement-claim-ru")
}

// TestBrowserExportBundle: in English, an admin re-authenticates, chooses
// an incident's records on the bundle page and downloads the zip, which
// the real vigil binary (built by the test) verifies against the log key.
func TestBrowserExportBundle(t *testing.T) {
	ctx := startBrowser(t, browsertest.Options{Lang: "en"})
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	cs := e.cases(t)
	item, err := e.d.Evidence.Add(context.Background(), strings.NewReader("protocol no. 17"), "protocol.txt", "")
	must(t, err)
	src := e.create(t, vigil.Source{Name: "Witness", Type: vigil.SourceWitness, Reliability: vigil.ReliabilityC})
	claim := e.create(t, vigil.Claim{Act: cs.act, Source: src, Stance: vigil.Affirms, Credibility: 3, Quote: "I saw it", Evidence: []vigil.ID{item.ID}})
	browserSignIn(t, ctx, e, base, "Olga Admin", "correct horse battery staple", nil)

	e.clock.Add(6 * time.Minute) // the sign-in's freshness is over
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/evidence/bundle"), chromedp.WaitVisible(chromedp.ID("passphrase")))
	browsertest.Screenshot(t, ctx, "01-reauth-en")
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("passphrase"), "correct horse battery staple"),
		chromedp.Submit(chromedp.ID("passphrase")), chromedp.WaitVisible(chromedp.CSS(`a[href="/evidence/bundle?incident=`+cs.incident.String()+`"]`)))
	checkLang(t, ctx, "en", "Secret incident") // an admin sees restricted incidents
	browsertest.Screenshot(t, ctx, "02-choose-incident-en")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/evidence/bundle?incident=`+cs.incident.String()+`"]`)), chromedp.WaitVisible(chromedp.ID("export")))
	for _, id := range []vigil.ID{cs.act, claim, item.ID} {
		if n := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name="id"][value="`+id.String()+`"]:checked').length`)); n != 1 {
			t.Errorf("record %s is not offered (ticked) for the bundle", id)
		}
	}
	browsertest.Screenshot(t, ctx, "03-bundle-form-en")

	dir := t.TempDir()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("export")))
	zip := filepath.Join(dir, "vigil-bundle.zip")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(zip); err == nil {
			break
		}
		if time.Now().After(deadline) {
			ents, _ := os.ReadDir(dir)
			t.Fatalf("no bundle downloaded; the download directory has %v", ents)
		}
	}
	browsertest.Screenshot(t, ctx, "04-after-download-en")

	bin := filepath.Join(t.TempDir(), "vigil")
	build := exec.Command("go", "build", "-o", bin, "github.com/vigil-hr/vigil/cmd/vigil")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build vigil: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "verify", "--log-key", e.d.Config.LogVKey, zip).CombinedOutput()
	if err != nil {
		t.Fatalf("vigil verify: %v\n%s", err, out)
	}
	for _, id := range []vigil.ID{cs.act, claim, item.ID} {
		if !strings.Contains(string(out), id.String()) {
			t.Errorf("vigil verify does not report record %s:\n%s", id, out)
		}
	}
	t.Logf("vigil verify:\n%s", out)
}
