// Package api serves the staff listener's JSON API under /api/v1: health,
// unseal, seal, the intake inbox (inbox.go) and the case records
// (cases.go; docs/api.md), every route listed in [Routes] and described
// in openapi.json, served at /api/v1/openapi.json (TestOpenAPI keeps the
// two in step).
//
// Errors are JSON {"error": "..."} with a status from one table ([statusOf]);
// internal details never reach the response, only the field paths and
// problems of a [vigil.FieldError] ("fields").
//
// # Authentication
//
// Every endpoint except health, unseal, seal and the OpenAPI document needs
// "Authorization: Bearer vgl_..." with a token made by `vigil token create`
// (package auth). A missing, malformed, unknown or revoked token gets one
// answer: 401 {"error": "missing or invalid token"}. The exceptions are
// deliberate: health without a token says only {"status": "up"} (the seal
// state and the live tree size need a token, since polling the tree size
// would date each submission to the second); unseal needs
// the admin passphrase, which is a stronger proof than a token; sealing is
// always safe (it only drops keys from memory), and an operator must be able
// to do it in a hurry without finding a token; the OpenAPI document
// describes the API and holds no data. GET /metrics (Prometheus, outside
// /api/v1; see [Metrics]) needs a token like the data routes. The staff listener is meant for
// loopback or a staff-only network. POST bodies must be application/json,
// so a web page in a staff member's browser cannot post a form to the
// listener (browsers preflight other content types, and we answer no
// preflight).
//
// Tokens are checked before the vault is: a caller learns "vault sealed"
// (503) only after proving a token.
//
// The same handler is served on the local staff socket (DIR/staff.sock,
// package internal/staffsock), which only the server's own user can
// connect to: there a request needs no token and acts as [auth.Local], the
// admin "cli" of the command line ([Server.Local]; docs/cli.md says why
// that grants nothing the data directory's permissions do not).
//
// # Unseal attempts
//
// Each wrong passphrase costs a scrypt run (about a second and 256 MiB at
// the default work factor), so guessing is paced twice: one attempt runs at
// a time (a concurrent one gets 429 at once), and failed attempts draw on one
// token bucket for the whole listener ([Server.UnsealLimit]; by default 5,
// then one a minute). Over the limit every attempt, right or wrong, gets 429
// with Retry-After before any scrypt work. A successful attempt gives its
// token back. The bucket is shared by all callers, so someone who can reach
// the staff listener can delay an unseal over the API; an operator can
// always restart with --passphrase-file.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/ratelimit"
	"github.com/vigil-hr/vigil/internal/staffhost"
	"github.com/vigil-hr/vigil/internal/unsealguard"
	"github.com/vigil-hr/vigil/vault"
)

// A Vault is what the API needs of the vault.
type Vault interface {
	Unseal(passphrase []byte) error
	Seal()
	Sealed() bool
}

// Health is the body of GET /api/v1/health with a valid token. Without a
// token the body is only {"status": "up"}.
type Health struct {
	Status   string `json:"status"` // "up"
	Sealed   bool   `json:"sealed"`
	TreeSize int64  `json:"tree_size"`
	// Checkpoint is the size of the latest signed checkpoint, -1 if none.
	Checkpoint int64 `json:"checkpoint"`
	// WitnessAlarm is set when a witness reported a checkpoint conflicting
	// with the log's (a possible fork): signing has stopped.
	WitnessAlarm string `json:"witness_alarm,omitempty"`
}

