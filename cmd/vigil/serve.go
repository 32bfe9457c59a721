package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/connlimit"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/web"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "--data DIR [--public ADDR] [--staff ADDR]")
	data := dataFlag(fs, e)
	pub := fs.String("public", "127.0.0.1:8080", "public listener `ADDR` (intake pages, log, keys)")
	staff := fs.String("staff", "127.0.0.1:8081", "staff listener `ADDR` (/api/v1); keep it off the public network")
	pfile := fs.String("passphrase-file", "", "unseal at start with the passphrase in `FILE` (or VIGIL_PASSPHRASE); else unseal later with vigil unseal")
	interval := fs.Duration("checkpoint-interval", 0, "how often to publish a checkpoint when the log grew and the vault is unsealed, aligned to the clock; 0 means the intake time precision (default 1h), so the public log cannot date submissions more finely than the stored times; never at start or unseal, which would date the tree at that moment")
	staffHosts := fs.String("staff-host", "", "comma-separated extra host names the staff listener answers to (IP addresses and localhost always work; other names are refused against DNS rebinding)")
	maxConns := fs.Int("public-max-conns", 1024, "most connections the public listener holds open at once (slow uploads over Tor each hold one)")
	bodyTimeout := fs.Duration("public-body-timeout", 30*time.Second, "how long a request body on the public listener may take to arrive after its headers (uploads instead may stall at most 2m between reads); a client that stalls holds a connection slot this long")
	publicLog := fs.Bool("public-log", false, "log each public request's method, path and status (never address, query, user agent or referrer)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	d, err := openData(ctx, e, *data, *pfile, false)
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
	cfg := serveConfig{Public: *pub, Staff: *staff, Interval: *interval, PublicLog: *publicLog, StaffHosts: hosts, PublicMaxConns: *maxConns, BodyTimeout: *bodyTimeout}
	return serve(ctx, e, d, cfg, func(pubURL, staffURL string) {
		fmt.Fprintf(e.stdout, "public %s\nstaff  %s\n", pubURL, staffURL)
	})
}

// serve runs both listeners until ctx is done, then shuts down gracefully.
// serveConfig is how serve runs.
type serveConfig struct {
	Public, Staff string        // listener addresses
	Interval      time.Duration // checkpoint interval; 0: the intake time precision
	PublicLog     bool          // log public requests (method, path, status)
	StaffHosts    []string      // extra host names for the staff listener
	// PublicMaxConns caps open connections on the public listener; 0: 1024.
	PublicMaxConns int
	// BodyTimeout bounds the arrival of a public request's body other than
	// an upload's; 0: 30 s (web.Options.BodyTimeout).
	BodyTimeout time.Duration
}

func serve(ctx context.Context, e *env, d *datadir.Dir, cfg serveConfig, ready func(pub, staff string)) error {
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
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
	apiSrv := &api.Server{
		Hosts:      cfg.StaffHosts,
		Vault:      d.Vault,
		Advisories: d.Advisories,
		// At unseal, decrypt the case records into memory at once, so the
		// first investigator's read does not wait for it. It signs nothing.
		OnUnseal: func() {
			go func() {
				if err := d.Cases.Load(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, vigil.ErrSealed) {
					logger.Error("case records not loaded", "err", err.Error())
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
	pubOpt := publicOptions(d, e.stderr, cfg.PublicLog)
	pubOpt.BodyTimeout = cfg.BodyTimeout
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
	staffSrv := &http.Server{
		Handler:           apiSrv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	errc := make(chan error, 2)
	go func() { errc <- public.Serve(pl) }()
	go func() { errc <- staffSrv.Serve(sl) }()
	ready("http://"+pl.Addr().String()+"/", "http://"+sl.Addr().String()+"/")

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
			if err := maybeSign(ctx, d); err != nil && !errors.Is(err, vigil.ErrSealed) && ctx.Err() == nil {
				logger.Error("checkpoint not signed", "err", err.Error())
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
	case serveErr = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	public.Shutdown(shutCtx)
	staffSrv.Shutdown(shutCtx)
	<-loopDone
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
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

// maybeSign signs a checkpoint if the vault is unsealed and the tree grew.
func maybeSign(ctx context.Context, d *datadir.Dir) error {
	if d.Vault.Sealed() {
		return vigil.ErrSealed
	}
	grew := false
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
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
		return err
	}
	_, err = d.SignCheckpoint(ctx)
	return err
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
	if err := staffPost(ctx, *staff, "/api/v1/unseal", body); err != nil {
		return err
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
	if err := staffPost(ctx, *staff, "/api/v1/seal", []byte("{}")); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "sealed")
	return nil
}

func staffPost(ctx context.Context, addr, path string, body []byte) error {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(addr, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the staff listener at %s (is vigil serve running?): %w", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return errors.New(e.Error)
	}
	return nil
}

// publicOptions configures the public listener: the instance's texts and,
// only if asked, a request log without addresses or queries.
func publicOptions(d *datadir.Dir, w io.Writer, requestLog bool) web.Options {
	opt := web.Options{Instance: web.Instance(d.Config.Instance),
		Publication: web.Publication{Advisories: d.AdvisoryDir, Stats: d.StatsDir}}
	opt.ReceiptLimit.Burst = d.Config.Intake.ReceiptAttempts
	if w, err := time.ParseDuration(d.Config.Intake.ReceiptWait); err == nil && w > 0 {
		opt.ReceiptLimit.Every = w
	}
	if requestLog {
		// No time stamps: exact request times, matched with the order of log
		// leaves, would undo the coarse arrival times of submissions.
		opt.RequestLog = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))
	}
	return opt
}
