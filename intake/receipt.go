package intake

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/vault"
)

// A receipt is 28 decimal digits (93 bits of entropy) shown in seven groups
// of four: easy to write down, read aloud or type on any keyboard, and the
// same in every language. It is never stored: the server keeps only a lookup
// key derived from it, and a source's age identity is derived from it too, so
// only the receipt decrypts what the source may read.
const (
	receiptDigits = 28
	receiptGroup  = 4
)

// Receipt is a source's secret: the only way back to a submission. It is
// bytes, not a string, so that whoever holds it can wipe it ([Receipt.Wipe])
// once it has been shown: a Go string cannot be wiped and would stay in the
// server's memory until reused.
type Receipt []byte

// receiptLen is the length of a formatted receipt: digits and spaces.
const receiptLen = receiptDigits + receiptDigits/receiptGroup - 1

// Wipe overwrites the receipt with zeros.
func (r Receipt) Wipe() { clear(r) }

// NewReceipt returns a fresh random receipt, formatted in groups. The digits
// are drawn straight into a buffer that is wiped, so the returned receipt is
// the only copy this makes; wipe it once shown.
func NewReceipt() Receipt {
	var d [receiptDigits]byte
	defer clear(d[:])
	randomDigits(&d)
	return Receipt(group(make([]byte, 0, receiptLen), d[:]))
}

// randomDigits fills d with uniform random decimal digits (rejection
// sampling of bytes below 250).
func randomDigits(d *[receiptDigits]byte) {
	var buf [64]byte
	defer clear(buf[:])
	for i := 0; i < len(d); {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("intake: crypto/rand failed: " + err.Error())
		}
		for _, c := range buf {
			if c < 250 && i < len(d) {
				d[i] = '0' + c%10
				i++
			}
		}
	}
}

// group appends digits to dst in groups of four separated by spaces.
func group(dst, digits []byte) []byte {
	for i, c := range digits {
		if i > 0 && i%receiptGroup == 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, c)
	}
	return dst
}

// ParseReceipt normalizes what a person typed: digits with any spaces, dashes
// or dots between them. Anything else is invalid.
func ParseReceipt(s string) (Receipt, error) {
	var d [receiptDigits]byte
	defer clear(d[:])
	if !parseDigits([]byte(s), &d) {
		return nil, fmt.Errorf("%w: receipt", vigil.ErrInvalid)
	}
	return Receipt(group(make([]byte, 0, receiptLen), d[:])), nil
}

// parseDigits is [ParseReceipt] over bytes, into a buffer the caller owns
// and wipes: it makes no string and no other copy of the receipt. It accepts
// ASCII and Arabic-Indic digits (typed on some phones) with spaces, dashes,
// dots, tabs and no-break spaces between them.
func parseDigits(b []byte, d *[receiptDigits]byte) bool {
	n := 0
	for len(b) > 0 {
		c, size := utf8.DecodeRune(b)
		b = b[size:]
		var digit byte
		switch {
		case c >= '0' && c <= '9':
			digit = byte(c)
		case c >= '٠' && c <= '٩':
			digit = byte('0' + (c - '٠'))
		case c == ' ' || c == '-' || c == '.' || c == '\t' || c == '\u00a0':
			continue
		default:
			return false
		}
		if n == receiptDigits {
			return false
		}
		d[n] = digit
		n++
	}
	return n == receiptDigits
}

// digits returns the receipt's digits in a new slice the caller wipes.
func (r Receipt) digits() []byte {
	d := make([]byte, 0, receiptDigits)
	for i := 0; i < len(r); i++ {
		if r[i] != ' ' {
			d = append(d, r[i])
		}
	}
	return d
}

// keys derives the lookup key and the source's identity from r.
func (r Receipt) keys(salt []byte) (lookup []byte, id *vault.X25519Identity, err error) {
	d := r.digits()
	defer clear(d)
	return receiptKeys(d, salt)
}

// receiptKeys parses a typed receipt and derives its keys. A malformed
// receipt still costs a derivation (from random digits), so that malformed
// and unknown receipts take alike long, and gets !ok.
func (s *Service) receiptKeys(text []byte) (lookup []byte, id *vault.X25519Identity, ok bool) {
	var d [receiptDigits]byte
	defer clear(d[:])
	ok = parseDigits(text, &d)
	if !ok {
		randomDigits(&d)
	}
	lookup, id, err := receiptKeys(d[:], s.Config.ReceiptSalt)
	if err != nil || !ok {
		if id != nil {
			id.Wipe()
		}
		return nil, nil, false
	}
	return lookup, id, true
}

