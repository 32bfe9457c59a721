package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
)

const sessionCookie = "vigil_followup"

// A session is a source who proved a receipt. It holds their derived
// identity; it is dropped, and the identity wiped
// ([intake.Source.Forget]), on leave, when idle, when evicted or replaced,
// and when the vault is sealed.
type session struct {
	src  *intake.Source
	csrf string
	seen time.Time
}

// sessionStore is where follow-up sessions live: this process's memory
// (sessions), or a database several servers share (sharedSessions,
// sharedsessions.go), which NewPublic picks when the intake store offers
// one.
type sessionStore interface {
	// create starts a session for src, ending any other session of the
	// same submission, and returns its cookie value. It owns src.
	create(ctx context.Context, src *intake.Source) (string, error)
	// get returns the live session of r's cookie and marks it used;
	// expired reports that the cookie named a session that has since
	// ended. Call release when done with ss.
	get(r *http.Request) (id string, ss *session, expired bool, err error)
	// release tells that a request is done with a session get returned.
	release(ss *session)
	// drop ends the session of cookie value id.
	drop(ctx context.Context, id string) error
	// forgetAll ends every session and wipes their keys: the vault was
	// sealed.
	forgetAll()
}

// sessions are the live follow-up sessions kept in this process's memory, at most one per submission (a
// new login replaces the old), so one receipt cannot fill the table. When the
// table is full the least recently used session goes. Safe for concurrent use.
type sessions struct {
	mu    sync.Mutex
	m     map[string]*session
	bySub map[vigil.ID]string
	idle  time.Duration
	now   func() time.Time
	max   int
	timer *time.Timer // sweeps expired sessions while there are any
}

func newSessions(idle time.Duration, now func() time.Time) *sessions {
	return &sessions{m: make(map[string]*session), bySub: make(map[vigil.ID]string), idle: idle, now: now, max: 10000}
}

// expire sweeps idle sessions, so that an expired session's key does not
// wait in memory for its cookie to come back, and re-arms while sessions
// remain. It runs on a timer, at most one at a time.
func (s *sessions) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(s.now())
	s.timer = nil
	s.arm()
}

// arm starts the sweep timer if sessions remain and none is armed. s.mu is
// held.
func (s *sessions) arm() {
	if s.timer == nil && len(s.m) > 0 {
		s.timer = time.AfterFunc(s.idle/4+time.Second, s.expire)
	}
}

// forgetAll drops every session and wipes their keys: the vault was sealed.
func (s *sessions) forgetAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.m {
		s.remove(id)
	}
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *sessions) create(_ context.Context, src *intake.Source) (string, error) {
	id, _ := s.add(src)
	return id, nil
}

// add starts a session for src, ending any other session of the same
// submission, and returns its ID.
func (s *sessions) add(src *intake.Source) (string, *session) {
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
	s.arm()
	return id, ss
}

