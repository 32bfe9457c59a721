package datadir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/bundle"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/store"
)

// Bundle writes to w an evidence bundle of the records ids, each with its
// statement, salt and an inclusion proof against a checkpoint: the latest
// one the witnesses cosigned (DIR/checkpoint.cosigned) if it contains every
// record, so the bundle carries the cosignatures verify --policy checks;
// else a checkpoint of the current tree it signs (the vault must be
// unsealed).
// Any logged kind can be bundled: an evidence item's content is its file;
// any other record's content is its document, the JSON its statement
// commits to (so a bundle of a claim shows the claim as it was recorded).
// Without content, only statements and proofs are written.
func (d *Dir) Bundle(ctx context.Context, w io.Writer, ids []vigil.ID, withContent bool) error {
	if cos, err := os.ReadFile(filepath.Join(d.Path, CosignedFile)); err == nil {
		if entries, err := d.bundleEntries(ctx, ids, cos, withContent); err == nil {
			return bundle.Write(w, d.Config.LogVKey, entries)
		}
		// A record beyond the cosigned tree: prove it against a new checkpoint.
	}
	signed, err := d.SignCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("sign checkpoint: %w", err)
	}
	entries, err := d.bundleEntries(ctx, ids, signed, withContent)
	if err != nil {
		return err
	}
	return bundle.Write(w, d.Config.LogVKey, entries)
}

// errBeyond is a record logged after the checkpoint it was to be proved
// against.
var errBeyond = errors.New("logged after the checkpoint")

// BundlePublished is [Dir.Bundle] without signing: every record is proved
// against the latest cosigned checkpoint if it holds them all, else the
// latest signed one. A running server bundles this way: a checkpoint signed
// at the moment of a request would be published at once and date every
// submission since the last boundary of the checkpoint interval to that
// moment (see vigil serve --checkpoint-interval). A record newer than the
// latest checkpoint gets a *vigil.FieldError wrapping vigil.ErrConflict:
// it can be bundled once the next checkpoint is signed.
func (d *Dir) BundlePublished(ctx context.Context, w io.Writer, ids []vigil.ID, withContent bool) error {
	var cands [][]byte
	if cos, err := os.ReadFile(filepath.Join(d.Path, CosignedFile)); err == nil {
		cands = append(cands, cos)
	}
	if cp, err := d.LatestCheckpoint(ctx); err != nil {
		return err
	} else if cp != nil {
		cands = append(cands, cp)
	}
	var last error
	for _, cp := range cands {
		entries, err := d.bundleEntries(ctx, ids, cp, withContent)
		if err == nil {
			return bundle.Write(w, d.Config.LogVKey, entries)
		}
		if !errors.Is(err, errBeyond) {
			return err
		}
		last = err
	}
	if last != nil || len(cands) == 0 {
		return &vigil.FieldError{Field: "ids", Problem: "a record is newer than the latest checkpoint: bundle it once the next checkpoint is signed (at the next boundary of the checkpoint interval)", Err: vigil.ErrConflict}
	}
	return nil
}

// bundleEntries proves every record against the signed checkpoint, which
// must verify with the log key and be consistent with the stored tree.
func (d *Dir) bundleEntries(ctx context.Context, ids []vigil.ID, signed []byte, withContent bool) ([]bundle.Entry, error) {
	cp, err := evlog.OpenCheckpoint(signed, d.Vault.LogVerifier())
	if err != nil {
		return nil, err
	}
	if err := d.Store.View(ctx, func(tx store.ReadTx) error { return evlog.CheckConsistent(tx, cp) }); err != nil {
		return nil, err
	}
	var entries []bundle.Entry
	for _, id := range ids {
		en, err := d.bundleEntry(ctx, id, cp.N, signed, withContent)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", id, err)
		}
		entries = append(entries, en)
	}
	return entries, nil
}

func (d *Dir) bundleEntry(ctx context.Context, id vigil.ID, size int64, signed []byte, withContent bool) (bundle.Entry, error) {
	var en bundle.Entry
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		r, err := tx.Record(id, 0)
		if err != nil {
			return err
		}
		k, ok := d.Kinds.Lookup(r.Kind)
		if !ok || !k.Logged {
			return fmt.Errorf("%w: a %s is not logged and cannot be bundled", vigil.ErrInvalid, r.Kind)
		}
		var leaf int64
		if k == evidence.ItemKind {
			it, err := d.Evidence.Decode(tx, r)
			if err != nil {
				return err
			}
			en = bundle.Entry{ID: id.String(), Name: it.Name, Statement: it.Statement, Salt: it.Salt}
			leaf = it.LeafIndex
			if withContent {
				en.Content = func() (io.ReadCloser, error) { return d.Evidence.Open(ctx, it) }
			}
		} else {
			env, err := k.Open(d.Vault.OpenField, r)
			if err != nil {
				return err
			}
			if err := env.CheckDocument(); err != nil {
				return err
			}
			if leaf, err = env.Leaf(tx); err != nil {
				return err
			}
			salt, err := env.SaltBytes()
			if err != nil {
				return err
			}
			en = bundle.Entry{ID: id.String(), Name: k.Name + ".json", Statement: []byte(env.Statement), Salt: salt}
			if withContent {
				doc := bytes.Clone(env.Document)
				en.Content = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(doc)), nil }
			}
		}
		if leaf >= size {
			return fmt.Errorf("%w (leaf %d, checkpoint of %d)", errBeyond, leaf, size)
		}
		extra := append(en.Salt[:len(en.Salt):len(en.Salt)], en.Statement...)
		p, err := evlog.Prove(tx, leaf, size, signed, extra)
		if err != nil {
			return err
		}
		en.Proof = p.Marshal()
		return nil
	})
	return en, err
}
