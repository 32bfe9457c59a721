package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store"
)

// The tables of migration 0006 hold the state several servers share: the
// follow-up sessions and the rate-limit buckets (docs/scale.md, "Several
// servers"). Their statements run outside the write lock: they touch no
// record or log row.

var (
	_ store.SessionStore = (*DB)(nil)
	_ store.BucketStore  = (*DB)(nil)
)

// PutSession implements [store.SessionStore].
func (db *DB) PutSession(ctx context.Context, s store.Session, prev []byte) error {
	// One statement: the delete and the insert see one snapshot, and the
	// insert replaces a row of the same slot in place.
	_, err := db.pool.Exec(ctx, `WITH gone AS (DELETE FROM followup_sessions WHERE slot = $5 AND slot <> $2)
		INSERT INTO followup_sessions (id, slot, sealed, expires) VALUES ($1, $2, $3, $4)
		ON CONFLICT (slot) DO UPDATE SET id = EXCLUDED.id, sealed = EXCLUDED.sealed, expires = EXCLUDED.expires`,
		s.ID, s.Slot, s.Sealed, s.Expires, prev)
	return mapErr(err)
}

// Session implements [store.SessionStore].
func (db *DB) Session(ctx context.Context, id []byte) (store.Session, error) {
	s := store.Session{ID: id}
	err := db.pool.QueryRow(ctx, `SELECT slot, sealed, expires FROM followup_sessions WHERE id = $1`, id).Scan(&s.Slot, &s.Sealed, &s.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, fmt.Errorf("%w: session", vigil.ErrNotFound)
	}
	return s, mapErr(err)
}

// TouchSession implements [store.SessionStore]. A row of another session
// that holds s.Slot (the same submission, logged in since elsewhere) wins:
// the update fails as a conflict and this session should end.
func (db *DB) TouchSession(ctx context.Context, s store.Session) error {
	tag, err := db.pool.Exec(ctx, `UPDATE followup_sessions SET slot = $2, sealed = $3, expires = $4 WHERE id = $1`,
		s.ID, s.Slot, s.Sealed, s.Expires)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: session", vigil.ErrNotFound)
	}
	return nil
}

// DeleteSession implements [store.SessionStore].
func (db *DB) DeleteSession(ctx context.Context, id []byte) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM followup_sessions WHERE id = $1`, id)
	return mapErr(err)
}

// DeleteSessions implements [store.SessionStore].
func (db *DB) DeleteSessions(ctx context.Context, before time.Time) (int64, error) {
	var err error
	var n int64
	if before.IsZero() {
		tag, e := db.pool.Exec(ctx, `DELETE FROM followup_sessions`)
		n, err = tag.RowsAffected(), e
	} else {
		tag, e := db.pool.Exec(ctx, `DELETE FROM followup_sessions WHERE expires < $1`, before)
		n, err = tag.RowsAffected(), e
	}
	return n, mapErr(err)
}

// refillSQL is the SQL for the tokens of the row b refilled to the time
// parameter now, given the parameters burst (tokens when full) and every
// (seconds for one token to come back).
func refillSQL(burst, now, every string) string {
	return fmt.Sprintf(`least(%s::float8, b.tokens + greatest(0, extract(epoch from (%s::timestamptz - b.last))::float8) / %s::float8)`, burst, now, every)
}

// TakeToken implements [store.BucketStore] in one statement: concurrent
// takes from any server are serialized by the row's lock, so a bucket never
// gives more than it holds.
func (db *DB) TakeToken(ctx context.Context, key []byte, epoch int64, b store.Bucket, now time.Time) (bool, float64, error) {
	if b.Burst < 1 || b.Every <= 0 {
		return false, 0, fmt.Errorf("%w: bucket of %d tokens, one every %v", vigil.ErrInvalid, b.Burst, b.Every)
	}
	refill := refillSQL("$3", "$4", "$5")
	var tokens float64
	var ok bool
	err := db.pool.QueryRow(ctx, `INSERT INTO rate_buckets AS b (key, epoch, tokens, last, took) VALUES ($1, $2, $3::float8 - 1, $4, true)
		ON CONFLICT (key) DO UPDATE SET
			tokens = CASE WHEN `+refill+` >= 1 THEN `+refill+` - 1 ELSE `+refill+` END,
			last = greatest(b.last, $4::timestamptz),
			took = `+refill+` >= 1
		RETURNING tokens, took`, key, epoch, float64(b.Burst), now, b.Every.Seconds()).Scan(&tokens, &ok)
	if err != nil {
		return false, 0, mapErr(err)
	}
	if ok {
		tokens++
	}
	return ok, tokens, nil
}

// PeekToken implements [store.BucketStore].
func (db *DB) PeekToken(ctx context.Context, key []byte, b store.Bucket, now time.Time) (float64, error) {
	var tokens float64
	err := db.pool.QueryRow(ctx, `SELECT `+refillSQL("$2", "$3", "$4")+` FROM rate_buckets AS b WHERE key = $1`,
		key, float64(b.Burst), now, b.Every.Seconds()).Scan(&tokens)
	if errors.Is(err, pgx.ErrNoRows) {
		return float64(b.Burst), nil
	}
	return tokens, mapErr(err)
}

// GiveToken implements [store.BucketStore].
func (db *DB) GiveToken(ctx context.Context, key []byte, b store.Bucket, now time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE rate_buckets AS b SET tokens = least($2::float8, `+refillSQL("$2", "$3", "$4")+` + 1), last = greatest(b.last, $3::timestamptz)
		WHERE key = $1`, key, float64(b.Burst), now, b.Every.Seconds())
	return mapErr(err)
}

// DeleteBuckets implements [store.BucketStore].
func (db *DB) DeleteBuckets(ctx context.Context, epoch int64) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM rate_buckets WHERE epoch < $1`, epoch)
	return mapErr(err)
}
