package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
)

const sessionCookie = "vigil_followup"

// A session is a source who proved a receipt. It lives in memory only and
// holds their derived identity; it is dropped on leave or when idle.
type session struct {
	src  *intake.Source
	csrf string
	seen time.Time
}

// sessions are the live follow-up sessions, at most one per submission (a
// new login replaces the old), so one receipt cannot fill the table. When the
// table is full the least recently used session goes. Safe for concurrent use.
type sessions struct {
	mu    sync.Mutex
	m     map[string]*session
	bySub map[vigil.ID]string
	idle  time.Duration
	now   func() time.Time
	max   int
}

func newSessions(idle time.Duration, now func() time.Time) *sessions {
	return &sessions{m: make(map[string]*session), bySub: make(map[vigil.ID]string), idle: idle, now: now, max: 10000}
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for src, ending any other session of the same
// submission, and returns its ID.
func (s *sessions) create(src *intake.Source) (string, *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if old, ok := s.bySub[src.Submission]; ok {
		s.remove(old)
	}
	if len(s.m) >= s.max {
		s.sweep(now)
	}
	for len(s.m) >= s.max {
		oldest, at := "", now
		for id, ss := range s.m {
			if !ss.seen.After(at) {
				oldest, at = id, ss.seen
			}
		}
		s.remove(oldest)
	}
	id := randomToken()
	ss := &session{src: src, csrf: randomToken(), seen: now}
	s.m[id] = ss
	s.bySub[src.Submission] = id
	return id, ss
}

// remove drops a session. s.mu is held.
func (s *sessions) remove(id string) {
	if ss, ok := s.m[id]; ok {
		delete(s.bySub, ss.src.Submission)
		delete(s.m, id)
	}
}

// sweep drops idle sessions. s.mu is held.
func (s *sessions) sweep(now time.Time) {
	for id, ss := range s.m {
		if now.Sub(ss.seen) > s.idle {
			s.remove(id)
		}
	}
}

// get returns the live session of r's cookie and marks it used; expired
// reports that the cookie named a session that has since ended.
func (s *sessions) get(r *http.Request) (id string, ss *session, expired bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ss = s.m[c.Value]
	if ss == nil {
		return "", nil, true
	}
	if now.Sub(ss.seen) > s.idle {
		s.remove(c.Value)
		return "", nil, true
	}
	ss.seen = now
	return c.Value, ss, false
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	s.remove(id)
	s.mu.Unlock()
}

// setCookie sets (or, with maxAge < 0, clears) the session cookie. The
// cookie itself has no lifetime (maxAge 0 means a browser-session cookie, gone
// when the browser closes, so nothing lingers on a phone that is later
// searched); the server expires the session after SessionIdle.
func (p *public) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/followup", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

func (p *public) followupForm(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(p.lang(r, ""), "/followup", "followup.title")
	switch r.URL.Query().Get("m") {
	case "left":
		pg.Message = "followup.left"
	case "expired":
		pg.Message = "followup.expired"
	}
	p.render(w, http.StatusOK, "followup", pg)
}

// followupLogin opens a receipt. Every failure gets the same 403 page.
// Failures are rate-limited per client and overall: over the limit a wrong
// receipt gets 429 and a wait. A right receipt always gets in, so that behind
// an onion service, where every source shares one address, nobody can lock
// the others out; receipts have 93 bits, so the limit protects the CPU, not
// the receipts, and receipt checks run at most a few at a time.
func (p *public) followupLogin(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(r, "")
	if crossSite(r) {
		p.fail(w, http.StatusForbidden, lang, "/followup", "error.csrf")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, http.StatusBadRequest, lang, "/followup", "error.bad_form")
		return
	}
	lang = p.lang(r, r.PostFormValue("lang"))
	select {
	case p.checks <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	src, err := p.in.OpenReceipt(r.Context(), r.PostFormValue("receipt"))
	<-p.checks
	if errors.Is(err, intake.ErrBadReceipt) {
		client := p.clientKey(r)
		if ok, wait := p.perHost.Take(client); !ok {
			p.tooMany(w, lang, wait)
			return
		}
		if ok, wait := p.global.Take(""); !ok {
			p.perHost.Give(client)
			p.tooMany(w, lang, wait)
			return
		}
		pg := p.newPage(lang, "/followup", "followup.title")
		pg.Message = "followup.bad"
		p.render(w, http.StatusForbidden, "followup", pg)
		return
	}
	if err != nil {
		p.fail(w, http.StatusInternalServerError, lang, "/followup", "error.internal")
		return
	}
	id, _ := p.sessions.create(src)
	p.setCookie(w, r, id, 0)
	http.Redirect(w, r, "/followup/thread?lang="+lang, http.StatusSeeOther)
}

// crossSite reports a request a browser marks as sent from another site: a
// page elsewhere posting its own receipt to swap the source's session.
// Browsers that send no Sec-Fetch-Site are let through (SameSite=Strict and
// the CSRF token still protect the session's own forms).
func crossSite(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "cross-site"
}

func (p *public) tooMany(w http.ResponseWriter, lang string, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfter(wait))
	pg := p.newPage(lang, "/followup", "limit.title")
	pg.Message, pg.MessageArgs, pg.Back = "limit.text", []any{retryMinutes(wait)}, "/followup"
	p.render(w, http.StatusTooManyRequests, "error", pg)
}

