// Package migrate copies a vigil data directory's records and blobs from
// one pair of backends to another (SQLite and a local blob directory,
// PostgreSQL and S3) and verifies the copy: the same log root, the latest
// checkpoint consistent with the copied tree, every record version equal,
// every blob's SHA-256 equal. It copies ciphertext as it is: no vault is
// needed. vigil migrate is its command.
package migrate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
)

// A Source is what is copied.
type Source struct {
	Store store.Store
	Blobs blob.Store
	// Kinds lists every kind of record to copy (datadir.Dir.Kinds).
	Kinds record.Registry
}

// A Target receives the copy. It must be empty ([CheckEmpty]).
type Target struct {
	Store store.Store
	Blobs NamedStore
}

// A NamedStore is a blob store that can also write a blob under a given
// name: a copied blob keeps its name, which sealed records refer to.
type NamedStore interface {
	blob.Store
	// Put writes r as the blob name, durably, and fails if it exists.
	Put(ctx context.Context, name string, r io.Reader) error
}

// Progress reports how far a phase (blobs, log, records, checkpoints,
// verify) is: done of total.
type Progress func(phase string, done, total int64)

// Counts says what was copied.
type Counts struct {
	Blobs       int64
	BlobBytes   int64
	Entries     int64
	Records     int64 // records (all their versions are copied)
	Versions    int64
	Checkpoints int64
}

// batch is how many leaves or record versions go in one target transaction.
const batch = 256

