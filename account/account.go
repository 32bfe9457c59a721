// Package account keeps the staff accounts of the web UI and their
// sessions: passphrases (argon2id), a second factor (passkeys through
// WebAuthn first, TOTP as the fallback), back-off on failures, and
// in-memory sessions with CSRF protection and re-authentication.
//
// [Accounts] stores accounts; [Sessions] keeps signed-in browsers and
// provides the net/http middleware ([Sessions.RequireSession],
// [Sessions.RequireCSRF], [Sessions.RequireFresh]) and [Principal]. A login
// is two steps: [Sessions.LoginPassphrase] with name and passphrase, then
// [Sessions.LoginTOTP] or the passkey ceremony
// ([Sessions.PasskeyLoginBegin], [Sessions.PasskeyLoginFinish]). The first
// step's answer is the same whether the name or passphrase was right, so
// only the end of the login says "wrong", once, for any of the three.
//
// # Formats
//
// Staff must be able to sign in while the vault is sealed (to unseal it from
// the browser), so what a login needs cannot be sealed to the vault. An
// account is a record of kind [Kind] whose lookup key is argon2id of the
// canonical name ([Canonical]) salted with the instance salt, and whose body
// is JSON with two parts:
//
//   - "staff", sealed to the vault ([vault.Vault.SealField], field "staff"
//     at "staff_version"): name, role, language, creation time, disabled.
//   - "login": argon2id parameters, a random salt, a nonce and an
//     XChaCha20-Poly1305 box under argon2id(passphrase, salt), with the
//     account ID as associated data, holding the TOTP secret and the
//     passkeys. The box opening is the passphrase check.
//
// An admin's change (role, disable) rewrites "staff" and copies "login"; a
// user's change (passphrase, second factor) rewrites "login" and copies
// "staff": each part can be written by the one who can read it. Every
// change is a new record version; plaintext times are coarse. Disabling
// writes a version without a lookup key, so a disabled account cannot sign
// in even while the vault is sealed. docs/accounts.md has the threat
// analysis.
package account

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Kind is the record kind of accounts.
const Kind = "account"

// A Role says what an account may do: see vigil.Role.
type Role = vigil.Role

// ErrLogin is the one answer to a wrong name, passphrase or second factor
// and to a disabled account. It says nothing more on purpose.
var ErrLogin = errors.New("wrong name, passphrase or second factor")

// An Account describes an account; it never holds a secret.
type Account struct {
	ID vigil.ID `json:"id"`
	// Name, Role, Language and Disabled are sealed: when an account signs in
	// while the vault is sealed, Name is the name as typed and Role is empty.
	Name     string    `json:"name"`
	Role     Role      `json:"role,omitempty"`
	Language string    `json:"language,omitempty"`
	Created  time.Time `json:"created"`
	Disabled time.Time `json:"disabled,omitzero"`
	// Sealed is set when the account was read while the vault was sealed.
	Sealed bool `json:"-"`
}

// Principal is who acts as this account. An account signed in while sealed
// has no role and may do nothing that needs one.
func (a Account) Principal() vigil.Principal {
	return vigil.Principal{Actor: a.Actor(), Account: a.Name, Role: a.Role}
}

// Actor names the account in audit events: "account:ID/NAME".
func (a Account) Actor() string {
	return "account:" + a.ID.String() + "/" + a.Name
}

// staff is the sealed part of an account record.
type staff struct {
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	Language string    `json:"language"`
	Created  time.Time `json:"created"`
	Disabled time.Time `json:"disabled,omitzero"`
}

// body is an account record's body.
type body struct {
	StaffVersion int64  `json:"staff_version"`
	Staff        []byte `json:"staff"`
	Login        login  `json:"login"`
}

