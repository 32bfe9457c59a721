package backup

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"filippo.io/age"

	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/auth"
	s3blob "github.com/vigil-hr/vigil/blob/s3"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/migrate"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/sqlite"
)

// TmpDir is the data directory's private area (mode 0700) where a
// snapshot's plaintext database copy lives while it is encrypted; it is
// emptied when a snapshot starts and when it ends.
const TmpDir = "backup-tmp"

// SnapshotMeta describes a database snapshot: its log and the checkpoints
// of the data directory when it was taken (each no larger than the
// snapshot's tree).
type SnapshotMeta struct {
	// TreeSize and Root are the snapshot's log: size and root hash (base64).
	TreeSize int64  `json:"tree_size"`
	Root     string `json:"root"`
	// Checkpoint is the checkpoint anchor (DIR/checkpoint), empty if none
	// was signed; Cosigned is DIR/checkpoint.cosigned, empty if none.
	Checkpoint []byte `json:"checkpoint,omitempty"`
	Cosigned   []byte `json:"cosigned,omitempty"`
	// BlobStore is where the snapshot's blobs are: an S3 location without
	// credentials ([BlobLocation]), empty for DIR/blobs. [Write] checks it
	// against its Source's and leaves it out of the manifest.
	BlobStore string `json:"blob_store,omitempty"`
}

// BlobLocation returns the S3 blob store URL rawURL without credentials,
// to compare where two processes read blobs; "" for "" (DIR/blobs).
func BlobLocation(rawURL string) string {
	if rawURL == "" {
		return ""
	}
	l, err := s3blob.ParseURL(rawURL)
	if err != nil {
		return "unparsable blob URL"
	}
	return l.String()
}

// A Snapshot is a consistent copy of a data directory's database, taken
// while the directory may be in use, kept in DIR/backup-tmp until Close.
type Snapshot struct {
	Meta      SnapshotMeta
	dir       string // the private temporary directory
	db        string
	recipient age.Recipient
}

// ClearTmp removes DIR/backup-tmp, the leftover of a snapshot whose
// process was killed. Call it holding the data directory (vigil serve does
// at start; Take does too).
func ClearTmp(dataDir string) error {
	if err := os.RemoveAll(filepath.Join(dataDir, TmpDir)); err != nil {
		return fmt.Errorf("clear %s: %w", filepath.Join(dataDir, TmpDir), err)
	}
	return nil
}

// snapMu serializes snapshots in one process (a server); across processes
// the data directory lock does (offline commands hold it, serve holds it).
var snapMu sync.Mutex

// Take snapshots the data directory at dataDir. The caller must hold the
// directory (its lock) or be the server holding it. The anchor files are
// read first, so each checkpoint is no larger than the snapshot's tree: a
// checkpoint is signed only over entries already committed, and the anchor
// is written before the database copy starts.
func Take(ctx context.Context, dataDir string, recipient age.Recipient) (*Snapshot, error) {
	return take(ctx, dataDir, recipient, func(dst string) error {
		return vacuumInto(ctx, filepath.Join(dataDir, "vigil.db"), dst)
	}, nil)
}