// Server is the staff API.
type Server struct {
	Vault Vault
	// Health fills the health report's log fields.
	Health func(r *http.Request) (Health, error)
	// OnUnseal, if set, runs after a successful unseal. vigil serve loads
	// the case records then (it signs checkpoints only on the clock grid,
	// never at unseal).
	OnUnseal func()
	// Tokens authenticates bearer tokens. If nil, every endpoint that needs
	// a token answers 401.
	Tokens Authenticator
	// TokenAdmin makes, lists and revokes tokens for admin tokens; nil: 404.
	TokenAdmin TokenAdmin
	// Local, if set, reports whether a request came over the local staff
	// socket from the server's own user (internal/staffsock.IsLocal): such a
	// request needs no token and acts as [auth.Local], the admin "cli".
	// Serve the handler on the TCP listener with Local reporting false for
	// every request that did not come through the socket.
	Local func(r *http.Request) bool
	// Bundle writes an evidence bundle of the records ids (see
	// datadir.Dir.Bundle); nil: POST /api/v1/bundle answers 404.
	Bundle func(ctx context.Context, w io.Writer, ids []vigil.ID, withContent bool) error
	// Fsck checks the data directory (datadir.Dir.Fsck); nil: POST
	// /api/v1/fsck answers 404.
	Fsck func(ctx context.Context) (datadir.FsckReport, error)
	// Backup snapshots the database for vigil backup (api/backup.go); nil:
	// POST /api/v1/backup answers 404.
	Backup Snapshotter
	// Import stores a case file (vigil import); nil: POST /api/v1/import
	// answers 404.
	Import Importer
	// Accounts makes and changes staff accounts (vigil account, admin
	// only); nil: the /api/v1/accounts routes answer 404.
	Accounts AccountAdmin
	// Items ingests files into the evidence log (vigil add); nil: POST
	// /api/v1/items answers 404.
	Items ItemAdder
	// Stats publishes statistics (vigil stats publish); nil: POST
	// /api/v1/stats answers 404.
	Stats StatsPublisher
	// Report writes an incident's report as a PDF (vigil report); nil:
	// POST /api/v1/report answers 404.
	Report Reporter
	// Inbox is the staff side of intake. If nil, the inbox endpoints answer
	// 404.
	Inbox Inbox
	// Cases keeps the case records (see cases.go). If nil, the case
	// endpoints answer 404.
	Cases Cases
	// Advisories publishes signed advisories (admin tokens only); nil: the
	// advisory endpoints answer 404.
	Advisories Advisories
	// MaxBody caps the body of a POST that carries text (a reply), in bytes.
	// Zero means 4 MiB: room for intake's default 1 MiB text cap even when
	// every character is JSON-escaped.
	MaxBody int64
	// Hosts are extra host names the staff listener answers to (say, behind
	// a reverse proxy). IP literals and "localhost" are always accepted;
	// any other Host header is refused, so a web page cannot reach the
	// listener through DNS rebinding (unseal and seal need no token).
	Hosts []string
	// Metrics, if set, counts the listener's requests and is served at
	// GET /metrics to any valid token (metrics.go); nil: 404.
	Metrics *Metrics
	// Unsealer paces unseal attempts for all callers together; vigil serve
	// shares one with the staff UI. Nil: one of the server's own over
	// Vault, with UnsealLimit (zero fields: 5 attempts, then one a minute).
	Unsealer    *unsealguard.Guard
	UnsealLimit ratelimit.Config

	limitOnce sync.Once
}

// An Authenticator checks bearer tokens. auth.Tokens implements it.
type Authenticator interface {
	// Authenticate returns the token whose secret this is, or an error
	// wrapping auth.ErrUnauthorized. It must work while the vault is sealed.
	Authenticate(ctx context.Context, secret string) (auth.Token, error)
}

// A Route is one operation of the API: the method and path pattern
// Handler registers (net/http.ServeMux syntax), and for the JSON routes
// the Go types of the request and success bodies. TestOpenAPI checks
// openapi.json against this table: every route documented, every
// documented operation a route, and the documented schemas' properties
// those of the Go types.
type Route struct {
	Method string
	Path   string
	// Request is the type of the JSON body (nil: none, or not described
	// by a Go type). A case record request is this document type's fields
	// plus an optional "key".
	Request reflect.Type
	// Response is the type of the success answer's body and Status its
	// status (nil, 0: not described by a Go type).
	Response reflect.Type
	Status   int
	handler  func(*Server) http.HandlerFunc
}

