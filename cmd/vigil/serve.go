package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/backup"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/cluster"
	"github.com/vigil-hr/vigil/internal/connlimit"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/staffsock"
	"github.com/vigil-hr/vigil/internal/unsealguard"
	"github.com/vigil-hr/vigil/staffweb"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/web"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "--data DIR [--public ADDR] [--staff ADDR] [--store URL] [--blobs URL]")
	data := dataFlag(fs, e)
	pub := fs.String("public", "127.0.0.1:8080", "public listener `ADDR` (intake pages, log, keys)")
	staff := fs.String("staff", "127.0.0.1:8081", "staff listener `ADDR` (/api/v1); keep it off the public network")
	pfile := fs.String("passphrase-file", "", "unseal at start with the passphrase in `FILE` (or VIGIL_PASSPHRASE); else unseal later with vigil unseal")
	interval := fs.Duration("checkpoint-interval", 0, "how often to publish a checkpoint when the log grew and the vault is unsealed, aligned to the clock; 0 means the intake time precision (default 1h), so the public log cannot date submissions more finely than the stored times; never at start or unseal, which would date the tree at that moment")
	staffOrigin := fs.String("staff-origin", "", "`URL` staff open the staff web UI at, e.g. https://staff.example.org behind a proxy (passkeys are bound to its host name); default http://localhost:PORT of --staff")
	staffHosts := fs.String("staff-host", "", "comma-separated extra host names the staff listener answers to (IP addresses and localhost always work; other names are refused against DNS rebinding)")
	maxConns := fs.Int("public-max-conns", 1024, "most connections the public listener holds open at once (slow uploads over Tor each hold one)")
	bodyTimeout := fs.Duration("public-body-timeout", 30*time.Second, "how long a request body on the public listener may take to arrive after its headers (uploads instead may stall at most 2m between reads); a client that stalls holds a connection slot this long")
	publicLog := fs.Bool("public-log", false, "log each public request's method, path and status (never address, query, user agent or referrer)")
	logFormat := fs.String("log-format", "text", "log `FORMAT` on stderr: text or json")
	logLevel := fs.String("log-level", "info", "least `LEVEL` logged: debug, info, warn or error")
	storeURL := fs.String("store", "", "keep records in PostgreSQL at `URL` (postgres://user@host:port/database; password from PGPASSWORD or ~/.pgpass) instead of vigil.json's store or DIR/vigil.db; see docs/scale.md")
	blobsURL := fs.String("blobs", "", "keep blobs in S3 at `URL` (s3://host[:port]/bucket[/prefix]; keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) instead of vigil.json's blobs or DIR/blobs; see docs/scale.md")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(e.stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	d, err := openDataWith(ctx, e, *data, *pfile, false, datadir.Backends{Store: *storeURL, Blobs: *blobsURL})
	if err != nil {
		return err
	}
	defer d.Close()
	var hosts []string
	for _, h := range strings.Split(*staffHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	cfg := serveConfig{Public: *pub, Staff: *staff, Interval: *interval, PublicLog: *publicLog, StaffHosts: hosts, StaffOrigin: *staffOrigin, PublicMaxConns: *maxConns, BodyTimeout: *bodyTimeout, Logger: logger, LogJSON: *logFormat == "json"}
	return serve(ctx, e, d, cfg, func(pubURL, staffURL string) {
		fmt.Fprintf(e.stdout, "public %s\nstaff  %s\n", pubURL, staffURL)
		if d.Vault.Sealed() {
			fmt.Fprintf(e.stdout, "vault  sealed: intake works; unseal with vigil unseal --staff %s\n", strings.TrimPrefix(strings.TrimSuffix(staffURL, "/"), "http://"))
		} else {
			fmt.Fprintf(e.stdout, "vault  unsealed\n")
		}
	})
}

// serve runs both listeners until ctx is done, then shuts down gracefully.
// serveConfig is how serve runs.
type serveConfig struct {
	Public, Staff string        // listener addresses
	Interval      time.Duration // checkpoint interval; 0: the intake time precision
	PublicLog     bool          // log public requests (method, path, status)
	StaffHosts    []string      // extra host names for the staff listener
	StaffOrigin   string        // the staff web UI's origin; "": http://localhost:PORT
	// PublicMaxConns caps open connections on the public listener; 0: 1024.
	PublicMaxConns int
	// BodyTimeout bounds the arrival of a public request's body other than
	// an upload's; 0: 30 s (web.Options.BodyTimeout).
	BodyTimeout time.Duration
	// Logger gets serve's operational log (see newLogger); nil: text on
	// e.stderr at level info.
	Logger *slog.Logger
	// LogJSON writes the public request log (PublicLog) as JSON lines.
	LogJSON bool
}

func serve(ctx context.Context, e *env, d *datadir.Dir, cfg serveConfig, ready func(pub, staff string)) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	cs, err := newCosigner(d, logger)
	if err != nil {
		return err
	}
	pl, err := net.Listen("tcp", cfg.Public)
	if err != nil {
		return fmt.Errorf("public listener: %w", err)
	}
	maxConns := cfg.PublicMaxConns
	if maxConns <= 0 {
		maxConns = 1024
	}
	pl = connlimit.Listen(pl, maxConns)
	sl, err := net.Listen("tcp", cfg.Staff)
	if err != nil {
		pl.Close()
		return fmt.Errorf("staff listener: %w", err)
	}
	precision := d.Intake.Config.WithDefaults().TimePrecision
	// unsealed tracks the vault's state for the log: the vault's OnSeal
	// hooks run on every seal, sealed or not.
	var unsealed atomic.Bool
	unsealed.Store(!d.Vault.Sealed())
	var stopping atomic.Bool
	node, err := joinCluster(ctx, d, logger)
	if err != nil {
		pl.Close()
		sl.Close()
		return err
	}
	if node != nil {
		defer node.Close()
	}
	d.Vault.OnSeal(func() {
		if unsealed.Swap(false) && !stopping.Load() {
			logger.Info("vault sealed")
			if node != nil {
				// Sealing one server seals them all.
				go func() {
					if err := node.Seal(context.WithoutCancel(ctx)); err != nil {
						logger.Error("the other servers were not told to seal", "err", err.Error())
					}
				}()
			}
		}
	})
	metrics := &serveMetrics{d: d, cs: cs, precision: precision}
	// The staff UI's audit trail page reads through this index.
	trail := &audit.Trail{Store: d.Store, Vault: d.Vault}
	apiSrv := &api.Server{
		Metrics:    &api.Metrics{Collect: metrics.collect},
		Hosts:      cfg.StaffHosts,
		Vault:      d.Vault,
		Unsealer:   &unsealguard.Guard{Vault: d.Vault}, // shared with the staff UI
		Advisories: d.Advisories,
		Accounts:   newAccounts(d),
		Items:      d.Evidence,
		Stats:      statsPublisher(d),
		Report:     reporter(d),
		// At unseal, decrypt the case records, the inbox's summaries and
		// the audit trail's index into memory at once, so the first
		// investigator's read does not wait for them. It signs nothing.
		OnUnseal: func() {
			if unsealed.Swap(true) {
				logger.Info("unseal: the vault was already unsealed")
			} else {
				logger.Info("vault unsealed")
			}
			go func() {
				if err := d.Cases.Load(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, vigil.ErrSealed) {
					logger.Error("case records not loaded", "err", err.Error())
				}
			}()
			go func() { // the inbox's index of submissions (intake.Service.Page) and the audit trail's
				if err := d.Intake.Warm(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, vigil.ErrSealed) {
					logger.Error("inbox index not built", "err", err.Error())
				}
				if _, err := trail.Read(context.WithoutCancel(ctx), audit.Filter{}, vigil.ID{}, 1); err != nil && !errors.Is(err, vigil.ErrSealed) {
					logger.Error("audit trail index not built", "err", err.Error())
				}
			}()
		},
		Health: func(r *http.Request) (api.Health, error) {
			h := api.Health{Checkpoint: -1}
			if cs != nil {
				h.WitnessAlarm = cs.Alarm()
			}
			err := d.Store.View(r.Context(), func(tx store.ReadTx) error {
				var err error
				if h.TreeSize, err = tx.TreeSize(); err != nil {
					return err
				}
				cp, err := tx.LatestCheckpoint()
				if err != nil || cp == nil {
					return err
				}
				c, err := evlog.OpenCheckpoint(cp, d.Vault.LogVerifier())
				if err != nil {
					return err
				}
				h.Checkpoint = c.N
				return nil
			})
			return h, err
		},
		Tokens:     newTokens(d),
		TokenAdmin: newTokens(d),
		Inbox:      d.Intake,
		Cases:      d.Cases,
	}
	stopSocket, err := listenStaffSocket(d, apiSrv, logger)
	if err != nil {
		pl.Close()
		sl.Close()
		return err
	}
	defer stopSocket()
	pubOpt := publicOptions(d, e.stderr, cfg.PublicLog, cfg.LogJSON)
	pubOpt.BodyTimeout = cfg.BodyTimeout
	pubOpt.InternalError = metrics.intakeFailed
	pubOpt.Stopping = stopping.Load
	if pubOpt.LimitSecret, err = limitSecret(d); err != nil {
		pl.Close()
		sl.Close()
		return err
	}
	var logSrc evlog.Source = d
	if cs != nil {
		logSrc = cosignedLog{d, cs} // only checkpoints meeting the witness quorum are public
	}
	public := &http.Server{
		Handler:           web.NewPublic(logSrc, web.Keys{Origin: d.Config.Origin, LogVKey: d.Config.LogVKey, AgeRecipient: d.Config.Recipient, AdvisoryVKey: d.Config.AdvisoryVKey}, d.Intake, pubOpt),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError), // may name client addresses
	}
	staffH, err := staffHandler(d, apiSrv, trail, cs, sl.Addr(), cfg)
	if err != nil {
		pl.Close()
		sl.Close()
		return err
	}
	staffSrv := &http.Server{
		Handler:           staffH,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	errc := make(chan error, 2)
	go func() { errc <- public.Serve(pl) }()
	go func() { errc <- staffSrv.Serve(sl) }()
	ready("http://"+pl.Addr().String()+"/", "http://"+sl.Addr().String()+"/")
	startAttrs := []any{"sealed", d.Vault.Sealed(), "public", pl.Addr().String(), "staff", sl.Addr().String(), "origin", d.Config.Origin, "time_precision", precision.String()}
	if cs != nil {
		startAttrs = append(startAttrs, "witnesses", len(cs.policy.Witnesses), "quorum", cs.policy.Need())
	}
	logger.Info("vigil serve started", startAttrs...)

	// The intake counts of /metrics change only at precision boundaries.
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		signOnGrid(ctx, precision, func() {
			n, err := metrics.snapshot(ctx)
			if err != nil && ctx.Err() == nil {
				logger.Error("intake metrics not counted", "err", err.Error())
			}
			if n > 0 {
				// Counted over the window, logged at its end: a line per
				// failure would date a submission attempt to the second.
				logger.Error("public requests failed on our side in the last window (storage or vault errors; sources were told to try again later)", "count", n, "window", precision.String())
			}
		})
	}()

	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		interval := cfg.Interval
		if interval <= 0 {
			interval = d.Intake.Config.WithDefaults().TimePrecision
		}
		if cs != nil {
			// Republishing a checkpoint signed before the restart dates
			// nothing new; asking the witnesses again checks this data
			// directory was not put back to an older state.
			if err := cs.cosign(ctx, true); err != nil && ctx.Err() == nil {
				logger.Error("checkpoint not cosigned", "err", err.Error())
			}
		}
		if cs != nil {
			// A checkpoint whose quorum failed (a witness was down) is
			// offered again every minute: it was signed at a boundary, so
			// publishing it later dates nothing more finely.
			var retries sync.WaitGroup
			defer retries.Wait() // before loopDone: the store must outlive it
			retries.Go(func() {
				t := time.NewTicker(time.Minute)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						if err := cs.cosign(ctx, false); err != nil && ctx.Err() == nil && !errors.Is(err, errAlarm) {
							logger.Warn("checkpoint not cosigned yet", "err", err.Error())
						}
					}
				}
			})
		}
		signOnGrid(ctx, interval, func() {
			if cs != nil && cs.Alarm() != "" {
				logger.Error("checkpoint not signed", "err", errAlarm.Error())
				return
			}
			if n, err := maybeSign(ctx, d); err != nil && !errors.Is(err, vigil.ErrSealed) && ctx.Err() == nil {
				logger.Error("checkpoint not signed", "err", err.Error())
			} else if errors.Is(err, vigil.ErrSealed) {
				logger.Debug("checkpoint not signed: the vault is sealed")
			} else if n >= 0 {
				logger.Info("checkpoint signed", "size", n)
			}
			if cs != nil {
				if err := cs.cosign(ctx, false); err != nil && ctx.Err() == nil {
					logger.Error("checkpoint not cosigned", "err", err.Error())
				}
			}
		})
	}()

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("vigil serve stopping", "reason", "signal")
	case serveErr = <-errc:
		logger.Error("vigil serve stopping", "reason", "listener failed", "err", serveErr.Error())
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	public.Shutdown(shutCtx)
	staffSrv.Shutdown(shutCtx)
	<-loopDone
	<-statsDone
	stopping.Store(true) // the vault is sealed as the directory closes
	logger.Info("vigil serve stopped", "sealed_on_exit", true)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// staffHandler serves the staff listener: /api/v1 (and /metrics) from
