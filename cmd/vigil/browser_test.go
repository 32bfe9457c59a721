package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/browsertest"
)

// TestBrowserIntake walks the source's whole path in real Chromium with
// JavaScript disabled, against a real `vigil serve` started sealed: submit
// a testimony in Russian with two files, keep the receipt, let staff answer
// through /api/v1 (Bearer token, after unsealing), come back through
// /followup, read the answer, reply with text and a file, and check that
// staff read the reply. Each page is saved as a screenshot artifact (see
// internal/browsertest), the thread also at a phone's 375 px.
func TestBrowserIntake(t *testing.T) {
	// A browser set to Russian: Russian Accept-Language, Russian file picker.
	ctx, cancel := browsertest.StartWith(t, browsertest.Options{Lang: "ru"})
	defer cancel()

	const pass = "browser test passphrase"
	bin := vigilBin(t)
	data := filepath.Join(t.TempDir(), "data")
	vigilRun(t, bin, vigilEnv(pass), "init", "--data", data, "--scrypt-work-factor", "10")
	token := regexp.MustCompile(`vgl_\S+`).FindString(vigilRun(t, bin, vigilEnv(""), "token", "create", "--data", data, "--name", "browser-test"))
	if token == "" {
		t.Fatal("vigil token create printed no vgl_ token")
	}
	// Started without the passphrase: intake must work while sealed.
	srv := interopServe(t, bin, vigilEnv(""), data)
	pub := strings.TrimSuffix(srv.pub, "/")
	staff := &staffClient{t: t, base: strings.TrimSuffix(srv.staff, "/"), token: token}

	// Two files to attach: a photo-like binary and a document with a
	// Cyrillic name.
	files := t.TempDir()
	photo := filepath.Join(files, "рынок-3-марта.jpg")
	doc := filepath.Join(files, "протокол задержания.txt")
	writeFile(t, photo, bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10}, 200))
	writeFile(t, doc, []byte("Протокол № 17, составлен 3 марта.\n"))

	// 1. The submission form: Russian from Accept-Language, and the
	// language switch works without scripts, both ways.
	browsertest.Do(t, ctx, chromedp.Navigate(pub+"/submit"), chromedp.WaitVisible(chromedp.ID("text")))
	checkPage(t, ctx, "ru", "Отправить свидетельство")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`nav a[hreflang="en"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #text`)))
	checkPage(t, ctx, "en", "")
	browsertest.Screenshot(t, ctx, "1a-submit-form-en")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`nav a[hreflang="ru"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="ru"] #text`)))
	checkPage(t, ctx, "ru", "Отправить свидетельство")
	browsertest.Screenshot(t, ctx, "1-submit-form")

	const testimony = "Меня задержали 3 марта возле рынка на улице Ленина, около 14:00. " +
		"Двое в форме без опознавательных знаков забрали телефон и паспорт, продержали в отделе до ночи, протокол не дали прочитать."
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("text"), testimony),
		chromedp.SetValue(chromedp.ID("language"), "ru"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{photo, doc}),
	)
	browsertest.Screenshot(t, ctx, "1b-submit-form-filled")

	// 2. The receipt.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("receipt")))
	checkPage(t, ctx, "ru", "Ваше свидетельство получено")
	receipt := strings.TrimSpace(browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("receipt"))))
	if digits := strings.Map(keepDigit, receipt); len(digits) != 28 {
		t.Errorf("receipt %q: want 28 digits", receipt)
	}
	browsertest.Screenshot(t, ctx, "2-receipt")
	if c := browsertest.Cookies(t, ctx); len(c) != 0 {
		t.Errorf("submitting set %d cookies, want none (first: %s)", len(c), c[0].Name)
	}

	// 3. Staff: unseal, find the submission, check it, answer it.
	staff.post("/api/v1/unseal", "", map[string]string{"passphrase": pass}, http.StatusOK, nil)
	var list struct{ Submissions []intake.Summary }
	staff.get("/api/v1/submissions", &list)
	if len(list.Submissions) != 1 {
		t.Fatalf("staff list: %d submissions, want 1", len(list.Submissions))
	}
	sub := list.Submissions[0].ID
	var view intake.View
	staff.get("/api/v1/submissions/"+sub.String(), &view)
	if view.Text != testimony || view.Language != "ru" {
		t.Errorf("staff read text %q language %q, want the testimony in ru", view.Text, view.Language)
	}
	if got := fileNames(view.Files); got != "рынок-3-марта.jpg, протокол задержания.txt" {
		t.Errorf("staff read files %s", got)
	}
	// The bytes that went through the browser's multipart upload are the
	// bytes staff download.
	for i, path := range []string{photo, doc} {
		want, _ := os.ReadFile(path)
		if got := staff.raw("/api/v1/submissions/" + sub.String() + "/files/" + view.Files[i].ID.String()); !bytes.Equal(got, want) {
			t.Errorf("staff downloaded %s as %d bytes that differ from the %d sent", filepath.Base(path), len(got), len(want))
		}
	}
	const question = "Спасибо, что написали. Вы запомнили номер машины или отдела? Если есть копия протокола — приложите её, пожалуйста."
	staff.post("/api/v1/submissions/"+sub.String()+"/messages", token, map[string]string{"text": question}, http.StatusCreated, nil)

	// 4. The source comes back through /followup with the receipt.
	browsertest.Do(t, ctx, chromedp.Navigate(pub+"/followup?lang=ru"), chromedp.WaitVisible(chromedp.ID("receipt")))
	checkPage(t, ctx, "ru", "Вернуться по квитанции")
	browsertest.Screenshot(t, ctx, "3-followup-form")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("receipt"), receipt),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("messages")),
	)
	checkPage(t, ctx, "ru", "Ваше свидетельство")
	body := browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{testimony, question, "рынок-3-марта.jpg", "протокол задержания.txt", "Наша команда"} {
		if !strings.Contains(body, want) {
			t.Errorf("thread page lacks %q; it shows:\n%s", want, body)
		}
	}
	browsertest.Screenshot(t, ctx, "4-thread-with-reply")

	// 5. The source answers, with a file.
	const answer = "Номер не запомнила. Отдел полиции № 5, на Садовой. Копию протокола прикладываю."
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("text"), answer),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{doc}),
		chromedp.Click(chromedp.CSS(`section[aria-labelledby="reply"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role="status"]`)),
	)
	body = browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(body, answer) {
		t.Errorf("thread after answering lacks the answer; it shows:\n%s", body)
	}
	browsertest.Screenshot(t, ctx, "5-thread-after-answer")

	// 6. Staff read the answer.
	staff.get("/api/v1/submissions/"+sub.String(), &view)
	var msgs []string
	found := false
	for _, m := range view.Messages {
		msgs = append(msgs, m.From+": "+m.Text)
		if m.From == "source" && m.Text == answer {
			found = true
			if got := fileNames(m.Files); got != "протокол задержания.txt" {
				t.Errorf("staff read the answer's files as %s", got)
			}
		}
	}
	if !found || len(view.Messages) != 2 {
		t.Errorf("staff read messages %q, want the question and the source's answer", msgs)
	}

	if c := browsertest.Cookies(t, ctx); len(c) != 1 || !c[0].HTTPOnly {
		t.Errorf("thread page: want one HttpOnly session cookie, got %d", len(c))
	}

	// 7. A phone: nothing may be wider than 375 px.
	browsertest.Do(t, ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateScale(2)), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("messages")))
	checkNoOverflow(t, ctx, 375)
	browsertest.Screenshot(t, ctx, "6-thread-375px")
	browsertest.Do(t, ctx, chromedp.Navigate(pub+"/submit?lang=ru"), chromedp.WaitVisible(chromedp.ID("text")))
	checkNoOverflow(t, ctx, 375)
	browsertest.Screenshot(t, ctx, "7-submit-375px")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("text"), "Ещё одно: у отдела стоял серый микроавтобус."),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("receipt")),
	)
	checkNoOverflow(t, ctx, 375)
	browsertest.Screenshot(t, ctx, "8-receipt-375px")

	cancel() // the browser's idle connections would slow the shutdown
	srv.stop(t)
}

