// Package datadir creates and opens a vigil data directory: configuration,
// encrypted keys, database, blobs and the checkpoint anchor, under one lock.
//
//	DIR/vigil.json    configuration and public keys (plaintext, nothing secret)
//	DIR/keys.age      age identity and log-signing key, age-encrypted to the passphrase
//	DIR/vigil.db      SQLite database (+ -wal, -shm)
//	DIR/blobs/        age-encrypted blobs under random names
//	DIR/checkpoint    the last signed checkpoint (the anti-fork anchor)
//	DIR/public/       signed advisories and statistics, as published (nothing secret)
//	DIR/lock          held by the process using the directory
package datadir

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/advisory"
	"github.com/vigil-hr/vigil/blob/localdisk"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/internal/dirlock"
	"github.com/vigil-hr/vigil/internal/groupcommit"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/stats"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/sqlite"
	"github.com/vigil-hr/vigil/vault"
	"github.com/vigil-hr/vigil/witness"
)

// Config is DIR/vigil.json.
type Config struct {
	// Format is the data directory format version, 1.
	Format int `json:"format"`
	// Origin is the log's checkpoint origin and key name, e.g. "vigil.example.org/log".
	Origin string `json:"origin"`
	vault.Public
	// ReceiptSalt is the public per-instance salt of receipt derivations
	// (32 random bytes, base64).
	ReceiptSalt []byte `json:"receipt_salt"`
	// Intake bounds what sources may send; zero fields take the defaults
	// (see intake.Config).
	Intake IntakeConfig `json:"intake"`
	// Instance says who runs this vigil, shown on the public home page;
	// optional (a neutral default text is shown otherwise).
	Instance InstanceConfig `json:"instance,omitzero"`
	// Witness is the witness policy: serve asks these witnesses to cosign
	// each new checkpoint and publishes it once the quorum holds. Optional;
	// without it checkpoints are published as signed.
	Witness *witness.Policy `json:"witness,omitempty"`
	// Stats tunes vigil stats publish; optional.
	Stats StatsConfig `json:"stats,omitzero"`
}

// StatsConfig is the stats section of vigil.json.
type StatsConfig struct {
	// K is the smallest count published (default 5); smaller ones are hidden.
	K int `json:"k,omitempty"`
	// RegionLevel is the place level published as a region: 1 (default)
	// the top-level place, 2 the one below.
	RegionLevel int `json:"region_level,omitempty"`
}

// InstanceConfig is the instance section of vigil.json: texts per UI
// language tag, e.g. {"name": {"en": "Crimea Watch", "ru": "Крым: мониторинг"},
// "about": {"en": "...", "ru": "..."}}. A language without an entry falls
// back to English.
type InstanceConfig struct {
	Name  map[string]string `json:"name,omitempty"`
	About map[string]string `json:"about,omitempty"`
}

// IntakeConfig is the intake section of vigil.json.
type IntakeConfig struct {
	MaxTextBytes  int    `json:"max_text_bytes,omitempty"`
	MaxFiles      int    `json:"max_files,omitempty"`
	MaxTotalBytes int64  `json:"max_total_bytes,omitempty"`
	TimePrecision string `json:"time_precision,omitempty"` // a Go duration, e.g. "1h"
	// ReceiptAttempts is how many receipt attempts a client may make before
	// it must wait ReceiptWait between attempts (defaults 10 and "1m").
	ReceiptAttempts int    `json:"receipt_attempts,omitempty"`
	ReceiptWait     string `json:"receipt_wait,omitempty"`
}

// Options for [Init].
type Options struct {
	Origin     string // default "vigil.localhost/log"
	WorkFactor int    // scrypt work factor for the key file; 0 = vault.DefaultWorkFactor
}

var originRE = regexp.MustCompile(`^[a-zA-Z0-9.\-]+(:[0-9]+)?(/[a-zA-Z0-9._\-]+)*$`)

