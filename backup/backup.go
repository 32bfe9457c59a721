// Package backup writes consistent, encrypted, incremental backups of a
// vigil data directory to a [Target] and restores them into a new data
// directory (docs/backup.md).
//
// A target holds
//
//	blobs/NAME                     every blob once, by name (age ciphertext already)
//	snapshots/000001/manifest.json the snapshot's files and blobs with their SHA-256,
//	                               its log (size, root) and checkpoints
//	snapshots/000001/vigil.db.age  the database, age-encrypted to the vault recipient
//	snapshots/000001/vigil.json    configuration and public keys
//	snapshots/000001/keys.age      the keys, encrypted to the admin passphrase
//	snapshots/000001/checkpoint    the checkpoint anchor (and checkpoint.cosigned)
//	checkpoints/00000000000000000158  each checkpoint a backup here held, by size
//
// A snapshot is complete once its manifest is written (last). Only blobs the
// target lacks are copied. Every file is written once. Nothing written is plaintext but public keys,
// checkpoints and the manifest (names, sizes, hashes of ciphertext), and
// file times are rounded down to the hour.
package backup

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/evlog"
)

// ManifestFormat is the manifest's format line.
const ManifestFormat = "vigil-backup/1"

// CheckpointsDir holds the target's record of the checkpoints its backups
// held, one write-once file each, named by the checkpoint's size (20
// digits): a restore refuses a snapshot that does not extend the largest.
const CheckpointsDir = "checkpoints"

// latestCheckpoint returns the name and content of the largest checkpoint
// recorded in t, or an error wrapping fs.ErrNotExist.
func latestCheckpoint(ctx context.Context, t Target) (string, []byte, error) {
	names, err := t.List(ctx, CheckpointsDir)
	if err != nil {
		return "", nil, err
	}
	for i := len(names) - 1; i >= 0; i-- {
		if len(names[i]) == 20 && strings.Trim(names[i], "0123456789") == "" {
			name := CheckpointsDir + "/" + names[i]
			b, err := readAll(ctx, t, name, evlog.MaxCheckpointSize)
			return name, b, err
		}
	}
	return "", nil, fmt.Errorf("no checkpoint recorded: %w", fs.ErrNotExist)
}

// FileSum is a file's size and SHA-256 (hex).
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// A Manifest describes one snapshot. Restore checks every file and blob
// against it.
type Manifest struct {
	Format string `json:"format"`
	// Snapshot is the snapshot's name, e.g. "000001".
	Snapshot string `json:"snapshot"`
	// Created is when it was taken, rounded down to the hour.
	Created time.Time `json:"created"`
	Origin  string    `json:"origin"`
	SnapshotMeta
	// Files are the snapshot's own files (vigil.db.age, vigil.json...).
	Files map[string]FileSum `json:"files"`
	// Blobs are the blobs the snapshot needs, under blobs/ of the target.
	Blobs map[string]FileSum `json:"blobs"`
}

// A Source is what a backup reads from: a data directory, directly
// (offline) or through a running server (the database snapshot).
type Source struct {
	// Dir is the data directory: vigil.json, keys.age and blobs/ are read
	// from it (files written once, blobs immutable once committed).
	Dir string
	// Blobs, if set, is the blob store to copy instead of Dir/blobs (an S3
	// bucket the data directory's vigil.json or --blobs names), and
	// BlobStore its [BlobLocation]: it must be Meta.BlobStore, where the
	// snapshot's server keeps its blobs.
	Blobs     blob.Store
	BlobStore string
	// Meta describes the database snapshot; Seal writes it age-encrypted.
	Meta SnapshotMeta
	Seal func(w io.Writer) error
}

// Result says what a backup wrote.
type Result struct {
	Snapshot    string
	TreeSize    int64
	Blobs       int   // blobs in the snapshot
	BlobsCopied int   // of which were new to the target
	BytesCopied int64 // every byte written to the target
	Manifest    string
}

// Verifier returns the log's checkpoint verifier from a vigil.json.
type Verifier func(config []byte) (origin string, v note.Verifier, err error)

