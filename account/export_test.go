package account

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
)

// HOTP exposes hotp to the RFC 6238 vector test with the RFC's hashes.
func HOTP(alg string, secret []byte, counter uint64, digits int) string {
	h := map[string]func() hash.Hash{"SHA1": sha1.New, "SHA256": sha256.New, "SHA512": sha512.New}[alg]
	return hotp(h, secret, counter, digits)
}

// CSRFToken exposes a session ID's CSRF token, for the tests that forge
// tokens of other sessions.
func CSRFToken(id []byte) string { return csrfToken(id) }

// ParseSessionID exposes the cookie value parser.
func ParseSessionID(v string) ([]byte, bool) { return parseSessionID(v) }
