package staffweb

import (
	"bufio"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/unsealguard"
)

func (s *Server) unsealPage(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, "unseal", "title.unseal", nil)
}

// unseal opens the vault with its passphrase. One attempt runs at a time
// (the vault's scrypt paces guessing), and only a signed-in session can try.
func (s *Server) unseal(w http.ResponseWriter, r *http.Request) {
	pass := []byte(r.PostFormValue("passphrase"))
	defer clear(pass)
	v := s.newView(r, "title.unseal", nil)
	_, err := s.Unsealer.Unseal(pass)
	var tooMany *unsealguard.TooManyError
	switch {
	case errors.Is(err, unsealguard.ErrBusy):
		v.Error = v.T("err.unsealbusy")
		s.render(w, http.StatusServiceUnavailable, "unseal", v)
		return
	case errors.As(err, &tooMany):
		v.Error = v.T("err.unsealwait", int((tooMany.Wait+time.Second-1)/time.Second))
		s.render(w, http.StatusTooManyRequests, "unseal", v)
		return
	}
	if err != nil {
		v.Error = v.T("err.unseal")
		s.render(w, http.StatusUnauthorized, "unseal", v)
		return
	}
	if s.OnUnseal != nil {
		s.OnUnseal()
	}
	if _, err := s.Sessions.Refresh(r.Context(), r); err != nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/vault", http.StatusSeeOther)
}

// seal seals the vault; vault.OnSeal ends every session (this one too).
func (s *Server) seal(w http.ResponseWriter, r *http.Request) {
	s.Vault.Seal()
	s.Sessions.Logout(w, r)
	http.Redirect(w, r, "/signin?sealed=1", http.StatusSeeOther)
}

type vaultData struct {
	Status    Status
	HasStatus bool
}

func (s *Server) vaultPage(w http.ResponseWriter, r *http.Request) {
	var d vaultData
	if s.Status != nil {
		st, err := s.Status(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Status, d.HasStatus = st, true
	}
	s.page(w, r, "vault", "title.vault", d)
}

func principal(r *http.Request) vigil.Principal { return session(r).Account.Principal() }

// inboxData is what the inbox template gets: a page of submissions and
// the state filter it was drawn with.
type inboxData struct {
	intake.Page
	State  intake.State
	States []intake.State
	First  bool // the newest page
}

// All is the number of submissions in every state.
func (d inboxData) All() int {
	n := 0
	for _, c := range d.Counts {
		n += c
	}
	return n
}

// inboxPage shows a page of the inbox, newest first, filtered by ?state=
// and continued by ?before= (a leaf index, the previous page's Next).
func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) {
	q := intake.Query{State: intake.State(r.URL.Query().Get("state"))}
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
			return
		}
		q.Before = n
	}
	pg, err := s.Inbox.Page(r.Context(), principal(r), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "inbox", "title.inbox", inboxData{Page: pg, State: q.State, First: q.Before == 0,
		States: []intake.State{intake.StateNew, intake.StateInReview, intake.StateLinked, intake.StateRejected}})
}

func pathID(r *http.Request, name string) (vigil.ID, error) {
	id, err := vigil.ParseID(r.PathValue(name))
	if err != nil {
		return id, vigil.ErrNotFound
	}
	return id, nil
}

// States are the triage states in the order the state form lists them.
var States = []intake.State{intake.StateNew, intake.StateInReview, intake.StateLinked, intake.StateRejected}

type submissionData struct {
	View   intake.View
	States []intake.State
}

func (s *Server) submissionPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.Inbox.Get(r.Context(), principal(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "submission", "title.submission", submissionData{View: v, States: States})
}

// inlineTypes are the media types shown in the page (images) or opened in
// the browser (PDF); anything else is only downloaded. SVG is not among
// them: it can carry scripts.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "application/pdf": true}

// file streams a decrypted file to the browser, never to disk. Its type is
// sniffed from the content, not taken from the source's claim; images and
// PDFs are served inline under a CSP that runs nothing, the rest as a
// download of application/octet-stream.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	sub, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fid, err := pathID(r, "file")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	item, rc, err := s.Inbox.OpenFile(r.Context(), principal(r), sub, fid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	serveDecrypted(w, r, item.Name, rc)
}

