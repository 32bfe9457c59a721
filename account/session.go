package account

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/vigil-hr/vigil"
)

// Cookie names. The __Host- prefix makes the browser refuse the cookie
// unless it is Secure, has Path=/ and no Domain, so a sibling subdomain or
// a plain-http page cannot plant or shadow it. InsecureCookieName is used
// only with [Sessions.Insecure].
const (
	CookieName         = "__Host-vigil"
	InsecureCookieName = "vigil"
)

// CSRFHeader and CSRFField carry the CSRF token of a state-changing
// request: the header for scripts, the form field for plain
// application/x-www-form-urlencoded forms.
const (
	CSRFHeader = "X-Vigil-CSRF"
	CSRFField  = "csrf"
)

// Session lifetimes: defaults of the Sessions fields.
const (
	DefaultIdle     = 30 * time.Minute
	DefaultAbsolute = 12 * time.Hour
	DefaultFresh    = 5 * time.Minute
	DefaultPending  = 5 * time.Minute
)

// maxSessions bounds the sessions kept in memory, pending logins included.
const maxSessions = 100_000

// Errors of the session layer besides [ErrLogin] and [ThrottledError].
var (
	// ErrNoSession: no valid session (missing, unknown, expired or logged
	// out). Handlers answer 401 or redirect to the sign-in page.
	ErrNoSession = errors.New("not signed in")
	// ErrStep: the request does not fit the session's login step (e.g. a
	// TOTP code without a passphrase first).
	ErrStep = errors.New("sign-in step out of order")
)

type state int

const (
	statePending state = iota + 1 // passphrase step done (or doomed): second factor next
	stateEnrol                    // right passphrase, no second factor yet: enrol one
	stateFull                     // signed in
)

// session is one browser's state. It is kept under the SHA-256 of its ID;
// the ID itself is only in the cookie.
type session struct {
	state   state
	account Account
	// verified is the checked account of a pending or enrolling login, or
	// of a recent re-authentication; nil for a doomed login (wrong name or
	// passphrase), which then fails at the second factor like a wrong code.
	verified *Verified
	nameKey  []byte // back-off key of the login
	created  time.Time
	last     time.Time
	fresh    time.Time // when the passphrase or second factor was last given
	// loginCeremony and regCeremony are the passkey login and registration
	// in progress (single use).
	loginCeremony, regCeremony *webauthn.SessionData
	totp                       []byte // TOTP secret being enrolled
}

func (s *session) wipe() {
	if s.verified != nil {
		s.verified.Wipe()
		s.verified = nil
	}
	wipe(s.totp)
	s.totp = nil
}

// Sessions keeps the staff listener's sessions in memory and runs the
// sign-in steps. Sessions do not survive a restart, and [Sessions.DropAll]
// (register it with vault.OnSeal) ends them all on seal. Its methods are
// safe for concurrent use.
type Sessions struct {
	Accounts *Accounts
	// WebAuthn is the relying party for passkeys (RP ID = the staff host,
	// origins = the staff origin); nil turns passkeys off.
	WebAuthn *webauthn.WebAuthn
	// Backoff slows guessing; nil means a Backoff with defaults and Now.
	Backoff *Backoff
	// TOTP guards codes against replay.
	TOTP TOTPGuard
	// Origins are the origins state-changing requests may come from, e.g.
	// "http://127.0.0.1:8081" or "https://staff.example.org"; empty means
	// the request's own scheme-less host must match the Origin's host.
	Origins []string
	// Insecure drops the Secure attribute and the __Host- prefix, for a
	// browser that keeps no Secure cookie from a plain-http origin. Chromium
	// and Firefox keep them for http://localhost and http://127.0.0.1, and
	// Tor Browser for .onion, so it is rarely needed (docs/accounts.md).
	Insecure bool
	// Idle, Absolute, Fresh and Pending are the idle and absolute lifetime
	// of a session, how long a re-authentication counts as fresh, and how
	// long a half-done login waits for its second factor. Zero means the
	// Default constants.
	Idle, Absolute, Fresh, Pending time.Duration
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time

	mu       sync.Mutex
	sessions map[[32]byte]*session
	once     sync.Once
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sessions) backoff() *Backoff {
	s.once.Do(func() {
		if s.Backoff == nil {
			s.Backoff = &Backoff{Now: s.Now}
		}
	})
	return s.Backoff
}

func (s *Sessions) cookieName() string {
	if s.Insecure {
		return InsecureCookieName
	}
	return CookieName
}

