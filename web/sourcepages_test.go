package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil/internal/browsertest"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/web"
)

// testInstance is an organisation as an operator would set it in
// vigil.json's instance section.
var testInstance = web.Instance{
	Name: map[string]string{"en": "Crimean Human Rights Group", "ru": "Крымская правозащитная группа"},
	About: map[string]string{
		"en": "We are lawyers and journalists who document detentions, searches and threats in Crimea since 2014.\nWe publish only what we can verify, and never a source's name without their consent.",
		"ru": "Мы — юристы и журналисты, которые с 2014 года документируют задержания, обыски и угрозы в Крыму.\nМы публикуем только то, что можем проверить, и никогда не называем источник без его согласия.",
	},
}

// jargon are words a source should not meet: how the records are kept is
// for the verifiers' page. Matched in the visible text, case-insensitively.
var jargon = []string{
	"vigil", "c2sp", "tlog", "checkpoint", "контрольн", "merkle", "меркл", "hash", "хеш", "хэш", "sha-256", "sha256",
	"utc", "utf-8", "kib", "javascript", "cookie", "json", "well-known", "signed note", "signed-note", "age1",
	"vkey", "csrf", "csp", "http", "tile", "тайл", "commitment", "обязательств",
}

// fineTimeRE finds clock times and ISO dates: finer than a source needs
// (and, for times, than the stored precision).
var fineTimeRE = regexp.MustCompile(`\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}\b`)

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// visibleText is a page's text as a reader sees it, with its <title>.
func visibleText(page string) string {
	return html.UnescapeString(tagRE.ReplaceAllString(page, " "))
}

// jargonIn lists the jargon in a page's visible text and its links to the
// log or the keys.
func jargonIn(page string) []string {
	var found []string
	text := strings.ToLower(visibleText(page))
	for _, w := range jargon {
		if strings.Contains(text, w) {
			found = append(found, w)
		}
	}
	if m := fineTimeRE.FindString(text); m != "" {
		found = append(found, "time "+m)
	}
	for _, l := range []string{`href="/log/`, `href="/.well-known/`} {
		if strings.Contains(page, l) {
			found = append(found, l)
		}
	}
	return found
}

type sourcePage struct{ name, html string }

