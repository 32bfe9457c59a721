package backup

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/migrate"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/postgres"
	"github.com/vigil-hr/vigil/vault"
	"github.com/vigil-hr/vigil/witness"
)

// RollbackNote is the file a restore with AllowRollback writes into the
// new data directory, saying what was given up.
const RollbackNote = "RESTORED-WITH-ROLLBACK.txt"

// A Known is a checkpoint the restore knows of, and where from.
type Known struct {
	From   string // "--known-checkpoint FILE", "backup target", "witness NAME"
	Signed []byte // a signed checkpoint (for witnesses: nil; Size only)
	Size   int64  // for witnesses: the size it cosigned
}

// RestoreOptions are the options of [Restore].
type RestoreOptions struct {
	// Snapshot is the snapshot to restore; empty means the newest.
	Snapshot string
	// Passphrase unlocks the snapshot's keys.age (to decrypt the database
	// and run the full fsck).
	Passphrase []byte
	// Known are checkpoints the operator knows of (e.g. a copy of the old
	// server's /log/checkpoint): the restored log must extend each.
	Known []Known
	// AskWitnesses asks the witnesses of the snapshot's witness policy, if
	// any, what they cosigned last (by submitting the snapshot's
	// checkpoint, as serve does).
	AskWitnesses bool
	// HTTP is the client used to reach witnesses (nil: 30 s timeout).
	HTTP *http.Client
	// AllowRollback restores a log shorter than a known checkpoint; the
	// restored directory records it in RollbackNote.
	AllowRollback bool
	// Into names where the restored records and blobs go: an empty
	// PostgreSQL database and an empty S3 bucket prefix (either may be
	// empty: the new directory's vigil.db, blobs/). The snapshot's own
	// store and blobs keys (the backed-up server's database and bucket) are
	// never used: the new directory's vigil.json names Into's.
	Into datadir.Backends
	// Progress reports the copy into Into's backends (nil: none).
	Progress migrate.Progress
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Snapshot string
	Manifest string // the manifest's SHA-256
	TreeSize int64
	Blobs    int
	Checked  []string // one line per known checkpoint checked
	// Lost is how many entries a known checkpoint holds beyond the
	// restored log (AllowRollback only).
	Lost int64
	Fsck datadir.FsckReport
	// Moved is what was copied into RestoreOptions.Into's backends.
	Moved migrate.Counts
}

// RollbackError is a restore refused because a known checkpoint is larger
// than the backup's log.
type RollbackError struct {
	From         string
	Known, Have  int64
	SnapshotName string
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("refusing to roll the log back: %s has a checkpoint of %d entries, snapshot %s holds %d: restoring it would lose %d log entries (every submission, record and audit event logged since) (hint: restore a newer snapshot, or give --allow-rollback to restore this one anyway)",
		e.From, e.Known, e.SnapshotName, e.Have, e.Known-e.Have)
}

