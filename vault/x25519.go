package vault

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"filippo.io/age"
	"filippo.io/edwards25519/field"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/vigil-hr/vigil/internal/bech32"
)

// An X25519Identity is an age X25519 identity (c2sp.org/age, "X25519
// recipient stanza") whose private scalar lives in one byte slice that
// [X25519Identity.Wipe] zeroes. age's own X25519Identity keeps copies of the
// scalar the caller cannot reach; this type does the same unwrapping with
// only its own buffer and stack temporaries it clears. TestX25519Identity
// checks it against filippo.io/age in both directions.
//
// Its methods are safe for concurrent use; after Wipe, Unwrap fails.
type X25519Identity struct {
	mu     sync.RWMutex
	scalar []byte   // nil once wiped
	pub    [32]byte // the recipient's point
}

var _ age.Identity = (*X25519Identity)(nil)

// ErrWiped is returned by [X25519Identity.Unwrap] after
// [X25519Identity.Wipe].
var ErrWiped = errors.New("identity wiped")

const (
	x25519Label   = "age-encryption.org/v1/X25519"
	secretKeyHRP  = "AGE-SECRET-KEY-"
	recipientHRP  = "age"
	fileKeySize   = 16
	x25519KeySize = 32
)

// NewX25519Identity returns an identity with a copy of the 32-byte scalar;
// the caller may then wipe its own copy.
func NewX25519Identity(scalar []byte) (*X25519Identity, error) {
	if len(scalar) != x25519KeySize {
		return nil, fmt.Errorf("%w: X25519 scalar of %d bytes", errInvalidKey, len(scalar))
	}
	id := &X25519Identity{scalar: make([]byte, x25519KeySize)}
	copySecret(id.scalar, scalar)
	basepoint := [32]byte{9}
	x25519(&id.pub, id.scalar, basepoint[:])
	return id, nil
}

var errInvalidKey = errors.New("invalid key")

// GenerateX25519Identity returns a new random identity.
func GenerateX25519Identity() (*X25519Identity, error) {
	var s [x25519KeySize]byte
	defer clear(s[:])
	if _, err := rand.Read(s[:]); err != nil {
		return nil, err
	}
	return NewX25519Identity(s[:])
}

// ParseX25519Identity parses an "AGE-SECRET-KEY-1..." identity from b
// without making a string of it; the caller may wipe b afterwards.
func ParseX25519Identity(b []byte) (*X25519Identity, error) {
	scalar, err := bech32.Decode(b, secretKeyHRP)
	defer clear(scalar)
	if err != nil || len(scalar) != x25519KeySize {
		return nil, fmt.Errorf("%w: malformed age secret key", errInvalidKey)
	}
	return NewX25519Identity(scalar)
}

// AppendEncode appends the "AGE-SECRET-KEY-1..." encoding of id to dst, for
// writing to a key file; the caller wipes the result. It returns dst
// unchanged after Wipe.
func (id *X25519Identity) AppendEncode(dst []byte) []byte {
	id.mu.RLock()
	defer id.mu.RUnlock()
	if id.scalar == nil {
		return dst
	}
	return bech32.AppendEncode(dst, secretKeyHRP, id.scalar, true)
}

// Recipient returns the public recipient of id, which stays valid after Wipe.
func (id *X25519Identity) Recipient() *age.X25519Recipient {
	r, err := age.ParseX25519Recipient(id.RecipientString())
	if err != nil {
		panic("vault: own recipient does not parse: " + err.Error()) // a bug, caught by TestX25519Identity
	}
	return r
}

// RecipientString returns the "age1..." encoding of [X25519Identity.Recipient].
func (id *X25519Identity) RecipientString() string {
	return string(bech32.AppendEncode(nil, recipientHRP, id.pub[:], false))
}

// Wipe zeroes the scalar and drops it. It is idempotent.
func (id *X25519Identity) Wipe() {
	id.mu.Lock()
	clear(id.scalar)
	id.scalar = nil
	id.mu.Unlock()
}

// Unwrap implements [age.Identity]: it returns the file key of the first
// X25519 stanza addressed to id, [age.ErrIncorrectIdentity] if none is, an
// error for a malformed X25519 stanza, and [ErrWiped] after Wipe.
func (id *X25519Identity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	id.mu.RLock()
	defer id.mu.RUnlock()
	if id.scalar == nil {
		return nil, ErrWiped
	}
	for _, s := range stanzas {
		key, err := id.unwrap(s)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		return key, err
	}
	return nil, age.ErrIncorrectIdentity
}

