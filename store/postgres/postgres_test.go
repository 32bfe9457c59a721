package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"

	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/postgres"
	"github.com/vigil-hr/vigil/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	s3test.Stop() // the benchmarks' S3 server
	os.Exit(code)
}

// mustOpen opens a store on a new database and closes it when the test ends.
func mustOpen(tb testing.TB, url string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t, pgtest.URL(t)) })
}

// fill writes n records and n log entries in one transaction.
func fill(t *testing.T, db *postgres.DB, n int) {
	t.Helper()
	err := db.Update(context.Background(), func(tx store.Tx) error {
		for i := range n {
			var e [32]byte
			binary.BigEndian.PutUint64(e[:], uint64(i))
			if _, err := evlog.Append(tx, e); err != nil {
				return err
			}
			err := tx.PutRecord(store.Record{ID: vigil.NewID(), Version: 1, Kind: "item",
				Created: time.Now().Truncate(time.Hour), LeafIndex: -1, Body: []byte("ciphertext")})
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

// TestImmutabilityTriggers checks that the database itself refuses to
// change records and log rows, whoever connects: raw SQL UPDATE, DELETE,
// TRUNCATE and upserts all fail and leave the data intact.
func TestImmutabilityTriggers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := mustOpen(t, url)
	fill(t, db, 3)

	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	for _, stmt := range []string{
		`UPDATE records SET body = '\x00'`,
		`UPDATE records SET version = version + 1`,
		`DELETE FROM records`,
		`TRUNCATE records`,
		`UPDATE log_entries SET entry = '\x00'`,
		`DELETE FROM log_entries WHERE idx = 2`,
		`TRUNCATE log_entries`,
		`UPDATE log_hashes SET hash = decode(repeat('00', 32), 'hex')`,
		`DELETE FROM log_hashes`,
		`TRUNCATE log_hashes CASCADE`,
		`INSERT INTO log_entries (idx, entry) VALUES (0, '\x00') ON CONFLICT (idx) DO UPDATE SET entry = excluded.entry`,
		`INSERT INTO log_hashes (idx, hash) VALUES (0, decode(repeat('00', 32), 'hex')) ON CONFLICT (idx) DO UPDATE SET hash = excluded.hash`,
		`INSERT INTO records SELECT id, version, kind, created, leaf_index, blob, '\x00', lookup FROM records ON CONFLICT (id, version) DO UPDATE SET body = excluded.body`,
	} {
		if _, err := raw.Exec(ctx, stmt); err == nil {
			t.Errorf("%s: succeeded on an immutable table", stmt)
		} else {
			t.Logf("%s: %v", stmt, err)
		}
	}
	var n int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM records WHERE body = 'ciphertext'`).Scan(&n); err != nil || n != 3 {
		t.Errorf("intact records after the attempts: %d, %v; want 3", n, err)
	}
	err = db.View(ctx, func(tx store.ReadTx) error {
		if n, err := tx.TreeSize(); err != nil || n != 3 {
			t.Errorf("TreeSize after the attempts = %d, %v; want 3", n, err)
		}
		return evlog.Check(tx)
	})
	if err != nil {
		t.Errorf("evlog.Check after the attempts: %v", err)
	}
}

// TestTwoServersOneLog appends from two stores on one database, as two
// vigil serve processes would (separate connection pools, so separate
// server sessions): every append succeeds, none is lost, and the log is one
// consistent tree. Without the write lock, appends racing for the same
// index fail.
func TestTwoServersOneLog(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	const workers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*each)
	for w := range 2 * workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for i := range each {
				e := sha256.Sum256(fmt.Appendf(nil, "entry %d %d", w, i))
				err := s.Update(ctx, func(tx store.Tx) error {
					if _, err := evlog.Append(tx, e); err != nil {
						return err
					}
					return tx.PutRecord(store.Record{ID: vigil.NewID(), Version: 1, Kind: "item",
						Created: time.Unix(0, 0), LeafIndex: -1, Body: e[:]})
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("append: %v", err)
	}
	const total = 2 * workers * each
	for _, s := range []*postgres.DB{a, b} {
		err := s.View(ctx, func(tx store.ReadTx) error {
			if n, err := tx.TreeSize(); err != nil || n != total {
				t.Errorf("TreeSize = %d, %v; want %d", n, err, total)
			}
			if n, err := tx.CountRecords("item"); err != nil || n != total {
				t.Errorf("CountRecords = %d, %v; want %d", n, err, total)
			}
			return evlog.Check(tx)
		})
		if err != nil {
			t.Errorf("evlog.Check: %v", err)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := mustOpen(t, url)
	fill(t, db, 20)
	var want tlog.Hash
	db.View(ctx, func(tx store.ReadTx) error {
		var err error
		want, err = evlog.TreeHash(tx, 20)
		return err
	})
	db.Close()
	db = mustOpen(t, url) // migrations already applied: nothing to do
	err := db.View(ctx, func(tx store.ReadTx) error {
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

// TestConcurrentOpen opens one new database from several goroutines at
// once: the migrations are applied once, under their lock.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), url)
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Open: %v", err)
	}
	fill(t, mustOpen(t, url), 2)
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	mustOpen(t, url).Close()
	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	if _, err := raw.Exec(ctx, `UPDATE vigil_schema SET version = 99`); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database with schema version 99 succeeded")
	}
	if !strings.Contains(err.Error(), "newer than this vigil") {
		t.Errorf("Open = %v, want a newer-schema error", err)
	}
}

// TestBadURL checks that Open says what is wrong with a URL and never
// repeats its password.
func TestBadURL(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		url, want string
		kind      error
	}{
		{"mysql://u:s3cret@localhost/db", `scheme "mysql"`, vigil.ErrInvalid},
		{"/var/lib/vigil", `scheme ""`, vigil.ErrInvalid},
		{"postgres://u:s3cret@localhost", "names no database", vigil.ErrInvalid},
		{"postgres://u:s3cret@localhost:99999/db", "", vigil.ErrInvalid},
		{"postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=2", "cannot reach PostgreSQL at postgres://u:xxxxx@127.0.0.1:1/db", vigil.ErrUnavailable},
		{"postgres://u@127.0.0.1:1/db?password=s3cret&connect_timeout=2", "cannot reach PostgreSQL", vigil.ErrUnavailable},
	} {
		db, err := postgres.Open(ctx, c.url)
		if err == nil {
			db.Close()
			t.Errorf("Open(%s) succeeded", c.url)
			continue
		}
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%s) = %v; want %v containing %q", c.url, err, c.kind, c.want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%s) error repeats the password: %v", c.url, err)
		}
	}
}

// TestServerCrash kills the database server (SIGKILL of every PostgreSQL
// process) while writers append, then restarts it: every acknowledged
// append is there, the log and records agree, writes during the outage
// fail as unavailable, and the same store works again after the restart
// without reopening.
func TestServerCrash(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Own(t, false)
	db := mustOpen(t, c.URL)
	var (
		mu       sync.Mutex
		acked    [][32]byte
		failures = map[string]int{}
		seq      atomic.Int64
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				e := sha256.Sum256(fmt.Appendf(nil, "crash entry %d", seq.Add(1)))
				err := db.Update(ctx, func(tx store.Tx) error {
					if _, err := evlog.Append(tx, e); err != nil {
						return err
					}
					return tx.PutRecord(store.Record{ID: vigil.NewID(), Version: 1, Kind: "item",
						Created: time.Unix(0, 0), LeafIndex: -1, Body: e[:]})
				})
				mu.Lock()
				if err == nil {
					acked = append(acked, e)
				} else if !errors.Is(err, vigil.ErrUnavailable) {
					failures[err.Error()]++
				} else {
					failures["unavailable"]++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for count() < 50 {
		time.Sleep(10 * time.Millisecond)
	}
	c.Crash()
	time.Sleep(300 * time.Millisecond)
	before := count()
	if err := c.Restart(); err != nil {
		close(stop) // the writers use db, which the cleanup closes
		wg.Wait()
		t.Fatalf("restart the server: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for count() < before+50 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d appends acknowledged, %d of them after the restart; failures: %v", len(acked), len(acked)-before, failures)
	if len(acked) < before+50 {
		t.Errorf("only %d appends after the restart", len(acked)-before)
	}
	if failures["unavailable"] == 0 {
		t.Error("no write failed while the server was down")
	}
	for msg, n := range failures {
		if msg != "unavailable" {
			t.Errorf("%d writes failed with an error not wrapping ErrUnavailable: %s", n, msg)
		}
	}
	err := db.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
		if r, err := tx.CountRecords("item"); err != nil || r != n {
			t.Errorf("%d records for %d log entries (%v)", r, n, err)
		}
		for _, e := range acked {
			if _, err := tx.LeafOf(e[:]); err != nil {
				t.Errorf("acknowledged entry lost: %v", err)
			}
		}
		return evlog.Check(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateHoldsWriteLock looks at the server's lock table while an
// Update runs: its transaction holds the advisory write lock, a second
// Update waits for it, and a View does not.
func TestUpdateHoldsWriteLock(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := mustOpen(t, url)
	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	locks := func(granted bool) int {
		var n int
		err := raw.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = $1
			AND ((classid::bigint << 32) | objid::bigint) = $2`, granted, postgres.WriteLock).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Update(ctx, func(tx store.Tx) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	if n := locks(true); n != 1 {
		t.Errorf("%d sessions hold the write lock during an Update, want 1", n)
	}
	second := make(chan error, 1)
	go func() { second <- db.Update(ctx, func(tx store.Tx) error { return nil }) }()
	deadline := time.Now().Add(10 * time.Second)
	for locks(false) != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := locks(false); n != 1 {
		t.Errorf("%d sessions wait for the write lock during a second Update, want 1", n)
	}
	if err := db.View(ctx, func(tx store.ReadTx) error { _, err := tx.TreeSize(); return err }); err != nil {
		t.Errorf("View during an Update: %v", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if n := locks(true) + locks(false); n != 0 {
		t.Errorf("%d write locks left after the Updates", n)
	}
}
