package staffweb_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/browsertest"
)

// minimalPDF is a one-page PDF with the text "vigil pdf".
func minimalPDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length 44 >>\nstream\nBT /F1 24 Tf 40 70 Td (vigil pdf) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return []byte(b.String())
}

// TestBrowserPDF: a PDF from a submission opens in Chromium's viewer from
// the decrypted stream, under the file route's headers.
func TestBrowserPDF(t *testing.T) {
	ctx := startBrowser(t, browsertest.Options{Lang: "en"})
	e := newEnv(t, true, false)
	base := e.listen(t)
	e.account(t, "Olga Admin", vigil.RoleAdmin, "en", "correct horse battery staple")
	sub := e.submit(t, "a protocol", map[string][]byte{"protocol.pdf": minimalPDF()})
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "Olga Admin"),
		chromedp.SendKeys(chromedp.ID("passphrase"), "correct horse battery staple"),
		chromedp.Submit(chromedp.ID("passphrase")),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	secret := secretFrom(t, browsertest.Run(t, ctx, chromedp.OuterHTML(chromedp.CSS("body"))))
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("code"), totpNow(e, secret)), chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.CSS("table")),
		chromedp.Navigate(base+"/inbox/"+sub.String()), chromedp.WaitVisible(chromedp.ID("text")))
	browsertest.Screenshot(t, ctx, "01-submission-with-pdf")
	href := browsertest.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS(`.files a[target="_blank"]`), "href")).Value
	browsertest.Do(t, ctx, chromedp.Navigate(base+href), chromedp.Sleep(2e9))
	browsertest.Screenshot(t, ctx, "02-pdf-viewer")
	// Chromium's viewer runs out of the page's DOM; the document is the
	// PDF itself (the screenshot shows it rendered).
	if ct := browsertest.Run(t, ctx, chromedp.Evaluate[string](`document.contentType`)); ct != "application/pdf" {
		t.Errorf("file page is %q, want the PDF viewer", ct)
	}
}
