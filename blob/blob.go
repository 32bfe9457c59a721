// Package blob defines where vigil keeps encrypted content: a [Store] of
// opaque, immutable blobs, each an ordinary age file.
//
// Blob names are random and reveal nothing about the content. Writers stream:
// [Store.Create] returns a [Writer] that a caller fills and then commits; the
// blob is durable and visible under its name only after [Writer.Commit]
// returns. The adapters are blob/localdisk (a directory) and blob/s3 (S3
// object storage); blob/blobtest is the conformance suite.
package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/vigil-hr/vigil"
)

// A Store keeps immutable blobs. All its methods are safe for concurrent use.
type Store interface {
	// Create starts a new blob under a fresh random name.
	Create(ctx context.Context) (Writer, error)
	// Open returns the blob's bytes, or an error wrapping vigil.ErrNotFound.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Remove deletes a blob that no record references (a leftover of an
	// interrupted ingest). Removing a missing blob is not an error.
	Remove(ctx context.Context, name string) error
	// List calls fn with every blob name, in no particular order.
	List(ctx context.Context, fn func(name string) error) error
}

// A Writer receives a blob's bytes.
type Writer interface {
	io.Writer
	// Name returns the blob's name, fixed at creation.
	Name() string
	// Commit makes the blob durable and visible. After a crash before Commit
	// returns, the blob is absent or complete, never partial. If ctx ends
	// first, Commit fails and the blob is not committed (an adapter that
	// cannot stop a commit half-way, such as a local rename, may finish it).
	Commit(ctx context.Context) error
	// Abort discards an uncommitted blob. It is safe after Commit (no-op).
	Abort() error
}

// NewName returns a fresh random blob name: 32 lowercase hex digits.
func NewName() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("blob: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// CheckName returns an error wrapping vigil.ErrInvalid unless name has the
// form of [NewName]. Adapters call it before touching storage, so a name can
// never be a path.
func CheckName(name string) error {
	if len(name) != 32 {
		return fmt.Errorf("%w: blob name %q", vigil.ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: blob name %q", vigil.ErrInvalid, name)
		}
	}
	return nil
}
