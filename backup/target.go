package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/atomicfile"
)

// A Target is where backups are kept: a flat namespace of files named by
// slash-separated paths ("blobs/ab12...", "snapshots/000001/manifest.json").
// Files are written once and never changed (so off-site copies can refuse
// changes: rclone copy --immutable, rsync --ignore-existing). An S3
// bucket and prefix fits the same contract.
type Target interface {
	// Stat returns the size of the file name, or an error wrapping
	// fs.ErrNotExist.
	Stat(ctx context.Context, name string) (int64, error)
	// Put stores the content of r as name, replacing it atomically: a
	// reader sees the old file or the whole new one. It is durable when Put
	// returns.
	Put(ctx context.Context, name string, r io.Reader) error
	// Open opens name for reading; a missing file is an error wrapping
	// fs.ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// List returns the names of the entries directly under dir (files and
	// subdirectories, base names only), sorted.
	List(ctx context.Context, dir string) ([]string, error)
}

// OpenTarget opens a backup target given on the command line: a local
// directory path (created if missing, mode 0700), or an S3 URL
// (s3://HOST/BUCKET/PREFIX or s3+http://…, see [S3]) whose bucket must
// exist. Errors never repeat a URL's secret.
func OpenTarget(ctx context.Context, spec string, create bool) (Target, error) {
	if spec == "" {
		return nil, fmt.Errorf("%w: empty backup target", vigil.ErrInvalid)
	}
	if IsURL(spec) {
		return OpenS3(ctx, spec)
	}
	if create {
		if err := os.MkdirAll(spec, 0o700); err != nil {
			return nil, fmt.Errorf("backup target: %w", err)
		}
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("backup target: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: backup target %s is not a directory", vigil.ErrInvalid, spec)
	}
	return &Local{Root: spec, TimePrecision: time.Hour}, nil
}

// IsURL reports whether a backup target is given as a URL rather than a
// directory path. Any URL is taken for an S3 one, so that a wrong scheme
// is refused by name rather than made a directory.
func IsURL(spec string) bool { return strings.Contains(spec, "://") }

// Local is a [Target] in a local directory (which may be a mounted disk or
// a directory synced off-site with rsync or rclone: everything in it is
// ciphertext or public).
type Local struct {
	Root string
	// TimePrecision is how coarse the modification times of the files and
	// directories written are (zero: as the filesystem sets them).
	TimePrecision time.Duration
}

var _ Target = (*Local)(nil)

func (l *Local) path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return filepath.Join(l.Root, filepath.FromSlash(name)), nil
}

// checkName refuses a file name that could leave the target or hide in
// it: empty, absolute, with a backslash or an empty, dot or dot-dot (or
// hidden) segment.
func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return fmt.Errorf("%w: backup file name %q", vigil.ErrInvalid, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." || strings.HasPrefix(part, ".") {
			return fmt.Errorf("%w: backup file name %q", vigil.ErrInvalid, name)
		}
	}
	return nil
}

// Stat implements [Target].
func (l *Local) Stat(ctx context.Context, name string) (int64, error) {
	p, err := l.path(name)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: not a regular file", p)
	}
	return st.Size(), nil
}

// Put implements [Target]: it streams into ROOT/.tmp/, fsyncs, renames into
// place and fsyncs the directory, then coarsens the times.
func (l *Local) Put(ctx context.Context, name string, r io.Reader) (err error) {
	p, err := l.path(name)
	if err != nil {
		return err
	}
	tmpdir := filepath.Join(l.Root, ".tmp")
	if err := os.MkdirAll(tmpdir, 0o700); err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(tmpdir, hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = l.coarsen(tmp); err != nil {
		return err
	}
	if err = os.Rename(tmp, p); err != nil {
		return err
	}
	if err = atomicfile.SyncDir(dir); err != nil {
		return err
	}
	// Directories up to the root: their entries may be new.
	for d := dir; ; d = filepath.Dir(d) {
		if err = l.coarsen(d); err != nil {
			return err
		}
		if d == filepath.Clean(l.Root) || d == filepath.Dir(d) {
			break
		}
		if err = atomicfile.SyncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return l.coarsen(tmpdir)
}

func (l *Local) coarsen(p string) error {
	if l.TimePrecision <= 0 {
		return nil
	}
	t := time.Now().Truncate(l.TimePrecision)
	return os.Chtimes(p, t, t)
}

// Open implements [Target].
func (l *Local) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	p, err := l.path(name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// List implements [Target].
func (l *Local) List(ctx context.Context, dir string) ([]string, error) {
	p := l.Root
	if dir != "" {
		var err error
		if p, err = l.path(dir); err != nil {
			return nil, err
		}
	}
	ents, err := os.ReadDir(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
