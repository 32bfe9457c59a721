// Package staffweb is the staff web UI on the staff listener: sign-in with
// a passphrase and a passkey or TOTP code (package account), unseal and
// seal, the vault's status, the inbox of submissions, and the admin's
// accounts and API tokens. Pages are rendered on the server with
// html/template; every asset is embedded; the one script
// (static/webauthn.js) only calls navigator.credentials for passkeys, and
// everything else works without JavaScript. See docs/staff-ui.md.
package staffweb

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/ratelimit"
	"github.com/vigil-hr/vigil/internal/staffhost"
	"github.com/vigil-hr/vigil/internal/unsealguard"
	"github.com/vigil-hr/vigil/search"
)

// A Vault is what the UI needs of the vault. *vault.Vault implements it.
type Vault interface {
	Unseal(passphrase []byte) error
	Seal()
	Sealed() bool
}

// An Inbox is the staff side of intake; *intake.Service implements it.
// Every method needs the vault unsealed and records an audit event naming
// the principal.
type Inbox interface {
	Page(ctx context.Context, p vigil.Principal, q intake.Query) (intake.Page, error)
	Get(ctx context.Context, p vigil.Principal, sub vigil.ID) (intake.View, error)
	Reply(ctx context.Context, p vigil.Principal, sub vigil.ID, text string) (intake.Message, error)
	SetState(ctx context.Context, p vigil.Principal, sub vigil.ID, st intake.State) error
	OpenFile(ctx context.Context, p vigil.Principal, sub, file vigil.ID) (evidence.Item, io.ReadCloser, error)
}

var _ Inbox = (*intake.Service)(nil)

// Tokens makes, lists and revokes API tokens; *auth.Tokens implements it.
type Tokens interface {
	Create(ctx context.Context, actor, name string, role auth.Role) (string, auth.Token, error)
	List(ctx context.Context) ([]auth.Token, error)
	Revoke(ctx context.Context, actor string, id vigil.ID) error
}

var _ Tokens = (*auth.Tokens)(nil)

// Status is what the vault page shows besides the seal.
type Status struct {
	TreeSize int64
	// Checkpoint is the size of the latest signed checkpoint, -1 if none.
	Checkpoint int64
	// WitnessAlarm is set when a witness reported a conflicting checkpoint.
	WitnessAlarm string
	// Witnesses and Quorum describe the witness policy (0 when none).
	Witnesses, Quorum int
}

// Cases is what the UI needs of the case records; *cases.Service
// implements it. Every method checks the principal as package cases says:
// vigil.ErrForbidden for a role that may not, vigil.ErrNotFound for a
// record the principal may not see (a restricted incident of others),
// vigil.ErrSealed while sealed, vigil.ErrInvalid joining *vigil.FieldError
// for a bad write, vigil.ErrConflict for a stale version.
type Cases interface {
	Apply(ctx context.Context, p vigil.Principal, changes []cases.Change) ([]cases.Ref, error)
	Get(ctx context.Context, p vigil.Principal, id vigil.ID) (cases.Record, error)
	List(ctx context.Context, p vigil.Principal, kind string, after vigil.ID, limit int) ([]cases.Record, error)
	Children(ctx context.Context, p vigil.Principal, id vigil.ID) ([]cases.Record, error)
	Versions(ctx context.Context, p vigil.Principal, id vigil.ID) ([]cases.Record, error)
	Acts(ctx context.Context, p vigil.Principal) ([]cases.ActResult, error)
	ActsSince(ctx context.Context, p vigil.Principal, c cases.ActsCursor) (cases.ActChanges, error)
	Visibility(ctx context.Context, p vigil.Principal) (string, error)
	Figures(ctx context.Context, p vigil.Principal, by figures.By) (map[string]figures.Figure, error)
	Search(ctx context.Context, p vigil.Principal, text string, filter search.Filter, offset, limit int) (search.Result, error)
}

var _ Cases = (*cases.Service)(nil)