// Write writes a snapshot of src to t. The database snapshot's blobs
// exist when it was taken (a blob is committed before the item naming it),
// so listing the blobs afterwards finds every one it needs; blobs added
// since are copied too (fsck calls them unreferenced after a restore).
func Write(ctx context.Context, t Target, src Source, verifier Verifier) (Result, error) {
	var res Result
	if src.BlobStore != src.Meta.BlobStore {
		here, there := cmp.Or(src.BlobStore, filepath.Join(src.Dir, "blobs")), cmp.Or(src.Meta.BlobStore, filepath.Join(src.Dir, "blobs"))
		return res, fmt.Errorf("%w: the snapshot's blobs are in %s, but this backup would copy those of %s (hint: give vigil backup the --blobs vigil serve has, or set blobs in vigil.json)", vigil.ErrInvalid, there, here)
	}
	config, err := os.ReadFile(filepath.Join(src.Dir, "vigil.json"))
	if err != nil {
		return res, fmt.Errorf("read config: %w", err)
	}
	origin, v, err := verifier(config)
	if err != nil {
		return res, err
	}
	// A target that saw a larger checkpoint than this log holds is
	// refused: the data directory was rolled back (or is another log).
	latestN := int64(-1)
	if name, latest, err := latestCheckpoint(ctx, t); err == nil {
		cp, err := evlog.OpenCheckpoint(latest, v)
		latestN = cp.N
		if err != nil {
			return res, fmt.Errorf("%w: %s in the backup target: %v (is it another log's backup?)", vigil.ErrCorrupt, name, err)
		}
		if cp.N > src.Meta.TreeSize {
			return res, fmt.Errorf("%w: the backup target holds a checkpoint of %d entries but this log has %d: the data directory was rolled back since (refusing to back up a shorter log over it)", vigil.ErrConflict, cp.N, src.Meta.TreeSize)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, err
	}
	prev, _, err := Latest(ctx, t)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, err
	}
	name, err := nextSnapshot(ctx, t)
	if err != nil {
		return res, err
	}
	m := Manifest{Format: ManifestFormat, Snapshot: name, Created: time.Now().UTC().Truncate(time.Hour),
		Origin: origin, SnapshotMeta: src.Meta, Files: map[string]FileSum{}, Blobs: map[string]FileSum{}}
	m.BlobStore = "" // the live store's location: not the backup's business
	res.Snapshot, res.TreeSize = name, src.Meta.TreeSize

	// Blobs first, then the snapshot's files, the manifest last.
	var blobs []string
	if src.Blobs != nil {
		err = src.Blobs.List(ctx, func(n string) error { blobs = append(blobs, n); return nil })
	} else {
		blobs, err = listBlobs(filepath.Join(src.Dir, "blobs"))
	}
	if err != nil {
		return res, fmt.Errorf("list blobs: %w", err)
	}
	slices.Sort(blobs)
	for _, b := range blobs {
		tn := "blobs/" + b
		if sum, ok := prev.Blobs[b]; ok {
			if n, err := t.Stat(ctx, tn); err == nil && n == sum.Size {
				m.Blobs[b] = sum
				continue
			}
		}
		f, err := openBlob(ctx, src, b)
		if err != nil {
			return res, fmt.Errorf("blob %s: %w", b, err)
		}
		sum, err := put(ctx, t, tn, f)
		f.Close()
		if err != nil {
			return res, fmt.Errorf("copy blob %s: %w", b, err)
		}
		m.Blobs[b] = sum
		res.BlobsCopied++
		res.BytesCopied += sum.Size
	}
	res.Blobs = len(m.Blobs)

	dir := "snapshots/" + name + "/"
	files := map[string][]byte{"vigil.json": config}
	if files["keys.age"], err = os.ReadFile(filepath.Join(src.Dir, "keys.age")); err != nil {
		return res, fmt.Errorf("read keys: %w", err)
	}
	if len(src.Meta.Checkpoint) > 0 {
		files["checkpoint"] = src.Meta.Checkpoint
	}
	if len(src.Meta.Cosigned) > 0 {
		files["checkpoint.cosigned"] = src.Meta.Cosigned
	}
	for fn, b := range files {
		sum, err := put(ctx, t, dir+fn, bytes.NewReader(b))
		if err != nil {
			return res, fmt.Errorf("write %s: %w", fn, err)
		}
		m.Files[fn] = sum
		res.BytesCopied += sum.Size
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(src.Seal(pw)) }()
	sum, err := put(ctx, t, dir+"vigil.db.age", pr)
	pr.CloseWithError(errors.New("backup stopped"))
	if err != nil {
		return res, fmt.Errorf("write the sealed database: %w", err)
	}
	m.Files["vigil.db.age"] = sum
	res.BytesCopied += sum.Size

	mb, _ := json.MarshalIndent(m, "", "  ")
	mb = append(mb, '\n')
	if err := t.Put(ctx, dir+"manifest.json", bytes.NewReader(mb)); err != nil {
		return res, fmt.Errorf("write the manifest: %w", err)
	}
	res.BytesCopied += int64(len(mb))
	h := sha256.Sum256(mb)
	res.Manifest = hex.EncodeToString(h[:])
	if cp, err := evlog.OpenCheckpoint(src.Meta.Checkpoint, v); err == nil && cp.N > latestN {
		name := fmt.Sprintf("%s/%020d", CheckpointsDir, cp.N)
		if err := t.Put(ctx, name, bytes.NewReader(src.Meta.Checkpoint)); err != nil {
			return res, fmt.Errorf("write %s: %w", name, err)
		}
	}
	return res, nil
}

