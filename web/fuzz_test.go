package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/web"
)

// FuzzSubmit posts arbitrary multipart bodies to /submit. Whatever the body,
// the server never fails with a 5xx, and a refused submission stores
// nothing: the log and the blob store are unchanged.
func FuzzSubmit(f *testing.F) {
	const boundary = "fuzzboundary"
	part := func(name, filename, body string) string {
		cd := `form-data; name="` + name + `"`
		if filename != "" {
			cd += `; filename="` + filename + `"`
		}
		return "--" + boundary + "\r\nContent-Disposition: " + cd + "\r\n\r\n" + body + "\r\n"
	}
	end := "--" + boundary + "--\r\n"
	f.Add(part("text", "", "Меня задержали") + part("lang", "", "ru") + end)
	f.Add(part("text", "", "x") + part("files", "a.txt", "hello") + part("files", "b.jpg", "\xff\xd8") + end)
	f.Add(part("text", "", "x") + part("files", "../../etc/passwd", "x") + end)
	f.Add(part("text", "", "a\xffb") + end)
	f.Add(part("text", "", "  ") + end)
	f.Add(part("text", "", "<script>alert(1)</script>") + part("contact", "", "\x00") + end)
	f.Add(part("text", "", "truncated"))
	f.Add("")

	dir := filepath.Join(f.TempDir(), "data")
	if _, err := datadir.Init(dir, []byte("fuzz passphrase"), datadir.Options{WorkFactor: 10}); err != nil {
		f.Fatal(err)
	}
	d, err := datadir.Open(context.Background(), dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	d.Intake.Config.MaxText = 4 << 10
	d.Intake.Config.MaxFiles = 3
	d.Intake.Config.MaxTotal = 64 << 10
	h := web.NewPublic(d, web.Keys{Origin: d.Config.Origin, LogVKey: d.Config.LogVKey, AgeRecipient: d.Config.Recipient}, d.Intake, web.Options{})
	count := func(t testing.TB) (int64, int) {
		var n int64
		err := d.Store.View(context.Background(), func(tx store.ReadTx) error {
			var err error
			n, err = tx.TreeSize()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		blobs := 0
		if err := d.Blobs.List(context.Background(), func(string) error { blobs++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n, blobs
	}
	f.Fuzz(func(t *testing.T, body string) {
		tree, blobs := count(t)
		req := httptest.NewRequest(http.MethodPost, "/submit", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q", w.Code, body)
		}
		tree2, blobs2 := count(t)
		if w.Code == http.StatusOK {
			if !strings.Contains(w.Body.String(), `id="receipt"`) || tree2 <= tree {
				t.Fatalf("200 without a recorded submission: tree %d -> %d", tree, tree2)
			}
			return
		}
		if tree2 != tree || blobs2 != blobs {
			t.Fatalf("status %d stored something: tree %d -> %d, blobs %d -> %d", w.Code, tree, tree2, blobs, blobs2)
		}
		if strings.Contains(w.Body.String(), "<script>") {
			t.Fatalf("error page echoes markup")
		}
	})
}
