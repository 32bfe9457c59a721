package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/vigil-hr/vigil"
	s3blob "github.com/vigil-hr/vigil/blob/s3"
)

// S3 is a [Target] in an S3 bucket under a prefix: the file NAME is the
// object PREFIX/NAME. It is named by the URL syntax of the S3 blob store
// (package blob/s3: s3://HOST/BUCKET/PREFIX, s3+http:// on a private link;
// credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the
// URL's KEY:SECRET@ for tests). Objects appear whole when their upload
// completes, so a reader sees a file entire or not at all; files larger
// than one part are streamed as multipart uploads, one part in memory.
//
// S3 lets no client set an object's time: each object's Last-Modified is
// the second its upload completed (docs/backup.md says what follows).
type S3 struct {
	client *minio.Client
	loc    s3blob.Location
	// PartSize is the most a Put buffers (and the multipart part size).
	PartSize int64
}

var _ Target = (*S3)(nil)

// OpenS3 opens the S3 target at rawURL and checks that its bucket exists.
// Errors wrap vigil.ErrInvalid (the URL), vigil.ErrUnavailable (the
// endpoint), vigil.ErrNotFound (the bucket) or vigil.ErrForbidden (the
// credentials), and never repeat a secret.
func OpenS3(ctx context.Context, rawURL string) (*S3, error) {
	loc, err := s3blob.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	client, err := loc.Client()
	if err != nil {
		return nil, fmt.Errorf("%w: backup target %s: %v", vigil.ErrInvalid, loc, err)
	}
	s := &S3{client: client, loc: loc, PartSize: s3blob.DefaultPartSize}
	ok, err := client.BucketExists(ctx, loc.Bucket)
	if err != nil {
		return nil, s.mapErr(err, "check bucket")
	}
	if !ok {
		return nil, fmt.Errorf("backup target %s: bucket %q does not exist on %s: %w (hint: create it, e.g. with the provider's console or `aws s3 mb`)", loc, loc.Bucket, loc.Endpoint, vigil.ErrNotFound)
	}
	return s, nil
}

// String returns the target's URL without credentials.
func (s *S3) String() string { return s.loc.String() }

// mapErr describes a failed S3 operation: a missing key wraps
// fs.ErrNotExist (as the Target contract wants), refused credentials
// vigil.ErrForbidden, anything else vigil.ErrUnavailable.
func (s *S3) mapErr(err error, op string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("backup target %s: %s: %w", s.loc, op, err)
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey:
		return fmt.Errorf("backup target %s: %s: %w", s.loc, op, fs.ErrNotExist)
	case minio.NoSuchBucket:
		return fmt.Errorf("backup target %s: %s: bucket %q does not exist: %w", s.loc, op, s.loc.Bucket, vigil.ErrNotFound)
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return fmt.Errorf("backup target %s: %s: %w: the provider refused the credentials (%s) (hint: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", s.loc, op, vigil.ErrForbidden, resp.Code)
	}
	var ne net.Error
	if errors.As(err, &ne) || resp.Code == "" {
		return fmt.Errorf("%w: backup target %s: %s: cannot reach the endpoint: %v", vigil.ErrUnavailable, s.loc, op, err)
	}
	return fmt.Errorf("%w: backup target %s: %s: %v", vigil.ErrUnavailable, s.loc, op, err)
}

// key returns the object key of the file name, checked as [Local] checks
// names: no empty, dot or dot-dot segment, nothing hidden.
func (s *S3) key(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return s.loc.Prefix + name, nil
}

// Stat implements [Target].
func (s *S3) Stat(ctx context.Context, name string) (int64, error) {
	k, err := s.key(name)
	if err != nil {
		return 0, err
	}
	info, err := s.client.StatObject(ctx, s.loc.Bucket, k, minio.StatObjectOptions{})
	if err != nil {
		return 0, s.mapErr(err, "stat "+name)
	}
	return info.Size, nil
}

// Put implements [Target]: one PUT for a file of up to PartSize bytes, or
// a multipart upload streamed a part at a time (at most two parts in
// memory). The object exists only once the upload completes.
func (s *S3) Put(ctx context.Context, name string, r io.Reader) error {
	k, err := s.key(name)
	if err != nil {
		return err
	}
	part := max(s.PartSize, 5<<20)
	var first bytes.Buffer
	n, err := io.CopyN(&first, ctxReader{ctx, r}, part+1)
	if err != nil && err != io.EOF {
		return fmt.Errorf("backup target %s: upload %s: %w", s.loc, name, err)
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: uint64(part)}
	if n <= part { // the whole file
		_, err = s.client.PutObject(ctx, s.loc.Bucket, k, &first, n, opts)
	} else {
		_, err = s.client.PutObject(ctx, s.loc.Bucket, k, io.MultiReader(&first, ctxReader{ctx, r}), -1, opts)
	}
	if err != nil {
		return s.mapErr(err, "upload "+name)
	}
	return nil
}

// Open implements [Target].
func (s *S3) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	k, err := s.key(name)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.loc.Bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.mapErr(err, "open "+name)
	}
	// GetObject is lazy: Stat sends the request and reports a missing key.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.mapErr(err, "open "+name)
	}
	return obj, nil
}

// List implements [Target]: the objects and "directories" (common
// prefixes) directly under dir.
func (s *S3) List(ctx context.Context, dir string) ([]string, error) {
	p := s.loc.Prefix
	if dir != "" {
		k, err := s.key(dir)
		if err != nil {
			return nil, err
		}
		p = k + "/"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var names []string
	for obj := range s.client.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: p}) {
		if obj.Err != nil {
			return nil, s.mapErr(obj.Err, "list "+dir)
		}
		n := strings.TrimSuffix(strings.TrimPrefix(obj.Key, p), "/")
		if n == "" || strings.Contains(n, "/") || strings.HasPrefix(n, ".") {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}
