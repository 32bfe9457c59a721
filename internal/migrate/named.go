package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/blob/localdisk"
	s3blob "github.com/vigil-hr/vigil/blob/s3"
	"github.com/vigil-hr/vigil/internal/atomicfile"
)

// blob.Store has no way to write a blob under a given name (Create picks a
// fresh one), so the two targets below write in each adapter's layout:
// localdisk's ROOT/NAME[:2]/NAME and blob/s3's PREFIX/NAME. The verification
// reads every copied blob back through the adapter itself.

// Local is a local blob directory (blob/localdisk) as a [NamedStore].
type Local struct {
	*localdisk.Dir
	root string
}

// OpenLocal opens the local blob directory at root; file and directory
// times are rounded down to precision, as localdisk does.
func OpenLocal(root string, precision time.Duration) (*Local, error) {
	d, err := localdisk.Open(root)
	if err != nil {
		return nil, err
	}
	d.TimePrecision = precision
	return &Local{Dir: d, root: root}, nil
}

// Put implements [NamedStore]: a temporary file in ROOT/tmp, fsynced, its
// times made coarse, linked (never replacing) to ROOT/NAME[:2]/NAME, and the
// directories fsynced.
func (l *Local) Put(ctx context.Context, name string, r io.Reader) error {
	if err := blob.CheckName(name); err != nil {
		return err
	}
	tmpDir := filepath.Join(l.root, "tmp")
	f, err := os.CreateTemp(tmpDir, "blob-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.Now().Truncate(max(l.TimePrecision, time.Nanosecond))
	fan := filepath.Join(l.root, name[:2])
	if err := os.Mkdir(fan, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := os.Link(tmp, filepath.Join(fan, name)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: blob %s exists in the target", vigil.ErrConflict, name)
		}
		return err
	}
	os.Remove(tmp)
	for _, p := range []string{filepath.Join(fan, name), fan, tmpDir, l.root} {
		if l.TimePrecision > 0 {
			if err := os.Chtimes(p, t, t); err != nil {
				return fmt.Errorf("set coarse time: %w", err)
			}
		}
	}
	if err := atomicfile.SyncDir(fan); err != nil {
		return err
	}
	return atomicfile.SyncDir(l.root)
}

// S3 is an S3 blob store (blob/s3) as a [NamedStore].
type S3 struct {
	*s3blob.Store
	client *minio.Client
	loc    s3blob.Location
}

// OpenS3 opens the S3 blob store at url (blob/s3's URL form).
func OpenS3(ctx context.Context, url string) (*S3, error) {
	loc, err := s3blob.ParseURL(url)
	if err != nil {
		return nil, err
	}
	st, err := s3blob.OpenLocation(ctx, loc)
	if err != nil {
		return nil, err
	}
	client, err := loc.Client()
	if err != nil {
		return nil, fmt.Errorf("%w: blob store %s: %v", vigil.ErrInvalid, loc, err)
	}
	return &S3{Store: st, client: client, loc: loc}, nil
}

// Put implements [NamedStore]: one upload (multipart in parts of
// s3blob.DefaultPartSize for a larger blob), with blob/s3's fixed content
// type and no metadata. It fails if the object exists, checked before the
// upload (the target is checked empty and used by nothing else meanwhile).
func (s *S3) Put(ctx context.Context, name string, r io.Reader) error {
	if err := blob.CheckName(name); err != nil {
		return err
	}
	key := s.loc.Prefix + name
	if _, err := s.client.StatObject(ctx, s.loc.Bucket, key, minio.StatObjectOptions{}); err == nil {
		return fmt.Errorf("%w: blob %s exists in the target", vigil.ErrConflict, name)
	} else if minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("%w: blob store %s: stat %s: %v", vigil.ErrUnavailable, s.loc, name, err)
	}
	_, err := s.client.PutObject(ctx, s.loc.Bucket, key, r, -1,
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: uint64(s3blob.DefaultPartSize)})
	if err != nil {
		return fmt.Errorf("%w: blob store %s: upload %s: %v", vigil.ErrUnavailable, s.loc, name, err)
	}
	return nil
}
