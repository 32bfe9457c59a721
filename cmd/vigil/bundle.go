package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/internal/datadir"
)

func runBundle(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bundle", "--data DIR --out FILE [--no-content] ID...")
	data := dataFlag(fs, e)
	out := fs.String("out", "", "write the bundle (a zip) to `FILE`")
	noContent := fs.Bool("no-content", false, "leave the content out (files, documents): statements and proofs only")
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	ids, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(ids) == 0 {
		return usageError{"need --out FILE and at least one record ID (an item, a submission, a claim...)"}
	}
	var items []vigil.ID
	for _, s := range ids {
		id, err := vigil.ParseID(s)
		if err != nil {
			return err
		}
		items = append(items, id)
	}
	d, srv, err := open(ctx, e, *data, *pfile, passNeeded)
	if err != nil {
		return err
	}
	if srv != nil {
		return writeFileAtomic(*out, func(w io.Writer) error { return srv.Bundle(ctx, w, items, !*noContent) })
	}
	defer d.Close()
	return exportBundle(ctx, d, items, !*noContent, *out)
}

// exportBundle writes a bundle of the records to path, atomically.
func exportBundle(ctx context.Context, d *datadir.Dir, ids []vigil.ID, withContent bool, path string) error {
	return writeFileAtomic(path, func(w io.Writer) error { return d.Bundle(ctx, w, ids, withContent) })
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
