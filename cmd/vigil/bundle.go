package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/bundle"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
)

func runBundle(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bundle", "--data DIR --out FILE [--no-content] ITEM...")
	data := dataFlag(fs, e)
	out := fs.String("out", "", "write the bundle (a zip) to `FILE`")
	noContent := fs.Bool("no-content", false, "leave the items' content out: statements and proofs only")
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	ids, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(ids) == 0 {
		return usageError{"need --out FILE and at least one item ID"}
	}
	var items []vigil.ID
	for _, s := range ids {
		id, err := vigil.ParseID(s)
		if err != nil {
			return err
		}
		items = append(items, id)
	}
	d, err := openData(ctx, e, *data, *pfile, true)
	if err != nil {
		return err
	}
	defer d.Close()
	return exportBundle(ctx, d, items, !*noContent, *out)
}

// exportBundle signs a checkpoint (the vault must be unsealed) and writes a
// bundle of the items, with proofs against it, to path.
func exportBundle(ctx context.Context, d *datadir.Dir, items []vigil.ID, withContent bool, path string) error {
	signed, err := d.SignCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("sign checkpoint: %w", err)
	}
	cp, err := evlog.OpenCheckpoint(signed, d.Vault.LogVerifier())
	if err != nil {
		return err
	}
	var entries []bundle.Entry
	for _, id := range items {
		it, err := d.Evidence.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("item %s: %w", id, err)
		}
		var p evlog.Proof
		err = d.Store.View(ctx, func(tx store.ReadTx) error {
			extra := append(it.Salt[:len(it.Salt):len(it.Salt)], it.Statement...)
			p, err = evlog.Prove(tx, it.LeafIndex, cp.N, signed, extra)
			return err
		})
		if err != nil {
			return fmt.Errorf("item %s: %w", id, err)
		}
		en := bundle.Entry{ID: id.String(), Name: it.Name, Statement: it.Statement, Salt: it.Salt, Proof: p.Marshal()}
		if withContent {
			en.Content = func() (io.ReadCloser, error) { return d.Evidence.Open(ctx, it) }
		}
		entries = append(entries, en)
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		return bundle.Write(w, d.Config.LogVKey, entries)
	})
}

// writeFileAtomic streams into a temporary file beside path, syncs it and
// renames it into place.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	ok = true
	return atomicfile.SyncDir(filepath.Dir(path))
}