// checkPage checks the page's language and, unless h1 is empty, its first
// heading.
func checkPage(t *testing.T, ctx context.Context, lang, h1 string) {
	t.Helper()
	if got := browsertest.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang")); got.Value != lang {
		t.Errorf("html lang = %q, want %q", got.Value, lang)
	}
	if got := strings.TrimSpace(browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS("main h1")))); h1 != "" && got != h1 {
		t.Errorf("h1 = %q, want %q", got, h1)
	}
}

// checkNoOverflow fails if the page scrolls sideways at width px.
func checkNoOverflow(t *testing.T, ctx context.Context, width int) {
	t.Helper()
	// A DevTools evaluation, not a page script: it runs with scripts off.
	sw := browsertest.Run(t, ctx, chromedp.EvaluateAsDevTools[int](`document.documentElement.scrollWidth`))
	if sw > width {
		wide := browsertest.Run(t, ctx, chromedp.EvaluateAsDevTools[[]string](fmt.Sprintf(
			`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > %d).slice(0, 10).map(e => e.tagName + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""))`, width)))
		t.Errorf("page is %d px wide at a %d px viewport; too wide: %q", sw, width, wide)
	}
}

func keepDigit(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

func fileNames(fs []intake.FileInfo) string {
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// staffClient calls the staff listener's /api/v1 with a Bearer token.
type staffClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *staffClient) get(path string, out any) {
	c.t.Helper()
	c.do(http.MethodGet, path, c.token, nil, http.StatusOK, out)
}

// raw GETs path and returns the body as it is.
func (c *staffClient) raw(path string) []byte {
	c.t.Helper()
	var b []byte
	c.do(http.MethodGet, path, c.token, nil, http.StatusOK, &b)
	return b
}

func (c *staffClient) post(path, token string, in any, want int, out any) {
	c.t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		c.t.Fatal(err)
	}
	c.do(http.MethodPost, path, token, b, want, out)
}

func (c *staffClient) do(method, path, token string, body []byte, want int, out any) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %s, want %d\n%s", method, path, resp.Status, want, b)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
	} else if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
}
