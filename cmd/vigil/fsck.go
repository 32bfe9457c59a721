package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/datadir"
)

const fsckHelp = `--data DIR [--passphrase-file FILE] [--sweep]

Checks the log's stored hashes, the checkpoint anchor, the latest signed and
cosigned checkpoints against the tree and the witness alarm; with the vault
unsealed also that every record version decrypts and commits to exactly one
log entry, and every item decrypts to its SHA-256. It lists every problem it
finds, then exits 1.

While vigil serve runs, fsck asks it over its staff socket (DIR/staff.sock,
docs/cli.md) to run the same checks: no passphrase is read; records and items
are checked if the server is unsealed. --sweep needs the server stopped.`

func runFsck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "fsck", fsckHelp)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`; with it (or VIGIL_PASSPHRASE) fsck also decrypts every item and checks its content")
	sweep := fs.Bool("sweep", false, "remove blobs no item references (leftovers of interrupted ingests); needs the passphrase, as blob names are sealed in the items, and the server stopped")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	d, srv, err := open(ctx, e, *data, *pfile, passGiven)
	if err != nil {
		return err
	}
	var rep datadir.FsckReport
	if srv != nil {
		if *sweep {
			// An ingest in flight has written its blob but not yet the item
			// naming it: a sweep while serving could remove it.
			return fmt.Errorf("%w: --sweep needs vigil serve stopped (an upload in flight has a blob no item names yet)", vigil.ErrLocked)
		}
		rep, err = srv.Fsck(ctx)
	} else {
		defer d.Close()
		rep, err = d.Fsck(ctx)
	}
	if err != nil {
		return err
	}
	writeFsck(e.stdout, rep)
	if !rep.OK("") {
		return fmt.Errorf("%w: %d problems (listed above)", vigil.ErrCorrupt, len(rep.Problems))
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
	} else if rep.Orphans > 0 {
		fmt.Fprintf(e.stdout, "blobs: %d unreferenced (from interrupted ingests; remove with --sweep)\n", rep.Orphans)
	}
	return nil
}

// writeFsck prints what passed, one line per part, then every problem, one
// line each.
func writeFsck(w io.Writer, rep datadir.FsckReport) {
	if rep.OK("log") {
		fmt.Fprintf(w, "log: %d entries, every stored hash matches\n", rep.Entries)
	}
	if rep.OK("checkpoint") {
		if rep.Checkpoint >= 0 {
			fmt.Fprintf(w, "checkpoint: %d entries, signature valid, consistent with the tree\n", rep.Checkpoint)
		} else {
			fmt.Fprintf(w, "checkpoint: none signed yet\n")
		}
	}
	if rep.OK("cosigned") && rep.Cosigned >= 0 {
		fmt.Fprintf(w, "cosigned checkpoint: %d entries, cosigned by %s, consistent with the tree\n", rep.Cosigned, strings.Join(rep.Cosigners, ", "))
	}
	if rep.Sealed {
		fmt.Fprintf(w, "records: not checked (the vault is sealed; records name their blobs and log leaves only inside their sealed bodies)\n")
	} else {
		if rep.OK("records") {
			fmt.Fprintf(w, "records: %d (%d versions), each decrypts; each of the log's %d entries commits to exactly one of them\n", rep.Records, rep.Versions, rep.Leaves)
		}
		if rep.OK("items") {
			fmt.Fprintf(w, "items: %d, each decrypts to its SHA-256 and matches its log entry\n", rep.Items)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "PROBLEM %s: %s\n", p.Part, oneLine(p.Text))
	}
}
