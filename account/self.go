package account

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"time"
)

// What a signed-in account may do to itself, for the staff UI's account
// page: see its sessions, set its language, and (after re-authenticating)
// see and change its second factors and passphrase.

// A SessionInfo describes one signed-in session of an account.
type SessionInfo struct {
	Created, Last time.Time
	// Current is the session of the request asked about.
	Current bool
}

// Own returns the signed-in sessions of r's account, newest first.
func (s *Sessions) Own(r *http.Request) ([]SessionInfo, error) {
	id, ok := s.cookieID(r)
	if !ok {
		return nil, ErrNoSession
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.lookup(id, false)
	if me == nil || me.state != stateFull {
		return nil, ErrNoSession
	}
	var out []SessionInfo
	for h := range s.sessions {
		s.expire(h)
	}
	for _, ss := range s.sessions {
		if ss.state == stateFull && ss.account.ID == me.account.ID {
			out = append(out, SessionInfo{Created: ss.created, Last: ss.last, Current: ss == me})
		}
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// A PasskeyInfo describes a passkey of an account.
type PasskeyInfo struct {
	// ID is the credential ID.
	ID    []byte
	Name  string
	Added time.Time
}

// Factors returns the second factors of r's account: its passkeys and
// whether it has TOTP. The session must have re-authenticated within
// Fresh (the factors are in the login box the passphrase opens); else it
// returns [ErrStep].
func (s *Sessions) Factors(r *http.Request) ([]PasskeyInfo, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.freshSession(r)
	if err != nil {
		return nil, false, err
	}
	var out []PasskeyInfo
	for _, p := range ss.verified.Passkeys() {
		out = append(out, PasskeyInfo{ID: slices.Clone(p.ID), Name: p.Name, Added: time.Unix(p.Added, 0).UTC()})
	}
	return out, ss.verified.HasTOTP(), nil
}

// RemovePasskey removes passkey id from r's account (re-authenticated
// within Fresh). The last second factor cannot be removed: that fails
// with an error wrapping vigil.ErrInvalid.
func (s *Sessions) RemovePasskey(r *http.Request, id []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.freshSession(r)
	if err != nil {
		return err
	}
	return s.Accounts.RemovePasskey(r.Context(), ss.verified, id)
}

// RenamePasskey names passkey id of r's account (re-authenticated within
// Fresh); see [Accounts.RenamePasskey].
func (s *Sessions) RenamePasskey(r *http.Request, id []byte, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.freshSession(r)
	if err != nil {
		return err
	}
	return s.Accounts.RenamePasskey(r.Context(), ss.verified, id, name)
}

// ChangePassphrase sets a new passphrase for r's account (re-authenticated
// within Fresh); see [CheckPassphrase] for what is refused. The account's
// other sessions end; this one stays.
func (s *Sessions) ChangePassphrase(r *http.Request, pass []byte) error {
	s.mu.Lock()
	ss, err := s.freshSession(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	err = s.Accounts.ChangePassphrase(r.Context(), ss.verified, pass)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.logoutOthers(r)
	return nil
}

// SetLanguage sets the UI language of r's account, and of the account's
// sessions on this server: they go on (sessions on other servers keep the
// language they had until they sign in again).
func (s *Sessions) SetLanguage(r *http.Request, lang string) error {
	id, ok := s.cookieID(r)
	if !ok {
		return ErrNoSession
	}
	s.mu.Lock()
	me := s.lookup(id, true)
	if me == nil || me.state != stateFull {
		s.mu.Unlock()
		return ErrNoSession
	}
	a := me.account
	s.mu.Unlock()
	if err := s.Accounts.SetLanguage(r.Context(), a.Actor(), a.ID, lang); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.account.ID == a.ID {
			ss.account.Language = lang
		}
	}
	return nil
}

// freshSession returns r's signed-in session with the account it
// verified within Fresh. s.mu must be held.
func (s *Sessions) freshSession(r *http.Request) (*session, error) {
	ss, err := s.verifiedSession(r)
	if err != nil {
		return nil, err
	}
	if ss.state != stateFull {
		return nil, ErrStep
	}
	return ss, nil
}

// logoutOthers ends every session of r's account but r's own.
func (s *Sessions) logoutOthers(r *http.Request) {
	id, ok := s.cookieID(r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.sessions[sha256.Sum256(id)]
	if me == nil {
		return
	}
	for h, ss := range s.sessions {
		if ss != me && ss.account.ID == me.account.ID {
			ss.wipe()
			delete(s.sessions, h)
		}
	}
}