// Accounts keeps staff accounts in a store. Its methods are safe for
// concurrent use.
type Accounts struct {
	Store store.Store
	Vault *vault.Vault
	// Salt is the instance's public salt (the data directory's
	// receipt_salt); name keys are derived from it, so a name's key differs
	// between instances. Required, at least 16 bytes.
	Salt []byte
	// NameParams and LoginParams are the argon2id parameters for name keys
	// and login boxes; zero means [DefaultNameParams] and
	// [DefaultLoginParams]. Tests lower them. LoginParams are stored with
	// each login box, so changing them affects only new boxes; NameParams
	// must never change once accounts exist.
	NameParams, LoginParams Params
	// Audit, if set, records an account action by actor; its error fails the
	// action after the change committed.
	Audit func(ctx context.Context, actor, action string, target vigil.ID) error
	// OnChange, if set, is called after an admin changed or disabled an
	// account, e.g. to drop its sessions ([Sessions.LogoutAccount]).
	OnChange func(id vigil.ID)
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// TimePrecision is how coarse the records' plaintext times are. Zero
	// means an hour.
	TimePrecision time.Duration

	once sync.Once
	kdf  chan struct{} // bounds concurrent login KDF runs (64 MiB each)
	// derived, if set, is called with the params of every login KDF run
	// (TestSameWork counts them).
	derived func(Params)
}

func (s *Accounts) nameParams() Params {
	if s.NameParams == (Params{}) {
		return DefaultNameParams
	}
	return s.NameParams
}

func (s *Accounts) loginParams() Params {
	if s.LoginParams == (Params{}) {
		return DefaultLoginParams
	}
	return s.LoginParams
}

func (s *Accounts) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

func (s *Accounts) coarse(t time.Time) time.Time {
	p := s.TimePrecision
	if p <= 0 {
		p = time.Hour
	}
	return t.Truncate(p)
}

func (s *Accounts) audit(ctx context.Context, actor, action string, id vigil.ID) error {
	if s.Audit == nil {
		return nil
	}
	return s.Audit(ctx, actor, action, id)
}

// NameKey returns the lookup key of an account name (also the key of its
// back-off counter).
func (s *Accounts) NameKey(name string) ([]byte, error) {
	if len(s.Salt) < 16 {
		return nil, errors.New("account: instance salt missing")
	}
	return nameKey(s.Salt, s.nameParams(), name), nil
}

// derive runs the login KDF, at most two at a time: each takes 64 MiB.
func (s *Accounts) derive(pass, salt []byte, p Params) []byte {
	s.once.Do(func() { s.kdf = make(chan struct{}, 2) })
	s.kdf <- struct{}{}
	defer func() { <-s.kdf }()
	if s.derived != nil {
		s.derived(p)
	}
	return deriveKey(pass, salt, p)
}

func staffLabel(id vigil.ID, version int64) vault.Label {
	return vault.Label{Kind: Kind, ID: id, Field: "staff", Version: version}
}

func encodeSecrets(sec secrets) []byte {
	b, _ := json.Marshal(sec)
	return b
}

// Create makes an account with the given passphrase and no second factor:
// its first sign-in must enrol one. It works while the vault is sealed. A
// name already in use (by an enabled account) is an error wrapping
// [vigil.ErrConflict].
func (s *Accounts) Create(ctx context.Context, actor, name string, role Role, lang string, pass []byte) (Account, error) {
	if err := CheckName(name); err != nil {
		return Account{}, err
	}
	if !role.Valid() {
		return Account{}, fmt.Errorf("%w: role %q: want admin, investigator, analyst or intake", vigil.ErrInvalid, role)
	}
	if lang == "" {
		lang = "en"
	}
	if err := checkLanguage(lang); err != nil {
		return Account{}, err
	}
	if err := CheckPassphrase(pass, name); err != nil {
		return Account{}, err
	}
	key, err := s.NameKey(name)
	if err != nil {
		return Account{}, err
	}
	a := Account{ID: vigil.NewID(), Name: name, Role: role, Language: lang, Created: s.now()}
	st, _ := json.Marshal(staff{Name: name, Role: role, Language: lang, Created: a.Created})
	sct, err := s.Vault.SealField(staffLabel(a.ID, 1), st)
	if err != nil {
		return Account{}, err
	}
	p := s.loginParams()
	salt := make([]byte, 16)
	rand.Read(salt)
	k := s.derive(pass, salt, p)
	defer wipe(k)
	l, err := sealLogin(a.ID, k, salt, p, encodeSecrets(secrets{}))
	if err != nil {
		return Account{}, err
	}
	b, _ := json.Marshal(body{StaffVersion: 1, Staff: sct, Login: l})
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		recs, err := tx.RecordsByKey(Kind, key, 1)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			return fmt.Errorf("%w: an account with this name exists", vigil.ErrConflict)
		}
		return tx.PutRecord(store.Record{ID: a.ID, Version: 1, Kind: Kind, Created: s.coarse(a.Created), LeafIndex: -1, Body: b, Key: key})
	})
	if err != nil {
		return Account{}, fmt.Errorf("store account: %w", err)
	}
	return a, s.audit(ctx, actor, "account-create", a.ID)
}

