package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/witness"
)

// errAlarm is returned while a witness alarm stands: no checkpoint is signed.
var errAlarm = datadir.ErrWitnessAlarm

// A cosigner gets each new checkpoint cosigned by the witnesses of the data
// directory's policy (vigil.json "witness") and keeps the latest checkpoint
// meeting the quorum in DIR/checkpoint.cosigned, which the public log serves
// instead of the bare signed one. A witness that reports a conflict (it
// cosigned another tree for this log) raises the alarm: it is written to
// DIR/witness-alarm, logged at Error, shown on the staff health, and no
// checkpoint is signed while the file exists, across restarts. Its methods
// are safe for concurrent use.
type cosigner struct {
	d      *datadir.Dir
	policy witness.Policy
	ws     []witness.Witness
	client witness.Client
	log    *slog.Logger

	run      sync.Mutex // one cosign at a time: checkpoints go to witnesses in order
	mu       sync.Mutex
	cosigned []byte // latest checkpoint meeting the quorum, nil if none
	alarm    string // the alarm's text, "" if none
}

// newCosigner returns the cosigner of d's witness policy, or nil if it has
// none.
func newCosigner(d *datadir.Dir, logger *slog.Logger) (*cosigner, error) {
	p := d.Config.Witness
	if p == nil {
		return nil, nil
	}
	if err := p.Valid(true); err != nil {
		return nil, fmt.Errorf("vigil.json: %w", err)
	}
	ws, err := p.Client()
	if err != nil {
		return nil, err
	}
	c := &cosigner{d: d, policy: *p, ws: ws, log: logger}
	c.client.HTTP = &http.Client{Timeout: 30 * time.Second} // a hung witness must not hold signing
	b, err := os.ReadFile(c.cosignedPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read cosigned checkpoint: %w", err)
	}
	if err == nil {
		// After a policy change the old checkpoint may lack the new quorum:
		// it is not published, and the next one is cosigned afresh.
		if _, _, err := p.Verify(b, d.Vault.LogVerifier()); err != nil {
			logger.Warn("cosigned checkpoint does not meet the witness policy; not published", "file", c.cosignedPath(), "err", err.Error())
		} else {
			c.cosigned = b
		}
	}
	a, err := os.ReadFile(c.alarmPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read witness alarm: %w", err)
	}
	c.alarm = strings.TrimSpace(string(a))
	if c.alarm != "" {
		logger.Error("WITNESS ALARM: not signing checkpoints", "alarm", c.alarm)
	}
	return c, nil
}

func (c *cosigner) cosignedPath() string { return filepath.Join(c.d.Path, datadir.CosignedFile) }
func (c *cosigner) alarmPath() string    { return filepath.Join(c.d.Path, datadir.AlarmFile) }

// Alarm returns the standing alarm, "" if none.
func (c *cosigner) Alarm() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alarm
}

// Cosigned returns the latest checkpoint meeting the quorum, or nil.
func (c *cosigner) Cosigned() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cosigned
}

// cosign submits the latest signed checkpoint to the witnesses unless it is
// already the cosigned one (or always, with force), and publishes it if the
// quorum holds. Forcing at start is the restore check: a data directory put
// back to an old backup still holds its old cosigned checkpoint, but the
// witnesses have seen a larger tree and answer with a conflict.
func (c *cosigner) cosign(ctx context.Context, force bool) error {
	c.run.Lock()
	defer c.run.Unlock()
	if c.Alarm() != "" {
		return errAlarm
	}
	signed, err := c.d.LatestCheckpoint(ctx)
	if err != nil || signed == nil {
		return err
	}
	body, _, _ := bytes.Cut(signed, []byte("\n\n"))
	if prev, _, _ := bytes.Cut(c.Cosigned(), []byte("\n\n")); !force && bytes.Equal(prev, body) {
		return nil
	}
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		var hs []tlog.Hash
		err := c.d.Store.View(ctx, func(tx store.ReadTx) error {
			var err error
			hs, err = tx.ReadHashes(idx)
			return err
		})
		return hs, err
	})
	res := c.client.Cosign(ctx, c.ws, signed, hr)
	if ces := res.Conflicts(); len(ces) > 0 {
		var msgs []string
		for _, ce := range ces {
			msgs = append(msgs, ce.Error())
		}
		c.raise(strings.Join(msgs, "\n"))
		return ces[0]
	}
	for name, err := range res.Errs {
		c.log.Warn("witness did not cosign", "witness", name, "err", err.Error())
	}
	cp, have, err := c.policy.Verify(res.Cosigned, c.d.Vault.LogVerifier())
	if err != nil {
		return fmt.Errorf("checkpoint not published: %w", err)
	}
	if err := atomicfile.Write(c.cosignedPath(), res.Cosigned, 0o644); err != nil {
		return fmt.Errorf("write cosigned checkpoint: %w", err)
	}
	c.mu.Lock()
	c.cosigned = res.Cosigned
	c.mu.Unlock()
	c.log.Info("checkpoint cosigned and published", "size", cp.N, "witnesses", strings.Join(have, ","))
	return nil
}

// raise records the alarm durably and loudly.
func (c *cosigner) raise(msg string) {
	// On disk first: the file is what stops add and bundle from signing.
	if err := atomicfile.Write(c.alarmPath(), []byte(msg+"\n"), 0o600); err != nil {
		c.log.Error("witness alarm not written to disk", "err", err.Error())
	}
	c.mu.Lock()
	c.alarm = msg
	c.mu.Unlock()
	c.log.Error("WITNESS ALARM: the log may be forked; not signing further checkpoints", "alarm", msg)
}

// cosignedLog serves the cosigned checkpoint as the public log's latest.
type cosignedLog struct {
	*datadir.Dir
	c *cosigner
}

func (l cosignedLog) LatestCheckpoint(context.Context) ([]byte, error) { return l.c.Cosigned(), nil }
