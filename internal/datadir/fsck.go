package datadir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/witness"
)

// A FsckReport is what [Dir.Fsck] checked and every problem it found. It is
// also the body of the staff API's POST /api/v1/fsck, so the command line
// prints the same report offline and from a running server.
type FsckReport struct {
	// Entries is the log's size.
	Entries int64 `json:"entries"`
	// Checkpoint is the size of the latest signed checkpoint (the anchor
	// file's or the database's), -1 if none.
	Checkpoint int64 `json:"checkpoint"`
	// Cosigned is the size of DIR/checkpoint.cosigned, -1 if none, and
	// Cosigners the witnesses whose cosignatures on it verified.
	Cosigned  int64    `json:"cosigned"`
	Cosigners []string `json:"cosigners"`
	// Sealed is set when the vault was sealed: records and items were not
	// checked (they name their blobs and leaves only in sealed bodies).
	Sealed bool `json:"sealed"`
	// Records, Versions and Leaves are record.Report's counts.
	Records  int `json:"records"`
	Versions int `json:"versions"`
	Leaves   int `json:"leaves"`
	// Items is the number of evidence items, Orphans the blobs no item
	// references (leftovers of interrupted ingests, not a problem).
	Items   int `json:"items"`
	Orphans int `json:"orphans"`
	// Problems lists every problem found, in the order of the checks.
	Problems []FsckProblem `json:"problems"`
}

// A FsckProblem is one thing [Dir.Fsck] found wrong. Its text names record
// IDs, leaf indexes and checkpoint sizes, never record content.
type FsckProblem struct {
	// Part is what was checked: log, checkpoint, cosigned, witness,
	// records or items.
	Part string `json:"part"`
	Text string `json:"text"`
}

// OK reports whether part (all parts if "") had no problem.
func (r FsckReport) OK(part string) bool {
	for _, p := range r.Problems {
		if part == "" || p.Part == part {
			return false
		}
	}
	return true
}

// Fsck checks the data directory: the log's stored hashes, the checkpoint
// anchor and the latest signed and cosigned checkpoints against the tree,
// the witness alarm and, when the vault is unsealed, that every record
// version decrypts and commits to exactly one log entry and every item
// decrypts to its hash. It goes on past problems and lists them all in the
// report; the error is only for what stops the checks (the store cannot be
// read, ctx is done). It only reads: it can run while serve runs.
//
// The log's hashes are checked in order and only the first bad entry is
// reported, as each later hash depends on it.
func (d *Dir) Fsck(ctx context.Context) (FsckReport, error) {
	rep := FsckReport{Checkpoint: -1, Cosigned: -1, Cosigners: []string{}, Problems: []FsckProblem{}}
	problem := func(part string, err error) {
		rep.Problems = append(rep.Problems, FsckProblem{Part: part, Text: err.Error()})
	}
	var recs []store.Record
	used := map[string]bool{}
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		if rep.Entries, err = tx.TreeSize(); err != nil {
			return err
		}
		if err := evlog.Check(tx); err != nil {
			problem("log", fmt.Errorf("%w: log: %v", vigil.ErrCorrupt, err))
		}
		n, have, err := d.checkCosigned(tx)
		switch {
		case errors.Is(err, vigil.ErrCorrupt):
			problem("cosigned", err)
		case err != nil:
			return err
		default:
			rep.Cosigned = n
			if have != nil {
				rep.Cosigners = have
			}
		}
		for _, src := range []string{"anchor", "database"} {
			var cp []byte
			if src == "anchor" {
				cp, err = d.Log.Anchor()
			} else {
				cp, err = tx.LatestCheckpoint()
			}
			if err != nil {
				return err
			}
			if cp == nil {
				continue
			}
			c, err := evlog.OpenCheckpoint(cp, d.Vault.LogVerifier())
			if err != nil {
				problem("checkpoint", fmt.Errorf("%w: %s checkpoint: %v", vigil.ErrCorrupt, src, err))
				continue
			}
			if err := evlog.CheckConsistent(tx, c); err != nil {
				problem("checkpoint", fmt.Errorf("%w: %s checkpoint (size %d): %v", vigil.ErrCorrupt, src, c.N, err))
				continue
			}
			rep.Checkpoint = max(rep.Checkpoint, c.N)
		}
		err = store.EachRecord(tx, evidence.Kind, func(r store.Record) error { recs = append(recs, r); return nil })
		if err != nil {
			return err
		}
		return tx.Blobs(func(n string) error { used[n] = true; return nil })
	})
	if err != nil {
		return rep, err
	}
	if a, err := os.ReadFile(filepath.Join(d.Path, AlarmFile)); err == nil {
		problem("witness", fmt.Errorf("witness alarm: %s: %w", a, ErrWitnessAlarm))
	}
	rep.Items = len(recs)
	if d.Vault.Sealed() {
		rep.Sealed = true
		return rep, nil
	}
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		r, err := record.Verify(tx, d.Vault.OpenField, d.Kinds)
		rep.Records, rep.Versions, rep.Leaves = r.Records, r.Versions, r.Leaves
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				problem("records", e)
			}
			return nil
		}
		return err
	})
	if err != nil {
		return rep, err
	}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		blob, err := d.checkItem(ctx, r.ID, rep.Entries)
		if blob != "" {
			used[blob] = true
		}
		if err != nil {
			problem("items", err)
		}
	}
	err = d.Blobs.List(ctx, func(n string) error {
		if !used[n] {
			rep.Orphans++
		}
		return nil
	})
	return rep, err
}

