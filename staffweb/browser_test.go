package staffweb_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/internal/browsertest"
)

// listen serves e on 127.0.0.1 and returns the origin staff use,
// http://localhost:PORT (passkeys need a host name), with passkeys and
// the origin check set up for it as vigil serve does.
func (e *env) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	origin := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	wa, err := account.NewWebAuthn("localhost", []string{origin})
	must(t, err)
	e.sessions.WebAuthn, e.sessions.Origins = wa, []string{origin}
	srv := &http.Server{Handler: e.h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return origin
}

// startBrowser starts Chromium with page scripts on (the passkey script
// needs them; browsertest starts with them off).
func startBrowser(t *testing.T, opt browsertest.Options) context.Context {
	t.Helper()
	ctx, cancel := browsertest.StartWith(t, opt)
	t.Cleanup(cancel)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return browsertest.Run(t, ctx, chromedp.Text(chromedp.CSS(sel)))
}

func path(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc := browsertest.Run(t, ctx, chromedp.Location())
	i := strings.Index(loc[len("http://"):], "/")
	return loc[len("http://")+i:]
}

// addAuthenticator gives the browser of ctx Chromium's virtual
// authenticator (a platform passkey that verifies the user at once).
func addAuthenticator(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}}); err != nil {
		t.Fatal(err)
	}
}

// checkLang checks the page's language and that the body has want.
func checkLang(t *testing.T, ctx context.Context, lang, want string) {
	t.Helper()
	got := browsertest.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value
	if got != lang {
		t.Errorf("%s: html lang %q, want %q", path(t, ctx), got, lang)
	}
	if body := text(t, ctx, "body"); want != "" && !strings.Contains(body, want) {
		t.Errorf("%s: page lacks %q:\n%s", path(t, ctx), want, body)
	}
}