// apiSrv, the staff web UI (staffweb, docs/staff-ui.md) at /, its account
// sessions ending on seal and on an admin's change to the account.
func staffHandler(d *datadir.Dir, apiSrv *api.Server, trail *audit.Trail, cs *cosigner, addr net.Addr, cfg serveConfig) (http.Handler, error) {
	origins := []string{cfg.StaffOrigin}
	if cfg.StaffOrigin == "" {
		port := addr.(*net.TCPAddr).Port
		origins = []string{fmt.Sprintf("http://localhost:%d", port), fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://[::1]:%d", port)}
	}
	u, err := url.Parse(origins[0])
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("--staff-origin %q: want a URL such as https://staff.example.org", cfg.StaffOrigin)
	}
	origins[0] = strings.TrimSuffix(origins[0], "/")
	wa, err := account.NewWebAuthn(u.Hostname(), origins)
	if err != nil {
		return nil, fmt.Errorf("--staff-origin: %w", err)
	}
	accts := newAccounts(d)
	sessions := &account.Sessions{Accounts: accts, WebAuthn: wa, Origins: origins}
	accts.OnChange = sessions.LogoutAccount
	d.Vault.OnSeal(sessions.DropAll)
	hosts := cfg.StaffHosts
	if net.ParseIP(u.Hostname()) == nil {
		hosts = append(slices.Clone(hosts), u.Hostname())
	}
	ui := &staffweb.Server{Sessions: sessions, Vault: d.Vault, Inbox: d.Intake, Tokens: newTokens(d), Cases: d.Cases, Evidence: d.Evidence, Bundle: d.BundlePublished, OnUnseal: apiSrv.OnUnseal, Unsealer: apiSrv.Unsealer, Hosts: hosts,
		Audit: trail,
		Status: func(ctx context.Context) (staffweb.Status, error) {
			r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
			h, err := apiSrv.Health(r)
			st := staffweb.Status{TreeSize: h.TreeSize, Checkpoint: h.Checkpoint, WitnessAlarm: h.WitnessAlarm}
			if cs != nil {
				st.Witnesses, st.Quorum = len(cs.policy.Witnesses), cs.policy.Need()
			}
			return st, err
		}}
	apiH := apiSrv.Handler()
	mux := http.NewServeMux()
	mux.Handle("/api/", apiH)
	mux.Handle("/metrics", apiH)
	mux.Handle("/", ui.Handler())
	return mux, nil
}