// Restore rebuilds a data directory at dir (which must not exist or be
// empty) from a snapshot in t. It checks every file and blob against the
// manifest, the restored log against the manifest's size and root and
// against every known checkpoint, then runs fsck. On any failure it
// removes what it wrote: no half-restored directory and no plaintext
// database is left behind.
func Restore(ctx context.Context, t Target, dir string, opt RestoreOptions) (res RestoreResult, err error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return res, fmt.Errorf("%w: %s exists and is not empty: restore only into a new directory", vigil.ErrConflict, dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, err
	}
	var m Manifest
	if opt.Snapshot == "" {
		m, res.Manifest, err = Latest(ctx, t)
	} else {
		m, res.Manifest, err = ReadManifest(ctx, t, opt.Snapshot)
	}
	if err != nil {
		return res, err
	}
	res.Snapshot, res.TreeSize, res.Blobs = m.Snapshot, m.TreeSize, len(m.Blobs)
	for _, f := range []string{"vigil.json", "keys.age", "vigil.db.age"} {
		if _, ok := m.Files[f]; !ok {
			return res, fmt.Errorf("%w: snapshot %s: the manifest lists no %s", vigil.ErrCorrupt, m.Snapshot, f)
		}
	}
	_, statErr := os.Stat(dir)
	created := errors.Is(statErr, fs.ErrNotExist)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			// What we wrote, the plaintext database included.
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
			if created {
				os.Remove(dir)
			}
		}
	}()
	if err := os.Chmod(dir, 0o700); err != nil {
		return res, err
	}
	sdir := "snapshots/" + m.Snapshot + "/"
	for fn := range m.Files {
		if fn == "vigil.db.age" {
			continue
		}
		if !slices.Contains([]string{"vigil.json", "keys.age", "checkpoint", "checkpoint.cosigned"}, fn) {
			return res, fmt.Errorf("%w: snapshot %s: unexpected file %q in the manifest", vigil.ErrCorrupt, m.Snapshot, fn)
		}
		if err := copyChecked(ctx, t, sdir+fn, filepath.Join(dir, fn), m.Files[fn]); err != nil {
			return res, err
		}
	}
	blobs := filepath.Join(dir, "blobs")
	for name, sum := range m.Blobs {
		if err := blob.CheckName(name); err != nil {
			return res, fmt.Errorf("%w: snapshot %s: manifest: %v", vigil.ErrCorrupt, m.Snapshot, err)
		}
		if err := os.MkdirAll(filepath.Join(blobs, name[:2]), 0o700); err != nil {
			return res, err
		}
		if err := copyChecked(ctx, t, "blobs/"+name, filepath.Join(blobs, name[:2], name), sum); err != nil {
			return res, err
		}
	}
	if err := os.MkdirAll(filepath.Join(blobs, "tmp"), 0o700); err != nil {
		return res, err
	}

	// The keys, then the database, decrypted as it streams in; its
	// ciphertext hash is checked before anything opens it. The snapshot's
	// store and blobs keys name the backed-up server's database and bucket:
	// the restored directory keeps its records and blobs in itself until
	// they move to Into's.
	if err := SetBackends(filepath.Join(dir, "vigil.json"), datadir.Backends{}); err != nil {
		return res, err
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "vigil.json"))
	if err != nil {
		return res, err
	}
	var c datadir.Config
	if err := json.Unmarshal(cfg, &c); err != nil {
		return res, fmt.Errorf("%w: vigil.json: %v", vigil.ErrCorrupt, err)
	}
	v, err := vault.Open(filepath.Join(dir, "keys.age"), c.Public)
	if err != nil {
		return res, fmt.Errorf("%w: keys.age: %v", vigil.ErrCorrupt, err)
	}
	if err := v.Unseal(opt.Passphrase); err != nil {
		return res, fmt.Errorf("unseal the snapshot's keys: %w", err)
	}
	err = decryptDB(ctx, t, sdir+"vigil.db.age", filepath.Join(dir, "vigil.db"), m.Files["vigil.db.age"], v)
	v.Seal()
	if err != nil {
		return res, err
	}
	d, err := datadir.Open(ctx, dir)
	if err != nil {
		return res, fmt.Errorf("open the restored directory: %w", err)
	}
	defer func() {
		if d != nil {
			d.Close()
		}
	}() // d is reopened on Into's backends
	if err := d.Vault.Unseal(opt.Passphrase); err != nil {
		return res, fmt.Errorf("unseal: %w", err)
	}
	var tree tlog.Tree
	if err := d.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		tree, err = evlog.Tree(tx)
		return err
	}); err != nil {
		return res, fmt.Errorf("restored log: %w", err)
	}
	if tree.N != m.TreeSize || base64.StdEncoding.EncodeToString(tree.Hash[:]) != m.Root {
		return res, fmt.Errorf("%w: the restored log (%d entries, root %s) is not the manifest's (%d, %s)", vigil.ErrCorrupt, tree.N, tree.Hash, m.TreeSize, m.Root)
	}

	// Known checkpoints: the operator's, the target's own record, the
	// witnesses'.
	known := slices.Clone(opt.Known)
	if name, b, err := latestCheckpoint(ctx, t); err == nil {
		known = append(known, Known{From: "the backup target's " + name, Signed: b})
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, err
	}
	for _, s := range []string{"checkpoint", "checkpoint.cosigned"} {
		if b, err := os.ReadFile(filepath.Join(dir, s)); err == nil {
			known = append(known, Known{From: "the snapshot's " + s, Signed: b})
		}
	}
	if opt.AskWitnesses && d.Config.Witness != nil && len(m.Checkpoint) > 0 {
		ws, err := askWitnesses(ctx, d, m.Checkpoint, opt.HTTP)
		if err != nil {
			return res, err
		}
		known = append(known, ws...)
	}
	var rollback *RollbackError
	for _, k := range known {
		size := k.Size
		if k.Signed != nil {
			cp, err := evlog.OpenCheckpoint(k.Signed, d.Vault.LogVerifier())
			if err != nil {
				return res, fmt.Errorf("%w: %s: %v (not a checkpoint of this log, or this backup's keys were replaced)", vigil.ErrCorrupt, k.From, err)
			}
			size = cp.N
			if cp.N <= tree.N {
				if err := d.Store.View(ctx, func(tx store.ReadTx) error { return evlog.CheckConsistent(tx, cp) }); err != nil {
					return res, fmt.Errorf("%w: %s: the snapshot's log does not extend it: %v (a fork: refusing whatever the flags)", vigil.ErrCorrupt, k.From, err)
				}
			}
		}
		if size < 0 {
			res.Checked = append(res.Checked, fmt.Sprintf("%s: cosigned the snapshot's checkpoint (nothing larger seen)", k.From))
			continue
		}
		if size > tree.N {
			e := &RollbackError{From: k.From, Known: size, Have: tree.N, SnapshotName: m.Snapshot}
			if rollback == nil || e.Known > rollback.Known {
				rollback = e
			}
			continue
		}
		res.Checked = append(res.Checked, fmt.Sprintf("%s: %d entries, extended by the restored log", k.From, size))
	}
	if rollback != nil {
		if !opt.AllowRollback {
			return res, rollback
		}
		res.Lost = rollback.Known - rollback.Have
		note := fmt.Sprintf("This data directory was restored on %s from backup snapshot %s (manifest SHA-256 %s)\nwith --allow-rollback although %s\n",
			time.Now().UTC().Truncate(time.Hour).Format(time.RFC3339), m.Snapshot, res.Manifest, rollback.Error())
		if err := atomicfile.WriteNew(filepath.Join(dir, RollbackNote), []byte(note), 0o600); err != nil {
			return res, err
		}
	}
	if res.Fsck, err = fsckClean(ctx, d); err != nil {
		return res, err
	}
	if opt.Into == (datadir.Backends{}) {
		return res, nil
	}
	if res.Moved, err = moveInto(ctx, d, opt.Into, opt.Progress); err != nil {
		return res, err
	}
	d.Close()
	// The new directory on its new backends: checked again, unsealed.
	d2, err := datadir.Open(ctx, dir)
	if err != nil {
		d = nil
		return res, fmt.Errorf("open the restored directory on its new backends: %w", err)
	}
	d = d2
	if err := d.Vault.Unseal(opt.Passphrase); err != nil {
		return res, fmt.Errorf("unseal: %w", err)
	}
	res.Fsck, err = fsckClean(ctx, d)
	return res, err
}

