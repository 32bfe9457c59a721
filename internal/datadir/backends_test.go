package datadir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
	"github.com/vigil-hr/vigil/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	s3test.Stop()
	os.Exit(code)
}

const pass = "backends test passphrase"

func initDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := datadir.Init(dir, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// setKeys adds keys to DIR/vigil.json.
func setKeys(t *testing.T, dir string, keys map[string]string) {
	t.Helper()
	p := filepath.Join(dir, "vigil.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range keys {
		m[k] = v
	}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteBackends runs a data directory on PostgreSQL and S3, named by
// vigil.json's keys and by OpenWith (serve's flags): an item added goes to
// the remote stores, not to DIR, and reads back.
func TestRemoteBackends(t *testing.T) {
	ctx := context.Background()
	for _, viaConfig := range []bool{true, false} {
		name := "flags"
		if viaConfig {
			name = "vigil.json"
		}
		t.Run(name, func(t *testing.T) {
			dir := initDir(t)
			be := datadir.Backends{Store: pgtest.URL(t), Blobs: s3test.URL(t)}
			var d *datadir.Dir
			var err error
			if viaConfig {
				setKeys(t, dir, map[string]string{"store": be.Store, "blobs": be.Blobs})
				d, err = datadir.Open(ctx, dir)
			} else {
				d, err = datadir.OpenWith(ctx, dir, be)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if err := d.Vault.Unseal([]byte(pass)); err != nil {
				t.Fatal(err)
			}
			content := bytes.Repeat([]byte("evidence "), 1000)
			it, err := d.Evidence.Add(ctx, bytes.NewReader(content), "report.txt", "")
			if err != nil {
				t.Fatal(err)
			}
			rc, err := d.Evidence.Open(ctx, it)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("read back %d bytes, %v", len(got), err)
			}
			if _, err := d.SignCheckpoint(ctx); err != nil {
				t.Fatal(err)
			}
			err = d.Store.View(ctx, func(tx store.ReadTx) error {
				if n, err := tx.TreeSize(); err != nil || n != 1 {
					t.Errorf("TreeSize = %d, %v; want 1", n, err)
				}
				return evlog.Check(tx)
			})
			if err != nil {
				t.Fatal(err)
			}
			blobs := 0
			d.Blobs.List(ctx, func(string) error { blobs++; return nil })
			if blobs != 1 {
				t.Errorf("%d blobs in the S3 store, want 1", blobs)
			}
			// Nothing went to the directory's own stores.
			local, _ := filepath.Glob(filepath.Join(dir, "blobs", "??", "*"))
			if len(local) != 0 {
				t.Errorf("blobs in DIR/blobs: %v", local)
			}
			d.Close()
			d, err = datadir.Open(ctx, initDirCopy(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.Store.View(ctx, func(tx store.ReadTx) error {
				if n, _ := tx.TreeSize(); n != 0 {
					t.Errorf("DIR/vigil.db has %d log entries, want 0", n)
				}
				return nil
			})
		})
	}
}

// initDirCopy returns a copy of dir without vigil.json's backend keys, to
// look at its local database.
func initDirCopy(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "vigil.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "store")
	delete(m, "blobs")
	b, _ = json.Marshal(m)
	os.WriteFile(filepath.Join(dir, "vigil.json"), b, 0o644)
	return dir
}

// TestBadBackendURLs checks that a wrong URL is refused with a message that
// says which setting is wrong and what is wrong with it, and that nothing
// is left locked.
func TestBadBackendURLs(t *testing.T) {
	ctx := context.Background()
	dir := initDir(t)
	for _, c := range []struct {
		be   datadir.Backends
		want []string
		kind error
	}{
		{datadir.Backends{Store: "mysql://u@h/db"}, []string{"--store", `scheme "mysql"`}, vigil.ErrInvalid},
		{datadir.Backends{Store: "postgres://u@127.0.0.1:1/vigil?connect_timeout=2"}, []string{"--store", "cannot reach PostgreSQL"}, vigil.ErrUnavailable},
		{datadir.Backends{Blobs: "s3://host.example"}, []string{"--blobs", "names no bucket"}, vigil.ErrInvalid},
		{datadir.Backends{Blobs: "file:///srv/blobs"}, []string{"--blobs", `scheme "file"`}, vigil.ErrInvalid},
		{datadir.Backends{Blobs: "s3+http://k:s@127.0.0.1:1/bucket"}, []string{"--blobs", "cannot reach the endpoint"}, vigil.ErrUnavailable},
	} {
		d, err := datadir.OpenWith(ctx, dir, c.be)
		if err == nil {
			d.Close()
			t.Errorf("OpenWith(%+v) succeeded", c.be)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("OpenWith(%+v) = %v; want it to say %q", c.be, err, w)
			}
		}
		if !errors.Is(err, c.kind) {
			t.Errorf("OpenWith(%+v) = %v; want %v", c.be, err, c.kind)
		}
	}
	// The failures left the directory unlocked and usable.
	d, err := datadir.Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after the failed opens: %v", err)
	}
	d.Close()
	setKeys(t, dir, map[string]string{"store": "postgresql://u@h"})
	if _, err := datadir.Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "vigil.json store") || !strings.Contains(err.Error(), "names no database") {
		t.Errorf("Open with a bad vigil.json store = %v", err)
	}
}
