package ratelimit_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/ratelimit"
	"github.com/vigil-hr/vigil/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two servers (two connection pools, two limiters with one secret) share
// their buckets: takes split between them are limited as one; a limiter
// with another secret keys other buckets; an epoch's start gives new
// buckets and deletes the old rows; and no row holds the id.
func TestSharedAcrossServers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	c := newClock()
	cfg := ratelimit.Config{Burst: 6, Every: 10 * time.Second, Rotate: time.Hour, Now: c.Now}
	secret := bytes.Repeat([]byte{7}, 32)
	a := ratelimit.NewShared(cfg, open(), "receipt", secret)
	b := ratelimit.NewShared(cfg, open(), "receipt", secret)
	const addr = "203.0.113.77"
	granted := 0
	for i := range 12 {
		l := a
		if i%2 == 1 {
			l = b
		}
		ok, wait, err := l.Take(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			granted++
		} else if wait != 10*time.Second {
			t.Fatalf("refused with wait %v, want 10s", wait)
		}
	}
	if granted != 6 {
		t.Fatalf("12 takes split across two servers got %d tokens, want the burst of 6", granted)
	}
	if ok, _, _ := b.Peek(ctx, addr); ok {
		t.Fatal("B's Peek sees tokens A took")
	}
	if err := a.Give(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := b.Take(ctx, addr); !ok || err != nil {
		t.Fatalf("the token A gave back is not B's: %v %v", ok, err)
	}
	// Another name or another secret: other buckets.
	if ok, _, _ := ratelimit.NewShared(cfg, open(), "other", secret).Peek(ctx, addr); !ok {
		t.Fatal("a limiter of another name shares the bucket")
	}
	if ok, _, _ := ratelimit.NewShared(cfg, open(), "receipt", bytes.Repeat([]byte{8}, 32)).Peek(ctx, addr); !ok {
		t.Fatal("a limiter with another secret shares the bucket")
	}

	// What the table shows: keyed hashes, never the address.
	raw, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	rows := func() [][]byte {
		t.Helper()
		rs, err := raw.Query(ctx, `SELECT key, epoch::text, tokens::text, last::text FROM rate_buckets`)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		for rs.Next() {
			var k []byte
			var e, tok, last string
			if err := rs.Scan(&k, &e, &tok, &last); err != nil {
				t.Fatal(err)
			}
			out = append(out, append(append(k, e...), tok+last...))
		}
		return out
	}
	got := rows()
	if len(got) != 1 {
		t.Fatalf("table holds %d rows, want 1", len(got))
	}
	for _, r := range got {
		if bytes.Contains(r, []byte(addr)) || bytes.Contains(r, []byte{203, 0, 113, 77}) {
			t.Fatalf("a row holds the address: %q", r)
		}
	}

	// The next epoch: a new bucket, and the old row deleted.
	c.Add(time.Hour)
	if ok, _, err := a.Take(ctx, addr); !ok || err != nil {
		t.Fatalf("a new epoch did not give a new bucket: %v %v", ok, err)
	}
	if n := len(rows()); n != 1 {
		t.Fatalf("after an epoch the table holds %d rows, want only the new one", n)
	}
}
