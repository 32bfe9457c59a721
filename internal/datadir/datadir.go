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
//	DIR/staff.sock    vigil serve's local staff socket (internal/staffsock), while it runs
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
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/advisory"
	"github.com/vigil-hr/vigil/blob"
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
)

// Options for [Init].
type Options struct {
	Origin     string // default "vigil.localhost/log"
	WorkFactor int    // scrypt work factor for the key file; 0 = vault.DefaultWorkFactor
	// Instance is written to vigil.json as it is (who runs this vigil).
	Instance InstanceConfig
}

// CheckOrigin returns an error wrapping [vigil.ErrInvalid] unless origin is
// a valid log origin: a scheme-less URL prefix like example.org/log.
func CheckOrigin(origin string) error {
	if !validOrigin(origin) {
		return fmt.Errorf("%w: origin %q: want a scheme-less URL prefix like example.org/log", vigil.ErrInvalid, origin)
	}
	return nil
}

// Init creates a data directory at dir with fresh keys under passphrase. It
// refuses an existing non-empty directory.
func Init(dir string, passphrase []byte, opt Options) (Config, error) {
	if opt.Origin == "" {
		opt.Origin = "vigil.localhost/log"
	}
	if err := CheckOrigin(opt.Origin); err != nil {
		return Config{}, err
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
	cfg := Config{Format: 1, Origin: opt.Origin, Public: pub, ReceiptSalt: make([]byte, 32), Instance: opt.Instance}
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
	Blobs    blob.Store
	Evidence *evidence.Service
	Log      *evlog.Checkpointer
	Intake   *intake.Service
	Cases    *cases.Service
	Commit   *groupcommit.Committer // batches intake writes
	// Advisories publishes signed advisories into AdvisoryDir.
	Advisories  *advisory.Publisher
	AdvisoryDir advisory.Dir // DIR/public/advisories
	StatsDir    stats.Dir    // DIR/public/stats
	// Backends are the URLs the store and blobs were opened from (empty:
	// in the directory).
	Backends Backends
	// Kinds lists every kind of record the directory holds, for checks
	// and exports that work on all of them (fsck).
	Kinds record.Registry
	lock  *dirlock.Lock
}

// Open locks and opens the data directory at dir, with a sealed vault.
func Open(ctx context.Context, dir string) (*Dir, error) {
	return OpenWith(ctx, dir, Backends{})
}

// OpenWith is [Open] with the backends of over (vigil serve's --store and
// --blobs) in place of vigil.json's, where set.
func OpenWith(ctx context.Context, dir string, over Backends) (*Dir, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	be := cfg.Backends
	from := backendSource{store: "vigil.json store", blobs: "vigil.json blobs"}
	if over.Store != "" {
		be.Store, from.store = over.Store, "--store"
	}
	if over.Blobs != "" {
		be.Blobs, from.blobs = over.Blobs, "--blobs"
	}
	lock, err := dirlock.Acquire(dir)
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: dir, Config: cfg, lock: lock, Backends: be}
	if err := d.open(ctx, be, from); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// backendSource says where each backend URL came from, for messages.
type backendSource struct{ store, blobs string }

func (d *Dir) open(ctx context.Context, be Backends, from backendSource) error {
	v, err := vault.Open(filepath.Join(d.Path, "keys.age"), d.Config.Public)
	if err != nil {
		return fmt.Errorf("%w: %v", vigil.ErrCorrupt, err)
	}
	d.Vault = v
	db, err := d.openStore(ctx, be.Store, from.store)
	if err != nil {
		return err
	}
	d.Store = db
	d.Evidence = &evidence.Service{Store: db, Vault: v}
	ic := intake.Config{MaxText: d.Config.Intake.MaxTextBytes, MaxFiles: d.Config.Intake.MaxFiles,
		MaxTotal: d.Config.Intake.MaxTotalBytes, ReceiptSalt: d.Config.ReceiptSalt}
	// ParseConfig checked the durations.
	ic.TimePrecision, _ = time.ParseDuration(d.Config.Intake.TimePrecision)
	// Every plaintext time (blobs, items, case records) is as coarse as
	// intake's.
	precision := ic.WithDefaults().TimePrecision
	if d.Blobs, err = d.openBlobs(ctx, be.Blobs, from.blobs, precision); err != nil {
		return err
	}
	d.Evidence.Blobs = d.Blobs
	d.Evidence.CoarseTime = precision
	d.Commit = groupcommit.New(db, 0)
	d.Intake = &intake.Service{Store: db, Vault: v, Evidence: d.Evidence, Config: ic, Commit: d.Commit}
	d.Cases = &cases.Service{Store: db, Vault: v, TimePrecision: precision, Submissions: d.Intake}
	d.Intake.Changed = d.Cases.SubmissionChanged // search keeps submissions current
	v.OnSeal(d.Intake.Forget)                    // the inbox index goes with the keys
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

// SignIfNew is SignCheckpoint for a server that may share its store with
// others (docs/scale.md): in the same write transaction, which holds the
// store's write lock, it first looks at the latest stored checkpoint, and if
// that already covers the whole tree (another server signed it) it returns
// it with signed false, signing nothing. Two servers waking at the same
// boundary therefore sign one checkpoint between them.
func (d *Dir) SignIfNew(ctx context.Context) (cp []byte, signed bool, err error) {
	if _, err := os.Stat(filepath.Join(d.Path, AlarmFile)); err == nil {
		return nil, false, ErrWitnessAlarm
	}
	err = d.Store.Update(ctx, func(tx store.Tx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
		latest, err := tx.LatestCheckpoint()
		if err != nil {
			return err
		}
		if latest != nil {
			c, err := evlog.OpenCheckpoint(latest, d.Vault.LogVerifier())
			if err != nil {
				return err
			}
			if c.N >= n {
				cp = latest
				return nil
			}
		}
		cp, err = d.Log.Sign(tx)
		signed = err == nil
		return err
	})
	return cp, signed, err
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