// Server is the staff UI. Sessions, Vault and Inbox are required; a nil
// Tokens hides the token pages, a nil Cases the case record pages.
type Server struct {
	Sessions *account.Sessions
	Vault    Vault
	Inbox    Inbox
	Tokens   Tokens
	Cases    Cases
	// Evidence is the evidence vault (the /evidence pages); nil hides it.
	Evidence EvidenceVault
	// Bundle writes an evidence bundle of the records ids, as vigil bundle
	// does (datadir.Dir.BundlePublished in vigil serve); nil: no export.
	Bundle func(ctx context.Context, w io.Writer, ids []vigil.ID, withContent bool) error
	// MaxUpload caps an evidence upload in bytes; zero: DefaultMaxUpload.
	MaxUpload int64
	// Status fills the vault page; nil shows only the seal.
	Status func(ctx context.Context) (Status, error)
	// OnUnseal, if set, runs after an unseal from the UI.
	OnUnseal func()
	// Hosts are extra host names the UI answers to besides IP addresses
	// and localhost (against DNS rebinding), as api.Server.Hosts.
	Hosts []string
	// Unsealer paces unseal attempts for all sessions together; vigil
	// serve shares the staff API's. Nil: one of the UI's own over Vault,
	// with UnsealLimit (zero fields: 5 attempts, then one a minute).
	Unsealer    *unsealguard.Guard
	UnsealLimit ratelimit.Config
	// Audit reads the audit trail for the admins' /audit page; nil: the
	// page is not found.
	Audit AuditTrail

	insightState insightState

	once  sync.Once
	pages map[string]*template.Template
	cats  map[string]map[string]string
}

// Access says who may use a route.
type Access int

// Access levels of routes.
const (
	// Public: no session needed (the sign-in pages, static files).
	Public Access = iota + 1
	// Origin: a state-changing sign-in step before there is a session:
	// same-origin only (account.Sessions.RequireOrigin).
	Origin
	// SignedIn: any signed-in session, one signed in while sealed included;
	// state-changing requests need the CSRF token.
	SignedIn
	// Staff: a signed-in session with one of the route's roles (any role if
	// none); state-changing requests need the CSRF token.
	Staff
)

// A Route is one method and path of the UI.
type Route struct {
	Method, Path string
	Access       Access
	Roles        []vigil.Role
	// Fresh routes need the passphrase within the last minutes
	// (account.Sessions.Reauthenticate); otherwise they send the browser
	// to the re-authentication page.
	Fresh   bool
	handler func(*Server) http.HandlerFunc
}

var (
	anyStaff = []vigil.Role{}
	admins   = []vigil.Role{vigil.RoleAdmin}
	readers  = []vigil.Role{vigil.RoleAdmin, vigil.RoleInvestigator, vigil.RoleAnalyst, vigil.RoleIntake}
)

// Routes returns every route of the UI: the sign-in, vault, inbox and
// admin routes, the case records', the evidence vault's, and search,
// figures and the audit trail.
func Routes() []Route {
	return slices.Concat(coreRoutes(), recordRoutes(), evidenceRoutes(), insightRoutes())
}

