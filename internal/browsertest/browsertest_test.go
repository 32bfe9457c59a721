package browsertest_test

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil/internal/browsertest"
)

// page changes its title, its body and its form from an inline script, an
// external script, an onload handler and a javascript: form action. With
// scripts off none of that may happen, and the <noscript> text shows.
const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>untouched</title>
<script>document.title = "inline script ran";</script>
<script src="/app.js"></script>
</head>
<body onload="document.body.dataset.onload = 'ran'">
<h1 id="h">Без JavaScript</h1>
<noscript><p id="ns">scripts are off</p></noscript>
<form method="post" action="/echo" enctype="multipart/form-data">
<textarea name="text" id="text"></textarea>
<input type="file" name="files" id="files" multiple>
<button type="submit" id="send">Send</button>
</form>
</body></html>`

func TestScriptsDisabled(t *testing.T) {
	var (
		mu        sync.Mutex
		gotScript bool
		gotText   string
		gotFiles  []string
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotScript = true
		mu.Unlock()
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, `document.title = "external script ran";`)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		gotText = r.FormValue("text")
		for _, fh := range r.MultipartForm.File["files"] {
			gotFiles = append(gotFiles, fh.Filename)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>done</title><p id="ok">received</p>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := browsertest.Start(t)
	defer cancel()

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("h")))
	if title := browsertest.Run(t, ctx, chromedp.Title()); title != "untouched" {
		t.Errorf("title = %q: a page script ran", title)
	}
	attrs := browsertest.Run(t, ctx, chromedp.Attributes(chromedp.CSS("body")))
	if v, ok := attrs["data-onload"]; ok {
		t.Errorf("body data-onload = %q: the onload handler ran", v)
	}
	// With scripting off, <noscript> content is parsed as elements and shown.
	if txt := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("ns"))); txt != "scripts are off" {
		t.Errorf("noscript text = %q, want it rendered", txt)
	}
	mu.Lock()
	if gotScript {
		// Chromium may still fetch a script it will not run; say so, but
		// the title check above is what proves it did not run.
		t.Logf("note: the browser fetched /app.js (it did not run it)")
	}
	mu.Unlock()

	shot := browsertest.Screenshot(t, ctx, "scripts-disabled")
	checkPNG(t, shot, 1024)

	// Forms post without scripts, multipart uploads included, and the
	// setting survives navigation.
	dir := t.TempDir()
	a, b := filepath.Join(dir, "one.txt"), filepath.Join(dir, "два.txt")
	os.WriteFile(a, []byte("first"), 0o644)
	os.WriteFile(b, []byte("second"), 0o644)
	browsertest.Do(t, ctx,
		chromedp.SetValue(chromedp.ID("text"), "Меня задержали"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{a, b}),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.ID("ok")),
	)
	mu.Lock()
	if gotText != "Меня задержали" || strings.Join(gotFiles, ",") != "one.txt,два.txt" {
		t.Errorf("server got text %q files %q", gotText, gotFiles)
	}
	mu.Unlock()
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("h")))
	if title := browsertest.Run(t, ctx, chromedp.Title()); title != "untouched" {
		t.Errorf("after navigation: title = %q: a page script ran", title)
	}
}

func TestLang(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("Accept-Language"):
		default:
		}
		io.WriteString(w, `<!doctype html><title>t</title><p id="p">hi</p>`)
	}))
	defer srv.Close()
	ctx, cancel := browsertest.StartWith(t, browsertest.Options{Lang: "ru"})
	defer cancel()
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("p")))
	if al := <-got; !strings.HasPrefix(al, "ru") {
		t.Errorf("Accept-Language = %q, want ru first", al)
	}
}

func TestArtifactDirFromEnv(t *testing.T) {
	root := t.TempDir()
	t.Setenv("VIGIL_ARTIFACTS", root)
	dir := browsertest.ArtifactDir(t)
	if want := filepath.Join(root, "TestArtifactDirFromEnv"); dir != want {
		t.Errorf("ArtifactDir = %q, want %q", dir, want)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("ArtifactDir not created: %v", err)
	}
}

func TestMissingBrowser(t *testing.T) {
	t.Setenv("VIGIL_CHROMIUM", filepath.Join(t.TempDir(), "no-such-chromium"))
	if _, ok := browsertest.ChromiumPath(); ok {
		t.Fatal("ChromiumPath reports a missing file as present")
	}
}

// checkPNG fails unless path is a PNG at least minWidth pixels wide.
func checkPNG(t *testing.T, path string, minWidth int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if w := img.Bounds().Dx(); w < minWidth {
		t.Errorf("%s is %d px wide, want ≥ %d", path, w, minWidth)
	}
}
