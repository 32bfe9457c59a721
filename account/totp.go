package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/vigil-hr/vigil"
)

// TOTP parameters: RFC 6238 with HMAC-SHA-1, 6 digits and 30-second steps,
// what every authenticator app supports. Codes one step before or after the
// current one are accepted, for clock drift. TestRFC6238 runs the RFC's
// Appendix B vectors.
const (
	TOTPDigits = 6
	TOTPStep   = 30 // seconds
	totpSkew   = 1  // steps
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a random 160-bit TOTP secret (RFC 4226's
// recommended length).
func NewTOTPSecret() []byte {
	s := make([]byte, 20)
	rand.Read(s)
	return s
}

// hotp is RFC 4226's HOTP with the given hash and number of digits.
func hotp(h func() hash.Hash, secret []byte, counter uint64, digits int) string {
	m := hmac.New(h, secret)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	m.Write(c[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// totpStep is the RFC 6238 time step counter of t.
func totpStep(t time.Time) int64 { return t.Unix() / TOTPStep }

// TOTPCode returns the code of secret at time t.
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(sha1.New, secret, uint64(totpStep(t)), TOTPDigits)
}

// TOTPURI returns the otpauth:// URI that authenticator apps read from a
// QR code (the de-facto Key Uri Format of Google Authenticator).
func TOTPURI(issuer, name string, secret []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(name)
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(TOTPDigits))
	q.Set("period", fmt.Sprint(TOTPStep))
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// TOTPSecretText returns the secret as the base32 text a user types into an
// app that cannot scan the QR code, in groups of four.
func TOTPSecretText(secret []byte) string {
	s := b32.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// QRSVG returns text as a QR code (medium error correction) drawn as an
// inline SVG: one path of unit squares on a white background with the
// quiet zone, scaled by the page. It needs no script, font or external
// asset, so it passes a strict CSP.
func QRSVG(text string) (string, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	bm := q.Bitmap() // includes the 4-module quiet zone
	n := len(bm)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" aria-hidden="true" focusable="false"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n, n, n)
	for y, row := range bm {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run - 1
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

// A TOTPGuard verifies TOTP codes and refuses a code whose time step was
// already used for the account (RFC 6238 section 5.2), so a code seen over a
// shoulder or phished cannot be replayed. It remembers the last step per
// account in memory only: a restart forgets it, which allows a replay only
// within the code's ±30 s window across the restart. Its methods are safe
// for concurrent use.
type TOTPGuard struct {
	mu   sync.Mutex
	last map[vigil.ID]int64
}

// Verify reports whether code is secret's code at now (±1 step) for a step
// after the last one used by account id, and if so remembers its step.
func (g *TOTPGuard) Verify(id vigil.ID, secret []byte, code string, now time.Time) bool {
	if len(code) != TOTPDigits || len(secret) == 0 {
		return false
	}
	cur := totpStep(now)
	match := int64(-1)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want := hotp(sha1.New, secret, uint64(cur+d), TOTPDigits)
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			match = cur + d
		}
	}
	if match < 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		g.last = map[vigil.ID]int64{}
	}
	if last, ok := g.last[id]; ok && match <= last {
		return false
	}
	g.last[id] = match
	// Forget steps older than the window: they can no longer match.
	for k, s := range g.last {
		if s < cur-totpSkew-1 {
			delete(g.last, k)
		}
	}
	return true
}
