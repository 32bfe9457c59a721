package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/web"
)

// countingReader counts what the server reads of a body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// repeatReader yields n copies of one byte.
type repeatReader struct {
	c byte
	n int64
}

func (r *repeatReader) Read(b []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), r.n)]
	for i := range b {
		b[i] = r.c
	}
	r.n -= int64(len(b))
	return len(b), nil
}

// A multipart part header is bounded at a few KiB (Go's own bound is 10 MiB):
// a 1 MiB header is refused with a clear message after reading little of it,
// and nothing is stored. A browser-sized header still passes.
func TestPartHeaderBounded(t *testing.T) {
	d := openDir(t)
	h := handler(d, web.Options{})
	before := snapshot(t, d)
	const huge = 1 << 20
	file := "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.bin\"\r\n\r\n" + strings.Repeat("x", 100000) + "\r\n"
	for _, tc := range []struct {
		name   string
		before string // parts before the one with the long header
		field  string // "text" or "files"
	}{
		{"first part", "", "text"},
		{"after a file", file, "files\"; filename=\"b.bin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{r: io.MultiReader(
				strings.NewReader(tc.before+"--b\r\nContent-Disposition: form-data; name=\""+tc.field+"\"\r\nX-Pad: "),
				&repeatReader{c: 'a', n: huge},
				strings.NewReader("\r\n\r\nhello\r\n--b--\r\n"))}
			req := httptest.NewRequest("POST", "/submit", body)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "The form arrived damaged") {
				t.Errorf("status %d, want 400 and the header message:\n%.2000s", rec.Code, rec.Body)
			}
			if read := body.n - int64(len(tc.before)); read > 32<<10 {
				t.Errorf("the server read %d bytes of a %d-byte part header; want it to stop within a few KiB", read, huge)
			}
			t.Logf("read %d bytes past the earlier parts", body.n-int64(len(tc.before)))
			if after := snapshot(t, d); after != before {
				t.Errorf("state changed: %+v → %+v", before, after)
			}
		})
	}
	// A header of 6 KiB, more than any browser sends, is still read.
	pad := strings.Repeat("a", 6<<10)
	body := file + "--b\r\nContent-Disposition: form-data; name=\"text\"\r\nX-Pad: " + pad + "\r\n\r\nhello\r\n--b--\r\n"
	req := httptest.NewRequest("POST", "/submit", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="receipt"`) {
		t.Errorf("a 6 KiB part header: status %d, want a receipt:\n%.2000s", rec.Code, rec.Body)
	}
}
