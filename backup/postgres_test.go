package backup

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/store"
)

// TestPostgresSnapshot backs up a data directory whose records are in
// PostgreSQL (a real server): the snapshot is the log and records of one
// transaction, later submissions are not in it; it restores into a new
// SQLite directory (fsck clean, every item decrypted) and into a new
// PostgreSQL database, which the new directory's vigil.json then names;
// the snapshot's own store key is never used by a restore.
func TestPostgresSnapshot(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.URL(t)
	root := t.TempDir()
	path := filepath.Join(root, "data")
	if _, err := datadir.Init(path, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	if err := SetBackends(filepath.Join(path, "vigil.json"), datadir.Backends{Store: pg}); err != nil {
		t.Fatal(err)
	}
	d := openDir(t, path)
	defer d.Close()
	submit(t, d, 3, "a")
	snap, err := TakeDir(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, d, 2, "later") // after the snapshot: not in it
	tg, err := OpenTarget(ctx, filepath.Join(root, "bk"), true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Write(ctx, tg, Source{Dir: d.Path, Meta: snap.Meta, Seal: snap.Seal}, ConfigVerifier)
	snap.Close()
	if err != nil {
		t.Fatal(err)
	}
	var live int64
	if err := d.Store.View(ctx, func(tx store.ReadTx) error { live, err = tx.TreeSize(); return err }); err != nil {
		t.Fatal(err)
	}
	if res.TreeSize == 0 || res.TreeSize >= live {
		t.Errorf("snapshot of %d entries, the live log has %d: want a smaller, non-empty one", res.TreeSize, live)
	}

	r, err := Restore(ctx, tg, filepath.Join(root, "sqlite"), RestoreOptions{Passphrase: []byte(pass)})
	if err != nil {
		t.Fatal(err)
	}
	if r.TreeSize != res.TreeSize || !r.Fsck.OK("") || r.Fsck.Items != 3 {
		t.Errorf("restore into SQLite: %d entries (want %d), fsck %+v", r.TreeSize, res.TreeSize, r.Fsck)
	}
	if cfg, err := datadir.ReadConfig(filepath.Join(root, "sqlite")); err != nil || cfg.Backends != (datadir.Backends{}) {
		t.Errorf("restored vigil.json backends %+v (%v): want none", cfg.Backends, err)
	}

	pg2 := pgtest.URL(t)
	into := filepath.Join(root, "pg")
	r, err = Restore(ctx, tg, into, RestoreOptions{Passphrase: []byte(pass), Into: datadir.Backends{Store: pg2}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Moved.Entries != res.TreeSize || r.Moved.Blobs != 0 || !r.Fsck.OK("") || r.Fsck.Items != 3 {
		t.Errorf("restore into PostgreSQL: moved %+v, fsck %+v", r.Moved, r.Fsck)
	}
	d2 := openDir(t, into)
	defer d2.Close()
	if d2.Backends.Store != pg2 {
		t.Errorf("the new directory's store is %q, want the new database", d2.Backends.Store)
	}
	var n int64
	if err := d2.Store.View(ctx, func(tx store.ReadTx) error { n, err = tx.TreeSize(); return err }); err != nil || n != res.TreeSize {
		t.Errorf("the new database's log: %d entries (%v), want %d", n, err, res.TreeSize)
	}
	// The new database is not empty any more: a second restore into it is
	// refused.
	if _, err := Restore(ctx, tg, filepath.Join(root, "again"), RestoreOptions{Passphrase: []byte(pass), Into: datadir.Backends{Store: pg2}}); err == nil {
		t.Error("a restore into a database that is not empty succeeded")
	}
}
