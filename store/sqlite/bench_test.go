package sqlite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vigil-hr/vigil/blob/localdisk"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/sqlite"
	"github.com/vigil-hr/vigil/vault"
)

// Run with: go test -run '^$' -bench . ./store/sqlite/
// Every commit is fsynced (WAL, synchronous=FULL), as in production.

func benchOpen(b *testing.B) *sqlite.DB {
	b.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func benchEntry(i int64) [evlog.EntrySize]byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(i))
	return sha256.Sum256(buf[:])
}

// BenchmarkAppendOnePerTx appends one log entry per committed transaction.
func BenchmarkAppendOnePerTx(b *testing.B) {
	db := benchOpen(b)
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
}

// BenchmarkAppendBatch appends several log entries per committed transaction.
func BenchmarkAppendBatch(b *testing.B) {
	for _, per := range []int{100, 1000} {
		b.Run(strconv.Itoa(per), func(b *testing.B) {
			db := benchOpen(b)
			ctx := context.Background()
			var n int64
			for b.Loop() {
				err := db.Update(ctx, func(tx store.Tx) error {
					for range per {
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

// BenchmarkIngestSmall ingests a 4 KiB item: encrypt to a blob, fsync it and
// its directories, then the record and its log leaf in one transaction.
func BenchmarkIngestSmall(b *testing.B) {
	dir := b.TempDir()
	db := benchOpen(b)
	blobs, err := localdisk.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.age")
	pub, err := vault.Create(keys, []byte("benchmark passphrase"), "bench.example/log", 10)
	if err != nil {
		b.Fatal(err)
	}
	v, err := vault.Open(keys, pub)
	if err != nil {
		b.Fatal(err)
	}
	svc := &evidence.Service{Store: db, Blobs: blobs, Vault: v}
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
}
