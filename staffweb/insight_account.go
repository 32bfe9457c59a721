package staffweb

import (
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
)

// A passkeyRow is a passkey as the account page lists it.
type passkeyRow struct {
	account.PasskeyInfo
	Key string // the credential ID, base64url, for the remove form
}

type accountData struct {
	Langs    []string
	Sessions []account.SessionInfo
	// Fresh: the session re-authenticated lately, so the second factors
	// (in the login box the passphrase opens) can be shown and changed.
	Fresh    bool
	Passkeys []passkeyRow
	TOTP     bool
	// CanRemove: more than one second factor, so one may go.
	CanRemove bool
	Passkeys0 bool // passkeys are on (a relying party is configured)
	Errors    map[string]string
}

// accountPage is the signed-in account's own page: its language, its
// sessions, and (after re-authenticating) its second factors and
// passphrase.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.showAccount(w, r, http.StatusOK, nil)
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	sess, err := s.Sessions.Own(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &accountData{Langs: langs, Sessions: sess, Passkeys0: s.Sessions.WebAuthn != nil, Errors: map[string]string{}}
	if session(r).Fresh {
		pks, totp, err := s.Sessions.Factors(r)
		switch {
		case err == nil:
			d.Fresh, d.TOTP = true, totp
			for _, p := range pks {
				d.Passkeys = append(d.Passkeys, passkeyRow{PasskeyInfo: p, Key: base64.RawURLEncoding.EncodeToString(p.ID)})
			}
			n := len(pks)
			if totp {
				n++
			}
			d.CanRemove = n > 1
		case errors.Is(err, account.ErrStep):
			// Fresh from the sign-in itself: the passphrase is asked again.
		default:
			s.fail(w, r, err)
			return
		}
	}
	v := s.newView(r, "insight.account.title", d)
	for k, m := range errs {
		d.Errors[k] = v.T(m)
	}
	if len(errs) > 0 {
		v.Error = v.T("insight.account.invalid")
	}
	switch r.URL.Query().Get("done") {
	case "lang":
		v.Notice = v.T("insight.account.done.lang")
	case "removed":
		v.Notice = v.T("insight.account.done.removed")
	case "added":
		v.Notice = v.T("insight.account.done.added")
	case "renamed":
		v.Notice = v.T("insight.account.done.renamed")
	case "passphrase":
		v.Notice = v.T("insight.account.done.passphrase")
	}
	s.render(w, status, "insight_account", v)
}

// accountLanguage sets the account's language (and the browser's).
func (s *Server) accountLanguage(w http.ResponseWriter, r *http.Request) {
	l := r.PostFormValue("language")
	if s.cats[l] == nil {
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"language": "insight.account.err.language"})
		return
	}
	if err := s.Sessions.SetLanguage(r, l); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/account?done=lang", http.StatusSeeOther)
}

// removePasskey removes one of the account's passkeys, never the last
// second factor.
func (s *Server) removePasskey(w http.ResponseWriter, r *http.Request) {
	id, err := base64.RawURLEncoding.DecodeString(r.PostFormValue("passkey"))
	if err != nil || len(id) == 0 {
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"passkeys": "insight.account.err.passkey"})
		return
	}
	err = s.Sessions.RemovePasskey(r, id)
	switch {
	case errors.Is(err, vigil.ErrInvalid):
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"passkeys": "insight.account.err.last"})
		return
	case errors.Is(err, vigil.ErrNotFound):
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"passkeys": "insight.account.err.passkey"})
		return
	}
	s.afterSelfChange(w, r, err, "removed")
}

// renamePasskey names one of the account's passkeys.
func (s *Server) renamePasskey(w http.ResponseWriter, r *http.Request) {
	id, err := base64.RawURLEncoding.DecodeString(r.PostFormValue("passkey"))
	if err != nil || len(id) == 0 {
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"passkeys": "insight.account.err.passkey"})
		return
	}
	name := account.PasskeyName(r.PostFormValue("name"))
	if name == "" {
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"passkeys": "insight.account.err.name"})
		return
	}
	err = s.Sessions.RenamePasskey(r, id, name)
	if errors.Is(err, vigil.ErrNotFound) {
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"passkeys": "insight.account.err.passkey"})
		return
	}
	s.afterSelfChange(w, r, err, "renamed")
}

// afterSelfChange answers a change to the account's second factors or
// passphrase: back to the account page with notice done, or to the
// re-authentication if the session's is stale.
func (s *Server) afterSelfChange(w http.ResponseWriter, r *http.Request, err error, done string) {
	switch {
	case errors.Is(err, account.ErrStep):
		http.Redirect(w, r, "/reauth?next=/account", http.StatusSeeOther)
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/account?done="+done, http.StatusSeeOther)
	}
}

// changePassphrase sets a new passphrase, typed twice; the account's
// other sessions end.
func (s *Server) changePassphrase(w http.ResponseWriter, r *http.Request) {
	pass, again := []byte(r.PostFormValue("new")), []byte(r.PostFormValue("again"))
	defer clear(pass)
	defer clear(again)
	if string(pass) != string(again) {
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"again": "insight.account.err.again"})
		return
	}
	if err := account.CheckPassphrase(pass, session(r).Account.Name); err != nil {
		s.showAccount(w, r, http.StatusBadRequest, map[string]string{"new": "err.passphrase"})
		return
	}
	s.afterSelfChange(w, r, s.Sessions.ChangePassphrase(r, pass), "passphrase")
}