// joinCluster joins the other vigil serve processes sharing d's PostgreSQL
// store (internal/cluster; docs/scale.md, "Several servers"): case records
// they write are loaded into d's model, and a seal on any of them seals d.
// It returns nil without a PostgreSQL store.
func joinCluster(ctx context.Context, d *datadir.Dir, logger *slog.Logger) (*cluster.Node, error) {
	if d.Backends.Store == "" {
		return nil, nil
	}
	return cluster.Join(ctx, d.Backends.Store, cluster.Handlers{
		Record: func(kind string, id vigil.ID) {
			d.Intake.Heard(kind, id)
			if err := d.Cases.Refresh(ctx, id); err != nil && !errors.Is(err, vigil.ErrSealed) && ctx.Err() == nil {
				logger.Error("case record of another server not loaded", "kind", kind, "err", err.Error())
			}
		},
		Seal: func() {
			if !d.Vault.Sealed() {
				logger.Info("sealing: another server was sealed")
			}
			// Sealed or not, the seal hooks run: follow-up sessions that
			// requests here are using are wiped (their rows are gone).
			d.Vault.Seal()
		},
		Resync: func() {
			logger.Warn("cluster: reconnected to PostgreSQL; reloading the case records")
			d.Cases.Drop()
			d.Intake.Forget()
		},
		Error: func(err error) {
			if ctx.Err() == nil {
				logger.Error("cluster: lost the notification connection to PostgreSQL; retrying", "err", err.Error())
			}
		},
	})
}

