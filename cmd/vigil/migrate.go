package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/backup"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/migrate"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/postgres"
	"github.com/vigil-hr/vigil/store/sqlite"
)

const migrateHelp = `--from DIR (--to NEWDIR | --to postgres://… --blobs s3://… [--dir NEWDIR]) [--verify-items]

Copies the records, the evidence log (entries and stored hashes), the signed
checkpoints and the blobs of the data directory DIR (with its own backends:
SQLite and DIR/blobs, or those vigil.json names) to new backends: a new data
directory NEWDIR with SQLite and local blobs, or a PostgreSQL database and
an S3 bucket prefix. Everything is copied as ciphertext: no passphrase is
needed. DIR is only read (vigil serve must be stopped: migrate holds DIR's
lock). The target must be empty: an interrupted migrate is not resumed, it
is refused until the target is emptied.

A new directory (--to NEWDIR, or --dir NEWDIR beside --to postgres://…)
gets DIR's keys, vigil.json (its store and blobs keys naming the new
backends), checkpoint anchor and witness files; without --dir, point DIR's
vigil.json at the new backends yourself once the copy is verified.

Then it verifies the copy: the log root recomputed from the target's hashes
equals the source's, the latest checkpoint verifies against the target's
tree, every record version is equal byte for byte, every blob has the same
SHA-256. With --verify-items (and the passphrase) it also runs fsck on the
target with the vault unsealed: every record decrypts and every item
decrypts to its hash.`

