package staffweb

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-hr/vigil/account"
)

// next returns the local path a sign-in should return to.
func next(r *http.Request) string {
	n := r.FormValue("next")
	if !localRef(n) || strings.HasPrefix(n, "/signin") {
		return "/inbox"
	}
	return n
}

// localRef reports whether p is a path on this server: it starts with one
// slash, and has no backslash or control character (browsers drop tabs and
// newlines, so "/\t/evil.example" would become "//evil.example").
func localRef(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.Sessions.Session(r); ok {
		http.Redirect(w, r, "/inbox", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

type signinData struct {
	Next   string
	Name   string
	Sealed bool // came here because the vault was sealed
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "title.signin", signinData{Next: next(r)})
	if r.FormValue("sealed") == "1" {
		v.Notice = v.T("signin.sealed")
	}
	if r.FormValue("out") == "1" {
		v.Notice = v.T("signin.out")
	}
	s.render(w, http.StatusOK, "signin", v)
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	pass := []byte(r.PostFormValue("passphrase"))
	step, err := s.Sessions.LoginPassphrase(w, r, name, pass)
	clear(pass)
	if err != nil {
		var th *account.ThrottledError
		v := s.newView(r, "title.signin", signinData{Next: next(r), Name: name})
		status, key := errKey(err)
		if errors.As(err, &th) {
			v.Error = v.T(key, int(th.Wait.Seconds()+0.999))
		} else {
			v.Error = v.T(key)
		}
		s.render(w, status, "signin", v)
		return
	}
	q := "?next=" + url.QueryEscape(next(r))
	if step == account.StepEnrol {
		http.Redirect(w, r, "/signin/enrol"+q, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin/second"+q, http.StatusSeeOther)
}

func (s *Server) secondPage(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, "second", "title.second", signinData{Next: next(r)})
}

// loginFailed sends a failed second step back to the first with the
// message.
func (s *Server) loginFailed(w http.ResponseWriter, r *http.Request, err error) {
	v := s.newView(r, "title.signin", signinData{Next: next(r)})
	status, key := errKey(err)
	v.Error = v.T(key)
	s.render(w, status, "signin", v)
}

func (s *Server) signinTOTP(w http.ResponseWriter, r *http.Request) {
	if err := s.Sessions.LoginTOTP(w, r, strings.TrimSpace(r.PostFormValue("code"))); err != nil {
		s.loginFailed(w, r, err)
		return
	}
	http.Redirect(w, r, next(r), http.StatusSeeOther)
}

// writeJSON answers a script.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ceremonyResult is the answer to a finished passkey ceremony.
type ceremonyResult struct {
	Next  string `json:"next,omitempty"`
	Error string `json:"error,omitempty"`
}

func (s *Server) ceremonyError(w http.ResponseWriter, r *http.Request, err error, nextURL string) {
	status, key := errKey(err)
	v := s.newView(r, "", nil)
	writeJSON(w, status, ceremonyResult{Error: v.T(key), Next: nextURL})
}

func (s *Server) passkeyBegin(w http.ResponseWriter, r *http.Request) {
	opts, err := s.Sessions.PasskeyLoginBegin(r)
	if err != nil {
		s.ceremonyError(w, r, err, "/signin")
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

func (s *Server) passkeyFinish(w http.ResponseWriter, r *http.Request) {
	if err := s.Sessions.PasskeyLoginFinish(w, r); err != nil {
		s.ceremonyError(w, r, err, "/signin")
		return
	}
	writeJSON(w, http.StatusOK, ceremonyResult{Next: next(r)})
}

type enrolData struct {
	Next   string
	QR     template.HTML
	Secret string
}

func (s *Server) enrolPage(w http.ResponseWriter, r *http.Request) {
	secret, uri, err := s.Sessions.TOTPEnrolBegin(r, "vigil")
	if err != nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	qr, err := account.QRSVG(uri)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "enrol", "title.enrol", enrolData{Next: next(r), QR: template.HTML(qr), Secret: account.TOTPSecretText(secret)})
}

func (s *Server) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	err := s.Sessions.TOTPEnrolFinish(w, r, strings.TrimSpace(r.PostFormValue("code")))
	if errors.Is(err, account.ErrLogin) {
		// Wrong code: the secret stays; show the same QR again.
		v := s.newView(r, "title.enrol", nil)
		v.Error = v.T("err.code")
		secret, uri, err := s.Sessions.TOTPEnrolBegin(r, "vigil")
		if err != nil {
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		qr, _ := account.QRSVG(uri)
		v.Data = enrolData{Next: next(r), QR: template.HTML(qr), Secret: account.TOTPSecretText(secret)}
		s.render(w, http.StatusUnauthorized, "enrol", v)
		return
	}
	if err != nil {
		s.loginFailed(w, r, err)
		return
	}
	http.Redirect(w, r, next(r), http.StatusSeeOther)
}

func (s *Server) registerBegin(w http.ResponseWriter, r *http.Request) {
	opts, err := s.Sessions.PasskeyRegisterBegin(r)
	if err != nil {
		s.ceremonyError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

func (s *Server) registerFinish(w http.ResponseWriter, r *http.Request) {
	if err := s.Sessions.PasskeyRegisterFinish(w, r, passkeyName(r)); err != nil {
		s.ceremonyError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, ceremonyResult{Next: next(r)})
}

// passkeyName is the name the account gives a new passkey
// (X-Vigil-Passkey-Name, percent-encoded by webauthn.js), cleaned by
// account.PasskeyName, else "passkey".
func passkeyName(r *http.Request) string {
	raw, err := url.PathUnescape(r.Header.Get("X-Vigil-Passkey-Name"))
	if err != nil {
		return "passkey"
	}
	if name := account.PasskeyName(raw); name != "" {
		return name
	}
	return "passkey"
}

// language keeps the browser's language choice in a cookie. With a
// session it needs the CSRF token like any state change.
func (s *Server) language(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.Sessions.Session(r); ok {
		s.Sessions.RequireCSRF(http.HandlerFunc(s.setLanguage)).ServeHTTP(w, r)
		return
	}
	s.setLanguage(w, r)
}

func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	l := r.PostFormValue("lang")
	if s.cats[l] == nil {
		s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	back := r.PostFormValue("back")
	if !localRef(back) {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.Sessions.Logout(w, r)
	http.Redirect(w, r, "/signin?out=1", http.StatusSeeOther)
}

func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	s.Sessions.LogoutAccount(session(r).Account.ID)
	s.Sessions.Logout(w, r)
	http.Redirect(w, r, "/signin?out=1", http.StatusSeeOther)
}

func (s *Server) reauthPage(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, "reauth", "title.reauth", signinData{Next: next(r)})
}

func (s *Server) reauth(w http.ResponseWriter, r *http.Request) {
	pass := []byte(r.PostFormValue("passphrase"))
	err := s.Sessions.Reauthenticate(w, r, pass)
	clear(pass)
	if err != nil {
		v := s.newView(r, "title.reauth", signinData{Next: next(r)})
		status, key := errKey(err)
		var th *account.ThrottledError
		if errors.As(err, &th) {
			v.Error = v.T(key, int(th.Wait.Seconds()+0.999))
		} else {
			v.Error = v.T(key)
		}
		s.render(w, status, "reauth", v)
		return
	}
	http.Redirect(w, r, next(r), http.StatusSeeOther)
}
