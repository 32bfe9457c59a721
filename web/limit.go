package web

import (
	"context"
	"time"

	"github.com/vigil-hr/vigil/internal/ratelimit"
)

// A limiter is a set of token buckets: this process's
// ([ratelimit.Limiter], through memLimiter) or those several servers share
// ([ratelimit.Shared]), which NewPublic picks when the intake store keeps
// buckets and Options.LimitSecret is set.
type limiter interface {
	Take(ctx context.Context, id string) (ok bool, wait time.Duration, err error)
	Peek(ctx context.Context, id string) (ok bool, wait time.Duration, err error)
	Give(ctx context.Context, id string) error
}

// memLimiter is a [ratelimit.Limiter] as a limiter: it never fails.
type memLimiter struct{ l *ratelimit.Limiter }

func (m memLimiter) Take(_ context.Context, id string) (bool, time.Duration, error) {
	ok, wait := m.l.Take(id)
	return ok, wait, nil
}

func (m memLimiter) Peek(_ context.Context, id string) (bool, time.Duration, error) {
	ok, wait := m.l.Peek(id)
	return ok, wait, nil
}

func (m memLimiter) Give(_ context.Context, id string) error {
	m.l.Give(id)
	return nil
}