// sourcePages walks a source's way through the site in lang over HTTP and
// returns every page it meets: home, form, an error, the receipt, the
// follow-up form with a wrong receipt, the thread with our question and
// the source's answer, leaving, a missing page, and the rate limit.
func sourcePages(t *testing.T, d *datadir.Dir, srv string, lang string) []sourcePage {
	t.Helper()
	ctx := context.Background()
	var pages []sourcePage
	add := func(name string, resp *http.Response, page string) {
		t.Helper()
		if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s: %s %s", name, resp.Status, resp.Header.Get("Content-Type"))
		}
		pages = append(pages, sourcePage{name, page})
	}
	for _, p := range []string{"/", "/submit", "/followup", "/nope"} {
		resp, page := get(t, nil, srv+p+"?lang="+lang)
		add("GET "+p, resp, page)
	}
	body, ct := multipartBody(field("lang", lang), field("text", ""))
	resp, page := post(t, nil, srv+"/submit?lang="+lang, body, ct)
	add("empty submission", resp, page)
	body, ct = multipartBody(field("lang", lang), field("text", "They took my brother from his flat on Monday night."), file("notes.txt", "names"))
	resp, page = post(t, nil, srv+"/submit?lang="+lang, body, ct)
	add("receipt", resp, page)
	receipt := receiptOf(t, page)

	src, err := d.Intake.OpenReceipt(ctx, []byte(receipt))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Intake.Reply(ctx, staffP, src.Submission, "Thank you. Do you know which police station?"); err != nil {
		t.Fatal(err)
	}
	d.Vault.Seal()

	form := url.Values{"receipt": {"1111 2222 3333 4444 5555 6666 7777"}, "lang": {lang}}
	resp, page = post(t, nil, srv+"/followup", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	add("wrong receipt", resp, page)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form.Set("receipt", receipt)
	resp, page = post(t, c, srv+"/followup", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	add("thread", resp, page)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	body, ct = multipartBody(field("csrf", csrf), field("lang", lang), field("text", "The one on Kievskaya street."))
	resp, page = post(t, c, srv+"/followup/reply?lang="+lang, body, ct)
	add("thread after answering", resp, page)
	resp, page = post(t, c, srv+"/followup/logout?lang="+lang, strings.NewReader(url.Values{"csrf": {csrf}}.Encode()), "application/x-www-form-urlencoded")
	add("after leaving", resp, page)
	// Over the receipt limit (the test server allows 3 attempts).
	form.Set("receipt", "1111 2222 3333 4444 5555 6666 7777")
	for range 5 {
		resp, page = post(t, nil, srv+"/followup", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	}
	add("rate limited", resp, page)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("rate limit page: %s", resp.Status)
	}
	return pages
}

// sourceServer serves a fresh data directory with testInstance, allowing 3
// receipt attempts.
func sourceServer(t *testing.T) (*datadir.Dir, string) {
	d := openDir(t)
	opt := web.Options{Instance: testInstance}
	opt.ReceiptLimit.Burst = 3
	srv := server(t, d, opt)
	return d, srv.URL
}

// Every page a source sees, in both languages, carries the organisation's
// name, says times coarsely and holds none of the words of how the records
// are kept; the home page says who we are; the verifiers' page, which
// every page links to, has what was taken away.
func TestSourcePagesPlainWords(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		d, srv := sourceServer(t) // a fresh receipt limit per language
		pages := sourcePages(t, d, srv, lang)
		for _, p := range pages {
			if j := jargonIn(p.html); len(j) > 0 {
				t.Errorf("%s (%s): jargon %q in:\n%s", p.name, lang, j, visibleText(p.html))
			}
			if !strings.Contains(p.html, html.EscapeString(testInstance.Name[lang])) {
				t.Errorf("%s (%s): no organisation name", p.name, lang)
			}
			// Every page links to the verifiers' page but the receipt's:
			// leaving it would lose the receipt.
			if got := strings.Contains(p.html, `href="/verify?lang=`+lang+`"`); got != (p.name != "receipt") {
				t.Errorf("%s (%s): link to the verifiers' page: %t", p.name, lang, got)
			}
			if m := catalogKeyRE.FindString(p.html); m != "" {
				t.Errorf("%s (%s): untranslated key %q", p.name, lang, m)
			}
		}
		about := strings.Split(testInstance.About[lang], "\n")
		if !strings.Contains(pages[0].html, "<p>"+html.EscapeString(about[0])+"</p>") || !strings.Contains(pages[0].html, "<p>"+html.EscapeString(about[1])+"</p>") {
			t.Errorf("home (%s) does not say who we are:\n%s", lang, pages[0].html)
		}
		for _, p := range pages {
			if p.name == "after leaving" && (!strings.Contains(p.html, `<p class="notice" role="status">`) || strings.Contains(p.html, `class="error"`)) {
				t.Errorf("after leaving (%s): shown as an error, not a notice", lang)
			}
		}
		today := map[string]string{"en": "Received: today", "ru": "Получено: сегодня"}[lang]
		for _, p := range pages {
			if strings.HasPrefix(p.name, "thread") && !strings.Contains(p.html, today) {
				t.Errorf("%s (%s) does not say %q", p.name, lang, today)
			}
		}
		resp, page := get(t, nil, srv+"/verify?lang="+lang)
		if resp.StatusCode != 200 {
			t.Fatalf("/verify: %s", resp.Status)
		}
		// The checker finds jargon where it is (and the links moved here).
		j := strings.Join(jargonIn(page), " ")
		for _, w := range []string{"c2sp", "tlog", "checkpoint", `href="/log/`, `href="/.well-known/`} {
			if !strings.Contains(j, w) {
				t.Errorf("/verify (%s): jargon check does not find %q (found %s)", lang, w, j)
			}
		}
		if v := visibleText(page); !strings.Contains(v, d.Config.LogVKey) || !strings.Contains(v, d.Config.Origin) {
			t.Errorf("/verify (%s) lacks the log's key or origin", lang)
		}
	}
}

// Without an instance section the pages show a neutral name and text, not
// the software's name.
func TestSourcePagesDefaultName(t *testing.T) {
	srv := server(t, openDir(t), web.Options{})
	for _, lang := range []string{"en", "ru"} {
		for _, p := range []string{"/", "/submit", "/followup"} {
			_, page := get(t, nil, srv.URL+p+"?lang="+lang)
			if j := jargonIn(page); len(j) > 0 {
				t.Errorf("%s (%s) without an instance section: jargon %q", p, lang, j)
			}
		}
	}
}

// Times are the day at most: today, yesterday, a date in the reader's
// language (without the year if it is this one), or the window when the
// precision is over a day; never the hour.
func TestCoarseTimes(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 41, 0, 0, time.UTC)
	for _, c := range []struct {
		precision time.Duration
		at        time.Time
		en, ru    string
	}{
		{time.Hour, time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC), "today", "сегодня"},
		{time.Hour, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), "yesterday", "вчера"},
		{time.Hour, time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC), "29 November", "29 ноября"},
		{time.Hour, time.Date(2025, 3, 8, 12, 0, 0, 0, time.UTC), "8 March 2025", "8 марта 2025"},
		{24 * time.Hour, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "today", "сегодня"},
		{168 * time.Hour, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), "between 26 November and 2 December", "с 26 ноября по 2 декабря"},
	} {
		for _, lang := range []string{"en", "ru"} {
			want := map[string]string{"en": c.en, "ru": c.ru}[lang]
			if got := web.CoarseTime(lang, c.at, now, c.precision); got != want {
				t.Errorf("%s at %v precision %v: %q, want %q", lang, c.at, c.precision, got, want)
			}
		}
	}
}

