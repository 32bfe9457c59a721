package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"

	"github.com/vigil-hr/vigil/store"
)

// A Shared limiter keeps its buckets in a [store.BucketStore] that several
// servers share (store/postgres), so that a limit holds across all of them:
// N servers give a client Burst tokens, not N times Burst.
//
// # What is kept
//
// A bucket is found by HMAC-SHA256(k_e, id), where k_e is
// HMAC-SHA256(secret, name, e) for the epoch e = floor(unix time /
// [Config.Rotate]). Every server holding the same secret computes the same
// k_e, and none writes it anywhere: the store sees only the hashes. At each
// epoch's start every bucket is new (as [Limiter] drops its table), and the
// first server to notice deletes the old epoch's rows. A store reader
// without the secret cannot test a guessed address against a row; one who
// also has the secret can, for the rows still there (the current epoch's).
// vigil serve derives the secret from DIR/keys.age, which every server of a
// deployment holds (docs/scale.md, "Several servers").
//
// A store error is returned as it is: the caller decides (the public
// listener answers 503, as for any store failure). [Config.MaxKeys] does not
// apply: rows are bounded by the rate at which they are made (only takes
// make them).
type Shared struct {
	c      Config
	name   string
	secret []byte
	st     store.BucketStore

	mu    sync.Mutex
	epoch int64
	key   [32]byte
	swept int64 // the epoch whose predecessors this server deleted
}

// NewShared returns a limiter whose buckets live in st, named name (several
// limiters may share st), hashed with keys derived from secret (at least 32
// random bytes, the same on every server). Zero fields of c take [New]'s
// defaults.
func NewShared(c Config, st store.BucketStore, name string, secret []byte) *Shared {
	c = New(c).c
	return &Shared{c: c, name: name, secret: append([]byte(nil), secret...), st: st, epoch: -1}
}

// bucketKey returns id's bucket key at now and its epoch, deleting the
// previous epochs' rows when an epoch starts.
func (l *Shared) bucketKey(ctx context.Context, id string, now time.Time) ([]byte, int64) {
	e := now.Unix() / int64(max(l.c.Rotate/time.Second, 1))
	l.mu.Lock()
	if e != l.epoch {
		m := hmac.New(sha256.New, l.secret)
		m.Write([]byte("vigil ratelimit v1\x00"))
		m.Write([]byte(l.name))
		m.Write(binary.BigEndian.AppendUint64([]byte{0}, uint64(e)))
		clear(l.key[:])
		m.Sum(l.key[:0])
		l.epoch = e
	}
	k := l.key
	sweep := e > l.swept
	if sweep {
		l.swept = e
	}
	l.mu.Unlock()
	if sweep {
		l.st.DeleteBuckets(ctx, e) // best effort: old rows match no key
	}
	m := hmac.New(sha256.New, k[:])
	clear(k[:])
	m.Write([]byte(id))
	return m.Sum(nil), e
}

func (l *Shared) shape() store.Bucket { return store.Bucket{Burst: l.c.Burst, Every: l.c.Every} }

func (l *Shared) wait(tokens float64) time.Duration {
	wait := time.Duration((1 - tokens) * float64(l.c.Every))
	return max(wait.Round(time.Second), time.Second)
}

// Take takes a token from id's bucket, as [Limiter.Take].
func (l *Shared) Take(ctx context.Context, id string) (ok bool, wait time.Duration, err error) {
	now := l.c.Now()
	k, e := l.bucketKey(ctx, id, now)
	ok, tokens, err := l.st.TakeToken(ctx, k, e, l.shape(), now)
	if err != nil || ok {
		return ok, 0, err
	}
	return false, l.wait(tokens), nil
}

// Peek reports whether id's bucket holds a token, as [Limiter.Peek].
func (l *Shared) Peek(ctx context.Context, id string) (ok bool, wait time.Duration, err error) {
	now := l.c.Now()
	k, _ := l.bucketKey(ctx, id, now)
	tokens, err := l.st.PeekToken(ctx, k, l.shape(), now)
	if err != nil || tokens >= 1 {
		return err == nil, 0, err
	}
	return false, l.wait(tokens), nil
}

// Give hands a token back to id's bucket, as [Limiter.Give].
func (l *Shared) Give(ctx context.Context, id string) error {
	now := l.c.Now()
	k, _ := l.bucketKey(ctx, id, now)
	return l.st.GiveToken(ctx, k, l.shape(), now)
}
