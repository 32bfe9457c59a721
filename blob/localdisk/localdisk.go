// Package localdisk implements [blob.Store] on a local filesystem.
//
// Blobs live at DIR/ab/abcdef... (two-character fan-out). A writer streams to
// DIR/tmp/, then Commit fsyncs the file, renames it into place and fsyncs both
// directories (DIR itself only the first time a [Dir] commits into a fan-out
// directory: its entry does not change after that), so a committed blob
// survives power loss and an interrupted one leaves at most a temporary file,
// which [Open] clears.
//
// # Times
//
// A blob's modification time would date its arrival to the nanosecond, so
// Commit sets the blob's and its directories' access and modification times
// to the current time rounded down to [Dir.TimePrecision] (an hour by
// default, the intake precision), and Abort and Remove do the same for the
// directories they change. What a filesystem does not let a process set,
// the inode change time (ctime) and, on some filesystems, the birth time,
// still tells when the blob was written; docs/intake.md says what remains.
package localdisk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/internal/atomicfile"
)

// DefaultMinFree is the free space Create keeps on the disk by default.
const DefaultMinFree = 128 << 20

// Dir is a blob store in a directory.
type Dir struct {
	// MinFree is the free disk space, in bytes, below which Create and
	// writes fail with an error wrapping vigil.ErrUnavailable, so that a flood
	// of uploads cannot fill the disk that the database shares. Open sets
	// DefaultMinFree; zero turns the check off.
	MinFree int64
	// TimePrecision is how coarse the times of blobs and blob directories
	// are. Open sets an hour; zero or less leaves the filesystem's times.
	TimePrecision time.Duration
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time

	root string

	mu sync.Mutex
	// durable holds the fan-out directories whose entries in root this Dir
	// has fsynced (after creating them, or finding them, itself). A commit
	// into one of them need not fsync root again. A directory found to exist
	// but not in the set may be left over by a process that crashed before
	// fsyncing root, so it is fsynced once more.
	durable map[string]bool
}

var _ blob.Store = (*Dir)(nil)

// Open opens the store rooted at root, creating it if needed, and removes
// leftover temporary files from interrupted writes. Only one process may
// use a store at a time (the data directory lock ensures it).
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	tmps, _ := filepath.Glob(filepath.Join(root, "tmp", "*"))
	for _, t := range tmps {
		os.Remove(t)
	}
	return &Dir{root: root, durable: make(map[string]bool), MinFree: DefaultMinFree, TimePrecision: time.Hour}, nil
}

// coarsen sets the access and modification times of paths to now, rounded
// down to d.TimePrecision.
func (d *Dir) coarsen(paths ...string) error {
	if d.TimePrecision <= 0 {
		return nil
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	t := now().Truncate(d.TimePrecision)
	for _, p := range paths {
		if err := os.Chtimes(p, t, t); err != nil {
			return fmt.Errorf("set coarse time: %w", err)
		}
	}
	return nil
}

func (d *Dir) path(name string) string {
	return filepath.Join(d.root, name[:2], name)
}

// Create implements [blob.Store].
func (d *Dir) Create(ctx context.Context) (blob.Writer, error) {
	if err := d.checkFree(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "blob-*")
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &writer{d: d, f: f, bw: bufio.NewWriterSize(f, 256<<10), name: blob.NewName()}, nil
}

type writer struct {
	d    *Dir
	f    *os.File
	bw   *bufio.Writer
	name string
	done bool

	sinceCheck int64 // bytes written since the last free-space check
}

// checkFree fails if the disk holding the store has less than MinFree free.
func (d *Dir) checkFree() error {
	if d.MinFree <= 0 {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.root, &st); err != nil {
		return nil // cannot tell: let the write itself fail if it must
	}
	if free := int64(st.Bavail) * int64(st.Bsize); free < d.MinFree {
		return fmt.Errorf("%w: %d bytes free on the blob disk, keeping %d (hint: free space or move the data directory)", vigil.ErrUnavailable, free, d.MinFree)
	}
	return nil
}

// freeCheckEvery is how many bytes a writer writes between free-space checks.
const freeCheckEvery = 32 << 20

func (w *writer) Write(p []byte) (int, error) {
	w.sinceCheck += int64(len(p))
	if w.sinceCheck >= freeCheckEvery {
		w.sinceCheck = 0
		if err := w.d.checkFree(); err != nil {
			return 0, err
		}
	}
	return w.bw.Write(p)
}
func (w *writer) Name() string { return w.name }

func (w *writer) Commit(ctx context.Context) error {
	if w.done {
		return errors.New("blob already committed or aborted")
	}
	if err := ctx.Err(); err != nil {
		w.Abort()
		return fmt.Errorf("commit blob: %w", err)
	}
	w.done = true
	tmp := w.f.Name()
	err := w.bw.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.d.coarsen(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write blob: %w", err)
	}
	dst := w.d.path(w.name)
	dir := filepath.Dir(dst)
	fan := w.name[:2]
	w.d.mu.Lock()
	known := w.d.durable[fan]
	w.d.mu.Unlock()
	if err := os.Mkdir(dir, 0o700); err == nil {
		known = false // (re)created now: its entry is not durable yet
	} else if !errors.Is(err, fs.ErrExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("blob directory: %w", err)
		}
		known = false
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("commit blob: %w", err)
	}
	// The directories' times changed with the rename (and the fan-out
	// directory's creation): make them coarse before they are made durable.
	if err := w.d.coarsen(dir, filepath.Join(w.d.root, "tmp"), w.d.root); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("sync blob directory: %w", err)
	}
	if !known {
		// The fan-out directory's own entry must be durable too. Once it
		// is, later commits into it skip this fsync.
		if err := atomicfile.SyncDir(w.d.root); err != nil {
			return fmt.Errorf("sync blob directory: %w", err)
		}
		w.d.mu.Lock()
		w.d.durable[fan] = true
		w.d.mu.Unlock()
	}
	return nil
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil {
		return err
	}
	return w.d.coarsen(filepath.Join(w.d.root, "tmp"))
}

// Open implements [blob.Store].
func (d *Dir) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := blob.CheckName(name); err != nil {
		return nil, err
	}
	// O_NOATIME: a read must not stamp the blob's access time with the
	// moment staff opened it (relatime would, as its access time is not
	// after its coarse modification time). Only the file's owner may ask
	// for it, so fall back to a plain open.
	f, err := os.OpenFile(d.path(name), os.O_RDONLY|syscall.O_NOATIME, 0)
	if errors.Is(err, fs.ErrPermission) {
		f, err = os.Open(d.path(name))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", name, vigil.ErrNotFound)
	}
	return f, err
}

// Remove implements [blob.Store].
func (d *Dir) Remove(ctx context.Context, name string) error {
	if err := blob.CheckName(name); err != nil {
		return err
	}
	err := os.Remove(d.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return d.coarsen(filepath.Dir(d.path(name)))
}

// List implements [blob.Store].
func (d *Dir) List(ctx context.Context, fn func(string) error) error {
	fans, err := os.ReadDir(d.root)
	if err != nil {
		return err
	}
	for _, fan := range fans {
		if !fan.IsDir() || len(fan.Name()) != 2 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(d.root, fan.Name()))
		if err != nil {
			return err
		}
		for _, e := range ents {
			if blob.CheckName(e.Name()) == nil {
				if err := fn(e.Name()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
