package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/store"
)

// sharedSessions keeps follow-up sessions in a database several servers
// share ([store.SessionStore]), so that a cookie made on one server works on
// every other (docs/scale.md, "Several servers").
//
// The cookie's value is 32 random bytes c. The row is named
// HMAC-SHA256(c, "…id…") and holds the session (last use, CSRF token and
// the source's key material, [intake.Source.AppendExport]) sealed with
// XChaCha20-Poly1305 under HMAC-SHA256(c, "…key…"), the row's name as
// additional data. The database never sees c, so a reader of it (a dump, an
// administrator, a seizure) cannot open a session, nor can the servers
// themselves without the source's cookie.
//
// Every request reads the row, opens it and reseals it with the new last
// use; the source's key lives in memory only during the request (release
// wipes it), so a row deleted or expired ends the session on every server
// at its next request. The exact last use is inside the seal; the row's
// plaintext expiry is rounded up to the intake precision grid, so rows date
// a source's visit no more finely than records do. One session per
// submission: a row's slot is an HMAC of the window (the precision, or the
// idle time if longer) under the source's own key material, so a new login
// replaces the row of the same or the previous window, the only ones a
// live session can hold, and rows of different windows are unlinkable
// without the receipt.
type sharedSessions struct {
	st        store.SessionStore
	idle      time.Duration
	precision time.Duration
	now       func() time.Time
	stopping  func() bool // nil: never

	mu    sync.Mutex
	live  map[*session]struct{} // sessions requests are using, wiped on seal
	swept time.Time
}

func newSharedSessions(st store.SessionStore, idle, precision time.Duration, now func() time.Time, stopping func() bool) *sharedSessions {
	if precision <= 0 {
		precision = time.Hour
	}
	return &sharedSessions{st: st, idle: idle, precision: precision, now: now, stopping: stopping, live: make(map[*session]struct{})}
}

// sessionTimeout bounds each database call that no request's context
// bounds (the seal's).
const sessionTimeout = 10 * time.Second

func derive(c []byte, label string) []byte {
	m := hmac.New(sha256.New, c)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// window is the slot window of t.
func (s *sharedSessions) window(t time.Time) int64 {
	return t.Unix() / max(int64(max(s.precision, s.idle)/time.Second), 1)
}

// slot is the row's slot for exp (a source's export) in window w.
func slot(exp []byte, w int64) []byte {
	m := hmac.New(sha256.New, exp)
	m.Write([]byte("vigil followup slot v1"))
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(w)))
	return m.Sum(nil)
}

// expires is when a row last used at t may be deleted: past its idle
// expiry, on the precision grid.
func (s *sharedSessions) expires(t time.Time) time.Time {
	return t.Add(s.idle).Truncate(s.precision).Add(s.precision).UTC()
}

// seal returns the row of session ss of export exp for cookie secret c,
// last used at now.
func (s *sharedSessions) seal(c []byte, csrf string, exp []byte, now time.Time) (store.Session, error) {
	id := derive(c, "vigil followup session id v1")
	key := derive(c, "vigil followup session key v1")
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return store.Session{}, err
	}
	pt := binary.BigEndian.AppendUint64(make([]byte, 0, 9+len(csrf)+len(exp)), uint64(now.UnixNano()))
	pt = append(pt, byte(len(csrf)))
	pt = append(pt, csrf...)
	pt = append(pt, exp...)
	defer clear(pt)
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(pt)+aead.Overhead())
	rand.Read(nonce)
	return store.Session{ID: id, Slot: slot(exp, s.window(now)), Sealed: aead.Seal(nonce, nonce, pt, id), Expires: s.expires(now)}, nil
}

// open opens row's session with cookie secret c; it returns the export,
// which the caller wipes. ok is false for a row c does not open.
func open(c []byte, row store.Session) (seen time.Time, csrf string, exp []byte, ok bool) {
	key := derive(c, "vigil followup session key v1")
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil || len(row.Sealed) < aead.NonceSize() {
		return time.Time{}, "", nil, false
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, row.Sealed[:n], row.Sealed[n:], row.ID)
	if err != nil || len(pt) < 9 || len(pt) < 9+int(pt[8]) {
		clear(pt)
		return time.Time{}, "", nil, false
	}
	seen = time.Unix(0, int64(binary.BigEndian.Uint64(pt)))
	csrf = string(pt[9 : 9+int(pt[8])])
	return seen, csrf, pt[9+int(pt[8]):], true
}

