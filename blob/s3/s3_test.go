package s3_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/blob/blobtest"
	"github.com/vigil-hr/vigil/blob/s3"
	"github.com/vigil-hr/vigil/internal/s3test"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

var ctx = context.Background()

func mustOpen(t *testing.T) *s3.Store {
	t.Helper()
	s, err := s3.Open(ctx, s3test.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return mustOpen(t) })
}

// TestLargeBlob writes a blob of several parts (the conformance suite's
// blobs fit in one PUT) and aborts another half-way through its upload.
func TestLargeBlob(t *testing.T) {
	s := mustOpen(t)
	s.PartSize = 5 << 20
	const size = 17<<20 + 12345 // four parts, the last one short
	name, sum := upload(t, s, size, 64<<10)
	if got, n := download(t, s, name); got != sum || n != size {
		t.Fatalf("read back %d bytes with another hash", n)
	}
	// Aborting a multipart upload half-way leaves no object.
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, newStream(1), 12<<20); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, w.Name()); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("Open of an aborted multipart blob = %v, want ErrNotFound", err)
	}
	var names []string
	s.List(ctx, func(n string) error { names = append(names, n); return nil })
	if len(names) != 1 || names[0] != name {
		t.Errorf("List = %v, want only %s", names, name)
	}
}

// newStream returns an endless deterministic pseudo-random stream.
func newStream(seed uint64) io.Reader { return rand.NewChaCha8([32]byte{byte(seed)}) }

// upload writes size bytes of a stream in chunks of chunk bytes and
// commits, returning the blob's name and the content's hash.
func upload(t *testing.T, s *s3.Store, size, chunk int64) (string, [32]byte) {
	t.Helper()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	buf := make([]byte, chunk)
	src := newStream(7)
	for left := size; left > 0; left -= chunk {
		b := buf[:min(chunk, left)]
		io.ReadFull(src, b)
		h.Write(b)
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return w.Name(), [32]byte(h.Sum(nil))
}

func download(t *testing.T, s *s3.Store, name string) ([32]byte, int64) {
	t.Helper()
	r, err := s.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil)), n
}

// TestUploadMemoryBounded streams a 200 MiB blob and checks that the heap
// never grows by more than a few parts: the writer does not hold the blob.
func TestUploadMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 200 MiB")
	}
	s := mustOpen(t)
	s.PartSize = 8 << 20
	const size = 200 << 20
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	name, sum := upload(t, s, size, 1<<20)
	close(stop)
	<-sampled
	growth := int64(peak.Load()) - int64(base)
	limit := 6 * s.PartSize // our part, minio-go's part buffer, garbage not yet collected
	t.Logf("uploaded %d MiB with part size %d MiB: peak heap growth %.1f MiB (limit %d MiB)", size>>20, s.PartSize>>20, float64(growth)/(1<<20), limit>>20)
	if growth > limit {
		t.Errorf("peak heap growth %d MiB for a %d MiB upload, want at most %d MiB", growth>>20, size>>20, limit>>20)
	}
	if got, n := download(t, s, name); got != sum || n != size {
		t.Fatalf("read back %d bytes with another hash", n)
	}
}

// TestObjectsRevealNothing looks at the bucket as someone who seized it
// would: an object's name is the random blob name, and it carries no
// metadata, tags or content type of its own.
func TestObjectsRevealNothing(t *testing.T) {
	s := mustOpen(t)
	name, _ := upload(t, s, 1000, 1000)
	c, bucket := s3test.Client(t)
	var keys []string
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithMetadata: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/"+name) {
			keys = append(keys, obj.Key)
		}
	}
	if len(keys) != 1 {
		t.Fatalf("objects named %s: %v", name, keys)
	}
	info, err := c.StatObject(ctx, bucket, keys[0], minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.UserMetadata) != 0 || len(info.UserTags) != 0 || info.UserTagCount != 0 {
		t.Errorf("object carries metadata %v, tags %v", info.UserMetadata, info.UserTags)
	}
	if info.ContentType != "application/octet-stream" {
		t.Errorf("content type %q", info.ContentType)
	}
	t.Logf("what the bucket shows of a blob: key %s, size %d, Last-Modified %s", info.Key, info.Size, info.LastModified)
}

