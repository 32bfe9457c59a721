package localdisk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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

// A seized disk must not date a blob more finely than the intake precision:
// after a commit, an abort and a removal, every file and directory of the
// store has its access and modification times on the precision's grid.
func TestCoarseTimes(t *testing.T) {
	root := t.TempDir()
	d, err := localdisk.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var names []string
	for i := range 3 {
		w, err := d.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("content")); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		names = append(names, w.Name())
	}
	if err := d.Remove(ctx, names[0]); err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			return err
		}
		for what, ts := range map[string]syscall.Timespec{"modification": st.Mtim, "access": st.Atim} {
			tm := time.Unix(ts.Sec, ts.Nsec)
			if !tm.Equal(tm.Truncate(time.Hour)) {
				t.Errorf("%s: %s time %s is not on the hour", path, what, tm.UTC())
			}
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 4 { // root, tmp, a fan-out directory, a blob
		t.Fatalf("checked only %d paths", checked)
	}
}