// limitSecret returns the secret that keys the receipt limits' buckets
// when several servers share them (web.Options.LimitSecret,
// ratelimit.Shared): HMAC-SHA256 of DIR/keys.age, which every server of a
// deployment holds (docs/scale.md) and the database never sees, so a
// reader of the database alone cannot test an address against a bucket.
// Nil without a PostgreSQL store.
func limitSecret(d *datadir.Dir) ([]byte, error) {
	if d.Backends.Store == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(d.Path, "keys.age"))
	if err != nil {
		return nil, fmt.Errorf("rate-limit secret: %w", err)
	}
	m := hmac.New(sha256.New, b)
	m.Write([]byte("vigil shared receipt limits v1"))
	return m.Sum(nil), nil
}

// signOnGrid calls sign at each boundary of the clock-aligned slots of
// interval (the top of each hour for an hour) until ctx is done, and at no
// other time. Not at start, and not at unseal (serve's OnUnseal only loads
// the case records): a
// checkpoint signed then would publish the tree's size at that moment, and
// polling the public log would date the submissions since the last boundary
// to the second. A checkpoint signed just after a boundary still covers the
// leaves appended in the moments between the boundary and the signing.
// After a late unseal the log's growth is published at the next boundary.
func signOnGrid(ctx context.Context, interval time.Duration, sign func()) {
	for {
		now := time.Now()
		next := now.Truncate(interval).Add(interval)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		// Timers run on the monotonic clock; if the wall clock says the
		// boundary is still ahead (it was set back), wait for it again.
		if time.Now().Before(next) {
			continue
		}
		sign()
	}
}

