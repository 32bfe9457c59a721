package vault

import (
	"crypto/ed25519"
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// ed25519Key expands a 32-byte seed into an ed25519.PrivateKey (seed ||
// public key) in a new slice the caller owns. crypto/ed25519 keeps the
// expanded key in a value the caller cannot wipe; this keeps every
// secret-derived value in locals it clears.
func ed25519Key(seed []byte) ed25519.PrivateKey {
	h := sha512.Sum512(seed)
	defer clear(h[:])
	var s edwards25519.Scalar
	s.SetBytesWithClamping(h[:32])
	A := new(edwards25519.Point).ScalarBaseMult(&s)
	s = edwards25519.Scalar{}
	key := make([]byte, ed25519.PrivateKeySize)
	copySecret(key, seed)
	copy(key[32:], A.Bytes())
	return key
}

// ed25519Sign is ed25519.Sign (RFC 8032, pure Ed25519) over a key from
// [ed25519Key], clearing its secret-derived locals; TestLogSignerMatchesNote
// checks that it gives crypto/ed25519's signatures byte for byte.
func ed25519Sign(key ed25519.PrivateKey, msg []byte) []byte {
	h := sha512.Sum512(key[:32])
	defer clear(h[:])
	var s, r, k, S edwards25519.Scalar
	defer func() { s, r, k = edwards25519.Scalar{}, edwards25519.Scalar{}, edwards25519.Scalar{} }()
	s.SetBytesWithClamping(h[:32])

	var d [64]byte
	defer clear(d[:])
	mh := sha512.New()
	mh.Write(h[32:])
	mh.Write(msg)
	mh.Sum(d[:0])
	mh.Reset()
	mh.Write(make([]byte, sha512.BlockSize)) // overwrite the buffered prefix
	r.SetUniformBytes(d[:])

	R := new(edwards25519.Point).ScalarBaseMult(&r)
	kh := sha512.New()
	kh.Write(R.Bytes())
	kh.Write(key[32:])
	kh.Write(msg)
	kh.Sum(d[:0])
	k.SetUniformBytes(d[:])

	S.MultiplyAdd(&k, &s, &r)
	sig := make([]byte, ed25519.SignatureSize)
	copy(sig, R.Bytes())
	copy(sig[32:], S.Bytes())
	return sig
}
