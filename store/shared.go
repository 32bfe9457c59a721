package store

import (
	"context"
	"time"
)

// A SessionStore keeps follow-up sessions where several servers sharing one
// database find them (store/postgres implements it; a single-process store
// need not, and web then keeps sessions in memory). A row holds nothing a
// reader of the database can use: the caller seals the session under a key
// only the source's cookie holds, and names the row by a hash of the cookie.
type SessionStore interface {
	// PutSession stores s, replacing the rows whose slot is s.Slot or prev
	// (nil for none), if any: one session per submission.
	PutSession(ctx context.Context, s Session, prev []byte) error
	// Session returns the row named id, or an error wrapping
	// vigil.ErrNotFound. Expiry is the caller's to check.
	Session(ctx context.Context, id []byte) (Session, error)
	// TouchSession replaces the slot, sealed body and expiry of the row
	// named s.ID; an error wrapping vigil.ErrNotFound if it is gone.
	TouchSession(ctx context.Context, s Session) error
	// DeleteSession deletes the row named id, if any.
	DeleteSession(ctx context.Context, id []byte) error
	// DeleteSessions deletes every row that expires before before, or every
	// row if before is zero, and returns how many.
	DeleteSessions(ctx context.Context, before time.Time) (int64, error)
}

// A Session is one row of a [SessionStore]: opaque bytes and a coarse
// expiry.
type Session struct {
	ID      []byte    // a hash of the cookie's secret
	Slot    []byte    // a keyed hash only the source can compute: one row per submission
	Sealed  []byte    // the session, sealed under a key derived from the cookie
	Expires time.Time // when the row may be deleted, on a coarse grid
}

// A BucketStore keeps token buckets where several servers sharing one
// database find them (store/postgres implements it), so that a rate limit
// holds across them. Keys are opaque (a keyed hash of a client's address,
// never the address); every call refills the bucket to now first.
type BucketStore interface {
	// TakeToken refills bucket key to now, then takes one token if it holds
	// one (ok true). Tokens are what the bucket held after the refill,
	// before the take. A bucket not yet stored is full. Epoch is stored
	// with a new bucket, for [BucketStore.DeleteBuckets].
	TakeToken(ctx context.Context, key []byte, epoch int64, b Bucket, now time.Time) (ok bool, tokens float64, err error)
	// PeekToken returns what bucket key holds at now, changing nothing.
	PeekToken(ctx context.Context, key []byte, b Bucket, now time.Time) (tokens float64, err error)
	// GiveToken refills bucket key to now and adds one token (never above
	// the burst).
	GiveToken(ctx context.Context, key []byte, b Bucket, now time.Time) error
	// DeleteBuckets deletes every bucket of an epoch before epoch.
	DeleteBuckets(ctx context.Context, epoch int64) error
}

// A Bucket is a token bucket's shape: Burst tokens when full, one back every
// Every.
type Bucket struct {
	Burst int
	Every time.Duration
}
