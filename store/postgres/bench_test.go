package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/blob/localdisk"
	"github.com/vigil-hr/vigil/blob/s3"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/postgres"
	"github.com/vigil-hr/vigil/store/sqlite"
	"github.com/vigil-hr/vigil/vault"
)

// Run with: go test -run '^$' -bench . ./store/postgres/
//
// Each benchmark runs SQLite (the baseline: WAL, synchronous=FULL, every
// commit fsynced) beside PostgreSQL in the same run. The PostgreSQL server
// is a cluster of the benchmark's own with fsync on, so both pay for
// durability; S3 is the test server of internal/s3test (SeaweedFS on
// loopback, which acknowledges before fsync).

type backend struct {
	name  string
	store func(b *testing.B) store.Store
	blobs func(b *testing.B) blob.Store
}

func backends() []backend {
	sqliteStore := func(b *testing.B) store.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	pgStore := func(b *testing.B) store.Store {
		c := pgtest.Own(b, true)
		db, err := postgres.Open(context.Background(), c.URL)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	local := func(b *testing.B) blob.Store {
		d, err := localdisk.Open(filepath.Join(b.TempDir(), "blobs"))
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	remote := func(b *testing.B) blob.Store {
		s, err := s3.Open(context.Background(), s3test.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	return []backend{
		{"sqlite+localdisk", sqliteStore, local},
		{"postgres+localdisk", pgStore, local},
		{"postgres+s3", pgStore, remote},
	}
}

func benchEntry(i int64) [evlog.EntrySize]byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(i))
	return sha256.Sum256(buf[:])
}

// BenchmarkAppendOnePerTx appends one log entry per committed transaction.
func BenchmarkAppendOnePerTx(b *testing.B) {
	for _, be := range backends()[:2] {
		b.Run(be.name, func(b *testing.B) {
			db := be.store(b)
			ctx := context.Background()
			var n int64
			for b.Loop() {
				err := db.Update(ctx, func(tx store.Tx) error {
					_, err := evlog.Append(tx, benchEntry(n))
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkAppendBatch100 appends 100 log entries per committed transaction
// (group commit's shape).
func BenchmarkAppendBatch100(b *testing.B) {
	for _, be := range backends()[:2] {
		b.Run(be.name, func(b *testing.B) {
			db := be.store(b)
			ctx := context.Background()
			var n int64
			for b.Loop() {
				err := db.Update(ctx, func(tx store.Tx) error {
					for range 100 {
						if _, err := evlog.Append(tx, benchEntry(n)); err != nil {
							return err
						}
						n++
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkIngestSmall ingests a 4 KiB item: encrypt to a blob and commit
// it, then the record and its log leaf in one transaction.
func BenchmarkIngestSmall(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			dir := b.TempDir()
			keys := filepath.Join(dir, "keys.age")
			pub, err := vault.Create(keys, []byte("benchmark passphrase"), "bench.example/log", 10)
			if err != nil {
				b.Fatal(err)
			}
			v, err := vault.Open(keys, pub)
			if err != nil {
				b.Fatal(err)
			}
			svc := &evidence.Service{Store: be.store(b), Blobs: be.blobs(b), Vault: v}
			data := bytes.Repeat([]byte("vigil 4k"), 4096/8)
			ctx := context.Background()
			b.SetBytes(int64(len(data)))
			var n int64
			for b.Loop() {
				if _, err := svc.Add(ctx, bytes.NewReader(data), "item.txt", "text/plain"); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