// fsckClean runs fsck on d and fails unless it is clean.
func fsckClean(ctx context.Context, d *datadir.Dir) (datadir.FsckReport, error) {
	rep, err := d.Fsck(ctx)
	if err != nil {
		return rep, fmt.Errorf("fsck: %w", err)
	}
	if !rep.OK("") {
		return rep, fmt.Errorf("%w: fsck of the restored directory found %d problems (first: %s: %s)", vigil.ErrCorrupt, len(rep.Problems), rep.Problems[0].Part, rep.Problems[0].Text)
	}
	return rep, nil
}

// moveInto copies the restored directory d's records (into.Store) and
// blobs (into.Blobs) to the new backends, which must be empty, verifies
// the copy as vigil migrate does, points d's vigil.json at them and
// removes the local copies. A failure part-way leaves the backends
// partly filled: the error says to empty them.
func moveInto(ctx context.Context, d *datadir.Dir, into datadir.Backends, progress migrate.Progress) (migrate.Counts, error) {
	var c migrate.Counts
	kinds := append(slices.Clone(d.Kinds), record.Kind{Name: auth.Kind}, record.Kind{Name: account.Kind})
	src := migrate.Source{Store: d.Store, Blobs: d.Blobs, Kinds: kinds}
	dst := migrate.Target{Store: d.Store}
	if into.Store != "" {
		db, err := postgres.Open(ctx, into.Store)
		if err != nil {
			return c, fmt.Errorf("--store: %w", err)
		}
		defer db.Close()
		dst.Store = db
	}
	var err error
	if into.Blobs != "" {
		if dst.Blobs, err = migrate.OpenS3(ctx, into.Blobs); err != nil {
			return c, fmt.Errorf("--blobs: %w", err)
		}
	} else if dst.Blobs, err = migrate.OpenLocal(filepath.Join(d.Path, "blobs"), d.Evidence.CoarseTime); err != nil {
		return c, err
	}
	check := migrate.Target{}
	if into.Store != "" {
		check.Store = dst.Store
	}
	if into.Blobs != "" {
		check.Blobs = dst.Blobs
	}
	if err := migrate.CheckEmpty(ctx, check, kinds); err != nil {
		return c, err
	}
	failed := func(err error) error {
		return fmt.Errorf("restore into --store/--blobs (they are now incomplete: empty them before restoring again): %w", err)
	}
	if into.Blobs != "" {
		if c, err = migrate.CopyBlobs(ctx, d.Blobs, dst.Blobs, progress); err != nil {
			return c, failed(err)
		}
	}
	if into.Store != "" {
		err := d.Store.View(ctx, func(tx store.ReadTx) error {
			rc, err := migrate.CopyRecords(ctx, tx, dst.Store, kinds, progress)
			c.Entries, c.Records, c.Versions, c.Checkpoints = rc.Entries, rc.Records, rc.Versions, rc.Checkpoints
			return err
		})
		if err != nil {
			return c, failed(err)
		}
	}
	if _, err := migrate.Verify(ctx, src, dst, d.Vault.LogVerifier(), progress); err != nil {
		return c, failed(fmt.Errorf("verify: %w", err))
	}
	if err := SetBackends(filepath.Join(d.Path, "vigil.json"), into); err != nil {
		return c, err
	}
	// The local copies, now on the new backends.
	if into.Store != "" {
		for _, f := range []string{"vigil.db", "vigil.db-wal", "vigil.db-shm"} {
			if err := os.Remove(filepath.Join(d.Path, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return c, err
			}
		}
	}
	if into.Blobs != "" {
		if err := os.RemoveAll(filepath.Join(d.Path, "blobs")); err != nil {
			return c, err
		}
	}
	return c, nil
}

// SetBackends rewrites the vigil.json at path with its store and blobs
// keys set to be's (removed where empty), keeping every other key as it
// is.
func SetBackends(path string, be datadir.Backends) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%w: %s: %v", vigil.ErrCorrupt, path, err)
	}
	for k, v := range map[string]string{"store": be.Store, "blobs": be.Blobs} {
		delete(cfg, k)
		if v != "" {
			cfg[k], _ = json.Marshal(v)
		}
	}
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(out, '\n'), 0o644)
}