// TestSourcePagesBrowser takes a screenshot of every source page in both
// languages in real Chromium with JavaScript off (set VIGIL_ARTIFACTS to
// keep them), and checks each page's visible text for jargon as the
// browser renders it.
func TestSourcePagesBrowser(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		d, srv := sourceServer(t) // a fresh receipt limit per language
		ctx, cancel := browsertest.StartWith(t, browsertest.Options{Width: 800, Height: 900, Lang: lang})
		n := 0
		shot := func(name string) {
			t.Helper()
			n++
			text := browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS("body")))
			if j := jargonIn(html.EscapeString(text)); len(j) > 0 {
				t.Errorf("%s (%s): jargon %q", name, lang, j)
			}
			browsertest.Screenshot(t, ctx, lang+"-"+string(rune('a'+n-1))+"-"+name)
		}
		nav := func(path, wait string) {
			t.Helper()
			browsertest.Do(t, ctx, chromedp.Navigate(srv+path+"?lang="+lang), chromedp.WaitVisible(chromedp.CSS(wait)))
		}
		click := func(sel, wait string) {
			t.Helper()
			browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(wait)))
		}
		nav("/", "main h1")
		shot("home")
		nav("/submit", "#text")
		shot("submit-form")
		click(`main form button[type="submit"]`, "p.error")
		shot("error-empty")
		nav("/submit", "#text")
		text := map[string]string{"en": "On Monday night four men in masks took my brother from his flat. They did not say where.", "ru": "В понедельник ночью четверо в масках забрали брата из квартиры. Куда — не сказали."}[lang]
		browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("text"), text), chromedp.SetValue(chromedp.ID("language"), lang))
		click(`main form button[type="submit"]`, "#receipt")
		shot("receipt")
		receipt := strings.TrimSpace(browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("receipt"))))
		src, err := d.Intake.OpenReceipt(context.Background(), []byte(receipt))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Vault.Unseal([]byte(pass)); err != nil {
			t.Fatal(err)
		}
		q := map[string]string{"en": "Thank you for writing. Do you know which police station they took him to?", "ru": "Спасибо, что написали. Вы знаете, в какой отдел его увезли?"}[lang]
		if _, err := d.Intake.Reply(context.Background(), staffP, src.Submission, q); err != nil {
			t.Fatal(err)
		}
		d.Vault.Seal()
		nav("/followup", "#receipt")
		shot("followup-form")
		browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("receipt"), "1111 2222 3333 4444 5555 6666 7777"))
		click(`main form button[type="submit"]`, "p.error")
		shot("followup-wrong-receipt")
		browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("receipt"), receipt)) // the form comes back empty
		click(`main form button[type="submit"]`, "#messages")
		shot("thread")
		a := map[string]string{"en": "The one on Kievskaya street, I think.", "ru": "Кажется, на Киевской."}[lang]
		browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("text"), a))
		click(`section[aria-labelledby="reply"] button[type="submit"]`, `p.notice[role="status"]`)
		shot("thread-answered")
		click(`form.leave button[type="submit"]`, "#receipt")
		shot("after-leaving")
		nav("/nope", "p.error")
		shot("not-found")
		for range 4 {
			browsertest.Do(t, ctx, chromedp.Navigate(srv+"/followup?lang="+lang), chromedp.WaitVisible(chromedp.ID("receipt")),
				chromedp.SendKeys(chromedp.ID("receipt"), "1111 2222 3333 4444 5555 6666 7777"),
				chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("p.error")))
		}
		shot("rate-limited")
		browsertest.Do(t, ctx, chromedp.Navigate(srv+"/verify?lang="+lang), chromedp.WaitVisible(chromedp.CSS("main h1")))
		browsertest.Screenshot(t, ctx, lang+"-z-for-verifiers")
		cancel()
	}
}

// A request that fails on our side calls Options.InternalError once, with
// nothing about the request; refused input does not.
func TestInternalErrorCounted(t *testing.T) {
	d := openDir(t)
	var n atomic.Int64
	srv := server(t, d, web.Options{InternalError: func() { n.Add(1) }})
	body, ct := multipartBody(field("lang", "en"), field("text", ""))
	post(t, nil, srv.URL+"/submit", body, ct) // empty: refused, not our fault
	if n.Load() != 0 {
		t.Fatalf("a refused submission counted as an internal error")
	}
	// Storage fails: the blob store's staging directory is a file.
	tmp := filepath.Join(d.Path, "blobs", "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	body, ct = multipartBody(field("lang", "en"), field("text", "a testimony"), file("photo.jpg", "jpeg"))
	resp, page := post(t, nil, srv.URL+"/submit", body, ct)
	if resp.StatusCode/100 != 5 || !strings.Contains(page, "A problem on our side") || n.Load() != 1 {
		t.Errorf("submission with the store closed: %s, %d internal errors counted\n%s", resp.Status, n.Load(), page)
	}
}
