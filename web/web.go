// Package web serves vigil's public listener: the intake pages for sources
// (/, /submit, /followup), the evidence log as C2SP tlog-tiles under /log/
// and the public keys at /.well-known/vigil.json.
//
// Use [NewPublic] with the log, the keys and the intake service; [Options]
// tune the rest and all have safe zero values.
//
// # Pages
//
// Pages are server-rendered html/template files (templates/, embedded) with
// one small style sheet (static/style.css) served from the binary: no
// JavaScript, fonts or third-party anything, so they work in Tor Browser at
// its safest level. Every user-visible string is in a message catalog
// (locales/TAG.json); the language is the lang query or form parameter if
// it names a catalog, else the best Accept-Language match, else English.
//
// # What the server learns
//
// Nothing about a request (address, user agent, referrer, receipt) is
// logged or stored. Request logging is off unless [Options.RequestLog] is
// set, and then it records method, path (never the query) and status only.
// Every response carries a strict Content-Security-Policy, no referrer and no
// sniffing; intake pages are Cache-Control: no-store so a receipt never sits
// in a cache. / and /submit set no cookie; only a source who proved a receipt
// gets the follow-up session cookie (Path=/followup).
//
// # Uploads
//
// /submit and /followup/reply read multipart bodies as a stream
// (mime/multipart.Reader, never ParseMultipartForm): each file part goes
// straight into evidence.Service.Stage, encrypted on arrival, and text fields
// are read under caps. A body whose Content-Length is over the cap is refused
// with 413 before any of it is read. On any error every file already staged
// is discarded, so nothing is stored. File names are checked, not rewritten:
// a name with a path separator, "." or "..", control or bidirectional
// formatting characters, invalid UTF-8 or more than 255 bytes is refused
// with 400 (browsers send plain base names, so only a hand-made request
// trips this, and a refused request stores nothing). The name is kept only
// as encrypted metadata and never used as a path.
//
// # Deadlines
//
// Every public request has its headers within the server's
// ReadHeaderTimeout (vigil serve: 10 s) and its body within
// [Options.BodyTimeout] (30 s) of the headers, except uploads, which may take
// as long as they need while they make progress ([Options.UploadStall]
// without a byte, two minutes, drops them). Once the handler answers,
// nothing more of an unread body is read; the connection closes. So a
// client that declares a body and stalls holds a connection slot (vigil
// serve --public-max-conns) for at most BodyTimeout.
//
// # Receipts
//
// A receipt that does not open a submission (malformed, unknown or wrong)
// always gets the same 403 page. Attempts are limited by token buckets
// (internal/ratelimit) keyed by a keyed hash of the client's socket
// address (IPv6 by /64), plus one global bucket: in memory, or, with a store
// several servers share and [Options.LimitSecret], in that store. The buckets are checked
// before any receipt work: a client whose failure budget (or the global one)
// is spent gets 429 with Retry-After without its receipt being derived or
// looked up, even if the receipt is right (so behind an onion service, where
// sources share one address, a flood makes everyone wait a minute per
// token; it never lets a guess through). Only a failed attempt takes a token.
// A login whose Sec-Fetch-Site is cross-site, or, from a browser that sends
// no fetch metadata, whose Origin is foreign or "null", is refused (403).
// The login body is read into a buffer of our own and wiped; the receipt
// never becomes a string.
//
// # Several servers
//
// When the intake store is shared by several servers (it implements
// store.SessionStore: PostgreSQL), follow-up sessions live in it, sealed
// under a key only the source's cookie holds, so a cookie works on every
// server (sharedsessions.go; docs/scale.md, "Follow-up sessions across
// servers"). Otherwise they live in this process's memory.
package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"embed"

	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/ratelimit"
	"github.com/vigil-hr/vigil/store"
)

// Keys is served at /.well-known/vigil.json.
type Keys struct {
	Origin       string `json:"origin"`
	LogVKey      string `json:"log_vkey"`
	AgeRecipient string `json:"age_recipient"`
	LogURL       string `json:"log_prefix"` // path of the tlog-tiles prefix, "/log/"
	// AdvisoryVKey is the publication key's verifier key, which signs
	// advisories and statistics; empty if the data directory has none.
	AdvisoryVKey string `json:"advisory_vkey,omitempty"`
}

// Instance says who runs this vigil, per UI language tag ("en", "ru", ...).
// A language without an entry falls back to English, then to the catalog's
// default text.
type Instance struct {
	Name  map[string]string `json:"name,omitempty"`
	About map[string]string `json:"about,omitempty"`
}

