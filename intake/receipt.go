package intake

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"

	"filippo.io/age"

	"github.com/vigil-hr/vigil"
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

// Receipt is a source's secret: the only way back to a submission.
type Receipt string

// NewReceipt returns a fresh random receipt, formatted in groups.
func NewReceipt() Receipt {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(receiptDigits), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		panic("intake: crypto/rand failed: " + err.Error())
	}
	digits := fmt.Sprintf("%0*s", receiptDigits, n.String())
	var b strings.Builder
	for i := 0; i < len(digits); i += receiptGroup {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(digits[i : i+receiptGroup])
	}
	return Receipt(b.String())
}

// ParseReceipt normalizes what a person typed: digits with any spaces, dashes
// or dots between them. Anything else is invalid.
func ParseReceipt(s string) (Receipt, error) {
	var d strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			d.WriteRune(c)
		case c >= '٠' && c <= '٩': // Arabic-Indic digits, typed on some phones
			d.WriteRune('0' + (c - '٠'))
		case c == ' ' || c == '-' || c == '.' || c == '\t' || c == '\u00a0':
		default:
			return "", fmt.Errorf("%w: receipt", vigil.ErrInvalid)
		}
		if d.Len() > receiptDigits {
			return "", fmt.Errorf("%w: receipt", vigil.ErrInvalid)
		}
	}
	if d.Len() != receiptDigits {
		return "", fmt.Errorf("%w: receipt", vigil.ErrInvalid)
	}
	digits := d.String()
	var b strings.Builder
	for i := 0; i < len(digits); i += receiptGroup {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(digits[i : i+receiptGroup])
	}
	return Receipt(b.String()), nil
}

func (r Receipt) digits() []byte { return []byte(strings.ReplaceAll(string(r), " ", "")) }

// keys derives the lookup key (stored, indexed) and the source's age
// identity from a receipt with HKDF-SHA256, salted per instance so that
// nothing can be precomputed across instances. The receipt's 93 bits make a
// slow KDF unnecessary.
func (r Receipt) keys(salt []byte) (lookup []byte, id *age.X25519Identity, err error) {
	lookup, err = hkdf.Key(sha256.New, r.digits(), salt, "vigil receipt lookup v1", 32)
	if err != nil {
		return nil, nil, err
	}
	scalar, err := hkdf.Key(sha256.New, r.digits(), salt, "vigil receipt identity v1", 32)
	if err != nil {
		return nil, nil, err
	}
	defer clear(scalar)
	id, err = age.ParseX25519Identity(bech32Encode("age-secret-key-", scalar))
	if err != nil {
		return nil, nil, fmt.Errorf("derive receipt identity: %w", err)
	}
	return lookup, id, nil
}

// bech32Encode encodes data per BIP 173 and upper-cases the result, the form
// of age's "AGE-SECRET-KEY-1..." identities. age's parser checks the checksum,
// so an encoding mistake here cannot go unnoticed (see TestReceiptIdentity).
func bech32Encode(hrp string, data []byte) string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	// Regroup 8-bit bytes into 5-bit values, padding the last.
	var values []byte
	acc, bits := 0, 0
	for _, b := range data {
		acc = acc<<8 | int(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			values = append(values, byte(acc>>bits&31))
		}
	}
	if bits > 0 {
		values = append(values, byte(acc<<(5-bits)&31))
	}
	polymod := func(vs []byte) uint32 {
		gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
		chk := uint32(1)
		for _, v := range vs {
			top := chk >> 25
			chk = (chk&0x1ffffff)<<5 ^ uint32(v)
			for i := range 5 {
				if top>>i&1 == 1 {
					chk ^= gen[i]
				}
			}
		}
		return chk
	}
	var exp []byte
	for i := 0; i < len(hrp); i++ {
		exp = append(exp, hrp[i]>>5)
	}
	exp = append(exp, 0)
	for i := 0; i < len(hrp); i++ {
		exp = append(exp, hrp[i]&31)
	}
	mod := polymod(append(append(exp, values...), 0, 0, 0, 0, 0, 0)) ^ 1
	var b strings.Builder
	b.WriteString(hrp + "1")
	for _, v := range values {
		b.WriteByte(charset[v])
	}
	for i := range 6 {
		b.WriteByte(charset[mod>>(5*(5-i))&31])
	}
	return strings.ToUpper(b.String())
}