// TakeDir snapshots the open data directory d (the caller holds it, or is
// the server holding it): its SQLite database as [Take] does, or, when its
// records are in PostgreSQL, every log entry, record version and
// checkpoint one read-only REPEATABLE READ transaction sees (store.View),
// copied into a SQLite database in DIR/backup-tmp, so that a restore gets
// an ordinary data directory. With several servers on one database, the
// latest checkpoint in that transaction may be newer than this server's
// anchor: the snapshot then carries it.
func TakeDir(ctx context.Context, d *datadir.Dir) (*Snapshot, error) {
	where := BlobLocation(d.Backends.Blobs)
	if d.Backends.Store == "" {
		s, err := Take(ctx, d.Path, d.Vault.Recipient())
		if err == nil {
			s.Meta.BlobStore = where
		}
		return s, err
	}
	// Every kind the store holds: the directory's, API tokens and staff
	// accounts (as vigil migrate copies).
	kinds := append(slices.Clone(d.Kinds), record.Kind{Name: auth.Kind}, record.Kind{Name: account.Kind})
	var latest []byte
	copyStore := func(dst string) error {
		db, err := sqlite.Open(ctx, dst)
		if err != nil {
			return fmt.Errorf("create the snapshot database: %w", err)
		}
		err = d.Store.View(ctx, func(tx store.ReadTx) error {
			if _, err := migrate.CopyRecords(ctx, tx, db, kinds, nil); err != nil {
				return err
			}
			latest, err = tx.LatestCheckpoint()
			return err
		})
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("copy the store: %w", err)
		}
		return nil
	}
	newer := func(meta *SnapshotMeta) {
		meta.BlobStore = where
		v := d.Vault.LogVerifier()
		cp, err := evlog.OpenCheckpoint(latest, v)
		if err != nil {
			return
		}
		if anchor, err := evlog.OpenCheckpoint(meta.Checkpoint, v); err != nil || anchor.N < cp.N {
			meta.Checkpoint = latest
		}
	}
	return take(ctx, d.Path, d.Vault.Recipient(), copyStore, newer)
}

// take reads the anchors, fills DIR/backup-tmp/vigil.db with fill (which
// creates it), reads the copy's tree, and lets adjust change the meta.
func take(ctx context.Context, dataDir string, recipient age.Recipient, fill func(dst string) error, adjust func(*SnapshotMeta)) (*Snapshot, error) {
	snapMu.Lock()
	ok := false
	defer func() {
		if !ok {
			snapMu.Unlock()
		}
	}()
	var meta SnapshotMeta
	var err error
	if meta.Checkpoint, err = readOptional(filepath.Join(dataDir, "checkpoint")); err != nil {
		return nil, err
	}
	if meta.Cosigned, err = readOptional(filepath.Join(dataDir, "checkpoint.cosigned")); err != nil {
		return nil, err
	}
	tmp := filepath.Join(dataDir, TmpDir)
	// Leftovers of an interrupted snapshot: a plaintext database copy
	// must not outlive its operation.
	if err := ClearTmp(dataDir); err != nil {
		return nil, err
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, err
	}
	s := &Snapshot{Meta: meta, dir: tmp, db: filepath.Join(tmp, "vigil.db"), recipient: recipient}
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(s.db); err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("open the snapshot: %w", err)
	}
	err = db.View(ctx, func(tx store.ReadTx) error {
		t, err := evlog.Tree(tx)
		s.Meta.TreeSize, s.Meta.Root = t.N, base64.StdEncoding.EncodeToString(t.Hash[:])
		return err
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot tree: %w", err)
	}
	// sqlite.Open put the copy in WAL mode: fold it back into one file.
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(s.db + suffix)
	}
	if adjust != nil {
		adjust(&s.Meta)
	}
	ok = true
	return s, nil
}

// vacuumInto copies the database at src into dst (which must not exist) in
// one read transaction: a consistent snapshot while writers go on.
func vacuumInto(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if strings.ContainsAny(dst, "'\x00") {
		return fmt.Errorf("snapshot path %q: quote in path", dst)
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO '"+dst+"'"); err != nil {
		return fmt.Errorf("copy the database: %w", err)
	}
	return nil
}

// Seal writes the snapshot's database to w, age-encrypted to the vault's
// recipient, streaming (constant memory).
func (s *Snapshot) Seal(w io.Writer) error {
	f, err := os.Open(s.db)
	if err != nil {
		return err
	}
	defer f.Close()
	ew, err := age.Encrypt(w, s.recipient)
	if err != nil {
		return err
	}
	if _, err := io.Copy(ew, f); err != nil {
		return err
	}
	return ew.Close()
}

// Close removes the plaintext copy and its directory.
func (s *Snapshot) Close() error {
	defer snapMu.Unlock()
	return os.RemoveAll(s.dir)
}

func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(b) > evlog.MaxCheckpointSize*4 {
		return nil, fmt.Errorf("%s: too large for a checkpoint", path)
	}
	return b, nil
}