// parseSessionID decodes a cookie value: 43 base64url characters, 32 bytes.
func parseSessionID(v string) ([]byte, bool) {
	if len(v) != 43 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil || len(b) != 32 {
		return nil, false
	}
	return b, true
}

// cookieID returns the raw session ID from r's cookie.
func (s *Sessions) cookieID(r *http.Request) ([]byte, bool) {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return nil, false
	}
	return parseSessionID(c.Value)
}

func (s *Sessions) setCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: value, Path: "/", MaxAge: maxAge,
		Secure: !s.Insecure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// lookup returns the live session of raw ID id, dropping it if expired.
// It touches the idle timer when touch is set. s.mu must be held.
func (s *Sessions) lookup(id []byte, touch bool) *session {
	h := sha256.Sum256(id)
	ss := s.sessions[h]
	if ss == nil {
		return nil
	}
	now := s.now()
	life := orDur(s.Absolute, DefaultAbsolute)
	idle := orDur(s.Idle, DefaultIdle)
	if ss.state != stateFull {
		life = orDur(s.Pending, DefaultPending)
		idle = life
	}
	if now.Sub(ss.created) >= life || now.Sub(ss.last) >= idle {
		ss.wipe()
		delete(s.sessions, h)
		return nil
	}
	if touch {
		ss.last = now
	}
	// A recent re-authentication's key is forgotten once it is stale.
	if ss.state == stateFull && ss.verified != nil && now.Sub(ss.fresh) >= orDur(s.Fresh, DefaultFresh) {
		ss.verified.Wipe()
		ss.verified = nil
	}
	return ss
}

// put stores ss under a new random ID, drops the request's old session
// (so no ID known before a login step survives it: session fixation), and
// sets the cookie. s.mu must be held.
func (s *Sessions) put(w http.ResponseWriter, r *http.Request, ss *session) error {
	if old, ok := s.cookieID(r); ok {
		h := sha256.Sum256(old)
		if o := s.sessions[h]; o != nil && o != ss {
			o.wipe()
		}
		delete(s.sessions, h)
	}
	if s.sessions == nil {
		s.sessions = map[[32]byte]*session{}
	}
	if len(s.sessions) >= maxSessions {
		for h := range s.sessions {
			s.expire(h)
		}
		if len(s.sessions) >= maxSessions {
			return vigil.ErrUnavailable
		}
	}
	var id [32]byte
	rand.Read(id[:])
	now := s.now()
	ss.created, ss.last = now, now
	s.sessions[sha256.Sum256(id[:])] = ss
	s.setCookie(w, base64.RawURLEncoding.EncodeToString(id[:]), 0)
	return nil
}

// expire drops the session under hash h if it has expired. s.mu must be
// held.
func (s *Sessions) expire(h [32]byte) {
	ss := s.sessions[h]
	now := s.now()
	life, idle := orDur(s.Absolute, DefaultAbsolute), orDur(s.Idle, DefaultIdle)
	if ss.state != stateFull {
		life = orDur(s.Pending, DefaultPending)
		idle = life
	}
	if now.Sub(ss.created) >= life || now.Sub(ss.last) >= idle {
		ss.wipe()
		delete(s.sessions, h)
	}
}

// A Step is what a sign-in needs next.
type Step int

// Steps of a sign-in.
const (
	// StepSecondFactor: a TOTP code or a passkey. The answer to any name
	// and passphrase, right or wrong.
	StepSecondFactor Step = iota + 1
	// StepEnrol: the passphrase was right and the account has no second
	// factor yet: enrol a passkey or TOTP to finish signing in.
	StepEnrol
)

