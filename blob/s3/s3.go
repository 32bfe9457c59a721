// Package s3 implements [blob.Store] on S3-compatible object storage
// (AWS S3, MinIO, SeaweedFS, Ceph, Garage…) through
// github.com/minio/minio-go/v7, for vigil deployments whose blobs outgrow
// one disk or must be shared by several servers.
//
// A store is named by a URL:
//
//	s3://HOST[:PORT]/BUCKET[/PREFIX][?region=REGION]       HTTPS
//	s3+http://HOST[:PORT]/BUCKET[/PREFIX][?region=REGION]  plain HTTP, for a server on loopback or a private link
//
// Credentials come from the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or, for tests, from the URL's
// user information (s3://KEY:SECRET@HOST/BUCKET); error messages never
// repeat a secret. Blobs are the objects PREFIX/NAME of the bucket, so one
// bucket can hold several stores.
//
// # Streaming
//
// A [Writer] keeps at most [Store.PartSize] bytes in memory: a blob that
// fits is sent in one PUT at Commit; a larger one is streamed as a multipart
// upload, one part at a time, while the caller writes. The object exists
// only once the upload completes, inside Commit, so an interrupted writer
// leaves no object (only an incomplete upload, which the provider's
// lifecycle rule or [Store.AbortStale] removes).
//
// # What the bucket reveals
//
// Object names are random and objects carry no metadata of vigil's: no
// user metadata, no tags, a fixed content type. Content is age ciphertext,
// and its size is padded by the writer (see package evidence). But S3 has
// no way for a client to set an object's time: every object's Last-Modified
// is the second its upload completed, set by the provider. A seized bucket
// (or the provider itself, or its access logs) therefore dates each blob to
// the second, where the local blob store rounds its times to the intake
// precision. docs/scale.md says what follows and how to reduce it.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
)

// DefaultPartSize is the default [Store.PartSize]: 8 MiB, so a blob may be
// up to 80 GB (S3 allows 10,000 parts).
const DefaultPartSize = 8 << 20

// minPartSize is S3's smallest part (but the last).
const minPartSize = 5 << 20

// contentType is every object's content type: it says nothing.
const contentType = "application/octet-stream"

// Store is a blob store in an S3 bucket.
type Store struct {
	// PartSize is the most a writer buffers, and the size of the parts of a
	// multipart upload: memory per concurrent writer. At least 5 MiB (S3's
	// minimum part size); Open sets DefaultPartSize.
	PartSize int64

	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	where  string // endpoint/bucket/prefix, for messages (no credentials)
}

var _ blob.Store = (*Store)(nil)

// A Location is a parsed store URL.
type Location struct {
	Endpoint string // host[:port]
	Secure   bool   // HTTPS
	Bucket   string
	Prefix   string // "" or ending in "/"
	Region   string
	// Creds are the URL's credentials, or nil to take them from the
	// environment.
	Creds *credentials.Credentials
}

// String returns the location as a URL without credentials.
func (l Location) String() string {
	scheme := "s3"
	if !l.Secure {
		scheme = "s3+http"
	}
	return scheme + "://" + l.Endpoint + "/" + l.Bucket + "/" + l.Prefix
}

// ParseURL parses a store URL (see the package documentation). Errors wrap
// vigil.ErrInvalid and say what is wrong.
func ParseURL(rawURL string) (Location, error) {
	var l Location
	u, err := url.Parse(rawURL)
	if err != nil {
		// url's message may quote part of the URL: KEY:SECRET taken for
		// HOST:PORT when "@host" is missing, say.
		return l, fmt.Errorf("%w: blob URL is not a URL (check its scheme, host, port and %%-escapes)", vigil.ErrInvalid)
	}
	shown := redact(u)
	switch u.Scheme {
	case "s3":
		l.Secure = true
	case "s3+http":
	default:
		return l, fmt.Errorf("%w: blob URL %s: scheme %q, want s3://host/bucket (HTTPS) or s3+http://host/bucket", vigil.ErrInvalid, shown, u.Scheme)
	}
	if u.Host == "" {
		return l, fmt.Errorf("%w: blob URL %s names no host, want s3://host[:port]/bucket[/prefix]", vigil.ErrInvalid, shown)
	}
	if u.Port() != "" {
		if _, err := net.LookupPort("tcp", u.Port()); err != nil {
			return l, fmt.Errorf("%w: blob URL %s: bad port %q", vigil.ErrInvalid, shown, u.Port())
		}
	}
	l.Endpoint = u.Host
	path := strings.TrimPrefix(u.Path, "/")
	l.Bucket, l.Prefix, _ = strings.Cut(path, "/")
	if l.Bucket == "" {
		return l, fmt.Errorf("%w: blob URL %s names no bucket, want s3://host[:port]/bucket[/prefix]", vigil.ErrInvalid, shown)
	}
	if err := s3utils.CheckValidBucketNameStrict(l.Bucket); err != nil {
		return l, fmt.Errorf("%w: blob URL %s: bucket %q: %v", vigil.ErrInvalid, shown, l.Bucket, err)
	}
	if l.Prefix = strings.Trim(l.Prefix, "/"); l.Prefix != "" {
		for _, seg := range strings.Split(l.Prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return l, fmt.Errorf("%w: blob URL %s: prefix %q has an empty, . or .. segment", vigil.ErrInvalid, shown, l.Prefix)
			}
		}
		l.Prefix += "/"
	}
	q := u.Query()
	for k := range q {
		if k != "region" {
			return l, fmt.Errorf("%w: blob URL %s: unknown parameter %q (known: region)", vigil.ErrInvalid, shown, k)
		}
	}
	l.Region = q.Get("region")
	if u.User != nil {
		secret, ok := u.User.Password()
		if !ok || u.User.Username() == "" || secret == "" {
			return l, fmt.Errorf("%w: blob URL %s: credentials in a URL must be KEY:SECRET", vigil.ErrInvalid, shown)
		}
		l.Creds = credentials.NewStaticV4(u.User.Username(), secret, "")
	}
	return l, nil
}

