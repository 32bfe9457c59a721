package account

import (
	"bytes"
	"encoding/base64"
	"testing"
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