func parseBody(r store.Record) (body, error) {
	var b body
	if err := json.Unmarshal(r.Body, &b); err != nil || b.StaffVersion < 1 || !b.Login.Params.valid() {
		return b, fmt.Errorf("%w: account %s", vigil.ErrCorrupt, r.ID)
	}
	return b, nil
}

func (s *Accounts) openStaff(id vigil.ID, b body) (staff, error) {
	var st staff
	plain, err := s.Vault.OpenField(staffLabel(id, b.StaffVersion), b.Staff)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(plain, &st); err != nil || !st.Role.Valid() {
		return st, fmt.Errorf("%w: account %s", vigil.ErrCorrupt, id)
	}
	return st, nil
}

func accountOf(r store.Record, st staff) Account {
	return Account{ID: r.ID, Name: st.Name, Role: st.Role, Language: st.Language, Created: st.Created, Disabled: st.Disabled}
}

// A Verified is an account whose passphrase was just checked. It holds the
// key of the account's login box, so the holder can change the second
// factors or the passphrase; call Wipe when done.
type Verified struct {
	Account Account
	version int64
	key     []byte
	login   login
	sec     secrets
}

// HasTOTP reports whether the account has a TOTP secret.
func (v *Verified) HasTOTP() bool { return len(v.sec.TOTP) > 0 }

// Passkeys returns the account's passkeys.
func (v *Verified) Passkeys() []Passkey { return v.sec.Passkeys }

// Enrolled reports whether the account has a second factor.
func (v *Verified) Enrolled() bool { return v.HasTOTP() || len(v.sec.Passkeys) > 0 }

// Wipe zeroes the key and secrets the Verified holds.
func (v *Verified) Wipe() {
	wipe(v.key)
	wipe(v.sec.TOTP)
	v.key, v.sec = nil, secrets{}
}

// dummySalt is the salt of the KDF run for unknown names: the same work as
// for a known one, so timing does not tell names apart.
var dummySalt = make([]byte, 16)

// Check verifies a name and passphrase. It returns [ErrLogin] for an
// unknown or disabled name and for a wrong passphrase, after the same
// argon2id work in each case. It works while the vault is sealed: then the
// Account's Name is name as given, Role is empty and Sealed is set. Check
// has no back-off of its own: sign-ins go through
// [Sessions.LoginPassphrase], which adds it.
func (s *Accounts) Check(ctx context.Context, name string, pass []byte) (*Verified, error) {
	if len(pass) > MaxPassphrase || name == "" || len(name) > 256 {
		return nil, ErrLogin
	}
	key, err := s.NameKey(name)
	if err != nil {
		return nil, err
	}
	return s.checkKey(ctx, key, name, pass)
}

