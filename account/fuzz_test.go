package account

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzSessionCookie checks that the cookie parser never panics, accepts
// only 43 base64url characters of 32 bytes, and that what it accepts
// re-encodes to the same value (no second spelling of a session ID).
func FuzzSessionCookie(f *testing.F) {
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("____________________________________________")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Fuzz(func(t *testing.T, v string) {
		id, ok := parseSessionID(v)
		if !ok {
			if id != nil {
				t.Fatal("refused value returned an ID")
			}
			return
		}
		if len(id) != 32 || base64.RawURLEncoding.EncodeToString(id) != v {
			t.Fatalf("accepted %q as %x", v, id)
		}
	})
}

// FuzzCSRFToken checks that the token check never panics and accepts only
// the one token of the session ID.
func FuzzCSRFToken(f *testing.F) {
	id := bytes.Repeat([]byte{7}, 32)
	f.Add(id, csrfToken(id))
	f.Add(id, "")
	f.Add([]byte{}, "x")
	f.Add(id, csrfToken(id)+"=")
	f.Fuzz(func(t *testing.T, id []byte, tok string) {
		if checkCSRFToken(id, tok) != (tok == csrfToken(id)) {
			t.Fatalf("checkCSRFToken(%x, %q) disagrees with the token", id, tok)
		}
	})
}

// FuzzRequireCSRF sends arbitrary methods, content types, bodies and
// headers through RequireCSRF with a signed-in session: it must never
// panic, must let every safe method through, and must let an unsafe one
// through only with the session's token (header, or field of a urlencoded
// body) and no cross-origin marker.
func FuzzRequireCSRF(f *testing.F) {
	id := bytes.Repeat([]byte{9}, 32)
	tok := csrfToken(id)
	f.Add("POST", "application/x-www-form-urlencoded", "csrf="+tok, "", "", "")
	f.Add("POST", "application/x-www-form-urlencoded", "a=1&csrf="+tok+"&csrf=x", "", "https://evil.example", "")
	f.Add("DELETE", "", "", tok, "", "cross-site")
	f.Add("GET", "", "", "", "", "")
	f.Add("PUT", "multipart/form-data; boundary=x", "--x\r\n", "", "", "same-origin")
	f.Add("POST", "application/x-www-form-urlencoded", "csrf=%zz", "", "", "")
	f.Fuzz(func(t *testing.T, method, ctype, body, header, origin, site string) {
		if !validMethod(method) {
			return
		}
		s := &Sessions{}
		h := sha256.Sum256(id)
		now := time.Now()
		s.sessions = map[[32]byte]*session{h: {state: stateFull, created: now, last: now, fresh: now}}
		r := httptest.NewRequest("GET", "http://staff.test/x", strings.NewReader(body))
		r.Method = method
		r.Header.Set("Content-Type", ctype)
		r.Header.Set(CSRFHeader, header)
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", site)
		r.AddCookie(&http.Cookie{Name: CookieName, Value: base64.RawURLEncoding.EncodeToString(id)})
		passed := false
		s.RequireCSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			passed = true
			if b, _ := io.ReadAll(r.Body); !safe(method) && header == "" && string(b) != body {
				t.Fatalf("handler read %q, want the body %q", b, body)
			}
		})).ServeHTTP(httptest.NewRecorder(), r)
		if safe(method) {
			if !passed {
				t.Fatalf("safe method %q refused", method)
			}
			return
		}
		got := header
		if got == "" && strings.HasPrefix(ctype, "application/x-www-form-urlencoded") {
			v, _ := url.ParseQuery(body)
			got = v.Get(CSRFField)
		}
		sameOrigin := (origin == "" && (site == "" || site == "same-origin")) || strings.EqualFold(origin, "http://staff.test")
		if want := got == tok && sameOrigin; passed != want {
			t.Fatalf("%s ctype %q body %q header %q origin %q site %q: passed %v, want %v", method, ctype, body, header, origin, site, passed, want)
		}
	})
}

// validMethod reports whether m is an HTTP token, as net/http requires.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c > 126 || c <= 32 || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}
