package datadir

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/blob/localdisk"
	s3blob "github.com/vigil-hr/vigil/blob/s3"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/postgres"
	"github.com/vigil-hr/vigil/store/sqlite"
)

// Backends names where a data directory's records and blobs live, when not
// in the directory itself: the "store" and "blobs" keys of vigil.json, or
// vigil serve's --store and --blobs flags, which take precedence.
type Backends struct {
	// Store is a PostgreSQL URL (postgres://user@host:port/database); empty
	// means DIR/vigil.db (SQLite).
	Store string `json:"store,omitempty"`
	// Blobs is an S3 URL (s3://host/bucket/prefix, or s3+http:// on a
	// private link); empty means DIR/blobs.
	Blobs string `json:"blobs,omitempty"`
}

// openStore opens the record store: PostgreSQL at url, or the directory's
// SQLite database.
func (d *Dir) openStore(ctx context.Context, url, from string) (store.Store, error) {
	if url == "" {
		return sqlite.Open(ctx, filepath.Join(d.Path, "vigil.db"))
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return db, nil
}

// openBlobs opens the blob store: S3 at url, or the directory's blobs/,
// whose times are made as coarse as precision.
func (d *Dir) openBlobs(ctx context.Context, url, from string, precision time.Duration) (blob.Store, error) {
	if url == "" {
		blobs, err := localdisk.Open(filepath.Join(d.Path, "blobs"))
		if err != nil {
			return nil, err
		}
		blobs.TimePrecision = precision
		return blobs, nil
	}
	// S3 cannot take coarse times: docs/scale.md says what the bucket shows.
	s, err := s3blob.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return s, nil
}