// CheckEmpty returns an error wrapping vigil.ErrConflict unless the target
// holds no log entry, no checkpoint, no record of kinds and no blob. A nil
// Store or Blobs is not checked.
func CheckEmpty(ctx context.Context, t Target, kinds record.Registry) error {
	var what []string
	var err error
	if t.Store != nil {
		err = t.Store.View(ctx, func(tx store.ReadTx) error {
			n, err := tx.TreeSize()
			if err != nil {
				return err
			}
			if n > 0 {
				what = append(what, fmt.Sprintf("%d log entries", n))
			}
			cp, err := tx.LatestCheckpoint()
			if err != nil {
				return err
			}
			if cp != nil {
				what = append(what, "a checkpoint")
			}
			for _, k := range kinds {
				c, err := tx.CountRecords(k.Name)
				if err != nil {
					return err
				}
				if c > 0 {
					what = append(what, fmt.Sprintf("%d %s records", c, k.Name))
				}
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("target store: %w", err)
	}
	blobs := 0
	if t.Blobs != nil {
		if err := t.Blobs.List(ctx, func(string) error { blobs++; return nil }); err != nil {
			return fmt.Errorf("target blobs: %w", err)
		}
	}
	if blobs > 0 {
		what = append(what, fmt.Sprintf("%d blobs", blobs))
	}
	if len(what) > 0 {
		return fmt.Errorf("%w: the target is not empty (it holds %s); migrate copies into an empty store and bucket prefix only and does not resume (hint: if an earlier migrate was interrupted, drop and recreate the database and empty the bucket prefix, or remove the new directory, then run it again)",
			vigil.ErrConflict, joinAnd(what))
	}
	return nil
}

func joinAnd(s []string) string {
	var b bytes.Buffer
	for i, w := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(w)
	}
	return b.String()
}

// Copy copies every blob of src, then every log entry with its stored
// hashes, every version of every record of src.Kinds and every stored
// checkpoint, from one snapshot of src. It only reads src. Call
// [CheckEmpty] first and [Verify] after.
func Copy(ctx context.Context, src Source, dst Target, progress Progress) (Counts, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	c, err := CopyBlobs(ctx, src.Blobs, dst.Blobs, progress)
	if err != nil {
		return c, err
	}
	err = src.Store.View(ctx, func(tx store.ReadTx) error {
		sc, err := CopyRecords(ctx, tx, dst.Store, src.Kinds, progress)
		c.Entries, c.Records, c.Versions, c.Checkpoints = sc.Entries, sc.Records, sc.Versions, sc.Checkpoints
		return err
	})
	return c, err
}

// CopyRecords copies what tx sees (one snapshot of a store) into dst:
// every log entry with its stored hashes, every version of every record
// of kinds, every stored checkpoint. Blobs are not copied (Counts.Blobs is
// zero). dst must be empty. vigil backup uses it to snapshot a PostgreSQL
// store into a SQLite database.
func CopyRecords(ctx context.Context, tx store.ReadTx, dst store.Store, kinds record.Registry, progress Progress) (Counts, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	var c Counts
	var err error
	if c.Entries, err = copyLog(ctx, tx, dst, progress); err != nil {
		return c, err
	}
	if c.Records, c.Versions, err = copyRecords(ctx, tx, dst, kinds, progress); err != nil {
		return c, err
	}
	c.Checkpoints, err = copyCheckpoints(ctx, tx, dst, c.Entries, progress)
	return c, err
}

// CopyBlobs copies every blob of from into to under its name (only
// Counts.Blobs and BlobBytes are set). to must hold none of them.
func CopyBlobs(ctx context.Context, from blob.Store, to NamedStore, progress Progress) (Counts, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	var c Counts
	var names []string
	if err := from.List(ctx, func(n string) error { names = append(names, n); return nil }); err != nil {
		return c, fmt.Errorf("list source blobs: %w", err)
	}
	sort.Strings(names)
	for i, n := range names {
		progress("blobs", int64(i), int64(len(names)))
		k, err := copyBlob(ctx, from, to, n)
		if err != nil {
			return c, err
		}
		c.Blobs++
		c.BlobBytes += k
	}
	progress("blobs", int64(len(names)), int64(len(names)))
	return c, nil
}

func copyBlob(ctx context.Context, from blob.Store, to NamedStore, name string) (int64, error) {
	rc, err := from.Open(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("read blob %s: %w", name, err)
	}
	defer rc.Close()
	cr := &countReader{r: rc}
	if err := to.Put(ctx, name, cr); err != nil {
		return 0, fmt.Errorf("copy blob %s: %w", name, err)
	}
	return cr.n, nil
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

// hashRange returns the stored hash indexes that WriteLeaf(index) writes.
func hashRange(index int64) []int64 {
	lo, hi := tlog.StoredHashIndex(0, index), tlog.StoredHashCount(index+1)
	out := make([]int64, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func copyLog(ctx context.Context, tx store.ReadTx, dst store.Store, progress Progress) (int64, error) {
	size, err := tx.TreeSize()
	if err != nil {
		return 0, err
	}
	for start := int64(0); start < size; start += batch {
		end := min(start+batch, size)
		progress("log", start, size)
		entries, err := tx.ReadEntries(start, end)
		if err != nil {
			return 0, fmt.Errorf("read log entries %d–%d: %w", start, end, err)
		}
		hashes := make([][]tlog.Hash, len(entries))
		for i := range entries {
			if hashes[i], err = tx.ReadHashes(hashRange(start + int64(i))); err != nil {
				return 0, fmt.Errorf("read hashes of log entry %d: %w", start+int64(i), err)
			}
		}
		err = dst.Update(ctx, func(t store.Tx) error {
			for i, e := range entries {
				if err := t.WriteLeaf(start+int64(i), e, hashes[i]); err != nil {
					return fmt.Errorf("write log entry %d: %w", start+int64(i), err)
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	progress("log", size, size)
	return size, nil
}

func copyRecords(ctx context.Context, tx store.ReadTx, dst store.Store, kinds record.Registry, progress Progress) (recs, versions int64, err error) {
	var total int64
	for _, k := range kinds {
		n, err := tx.CountRecords(k.Name)
		if err != nil {
			return 0, 0, err
		}
		total += n
	}
	var pending []store.Record
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := dst.Update(ctx, func(t store.Tx) error {
			for _, r := range pending {
				if err := t.PutRecord(r); err != nil {
					return fmt.Errorf("write %s %s version %d: %w", r.Kind, r.ID, r.Version, err)
				}
			}
			return nil
		})
		pending = pending[:0]
		return err
	}
	for _, k := range kinds {
		err := store.EachRecord(tx, k.Name, func(latest store.Record) error {
			if recs%batch == 0 {
				progress("records", recs, total)
			}
			recs++
			for v := int64(1); v <= latest.Version; v++ {
				r := latest
				if v != latest.Version {
					var err error
					if r, err = tx.Record(latest.ID, v); err != nil {
						return fmt.Errorf("read %s %s version %d: %w", k.Name, latest.ID, v, err)
					}
				}
				pending = append(pending, r)
				versions++
				if len(pending) >= batch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return recs, versions, err
		}
	}
	if err := flush(); err != nil {
		return recs, versions, err
	}
	progress("records", recs, total)
	return recs, versions, nil
}

func copyCheckpoints(ctx context.Context, tx store.ReadTx, dst store.Store, size int64, progress Progress) (int64, error) {
	// The store lists no checkpoint sizes: ask for each.
	var n int64
	for s := int64(0); s <= size; s++ {
		if s%1024 == 0 {
			progress("checkpoints", s, size)
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		cp, err := tx.Checkpoint(s)
		if errors.Is(err, vigil.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("read checkpoint %d: %w", s, err)
		}
		if err := dst.Update(ctx, func(t store.Tx) error { return t.PutCheckpoint(s, cp) }); err != nil {
			return n, fmt.Errorf("write checkpoint %d: %w", s, err)
		}
		n++
	}
	progress("checkpoints", size, size)
	return n, nil
}

// A Report is what [Verify] found equal on both sides.
type Report struct {
	Entries    int64
	Root       tlog.Hash // the log root, the same on both sides
	Checkpoint int64     // size of the latest checkpoint, verified against the target's tree; -1 if none
	Versions   int64     // record versions compared byte for byte
	Blobs      int64     // blobs whose SHA-256 matched
}

// Verify checks the target against the source, each read in one snapshot:
// the same tree size and log root (recomputed from each side's stored
// hashes), every stored hash of the target consistent (evlog.Check), the
// source's latest checkpoint signed by verifier and consistent with the
// target's tree, and the same checkpoint latest on both sides, every record
// version of kinds equal, and the same blob names with the same SHA-256.
func Verify(ctx context.Context, src Source, dst Target, verifier note.Verifier, progress Progress) (Report, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	rep := Report{Checkpoint: -1}
	err := src.Store.View(ctx, func(stx store.ReadTx) error {
		return dst.Store.View(ctx, func(dtx store.ReadTx) error {
			sn, err := stx.TreeSize()
			if err != nil {
				return err
			}
			dn, err := dtx.TreeSize()
			if err != nil {
				return err
			}
			if sn != dn {
				return fmt.Errorf("%w: the target's log has %d entries, the source's %d", vigil.ErrCorrupt, dn, sn)
			}
			rep.Entries = sn
			if sn > 0 {
				sr, err := tlog.TreeHash(sn, tlog.HashReaderFunc(stx.ReadHashes))
				if err != nil {
					return fmt.Errorf("source log root: %w", err)
				}
				dr, err := tlog.TreeHash(dn, tlog.HashReaderFunc(dtx.ReadHashes))
				if err != nil {
					return fmt.Errorf("target log root: %w", err)
				}
				if sr != dr {
					return fmt.Errorf("%w: the target's log root %s differs from the source's %s", vigil.ErrCorrupt, dr, sr)
				}
				rep.Root = dr
			}
			if err := evlog.Check(dtx); err != nil {
				return fmt.Errorf("%w: target log: %v", vigil.ErrCorrupt, err)
			}
			scp, err := stx.LatestCheckpoint()
			if err != nil {
				return err
			}
			dcp, err := dtx.LatestCheckpoint()
			if err != nil {
				return err
			}
			if !bytes.Equal(scp, dcp) {
				return fmt.Errorf("%w: the target's latest checkpoint differs from the source's", vigil.ErrCorrupt)
			}
			if dcp != nil {
				c, err := evlog.OpenCheckpoint(dcp, verifier)
				if err != nil {
					return fmt.Errorf("%w: latest checkpoint: %v", vigil.ErrCorrupt, err)
				}
				if err := evlog.CheckConsistent(dtx, c); err != nil {
					return fmt.Errorf("%w: latest checkpoint (size %d) against the target's tree: %v", vigil.ErrCorrupt, c.N, err)
				}
				rep.Checkpoint = c.N
			}
			for _, k := range src.Kinds {
				sc, err := stx.CountRecords(k.Name)
				if err != nil {
					return err
				}
				dc, err := dtx.CountRecords(k.Name)
				if err != nil {
					return err
				}
				if sc != dc {
					return fmt.Errorf("%w: the target has %d %s records, the source %d", vigil.ErrCorrupt, dc, k.Name, sc)
				}
				err = store.EachRecord(stx, k.Name, func(latest store.Record) error {
					for v := int64(1); v <= latest.Version; v++ {
						s, err := stx.Record(latest.ID, v)
						if err != nil {
							return err
						}
						d, err := dtx.Record(latest.ID, v)
						if err != nil {
							return fmt.Errorf("%w: target %s %s version %d: %v", vigil.ErrCorrupt, k.Name, latest.ID, v, err)
						}
						if !sameRecord(s, d) {
							return fmt.Errorf("%w: target %s %s version %d differs from the source's", vigil.ErrCorrupt, k.Name, latest.ID, v)
						}
						rep.Versions++
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return rep, err
	}
	src1, err := blobSums(ctx, src.Blobs, "source", progress)
	if err != nil {
		return rep, err
	}
	dst1, err := blobSums(ctx, dst.Blobs, "target", progress)
	if err != nil {
		return rep, err
	}
	if len(src1) != len(dst1) {
		return rep, fmt.Errorf("%w: the target holds %d blobs, the source %d", vigil.ErrCorrupt, len(dst1), len(src1))
	}
	for n, h := range src1 {
		g, ok := dst1[n]
		if !ok {
			return rep, fmt.Errorf("%w: blob %s is missing from the target", vigil.ErrCorrupt, n)
		}
		if g != h {
			return rep, fmt.Errorf("%w: blob %s: the target's SHA-256 differs from the source's", vigil.ErrCorrupt, n)
		}
		rep.Blobs++
	}
	return rep, nil
}

func sameRecord(a, b store.Record) bool {
	return a.ID == b.ID && a.Version == b.Version && a.Kind == b.Kind && a.Created.Equal(b.Created) &&
		a.LeafIndex == b.LeafIndex && a.Blob == b.Blob && bytes.Equal(a.Body, b.Body) && bytes.Equal(a.Key, b.Key)
}

// blobSums returns the SHA-256 of every blob of s by name.
func blobSums(ctx context.Context, s blob.Store, side string, progress Progress) (map[string][32]byte, error) {
	var names []string
	if err := s.List(ctx, func(n string) error { names = append(names, n); return nil }); err != nil {
		return nil, fmt.Errorf("list %s blobs: %w", side, err)
	}
	out := make(map[string][32]byte, len(names))
	for i, n := range names {
		progress("verify "+side+" blobs", int64(i), int64(len(names)))
		rc, err := s.Open(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("%s blob %s: %w", side, n, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s blob %s: %w", side, n, err)
		}
		out[n] = [32]byte(h.Sum(nil))
	}
	progress("verify "+side+" blobs", int64(len(names)), int64(len(names)))
	return out, nil
}