// coreRoutes are sign-in, seal and unseal, the vault, the inbox and the
// admin pages.
func coreRoutes() []Route {
	h := func(f func(*Server) http.HandlerFunc) func(*Server) http.HandlerFunc { return f }
	return []Route{
		{"GET", "/static/{file}", Public, nil, false, h(func(s *Server) http.HandlerFunc { return serveStatic })},
		{"GET", "/{$}", Public, nil, false, h(func(s *Server) http.HandlerFunc { return s.home })},
		{"GET", "/signin", Public, nil, false, h(func(s *Server) http.HandlerFunc { return s.signinPage })},
		{"POST", "/signin", Origin, nil, false, h(func(s *Server) http.HandlerFunc { return s.signin })},
		{"GET", "/signin/second", Public, nil, false, h(func(s *Server) http.HandlerFunc { return s.secondPage })},
		{"POST", "/signin/totp", Origin, nil, false, h(func(s *Server) http.HandlerFunc { return s.signinTOTP })},
		{"POST", "/signin/passkey/begin", Origin, nil, false, h(func(s *Server) http.HandlerFunc { return s.passkeyBegin })},
		{"POST", "/signin/passkey/finish", Origin, nil, false, h(func(s *Server) http.HandlerFunc { return s.passkeyFinish })},
		{"GET", "/signin/enrol", Public, nil, false, h(func(s *Server) http.HandlerFunc { return s.enrolPage })},
		{"POST", "/signin/enrol/totp", Origin, nil, false, h(func(s *Server) http.HandlerFunc { return s.enrolTOTP })},
		{"POST", "/signin/enrol/passkey/begin", Origin, nil, false, h(func(s *Server) http.HandlerFunc { return s.registerBegin })},
		{"POST", "/signin/enrol/passkey/finish", Origin, nil, false, h(func(s *Server) http.HandlerFunc { return s.registerFinish })},
		{"POST", "/language", Origin, nil, false, h(func(s *Server) http.HandlerFunc { return s.language })},
		{"POST", "/logout", SignedIn, nil, false, h(func(s *Server) http.HandlerFunc { return s.logout })},
		{"POST", "/logout/everywhere", SignedIn, nil, false, h(func(s *Server) http.HandlerFunc { return s.logoutEverywhere })},
		{"GET", "/reauth", SignedIn, nil, false, h(func(s *Server) http.HandlerFunc { return s.reauthPage })},
		{"POST", "/reauth", SignedIn, nil, false, h(func(s *Server) http.HandlerFunc { return s.reauth })},
		{"GET", "/unseal", SignedIn, nil, false, h(func(s *Server) http.HandlerFunc { return s.unsealPage })},
		{"POST", "/unseal", SignedIn, nil, false, h(func(s *Server) http.HandlerFunc { return s.unseal })},
		{"POST", "/seal", SignedIn, nil, false, h(func(s *Server) http.HandlerFunc { return s.seal })},
		{"GET", "/vault", Staff, anyStaff, false, h(func(s *Server) http.HandlerFunc { return s.vaultPage })},
		{"GET", "/inbox", Staff, readers, false, h(func(s *Server) http.HandlerFunc { return s.inboxPage })},
		{"GET", "/inbox/{id}", Staff, readers, false, h(func(s *Server) http.HandlerFunc { return s.submissionPage })},
		{"GET", "/inbox/{id}/files/{file}", Staff, readers, false, h(func(s *Server) http.HandlerFunc { return s.file })},
		{"POST", "/inbox/{id}/reply", Staff, readers, false, h(func(s *Server) http.HandlerFunc { return s.reply })},
		{"POST", "/inbox/{id}/state", Staff, readers, false, h(func(s *Server) http.HandlerFunc { return s.setState })},
		{"GET", "/accounts", Staff, admins, true, h(func(s *Server) http.HandlerFunc { return s.accountsPage })},
		{"POST", "/accounts", Staff, admins, true, h(func(s *Server) http.HandlerFunc { return s.createAccount })},
		{"POST", "/accounts/{id}/role", Staff, admins, true, h(func(s *Server) http.HandlerFunc { return s.setRole })},
		{"POST", "/accounts/{id}/disable", Staff, admins, true, h(func(s *Server) http.HandlerFunc { return s.disable })},
		{"GET", "/tokens", Staff, admins, true, h(func(s *Server) http.HandlerFunc { return s.tokensPage })},
		{"POST", "/tokens", Staff, admins, true, h(func(s *Server) http.HandlerFunc { return s.createToken })},
		{"POST", "/tokens/{id}/revoke", Staff, admins, true, h(func(s *Server) http.HandlerFunc { return s.revokeToken })},
	}
}

// Handler returns the UI's handler, to be mounted at / of the staff
// listener (next to /api/v1).
func (s *Server) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		mux.Handle(rt.Method+" "+rt.Path, s.guard(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "err.notfound")
	})
	return s.headers(mux)
}

func (s *Server) init() {
	s.once.Do(func() {
		s.pages = parsePages()
		s.cats = loadCatalogs()
		if s.Unsealer == nil {
			s.Unsealer = &unsealguard.Guard{Vault: s.Vault, Limit: s.UnsealLimit}
		}
	})
}

type ctxKey struct{}

