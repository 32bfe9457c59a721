package account

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// NewWebAuthn returns the passkey relying party of a staff listener: RP ID
// host (the host name the staff use, e.g. "localhost" or the onion
// address, without port) and the origins their browser shows (e.g.
// "http://localhost:8081"). go-webauthn checks every ceremony's RP ID hash,
// origin, challenge and signature (TestPasskey runs it on a software
// authenticator).
func NewWebAuthn(host string, origins []string) (*webauthn.WebAuthn, error) {
	return webauthn.New(&webauthn.Config{
		RPID:          host,
		RPDisplayName: "vigil",
		RPOrigins:     origins,
	})
}

// maxCeremony bounds a ceremony's JSON body.
const maxCeremony = 64 << 10

// waUser presents an account to go-webauthn. Its user handle is the
// account ID (random, so it says nothing about the person).
type waUser struct {
	a    Account
	keys []Passkey
}

func (u waUser) WebAuthnID() []byte          { return u.a.ID[:] }
func (u waUser) WebAuthnName() string        { return u.a.Name }
func (u waUser) WebAuthnDisplayName() string { return u.a.Name }
func (u waUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.keys))
	for i, k := range u.keys {
		out[i] = webauthn.Credential{
			ID: k.ID, PublicKey: k.PublicKey,
			Flags:         webauthn.CredentialFlagsFromMsgpByte(k.Flags),
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID},
		}
	}
	return out
}

var errNoPasskeys = errors.New("passkeys are not configured")

// PasskeyLoginBegin starts the passkey step of a pending login and returns
// the options for navigator.credentials.get. The options are the same for
// every pending login, right passphrase or not: no allowCredentials list
// (passkeys are discoverable), so they reveal neither the passphrase's
// correctness nor which passkeys an account has.
func (s *Sessions) PasskeyLoginBegin(r *http.Request) (*protocol.CredentialAssertion, error) {
	if s.WebAuthn == nil {
		return nil, errNoPasskeys
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.pending(r, false)
	if err != nil {
		return nil, err
	}
	opts, cer, err := s.WebAuthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("begin passkey login: %w", err)
	}
	ss.loginCeremony = cer
	return opts, nil
}

// PasskeyLoginFinish checks the assertion in r's body (the JSON of the
// PublicKeyCredential) against the pending login's challenge and account
// and signs in under a new session ID. Any failure returns [ErrLogin] and
// ends the pending login.
func (s *Sessions) PasskeyLoginFinish(w http.ResponseWriter, r *http.Request) error {
	if s.WebAuthn == nil {
		return errNoPasskeys
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxCeremony+1))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.pending(r, false)
	if err != nil {
		return err
	}
	cer := ss.loginCeremony
	ss.loginCeremony = nil
	if cer == nil || ss.verified == nil || len(raw) > maxCeremony {
		s.fail(w, r)
		return ErrLogin
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		s.fail(w, r)
		return ErrLogin
	}
	u := waUser{a: ss.account, keys: ss.verified.sec.Passkeys}
	_, err = s.WebAuthn.ValidateDiscoverableLogin(func(_, handle []byte) (webauthn.User, error) {
		if !bytes.Equal(handle, u.WebAuthnID()) {
			return nil, errors.New("passkey of another account")
		}
		return u, nil
	}, *cer, parsed)
	if err != nil {
		s.fail(w, r)
		return ErrLogin
	}
	return s.complete(w, r, ss)
}

// PasskeyRegisterBegin starts registering a passkey for r's session (an
// enrolling login, or a signed-in session that re-authenticated within
// Fresh) and returns the options for navigator.credentials.create. The
// passkey must be discoverable (resident), as the login step needs.
func (s *Sessions) PasskeyRegisterBegin(r *http.Request) (*protocol.CredentialCreation, error) {
	if s.WebAuthn == nil {
		return nil, errNoPasskeys
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.verifiedSession(r)
	if err != nil {
		return nil, err
	}
	u := waUser{a: ss.account, keys: ss.verified.sec.Passkeys}
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.WebAuthnCredentials() {
		exclude = append(exclude, c.Descriptor())
	}
	opts, cer, err := s.WebAuthn.BeginRegistration(u,
		webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	ss.regCeremony = cer
	return opts, nil
}

// PasskeyRegisterFinish checks the attestation in r's body against the
// registration's challenge, stores the passkey under name, and signs an
// enrolling login in (new session ID).
func (s *Sessions) PasskeyRegisterFinish(w http.ResponseWriter, r *http.Request, name string) error {
	if s.WebAuthn == nil {
		return errNoPasskeys
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxCeremony+1))
	if err != nil {
		return err
	}
	if len(raw) > maxCeremony {
		return fmt.Errorf("passkey registration: body too large")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.verifiedSession(r)
	if err != nil {
		return err
	}
	cer := ss.regCeremony
	ss.regCeremony = nil
	if cer == nil {
		return ErrStep
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return fmt.Errorf("passkey registration: %w", err)
	}
	u := waUser{a: ss.account, keys: ss.verified.sec.Passkeys}
	cred, err := s.WebAuthn.CreateCredential(u, *cer, parsed)
	if err != nil {
		return fmt.Errorf("passkey registration: %w", err)
	}
	pk := Passkey{ID: cred.ID, PublicKey: cred.PublicKey, AAGUID: cred.Authenticator.AAGUID, Flags: cred.Flags.MsgpByte(), Name: name, Added: s.now().Unix()}
	if err := s.Accounts.AddPasskey(r.Context(), ss.verified, pk); err != nil {
		return err
	}
	if ss.state == stateEnrol {
		return s.complete(w, r, ss)
	}
	return nil
}

// MaxPasskeyName bounds a passkey's name, in characters.
const MaxPasskeyName = 40

// PasskeyName is a passkey's name as typed, trimmed, with runs of space made
// one, without control or format characters (bidirectional overrides and
// zero widths would hide or reorder it on the account page), cut at
// MaxPasskeyName characters; "" if nothing is left or raw is not UTF-8.
func PasskeyName(raw string) string {
	if !utf8.ValidString(raw) {
		return ""
	}
	name := strings.Join(strings.FieldsFunc(raw, func(c rune) bool {
		return unicode.IsSpace(c) || unicode.IsControl(c) || unicode.Is(unicode.Cf, c)
	}), " ")
	if r := []rune(name); len(r) > MaxPasskeyName {
		name = strings.TrimSpace(string(r[:MaxPasskeyName]))
	}
	return name
}
