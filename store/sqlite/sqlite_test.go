package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/sqlite"
	"github.com/vigil-hr/vigil/store/storetest"
)

// MustOpenDB opens a new database in a temporary directory and closes it
// when the test ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "vigil.db"))
}

func mustOpenAt(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return MustOpenDB(t) })
}

func TestDurabilityPragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	db := mustOpenAt(t, path)
	for _, c := range []struct{ pragma, want string }{
		{"synchronous", "2"}, // FULL
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"trusted_schema", "0"},
	} {
		got, err := sqlite.WritePragma(ctx, db, c.pragma)
		if err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("write connection: PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	if got, err := sqlite.ReadPragma(ctx, db, "query_only"); err != nil || got != "1" {
		t.Errorf("read connection: PRAGMA query_only = %q, %v; want 1", got, err)
	}
	// WAL is recorded in the file header too (bytes 18 and 19 = 2).
	hdr := make([]byte, 100)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(hdr, 0); err != nil {
		t.Fatal(err)
	}
	if hdr[18] != 2 || hdr[19] != 2 {
		t.Errorf("file header read/write versions = %d/%d, want 2/2 (WAL)", hdr[18], hdr[19])
	}
}

// fill writes n records with ~400-byte bodies and n log entries.
func fill(t *testing.T, db *sqlite.DB, n int) {
	t.Helper()
	err := db.Update(context.Background(), func(tx store.Tx) error {
		for i := range n {
			var e [32]byte
			binary.BigEndian.PutUint64(e[:], uint64(i))
			idx, err := evlog.Append(tx, e)
			if err != nil {
				return err
			}
			body := []byte(strings.Repeat(fmt.Sprintf("%08d", i), 50))
			err = tx.PutRecord(store.Record{ID: vigil.NewID(), Version: 1, Kind: "item",
				Created: time.Now().Truncate(time.Hour), LeafIndex: idx, Body: body})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestImmutabilityTriggers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, db, 3)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, stmt := range []string{
		`UPDATE records SET body = x'00'`,
		`UPDATE records SET version = version + 1`,
		`DELETE FROM records`,
		`UPDATE log_entries SET entry = x'00'`,
		`DELETE FROM log_entries WHERE idx = 2`,
		`UPDATE log_hashes SET hash = zeroblob(32)`,
		`DELETE FROM log_hashes`,
		`INSERT OR REPLACE INTO log_entries (idx, entry) VALUES (0, x'00')`,
		`REPLACE INTO log_hashes (idx, hash) VALUES (0, zeroblob(32))`,
		`INSERT OR REPLACE INTO records SELECT id, version, kind, created, leaf_index, blob, x'00' FROM records`,
	} {
		if _, err := raw.Exec(stmt); err == nil {
			t.Errorf("%s: succeeded on an immutable table", stmt)
		}
	}
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM records`).Scan(&n); err != nil || n != 3 {
		t.Errorf("records after the attempts: %d, %v; want 3", n, err)
	}

	// The data is intact for the store too.
	db = mustOpenAt(t, path)
	err = db.View(context.Background(), func(tx store.ReadTx) error { return evlog.Check(tx) })
	if err != nil {
		t.Errorf("evlog.Check after the attempts: %v", err)
	}
}

func TestCorruptPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, db, 300)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing the last connection checkpoints the WAL into the main file.
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		t.Fatalf("WAL not checkpointed on close (%d bytes); the test would corrupt stale pages", st.Size())
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(b[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := len(b) / pageSize
	if pages < 10 {
		t.Fatalf("database has only %d pages", pages)
	}
	mid := pages / 2
	for i := mid * pageSize; i < (mid+1)*pageSize; i++ {
		b[i] = 0xa5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	db, err = sqlite.Open(context.Background(), path)
	if err == nil {
		db.Close()
		t.Fatalf("Open of a database with page %d of %d overwritten succeeded", mid+1, pages)
	}
	if !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("Open = %v, want an error wrapping ErrCorrupt", err)
	}
	t.Logf("Open: %v", err)
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("this is not a database file. ", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a text file succeeded")
	}
	if !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("Open = %v, want an error wrapping ErrCorrupt", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, db, 20)
	var want [32]byte
	db.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		want, err = evlog.TreeHash(tx, 20)
		return err
	})
	db.Close()
	db = mustOpenAt(t, path)
	err = db.View(context.Background(), func(tx store.ReadTx) error {
		tree, err := evlog.Tree(tx)
		if err != nil {
			return err
		}
		if tree.N != 20 || tree.Hash != want {
			t.Errorf("after reopen: tree %d %v, want 20 %v", tree.N, tree.Hash, want)
		}
		return evlog.Check(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
}