func runMigrate(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "migrate", migrateHelp)
	from := fl.String("from", "", "the data directory `DIR` to copy")
	to := fl.String("to", "", "the target: a new data directory, or a PostgreSQL `URL` (postgres://user@host:port/db)")
	blobsURL := fl.String("blobs", "", "with --to postgres://…: the S3 `URL` (s3://host/bucket/prefix) for the blobs")
	newDir := fl.String("dir", "", "with --to postgres://…: also write a new data directory `NEWDIR` naming the new backends")
	verifyItems := fl.Bool("verify-items", false, "also decrypt every record and item of the target (needs the passphrase)")
	pfile := fl.String("passphrase-file", "", "read the admin passphrase from `FILE` (for --verify-items)")
	quiet := fl.Bool("q", false, "no progress output")
	if pos, err := parse(fl, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	if *from == "" || *to == "" {
		return usageError{"--from DIR and --to (NEWDIR or postgres://…) are required"}
	}
	var storeURL, dir string
	switch {
	case strings.HasPrefix(*to, "postgres://") || strings.HasPrefix(*to, "postgresql://"):
		storeURL, dir = *to, *newDir
		if *blobsURL == "" && dir == "" {
			return usageError{"--to postgres://… needs --blobs s3://… (or --dir NEWDIR for local blobs there)"}
		}
	case strings.Contains(*to, "://"):
		return usageError{fmt.Sprintf("--to %s: want a new directory or postgres://user@host:port/database", redactURL(*to))}
	default:
		if *newDir != "" {
			return usageError{"--dir goes with --to postgres://…; --to NEWDIR is the new directory"}
		}
		dir = *to
	}
	if *blobsURL != "" && !strings.HasPrefix(*blobsURL, "s3://") && !strings.HasPrefix(*blobsURL, "s3+http://") {
		return usageError{"--blobs: want s3://host/bucket/prefix"}
	}
	if dir != "" {
		if abs1, abs2 := absPath(dir), absPath(*from); abs1 == abs2 {
			return usageError{"--to is --from: migrate writes a new directory"}
		}
		if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
			return fmt.Errorf("%w: %s exists and is not empty; migrate writes a new directory only", vigil.ErrConflict, dir)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	var pass []byte
	if *verifyItems {
		var err error
		if pass, err = passphrase(e, *pfile, false); err != nil {
			return err
		}
	}
	src, err := datadir.Open(ctx, *from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	srcOpen := true
	defer func() {
		if srcOpen {
			src.Close()
		}
	}()
	if pass != nil {
		// Check the passphrase before copying anything.
		if err := src.Vault.Unseal(pass); err != nil {
			return fmt.Errorf("unseal: %w", err)
		}
		src.Vault.Seal()
	}
	var ic intake.Config
	ic.TimePrecision, _ = time.ParseDuration(src.Config.Intake.TimePrecision)
	precision := ic.WithDefaults().TimePrecision

	// Open the target stores before writing any file, so a bad URL changes
	// nothing.
	var dst migrate.Target
	var dstStore store.Store
	if storeURL != "" {
		db, err := postgres.Open(ctx, storeURL)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		dstStore = db
	}
	defer func() {
		if dstStore != nil {
			dstStore.Close()
		}
	}()
	if *blobsURL != "" {
		b, err := migrate.OpenS3(ctx, *blobsURL)
		if err != nil {
			return fmt.Errorf("--blobs: %w", err)
		}
		dst.Blobs = b
	}
	// Every kind of record the store holds: the envelope kinds fsck knows,
	// and API tokens and staff accounts, which are records too.
	kinds := append(slices.Clone(src.Kinds), record.Kind{Name: auth.Kind}, record.Kind{Name: account.Kind})
	// Refuse a non-empty database or bucket prefix before writing NEWDIR.
	if err := migrate.CheckEmpty(ctx, migrate.Target{Store: dstStore, Blobs: dst.Blobs}, kinds); err != nil {
		return err
	}
	if dir != "" {
		if err := writeMigratedDir(src.Path, dir, storeURL, *blobsURL); err != nil {
			return err
		}
		if dstStore == nil {
			db, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
			if err != nil {
				return err
			}
			dstStore = db
		}
		if dst.Blobs == nil {
			b, err := migrate.OpenLocal(filepath.Join(dir, "blobs"), precision)
			if err != nil {
				return err
			}
			dst.Blobs = b
		}
	}
	dst.Store = dstStore
	if err := migrate.CheckEmpty(ctx, dst, kinds); err != nil {
		return err
	}
	progress := migrateProgress(e, *quiet)
	source := migrate.Source{Store: src.Store, Blobs: src.Blobs, Kinds: kinds}
	c, err := migrate.Copy(ctx, source, dst, progress)
	if err != nil {
		return fmt.Errorf("copy (the target is incomplete: empty it before running migrate again): %w", err)
	}
	fmt.Fprintf(e.stdout, "copied: %d blobs (%d bytes), %d log entries, %d records (%d versions), %d checkpoints\n",
		c.Blobs, c.BlobBytes, c.Entries, c.Records, c.Versions, c.Checkpoints)
	rep, err := migrate.Verify(ctx, source, dst, src.Vault.LogVerifier(), progress)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprintf(e.stdout, "verified: log root %s (%d entries), latest checkpoint %d, %d record versions, %d blob SHA-256s\n",
		rep.Root, rep.Entries, rep.Checkpoint, rep.Versions, rep.Blobs)
	srcOpen = false
	if err := src.Close(); err != nil {
		return err
	}
	dstStore.Close()
	dstStore = nil
	if *verifyItems {
		at, be := dir, datadir.Backends{}
		if at == "" {
			at, be = *from, datadir.Backends{Store: storeURL, Blobs: *blobsURL}
		}
		d, err := datadir.OpenWith(ctx, at, be)
		if err != nil {
			return fmt.Errorf("verify items: %w", err)
		}
		defer d.Close()
		if err := d.Vault.Unseal(pass); err != nil {
			return fmt.Errorf("unseal: %w", err)
		}
		fr, err := d.Fsck(ctx)
		if err != nil {
			return fmt.Errorf("verify items: %w", err)
		}
		if !fr.OK("") {
			writeFsck(e.stdout, fr)
			return fmt.Errorf("verify items: %w: %d problems (listed above)", vigil.ErrCorrupt, len(fr.Problems))
		}
		fmt.Fprintf(e.stdout, "verified items: %d records (%d versions) decrypt and commit to their leaves, %d items decrypt to their hashes\n",
			fr.Records, fr.Versions, fr.Items)
	}
	if dir == "" {
		fmt.Fprintf(e.stdout, "%s is unchanged: to use the new backends, stop every server and set \"store\" and \"blobs\" in %s\n",
			*from, filepath.Join(*from, "vigil.json"))
	} else {
		fmt.Fprintf(e.stdout, "new data directory: %s\n", dir)
	}
	return nil
}

// migratedFiles are the files of a data directory migrate copies to a new
// one, besides vigil.json: keys, the checkpoint anchor, witness state.
var migratedFiles = []string{"keys.age", "checkpoint", datadir.CosignedFile, datadir.AlarmFile, "witness.key"}

// writeMigratedDir creates dir with from's files and its vigil.json naming
// the store and blobs URLs (empty: the directory's own).
func writeMigratedDir(from, dir, storeURL, blobsURL string) error {
	b, err := os.ReadFile(filepath.Join(from, "vigil.json"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, name := range migratedFiles {
		data, err := os.ReadFile(filepath.Join(from, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		st, err := os.Stat(filepath.Join(from, name))
		if err != nil {
			return err
		}
		if err := atomicfile.WriteNew(filepath.Join(dir, name), data, st.Mode().Perm()); err != nil {
			return err
		}
	}
	cfg := filepath.Join(dir, "vigil.json")
	if err := atomicfile.WriteNew(cfg, b, 0o644); err != nil {
		return err
	}
	if err := backup.SetBackends(cfg, datadir.Backends{Store: storeURL, Blobs: blobsURL}); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(from, "vigil.json"), err)
	}
	return atomicfile.SyncDir(dir)
}

// migrateProgress redraws one line on a terminal, else prints a line per
// phase every few seconds and at its end; nothing with quiet.
func migrateProgress(e *env, quiet bool) migrate.Progress {
	if quiet {
		return nil
	}
	tty := isTerminal(e.stderr)
	every := 5 * time.Second
	if tty {
		every = 200 * time.Millisecond
	}
	var last time.Time
	var lastPhase string
	return func(phase string, done, total int64) {
		end := done == total
		if phase == lastPhase && !end && time.Since(last) < every {
			return
		}
		lastPhase, last = phase, time.Now()
		if tty {
			fmt.Fprintf(e.stderr, "\r\033[K%s %d/%d", phase, done, total)
			if end {
				fmt.Fprintln(e.stderr)
			}
			return
		}
		if done > 0 || end {
			fmt.Fprintf(e.stderr, "%s %d/%d\n", phase, done, total)
		}
	}
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return filepath.Clean(a)
}

// redactURL drops a URL's credentials, for messages.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.LastIndex(s[i+3:], "@"); j >= 0 {
			return s[:i+3] + s[i+3+j+1:]
		}
	}
	return s
}