// Routes returns every route Handler serves.
func Routes() []Route {
	h := func(f func(*Server) http.HandlerFunc) func(*Server) http.HandlerFunc { return f }
	rs := []Route{
		{Method: "GET", Path: "/api/v1/health", handler: h(func(s *Server) http.HandlerFunc { return s.health })},
		{Method: "POST", Path: "/api/v1/unseal", Response: reflect.TypeFor[UnsealResponse](), Status: http.StatusOK, handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.unseal) })},
		{Method: "POST", Path: "/api/v1/seal", handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.seal) })},
		{Method: "GET", Path: "/api/v1/openapi.json", handler: h(func(s *Server) http.HandlerFunc { return serveOpenAPI })},
		{Method: "GET", Path: "/api/v1/submissions", handler: h(func(s *Server) http.HandlerFunc { return s.authed(s.listSubmissions) })},
		{Method: "GET", Path: "/api/v1/submissions/{id}", handler: h(func(s *Server) http.HandlerFunc { return s.authed(s.getSubmission) })},
		{Method: "POST", Path: "/api/v1/submissions/{id}/messages", handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.authed(s.reply)) })},
		{Method: "POST", Path: "/api/v1/submissions/{id}/state", handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.authed(s.setState)) })},
		{Method: "GET", Path: "/api/v1/submissions/{id}/files/{file}", handler: h(func(s *Server) http.HandlerFunc { return s.authed(s.download) })},
		{Method: "GET", Path: "/api/v1/tokens", handler: h(func(s *Server) http.HandlerFunc { return s.authed(adminOnly(s.listTokens)) })},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", handler: h(func(s *Server) http.HandlerFunc { return s.authed(adminOnly(s.revokeToken)) })},
		{Method: "POST", Path: "/api/v1/tokens", Response: reflect.TypeFor[NewToken](), Status: http.StatusCreated, handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.createToken))) })},
		{Method: "POST", Path: "/api/v1/bundle", handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.bundle))) })},
		{Method: "POST", Path: "/api/v1/import", Response: reflect.TypeFor[ImportResult](), Status: http.StatusOK, handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.authed(s.importCase)) })},
		{Method: "POST", Path: "/api/v1/backup", handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.backupSnapshot))) })},
		{Method: "POST", Path: "/api/v1/fsck", Response: reflect.TypeFor[datadir.FsckReport](), Status: http.StatusOK, handler: h(func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.fsck))) })},
	}
	rs = append(rs, advisoryRoutes()...)
	rs = append(rs, accountRoutes()...)
	rs = append(rs, itemRoutes()...)
	rs = append(rs, statsRoutes()...)
	rs = append(rs, reportRoutes()...)
	return append(rs, caseRoutes()...)
}

// Handler returns the /api/v1 handler, serving [Routes].
func (s *Server) Handler() http.Handler {
	s.limitOnce.Do(func() {
		if s.Unsealer == nil {
			s.Unsealer = &unsealguard.Guard{Vault: s.Vault, Limit: s.UnsealLimit}
		}
	})
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		mux.HandleFunc(rt.Method+" "+rt.Path, rt.handler(s))
	}
	if s.Metrics == nil {
		return s.checkHost(private(mux))
	}
	mux.HandleFunc("GET /metrics", s.authed(s.metrics))
	return s.checkHost(private(s.Metrics.instrument(mux)))
}

// private marks every answer of h as one no cache may keep and no browser
// may take for another type than it says: bodies echo what clients stored
// (a quote may hold a <script>), files are what strangers sent, and
// everything here is the staff's.
func private(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// maxBody returns the cap on a JSON body that carries text.
func (s *Server) maxBody() int64 {
	if s.MaxBody <= 0 {
		return 4 << 20
	}
	return s.MaxBody
}

// checkHost refuses requests whose Host names anything but an IP address,
// localhost or one of s.Hosts.
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !staffhost.Known(r, s.Hosts) {
			writeJSON(w, http.StatusMisdirectedRequest, map[string]string{"error": "unknown host name (see vigil serve --staff-host)"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// errContentType is a POST whose body is not declared as JSON.
var errContentType = errors.New("content type must be application/json")

// jsonBody refuses POSTs whose Content-Type is not application/json.
func jsonBody(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, errContentType)
			return
		}
		h(w, r)
	}
}

// authed wraps a handler that needs a token.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, auth.Token)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Local != nil && s.Local(r) {
			h(w, r, auth.Local)
			return
		}
		scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || s.Tokens == nil {
			writeError(w, auth.ErrUnauthorized)
			return
		}
		tok, err := s.Tokens.Authenticate(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, tok)
	}
}

// health says "up" to anyone, and the seal state and log sizes only to a
// valid token: the live tree size, polled, would date each submission.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" && (s.Local == nil || !s.Local(r)) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "up"})
		return
	}
	s.authed(s.fullHealth)(w, r)
}

