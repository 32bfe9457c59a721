// Package auth keeps the staff API's bearer tokens.
//
// An admin creates a token with [Tokens.Create] (the CLI's `vigil token
// create`); the secret ("vgl_" and 43 base64url characters, 256 random bits)
// is returned once and never stored. The store keeps a record of kind
// [Kind] per token whose lookup key is SHA-256 of the secret and whose body,
// sealed to the vault, holds the token's name, role and creation time.
// [Tokens.Authenticate] finds a token by that hash through the store's index
// and compares it in constant time; it works while the vault is sealed, so a
// caller learns "vault sealed" only after proving a token. Revoking writes a
// new version of the record without a key, so no secret matches it again;
// the old versions stay, as every record version does.
//
// A plain SHA-256 suffices: the secret has 256 bits of entropy, so its hash
// cannot be reversed or guessed, unlike a receipt or a passphrase.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Kind is the record kind of tokens.
const Kind = "token"

// Prefix starts every token secret, so that secret scanners and people can
// recognise one.
const Prefix = "vgl_"

// A Role says what a token may do: see vigil.Role and vigil.Principal.
type Role = vigil.Role

// Roles a token may have.
const (
	RoleAdmin        = vigil.RoleAdmin
	RoleInvestigator = vigil.RoleInvestigator
	RoleAnalyst      = vigil.RoleAnalyst
	RoleIntake       = vigil.RoleIntake
)

// ErrUnauthorized is the one answer to a missing, malformed, unknown or
// revoked token. It says nothing more on purpose.
var ErrUnauthorized = errors.New("missing or invalid token")

// A Token describes a token; it never holds the secret.
type Token struct {
	ID vigil.ID `json:"id"`
	// Name and Role are sealed: they are empty when the token was
	// authenticated while the vault was sealed.
	Name    string    `json:"name,omitempty"`
	Role    Role      `json:"role,omitempty"`
	Created time.Time `json:"created"`
	// Revoked is when the token was revoked, or zero.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Local is the caller on the server's local staff socket (package
// internal/staffsock): the server's own user at the command line, an admin
// named "cli" in audit events, as the offline commands are. It has no ID:
// no stored token can be it.
var Local = Token{Name: "cli", Role: RoleAdmin}

// Principal is who acts with this token: its actor name, its name as the
// account that incidents' restrictions name, and its role. A token checked
// while the vault was sealed has no known role and may do nothing that
// needs one.
func (t Token) Principal() vigil.Principal {
	return vigil.Principal{Actor: t.Actor(), Account: t.Name, Role: t.Role}
}

// Actor names the token in audit events: "token:ID/NAME", or "token:ID"
// when the name is not known; [Local] is named "cli".
func (t Token) Actor() string {
	if t.ID.IsZero() && t.Name != "" {
		return t.Name
	}
	if t.Name == "" {
		return "token:" + t.ID.String()
	}
	return "token:" + t.ID.String() + "/" + t.Name
}

// body is a token record's sealed body.
type body struct {
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"`
}

// Tokens keeps API tokens in a store. Its methods are safe for concurrent
// use.
type Tokens struct {
	Store store.Store
	Vault *vault.Vault
	// Audit, if set, records a token action (create, revoke) by actor; its
	// error fails the action after the token change committed.
	Audit func(ctx context.Context, actor, action string, target vigil.ID) error
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// TimePrecision is how coarse the records' plaintext times are (the
	// exact times are sealed in their bodies), so that staff actions cannot
	// bracket a source's arrival more finely than intake stores it. Zero
	// means an hour.
	TimePrecision time.Duration
}

// coarse rounds t down to the plaintext time precision.
func (s *Tokens) coarse(t time.Time) time.Time {
	p := s.TimePrecision
	if p <= 0 {
		p = time.Hour
	}
	return t.Truncate(p)
}

func (s *Tokens) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

func (s *Tokens) audit(ctx context.Context, actor, action string, id vigil.ID) error {
	if s.Audit == nil {
		return nil
	}
	return s.Audit(ctx, actor, action, id)
}

// CheckName reports whether name is usable as a token name: 1 to 64
// printable characters without "/", which separates the ID and the name in
// [Token.Actor].
func CheckName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 64 || !utf8.ValidString(name) {
		return fmt.Errorf("%w: token name must be 1 to 64 characters", vigil.ErrInvalid)
	}
	for _, c := range name {
		if !unicode.IsPrint(c) || c == '/' {
			return fmt.Errorf("%w: token name %q: use printable characters other than /", vigil.ErrInvalid, name)
		}
	}
	return nil
}

// hash is the lookup key of a secret.
func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func label(id vigil.ID, version int64) vault.Label {
	return vault.Label{Kind: Kind, ID: id, Field: "body", Version: version}
}

