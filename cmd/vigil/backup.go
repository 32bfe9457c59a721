package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/backup"
	"github.com/vigil-hr/vigil/blob"
	s3blob "github.com/vigil-hr/vigil/blob/s3"
	"github.com/vigil-hr/vigil/internal/datadir"
)

const backupHelp = `--data DIR --to PATH|s3://HOST/BUCKET/PREFIX [--store URL] [--blobs URL]

Writes a consistent, encrypted, incremental backup of the data directory
into the directory PATH (created if missing) or an S3 bucket prefix (the
URL syntax and credentials of --blobs; the bucket must exist): the
database sealed to the vault recipient, every blob once (already
ciphertext; only blobs the target lacks are copied), vigil.json, keys.age,
the checkpoint anchors, and a manifest with the SHA-256 of every file. No
passphrase is needed. While vigil serve runs, the database snapshot comes
from it over its staff socket (DIR/staff.sock) and intake goes on. Records
in PostgreSQL and blobs in S3 (vigil.json's store and blobs, or --store and
--blobs as given to serve) are backed up too: the records from one
read-only snapshot of the database. docs/backup.md has a schedule and an
off-site recipe.`

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "backup", backupHelp)
	data := dataFlag(fs, e)
	to := fs.String("to", "", "the backup directory `PATH`, or an S3 URL (s3://host[:port]/bucket/prefix; keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	storeURL := fs.String("store", "", "the data directory's records are in PostgreSQL at `URL` (as given to vigil serve --store) instead of vigil.json's store or DIR/vigil.db")
	blobsURL := fs.String("blobs", "", "the data directory's blobs are in S3 at `URL` (as given to vigil serve --blobs) instead of vigil.json's blobs or DIR/blobs")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usageError{"need --to PATH or --to s3://host/bucket/prefix"}
	}
	var t backup.Target
	if backup.IsURL(*to) { // checked before anything is opened
		var err error
		if t, err = backup.OpenTarget(ctx, *to, false); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	} else if inside(*to, *data) {
		return usageError{fmt.Sprintf("--to %s is inside the data directory %s: a backup belongs on another disk", *to, *data)}
	}
	d, err := datadir.OpenWith(ctx, *data, datadir.Backends{Store: *storeURL, Blobs: *blobsURL})
	var srv *server
	if errors.Is(err, vigil.ErrLocked) { // vigil serve holds it: ask it
		d, srv, err = open(ctx, e, *data, "", passNever)
	}
	if err != nil {
		return err
	}
	if d != nil {
		defer d.Close()
	}
	if t == nil {
		if t, err = backup.OpenTarget(ctx, *to, true); err != nil {
			return err
		}
	}
	var res backup.Result
	if srv != nil {
		src := backup.Source{Dir: *data}
		if src.Blobs, src.BlobStore, err = serverBlobs(ctx, *data, *blobsURL); err != nil {
			return err
		}
		res, err = srv.Backup(ctx, t, src)
	} else {
		var snap *backup.Snapshot
		snap, err = backup.TakeDir(ctx, d)
		if err != nil {
			return err
		}
		defer snap.Close()
		src := backup.Source{Dir: d.Path, Meta: snap.Meta, Seal: snap.Seal}
		if d.Backends.Blobs != "" {
			src.Blobs, src.BlobStore = d.Blobs, backup.BlobLocation(d.Backends.Blobs)
		}
		res, err = backup.Write(ctx, t, src, backup.ConfigVerifier)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "snapshot %s: log %d entries; blobs %d (%d new, copied); %d bytes written\nmanifest SHA-256 %s\n",
		res.Snapshot, res.TreeSize, res.Blobs, res.BlobsCopied, res.BytesCopied, res.Manifest)
	return nil
}

// serverBlobs opens the S3 blob store of a data directory a server holds:
// over, else vigil.json's blobs; nil when the blobs are in DIR/blobs. It
// returns the store's location too (backup.BlobLocation).
func serverBlobs(ctx context.Context, dir, over string) (blob.Store, string, error) {
	url, from := over, "--blobs"
	if url == "" {
		cfg, err := datadir.ReadConfig(dir)
		if err != nil {
			return nil, "", err
		}
		url, from = cfg.Backends.Blobs, "vigil.json blobs"
	}
	if url == "" {
		return nil, "", nil
	}
	b, err := s3blob.Open(ctx, url)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", from, err)
	}
	return b, backup.BlobLocation(url), nil
}

// Backup writes a backup to t with the database snapshot streamed by the
// server (POST /api/v1/backup); the files and blobs are read from src (the
// data directory, as the server's own user may, and its S3 blobs).
func (s *server) Backup(ctx context.Context, t backup.Target, src backup.Source) (backup.Result, error) {
	resp, err := s.send(ctx, "POST", "/api/v1/backup", struct{}{})
	if err != nil {
		return backup.Result{}, err
	}
	defer resp.Body.Close()
	br := bufio.NewReader(io.LimitReader(resp.Body, 1<<62))
	line, err := br.ReadSlice('\n')
	if err != nil {
		return backup.Result{}, fmt.Errorf("read the snapshot from the server: %w", err)
	}
	var meta backup.SnapshotMeta
	if err := json.Unmarshal(line, &meta); err != nil {
		return backup.Result{}, fmt.Errorf("%w: the server's snapshot header: %v", vigil.ErrCorrupt, err)
	}
	used := false
	seal := func(w io.Writer) error {
		if used {
			return errors.New("snapshot stream already read")
		}
		used = true
		_, err := io.Copy(w, br)
		return err
	}
	src.Meta, src.Seal = meta, seal
	return backup.Write(ctx, t, src, backup.ConfigVerifier)
}

// inside reports whether path is dir or under it.
func inside(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