// remove drops a session and wipes its key. s.mu is held. A request still
// using the session then fails to read the thread (500) rather than reading
// it with a key that should be gone.
func (s *sessions) remove(id string) {
	if ss, ok := s.m[id]; ok {
		delete(s.bySub, ss.src.Submission)
		delete(s.m, id)
		ss.src.Forget()
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

func (s *sessions) get(r *http.Request) (id string, ss *session, expired bool, err error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil, false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ss = s.m[c.Value]
	if ss == nil {
		return "", nil, true, nil
	}
	if now.Sub(ss.seen) > s.idle {
		s.remove(c.Value)
		return "", nil, true, nil
	}
	ss.seen = now
	return c.Value, ss, false, nil
}

func (s *sessions) release(*session) {}

func (s *sessions) drop(_ context.Context, id string) error {
	s.mu.Lock()
	s.remove(id)
	s.mu.Unlock()
	return nil
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
		pg.Message, pg.Notice = "followup.left", true
	case "expired":
		pg.Message, pg.Notice = "followup.expired", true
	}
	p.render(w, http.StatusOK, "followup", pg)
}

// followupLogin opens a receipt. Every failure gets the same 403 page.
// Failures are rate-limited per client and overall, and the limit is checked
// before any work: a client whose failure budget (or the global one) is
// spent gets 429 and a wait without its receipt being parsed or derived,
// even a right receipt; a failure then takes a token. Receipts have 93 bits,
// so the limit protects the CPU, not the receipts, and receipt checks run at
// most a few at a time. The receipt is read from the body into a buffer of
// our own, without making a string of it, and the buffer is wiped.
func (p *public) followupLogin(w http.ResponseWriter, r *http.Request) {
	// Whatever the answer (a refusal before any receipt work included), it
	// is written past net/http's connection buffers, and the buffer that
	// read the form, receipt and all, is wiped (see writeUnbuffered): the
	// connection's read buffer may hold the body even when the handler
	// never reads it.
	cw := &captured{h: w.Header()}
	defer cw.send(w)
	w = cw
	lang := p.lang(r, "")
	if crossSite(r) {
		p.fail(w, http.StatusForbidden, lang, "/followup", "error.csrf")
		return
	}
	buf := make([]byte, loginBodyMax+1)
	defer clear(buf)
	form, ok := readSmallForm(w, r, buf, "receipt", "lang")
	if !ok {
		p.fail(w, http.StatusBadRequest, lang, "/followup", "error.bad_form")
		return
	}
	lang = p.lang(r, string(form["lang"]))
	// The limit comes before any receipt work (reading 4 KiB is not).
	ctx := r.Context()
	client := p.clientKey(r)
	if ok, wait, err := p.perHost.Peek(ctx, client); err != nil || !ok {
		p.refuse(w, lang, wait, err)
		return
	}
	if ok, wait, err := p.global.Peek(ctx, ""); err != nil || !ok {
		p.refuse(w, lang, wait, err)
		return
	}
	select {
	case p.checks <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	src, err := p.in.OpenReceipt(ctx, form["receipt"])
	<-p.checks
	clear(buf)
	if errors.Is(err, intake.ErrBadReceipt) {
		if ok, wait, err := p.perHost.Take(ctx, client); err != nil || !ok {
			p.refuse(w, lang, wait, err)
			return
		}
		if ok, wait, err := p.global.Take(ctx, ""); err != nil || !ok {
			p.perHost.Give(ctx, client)
			p.refuse(w, lang, wait, err)
			return
		}
		pg := p.newPage(lang, "/followup", "followup.title")
		pg.Message = "followup.bad"
		p.render(w, http.StatusForbidden, "followup", pg)
		return
	}
	if err != nil {
		p.failErr(w, lang, "/followup", err)
		return
	}
	id, err := p.sessions.create(ctx, src)
	if err != nil {
		p.fail(w, http.StatusServiceUnavailable, lang, "/followup", "error.unavailable")
		return
	}
	p.setCookie(w, r, id, 0)
	http.Redirect(w, r, "/followup/thread?lang="+lang, http.StatusSeeOther)
}

// loginBodyMax bounds the follow-up login form: a receipt and a language.
const loginBodyMax = 4 << 10

// readSmallForm reads an application/x-www-form-urlencoded body of at most
// len(buf)-1 bytes into buf and returns the first value of each wanted
// field, percent-decoded in place: slices of buf, so no string is made of a
// value and clearing buf wipes them all. Unlike r.ParseForm it ignores the
// URL's query. ok is false for another content type, a body too long or a
// bad escape.
func readSmallForm(w http.ResponseWriter, r *http.Request, buf []byte, want ...string) (form map[string][]byte, ok bool) {
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		return nil, false
	}
	body := http.MaxBytesReader(w, r.Body, int64(len(buf)-1))
	n := 0
	for {
		m, err := body.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil || n == len(buf) {
			return nil, false
		}
	}
	form = make(map[string][]byte, len(want))
	for rest := buf[:n]; len(rest) > 0; {
		var pair []byte
		pair, rest, _ = bytes.Cut(rest, []byte("&"))
		k, v, _ := bytes.Cut(pair, []byte("="))
		for _, name := range want {
			if _, seen := form[name]; seen || string(k) != name {
				continue // the first value counts, as in url.Values.Get
			}
			d, ok := unescapeInPlace(v)
			if !ok {
				return nil, false
			}
			form[name] = d
		}
	}
	return form, true
}

// unescapeInPlace decodes a query-escaped value ('+' is a space, %XX a byte)
// into its own bytes and returns the decoded prefix (never nil).
func unescapeInPlace(v []byte) ([]byte, bool) {
	j := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(v) {
				return nil, false
			}
			hi, ok1 := unhex(v[i+1])
			lo, ok2 := unhex(v[i+2])
			if !ok1 || !ok2 {
				return nil, false
			}
			c = hi<<4 | lo
			i += 2
		}
		v[j] = c
		j++
	}
	clear(v[j:])
	return v[:j:j], true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// crossSite reports a request sent from another site: a page elsewhere