func (s *Server) fullHealth(w http.ResponseWriter, r *http.Request, _ auth.Token) {
	h, err := s.Health(r)
	if err != nil {
		writeError(w, err)
		return
	}
	h.Status = "up"
	h.Sealed = s.Vault.Sealed()
	writeJSON(w, http.StatusOK, h)
}

// UnsealRequest is the body of POST /api/v1/unseal.
type UnsealRequest struct {
	Passphrase string `json:"passphrase"`
}

func (s *Server) unseal(w http.ResponseWriter, r *http.Request) {
	var req UnsealRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err != nil || json.Unmarshal(body, &req) != nil || req.Passphrase == "" {
		writeError(w, vigil.ErrInvalid)
		return
	}
	wasSealed, err := s.Unsealer.Unseal([]byte(req.Passphrase))
	var tooMany *unsealguard.TooManyError
	switch {
	case errors.Is(err, unsealguard.ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeError(w, errBusy)
		return
	case errors.As(err, &tooMany):
		w.Header().Set("Retry-After", strconv.Itoa(int((tooMany.Wait+time.Second-1)/time.Second)))
		writeError(w, errTooManyAttempts)
		return
	case err != nil:
		writeError(w, err)
		return
	}
	if s.OnUnseal != nil {
		s.OnUnseal()
	}
	// was_sealed is told only to a caller who proved the passphrase: the
	// seal state is not for anyone (see health).
	writeJSON(w, http.StatusOK, UnsealResponse{Sealed: false, WasSealed: wasSealed})
}

// UnsealResponse is the answer to a successful POST /api/v1/unseal.
type UnsealResponse struct {
	Sealed bool `json:"sealed"` // false
	// WasSealed is false if the vault was already unsealed (the passphrase
	// was checked all the same).
	WasSealed bool `json:"was_sealed"`
}

func (s *Server) seal(w http.ResponseWriter, r *http.Request) {
	s.Vault.Seal()
	writeJSON(w, http.StatusOK, map[string]bool{"sealed": true})
}

var (
	// errBusy is an unseal attempt while another one runs.
	errBusy = errors.New("another unseal attempt is running")
	// errTooManyAttempts is an unseal attempt over the limit.
	errTooManyAttempts = errors.New("too many unseal attempts, try again later")
)

// statusOf maps error kinds to HTTP statuses and user-safe messages.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, vault.ErrWrongPassphrase):
		return http.StatusForbidden, "wrong passphrase"
	case errors.Is(err, vigil.ErrSealed):
		return http.StatusServiceUnavailable, "vault sealed"
	case errors.Is(err, vigil.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, auth.ErrUnauthorized):
		return http.StatusUnauthorized, auth.ErrUnauthorized.Error()
	case errors.Is(err, errForbidden), errors.Is(err, vigil.ErrForbidden):
		return http.StatusForbidden, errForbidden.Error()
	case errors.Is(err, errBusy):
		return http.StatusTooManyRequests, errBusy.Error()
	case errors.Is(err, errTooManyAttempts):
		return http.StatusTooManyRequests, errTooManyAttempts.Error()
	case errors.Is(err, errContentType):
		return http.StatusUnsupportedMediaType, errContentType.Error()
	case errors.Is(err, vigil.ErrTooLarge): // before ErrInvalid, which it wraps
		return http.StatusRequestEntityTooLarge, "request too large"
	case errors.Is(err, vigil.ErrInvalid):
		return http.StatusBadRequest, "invalid request"
	case errors.Is(err, vigil.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, errNoVersion):
		return http.StatusPreconditionRequired, errNoVersion.Error()
	}
	return http.StatusInternalServerError, "internal error"
}

// writeError answers err with its status and user-safe message from
// statusOf, and the field problems in err (never err.Error()).
func writeError(w http.ResponseWriter, err error) { writeErrorBody(w, err, nil) }

// writeErrorBody is writeError with a chance to add to the body.
func writeErrorBody(w http.ResponseWriter, err error, more func(*ErrorBody)) {
	code, msg := statusOf(err)
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil staff API"`)
	}
	body := ErrorBody{Error: msg}
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusConflict:
		body.Fields = fieldsOf(err)
	}
	if more != nil {
		more(&body)
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