// checkItem checks that item id decrypts, that its log entry (below size)
// is its commitment and that its content decrypts to its SHA-256. It
// returns the item's blob name once known.
func (d *Dir) checkItem(ctx context.Context, id vigil.ID, size int64) (string, error) {
	it, err := d.Evidence.Get(ctx, id) // finds its leaf by its commitment
	if err != nil {
		return "", fmt.Errorf("item %s: %w", id, err)
	}
	if it.LeafIndex < 0 || it.LeafIndex >= size {
		return it.Blob, fmt.Errorf("%w: item %s points to leaf %d outside the log", vigil.ErrCorrupt, id, it.LeafIndex)
	}
	var entry []byte
	if err := d.Store.View(ctx, func(tx store.ReadTx) error {
		es, err := tx.ReadEntries(it.LeafIndex, it.LeafIndex+1)
		if err == nil {
			entry = es[0]
		}
		return err
	}); err != nil {
		return it.Blob, fmt.Errorf("item %s: %w", id, err)
	}
	if c := it.Entry(); string(entry) != string(c[:]) {
		return it.Blob, fmt.Errorf("%w: item %s: log entry %d is not its commitment", vigil.ErrCorrupt, id, it.LeafIndex)
	}
	rc, err := d.Evidence.Open(ctx, it)
	if err != nil {
		return it.Blob, fmt.Errorf("item %s: %w", id, err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return it.Blob, fmt.Errorf("item %s: %w", id, err)
	}
	return it.Blob, nil
}

// checkCosigned checks DIR/checkpoint.cosigned, if any: it verifies under
// the witness policy (or at least with the log key, without a policy) and
// the tree extends it. A log that does not extend the checkpoint its
// witnesses cosigned was rolled back or rewritten.
func (d *Dir) checkCosigned(tx store.ReadTx) (int64, []string, error) {
	b, err := os.ReadFile(filepath.Join(d.Path, CosignedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil, nil
	}
	if err != nil {
		return -1, nil, err
	}
	var c evlog.Checkpoint
	var have []string
	if p := d.Config.Witness; p != nil {
		c, have, err = p.Verify(b, d.Vault.LogVerifier())
		var qe *witness.QuorumError
		if errors.As(err, &qe) {
			// Cosigned under an earlier policy: still a checkpoint the log
			// must extend.
			err = nil
			have = append(have, "(not the quorum of the current policy)")
		}
	} else {
		c, err = evlog.OpenCheckpoint(b, d.Vault.LogVerifier())
	}
	if err != nil {
		return -1, nil, fmt.Errorf("%w: cosigned checkpoint: %v", vigil.ErrCorrupt, err)
	}
	if err := evlog.CheckConsistent(tx, c); err != nil {
		return -1, nil, fmt.Errorf("%w: the log does not extend the checkpoint its witnesses cosigned (size %d): %v (hint: this data directory was rolled back or rewritten; restore the latest backup)", vigil.ErrCorrupt, c.N, err)
	}
	return c.N, have, nil
}
