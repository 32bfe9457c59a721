package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-hr/vigil/backup"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/datadir"
)

const restoreHelp = `--from PATH|s3://HOST/BUCKET/PREFIX --data NEWDIR [--store URL] [--blobs URL] [--known-checkpoint FILE]... [--allow-rollback]

Rebuilds a data directory from the newest complete snapshot in the backup
directory PATH or S3 bucket prefix (or --snapshot N) into NEWDIR, which
must not exist or be empty. Its records and blobs go into NEWDIR (SQLite
and NEWDIR/blobs), or, with --store and --blobs, into an empty PostgreSQL
database and an empty S3 bucket prefix, which NEWDIR's vigil.json then
names (they are staged in NEWDIR first, and the copy verified). Every file and blob is checked against the snapshot's manifest, the
log against the manifest's size and root, and then fsck must be clean
(needs the admin passphrase). The restore is refused if the snapshot's log
does not extend a checkpoint it knows: each --known-checkpoint FILE (e.g. a
copy of the old server's /log/checkpoint), the largest checkpoint any backup
in PATH held, and, with a witness policy, what the witnesses last cosigned
(asked over the network). --allow-rollback restores a shorter log anyway and
records that in NEWDIR/` + backup.RollbackNote + `; a fork (a known checkpoint
the log contradicts) is refused whatever the flags.`

type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func runRestore(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "restore", restoreHelp)
	data := fs.String("data", "", "the new data directory `NEWDIR` (must not exist, or be empty)")
	from := fs.String("from", "", "the backup directory `PATH`, or an S3 URL (s3://host[:port]/bucket/prefix; keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	storeURL := fs.String("store", "", "put the records into the empty PostgreSQL database at `URL` instead of NEWDIR/vigil.db")
	blobsURL := fs.String("blobs", "", "put the blobs into the empty S3 bucket prefix at `URL` instead of NEWDIR/blobs")
	snapshot := fs.String("snapshot", "", "restore snapshot `N` (e.g. 000003) instead of the newest")
	var known multiFlag
	fs.Var(&known, "known-checkpoint", "a signed checkpoint of this log the restored log must extend (`FILE`; repeatable)")
	noWitnesses := fs.Bool("no-witnesses", false, "do not ask the witness policy's witnesses what they cosigned (offline restore)")
	allow := fs.Bool("allow-rollback", false, "restore even if a known checkpoint is larger than the snapshot's log (entries are lost)")
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" || *data == "" {
		return usageError{"need --from PATH and --data NEWDIR"}
	}
	if *storeURL != "" && !strings.HasPrefix(*storeURL, "postgres://") && !strings.HasPrefix(*storeURL, "postgresql://") {
		return usageError{fmt.Sprintf("--store %s: want postgres://user@host:port/database", redactURL(*storeURL))}
	}
	if *blobsURL != "" && !strings.HasPrefix(*blobsURL, "s3://") && !strings.HasPrefix(*blobsURL, "s3+http://") {
		return usageError{fmt.Sprintf("--blobs %s: want s3://host/bucket/prefix", redactURL(*blobsURL))}
	}
	t, err := backup.OpenTarget(ctx, *from, false)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	opt := backup.RestoreOptions{Snapshot: *snapshot, AskWitnesses: !*noWitnesses, AllowRollback: *allow,
		Into: datadir.Backends{Store: *storeURL, Blobs: *blobsURL}, Progress: migrateProgress(e, false)}
	for _, f := range known {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--known-checkpoint: %w", err)
		}
		if len(b) > evlog.MaxCheckpointSize {
			return usageError{fmt.Sprintf("--known-checkpoint %s: larger than a checkpoint", f)}
		}
		opt.Known = append(opt.Known, backup.Known{From: "--known-checkpoint " + f, Signed: b})
	}
	if opt.Passphrase, err = passphrase(e, *pfile, false); err != nil {
		return err
	}
	res, err := backup.Restore(ctx, t, *data, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored snapshot %s (manifest SHA-256 %s) into %s: log %d entries, %d blobs, every file matches the manifest\n",
		res.Snapshot, res.Manifest, *data, res.TreeSize, res.Blobs)
	if opt.Into != (datadir.Backends{}) {
		fmt.Fprintf(e.stdout, "moved to the new backends and verified: %d log entries, %d records (%d versions), %d checkpoints, %d blobs (%d bytes)\n",
			res.Moved.Entries, res.Moved.Records, res.Moved.Versions, res.Moved.Checkpoints, res.Moved.Blobs, res.Moved.BlobBytes)
	}
	for _, c := range res.Checked {
		fmt.Fprintf(e.stdout, "known checkpoint: %s\n", c)
	}
	if res.Lost > 0 {
		fmt.Fprintf(e.stdout, "ROLLBACK ALLOWED: %d log entries a known checkpoint holds are not in this log (recorded in %s)\n", res.Lost, backup.RollbackNote)
	}
	writeFsck(e.stdout, res.Fsck)
	return nil
}