func (s *Accounts) checkKey(ctx context.Context, key []byte, name string, pass []byte) (*Verified, error) {
	var recs []store.Record
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		recs, err = tx.RecordsByKey(Kind, key, 2)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look up account: %w", err)
	}
	if len(recs) != 1 {
		wipe(s.derive(pass, dummySalt, s.loginParams()))
		return nil, ErrLogin
	}
	r := recs[0]
	b, err := parseBody(r)
	if err != nil {
		return nil, err
	}
	k := s.derive(pass, b.Login.Salt, b.Login.Params)
	plain, err := openLogin(r.ID, k, b.Login)
	if err != nil {
		wipe(k)
		if errors.Is(err, errBadBox) {
			return nil, ErrLogin
		}
		return nil, err
	}
	v := &Verified{version: r.Version, key: k, login: b.Login}
	err = json.Unmarshal(plain, &v.sec)
	wipe(plain)
	if err != nil {
		v.Wipe()
		return nil, fmt.Errorf("%w: account %s login", vigil.ErrCorrupt, r.ID)
	}
	st, err := s.openStaff(r.ID, b)
	switch {
	case err == nil:
		if !st.Disabled.IsZero() {
			v.Wipe()
			return nil, ErrLogin
		}
		v.Account = accountOf(r, st)
	case errors.Is(err, vigil.ErrSealed):
		v.Account = Account{ID: r.ID, Name: name, Created: r.Created, Sealed: true}
	default:
		v.Wipe()
		return nil, err
	}
	return v, nil
}

// List returns every account, disabled ones included, oldest first. It
// needs the vault unsealed.
func (s *Accounts) List(ctx context.Context) ([]Account, error) {
	if s.Vault.Sealed() {
		return nil, vigil.ErrSealed
	}
	var out []Account
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		return store.EachRecord(tx, Kind, func(r store.Record) error {
			b, err := parseBody(r)
			if err != nil {
				return err
			}
			st, err := s.openStaff(r.ID, b)
			if err != nil {
				return err
			}
			out = append(out, accountOf(r, st))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Get returns account id. It needs the vault unsealed.
func (s *Accounts) Get(ctx context.Context, id vigil.ID) (Account, error) {
	var a Account
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		r, err := tx.Record(id, 0)
		if err != nil {
			return err
		}
		if r.Kind != Kind {
			return fmt.Errorf("account %s: %w", id, vigil.ErrNotFound)
		}
		b, err := parseBody(r)
		if err != nil {
			return err
		}
		st, err := s.openStaff(r.ID, b)
		if err != nil {
			return err
		}
		a = accountOf(r, st)
		return nil
	})
	return a, err
}

// changeStaff rewrites the staff part of account id with change, copying
// the login box, then calls OnChange (the account's sessions end) unless
// quiet. It needs the vault unsealed.
func (s *Accounts) changeStaff(ctx context.Context, actor, action string, id vigil.ID, quiet bool, change func(*staff) error) error {
	if s.Vault.Sealed() {
		return vigil.ErrSealed
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Record(id, 0)
		if err != nil {
			return err
		}
		if r.Kind != Kind {
			return fmt.Errorf("account %s: %w", id, vigil.ErrNotFound)
		}
		b, err := parseBody(r)
		if err != nil {
			return err
		}
		st, err := s.openStaff(id, b)
		if err != nil {
			return err
		}
		if err := change(&st); err != nil {
			return err
		}
		var key []byte
		if st.Disabled.IsZero() {
			if key, err = s.NameKey(st.Name); err != nil {
				return err
			}
			recs, err := tx.RecordsByKey(Kind, key, 2)
			if err != nil {
				return err
			}
			for _, o := range recs {
				if o.ID != id {
					return fmt.Errorf("%w: another account has this name", vigil.ErrConflict)
				}
			}
		}
		plain, _ := json.Marshal(st)
		b.StaffVersion++
		if b.Staff, err = s.Vault.SealField(staffLabel(id, b.StaffVersion), plain); err != nil {
			return err
		}
		nb, _ := json.Marshal(b)
		return tx.PutRecord(store.Record{ID: id, Version: r.Version + 1, Kind: Kind, Created: s.coarse(s.now()), LeafIndex: -1, Body: nb, Key: key})
	})
	if err != nil {
		return err
	}
	if s.OnChange != nil && !quiet {
		s.OnChange(id)
	}
	return s.audit(ctx, actor, action, id)
}