// maybeSign signs a checkpoint if the vault is unsealed and the tree grew,
// and returns the new checkpoint's size, or -1 if it signed none.
func maybeSign(ctx context.Context, d *datadir.Dir) (int64, error) {
	if d.Vault.Sealed() {
		return -1, vigil.ErrSealed
	}
	grew := false
	var size int64
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
		size = n
		cp, err := tx.LatestCheckpoint()
		if err != nil {
			return err
		}
		if cp == nil {
			grew = true
			return nil
		}
		c, err := evlog.OpenCheckpoint(cp, d.Vault.LogVerifier())
		if err != nil {
			return err
		}
		grew = n > c.N
		return nil
	})
	if err != nil || !grew {
		return -1, err
	}
	// Another server sharing the store may have signed this boundary's
	// checkpoint already: SignIfNew then signs nothing.
	cp, signed, err := d.SignIfNew(ctx)
	if err != nil || !signed {
		return -1, err
	}
	if c, err := evlog.OpenCheckpoint(cp, d.Vault.LogVerifier()); err == nil {
		size = c.N
	}
	return size, nil
}

func staffFlag(fs interface {
	String(string, string, string) *string
}) *string {
	return fs.String("staff", "127.0.0.1:8081", "the running server's staff listener `ADDR`")
}