// session returns the session a guarded handler runs for.
func session(r *http.Request) account.Info {
	i, _ := r.Context().Value(ctxKey{}).(account.Info)
	return i
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// guard applies a route's access rules: the origin check for sign-in
// steps; for session routes the session, its role, freshness and, on
// state-changing methods, the CSRF token (account.Sessions.RequireCSRF).
// A browser without a session is sent to the sign-in page.
func (s *Server) guard(rt Route) http.Handler {
	h := rt.handler(s)
	switch rt.Access {
	case Public:
		return h
	case Origin:
		return s.Sessions.RequireOrigin(h)
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, ok := s.Sessions.Session(r)
		if !ok {
			s.toSignin(w, r)
			return
		}
		if i.Sealed && !s.Vault.Sealed() {
			// Signed in while sealed, unsealed since: take up the role.
			ni, err := s.Sessions.Refresh(r.Context(), r)
			if err != nil {
				s.toSignin(w, r)
				return
			}
			i = ni
		}
		if rt.Access == Staff {
			if !i.Account.Role.Valid() {
				if safeMethod(r.Method) {
					http.Redirect(w, r, "/unseal", http.StatusSeeOther)
				} else {
					s.errorPage(w, r, http.StatusForbidden, "err.sealed")
				}
				return
			}
			if len(rt.Roles) > 0 && !slices.Contains(rt.Roles, i.Account.Role) {
				s.errorPage(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, i)), http.StatusForbidden, "err.forbidden")
				return
			}
		}
		if rt.Fresh && !i.Fresh {
			back := r.URL.Path
			if ref := localPath(r.Header.Get("Referer"), r.Host); ref != "" {
				back = ref
			}
			http.Redirect(w, r, "/reauth?next="+url.QueryEscape(back), http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, i)))
	})
	return s.Sessions.RequireCSRF(inner)
}

// toSignin answers a request without a session: a page goes to the
// sign-in form, anything else is refused.
func (s *Server) toSignin(w http.ResponseWriter, r *http.Request) {
	if safeMethod(r.Method) {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
		return
	}
	s.errorPage(w, r, http.StatusForbidden, "err.signin")
}

// localPath returns the path of u if it is a path on this server (a
// relative reference, or an absolute URL on host), else "".
func localPath(u, host string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Host != "" && !strings.EqualFold(p.Host, host)) || !strings.HasPrefix(p.Path, "/") || strings.HasPrefix(p.Path, "//") || strings.Contains(p.Path, "\\") {
		return ""
	}
	if p.Host == "" && p.Scheme != "" {
		return ""
	}
	return p.Path
}

// CSP is the Content-Security-Policy of every answer: scripts and styles
// only from this origin's embedded files, no inline code, no frames, forms
// only to this origin.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers sets the security headers and refuses unknown host names.
func (s *Server) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !staffhost.Known(r, s.Hosts) {
			http.Error(w, "unknown host name (see vigil serve --staff-host)", http.StatusMisdirectedRequest)
			return
		}
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.ServeHTTP(w, r)
	})
}

//go:embed static
var staticFS embed.FS

func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// errKey maps an error to the message key shown to the user; the error's
// own text never reaches the page.
func errKey(err error) (int, string) {
	var th *account.ThrottledError
	switch {
	case errors.As(err, &th):
		return http.StatusTooManyRequests, "err.throttled"
	case errors.Is(err, account.ErrLogin):
		return http.StatusUnauthorized, "err.login"
	case errors.Is(err, account.ErrNoSession), errors.Is(err, account.ErrStep):
		return http.StatusUnauthorized, "err.signin"
	case errors.Is(err, vigil.ErrSealed):
		return http.StatusServiceUnavailable, "err.sealed"
	case errors.Is(err, vigil.ErrForbidden):
		return http.StatusForbidden, "err.forbidden"
	case errors.Is(err, vigil.ErrNotFound):
		return http.StatusNotFound, "err.notfound"
	case errors.Is(err, vigil.ErrConflict):
		return http.StatusConflict, "err.conflict"
	case errors.Is(err, vigil.ErrInvalid), errors.Is(err, vigil.ErrTooLarge):
		return http.StatusBadRequest, "err.invalid"
	}
	return http.StatusInternalServerError, "err.internal"
}