// SetRole changes account id's role. Its sessions end (through OnChange).
func (s *Accounts) SetRole(ctx context.Context, actor string, id vigil.ID, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("%w: role %q: want admin, investigator, analyst or intake", vigil.ErrInvalid, role)
	}
	return s.changeStaff(ctx, actor, "account-role", id, false, func(st *staff) error {
		st.Role = role
		return nil
	})
}

// SetLanguage changes account id's UI language. Unlike the other changes
// it does not call OnChange: the language grants nothing, so the
// account's sessions go on ([Sessions.SetLanguage] gives them the new
// language).
func (s *Accounts) SetLanguage(ctx context.Context, actor string, id vigil.ID, lang string) error {
	if err := checkLanguage(lang); err != nil {
		return err
	}
	return s.changeStaff(ctx, actor, "account-language", id, true, func(st *staff) error {
		st.Language = lang
		return nil
	})
}

// Disable disables account id: it can no longer sign in, sealed or not,
// and its sessions end (through OnChange). Disabling a disabled account
// is a no-op apart from a new version.
func (s *Accounts) Disable(ctx context.Context, actor string, id vigil.ID) error {
	return s.changeStaff(ctx, actor, "account-disable", id, false, func(st *staff) error {
		if st.Disabled.IsZero() {
			st.Disabled = s.now()
		}
		return nil
	})
}

// Enable enables a disabled account again. It fails with an error
// wrapping [vigil.ErrConflict] if another account took its name meanwhile.
func (s *Accounts) Enable(ctx context.Context, actor string, id vigil.ID) error {
	return s.changeStaff(ctx, actor, "account-enable", id, false, func(st *staff) error {
		st.Disabled = time.Time{}
		return nil
	})
}

// changeLogin rewrites v's login box with sec under key (salt, params),
// copying the staff part. It fails with ErrLogin if the account was
// disabled since v was verified.
func (s *Accounts) changeLogin(ctx context.Context, v *Verified, sec secrets, key, salt []byte, p Params) error {
	l, err := sealLogin(v.Account.ID, key, salt, p, encodeSecrets(sec))
	if err != nil {
		return err
	}
	var version int64
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Record(v.Account.ID, 0)
		if err != nil {
			return err
		}
		if r.Kind != Kind {
			return fmt.Errorf("account %s: %w", v.Account.ID, vigil.ErrNotFound)
		}
		if len(r.Key) == 0 {
			return ErrLogin // disabled meanwhile
		}
		b, err := parseBody(r)
		if err != nil {
			return err
		}
		b.Login = l
		nb, _ := json.Marshal(b)
		version = r.Version + 1
		return tx.PutRecord(store.Record{ID: r.ID, Version: version, Kind: Kind, Created: s.coarse(s.now()), LeafIndex: -1, Body: nb, Key: r.Key})
	})
	if err != nil {
		return err
	}
	v.version, v.login = version, l
	return nil
}

// SetTOTP stores secret as v's TOTP secret (replacing any), after the
// caller checked a code from it ([TOTP.Verify]).
func (s *Accounts) SetTOTP(ctx context.Context, v *Verified, secret []byte) error {
	sec := v.sec
	sec.TOTP = append([]byte(nil), secret...)
	if err := s.changeLogin(ctx, v, sec, v.key, v.login.Salt, v.login.Params); err != nil {
		return err
	}
	v.sec = sec
	return s.audit(ctx, v.Account.Actor(), "account-totp", v.Account.ID)
}