// copyChecked copies a target file to path, checking its size and SHA-256
// against sum; the error names the file.
func copyChecked(ctx context.Context, t Target, name, path string, sum FileSum) error {
	r, err := t.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", vigil.ErrCorrupt, name, err)
	}
	defer r.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	hr := &hashingReader{r: io.LimitReader(r, sum.Size+1), h: sha256.New()}
	if _, err := io.Copy(f, hr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if got := hr.sum(); got != sum {
		return fmt.Errorf("%w: %s is damaged or was changed: %d bytes, SHA-256 %s; the manifest says %d bytes, %s", vigil.ErrCorrupt, name, got.Size, got.SHA256, sum.Size, sum.SHA256)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// decryptDB streams the sealed database into path, decrypting with d's
// unsealed vault, and checks the ciphertext's size and hash.
func decryptDB(ctx context.Context, t Target, name, path string, sum FileSum, v *vault.Vault) error {
	r, err := t.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", vigil.ErrCorrupt, name, err)
	}
	defer r.Close()
	hr := &hashingReader{r: io.LimitReader(r, sum.Size+1), h: sha256.New()}
	pr, err := v.Decrypt(hr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, cerr := io.Copy(f, pr)
	io.Copy(io.Discard, hr) // the rest, for the hash
	if got := hr.sum(); got != sum {
		return fmt.Errorf("%w: %s is damaged or was changed: %d bytes, SHA-256 %s; the manifest says %d bytes, %s", vigil.ErrCorrupt, name, got.Size, got.SHA256, sum.Size, sum.SHA256)
	}
	if cerr != nil {
		return fmt.Errorf("%w: %s: %v", vigil.ErrCorrupt, name, cerr)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// askWitnesses submits the snapshot's checkpoint to the policy's witnesses
// (c2sp.org/tlog-witness, as serve does): a witness that cosigned a larger
// tree says so (409), one that holds another tree at its size refuses the
// proof. Unreachable witnesses are an error: the restore cannot tell what
// they saw (hint given).
func askWitnesses(ctx context.Context, d *datadir.Dir, signed []byte, hc *http.Client) ([]Known, error) {
	p := d.Config.Witness
	if err := p.Valid(true); err != nil {
		return nil, fmt.Errorf("vigil.json: %w", err)
	}
	ws, err := p.Client()
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := &witness.Client{HTTP: hc}
	var res witness.Result
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return tx.ReadHashes(idx) })
		res = c.Cosign(ctx, ws, signed, hr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Known
	for _, ce := range res.Conflicts() {
		if ce.WitnessSize > ce.Size {
			out = append(out, Known{From: "witness " + ce.Witness, Size: ce.WitnessSize})
			continue
		}
		return nil, fmt.Errorf("%w: witness %s: %s", vigil.ErrCorrupt, ce.Witness, ce.Error())
	}
	for name, err := range res.Errs {
		var ce *witness.ConflictError
		if !errors.As(err, &ce) {
			return nil, fmt.Errorf("%w: could not ask witness %s what it cosigned: %v (hint: restore where the witnesses are reachable, or give --no-witnesses and a --known-checkpoint)", vigil.ErrUnavailable, name, err)
		}
	}
	for name := range res.Sigs {
		out = append(out, Known{From: "witness " + name, Size: -1})
	}
	return out, nil
}

// ConfigVerifier reads the log's origin and checkpoint verifier from a
// vigil.json.
func ConfigVerifier(config []byte) (string, note.Verifier, error) {
	var c datadir.Config
	if err := json.Unmarshal(config, &c); err != nil {
		return "", nil, fmt.Errorf("%w: vigil.json: %v", vigil.ErrCorrupt, err)
	}
	v, err := note.NewVerifier(c.LogVKey)
	if err != nil {
		return "", nil, fmt.Errorf("%w: vigil.json: log key: %v", vigil.ErrCorrupt, err)
	}
	return c.Origin, v, nil
}