func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.UserPassword("xxxxx", "xxxxx")
	}
	return c.String()
}

// Open opens the store at rawURL and checks that its bucket exists. A
// malformed URL is refused with an error wrapping vigil.ErrInvalid, an
// unreachable endpoint with one wrapping vigil.ErrUnavailable, a missing
// bucket with one wrapping vigil.ErrNotFound.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	l, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenLocation(ctx, l)
}

// Client returns a client of the location's endpoint with its
// credentials: the URL's, else the environment's.
func (l Location) Client() (*minio.Client, error) {
	creds := l.Creds
	if creds == nil {
		creds = credentials.NewEnvAWS()
	}
	return minio.New(l.Endpoint, &minio.Options{Creds: creds, Secure: l.Secure, Region: l.Region,
		BucketLookup: minio.BucketLookupPath})
}

// OpenLocation is [Open] with a parsed URL.
func OpenLocation(ctx context.Context, l Location) (*Store, error) {
	client, err := l.Client()
	if err != nil {
		return nil, fmt.Errorf("%w: blob store %s: %v", vigil.ErrInvalid, l, err)
	}
	s := &Store{PartSize: DefaultPartSize, client: client, bucket: l.Bucket, prefix: l.Prefix, where: l.String()}
	ok, err := client.BucketExists(ctx, l.Bucket)
	if err != nil {
		return nil, s.mapErr(err, "check bucket")
	}
	if !ok {
		return nil, fmt.Errorf("blob store %s: bucket %q does not exist on %s: %w (hint: create it, e.g. with the provider's console or `aws s3 mb`)", l, l.Bucket, l.Endpoint, vigil.ErrNotFound)
	}
	return s, nil
}

// mapErr describes a failed S3 operation: a missing key or bucket wraps
// vigil.ErrNotFound, refused credentials vigil.ErrForbidden, anything
// else (the network, the provider) vigil.ErrUnavailable.
func (s *Store) mapErr(err error, op string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("blob store %s: %s: %w", s.where, op, err)
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey:
		return fmt.Errorf("blob store %s: %s: %w", s.where, op, vigil.ErrNotFound)
	case minio.NoSuchBucket:
		return fmt.Errorf("blob store %s: %s: bucket %q does not exist: %w", s.where, op, s.bucket, vigil.ErrNotFound)
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return fmt.Errorf("blob store %s: %s: %w: the provider refused the credentials (%s) (hint: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", s.where, op, vigil.ErrForbidden, resp.Code)
	}
	var ne net.Error
	if errors.As(err, &ne) || resp.Code == "" {
		return fmt.Errorf("%w: blob store %s: %s: cannot reach the endpoint: %v", vigil.ErrUnavailable, s.where, op, err)
	}
	return fmt.Errorf("%w: blob store %s: %s: %v", vigil.ErrUnavailable, s.where, op, err)
}

func (s *Store) key(name string) string { return s.prefix + name }

func (s *Store) partSize() int64 {
	return max(s.PartSize, minPartSize)
}

func putOptions(partSize int64) minio.PutObjectOptions {
	return minio.PutObjectOptions{ContentType: contentType, PartSize: uint64(partSize)}
}

// Create implements [blob.Store]. ctx bounds the whole upload: if it ends
// before Commit returns, the blob is not committed.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	uctx, cancel := context.WithCancel(ctx)
	return &writer{s: s, ctx: uctx, cancel: cancel, name: blob.NewName(), limit: s.partSize()}, nil
}

type writer struct {
	s      *Store
	ctx    context.Context
	cancel context.CancelFunc
	name   string
	limit  int64
	done   bool

	buf []byte // the blob, while it fits in one part

	// Once it does not: a multipart upload reading from pw.
	pw     *io.PipeWriter
	result chan error
}