// AddPasskey adds a registered passkey to v's account.
func (s *Accounts) AddPasskey(ctx context.Context, v *Verified, pk Passkey) error {
	if len(pk.ID) == 0 || len(pk.PublicKey) == 0 {
		return fmt.Errorf("%w: passkey without ID or key", vigil.ErrInvalid)
	}
	sec := v.sec
	sec.Passkeys = append(append([]Passkey(nil), sec.Passkeys...), pk)
	if err := s.changeLogin(ctx, v, sec, v.key, v.login.Salt, v.login.Params); err != nil {
		return err
	}
	v.sec = sec
	return s.audit(ctx, v.Account.Actor(), "account-passkey-add", v.Account.ID)
}

// RemovePasskey removes the passkey with credential ID id. The last second
// factor cannot be removed.
func (s *Accounts) RemovePasskey(ctx context.Context, v *Verified, id []byte) error {
	sec := v.sec
	sec.Passkeys = nil
	for _, p := range v.sec.Passkeys {
		if string(p.ID) != string(id) {
			sec.Passkeys = append(sec.Passkeys, p)
		}
	}
	if len(sec.Passkeys) == len(v.sec.Passkeys) {
		return fmt.Errorf("passkey: %w", vigil.ErrNotFound)
	}
	if len(sec.Passkeys) == 0 && len(sec.TOTP) == 0 {
		return fmt.Errorf("%w: the last second factor cannot be removed", vigil.ErrInvalid)
	}
	if err := s.changeLogin(ctx, v, sec, v.key, v.login.Salt, v.login.Params); err != nil {
		return err
	}
	v.sec = sec
	return s.audit(ctx, v.Account.Actor(), "account-passkey-remove", v.Account.ID)
}

// RenamePasskey names the passkey with credential ID id. The name must be
// as [PasskeyName] leaves it, and not empty.
func (s *Accounts) RenamePasskey(ctx context.Context, v *Verified, id []byte, name string) error {
	if name == "" || PasskeyName(name) != name {
		return fmt.Errorf("%w: passkey name %q", vigil.ErrInvalid, name)
	}
	sec := v.sec
	sec.Passkeys = slices.Clone(v.sec.Passkeys)
	i := slices.IndexFunc(sec.Passkeys, func(p Passkey) bool { return string(p.ID) == string(id) })
	if i < 0 {
		return fmt.Errorf("passkey: %w", vigil.ErrNotFound)
	}
	if sec.Passkeys[i].Name == name {
		return nil
	}
	sec.Passkeys[i].Name = name
	if err := s.changeLogin(ctx, v, sec, v.key, v.login.Salt, v.login.Params); err != nil {
		return err
	}
	v.sec = sec
	return s.audit(ctx, v.Account.Actor(), "account-passkey-rename", v.Account.ID)
}

// ChangePassphrase re-encrypts v's login box under a new passphrase with a
// new salt (and the current LoginParams).
func (s *Accounts) ChangePassphrase(ctx context.Context, v *Verified, pass []byte) error {
	if err := CheckPassphrase(pass, v.Account.Name); err != nil {
		return err
	}
	p := s.loginParams()
	salt := make([]byte, 16)
	rand.Read(salt)
	k := s.derive(pass, salt, p)
	if err := s.changeLogin(ctx, v, v.sec, k, salt, p); err != nil {
		wipe(k)
		return err
	}
	wipe(v.key)
	v.key = k
	return s.audit(ctx, v.Account.Actor(), "account-passphrase", v.Account.ID)
}

// Lookup returns the ID of the enabled account named name (in any case
// or normalization), or an error wrapping [vigil.ErrNotFound]. A disabled
// account is found only by its ID ([Accounts.List]).
func (s *Accounts) Lookup(ctx context.Context, name string) (vigil.ID, error) {
	key, err := s.NameKey(name)
	if err != nil {
		return vigil.ID{}, err
	}
	var recs []store.Record
	err = s.Store.View(ctx, func(tx store.ReadTx) error {
		recs, err = tx.RecordsByKey(Kind, key, 2)
		return err
	})
	if err != nil {
		return vigil.ID{}, err
	}
	if len(recs) != 1 {
		return vigil.ID{}, fmt.Errorf("account %q: %w", name, vigil.ErrNotFound)
	}
	return recs[0].ID, nil
}
