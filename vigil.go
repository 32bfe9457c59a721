// Package vigil holds the nouns shared by every part of vigil: identifiers,
// the error kinds callers branch on, and the case records investigators
// keep ([Incident], [Act], [Person], [Place], [Party], [Source], [Claim],
// with dates ([Date]) known to a year, month or day). It does no I/O.
//
// Each case record is a JSON body with a Validate method that reports every
// problem as a [FieldError] naming the field; package corroborate decides
// what an act's claims establish, and package figures counts victims.
//
// vigil takes testimonies and files in, keeps them as age ciphertext, records
// each item in a tamper-evident Merkle log (C2SP tlog-tiles) as a hiding
// commitment, and exports evidence bundles that anyone can verify offline.
// See the README and docs/ for the architecture.
//
// # Case records
//
// The case records are record bodies: the store keeps each one as JSON
// under its own [ID], so a body refers to other records by ID and never
// holds its own. Their Validate methods check one body on its own (grades,
// ranges, sizes, UTF-8, control characters); whether a reference resolves,
// and that parents form no cycle (see [Lineage]), is checked where all
// records are at hand. Validate returns nil or the errors.Join of one
// [*FieldError] per problem, each naming the field by its JSON path
// ("victims.min", "private.names[1].script"), so an importer can report
// every problem at once. See TestValidate for one row per rule.
package vigil

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// An ID is an opaque random identifier of a record or item. It reveals
// nothing about what it names. IDs compare with == and can be map keys.
type ID [16]byte

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a fresh random ID.
func NewID() ID {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		panic("vigil: crypto/rand failed: " + err.Error())
	}
	return id
}

// String returns the 26-character lowercase base32 (Crockford alphabet) form.
func (id ID) String() string { return idEncoding.EncodeToString(id[:]) }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText encodes the ID as [ID.String], so JSON shows the same form
// as URLs and the CLI.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the form of [ID.String].
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID parses the form returned by [ID.String].
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 26 {
		return id, fmt.Errorf("%w: id %q: want 26 characters", ErrInvalid, s)
	}
	b, err := idEncoding.DecodeString(strings.ToLower(s))
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%w: id %q: not base32", ErrInvalid, s)
	}
	copy(id[:], b)
	if id.String() != strings.ToLower(s) {
		return ID{}, fmt.Errorf("%w: id %q: not canonical", ErrInvalid, s)
	}
	return id, nil
}

// Error kinds. They are stable: callers check them with errors.Is, and the
// web and API layers map them to HTTP statuses in one table.
var (
	// ErrNotFound means the named record, item or blob does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a write would overwrite something immutable, such as
	// an existing record version.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the input is malformed or out of bounds.
	ErrInvalid = errors.New("invalid input")
	// ErrTooLarge means the input is over a configured size or count limit.
	ErrTooLarge = fmt.Errorf("%w: too large", ErrInvalid)
	// ErrUnavailable means the operation cannot be done now but may succeed
	// later, e.g. the disk is nearly full.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrSealed means the operation needs the vault's private keys and the
	// vault is sealed.
	ErrSealed = errors.New("vault sealed")
	// ErrLocked means the data directory is in use by another process.
	ErrLocked = errors.New("data directory locked")
	// ErrCorrupt means stored data failed an integrity check.
	ErrCorrupt = errors.New("integrity check failed")
	// ErrForbidden means the principal's role or the incident's restriction
	// does not allow the operation. Services return it; handlers map it to
	// 403 and never say more.
	ErrForbidden = errors.New("forbidden")
)
