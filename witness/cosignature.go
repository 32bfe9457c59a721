package witness

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/evlog"
)

// algCosignatureV1 is the signature type byte of Ed25519 tlog-cosignature/v1
// keys, hashed into the key ID and carried in vkeys.
const algCosignatureV1 = 0x04

// KeyID returns the key ID of an Ed25519 cosignature/v1 key:
// SHA-256(name || "\n" || 0x04 || key)[:4], per c2sp.org/tlog-cosignature.
func KeyID(name string, key ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', algCosignatureV1})
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// VerifierKey returns the vkey of a cosigner: "<name>+<key ID hex>+<base64(0x04
// || key)>", the form [NewVerifier] and torchwood's NewCosignatureVerifier read.
func VerifierKey(name string, key ed25519.PublicKey) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("invalid cosigner name %q", name)
	}
	if len(key) != ed25519.PublicKeySize {
		return "", errors.New("cosigner key is not an Ed25519 public key")
	}
	return fmt.Sprintf("%s+%08x+%s", name, KeyID(name, key),
		base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, key...))), nil
}

// cosignedMessage returns the message an Ed25519 cosignature/v1 signs:
// "cosignature/v1\ntime <t>\n" followed by the checkpoint body. The body must
// be a checkpoint: a cosigner vouches for a tree, never for arbitrary text.
func cosignedMessage(t uint64, body []byte) ([]byte, error) {
	if _, err := evlog.ParseCheckpoint(string(body)); err != nil {
		return nil, fmt.Errorf("cosigned message is not a checkpoint: %w", err)
	}
	if t > 1<<63-1 {
		return nil, errors.New("timestamp out of range")
	}
	m := fmt.Appendf(nil, "cosignature/v1\ntime %d\n", t)
	return append(m, body...), nil
}

// A Signer makes Ed25519 cosignature/v1 signatures
// (c2sp.org/tlog-cosignature). It is a [note.Signer], so [note.Sign] adds a
// cosignature line to a checkpoint. Its methods are safe for concurrent use if
// the key and clock are.
type Signer struct {
	name string
	id   uint32
	key  crypto.Signer
	now  func() time.Time
}

var _ note.Signer = (*Signer)(nil)

// NewSigner returns a cosigner named name (a schema-less URL such as
// "witness.example/w1") signing with key, which must be an Ed25519 key. The
// key stays behind the crypto.Signer interface (an ssh-agent or a vault may
// hold it). now gives the timestamp of each cosignature; nil means time.Now.
func NewSigner(name string, key crypto.Signer, now func() time.Time) (*Signer, error) {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("cosigner key is not Ed25519")
	}
	if !validName(name) {
		return nil, fmt.Errorf("invalid cosigner name %q", name)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{name: name, id: KeyID(name, pub), key: key, now: now}, nil
}

// Name returns the cosigner name.
func (s *Signer) Name() string { return s.name }

// KeyHash returns the key ID.
func (s *Signer) KeyHash() uint32 { return s.id }

// VerifierKey returns the cosigner's vkey.
func (s *Signer) VerifierKey() string {
	v, _ := VerifierKey(s.name, s.key.Public().(ed25519.PublicKey))
	return v
}

// Sign cosigns the checkpoint body msg: the result is the 8-byte big-endian
// timestamp followed by the Ed25519 signature of the cosigned message.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	sec := s.now().Unix()
	if sec <= 0 {
		return nil, errors.New("clock before 1970: a cosignature must have a timestamp")
	}
	t := uint64(sec)
	m, err := cosignedMessage(t, msg)
	if err != nil {
		return nil, err
	}
	sig, err := s.key.Sign(nil, m, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("cosign: %w", err)
	}
	return append(binary.BigEndian.AppendUint64(nil, t), sig...), nil
}

// A Verifier verifies Ed25519 cosignature/v1 signatures. It is a
// [note.Verifier] for [note.Open].
type Verifier struct {
	name string
	id   uint32
	key  ed25519.PublicKey
}

var _ note.Verifier = (*Verifier)(nil)

// NewVerifier parses a cosigner vkey (see [VerifierKey]). It refuses keys of
// other types, such as a log's plain Ed25519 (type 0x01) key: a log signature
// is not a cosignature.
func NewVerifier(vkey string) (*Verifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	id16, key64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || len(id16) != 8 || !validName(name) {
		return nil, fmt.Errorf("malformed cosigner vkey %q", vkey)
	}
	id, err := strconv.ParseUint(id16, 16, 32)
	if err != nil {
		return nil, fmt.Errorf("malformed cosigner vkey %q: key ID", vkey)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize {
		return nil, fmt.Errorf("malformed cosigner vkey %q: key", vkey)
	}
	if key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("vkey %q is not a cosignature/v1 key (type %#02x, want 0x04)", vkey, key[0])
	}
	pub := ed25519.PublicKey(key[1:])
	if uint32(id) != KeyID(name, pub) {
		return nil, fmt.Errorf("vkey %q: key ID does not match the key", vkey)
	}
	return &Verifier{name: name, id: uint32(id), key: pub}, nil
}

// Name returns the cosigner name.
func (v *Verifier) Name() string { return v.name }

// KeyHash returns the key ID.
func (v *Verifier) KeyHash() uint32 { return v.id }

// Verify reports whether sig is a valid cosignature of the checkpoint body msg.
func (v *Verifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	m, err := cosignedMessage(t, msg)
	if err != nil {
		return false
	}
	return ed25519.Verify(v.key, m, sig[8:])
}

// Timestamp returns the time of a cosignature/v1 signature line, without
// verifying it.
func Timestamp(sig note.Signature) (time.Time, error) {
	b, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(b) != 4+8+ed25519.SignatureSize {
		return time.Time{}, errors.New("not a cosignature/v1 signature")
	}
	t := binary.BigEndian.Uint64(b[4:])
	if t > 1<<63-1 {
		return time.Time{}, errors.New("cosignature timestamp out of range")
	}
	return time.Unix(int64(t), 0).UTC(), nil
}

// validName reports whether name can be a signed-note key name: non-empty,
// printable, no spaces and no '+'.
func validName(name string) bool {
	if name == "" || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r == '+' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