// posting its own receipt to swap the source's session. A browser that sends
// fetch metadata says so in Sec-Fetch-Site, which is trusted as it is (so a
// reverse proxy that rewrites Host does not lock such browsers out). One
// that does not still sends Origin on a POST, so then a foreign Origin (its
// host not the request's Host) or "Origin: null" (a sandboxed frame, a
// data: URL, some redirects) is refused. A request with neither header (not
// a browser's form post) is let through; SameSite=Strict and the CSRF token
// still protect the session's own forms.
func crossSite(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "cross-site"
	}
	origin, ok := r.Header["Origin"]
	if !ok {
		return false
	}
	if len(origin) != 1 {
		return true
	}
	u, err := url.Parse(origin[0])
	return err != nil || origin[0] == "null" || u.Host == "" || !strings.EqualFold(u.Host, r.Host)
}

// refuse answers a limit's refusal: 429 with the wait, or 503 if the limit
// could not be checked (a shared limiter's database is unreachable).
func (p *public) refuse(w http.ResponseWriter, lang string, wait time.Duration, err error) {
	if err != nil {
		p.fail(w, http.StatusServiceUnavailable, lang, "/followup", "error.unavailable")
		return
	}
	p.tooMany(w, lang, wait)
}

func (p *public) tooMany(w http.ResponseWriter, lang string, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfter(wait))
	pg := p.newPage(lang, "/followup", "limit.title")
	pg.Message, pg.MessageArgs, pg.Back = "limit.text", []any{retryMinutes(wait)}, "/followup"
	p.render(w, http.StatusTooManyRequests, "error", pg)
}

// session returns the request's session, or answers with a redirect to the
// receipt form (or 503 if the sessions cannot be read). The caller releases
// a session it gets.
func (p *public) session(w http.ResponseWriter, r *http.Request, lang string) (string, *session) {
	id, ss, expired, err := p.sessions.get(r)
	if err != nil {
		p.fail(w, http.StatusServiceUnavailable, lang, "/followup", "error.unavailable")
		return "", nil
	}
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
	defer p.sessions.release(ss)
	v, err := p.in.SourceView(r.Context(), ss.src)
	if err != nil {
		p.failErr(w, lang, "/followup", err)
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
	defer p.sessions.release(ss)
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
	id, ss, _, err := p.sessions.get(r)
	if err != nil {
		p.fail(w, http.StatusServiceUnavailable, lang, "/followup/thread", "error.unavailable")
		return
	}
	if ss != nil {
		defer p.sessions.release(ss)
		if err := r.ParseForm(); err != nil || !tokenEqual(r.PostFormValue("csrf"), ss.csrf) {
			p.fail(w, http.StatusForbidden, lang, "/followup/thread", "error.csrf")
			return
		}
		if err := p.sessions.drop(r.Context(), id); err != nil {
			p.fail(w, http.StatusServiceUnavailable, lang, "/followup/thread", "error.unavailable")
			return
		}
	}
	p.setCookie(w, r, "", -1)
	http.Redirect(w, r, "/followup?lang="+lang+"&m=left", http.StatusSeeOther)
}

func tokenEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
