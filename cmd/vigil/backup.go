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
)

const backupHelp = `--data DIR --to PATH

Writes a consistent, encrypted, incremental backup of the data directory
into the directory PATH (created if missing): the database sealed to the
vault recipient, every blob once (already ciphertext; only blobs PATH lacks
are copied), vigil.json, keys.age, the checkpoint anchors, and a manifest
with the SHA-256 of every file. No passphrase is needed. While vigil serve
runs, the database snapshot comes from it over its staff socket
(DIR/staff.sock) and intake goes on. docs/backup.md has a schedule and an
off-site recipe.`

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "backup", backupHelp)
	data := dataFlag(fs, e)
	to := fs.String("to", "", "the backup directory `PATH`")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usageError{"need --to PATH"}
	}
	if strings.Contains(*to, "://") { // a URL: refused before anything is opened
		if _, err := backup.OpenTarget(*to, false); err != nil {
			return err
		}
	}
	if inside(*to, *data) {
		return usageError{fmt.Sprintf("--to %s is inside the data directory %s: a backup belongs on another disk", *to, *data)}
	}
	d, srv, err := open(ctx, e, *data, "", passNever)
	if err != nil {
		return err
	}
	if d != nil {
		defer d.Close()
	}
	t, err := backup.OpenTarget(*to, true)
	if err != nil {
		return err
	}
	var res backup.Result
	if srv != nil {
		res, err = srv.Backup(ctx, t)
	} else {
		var snap *backup.Snapshot
		snap, err = backup.Take(ctx, d.Path, d.Vault.Recipient())
		if err != nil {
			return err
		}
		defer snap.Close()
		res, err = backup.Write(ctx, t, backup.Source{Dir: d.Path, Meta: snap.Meta, Seal: snap.Seal}, backup.ConfigVerifier)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "snapshot %s: log %d entries; blobs %d (%d new, copied); %d bytes written\nmanifest SHA-256 %s\n",
		res.Snapshot, res.TreeSize, res.Blobs, res.BlobsCopied, res.BytesCopied, res.Manifest)
	return nil
}

// Backup writes a backup to t with the database snapshot streamed by the
// server (POST /api/v1/backup); the files and blobs are read from the data
// directory, as the server's own user may.
func (s *server) Backup(ctx context.Context, t backup.Target) (backup.Result, error) {
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
	return backup.Write(ctx, t, backup.Source{Dir: s.dir, Meta: meta, Seal: seal}, backup.ConfigVerifier)
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
