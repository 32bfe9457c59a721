package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzReadSmallForm checks the follow-up login's own form parser (which
// avoids strings so the receipt can be wiped) against net/url: whatever
// url.ParseQuery accepts, readSmallForm accepts with the same first values;
// it never panics, never reads past its buffer, and returns values that
// point into the buffer it was given (so wiping the buffer wipes them).
func FuzzReadSmallForm(f *testing.F) {
	f.Add("receipt=1234+5678+9012+3456+7890+1234+5678&lang=ru")
	f.Add("receipt=1234-5678&receipt=9999&lang=en&x=%41")
	f.Add("lang=&receipt=%31%32%33")
	f.Add("receipt=%zz")
	f.Add("a=b;c=d&receipt=1")
	f.Add("=&&=&receipt")
	f.Add(strings.Repeat("receipt=1&", 500))
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/followup", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		buf := make([]byte, loginBodyMax+1)
		form, ok := readSmallForm(httptest.NewRecorder(), req, buf, "receipt", "lang")
		if len(body) >= len(buf) {
			if ok {
				t.Fatalf("a body of %d bytes was accepted with a buffer of %d", len(body), len(buf))
			}
			return
		}
		for name, v := range form {
			if len(v) > 0 && !inside(buf, v) {
				t.Fatalf("%s: value %q is not inside the buffer", name, v)
			}
		}
		want, err := url.ParseQuery(body)
		if err != nil {
			return // net/url refuses it; readSmallForm may be more lenient, never less
		}
		if !ok {
			t.Fatalf("url.ParseQuery accepts %q, readSmallForm does not", body)
		}
		for _, name := range []string{"receipt", "lang"} {
			got, has := form[name]
			if _, wantHas := want[name]; has != wantHas || string(got) != want.Get(name) {
				t.Fatalf("%s: got %q (%v), url.ParseQuery says %q (%v)", name, got, has, want.Get(name), wantHas)
			}
		}
	})
}

// inside reports whether v lies within buf's memory.
func inside(buf, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	b := buf[:cap(buf)]
	for i := range b {
		if &b[i] == &v[0] {
			return i+len(v) <= len(b)
		}
	}
	return bytes.Equal(v, nil)
}