// Create makes a token and returns its secret, which is shown once and never
// stored. It works while the vault is sealed.
func (s *Tokens) Create(ctx context.Context, actor, name string, role Role) (string, Token, error) {
	if err := CheckName(name); err != nil {
		return "", Token{}, err
	}
	if !role.Valid() {
		return "", Token{}, fmt.Errorf("%w: role %q: want %s, %s, %s or %s", vigil.ErrInvalid, role, RoleAdmin, RoleInvestigator, RoleAnalyst, RoleIntake)
	}
	var raw [32]byte
	rand.Read(raw[:])
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := Token{ID: vigil.NewID(), Name: name, Role: role, Created: s.now()}
	plain, _ := json.Marshal(body{Name: name, Role: role, Created: t.Created})
	ct, err := s.Vault.SealField(label(t.ID, 1), plain)
	if err != nil {
		return "", Token{}, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		return tx.PutRecord(store.Record{ID: t.ID, Version: 1, Kind: Kind, Created: s.coarse(t.Created), LeafIndex: -1, Body: ct, Key: hash(secret)})
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("store token: %w", err)
	}
	return secret, t, s.audit(ctx, actor, "token-create", t.ID)
}

// Authenticate returns the token whose secret this is, or [ErrUnauthorized].
// It works sealed; the token's name and role are filled in only while the
// vault is unsealed.
func (s *Tokens) Authenticate(ctx context.Context, secret string) (Token, error) {
	if !wellFormed(secret) {
		return Token{}, ErrUnauthorized
	}
	key := hash(secret)
	var recs []store.Record
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		recs, err = tx.RecordsByKey(Kind, key, 2)
		return err
	})
	if err != nil {
		return Token{}, fmt.Errorf("look up token: %w", err)
	}
	// The index found the record by its hash; compare the whole hash in
	// constant time so no part of the match depends on timing.
	if len(recs) != 1 || subtle.ConstantTimeCompare(recs[0].Key, key) != 1 {
		return Token{}, ErrUnauthorized
	}
	t := Token{ID: recs[0].ID, Created: recs[0].Created}
	if b, err := s.open(recs[0]); err == nil {
		t.Name, t.Role, t.Created = b.Name, b.Role, b.Created
	} else if !errors.Is(err, vigil.ErrSealed) {
		return Token{}, err
	}
	return t, nil
}

func wellFormed(secret string) bool {
	rest, ok := strings.CutPrefix(secret, Prefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil
}

func (s *Tokens) open(r store.Record) (body, error) {
	var b body
	plain, err := s.Vault.OpenField(label(r.ID, r.Version), r.Body)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(plain, &b); err != nil || !b.Role.Valid() {
		return b, fmt.Errorf("%w: token %s", vigil.ErrCorrupt, r.ID)
	}
	return b, nil
}

// List returns every token, revoked ones included, oldest first. It needs
// the vault unsealed.
func (s *Tokens) List(ctx context.Context) ([]Token, error) {
	if s.Vault.Sealed() {
		return nil, vigil.ErrSealed
	}
	var out []Token
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		return store.EachRecord(tx, Kind, func(r store.Record) error {
			b, err := s.open(r)
			if err != nil {
				return err
			}
			out = append(out, Token{ID: r.ID, Name: b.Name, Role: b.Role, Created: b.Created, Revoked: b.Revoked})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Revoke revokes token id at once: later [Tokens.Authenticate] calls with
// its secret fail. It needs the vault unsealed (the revoked record keeps the
// token's name and role). Revoking a revoked token is a no-op; an unknown id
// is an error wrapping [vigil.ErrNotFound].
func (s *Tokens) Revoke(ctx context.Context, actor string, id vigil.ID) error {
	if s.Vault.Sealed() {
		return vigil.ErrSealed
	}
	done := false
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Record(id, 0)
		if err != nil {
			return err
		}
		if r.Kind != Kind {
			return fmt.Errorf("token %s: %w", id, vigil.ErrNotFound)
		}
		b, err := s.open(r)
		if err != nil {
			return err
		}
		if !b.Revoked.IsZero() {
			done = true
			return nil
		}
		b.Revoked = s.now()
		plain, _ := json.Marshal(b)
		ct, err := s.Vault.SealField(label(id, r.Version+1), plain)
		if err != nil {
			return err
		}
		return tx.PutRecord(store.Record{ID: id, Version: r.Version + 1, Kind: Kind, Created: s.coarse(b.Revoked), LeafIndex: -1, Body: ct})
	})
	if err != nil || done {
		return err
	}
	return s.audit(ctx, actor, "token-revoke", id)
}