// unwrap opens one stanza. id.mu is held.
func (id *X25519Identity) unwrap(s *age.Stanza) ([]byte, error) {
	if s.Type != "X25519" {
		return nil, age.ErrIncorrectIdentity
	}
	if len(s.Args) != 1 {
		return nil, errors.New("invalid X25519 recipient block")
	}
	share, err := base64.RawStdEncoding.Strict().DecodeString(s.Args[0])
	if err != nil || len(share) != x25519KeySize {
		return nil, errors.New("invalid X25519 recipient block")
	}
	var shared [32]byte
	defer clear(shared[:])
	x25519(&shared, id.scalar, share)
	var acc byte
	for _, b := range shared {
		acc |= b
	}
	if acc == 0 {
		return nil, errors.New("invalid X25519 recipient: low order point")
	}
	salt := make([]byte, 0, 2*x25519KeySize)
	salt = append(append(salt, share...), id.pub[:]...)
	wrap, err := hkdf.Key(sha256.New, shared[:], salt, x25519Label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(wrap)
	aead, err := chacha20poly1305.New(wrap)
	if err != nil {
		return nil, err
	}
	if len(s.Body) != fileKeySize+aead.Overhead() {
		return nil, errors.New("invalid X25519 recipient block: incorrect file key size")
	}
	var nonce [chacha20poly1305.NonceSize]byte
	key, err := aead.Open(nil, nonce[:], s.Body, nil)
	if err != nil {
		return nil, age.ErrIncorrectIdentity
	}
	return key, nil
}

// x25519 sets dst to scalar·point on Curve25519 (RFC 7748), with the
// Montgomery ladder of Go's crypto/ecdh (BSD licence) over
// filippo.io/edwards25519/field. crypto/ecdh would copy the scalar into a
// heap-allocated private key that nobody can wipe; here the (clamped) scalar
// is only in e, which is cleared, and passes through general registers a
// byte at a time (see [copySecret]). e is on the heap, not this goroutine's
// stack: the runtime may copy a stack to grow or shrink it while the ladder
// runs and free the old copy as it is; a heap object does not move.
func x25519(dst *[32]byte, scalar, point []byte) {
	e := scratch.Get().(*[32]byte)
	defer scratch.Put(e)
	defer clear(e[:])
	copySecret(e[:], scalar)
	e[0] &= 248
	e[31] &= 127
	e[31] |= 64

	var x1, x2, z2, x3, z3, tmp0, tmp1 field.Element
	x1.SetBytes(point)
	x2.One()
	x3.Set(&x1)
	z3.One()

	swap := 0
	for pos := 254; pos >= 0; pos-- {
		b := e[pos/8] >> uint(pos&7)
		b &= 1
		swap ^= int(b)
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = int(b)

		tmp0.Subtract(&x3, &z3)
		tmp1.Subtract(&x2, &z2)
		x2.Add(&x2, &z2)
		z2.Add(&x3, &z3)
		z3.Multiply(&tmp0, &x2)
		z2.Multiply(&z2, &tmp1)
		tmp0.Square(&tmp1)
		tmp1.Square(&x2)
		x3.Add(&z3, &z2)
		z2.Subtract(&z3, &z2)
		x2.Multiply(&tmp1, &tmp0)
		tmp1.Subtract(&tmp1, &tmp0)
		z2.Square(&z2)

		z3.Mult32(&tmp1, 121666)
		x3.Square(&x3)
		tmp0.Add(&tmp0, &z3)
		z3.Multiply(&x1, &z2)
		z2.Multiply(&tmp1, &tmp0)
	}

	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)

	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	copy(dst[:], x2.Bytes())
}

// scratch holds the heap buffers x25519 clamps the scalar into, zeroed
// whenever they are in the pool.
var scratch = sync.Pool{New: func() any { return new([32]byte) }}

// copySecret copies src into dst a byte at a time, through a general
// register, where runtime.memmove would take 17 to 32 bytes through two
// vector registers that keep them, whole, after it returns (see keyThread).
// The compiler does not turn this loop into a memmove.
//
//go:noinline
func copySecret(dst, src []byte) {
	for i := range min(len(dst), len(src)) {
		dst[i] = src[i]
	}
}

// scrubStack overwrites the stack below its caller, where the frames of a
// private-key operation just returned from (crypto/ed25519 keeps its expanded
// key in such a frame) left copies of the key. 16 KiB is more than those
// frames use. It must run where its frame fits in the stack (the key
// thread's, see keyThread): growing the stack for it would copy the stack
// and leave the old one, with the keys, unwiped.
//
//go:noinline
func scrubStack() {
	var b [16 << 10]byte
	clear(b[:])
	sink(b[:])
}

//go:noinline
func sink(b []byte) {
	if len(b) > 0 && b[0] != 0 {
		panic("vault: stack scrub failed")
	}
}