// session returns the request's session, or answers with a redirect to the
// receipt form.
func (p *public) session(w http.ResponseWriter, r *http.Request, lang string) (string, *session) {
	id, ss, expired := p.sessions.get(r)
	if ss == nil {
		to := "/followup?lang=" + lang
		if expired {
			p.setCookie(w, r, "", -1)
			to += "&m=expired"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return "", nil
	}
	return id, ss
}

func (p *public) thread(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(r, "")
	id, ss := p.session(w, r, lang)
	if ss == nil {
		return
	}
	v, err := p.in.SourceView(r.Context(), ss.src)
	if err != nil {
		p.fail(w, http.StatusInternalServerError, lang, "/followup", "error.internal")
		return
	}
	// Refresh the cookie so an active source is not cut off mid-answer.
	p.setCookie(w, r, id, 0)
	pg := p.newPage(lang, "/followup/thread", "thread.title")
	pg.View, pg.CSRF, pg.Sent = &v, ss.csrf, r.URL.Query().Get("sent") == "1"
	p.render(w, http.StatusOK, "thread", pg)
}

// reply adds the source's message: the same streaming and caps as /submit,
// and the session's CSRF token before any file.
func (p *public) reply(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := p.lang(r, "")
	_, ss := p.session(w, r, lang)
	if ss == nil {
		return
	}
	const back = "/followup/thread"
	if !p.capBody(w, r, lang, back) {
		return
	}
	c := p.in.Config.WithDefaults()
	u, err := p.readUpload(r, uploadSpec{fields: map[string]int{"text": c.MaxText, "lang": 16, "csrf": 64}, csrf: ss.csrf})
	if err != nil {
		p.failUpload(w, r, lang, back, err)
		return
	}
	if l := u.fields["lang"]; l != "" {
		lang = p.lang(r, l)
	}
	text := u.fields["text"]
	if strings.TrimSpace(text) == "" && len(u.files) == 0 {
		p.failUpload(w, r, lang, back, &uploadError{http.StatusBadRequest, "error.empty_reply"})
		return
	}
	if _, err := p.in.SourceReply(ctx, ss.src, text, u.files); err != nil { // discards the files on error
		p.failUpload(w, r, lang, back, intakeError(err))
		return
	}
	http.Redirect(w, r, "/followup/thread?lang="+lang+"&sent=1", http.StatusSeeOther)
}

// logout drops the session (CSRF-checked, so no other site can sign a
// source out) and clears the cookie.
func (p *public) logout(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(r, "")
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	id, ss, _ := p.sessions.get(r)
	if ss != nil {
		if err := r.ParseForm(); err != nil || !tokenEqual(r.PostFormValue("csrf"), ss.csrf) {
			p.fail(w, http.StatusForbidden, lang, "/followup/thread", "error.csrf")
			return
		}
		p.sessions.drop(id)
	}
	p.setCookie(w, r, "", -1)
	http.Redirect(w, r, "/followup?lang="+lang+"&m=left", http.StatusSeeOther)
}

func tokenEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
