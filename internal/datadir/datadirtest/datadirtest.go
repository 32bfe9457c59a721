// Package datadirtest gives tests a fresh, opened data directory.
package datadirtest

import (
	"context"
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