// TestBadURL checks that Open says what is wrong with a URL, never
// repeating its secret.
func TestBadURL(t *testing.T) {
	good := s3test.URL(t)
	missingBucket := strings.Replace(good, "/vigiltest-", "/nosuchbucket-", 1)
	for _, c := range []struct {
		url, want string
		kind      error
	}{
		{"http://k:s3cret@127.0.0.1:9000/bucket", `scheme "http"`, vigil.ErrInvalid},
		{"/var/lib/vigil/blobs", `scheme ""`, vigil.ErrInvalid},
		{"s3://k:s3cret@127.0.0.1:9000", "names no bucket", vigil.ErrInvalid},
		{"s3://k:s3cret@127.0.0.1:9000/", "names no bucket", vigil.ErrInvalid},
		{"s3:///bucket", "names no host", vigil.ErrInvalid},
		{"s3://k:s3cret@127.0.0.1:9000/Bad_Bucket", `bucket "Bad_Bucket"`, vigil.ErrInvalid},
		{"s3://k:s3cret@127.0.0.1:9000/bucket/../x", "prefix", vigil.ErrInvalid},
		{"s3://k:s3cret@127.0.0.1:9000/bucket?tls=off", `unknown parameter "tls"`, vigil.ErrInvalid},
		{"s3://k@127.0.0.1:9000/bucket", "KEY:SECRET", vigil.ErrInvalid},
		{"s3+http://k:s3cret@127.0.0.1:1/bucket", "cannot reach the endpoint", vigil.ErrUnavailable},
		{missingBucket, "does not exist", vigil.ErrNotFound},
	} {
		_, err := s3.Open(ctx, c.url)
		if err == nil {
			t.Errorf("Open(%s) succeeded", c.url)
			continue
		}
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%s) = %v; want %v containing %q", c.url, err, c.kind, c.want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%s) error repeats the secret: %v", c.url, err)
		}
	}
}

// TestWrongCredentials checks that refused credentials are reported as such.
func TestWrongCredentials(t *testing.T) {
	good := s3test.URL(t)
	u := strings.Replace(good, "://vigil", "://nobody", 1)
	if u == good {
		t.Skip("the test server's key does not have the expected form")
	}
	_, err := s3.Open(ctx, u)
	if !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("Open with a wrong key = %v, want ErrForbidden", err)
	}
}

// TestAbortStale leaves an incomplete multipart upload, as a writer killed
// mid-upload would, and checks that AbortStale removes it once old enough
// and only then.
func TestAbortStale(t *testing.T) {
	s := mustOpen(t)
	c, bucket := s3test.Client(t)
	core := minio.Core{Client: c}
	// The store's prefix: the key of a blob, less its name.
	name, _ := upload(t, s, 10, 10)
	var prefix string
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if p, ok := strings.CutSuffix(obj.Key, name); ok {
			prefix = p
		}
	}
	if prefix == "" {
		t.Fatal("blob not found in the bucket")
	}
	key := prefix + blob.NewName()
	if _, err := core.NewMultipartUpload(ctx, bucket, key, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.AbortStale(ctx, time.Hour); err != nil || n != 0 {
		t.Errorf("AbortStale(1h) of a fresh upload = %d, %v; want 0", n, err)
	}
	if n, err := s.AbortStale(ctx, -time.Minute); err != nil || n != 1 {
		t.Errorf("AbortStale(-1m) = %d, %v; want 1", n, err)
	}
	for up := range c.ListIncompleteUploads(ctx, bucket, prefix, true) {
		if up.Err != nil {
			t.Fatal(up.Err)
		}
		t.Errorf("upload of %s still incomplete", up.Key)
	}
	if _, err := s.Open(ctx, name); err != nil {
		t.Errorf("the committed blob: %v", err)
	}
}