// put stores r as name and returns its size and SHA-256.
func put(ctx context.Context, t Target, name string, r io.Reader) (FileSum, error) {
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(r, h)}
	if err := t.Put(ctx, name, cr); err != nil {
		return FileSum{}, err
	}
	return FileSum{Size: cr.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// openBlob opens the blob name of src.
func openBlob(ctx context.Context, src Source, name string) (io.ReadCloser, error) {
	if src.Blobs != nil {
		return src.Blobs.Open(ctx, name)
	}
	return os.Open(filepath.Join(src.Dir, "blobs", name[:2], name))
}

// listBlobs lists the committed blobs of a local blob directory
// (DIR/ab/abcd..., package blob/localdisk), skipping its tmp/.
func listBlobs(root string) ([]string, error) {
	fans, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, fan := range fans {
		if !fan.IsDir() || len(fan.Name()) != 2 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(root, fan.Name()))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if blob.CheckName(e.Name()) == nil && e.Name()[:2] == fan.Name() {
				names = append(names, e.Name())
			}
		}
	}
	return names, nil
}

// nextSnapshot names the next snapshot: one more than the largest present
// (complete or not).
func nextSnapshot(ctx context.Context, t Target) (string, error) {
	names, err := t.List(ctx, "snapshots")
	if err != nil {
		return "", err
	}
	n := 0
	for _, s := range names {
		if i, err := strconv.Atoi(s); err == nil && i > n {
			n = i
		}
	}
	return fmt.Sprintf("%06d", n+1), nil
}

// Snapshots lists the complete snapshots of t (those with a manifest),
// oldest first.
func Snapshots(ctx context.Context, t Target) ([]string, error) {
	names, err := t.List(ctx, "snapshots")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range names {
		if _, err := strconv.Atoi(s); err != nil || len(s) != 6 {
			continue
		}
		if _, err := t.Stat(ctx, "snapshots/"+s+"/manifest.json"); err == nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// Latest reads the newest complete snapshot's manifest; an error wrapping
// fs.ErrNotExist if there is none.
func Latest(ctx context.Context, t Target) (Manifest, string, error) {
	snaps, err := Snapshots(ctx, t)
	if err != nil {
		return Manifest{}, "", err
	}
	if len(snaps) == 0 {
		return Manifest{}, "", fmt.Errorf("no complete snapshot in the backup target: %w", fs.ErrNotExist)
	}
	m, sum, err := ReadManifest(ctx, t, snaps[len(snaps)-1])
	return m, sum, err
}

// ReadManifest reads and parses a snapshot's manifest, and returns it with
// its SHA-256 (hex).
func ReadManifest(ctx context.Context, t Target, snapshot string) (Manifest, string, error) {
	var m Manifest
	b, err := readAll(ctx, t, "snapshots/"+snapshot+"/manifest.json", 256<<20)
	if err != nil {
		return m, "", fmt.Errorf("snapshot %s: %w", snapshot, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, "", fmt.Errorf("%w: snapshots/%s/manifest.json: %v", vigil.ErrCorrupt, snapshot, err)
	}
	if m.Format != ManifestFormat || m.Snapshot != snapshot {
		return m, "", fmt.Errorf("%w: snapshots/%s/manifest.json: not a %s manifest of this snapshot", vigil.ErrCorrupt, snapshot, ManifestFormat)
	}
	h := sha256.Sum256(b)
	return m, hex.EncodeToString(h[:]), nil
}

func readAll(ctx context.Context, t Target, name string, max int64) ([]byte, error) {
	r, err := t.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	return b, nil
}

// hashingReader hashes and counts what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (h *hashingReader) sum() FileSum {
	return FileSum{Size: h.n, SHA256: hex.EncodeToString(h.h.Sum(nil))}
}
