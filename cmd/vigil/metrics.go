package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
)

// serveMetrics is what serve reports at the staff listener's /metrics
// besides its own requests (api.Metrics): the seal state, the published
// checkpoint's size and age, the witness state, and intake counts.
//
// The intake counts (submissions, messages, blob bytes) are a snapshot
// taken at each boundary of the intake time precision, by the same clock
// grid the checkpoints use, and are absent until the first boundary after
// start: a live count scraped every 15 s would date each submission to
// 15 s, and a snapshot at start (an arbitrary moment) would date the
// submissions since the last boundary to before it. TestMetricsIntakeWindow
// checks two submissions change nothing until the next snapshot. Public
// requests that failed on our side (a storage error during a submission)
// are counted the same way, and logged per window, never as they happen.
type serveMetrics struct {
	d         *datadir.Dir
	cs        *cosigner // nil without a witness policy
	precision time.Duration

	// failed counts public requests that failed on our side (web's
	// InternalError), live; only snapshots of it are shown.
	failed atomic.Int64

	mu     sync.Mutex
	intake *intakeSnapshot // nil until the first boundary
}

type intakeSnapshot struct {
	submissions, messages, blobBytes, failed int64
}

// intakeFailed counts a public request that failed on our side.
func (m *serveMetrics) intakeFailed() { m.failed.Add(1) }

// snapshot recounts the intake totals; serve calls it at each precision
// boundary. It returns how many public requests failed on our side since
// the previous snapshot, for the log.
func (m *serveMetrics) snapshot(ctx context.Context) (failedSince int64, err error) {
	s := intakeSnapshot{failed: m.failed.Load()}
	err = m.d.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		if s.submissions, err = tx.CountRecords(intake.KindSubmission); err != nil {
			return err
		}
		s.messages, err = tx.CountRecords(intake.KindMessage)
		return err
	})
	if err != nil {
		return 0, err
	}
	root := filepath.Join(m.d.Path, "blobs")
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && p == filepath.Join(root, "tmp") {
			return filepath.SkipDir // uploads in progress
		}
		if e.Type().IsRegular() {
			fi, err := e.Info()
			if err != nil {
				return err
			}
			s.blobBytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	prev := int64(0)
	if m.intake != nil {
		prev = m.intake.failed
	}
	m.intake = &s
	m.mu.Unlock()
	return s.failed - prev, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// collect returns the metrics at scrape time.
func (m *serveMetrics) collect(ctx context.Context) []api.Metric {
	ms := []api.Metric{
		{Name: "vigil_sealed", Help: "1 while the vault is sealed, 0 while unsealed.", Type: "gauge", Value: b2f(m.d.Vault.Sealed())},
		{Name: "vigil_intake_time_precision_seconds", Help: "The intake time precision: the window of the intake counts.", Type: "gauge", Value: m.precision.Seconds()},
	}
	// The latest signed checkpoint: signed only at boundaries, published.
	if cp, err := m.d.LatestCheckpoint(ctx); err == nil && cp != nil {
		if c, err := evlog.OpenCheckpoint(cp, m.d.Vault.LogVerifier()); err == nil {
			ms = append(ms, api.Metric{Name: "vigil_log_checkpoint_size", Help: "Tree size of the latest signed checkpoint.", Type: "gauge", Value: float64(c.N)})
		}
		if fi, err := os.Stat(m.d.Log.AnchorPath); err == nil {
			ms = append(ms, api.Metric{Name: "vigil_log_checkpoint_age_seconds", Help: "Seconds since the latest checkpoint was signed.", Type: "gauge", Value: time.Since(fi.ModTime()).Truncate(time.Second).Seconds()})
		}
	}
	if m.cs != nil {
		ms = append(ms,
			api.Metric{Name: "vigil_witness_alarm", Help: "1 if a witness reported a conflicting checkpoint (signing stopped).", Type: "gauge", Value: b2f(m.cs.Alarm() != "")},
			api.Metric{Name: "vigil_witness_required", Help: "Cosignatures the witness policy requires.", Type: "gauge", Value: float64(m.cs.policy.Need())},
		)
		if b := m.cs.Cosigned(); b != nil {
			if c, _, err := m.cs.policy.Verify(b, m.d.Vault.LogVerifier()); err == nil {
				ms = append(ms, api.Metric{Name: "vigil_witness_cosigned_size", Help: "Tree size of the latest checkpoint meeting the witness quorum (the published one).", Type: "gauge", Value: float64(c.N)})
			}
		}
	}
	m.mu.Lock()
	s := m.intake
	m.mu.Unlock()
	if s != nil {
		ms = append(ms,
			api.Metric{Name: "vigil_intake_submissions_total", Help: "Submissions received, counted at the last intake time precision boundary.", Type: "counter", Value: float64(s.submissions)},
			api.Metric{Name: "vigil_intake_messages_total", Help: "Follow-up messages (sources' and staff's), counted at the last intake time precision boundary.", Type: "counter", Value: float64(s.messages)},
			api.Metric{Name: "vigil_public_internal_errors_total", Help: "Public requests (submissions, follow-ups) that failed on our side, counted at the last intake time precision boundary.", Type: "counter", Value: float64(s.failed)},
			api.Metric{Name: "vigil_blob_bytes", Help: "Bytes of encrypted blobs on disk (padded sizes), counted at the last intake time precision boundary.", Type: "gauge", Value: float64(s.blobBytes)},
		)
	}
	return ms
}