// receiptKeys derives the lookup key (stored, indexed) and the source's age
// identity from a receipt's 28 digits with HKDF-SHA256, salted per instance
// so that nothing can be precomputed across instances. The receipt's 93 bits
// make a slow KDF unnecessary. The identity is a [vault.X25519Identity], so
// [Source.Forget] can wipe it; the HMAC states that saw the digits are
// scrubbed here (crypto/hkdf's are not reachable).
func receiptKeys(digits, salt []byte) (lookup []byte, id *vault.X25519Identity, err error) {
	var prk, scalar [32]byte
	defer clear(prk[:])
	defer clear(scalar[:])
	hmacSHA256(&prk, salt, digits)
	lookup = make([]byte, 32)
	expand((*[32]byte)(lookup), &prk, "vigil receipt lookup v1")
	expand(&scalar, &prk, "vigil receipt identity v1")
	id, err = vault.NewX25519Identity(scalar[:])
	if err != nil {
		return nil, nil, fmt.Errorf("derive receipt identity: %w", err)
	}
	return lookup, id, nil
}

// expand is HKDF-Expand (RFC 5869) for one SHA-256 block.
func expand(out, prk *[32]byte, info string) {
	var msg [64]byte
	defer clear(msg[:])
	hmacSHA256(out, prk[:], append(append(msg[:0], info...), 1))
}

// hmacSHA256 sets out to HMAC-SHA256(key, msg) (RFC 2104), then overwrites
// the hash states' buffers, which still hold the end of the key or message.
func hmacSHA256(out *[32]byte, key, msg []byte) {
	var pad, zero [sha256.BlockSize]byte
	defer clear(pad[:])
	if len(key) > sha256.BlockSize {
		k := sha256.Sum256(key)
		copy(pad[:], k[:])
		clear(k[:])
	} else {
		copy(pad[:], key)
	}
	for i := range pad {
		pad[i] ^= 0x36
	}
	h := sha256.New()
	h.Write(pad[:])
	h.Write(msg)
	var inner [32]byte
	defer clear(inner[:])
	h.Sum(inner[:0])
	h.Write(zero[:])
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(pad[:])
	h.Write(inner[:])
	h.Sum(out[:0])
	h.Write(zero[:])
}

// Forget wipes the source's derived identity from memory: call it when the
// session ends. Afterwards the Source opens nothing; it is idempotent.
func (s *Source) Forget() {
	if s == nil {
		return
	}
	if s.identity != nil {
		s.identity.Wipe()
	}
	clear(s.thread)
}

// sourceExport is the version byte of [Source.AppendExport]'s encoding.
const sourceExport = 1

// AppendExport appends the source's key material (the submission's ID, the
// thread key and the receipt-derived identity) to dst, so that a follow-up
// session can be kept by several servers: the caller seals it (web keeps it
// sealed under a key only the session's cookie holds) and wipes the result.
// It fails once the source is forgotten.
func (s *Source) AppendExport(dst []byte) ([]byte, error) {
	if s == nil || s.identity == nil || len(s.thread) != threadKeySize {
		return dst, fmt.Errorf("%w: source forgotten", vigil.ErrInvalid)
	}
	n := len(dst)
	dst = append(dst, sourceExport)
	dst = append(dst, s.Submission[:]...)
	dst = append(dst, s.thread...)
	m := len(dst)
	dst = s.identity.AppendEncode(dst)
	if len(dst) == m { // wiped meanwhile
		clear(dst[n:])
		return dst[:n], fmt.Errorf("%w: source forgotten", vigil.ErrInvalid)
	}
	return dst, nil
}

// ImportSource returns the source that [Source.AppendExport] wrote to b.
// The caller may wipe b afterwards; the source holds copies, wiped by
// [Source.Forget]. A malformed b is an error wrapping vigil.ErrInvalid.
func ImportSource(b []byte) (*Source, error) {
	var sub vigil.ID
	head := 1 + len(sub) + threadKeySize
	if len(b) <= head || b[0] != sourceExport {
		return nil, fmt.Errorf("%w: exported source", vigil.ErrInvalid)
	}
	copy(sub[:], b[1:])
	id, err := vault.ParseX25519Identity(b[head:])
	if err != nil {
		return nil, fmt.Errorf("%w: exported source: %v", vigil.ErrInvalid, err)
	}
	thread := make([]byte, threadKeySize)
	copy(thread, b[1+len(sub):head])
	return &Source{Submission: sub, identity: id, thread: thread}, nil
}
