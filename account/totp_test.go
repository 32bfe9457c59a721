package account_test

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
)

// TestRFC6238 runs the test vectors of RFC 6238 Appendix B (8 digits, the
// three hashes with their seeds), and checks that the 6-digit code vigil
// uses is the last six digits of the SHA-1 one.
func TestRFC6238(t *testing.T) {
	seeds := map[string]string{
		"SHA1":   "12345678901234567890",
		"SHA256": "12345678901234567890123456789012",
		"SHA512": "1234567890123456789012345678901234567890123456789012345678901234",
	}
	for _, v := range []struct {
		unix int64
		alg  string
		code string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{1111111111, "SHA1", "14050471"}, {1111111111, "SHA256", "67062674"}, {1111111111, "SHA512", "99943326"},
		{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
		{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
		{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
	} {
		got := account.HOTP(v.alg, []byte(seeds[v.alg]), uint64(v.unix/30), 8)
		if got != v.code {
			t.Errorf("T=%d %s: %s, want %s", v.unix, v.alg, got, v.code)
		}
		if v.alg == "SHA1" {
			if got := account.TOTPCode([]byte(seeds["SHA1"]), time.Unix(v.unix, 0)); got != v.code[2:] {
				t.Errorf("TOTPCode T=%d: %s, want %s", v.unix, got, v.code[2:])
			}
		}
	}
}

func TestTOTPGuard(t *testing.T) {
	secret := []byte("12345678901234567890")
	id, other := vigil.NewID(), vigil.NewID()
	now := time.Unix(1111111111, 0)
	var g account.TOTPGuard
	code := account.TOTPCode(secret, now)
	if !g.Verify(id, secret, code, now) {
		t.Fatal("current code refused")
	}
	if g.Verify(id, secret, code, now) {
		t.Fatal("replayed code accepted")
	}
	if g.Verify(id, secret, code, now.Add(10*time.Second)) {
		t.Fatal("replayed code accepted later in its step")
	}
	// Another account's use of its own code is not a replay of this one's.
	if !g.Verify(other, secret, code, now) {
		t.Fatal("code refused for another account")
	}
	// An older step than the last used is refused too (no going back).
	prev := account.TOTPCode(secret, now.Add(-30*time.Second))
	if g.Verify(id, secret, prev, now) {
		t.Fatal("previous step accepted after the current one was used")
	}
	// ±1 step of drift: the next step's code is accepted now, two steps not.
	later := now.Add(60 * time.Second)
	if !g.Verify(id, secret, account.TOTPCode(secret, later.Add(30*time.Second)), later) {
		t.Fatal("next step refused")
	}
	far := later.Add(10 * time.Minute)
	if g.Verify(id, secret, account.TOTPCode(secret, far.Add(-60*time.Second)), far) {
		t.Fatal("code two steps old accepted")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if g.Verify(id, secret, bad, far) {
			t.Fatalf("code %q accepted", bad)
		}
	}
}

func TestTOTPURIAndQR(t *testing.T) {
	secret := []byte("12345678901234567890")
	uri := account.TOTPURI("vigil", "Марина", secret)
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/vigil:Марина" {
		t.Fatalf("uri %s", uri)
	}
	q := u.Query()
	if q.Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || q.Get("issuer") != "vigil" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("query %v", q)
	}
	if got := account.TOTPSecretText(secret); got != "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ" {
		t.Fatalf("secret text %q", got)
	}
	svg, err := account.QRSVG(uri)
	if err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, no reference to anything outside the document.
	var doc struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Fatalf("svg does not parse: %v", err)
	}
	for _, bad := range []string{"href", "<script", "<image", "url(", "http://x", "https://"} {
		if strings.Contains(svg, bad) {
			t.Fatalf("svg contains %q", bad)
		}
	}
	if !strings.Contains(svg, `<path fill="#000" d="M`) {
		t.Fatal("svg draws no modules")
	}
}
