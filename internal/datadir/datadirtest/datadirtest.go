// Package datadirtest gives tests a fresh, opened data directory.
package datadirtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-hr/vigil/internal/datadir"
)

// Open creates a data directory under tb's temporary directory with the
// given passphrase (a low scrypt work factor, for speed), opens it sealed,
// and closes it when the test ends.
func Open(tb testing.TB, passphrase string) *datadir.Dir {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "data")
	if _, err := datadir.Init(dir, []byte(passphrase), datadir.Options{WorkFactor: 10}); err != nil {
		tb.Fatal(err)
	}
	d, err := datadir.Open(context.Background(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// Cached opens, unsealed, a data directory kept between runs under the
// system's temporary directory as vigil-cached/NAME, for benchmarks whose
// data takes minutes to make: fill makes it the first time (the directory
// is complete only once fill returned; an interrupted fill is redone).
// Change NAME when fill changes. It is closed when tb ends.
func Cached(tb testing.TB, name, passphrase string, fill func(d *datadir.Dir) error) *datadir.Dir {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "vigil-cached", name)
	done := filepath.Join(os.TempDir(), "vigil-cached", name+".complete")
	if _, err := os.Stat(done); err != nil {
		if err := os.RemoveAll(dir); err != nil {
			tb.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			tb.Fatal(err)
		}
		if _, err := datadir.Init(dir, []byte(passphrase), datadir.Options{WorkFactor: 10}); err != nil {
			tb.Fatal(err)
		}
		d, err := datadir.Open(context.Background(), dir)
		if err != nil {
			tb.Fatal(err)
		}
		if err := d.Vault.Unseal([]byte(passphrase)); err != nil {
			tb.Fatal(err)
		}
		err = fill(d)
		d.Close()
		if err != nil {
			tb.Fatalf("filling %s: %v", dir, err)
		}
		if err := os.WriteFile(done, nil, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	d, err := datadir.Open(context.Background(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	if err := d.Vault.Unseal([]byte(passphrase)); err != nil {
		tb.Fatal(err)
	}
	return d
}
