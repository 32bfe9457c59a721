package localdisk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/blob/blobtest"
	"github.com/vigil-hr/vigil/blob/localdisk"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		d, err := localdisk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// An interrupted write leaves a temporary file; reopening clears it and the
// blob never appears.
func TestOpenClearsTemporaries(t *testing.T) {
	root := t.TempDir()
	d, err := localdisk.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("interrupted"))
	// No Commit, no Abort: as if the process died.
	tmps, _ := filepath.Glob(filepath.Join(root, "tmp", "*"))
	if len(tmps) != 1 {
		t.Fatalf("%d temporary files, want 1", len(tmps))
	}
	if _, err := localdisk.Open(root); err != nil {
		t.Fatal(err)
	}
	tmps, _ = filepath.Glob(filepath.Join(root, "tmp", "*"))
	if len(tmps) != 0 {
		t.Fatalf("reopen left %v", tmps)
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if e.Name() != "tmp" {
			t.Fatalf("unexpected %s after an interrupted write", e.Name())
		}
	}
}

// A nearly full disk refuses new blobs with vigil.ErrUnavailable, before
// anything is written.
func TestMinFree(t *testing.T) {
	d, err := localdisk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d.MinFree = 1 << 62 // more than any disk has
	if _, err := d.Create(context.Background()); !errors.Is(err, vigil.ErrUnavailable) {
		t.Fatalf("Create on a full disk: %v, want ErrUnavailable", err)
	}
	d.MinFree = 0
	w, err := d.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
}