// Options tune [NewPublic]. The zero value is safe.
type Options struct {
	Instance Instance
	// RequestLog, if set, gets one line per request: method, path and
	// status. Never the query, address, user agent or referrer. Nil means
	// no request logging.
	RequestLog *slog.Logger
	// ClientHeader, if set, names a header set by a trusted reverse proxy
	// (e.g. "X-Forwarded-For") whose last address keys the rate limits.
	// Empty means the socket's address, the only safe choice without such
	// a proxy.
	ClientHeader string
	// InternalError, if set, is called once for each request that failed on
	// our side (the source was told "a problem on our side" or that the
	// service is unavailable for a few minutes), with nothing
	// about the request: vigil serve counts them and reports the count per
	// intake time-precision window, never the moment.
	InternalError func()
	// ReceiptLimit bounds receipt attempts per client; zero fields take
	// 10 attempts, then one a minute.
	ReceiptLimit ratelimit.Config
	// GlobalLimit bounds failed receipt attempts from all clients together;
	// zero fields take 300, then five a second.
	GlobalLimit ratelimit.Config
	// UploadStall is how long an upload may make no progress before its
	// connection is dropped; default two minutes (Tor is slow).
	UploadStall time.Duration
	// BodyTimeout is how long any other request body (a small form, or a
	// body sent where none belongs) may take to arrive, counted from the end
	// of its headers; default 30 seconds. Uploads (/submit,
	// /followup/reply) start under it and then get UploadStall from each
	// read instead (see the package doc's Deadlines section).
	BodyTimeout time.Duration
	// SessionIdle is how long a follow-up session lives without activity;
	// default 30 minutes.
	SessionIdle time.Duration
	// LimitSecret, if set and the intake store keeps token buckets
	// ([store.BucketStore]: several servers on one PostgreSQL database),
	// keys the receipt limits' buckets in that store, so that the limits
	// hold across every server holding the same secret; see
	// [ratelimit.Shared]. Unset: the buckets are this process's.
	LimitSecret []byte
	// Stopping, if set, reports that the process is stopping. A seal then
	// is this server's alone (vigil serve seals as it exits): follow-up
	// sessions kept in a shared store stay for the other servers, and only
	// the keys requests here are using are wiped. Any other seal ends every
	// session of every server.
	Stopping func() bool
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// Publication is where the signed advisories and statistics are
	// (publication.go); served only with Keys.AdvisoryVKey.
	Publication Publication
}

//go:embed templates/*.html static/*
var assetFS embed.FS

// public is the public listener's handler state.
type public struct {
	in       *intake.Service // nil: no intake pages
	cat      *catalogs
	pages    map[string]*template.Template
	opt      Options
	perHost  limiter
	global   limiter
	sessions sessionStore
	checks   chan struct{} // bounds concurrent receipt checks
	keys     Keys          // for the verifiers' page

	advisoryVKey string
}

// NewPublic returns the public listener's handler. in may be nil for a
// listener that serves only the log and keys (the intake pages then answer
// 404).
func NewPublic(log evlog.Source, keys Keys, in *intake.Service, opt Options) http.Handler {
	cat, err := loadCatalogs()
	if err != nil {
		panic("web: embedded catalogs: " + err.Error()) // a build defect, caught by the tests
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SessionIdle <= 0 {
		opt.SessionIdle = 30 * time.Minute
	}
	if opt.BodyTimeout <= 0 {
		opt.BodyTimeout = 30 * time.Second
	}
	rl := opt.ReceiptLimit
	if rl.Burst == 0 {
		rl.Burst = 10
	}
	if rl.Every == 0 {
		rl.Every = time.Minute
	}
	gl := opt.GlobalLimit
	if gl.Burst == 0 {
		gl.Burst = 300
	}
	if gl.Every == 0 {
		gl.Every = 200 * time.Millisecond
	}
	if rl.Now == nil {
		rl.Now = opt.Now
	}
	if gl.Now == nil {
		gl.Now = opt.Now
	}
	p := &public{in: in, cat: cat, opt: opt, pages: parsePages(), keys: keys,
		perHost: memLimiter{ratelimit.New(rl)}, global: memLimiter{ratelimit.New(gl)},
		sessions: newSessions(opt.SessionIdle, opt.Now),
		checks:   make(chan struct{}, 2*runtime.NumCPU()), advisoryVKey: keys.AdvisoryVKey}
	if in != nil {
		// Several servers on one database share sessions and limits
		// (docs/scale.md, "Several servers"); one process keeps them in
		// memory.
		if st, ok := in.Store.(store.SessionStore); ok {
			p.sessions = newSharedSessions(st, opt.SessionIdle, in.Config.WithDefaults().TimePrecision, opt.Now, opt.Stopping)
		}
		if st, ok := in.Store.(store.BucketStore); ok && len(opt.LimitSecret) > 0 {
			p.perHost = ratelimit.NewShared(rl, st, "receipt-client", opt.LimitSecret)
			p.global = ratelimit.NewShared(gl, st, "receipt-global", opt.LimitSecret)
		}
	}
	if in != nil && in.Vault != nil {
		in.Vault.OnSeal(p.sessions.forgetAll) // sealing forgets every source's key
	}

	mux := http.NewServeMux()
	mux.Handle("/log/", http.StripPrefix("/log", evlog.Handler(log)))
	keys.LogURL = "/log/"
	wk, _ := json.MarshalIndent(keys, "", "  ")
	mux.HandleFunc("GET /.well-known/vigil.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		w.Write(append(wk, '\n'))
	})
	static, _ := fs.Sub(assetFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static", staticHandler(static)))
	mux.HandleFunc("GET /{$}", p.index)
	mux.HandleFunc("GET /verify", p.verify)
	p.publicationRoutes(mux, keys.AdvisoryVKey)
	mux.HandleFunc("/", p.notFound)
	if in != nil {
		mux.HandleFunc("GET /submit", p.submitForm)
		mux.HandleFunc("POST /submit", p.submit)
		mux.HandleFunc("GET /followup", p.followupForm)
		mux.HandleFunc("POST /followup", p.followupLogin)
		mux.HandleFunc("GET /followup/thread", p.thread)
		mux.HandleFunc("POST /followup/reply", p.reply)
		mux.HandleFunc("POST /followup/logout", p.logout)
	}
	var h http.Handler = secure(mux)
	if opt.RequestLog != nil {
		h = logRequests(opt.RequestLog, h)
	}
	return bodyDeadline(h, opt.BodyTimeout)
}

// bodyDeadline gives a request body d to arrive, and waits for no more of
// it once the handler answers. net/http bounds only the headers
// (ReadHeaderTimeout); without this a client that declares a body and
// sends one byte holds its connection, and a connection slot, for ever: in
// the handler's read, or in the server's own read of up to 256 KiB of an
// unread body, which it does before it sends the answer's headers (so that
// it may reuse the connection) and again after the handler returns.
//
// The deadline is the connection's read deadline, so a body reader that
// pushes it forward as data arrives (an upload's stallGuard) overrides it.
// Once the body is read to its end the deadline is lifted, so that slow
// work after the read (a receipt check) is not cut off: the server then
// waits for the client's next request under its own IdleTimeout and
// ReadHeaderTimeout. If the handler answers before the body's end (a GET
// that declares a body, a refused form), the answer says Connection: close
// and the read deadline is set to now: nothing more is read.
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(d)) != nil {
			h.ServeHTTP(w, r) // not a server connection (a test's recorder)
			return
		}
		b := &deadlineBody{ReadCloser: r.Body, rc: rc}
		// A shallow copy: the server keeps its own body, whose type tells it
		// how much of an unread body it may discard.
		r = r.WithContext(r.Context())
		r.Body = b
		aw := &answerWriter{ResponseWriter: w, body: b}
		h.ServeHTTP(aw, r)
		aw.answer(http.StatusOK) // the server writes 200 for a silent handler
	})
}