func runUnseal(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "unseal", "[--staff ADDR] [--passphrase-file FILE]")
	staff := staffFlag(fs)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	pass, err := passphrase(e, *pfile, false)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(api.UnsealRequest{Passphrase: string(pass)})
	resp, err := staffPost(ctx, *staff, "/api/v1/unseal", body)
	if err != nil {
		return err
	}
	var u api.UnsealResponse
	if json.Unmarshal(resp, &u) == nil && !u.WasSealed {
		fmt.Fprintln(e.stdout, "already unsealed")
		return nil
	}
	fmt.Fprintln(e.stdout, "unsealed")
	return nil
}

func runSeal(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "seal", "[--staff ADDR]")
	staff := staffFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if _, err := staffPost(ctx, *staff, "/api/v1/seal", []byte("{}")); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "sealed")
	return nil
}

// staffPost posts body to the staff listener at addr and returns the
// answer's body.
func staffPost(ctx context.Context, addr, path string, body []byte) ([]byte, error) {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(addr, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the staff listener at %s (is vigil serve running?): %w", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return nil, errors.New(e.Error)
	}
	return b, nil
}

// publicOptions configures the public listener: the instance's texts and,
// only if asked, a request log without addresses or queries.
func publicOptions(d *datadir.Dir, w io.Writer, requestLog, jsonLog bool) web.Options {
	opt := web.Options{Instance: web.Instance(d.Config.Instance),
		Publication: web.Publication{Advisories: d.AdvisoryDir, Stats: d.StatsDir}}
	opt.ReceiptLimit.Burst = d.Config.Intake.ReceiptAttempts
	if w, err := time.ParseDuration(d.Config.Intake.ReceiptWait); err == nil && w > 0 {
		opt.ReceiptLimit.Every = w
	}
	if requestLog {
		// No time stamps: exact request times, matched with the order of log
		// leaves, would undo the coarse arrival times of submissions.
		ho := &slog.HandlerOptions{
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}
		var h slog.Handler = slog.NewTextHandler(w, ho)
		if jsonLog {
			h = slog.NewJSONHandler(w, ho)
		}
		opt.RequestLog = slog.New(h)
	}
	return opt
}

// listenStaffSocket serves the staff API on DIR/staff.sock to the server's
// own user (internal/staffsock; docs/cli.md), so that the command line works
// while serve holds the data directory: requests there act as the admin
// "cli" without a token. stop closes it and removes the socket file.
func listenStaffSocket(d *datadir.Dir, apiSrv *api.Server, logger *slog.Logger) (stop func(), err error) {
	if err := backup.ClearTmp(d.Path); err != nil { // a killed backup's plaintext copy
		return nil, err
	}
	l, err := staffsock.Listen(d.Path)
	if err != nil {
		return nil, err
	}
	l.Refused = func(uid int) { logger.Warn("staff socket: connection from another user refused", "uid", uid) }
	apiSrv.Local = staffsock.IsLocal
	apiSrv.Bundle = d.BundlePublished // never signs off the checkpoint grid
	apiSrv.Fsck = d.Fsck
	apiSrv.Backup = func(ctx context.Context) (*backup.Snapshot, error) {
		return backup.TakeDir(ctx, d)
	}
	apiSrv.Import = func(ctx context.Context, p vigil.Principal, file io.Reader) (api.ImportResult, error) {
		return importFile(ctx, d, p, file)
	}
	srv := &http.Server{
		Handler:           staffsock.Handler(apiSrv.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		l.Close() // removes the socket file
		<-done
	}, nil
}