// sweep deletes expired rows, at most once a minute per server.
func (s *sharedSessions) sweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.swept) >= time.Minute || now.Before(s.swept)
	if due {
		s.swept = now
	}
	s.mu.Unlock()
	if due {
		s.st.DeleteSessions(ctx, now) // best effort: an expired row opens no session anyway
	}
}

func (s *sharedSessions) create(ctx context.Context, src *intake.Source) (string, error) {
	defer src.Forget()
	now := s.now()
	s.sweep(ctx, now)
	exp, err := src.AppendExport(nil)
	defer clear(exp)
	if err != nil {
		return "", err
	}
	var c [32]byte
	rand.Read(c[:])
	defer clear(c[:])
	row, err := s.seal(c[:], randomToken(), exp, now)
	if err != nil {
		return "", err
	}
	// The same submission's session of the previous window goes too.
	if err := s.st.PutSession(ctx, row, slot(exp, s.window(now)-1)); err != nil {
		return "", fmt.Errorf("store follow-up session: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(c[:]), nil
}

func (s *sharedSessions) get(r *http.Request) (string, *session, bool, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil, false, nil
	}
	ctx := r.Context()
	c, err := base64.RawURLEncoding.DecodeString(ck.Value)
	defer clear(c)
	if err != nil || len(c) != 32 {
		return "", nil, true, nil
	}
	now := s.now()
	s.sweep(ctx, now)
	id := derive(c, "vigil followup session id v1")
	row, err := s.st.Session(ctx, id)
	if errors.Is(err, vigil.ErrNotFound) {
		return "", nil, true, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	seen, csrf, exp, ok := open(c, row)
	defer clear(exp)
	if !ok {
		return "", nil, true, nil
	}
	if now.Sub(seen) > s.idle {
		if err := s.st.DeleteSession(ctx, id); err != nil {
			return "", nil, false, err
		}
		return "", nil, true, nil
	}
	src, err := intake.ImportSource(exp)
	if err != nil {
		return "", nil, false, err
	}
	nrow, err := s.seal(c, csrf, exp, now)
	if err == nil {
		err = s.st.TouchSession(ctx, nrow)
	}
	if errors.Is(err, vigil.ErrNotFound) || errors.Is(err, vigil.ErrConflict) {
		// Deleted meanwhile, or a newer login of the same submission holds
		// the slot: this session has ended.
		src.Forget()
		if errors.Is(err, vigil.ErrConflict) {
			s.st.DeleteSession(ctx, id)
		}
		return "", nil, true, nil
	}
	if err != nil {
		src.Forget()
		return "", nil, false, err
	}
	ss := &session{src: src, csrf: csrf, seen: now}
	s.mu.Lock()
	s.live[ss] = struct{}{}
	s.mu.Unlock()
	return ck.Value, ss, false, nil
}

func (s *sharedSessions) release(ss *session) {
	s.mu.Lock()
	delete(s.live, ss)
	s.mu.Unlock()
	ss.src.Forget()
}

func (s *sharedSessions) drop(ctx context.Context, value string) error {
	c, err := base64.RawURLEncoding.DecodeString(value)
	defer clear(c)
	if err != nil {
		return nil
	}
	return s.st.DeleteSession(ctx, derive(c, "vigil followup session id v1"))
}

// forgetAll deletes every row (every server's sessions: the other servers
// seal too, and their sessions' next request finds no row), unless this
// server is only stopping, and wipes the keys of the sessions requests on
// this server are using.
func (s *sharedSessions) forgetAll() {
	if s.stopping == nil || !s.stopping() {
		ctx, cancel := context.WithTimeout(context.Background(), sessionTimeout)
		s.st.DeleteSessions(ctx, time.Time{})
		cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ss := range s.live {
		ss.src.Forget()
		delete(s.live, ss)
	}
}
