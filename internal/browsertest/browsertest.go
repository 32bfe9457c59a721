// Package browsertest drives a real headless Chromium, with JavaScript
// disabled, from Go tests.
//
// Most tests need three calls:
//
//	ctx, cancel := browsertest.Start(t) // skips if there is no Chromium
//	defer cancel()
//	browsertest.Do(t, ctx, chromedp.Navigate(url))
//	browsertest.Screenshot(t, ctx, "front-page")
//
// [Start] runs Debian's /usr/bin/chromium (or $VIGIL_CHROMIUM) through the
// Chrome DevTools Protocol (github.com/chromedp/chromedp). Chromium never
// downloads itself here: .ci/run installs the chromium package. Without a
// browser, Start skips the test, unless VIGIL_REQUIRE_BROWSER=1, which CI
// sets so that the browser tests cannot silently vanish.
//
// # JavaScript
//
// vigil's public pages must work with JavaScript off (Tor Browser's safest
// level). Start switches script execution off in the page with
// Emulation.setScriptExecutionDisabled before the first navigation, so the
// page's own scripts never run, inline or not, and <noscript> content
// renders. Reads and form fills done by the test itself (chromedp.Text,
// chromedp.SetValue and the like) still work: they are DevTools calls, not
// page scripts. TestScriptsDisabled proves both.
//
// # Artifacts
//
// [Screenshot] saves full-page PNGs into [ArtifactDir]: $VIGIL_ARTIFACTS/<test
// name> if that variable is set, else the test's own artifact directory
// (kept under the output directory with go test -artifacts, temporary
// otherwise). Each path is logged.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil/internal/testneed"
)

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// Timeout bounds each call of [Do], [Run] and [Screenshot].
var Timeout = 60 * time.Second

// ChromiumPath returns the browser to run: $VIGIL_CHROMIUM if set, else
// [DefaultChromium]. It reports false, with the path it looked at, if that
// file cannot be executed.
func ChromiumPath() (string, bool) {
	p := os.Getenv("VIGIL_CHROMIUM")
	if p == "" {
		p = DefaultChromium
	}
	found, err := exec.LookPath(p)
	if err != nil {
		return p, false // named in the skip message
	}
	return found, true
}

// Options adjust [StartWith]. The zero value is what [Start] uses.
type Options struct {
	// Width and Height are the window size in CSS pixels; default 1024×768.
	Width, Height int
	// Lang is the browser's language, e.g. "ru": the Accept-Language
	// header it sends, and the language of its own widgets (the file
	// picker's "Choose Files") where that locale is installed, which
	// Debian's chromium-l10n package does; without it they stay in
	// English. Empty leaves Chromium's default, en-US.
	Lang string
}

// Start runs a fresh headless Chromium with JavaScript disabled and returns
// a chromedp context for its one tab. The browser stops when cancel is
// called or the test ends, whichever is first.
//
// If no browser is installed, Start skips the test, or fails it when
// VIGIL_REQUIRE_BROWSER=1.
func Start(t testing.TB) (ctx context.Context, cancel context.CancelFunc) {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is [Start] with options.
func StartWith(t testing.TB, opt Options) (ctx context.Context, cancel context.CancelFunc) {
	t.Helper()
	exe, ok := ChromiumPath()
	if !ok {
		testneed.Skip(t, "VIGIL_REQUIRE_BROWSER", fmt.Sprintf("no Chromium at %s (install Debian's chromium package, or set VIGIL_CHROMIUM)", exe))
	}
	if opt.Width == 0 {
		opt.Width = 1024
	}
	if opt.Height == 0 {
		opt.Height = 768
	}

	// The flags are the ones known to work on these machines: without
	// the background-networking ones Chromium keeps dialling Google's
	// hosts, which the closed network refuses. --no-sandbox because tests
	// run as root here.
	out := &lockedBuffer{}
	flags := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(opt.Width, opt.Height),
		chromedp.CombinedOutput(out),
	}
	if opt.Lang != "" {
		flags = append(flags, chromedp.Flag("lang", opt.Lang), chromedp.Flag("accept-lang", opt.Lang), chromedp.Env("LANGUAGE="+opt.Lang))
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, tabCancel := chromedp.NewContext(allocCtx)
	var once sync.Once
	cancel = func() {
		once.Do(func() {
			tabCancel()
			allocCancel()
		})
	}
	t.Cleanup(cancel)

	// The first action starts the browser; it must not run under a
	// timeout, or the timeout would end the browser with it.
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	if err != nil {
		cancel()
		t.Fatalf("start %s: %v\nbrowser output:\n%s", exe, err, out.String())
	}
	return ctx, cancel
}

// Do runs steps in the browser of ctx within [Timeout] and fails the test
// on the first error, naming what the page showed.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("browser: %v%s", err, where(ctx))
	}
}

// Run runs one action in the browser of ctx within [Timeout], fails the
// test on error and returns the action's value.
func Run[T any](t testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("browser: %v%s", err, where(ctx))
	}
	return v
}

// where describes the current page for a failure message, best effort.
func where(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(c, chromedp.Location())
	if err != nil {
		return ""
	}
	body, _ := chromedp.Run(c, chromedp.Text(chromedp.CSS("body")))
	if len(body) > 2000 {
		body = body[:2000] + "…"
	}
	return fmt.Sprintf("\npage %s:\n%s", loc, body)
}

// ArtifactDir returns the directory where t's artifacts go, creating it:
// $VIGIL_ARTIFACTS/<test name> if VIGIL_ARTIFACTS is set, else
// t.ArtifactDir().
func ArtifactDir(t testing.TB) string {
	t.Helper()
	root := os.Getenv("VIGIL_ARTIFACTS")
	if root == "" {
		return t.ArtifactDir()
	}
	dir := filepath.Join(root, safeName(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifact dir: %v", err)
	}
	return dir
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// Screenshot saves a full-page PNG of the current page as the artifact
// name.png, logs its path and returns it.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png := Run(t, ctx, chromedp.FullScreenshot(100))
	path := filepath.Join(ArtifactDir(t), safeName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot %s", path)
	return path
}

// Cookies returns the cookies the browser holds for the current page.
func Cookies(t testing.TB, ctx context.Context) []*network.Cookie {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	r, err := chromedp.Call(c, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatalf("browser: get cookies: %v", err)
	}
	return r.Cookies
}

// lockedBuffer collects the browser's output, written from another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
