package account

import (
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/vigil-hr/vigil"
)

// Params are argon2id parameters (RFC 9106): Time passes over Memory KiB
// with Threads lanes.
type Params struct {
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"` // KiB
	Threads uint8  `json:"p"`
}

// DefaultLoginParams derive the key that seals an account's login secrets
// from its passphrase: RFC 9106's second recommended option (t=3, 64 MiB)
// with 2 lanes, the cores a small server has. BenchmarkLoginKDF measures it.
var DefaultLoginParams = Params{Time: 3, Memory: 64 * 1024, Threads: 2}

// DefaultNameParams derive an account's lookup key from its name: small
// (OWASP's minimum for argon2id: t=1, 19 MiB), because every login attempt
// runs it once, but enough that each guessed name costs an attacker holding
// the disk an argon2id run.
var DefaultNameParams = Params{Time: 1, Memory: 19 * 1024, Threads: 1}

// Limits on params read from a record, so a corrupt record cannot make a
// login allocate gigabytes or spin for minutes.
const (
	maxMemory = 1 << 20 // KiB: 1 GiB
	maxTime   = 16
)

func (p Params) valid() bool {
	return p.Time >= 1 && p.Time <= maxTime && p.Threads >= 1 && p.Memory >= 8*uint32(p.Threads) && p.Memory <= maxMemory
}

// nameContext separates name keys from any other use of the instance salt
// (receipts use it too).
const nameContext = "vigil account name v1"

// Canonical returns the form of an account name that its lookup key is
// derived from: Unicode NFC of the case-folded name, so "Marina", "MARINA"
// and a decomposed "Marína" find the same account.
func Canonical(name string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(name)))
}

// nameKey is the lookup key of an account name.
func nameKey(salt []byte, p Params, name string) []byte {
	s := make([]byte, 0, len(salt)+len(nameContext))
	s = append(append(s, salt...), nameContext...)
	return argon2.IDKey([]byte(Canonical(name)), s, p.Time, p.Memory, p.Threads, 32)
}

// login is the sealed-to-the-passphrase part of an account record: what the
// second factor needs, readable while the vault is sealed by whoever knows
// the passphrase.
type login struct {
	Params Params `json:"kdf"`
	Salt   []byte `json:"salt"`
	Nonce  []byte `json:"nonce"`
	Box    []byte `json:"box"` // XChaCha20-Poly1305 of a secrets' JSON
}

// secrets is the plaintext of a login box.
type secrets struct {
	TOTP     []byte    `json:"totp,omitempty"` // RFC 6238 shared secret, 20 bytes
	Passkeys []Passkey `json:"passkeys,omitempty"`
}

// A Passkey is a WebAuthn credential registered to an account.
type Passkey struct {
	ID        []byte `json:"id"`
	PublicKey []byte `json:"public_key"` // COSE_Key
	AAGUID    []byte `json:"aaguid,omitempty"`
	// Flags are the credential's flags at registration (go-webauthn
	// checks that backup eligibility never changes).
	Flags byte `json:"flags"`
	// Name is what the user called it ("laptop", "YubiKey").
	Name  string `json:"name,omitempty"`
	Added int64  `json:"added"` // Unix seconds
}

// loginAD binds a login box to its account: a box copied into another
// account's record does not open.
func loginAD(id vigil.ID) []byte {
	return append([]byte("vigil account login v1 "), id[:]...)
}

// deriveKey derives the key of a login box.
func deriveKey(pass, salt []byte, p Params) []byte {
	return argon2.IDKey(pass, salt, p.Time, p.Memory, p.Threads, chacha20poly1305.KeySize)
}

// sealLogin encrypts sec under key (derived with p and salt).
func sealLogin(id vigil.ID, key, salt []byte, p Params, plain []byte) (login, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return login{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return login{Params: p, Salt: salt, Nonce: nonce, Box: aead.Seal(nil, nonce, plain, loginAD(id))}, nil
}

var errBadBox = errors.New("login box does not open")

// openLogin decrypts a login box with key.
func openLogin(id vigil.ID, key []byte, l login) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	if len(l.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("%w: login nonce", vigil.ErrCorrupt)
	}
	plain, err := aead.Open(nil, l.Nonce, l.Box, loginAD(id))
	if err != nil {
		return nil, errBadBox
	}
	return plain, nil
}

func wipe(b []byte) {
	clear(b)
}