// LoginPassphrase runs the first sign-in step. Whether the name and
// passphrase are right or not, it starts a pending login under a new
// session ID and returns StepSecondFactor; the second step then fails with
// [ErrLogin] for a wrong name or passphrase, as for a wrong code. Only a
// right passphrase of an account without a second factor yields
// StepEnrol. It returns a [*ThrottledError] while the name (or everyone)
// must wait.
func (s *Sessions) LoginPassphrase(w http.ResponseWriter, r *http.Request, name string, pass []byte) (Step, error) {
	var v *Verified
	var key []byte
	// A name or passphrase no account can have is doomed without any
	// work: refusing it fast says nothing about any account.
	if name != "" && len(name) <= 256 && len(pass) <= MaxPassphrase {
		var err error
		if key, err = s.Accounts.NameKey(name); err != nil {
			return 0, err
		}
		b := s.backoff()
		if d := b.Wait(key); d > 0 {
			return 0, &ThrottledError{Wait: d}
		}
		// Counted now and taken back on success, so a right passphrase
		// whose second step is never tried counts like a wrong one.
		b.Fail(key)
		v, err = s.Accounts.checkKey(r.Context(), key, name, pass)
		if err != nil && !errors.Is(err, ErrLogin) {
			return 0, err
		}
	}
	ss := &session{state: statePending, verified: v, nameKey: key}
	step := StepSecondFactor
	if v != nil {
		ss.account = v.Account
		if !v.Enrolled() {
			ss.state, step = stateEnrol, StepEnrol
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.put(w, r, ss); err != nil {
		ss.wipe()
		return 0, err
	}
	return step, nil
}

// pending returns r's pending (or enrolling, if enrol) login session.
// s.mu must be held.
func (s *Sessions) pending(r *http.Request, enrol bool) (*session, error) {
	id, ok := s.cookieID(r)
	if !ok {
		return nil, ErrNoSession
	}
	ss := s.lookup(id, true)
	if ss == nil {
		return nil, ErrNoSession
	}
	if ss.state == statePending || (enrol && ss.state == stateEnrol) {
		return ss, nil
	}
	return nil, ErrStep
}

// fail ends a pending login after a wrong second factor: the next try
// starts again with the passphrase (and the back-off). s.mu must be held.
func (s *Sessions) fail(w http.ResponseWriter, r *http.Request) {
	if id, ok := s.cookieID(r); ok {
		h := sha256.Sum256(id)
		if ss := s.sessions[h]; ss != nil {
			ss.wipe()
		}
		delete(s.sessions, h)
	}
	s.setCookie(w, "", -1)
}

// complete turns a login into a signed-in session under a new ID.
// s.mu must be held.
func (s *Sessions) complete(w http.ResponseWriter, r *http.Request, ss *session) error {
	s.backoff().Succeed(ss.nameKey)
	full := &session{state: stateFull, account: ss.account}
	ss.wipe()
	if err := s.put(w, r, full); err != nil {
		return err
	}
	full.fresh = full.created
	return nil
}

// LoginTOTP finishes a pending login with a TOTP code. A wrong code, a
// replayed one, an account without TOTP and a wrong passphrase in the first
// step all return [ErrLogin] and end the pending login.
func (s *Sessions) LoginTOTP(w http.ResponseWriter, r *http.Request, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.pending(r, false)
	if err != nil {
		return err
	}
	var secret []byte
	var id vigil.ID
	if ss.verified != nil {
		secret, id = ss.verified.sec.TOTP, ss.account.ID
	}
	if ss.verified == nil || !s.TOTP.Verify(id, secret, code, s.now()) {
		s.fail(w, r)
		return ErrLogin
	}
	return s.complete(w, r, ss)
}

// Logout ends r's session, whatever its state, and clears the cookie.
func (s *Sessions) Logout(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail(w, r)
}

// LogoutAccount ends every session of account id (logout everywhere; also
// after a role change or disabling).
func (s *Sessions) LogoutAccount(id vigil.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, ss := range s.sessions {
		if ss.account.ID == id {
			ss.wipe()
			delete(s.sessions, h)
		}
	}
}

// DropAll ends every session and pending login. Register it with
// vault.OnSeal: sealing signs everyone out.
func (s *Sessions) DropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, ss := range s.sessions {
		ss.wipe()
		delete(s.sessions, h)
	}
}

// Len returns the number of sessions kept, pending logins included.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Reauthenticate checks the passphrase of r's signed-in account again and
// marks the session fresh for sensitive actions ([Sessions.RequireFresh]);
// while fresh, the session may also change its second factors and
// passphrase. A wrong passphrase returns [ErrLogin] and counts toward the
// back-off.
func (s *Sessions) Reauthenticate(w http.ResponseWriter, r *http.Request, pass []byte) error {
	s.mu.Lock()
	id, ok := s.cookieID(r)
	var ss *session
	if ok {
		ss = s.lookup(id, true)
	}
	if ss == nil || ss.state != stateFull {
		s.mu.Unlock()
		return ErrNoSession
	}
	a := ss.account
	s.mu.Unlock()

	key, err := s.Accounts.NameKey(a.Name)
	if err != nil {
		return err
	}
	b := s.backoff()
	if d := b.Wait(key); d > 0 {
		return &ThrottledError{Wait: d}
	}
	b.Fail(key)
	v, err := s.Accounts.checkKey(r.Context(), key, a.Name, pass)
	if err != nil {
		return err
	}
	if v.Account.ID != a.ID {
		v.Wipe()
		return ErrLogin
	}
	b.Succeed(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	ss = s.lookup(id, true)
	if ss == nil {
		v.Wipe()
		return ErrNoSession
	}
	if ss.verified != nil {
		ss.verified.Wipe()
	}
	ss.verified = v
	ss.fresh = s.now()
	return nil
}

// An Info describes a session for the UI.
type Info struct {
	Account Account
	// Sealed: signed in while the vault was sealed; the session may only
	// unseal (its principal has no role).
	Sealed bool
	// Fresh: the passphrase or second factor was given within Fresh.
	Fresh bool
	// CSRF is the token to put in forms (field [CSRFField]) and scripts'
	// requests (header [CSRFHeader]).
	CSRF string
}

type ctxKey struct{}

// FromContext returns the session that RequireSession or RequireSignedIn
// put in ctx.
func FromContext(ctx context.Context) (Info, bool) {
	i, ok := ctx.Value(ctxKey{}).(Info)
	return i, ok
}

// Principal returns the principal of the session in ctx: Actor
// "account:ID/NAME", Account the name, Role the role (empty for a session
// signed in while sealed).
func Principal(ctx context.Context) (vigil.Principal, bool) {
	i, ok := FromContext(ctx)
	if !ok {
		return vigil.Principal{}, false
	}
	return i.Account.Principal(), true
}

// csrfToken derives a session's CSRF token from its raw ID: the server
// keeps only the ID's hash, so the token is computed from the cookie on
// each request.
func csrfToken(id []byte) string {
	m := hmac.New(sha256.New, id)
	m.Write([]byte("vigil csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRFToken reports whether tok is the CSRF token of session ID id, in
// constant time.
func checkCSRFToken(id []byte, tok string) bool {
	want := csrfToken(id)
	return len(tok) == len(want) && subtle.ConstantTimeCompare([]byte(want), []byte(tok)) == 1
}

// info returns r's signed-in session, touching it.
func (s *Sessions) info(r *http.Request) (Info, []byte, bool) {
	id, ok := s.cookieID(r)
	if !ok {
		return Info{}, nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.lookup(id, true)
	if ss == nil || ss.state != stateFull {
		return Info{}, nil, false
	}
	return Info{
		Account: ss.account,
		Sealed:  ss.account.Sealed,
		Fresh:   s.now().Sub(ss.fresh) < orDur(s.Fresh, DefaultFresh),
		CSRF:    csrfToken(id),
	}, id, true
}

// Session returns r's signed-in session, if any, without requiring one.
func (s *Sessions) Session(r *http.Request) (Info, bool) {
	i, _, ok := s.info(r)
	return i, ok
}

// RequireSession lets a request through only with a signed-in session
// whose role is one of roles (any role if none are given); a session
// signed in while sealed has no role and is refused. It puts the session in
// the request's context ([FromContext], [Principal]). It answers 401
// without a session and 403 for a wrong role.
func (s *Sessions) RequireSession(roles ...Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			i, _, ok := s.info(r)
			if !ok {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			if !i.Account.Role.Valid() || (len(roles) > 0 && !slices.Contains(roles, i.Account.Role)) {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, i)))
		})
	}
}

// RequireSignedIn lets through any signed-in session, one signed in while
// sealed included: for the unseal page and logout.
func (s *Sessions) RequireSignedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _, ok := s.info(r)
		if !ok {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, i)))
	})
}

