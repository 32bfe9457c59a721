// Package padme computes padded lengths with the Padmé scheme, so that the
// size of a ciphertext on disk does not give away the exact size of what it
// holds.
//
// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
// Communication with PURBs", PETS 2019) rounds a length L up so that only
// its top bits vary: the padded length leaks O(log log L) bits instead of
// O(log L), at a cost of at most 11.2 % (less for large L, e.g. 100,000 and
// 100,001 bytes both pad to 100,352). [Size] also rounds everything below
// [Min] up to Min, where Padmé alone would leave small lengths exact.
package padme

import "math/bits"

// Min is the smallest padded length: shorter contents all pad to it.
const Min = 256

// Size returns the padded length of a content of n bytes (n >= 0).
func Size(n int64) int64 {
	if n < Min {
		return Min
	}
	e := bits.Len64(uint64(n)) - 1 // floor(log2 n)
	s := bits.Len64(uint64(e))     // floor(log2 e) + 1
	mask := int64(1)<<(e-s) - 1
	return (n + mask) &^ mask
}

// JSON pads a JSON document with trailing spaces, which JSON ignores, to its
// padded size, so that the length of its ciphertext does not tell the length
// of what it holds (such as a testimony's text). It may append to b.
func JSON(b []byte) []byte {
	n := Size(int64(len(b)))
	for int64(len(b)) < n {
		b = append(b, ' ')
	}
	return b
}
