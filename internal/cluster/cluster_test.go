package cluster_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/cluster"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type event struct {
	what string
	kind string
	id   vigil.ID
}

func join(t *testing.T, url string) (*cluster.Node, chan event) {
	t.Helper()
	ch := make(chan event, 16)
	n, err := cluster.Join(t.Context(), url, cluster.Handlers{
		Record: func(kind string, id vigil.ID) { ch <- event{"record", kind, id} },
		Seal:   func() { ch <- event{what: "seal"} },
		Resync: func() { ch <- event{what: "resync"} },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, ch
}

func next(t *testing.T, ch chan event) event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no notification in 10s")
	}
	panic("unreachable")
}

// Both nodes hear a committed record version and a seal, neither hears a
// rolled-back write, and a node whose connection is killed reconnects,
// says so (Resync) and hears notifications again.
func TestNotifications(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, cha := join(t, url)
	_, chb := join(t, url)

	put := func(fail bool) vigil.ID {
		id := vigil.NewID()
		err := db.Update(ctx, func(tx store.Tx) error {
			if err := tx.PutRecord(store.Record{ID: id, Version: 1, Kind: "incident", Created: time.Unix(0, 0), Body: []byte("x")}); err != nil {
				return err
			}
			if fail {
				return vigil.ErrConflict
			}
			return nil
		})
		if fail != (err != nil) {
			t.Fatalf("put (fail %v): %v", fail, err)
		}
		return id
	}
	put(true) // rolled back: no notification
	id := put(false)
	for _, ch := range []chan event{cha, chb} {
		if e := next(t, ch); e != (event{"record", "incident", id}) {
			t.Fatalf("got %+v, want the record %s", e, id)
		}
	}
	if err := a.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan event{cha, chb} {
		if e := next(t, ch); e.what != "seal" {
			t.Fatalf("got %+v, want seal", e)
		}
	}

	// Kill every listening connection from the server side.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan event{cha, chb} {
		if e := next(t, ch); e.what != "resync" {
			t.Fatalf("got %+v, want resync", e)
		}
	}
	id = put(false)
	for _, ch := range []chan event{cha, chb} {
		if e := next(t, ch); e != (event{"record", "incident", id}) {
			t.Fatalf("after reconnecting got %+v, want the record %s", e, id)
		}
	}
}
