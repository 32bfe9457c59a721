package staffweb

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-hr/vigil/account"
)

// FuzzPasskeyName: whatever header a browser (or an attacker) sends, the
// name kept is valid UTF-8, at most account.MaxPasskeyName characters, without
// control characters or surrounding space, and never empty.
func FuzzPasskeyName(f *testing.F) {
	for _, s := range []string{"", "work%20laptop", "%D0%A0%D0%B0%D0%B1%D0%BE%D1%87%D0%B8%D0%B9", "%00%0A%E2%80%8B", "%", "%ZZ", "%FF%FE", strings.Repeat("%D0%AF", 60), "a\tb", "<b>x</b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("POST", "/account/passkeys/finish", nil)
		r.Header.Set("X-Vigil-Passkey-Name", header)
		name := passkeyName(r)
		if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > account.MaxPasskeyName || strings.TrimSpace(name) != name {
			t.Fatalf("%q gives %q", header, name)
		}
		if strings.ContainsFunc(name, func(c rune) bool { return unicode.IsControl(c) || unicode.Is(unicode.Cf, c) }) {
			t.Fatalf("%q gives %q, with a control or format character", header, name)
		}
	})
}

// TestPasskeyName: the name typed, percent-encoded by webauthn.js, is kept
// as typed but for runs of space; nothing usable gives "passkey".
func TestPasskeyName(t *testing.T) {
	for header, want := range map[string]string{
		"":              "passkey",
		"work%20laptop": "work laptop",
		"%20%20Рабочий%0A%09ноутбук%20": "Рабочий ноутбук",
		"%D0%AF":                    "Я",
		"%ZZ":                       "passkey",
		"%FF":                       "passkey",
		"%00%01":                    "passkey",
		"%E2%80%AEkoobpot%E2%80%AC": "koobpot",
		strings.Repeat("ab", 30):    strings.Repeat("ab", 20),
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Vigil-Passkey-Name", header)
		if got := passkeyName(r); got != want {
			t.Errorf("%q: %q, want %q", header, got, want)
		}
	}
}
