// Package bech32 encodes and decodes BIP 173 Bech32 strings, the form of
// age's keys ("age1...", "AGE-SECRET-KEY-1..."), over byte slices.
//
// Unlike age's own codec it never makes a Go string of the data part, so a
// secret key can be decoded from, or encoded into, a buffer the caller owns
// and wipes. See TestVectors for BIP 173's test vectors and TestAgeKeys for
// the round trip through age's parser.
package bech32

import (
	"errors"
)

const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var gen = [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}

func polymodStep(chk uint32, v byte) uint32 {
	top := chk >> 25
	chk = (chk&0x1ffffff)<<5 ^ uint32(v)
	for i := range 5 {
		if top>>i&1 == 1 {
			chk ^= gen[i]
		}
	}
	return chk
}

// hrpChecksum starts the checksum over the lower-case human-readable part.
func hrpChecksum(hrp []byte) uint32 {
	chk := uint32(1)
	for _, c := range hrp {
		chk = polymodStep(chk, lower(c)>>5)
	}
	chk = polymodStep(chk, 0)
	for _, c := range hrp {
		chk = polymodStep(chk, lower(c)&31)
	}
	return chk
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// AppendEncode appends the Bech32 encoding of data under hrp to dst, in upper
// case if up is set (age's secret keys) and lower case otherwise. The result
// may exceed BIP 173's 90 characters, as age's keys do.
func AppendEncode(dst []byte, hrp string, data []byte, up bool) []byte {
	conv := lower
	if up {
		conv = upper
	}
	for i := 0; i < len(hrp); i++ {
		dst = append(dst, conv(hrp[i]))
	}
	dst = append(dst, '1')
	chk := hrpChecksum([]byte(hrp))
	// Regroup 8-bit bytes into 5-bit values, padding the last.
	acc, bits := uint32(0), 0
	for _, b := range data {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			v := byte(acc >> bits & 31)
			chk = polymodStep(chk, v)
			dst = append(dst, conv(charset[v]))
		}
	}
	if bits > 0 {
		v := byte(acc << (5 - bits) & 31)
		chk = polymodStep(chk, v)
		dst = append(dst, conv(charset[v]))
	}
	acc = 0
	for range 6 {
		chk = polymodStep(chk, 0)
	}
	chk ^= 1
	for i := range 6 {
		dst = append(dst, conv(charset[chk>>(5*(5-i))&31]))
	}
	return dst
}

// ErrInvalid is returned by [Decode] for anything that is not valid Bech32
// under the expected human-readable part.
var ErrInvalid = errors.New("bech32: invalid string")

// Decode checks that s is a valid Bech32 string (one case throughout,
// correct checksum) whose human-readable part is hrp, compared without
// regard to case, and returns its data in a new slice that the caller owns
// and may wipe. It makes no string of s.
func Decode(s []byte, hrp string) ([]byte, error) {
	if len(s) < len(hrp)+1+6 || s[len(hrp)] != '1' {
		return nil, ErrInvalid
	}
	hasLower, hasUpper := false, false
	for _, c := range s {
		if c < 33 || c > 126 {
			return nil, ErrInvalid
		}
		hasLower = hasLower || c >= 'a' && c <= 'z'
		hasUpper = hasUpper || c >= 'A' && c <= 'Z'
	}
	if hasLower && hasUpper {
		return nil, ErrInvalid
	}
	for i := 0; i < len(hrp); i++ {
		if lower(s[i]) != lower(hrp[i]) {
			return nil, ErrInvalid
		}
	}
	chk := hrpChecksum(s[:len(hrp)])
	body := s[len(hrp)+1:]
	out := make([]byte, 0, (len(body)-6)*5/8)
	acc, bits := uint32(0), 0
	for i, c := range body {
		v := charsetIndex(lower(c))
		if v < 0 {
			clear(out)
			return nil, ErrInvalid
		}
		chk = polymodStep(chk, byte(v))
		if i >= len(body)-6 {
			continue
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	// Padding must be fewer than 5 zero bits, and the checksum must hold.
	if chk != 1 || bits >= 5 || acc&(1<<bits-1) != 0 {
		clear(out)
		return nil, ErrInvalid
	}
	return out, nil
}

// charsetIndex returns c's value, or -1, without a data-dependent table
// lookup into a string (the input may be a secret key).
func charsetIndex(c byte) int {
	for i := 0; i < len(charset); i++ {
		if charset[i] == c {
			return i
		}
	}
	return -1
}