// Init creates a data directory at dir with fresh keys under passphrase. It
// refuses an existing non-empty directory.
func Init(dir string, passphrase []byte, opt Options) (Config, error) {
	if opt.Origin == "" {
		opt.Origin = "vigil.localhost/log"
	}
	if !originRE.MatchString(opt.Origin) || len(opt.Origin) > 200 {
		return Config{}, fmt.Errorf("%w: origin %q: want a scheme-less URL prefix like example.org/log", vigil.ErrInvalid, opt.Origin)
	}
	if len(passphrase) < 8 {
		return Config{}, fmt.Errorf("%w: passphrase shorter than 8 characters", vigil.ErrInvalid)
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return Config{}, fmt.Errorf("%w: %s already exists and is not empty; refusing to overwrite it", vigil.ErrConflict, dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Config{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Config{}, err
	}
	lock, err := dirlock.Acquire(dir)
	if err != nil {
		return Config{}, err
	}
	defer lock.Unlock()
	pub, err := vault.Create(filepath.Join(dir, "keys.age"), passphrase, opt.Origin, opt.WorkFactor)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Format: 1, Origin: opt.Origin, Public: pub, ReceiptSalt: make([]byte, 32)}
	rand.Read(cfg.ReceiptSalt)
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := atomicfile.WriteNew(filepath.Join(dir, "vigil.json"), append(b, '\n'), 0o644); err != nil {
		return Config{}, fmt.Errorf("write config: %w", err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "vigil.db"))
	if err != nil {
		return Config{}, err
	}
	db.Close()
	if _, err := localdisk.Open(filepath.Join(dir, "blobs")); err != nil {
		return Config{}, err
	}
	return cfg, atomicfile.SyncDir(dir)
}

// A Dir is an open data directory. Close it to release the lock.
type Dir struct {
	Path     string
	Config   Config
	Vault    *vault.Vault
	Store    store.Store
	Blobs    *localdisk.Dir
	Evidence *evidence.Service
	Log      *evlog.Checkpointer
	Intake   *intake.Service
	Cases    *cases.Service
	Commit   *groupcommit.Committer // batches intake writes
	// Advisories publishes signed advisories into AdvisoryDir.
	Advisories  *advisory.Publisher
	AdvisoryDir advisory.Dir // DIR/public/advisories
	StatsDir    stats.Dir    // DIR/public/stats
	// Kinds lists every kind of record the directory holds, for checks
	// and exports that work on all of them (fsck).
	Kinds record.Registry
	lock  *dirlock.Lock
}

// Open locks and opens the data directory at dir, with a sealed vault.
func Open(ctx context.Context, dir string) (*Dir, error) {
	b, err := os.ReadFile(filepath.Join(dir, "vigil.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a vigil data directory (hint: create one with vigil init --data %s)", dir, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", vigil.ErrCorrupt, filepath.Join(dir, "vigil.json"), err)
	}
	if len(cfg.ReceiptSalt) != 32 {
		return nil, fmt.Errorf("%w: %s: receipt_salt must be 32 bytes", vigil.ErrCorrupt, filepath.Join(dir, "vigil.json"))
	}
	if cfg.Format != 1 {
		return nil, fmt.Errorf("data directory format %d is not supported by this vigil", cfg.Format)
	}
	lock, err := dirlock.Acquire(dir)
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: dir, Config: cfg, lock: lock}
	if err := d.open(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Dir) open(ctx context.Context) error {
	v, err := vault.Open(filepath.Join(d.Path, "keys.age"), d.Config.Public)
	if err != nil {
		return fmt.Errorf("%w: %v", vigil.ErrCorrupt, err)
	}
	d.Vault = v
	db, err := sqlite.Open(ctx, filepath.Join(d.Path, "vigil.db"))
	if err != nil {
		return err
	}
	d.Store = db
	blobs, err := localdisk.Open(filepath.Join(d.Path, "blobs"))
	if err != nil {
		return err
	}
	d.Blobs = blobs
	d.Evidence = &evidence.Service{Store: db, Blobs: blobs, Vault: v}
	ic := intake.Config{MaxText: d.Config.Intake.MaxTextBytes, MaxFiles: d.Config.Intake.MaxFiles,
		MaxTotal: d.Config.Intake.MaxTotalBytes, ReceiptSalt: d.Config.ReceiptSalt}
	if p := d.Config.Intake.TimePrecision; p != "" {
		if ic.TimePrecision, err = time.ParseDuration(p); err != nil || ic.TimePrecision <= 0 {
			return fmt.Errorf("vigil.json: intake.time_precision %q: want a positive duration like 1h", p)
		}
	}
	if w := d.Config.Intake.ReceiptWait; w != "" {
		if v, err := time.ParseDuration(w); err != nil || v <= 0 {
			return fmt.Errorf("vigil.json: intake.receipt_wait %q: want a positive duration like 1m", w)
		}
	}
	if d.Config.Intake.ReceiptAttempts < 0 {
		return fmt.Errorf("vigil.json: intake.receipt_attempts must not be negative")
	}
	// Every plaintext time (blobs, items, case records) is as coarse as
	// intake's.
	precision := ic.WithDefaults().TimePrecision
	blobs.TimePrecision = precision
	d.Evidence.CoarseTime = precision
	d.Commit = groupcommit.New(db, 0)
	d.Intake = &intake.Service{Store: db, Vault: v, Evidence: d.Evidence, Config: ic, Commit: d.Commit}
	d.Cases = &cases.Service{Store: db, Vault: v, TimePrecision: precision}
	// intake.Kinds includes audit.Kind, which cases shares: list it once.
	d.Kinds = append(append(record.Registry{evidence.ItemKind}, intake.Kinds()...), cases.Kinds()...)
	d.Kinds = append(d.Kinds, advisory.Kind, stats.Kind)
	d.AdvisoryDir = advisory.Dir(filepath.Join(d.Path, "public", "advisories"))
	d.StatsDir = stats.Dir(filepath.Join(d.Path, "public", "stats"))
	d.Advisories = &advisory.Publisher{Dir: d.AdvisoryDir, Store: db, Vault: v, Precision: precision}
	d.Log = &evlog.Checkpointer{Signer: v.LogSigner(), Verifier: v.LogVerifier(), AnchorPath: filepath.Join(d.Path, "checkpoint")}
	return nil
}

// Files of the witness policy (vigil.json "witness"), written by serve.
const (
	// CosignedFile holds the latest checkpoint meeting the witness quorum.
	CosignedFile = "checkpoint.cosigned"
	// AlarmFile exists when a witness reported a checkpoint conflicting with
	// the log's: no checkpoint is signed while it does.
	AlarmFile = "witness-alarm"
)

// ErrWitnessAlarm is returned by SignCheckpoint while DIR/witness-alarm exists.
var ErrWitnessAlarm = errors.New("a witness reported a conflicting checkpoint: signing stopped (hint: compare the log with the witness's checkpoint; remove DIR/" + AlarmFile + " only once the cause is understood)")

// SignCheckpoint signs a checkpoint of the current tree if it grew (the vault
// must be unsealed) and returns the latest signed checkpoint. It refuses with
// ErrWitnessAlarm while a witness alarm stands.
func (d *Dir) SignCheckpoint(ctx context.Context) ([]byte, error) {
	if _, err := os.Stat(filepath.Join(d.Path, AlarmFile)); err == nil {
		return nil, ErrWitnessAlarm
	}
	var cp []byte
	err := d.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		cp, err = d.Log.Sign(tx)
		return err
	})
	return cp, err
}

// ViewLog implements evlog.Source.
func (d *Dir) ViewLog(ctx context.Context, fn func(evlog.Reader) error) error {
	return d.Store.View(ctx, func(tx store.ReadTx) error { return fn(tx) })
}

// LatestCheckpoint implements evlog.Source.
func (d *Dir) LatestCheckpoint(ctx context.Context) ([]byte, error) {
	var cp []byte
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		cp, err = tx.LatestCheckpoint()
		return err
	})
	return cp, err
}

// Close seals the vault, closes the store and releases the lock.
func (d *Dir) Close() error {
	if d.Vault != nil {
		d.Vault.Seal()
	}
	var err error
	if d.Commit != nil {
		d.Commit.Close()
	}
	if d.Store != nil {
		err = d.Store.Close()
	}
	if e := d.lock.Unlock(); err == nil {
		err = e
	}
	return err
}