func (w *writer) Name() string { return w.name }

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("blob already committed or aborted")
	}
	if w.pw != nil {
		return w.pw.Write(p)
	}
	if n := int64(len(w.buf) + len(p)); n <= w.limit {
		if n > int64(cap(w.buf)) {
			// Small blobs take little memory; past 64 KiB, take the
			// whole part at once rather than doubling up to it.
			c := int64(64 << 10)
			if n > c {
				c = w.limit
			}
			w.buf = append(make([]byte, 0, c), w.buf...)
		}
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	// Too big for one PUT: stream the rest. minio-go reads a part at a
	// time into a buffer of its own; ours is handed over and dropped once
	// read.
	pr, pw := io.Pipe()
	w.pw, w.result = pw, make(chan error, 1)
	first := bytes.NewReader(w.buf)
	w.buf = nil
	go func() {
		_, err := w.s.client.PutObject(w.ctx, w.s.bucket, w.s.key(w.name), io.MultiReader(first, pr), -1, putOptions(w.limit))
		pr.CloseWithError(cmpErr(err, errors.New("upload ended")))
		w.result <- err
	}()
	return w.pw.Write(p)
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// Commit implements [blob.Writer]: it completes the upload, which makes the
// object exist. The provider acknowledges it once stored durably (by its
// own definition of durable: see docs/scale.md).
func (w *writer) Commit(ctx context.Context) error {
	if w.done {
		return errors.New("blob already committed or aborted")
	}
	if err := ctx.Err(); err != nil {
		w.Abort()
		return fmt.Errorf("commit blob: %w", err)
	}
	w.done = true
	defer w.cancel()
	stop := context.AfterFunc(ctx, w.cancel) // ctx ending stops the upload
	defer stop()
	var err error
	if w.pw == nil {
		_, err = w.s.client.PutObject(w.ctx, w.s.bucket, w.s.key(w.name), bytes.NewReader(w.buf), int64(len(w.buf)), putOptions(w.limit))
		w.buf = nil
	} else {
		w.pw.Close()
		err = <-w.result
	}
	if err != nil {
		return fmt.Errorf("commit blob: %w", w.s.mapErr(err, "upload"))
	}
	return nil
}

// Abort implements [blob.Writer]: an upload under way is aborted, and no
// object was created.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.buf = nil
	if w.pw != nil {
		// minio-go aborts the multipart upload when its reader fails; it
		// needs the context alive for that, so cancel only after.
		w.pw.CloseWithError(errors.New("blob aborted"))
		<-w.result
	}
	w.cancel()
	return nil
}

// Open implements [blob.Store]. A failure to read the object part-way (the
// network, the provider) is returned by Read as it is, not as corruption.
func (s *Store) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := blob.CheckName(name); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(name), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.mapErr(err, "open blob "+name)
	}
	// GetObject is lazy: Stat sends the request and reports a missing key.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.mapErr(err, "open blob "+name)
	}
	return obj, nil
}

// Remove implements [blob.Store].
func (s *Store) Remove(ctx context.Context, name string) error {
	if err := blob.CheckName(name); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.key(name), minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return s.mapErr(err, "remove blob "+name)
	}
	return nil
}

// List implements [blob.Store]. Objects under the prefix whose names are
// not blob names are skipped.
func (s *Store) List(ctx context.Context, fn func(string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing if fn fails
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return s.mapErr(obj.Err, "list blobs")
		}
		name, ok := strings.CutPrefix(obj.Key, s.prefix)
		if !ok || blob.CheckName(name) != nil {
			continue
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}

// AbortStale aborts the incomplete multipart uploads under the store's
// prefix started more than olderThan ago: leftovers of writers interrupted
// by a crash, which hold storage but are no objects. Uploads of other
// servers sharing the bucket that are still under way are younger; pick
// olderThan well above the longest upload (a day, say). It returns how many
// it aborted. A bucket lifecycle rule (AbortIncompleteMultipartUpload) does
// the same on the provider's side.
func (s *Store) AbortStale(ctx context.Context, olderThan time.Duration) (int, error) {
	n := 0
	cutoff := time.Now().Add(-olderThan)
	for up := range s.client.ListIncompleteUploads(ctx, s.bucket, s.prefix, true) {
		if up.Err != nil {
			return n, s.mapErr(up.Err, "list incomplete uploads")
		}
		if up.Initiated.After(cutoff) {
			continue
		}
		name, ok := strings.CutPrefix(up.Key, s.prefix)
		if !ok || blob.CheckName(name) != nil {
			continue
		}
		if err := s.client.RemoveIncompleteUpload(ctx, s.bucket, up.Key); err != nil {
			return n, s.mapErr(err, "abort incomplete upload")
		}
		n++
	}
	return n, nil
}