// serveDecrypted streams decrypted content named name to the browser (as
// file does).
func serveDecrypted(w http.ResponseWriter, r *http.Request, name string, rc io.Reader) {
	br := bufio.NewReaderSize(rc, 512)
	head, _ := br.Peek(512)
	ct, _, _ := strings.Cut(http.DetectContentType(head), ";")
	h := w.Header()
	if name == "" {
		name = "file"
	}
	disp := "attachment"
	if inlineTypes[ct] && r.FormValue("download") == "" {
		disp = "inline"
	} else {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	// Nothing in the file may run or load anything.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; plugin-types application/pdf; sandbox")
	if ct == "application/pdf" {
		// Chromium's PDF viewer does not run in a sandboxed document.
		h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; frame-ancestors 'none'")
	}
	io.Copy(w, br)
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text == "" {
		s.errorPage(w, r, http.StatusBadRequest, "err.empty")
		return
	}
	if _, err := s.Inbox.Reply(r.Context(), principal(r), id, text); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/inbox/"+id.String()+"#thread", http.StatusSeeOther)
}

func (s *Server) setState(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := intake.State(r.PostFormValue("state"))
	if !st.Valid() {
		s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
		return
	}
	if err := s.Inbox.SetState(r.Context(), principal(r), id, st); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/inbox/"+id.String(), http.StatusSeeOther)
}

// Roles are the account roles in the order forms list them.
var Roles = []vigil.Role{vigil.RoleAdmin, vigil.RoleInvestigator, vigil.RoleAnalyst, vigil.RoleIntake}

type accountsData struct {
	Accounts []account.Account
	Roles    []vigil.Role
	Langs    []string
	Created  string // name of an account just created
}

func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.Sessions.Accounts.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "title.accounts", accountsData{Accounts: list, Roles: Roles, Langs: langs})
	switch r.FormValue("done") {
	case "created":
		v.Notice = v.T("accounts.done")
	case "changed":
		v.Notice = v.T("accounts.changed")
	}
	s.render(w, http.StatusOK, "accounts", v)
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := vigil.Role(r.PostFormValue("role"))
	lang := r.PostFormValue("language")
	pass := []byte(r.PostFormValue("passphrase"))
	defer clear(pass)
	if err := account.CheckName(name); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "err.name")
		return
	}
	if err := account.CheckPassphrase(pass, name); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "err.passphrase")
		return
	}
	if _, err := s.Sessions.Accounts.Create(r.Context(), session(r).Account.Actor(), name, role, lang, pass); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/accounts?done=created", http.StatusSeeOther)
}

func (s *Server) setRole(w http.ResponseWriter, r *http.Request) {
	id, err := s.otherAccount(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Sessions.Accounts.SetRole(r.Context(), session(r).Account.Actor(), id, vigil.Role(r.PostFormValue("role"))); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterChange(w, r, id)
}

func (s *Server) disable(w http.ResponseWriter, r *http.Request) {
	id, err := s.otherAccount(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Sessions.Accounts.Disable(r.Context(), session(r).Account.Actor(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterChange(w, r, id)
}

// otherAccount returns the account ID of the path, refusing the admin's
// own: an admin cannot demote or disable themselves (the last admin would
// lock everyone out); another admin, or the command line, can.
func (s *Server) otherAccount(r *http.Request) (vigil.ID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return id, err
	}
	if id == session(r).Account.ID {
		return id, vigil.ErrForbidden
	}
	return id, nil
}

// afterChange goes back to the account list.
func (s *Server) afterChange(w http.ResponseWriter, r *http.Request, _ vigil.ID) {
	http.Redirect(w, r, "/accounts?done=changed", http.StatusSeeOther)
}

type tokensData struct {
	Tokens []auth.Token
	Roles  []vigil.Role
	Secret string // a token just made, shown once
	Name   string
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) {
	s.showTokens(w, r, tokensData{})
}

func (s *Server) showTokens(w http.ResponseWriter, r *http.Request, d tokensData) {
	if s.Tokens == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	list, err := s.Tokens.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Tokens, d.Roles = list, Roles
	v := s.newView(r, "title.tokens", d)
	if r.FormValue("done") == "revoked" {
		v.Notice = v.T("tokens.revoked")
	}
	s.render(w, http.StatusOK, "tokens", v)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	if s.Tokens == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	secret, _, err := s.Tokens.Create(r.Context(), session(r).Account.Actor(), name, vigil.Role(r.PostFormValue("role")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The secret is shown in this answer only (no-store), never put in a
	// URL or kept.
	s.showTokens(w, r, tokensData{Secret: secret, Name: name})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if s.Tokens == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Tokens.Revoke(r.Context(), session(r).Account.Actor(), id)
	}
	if err != nil && !errors.Is(err, vigil.ErrConflict) {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/tokens?done=revoked", http.StatusSeeOther)
}
