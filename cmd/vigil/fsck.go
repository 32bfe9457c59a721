package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/witness"
)

func runFsck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "fsck", "--data DIR [--passphrase-file FILE] [--sweep]")
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`; with it (or VIGIL_PASSPHRASE) fsck also decrypts every item and checks its content")
	sweep := fs.Bool("sweep", false, "remove blobs no item references (leftovers of interrupted ingests); needs the passphrase, as blob names are sealed in the items")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	d, err := openData(ctx, e, *data, *pfile, false)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := fsck(ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "log: %d entries, every stored hash matches\n", rep.entries)
	if rep.checkpoint >= 0 {
		fmt.Fprintf(e.stdout, "checkpoint: %d entries, signature valid, consistent with the tree\n", rep.checkpoint)
	} else {
		fmt.Fprintf(e.stdout, "checkpoint: none signed yet\n")
	}
	if rep.cosigned >= 0 {
		fmt.Fprintf(e.stdout, "cosigned checkpoint: %d entries, cosigned by %s, consistent with the tree\n", rep.cosigned, strings.Join(rep.cosigners, ", "))
	}
	if a, err := os.ReadFile(filepath.Join(d.Path, datadir.AlarmFile)); err == nil {
		return fmt.Errorf("witness alarm: %s: %w", oneLine(string(a)), datadir.ErrWitnessAlarm)
	}
	if d.Vault.Sealed() {
		fmt.Fprintf(e.stdout, "records: not checked (the vault is sealed; records name their blobs and log leaves only inside their sealed bodies)\n")
	} else {
		fmt.Fprintf(e.stdout, "records: %d (%d versions), each decrypts; each of the log's %d entries commits to exactly one of them\n", rep.records.Records, rep.records.Versions, rep.records.Leaves)
		fmt.Fprintf(e.stdout, "items: %d, each decrypts to its SHA-256 and matches its log entry\n", rep.items)
	}
	if *sweep && d.Vault.Sealed() {
		return fmt.Errorf("sweep: %w (hint: give the passphrase: blob names are sealed in the items)", vigil.ErrSealed)
	}
	if *sweep {
		n, err := d.Evidence.Sweep(ctx)
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		fmt.Fprintf(e.stdout, "swept %d unreferenced blobs\n", n)
	} else if rep.orphans > 0 {
		fmt.Fprintf(e.stdout, "blobs: %d unreferenced (from interrupted ingests; remove with --sweep)\n", rep.orphans)
	}
	return nil
}

type fsckReport struct {
	records    record.Report
	entries    int64
	checkpoint int64
	cosigned   int64    // size of DIR/checkpoint.cosigned, -1 if none
	cosigners  []string // witnesses whose cosignature on it verified
	items      int
	orphans    int
}

// fsck checks the data directory; the first problem is returned as an error
// wrapping vigil.ErrCorrupt.
func fsck(ctx context.Context, d *datadir.Dir) (fsckReport, error) {
	rep := fsckReport{checkpoint: -1, cosigned: -1}
	var recs []store.Record
	used := map[string]bool{}
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		if rep.entries, err = tx.TreeSize(); err != nil {
			return err
		}
		if err := evlog.Check(tx); err != nil {
			return fmt.Errorf("%w: log: %v", vigil.ErrCorrupt, err)
		}
		if rep.cosigned, rep.cosigners, err = checkCosigned(tx, d); err != nil {
			return err
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
				return fmt.Errorf("%w: %s checkpoint: %v", vigil.ErrCorrupt, src, err)
			}
			if err := evlog.CheckConsistent(tx, c); err != nil {
				return fmt.Errorf("%w: %s checkpoint: %v", vigil.ErrCorrupt, src, err)
			}
			rep.checkpoint = max(rep.checkpoint, c.N)
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
	rep.items = len(recs)
	if d.Vault.Sealed() {
		return rep, nil
	}
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		rep.records, err = record.Verify(tx, d.Vault.OpenField, d.Kinds)
		return err
	})
	if err != nil {
		return rep, err
	}
	for _, r := range recs {
		it, err := d.Evidence.Get(ctx, r.ID) // finds its leaf by its commitment
		if err != nil {
			return rep, fmt.Errorf("item %s: %w", r.ID, err)
		}
		if it.LeafIndex < 0 || it.LeafIndex >= rep.entries {
			return rep, fmt.Errorf("%w: item %s points to leaf %d outside the log", vigil.ErrCorrupt, r.ID, it.LeafIndex)
		}
		used[it.Blob] = true
		var entry []byte
		if err := d.Store.View(ctx, func(tx store.ReadTx) error {
			es, err := tx.ReadEntries(it.LeafIndex, it.LeafIndex+1)
			if err == nil {
				entry = es[0]
			}
			return err
		}); err != nil {
			return rep, err
		}
		if c := it.Entry(); string(entry) != string(c[:]) {
			return rep, fmt.Errorf("%w: item %s: log entry %d is not its commitment", vigil.ErrCorrupt, it.ID, it.LeafIndex)
		}
		rc, err := d.Evidence.Open(ctx, it)
		if err != nil {
			return rep, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return rep, err
		}
	}
	err = d.Blobs.List(ctx, func(n string) error {
		if !used[n] {
			rep.orphans++
		}
		return nil
	})
	if errors.Is(err, context.Canceled) {
		return rep, err
	}
	return rep, err
}

// checkCosigned checks DIR/checkpoint.cosigned, if any: it verifies under
// the witness policy (or at least with the log key, without a policy) and
// the tree extends it. A log that does not extend the checkpoint its
// witnesses cosigned was rolled back or rewritten.
func checkCosigned(tx store.ReadTx, d *datadir.Dir) (int64, []string, error) {
	b, err := os.ReadFile(filepath.Join(d.Path, datadir.CosignedFile))
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