// TestBrowserPasskey: in English, in real Chromium with a virtual
// authenticator, a new account signs in sealed and enrols a passkey, signs
// out and back in with the passkey, unseals the vault from the UI, reads a
// submission whose HTML stays inert, replies, and seals with the button;
// then every staff page sends the browser to the sign-in page.
func TestBrowserPasskey(t *testing.T) {
	ctx := startBrowser(t, browsertest.Options{Lang: "en"})
	e := newEnv(t, false, false)
	base := e.listen(t)
	e.account(t, "Marina", vigil.RoleInvestigator, "en", "a long staff passphrase")
	sub := e.submit(t, "I was detained on 3 March.\n<script>document.title='pwned'</script><b>bold?</b><img src=x onerror=alert(1)>",
		map[string][]byte{"photo.png": pngBytes(t), "notes.txt": []byte("plain notes")})

	addAuthenticator(t, ctx)

	// 1. First sign-in: passphrase, then enrol a passkey.
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.ID("name")))
	checkLang(t, ctx, "en", "Sign in")
	// The language switch works both ways, without a session too.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`form.lang button`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="ru"] #name`)))
	checkLang(t, ctx, "ru", "Вход")
	browsertest.Screenshot(t, ctx, "01a-signin-ru")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`form.lang button`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #name`)))
	checkLang(t, ctx, "en", "Sign in")
	browsertest.Screenshot(t, ctx, "01-signin-en")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("name"), "Marina"),
		chromedp.SendKeys(chromedp.ID("passphrase"), "a long staff passphrase"),
		chromedp.Submit(chromedp.ID("passphrase")),
		chromedp.WaitVisible(chromedp.ID("register")))
	checkLang(t, ctx, "en", "Set up a second factor")
	browsertest.Screenshot(t, ctx, "02-enrol-en")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("register")), chromedp.WaitVisible(chromedp.ID("vault-passphrase")))
	// Signed in while sealed: only the unseal page.
	checkLang(t, ctx, "en", "The vault is sealed")
	browsertest.Screenshot(t, ctx, "03-unseal-after-enrol-en")

	// 2. Sign out, sign in again with the passkey.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("name")))
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/vault"), chromedp.WaitVisible(chromedp.ID("name")))
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("name"), "marina"),
		chromedp.SendKeys(chromedp.ID("passphrase"), "a long staff passphrase"),
		chromedp.Submit(chromedp.ID("passphrase")),
		chromedp.WaitVisible(chromedp.ID("passkey")))
	browsertest.Screenshot(t, ctx, "04-second-step-en")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("passkey")), chromedp.WaitVisible(chromedp.ID("vault-passphrase")))

	// 3. Unseal from the UI.
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("vault-passphrase"), vaultPass),
		chromedp.Submit(chromedp.ID("vault-passphrase")),
		chromedp.WaitVisible(chromedp.ID("vault-state")))
	if got := text(t, ctx, "#vault-state"); got != "unsealed" {
		t.Fatalf("vault state %q after unseal", got)
	}
	if e.d.Vault.Sealed() {
		t.Fatal("vault still sealed")
	}
	checkLang(t, ctx, "en", "12,345")
	browsertest.Screenshot(t, ctx, "05-vault-en")

	// 4. The inbox and the submission: its HTML is text, not markup.
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("table")))
	checkLang(t, ctx, "en", "Submissions: 1,")
	browsertest.Screenshot(t, ctx, "06-inbox-en")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("tbody a")), chromedp.WaitVisible(chromedp.ID("text")))
	if got := text(t, ctx, "#text"); !strings.Contains(got, "<script>document.title='pwned'</script><b>bold?</b>") {
		t.Errorf("submission text not shown as text: %q", got)
	}
	if n := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#text *').length`)); n != 0 {
		t.Errorf("submission text made %d elements", n)
	}
	if title := browsertest.Run(t, ctx, chromedp.Title()); strings.Contains(title, "pwned") {
		t.Error("script in the submission ran")
	}
	// The image preview decoded from the vault.
	// The image is lazy and may still be loading: wait for it (a broken
	// image is complete with width 0, so the check still fails on one).
	browsertest.Run(t, ctx, chromedp.Poll[bool](`document.querySelector('.files img').complete`, chromedp.WithPollingTimeout(10*time.Second)))
	if w := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelector('.files img').naturalWidth`)); w != 4 {
		t.Errorf("image preview width %d, want 4", w)
	}
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("reply"), "Thank you. <i>Can you</i> tell us the time?"),
		chromedp.Submit(chromedp.ID("reply")),
		chromedp.WaitVisible(chromedp.CSS(".msg.from-staff")))
	if got := text(t, ctx, ".msg.from-staff .text"); got != "Thank you. <i>Can you</i> tell us the time?" {
		t.Errorf("reply shown as %q", got)
	}
	browsertest.Screenshot(t, ctx, "07-submission-en")
	v, err := e.d.Intake.Get(context.Background(), vigil.Principal{Actor: "test", Role: vigil.RoleAdmin}, sub)
	must(t, err)
	if len(v.Messages) != 1 || v.Messages[0].From != "staff" {
		t.Fatalf("stored thread %+v", v.Messages)
	}

	// 5. Seal now: every page refuses.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.ID("seal-now")), chromedp.WaitVisible(chromedp.ID("name")))
	if !e.d.Vault.Sealed() {
		t.Fatal("seal button did not seal")
	}
	if n := e.sessions.Len(); n != 0 {
		t.Errorf("%d sessions after seal", n)
	}
	checkLang(t, ctx, "en", "The vault was sealed")
	browsertest.Screenshot(t, ctx, "08-sealed-en")
	for _, p := range []string{"/inbox", "/inbox/" + sub.String(), "/vault", "/accounts", "/tokens", "/unseal", "/reauth"} {
		browsertest.Do(t, ctx, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.ID("name")))
		if got := path(t, ctx); !strings.HasPrefix(got, "/signin") {
			t.Errorf("%s after seal: at %s, want the sign-in page", p, got)
		}
	}
}

// TestBrowserTOTP: in Russian (browser and account), a new admin enrols a
// TOTP app with the secret read off the page, signs in again with a code,
// reads the inbox and a submission at a phone's width, makes an API token
// after re-authenticating, and sees it once.
func TestBrowserTOTP(t *testing.T) {
	ctx := startBrowser(t, browsertest.Options{Lang: "ru"})
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Ольга", vigil.RoleAdmin, "ru", "длинная парольная фраза")
	e.submit(t, "Меня задержали 3 марта у рынка.", map[string][]byte{"протокол.txt": []byte("Протокол № 17")})

	signin := func() {
		browsertest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), "Ольга"),
			chromedp.SendKeys(chromedp.ID("passphrase"), "длинная парольная фраза"),
			chromedp.Submit(chromedp.ID("passphrase")))
	}
	signin()
	browsertest.Do(t, ctx, chromedp.WaitVisible(chromedp.ID("totp-secret")))
	checkLang(t, ctx, "ru", "Настройка второго фактора")
	browsertest.Screenshot(t, ctx, "01-enrol-ru")
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(text(t, ctx, "#totp-secret"), " ", ""))
	must(t, err)
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("code"), account.TOTPCode(secret, e.clock.Now())),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.CSS("table")))
	checkLang(t, ctx, "ru", "Входящие")

	// Out, and in again with the next code.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("name")))
	checkLang(t, ctx, "ru", "Вы вышли")
	e.clock.Add(30 * time.Second)
	signin()
	browsertest.Do(t, ctx, chromedp.WaitVisible(chromedp.ID("code")))
	checkLang(t, ctx, "ru", "Код из приложения")
	browsertest.Screenshot(t, ctx, "02-second-step-ru")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("code"), account.TOTPCode(secret, e.clock.Now())),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.CSS("table")))
	checkLang(t, ctx, "ru", "Обращений: 1")
	browsertest.Screenshot(t, ctx, "03-inbox-ru")

	// A phone's width.
	browsertest.Do(t, ctx, chromedp.EmulateViewport(375, 800), chromedp.Click(chromedp.CSS("tbody a")), chromedp.WaitVisible(chromedp.ID("text")))
	checkLang(t, ctx, "ru", "Меня задержали 3 марта у рынка.")
	if w := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
		t.Errorf("submission page is %d px wide at 375 px", w)
	}
	browsertest.Screenshot(t, ctx, "04-submission-375-ru")
	browsertest.Do(t, ctx, chromedp.EmulateViewport(1024, 768))

	// An API token: re-authentication first, then the secret once.
	e.clock.Add(6 * time.Minute) // the sign-in's freshness is over
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/tokens"), chromedp.WaitVisible(chromedp.ID("passphrase")))
	checkLang(t, ctx, "ru", "Подтвердите, что это вы")
	browsertest.Screenshot(t, ctx, "05-reauth-ru")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.ID("passphrase"), "длинная парольная фраза"),
		chromedp.Submit(chromedp.ID("passphrase")),
		chromedp.WaitVisible(chromedp.ID("tok-name")),
		chromedp.SendKeys(chromedp.ID("tok-name"), "скрипт отчётов"),
		chromedp.Submit(chromedp.ID("tok-name")),
		chromedp.WaitVisible(chromedp.ID("token-secret")))
	if s := text(t, ctx, "#token-secret"); !strings.HasPrefix(s, "vgl_") {
		t.Errorf("token secret %q", s)
	}
	browsertest.Screenshot(t, ctx, "06-token-ru")
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/tokens"), chromedp.WaitVisible(chromedp.ID("tok-name")))
	if strings.Contains(text(t, ctx, "body"), "vgl_") {
		t.Error("token secret shown again")
	}
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/accounts"), chromedp.WaitVisible(chromedp.ID("new-name")))
	browsertest.Screenshot(t, ctx, "07-accounts-ru")
}