// safe reports whether method changes nothing (RFC 9110 section 9.2.1).
func safe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// sameOrigin checks a state-changing request's Origin (or, without one,
// Sec-Fetch-Site): a browser sends them on every cross-site POST, so a page
// elsewhere cannot make one look same-origin.
func (s *Sessions) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		if len(s.Origins) > 0 {
			for _, a := range s.Origins {
				if strings.EqualFold(o, a) {
					return true
				}
			}
			return false
		}
		u, err := url.Parse(o)
		return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin":
		return true // no header: not a browser that could be tricked, or a very old one; the token still decides
	}
	return false
}

// RequireOrigin refuses a state-changing request from another origin (403):
// for the sign-in forms, which have no session and so no token yet.
func (s *Sessions) RequireOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !safe(r.Method) && !s.sameOrigin(r) {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxForm bounds a urlencoded form read for its CSRF field.
const maxForm = 1 << 20

// RequireCSRF refuses (403) a state-changing request (anything but GET,
// HEAD, OPTIONS) unless it comes from a signed-in session, from the same
// origin, and carries the session's CSRF token in the [CSRFHeader] header or,
// for an application/x-www-form-urlencoded body, the [CSRFField] field. A
// multipart/form-data body carries the field as its first part
// (multipartCSRF reads only that part, never the form: reading the form
// would spool uploads to disk). The token is compared in constant time.
func (s *Sessions) RequireCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if safe(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		_, id, ok := s.info(r)
		if !ok || !s.sameOrigin(r) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		tok := r.Header.Get(CSRFHeader)
		if tok == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			// Read the form ourselves (PostFormValue skips DELETE bodies) and
			// give the handler the same bytes to read again.
			raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxForm))
			if err != nil {
				http.Error(w, "form too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			if v, err := url.ParseQuery(string(raw)); err == nil {
				tok = v.Get(CSRFField)
			}
		}
		if tok == "" {
			tok = multipartCSRF(r)
		}
		if !checkCSRFToken(id, tok) {
			http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireFresh refuses (403, with header "Vigil-Reauth: 1" so the UI can
// ask for the passphrase) a request whose session has not re-authenticated
// within Fresh: for exports, key operations and account changes. Wrap it
// inside RequireSession.
func (s *Sessions) RequireFresh(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _, ok := s.info(r)
		if !ok {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if !i.Fresh {
			w.Header().Set("Vigil-Reauth", "1")
			http.Error(w, "enter your passphrase again", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// verified returns the Verified of r's session for changing its second
// factors: an enrolling login, or a signed-in session that re-authenticated
// within Fresh. s.mu must be held.
func (s *Sessions) verifiedSession(r *http.Request) (*session, error) {
	id, ok := s.cookieID(r)
	if !ok {
		return nil, ErrNoSession
	}
	ss := s.lookup(id, true)
	if ss == nil {
		return nil, ErrNoSession
	}
	if ss.verified == nil || (ss.state != stateEnrol && ss.state != stateFull) {
		return nil, ErrStep
	}
	return ss, nil
}

// TOTPEnrolBegin makes a new TOTP secret for r's session (an enrolling
// login, or a fresh signed-in session) and returns it with its otpauth://
// URI; show the URI as [QRSVG] and the secret as [TOTPSecretText].
func (s *Sessions) TOTPEnrolBegin(r *http.Request, issuer string) (secret []byte, uri string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.verifiedSession(r)
	if err != nil {
		return nil, "", err
	}
	wipe(ss.totp)
	ss.totp = NewTOTPSecret()
	return ss.totp, TOTPURI(issuer, ss.account.Name, ss.totp), nil
}

// TOTPEnrolFinish checks a code from the secret of [Sessions.TOTPEnrolBegin]
// and stores the secret. An enrolling login is then signed in (new session
// ID). A wrong code returns [ErrLogin] and keeps the secret for another try.
func (s *Sessions) TOTPEnrolFinish(w http.ResponseWriter, r *http.Request, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.verifiedSession(r)
	if err != nil {
		return err
	}
	if ss.totp == nil {
		return ErrStep
	}
	if !s.TOTP.Verify(ss.account.ID, ss.totp, code, s.now()) {
		return ErrLogin
	}
	if err := s.Accounts.SetTOTP(r.Context(), ss.verified, ss.totp); err != nil {
		return err
	}
	if ss.state == stateEnrol {
		return s.complete(w, r, ss)
	}
	wipe(ss.totp)
	ss.totp = nil
	return nil
}

// Refresh re-reads the account of r's signed-in session from the store, for
// a session signed in while the vault was sealed, once it is unsealed: the
// session gets the account's sealed name and role. A disabled or vanished
// account's sessions end and Refresh returns [ErrNoSession]; a sealed vault
// returns an error wrapping vigil.ErrSealed and changes nothing.
func (s *Sessions) Refresh(ctx context.Context, r *http.Request) (Info, error) {
	i, id, ok := s.info(r)
	if !ok {
		return Info{}, ErrNoSession
	}
	a, err := s.Accounts.Get(ctx, i.Account.ID)
	if errors.Is(err, vigil.ErrNotFound) || (err == nil && !a.Disabled.IsZero()) {
		s.LogoutAccount(i.Account.ID)
		return Info{}, ErrNoSession
	}
	if err != nil {
		return Info{}, err
	}
	s.mu.Lock()
	ss := s.lookup(id, false)
	if ss == nil || ss.state != stateFull {
		s.mu.Unlock()
		return Info{}, ErrNoSession
	}
	ss.account = a
	s.mu.Unlock()
	i, _, ok = s.info(r)
	if !ok {
		return Info{}, ErrNoSession
	}
	return i, nil
}