// An answerWriter stops reading the request body once the answer starts.
type answerWriter struct {
	http.ResponseWriter
	body     *deadlineBody
	answered bool
}

// answer is called before the answer's headers go out.
func (a *answerWriter) answer(code int) {
	if a.answered || code < 200 { // 1xx: not the answer yet
		return
	}
	a.answered = true
	if !a.body.eof {
		a.Header().Set("Connection", "close")
		a.body.rc.SetReadDeadline(time.Now())
	}
}

func (a *answerWriter) WriteHeader(code int) {
	a.answer(code)
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerWriter) Write(p []byte) (int, error) {
	a.answer(http.StatusOK)
	return a.ResponseWriter.Write(p)
}

func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// A deadlineBody lifts the connection's read deadline at the body's end.
type deadlineBody struct {
	io.ReadCloser
	rc  *http.ResponseController
	eof bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.eof {
		b.eof = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func staticHandler(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}

const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the headers every public response carries.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/log/") || p == "/.well-known/vigil.json" || publicData(p):
			// The log and keys are public data meant to be fetched by verifiers.
			hd.Set("Access-Control-Allow-Origin", "*")
		case strings.HasPrefix(p, "/static/"):
		default:
			// Intake pages: a receipt must not sit in any cache.
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

// publicData reports whether p is a signed publication meant to be
// fetched by verifiers and feed readers.
func publicData(p string) bool {
	return p == "/advisories.atom" || p == "/advisories.json" || p == "/stats.txt" || p == "/stats.json" || p == "/stats.csv" ||
		(strings.HasPrefix(p, "/advisories/") && strings.HasSuffix(p, ".txt"))
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs method, path and status: never the query (it may hold a
// language choice on /followup, and nothing else belongs in a log either),
// the address, the user agent or the referrer.
func logRequests(l *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		l.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status)
	})
}

// clientKey returns what keys a client's rate-limit bucket: the socket's
// host (or the trusted proxy header's last address), IPv6 cut to its /64 so
// that one machine cannot pose as many. It is hashed with a rotating key
// before it is kept, and never logged.
func (p *public) clientKey(r *http.Request) string {
	host := r.RemoteAddr
	if h := p.opt.ClientHeader; h != "" {
		if v := r.Header.Values(h); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			host = strings.TrimSpace(parts[len(parts)-1])
		}
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.To4() == nil {
			return ip.Mask(net.CIDRMask(64, 128)).String()
		}
		return ip.String()
	}
	return host
}

// retryMinutes rounds a wait up to whole minutes for people.
func retryMinutes(d time.Duration) int {
	return int((d + time.Minute - 1) / time.Minute)
}

// retryAfter is the Retry-After header value for d.
func retryAfter(d time.Duration) string {
	return fmt.Sprint(int((d + time.Second - 1) / time.Second))
}
