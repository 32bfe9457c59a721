// Package postgres implements [store.Store] on PostgreSQL through
// github.com/jackc/pgx/v5, for vigil deployments that outgrow one machine.
//
// The schema mirrors store/sqlite's: the same tables, the same immutability
// enforced by triggers (records and log rows cannot be updated, deleted or
// truncated, whoever connects), embedded migrations applied in order, once
// each, under an advisory lock so that two processes starting together do
// not both apply them.
//
// # Serialized writes
//
// [DB.Update] runs in one transaction that first takes a transaction-scoped
// advisory lock ([WriteLock]) in the database: every write transaction of
// every process using the database holds it in turn, as every write of one
// SQLite database holds its write lock. Log appends (which read the tree
// size and the stored hashes, then write the next leaf) and checkpoint
// signing therefore never interleave across processes, so two servers
// cannot fork the log; the primary keys of the log tables would refuse a
// second leaf at an index anyway. The lock ends with the transaction, and
// with the session if a process dies.
//
// Reads ([DB.View]) run in a read-only REPEATABLE READ transaction, which
// sees one snapshot. Every session sets synchronous_commit=on, so a commit
// is durable (flushed to the server's write-ahead log) when Update returns,
// whatever the server's default.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// WriteLock is the key of the advisory lock every write transaction holds
// (pg_advisory_xact_lock). Advisory locks are per database, so vigil
// instances in different databases of one server do not wait for each
// other.
const WriteLock int64 = 0x76696769_6c4c6f67 // "vigilLog"

// beginWrite begins a write transaction and takes the write lock: two
// statements, sent together (pgx sends a query without arguments with the
// simple protocol, which allows several).
var beginWrite = fmt.Sprintf("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(%d)", WriteLock)

// migrateLock is the key of the advisory lock held while migrating.
const migrateLock int64 = 0x76696769_6c4d6967 // "vigilMig"

// DB is a PostgreSQL-backed store.
type DB struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*DB)(nil)

// Open connects to the database at rawURL (postgres://user@host:port/db?…,
// any of libpq's URL parameters), checks that it is reachable and applies
// pending migrations. A malformed URL is refused with an error wrapping
// vigil.ErrInvalid, an unreachable server with one wrapping
// vigil.ErrUnavailable; neither repeats a password the URL holds.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: store URL %s: %v", vigil.ErrInvalid, Redact(rawURL), err)
	}
	db := &DB{pool: pool}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: cannot reach PostgreSQL at %s: %v (hint: is the server running, and the URL's host, port, user and database right?)", vigil.ErrUnavailable, Redact(rawURL), err)
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return db, nil
}

// ParseURL checks a store URL and returns its pool configuration. Only
// postgres:// and postgresql:// URLs are accepted, so that a path or a
// mistyped scheme is not taken for a key=value connection string.
func ParseURL(rawURL string) (*pgxpool.Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url's message may quote part of the URL: KEY:SECRET taken for
		// HOST:PORT when "@host" is missing, say.
		return nil, fmt.Errorf("%w: store URL is not a URL (check its scheme, host, port and %%-escapes)", vigil.ErrInvalid)
	}
	if (u.Scheme != "postgres" && u.Scheme != "postgresql") || !strings.HasPrefix(rawURL, u.Scheme+"://") {
		return nil, fmt.Errorf("%w: store URL %s: scheme %q, want postgres://user@host:port/database", vigil.ErrInvalid, Redact(rawURL), u.Scheme)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: store URL: %v", vigil.ErrInvalid, err) // pgx redacts the password
	}
	if cfg.ConnConfig.Database == "" {
		return nil, fmt.Errorf("%w: store URL %s names no database, want postgres://user@host:port/database", vigil.ErrInvalid, Redact(rawURL))
	}
	if !u.Query().Has("pool_max_conns") {
		cfg.MaxConns = 16
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "vigil"
	return cfg, nil
}

// Redact returns rawURL without its password, for messages.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// migrate applies the embedded migrations not yet applied, each in a
// transaction of its own holding the migration lock, recording the count in
// vigil_schema. A database migrated by a newer vigil is refused.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for {
		done, err := db.migrateOne(ctx, names)
		if err != nil || done {
			return err
		}
	}
}

func (db *DB) migrateOne(ctx context.Context, names []string) (done bool, err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, mapErr(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return false, mapErr(err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS vigil_schema (version int NOT NULL)`); err != nil {
		return false, mapErr(err)
	}
	var have int
	err = tx.QueryRow(ctx, `SELECT version FROM vigil_schema`).Scan(&have)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := tx.Exec(ctx, `INSERT INTO vigil_schema (version) VALUES (0)`); err != nil {
			return false, mapErr(err)
		}
	} else if err != nil {
		return false, mapErr(err)
	}
	if have > len(names) {
		return false, fmt.Errorf("database schema version %d is newer than this vigil (%d): upgrade vigil", have, len(names))
	}
	if have == len(names) {
		return true, mapErr(tx.Commit(ctx))
	}
	body, err := fs.ReadFile(migrations, names[have])
	if err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, string(body)); err != nil { // no arguments: the simple protocol, several statements
		return false, fmt.Errorf("%s: %w", names[have], mapErr(err))
	}
	if _, err := tx.Exec(ctx, `UPDATE vigil_schema SET version = $1`, have+1); err != nil {
		return false, mapErr(err)
	}
	return false, mapErr(tx.Commit(ctx))
}

// Close closes the connection pool. It is safe to call more than once.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
		db.pool = nil
	}
	return nil
}

// Update implements [store.Store]: fn runs in a transaction holding
// [WriteLock].
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	// Begin and take the lock in one round trip. Every statement after the
	// lock sees every transaction committed before it (READ COMMITTED), and
	// no other writer runs until commit.
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: beginWrite})
	if err != nil {
		return mapErr(fmt.Errorf("begin and take the write lock: %w", err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(&txn{ctx: ctx, tx: tx, write: true, size: -1}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// View implements [store.Store].
func (db *DB) View(ctx context.Context, fn func(store.ReadTx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return mapErr(fmt.Errorf("begin read: %w", err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return fn(&txn{ctx: ctx, tx: tx, size: -1})
}

// mapErr maps PostgreSQL's errors to vigil's kinds: a unique violation is a
// conflict, a refused connection is unavailability, a data corruption
// report is corruption.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %v", vigil.ErrConflict, err)
		case pe.Code == "XX001" || pe.Code == "XX002": // data_corrupted, index_corrupted
			return fmt.Errorf("%w: %v (hint: restore the database from a backup)", vigil.ErrCorrupt, err)
		case strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P03": // connection, admin shutdown, cannot connect now
			return fmt.Errorf("%w: %v", vigil.ErrUnavailable, err)
		}
		return err
	}
	// The connection failed or dropped (the server crashed or restarted,
	// the network broke): the pool reconnects on the next call.
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return fmt.Errorf("%w: %v", vigil.ErrUnavailable, err)
	}
	return err
}

type txn struct {
	ctx   context.Context
	tx    pgx.Tx
	write bool
	// size is the tree size as of this write transaction's last TreeSize or
	// WriteLeaf, or -1 if unknown. A write transaction holds the write lock,
	// so only it adds log entries until it ends.
	size int64
	// written holds the stored hashes this transaction inserted, so that a
	// batch's later appends read their left siblings from memory.
	written map[int64]tlog.Hash
}

const recordCols = `id, version, kind, created, leaf_index, blob, body, lookup`

func (t *txn) Record(id vigil.ID, version int64) (store.Record, error) {
	var row pgx.Row
	if version == 0 {
		row = t.tx.QueryRow(t.ctx, `SELECT `+recordCols+` FROM records WHERE id = $1 ORDER BY version DESC LIMIT 1`, id[:])
	} else {
		row = t.tx.QueryRow(t.ctx, `SELECT `+recordCols+` FROM records WHERE id = $1 AND version = $2`, id[:], version)
	}
	r, err := scanRecord(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("record %s: %w", id, vigil.ErrNotFound)
	}
	return r, mapErr(err)
}

func scanRecord(row pgx.Row) (store.Record, error) {
	var r store.Record
	var id []byte
	var created int64
	if err := row.Scan(&id, &r.Version, &r.Kind, &created, &r.LeafIndex, &r.Blob, &r.Body, &r.Key); err != nil {
		return r, err
	}
	if len(id) != len(r.ID) {
		return r, fmt.Errorf("%w: record id length %d", vigil.ErrCorrupt, len(id))
	}
	copy(r.ID[:], id)
	r.Created = time.Unix(created, 0).UTC()
	return r, nil
}

func (t *txn) queryRecords(query string, args ...any) ([]store.Record, error) {
	rows, err := t.tx.Query(t.ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

func (t *txn) Records(kind string, after vigil.ID, limit int) ([]store.Record, error) {
	return t.queryRecords(`
		SELECT r.id, r.version, r.kind, r.created, r.leaf_index, r.blob, r.body, r.lookup
		FROM records r
		WHERE r.kind = $1 AND r.id > $2
		  AND r.version = (SELECT max(version) FROM records WHERE id = r.id)
		ORDER BY r.id LIMIT $3`, kind, after[:], limit)
}

func (t *txn) RecordsByKey(kind string, key []byte, limit int) ([]store.Record, error) {
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty lookup key", vigil.ErrInvalid)
	}
	return t.queryRecords(`
		SELECT r.id, r.version, r.kind, r.created, r.leaf_index, r.blob, r.body, r.lookup
		FROM records r
		WHERE r.kind = $1 AND r.lookup = $2
		  AND r.version = (SELECT max(version) FROM records WHERE id = r.id)
		ORDER BY r.leaf_index, r.id LIMIT $3`, kind, key, limit)
}

func (t *txn) Blobs(fn func(string) error) error {
	rows, err := t.tx.Query(t.ctx, `SELECT DISTINCT blob FROM records WHERE blob <> ''`)
	if err != nil {
		return mapErr(err)
	}
	// Collect first: fn may take long, and pgx reads the rows off the
	// connection as they are scanned.
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return mapErr(err)
		}
		names = append(names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	for _, name := range names {
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) CountRecords(kind string) (int64, error) {
	var n int64
	err := t.tx.QueryRow(t.ctx, `SELECT count(DISTINCT id) FROM records WHERE kind = $1`, kind).Scan(&n)
	return n, mapErr(err)
}

func (t *txn) TreeSize() (int64, error) {
	if t.size >= 0 {
		return t.size, nil
	}
	var n int64
	if err := t.tx.QueryRow(t.ctx, `SELECT coalesce(max(idx) + 1, 0) FROM log_entries`).Scan(&n); err != nil {
		return 0, mapErr(err)
	}
	if t.write {
		t.size = n
	}
	return n, nil
}

func (t *txn) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	pos := make(map[int64][]int, len(indexes))
	var query []int64
	found := 0
	for i, x := range indexes {
		if h, ok := t.written[x]; ok {
			out[i] = h
			found++
			continue
		}
		if _, ok := pos[x]; !ok {
			query = append(query, x)
		}
		pos[x] = append(pos[x], i)
	}
	if len(query) > 0 {
		rows, err := t.tx.Query(t.ctx, `SELECT idx, hash FROM log_hashes WHERE idx = ANY($1)`, query)
		if err != nil {
			return nil, mapErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				return nil, mapErr(err)
			}
			if len(h) != tlog.HashSize {
				return nil, fmt.Errorf("%w: stored hash %d has length %d", vigil.ErrCorrupt, idx, len(h))
			}
			for _, i := range pos[idx] {
				out[i] = tlog.Hash(h)
				found++
			}
		}
		if err := rows.Err(); err != nil {
			return nil, mapErr(err)
		}
	}
	if found != len(indexes) {
		return nil, fmt.Errorf("%w: %d stored hashes missing", vigil.ErrNotFound, len(indexes)-found)
	}
	return out, nil
}

func (t *txn) ReadEntries(start, end int64) ([][]byte, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT idx, entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx`, start, end)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var idx int64
		var e []byte
		if err := rows.Scan(&idx, &e); err != nil {
			return nil, mapErr(err)
		}
		if idx != start+int64(len(out)) {
			return nil, fmt.Errorf("%w: log entry %d missing", vigil.ErrCorrupt, start+int64(len(out)))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	if int64(len(out)) != end-start {
		return nil, fmt.Errorf("log entries %d-%d: %w", start+int64(len(out)), end, vigil.ErrNotFound)
	}
	return out, nil
}

func (t *txn) LeafOf(entry []byte) (int64, error) {
	var idx int64
	err := t.tx.QueryRow(t.ctx, `SELECT idx FROM log_entries WHERE entry = $1 ORDER BY idx LIMIT 1`, entry).Scan(&idx)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("log entry %x: %w", entry, vigil.ErrNotFound)
	}
	return idx, mapErr(err)
}

func (t *txn) LatestCheckpoint() ([]byte, error) {
	var b []byte
	err := t.tx.QueryRow(t.ctx, `SELECT signed FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return b, mapErr(err)
}

func (t *txn) Checkpoint(size int64) ([]byte, error) {
	var b []byte
	err := t.tx.QueryRow(t.ctx, `SELECT signed FROM checkpoints WHERE size = $1`, size).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("checkpoint %d: %w", size, vigil.ErrNotFound)
	}
	return b, mapErr(err)
}

func (t *txn) PutRecord(r store.Record) error {
	if r.Version < 1 || r.Kind == "" || r.ID.IsZero() {
		return fmt.Errorf("%w: record needs id, kind and version >= 1", vigil.ErrInvalid)
	}
	var latest int64
	if err := t.tx.QueryRow(t.ctx, `SELECT coalesce(max(version), 0) FROM records WHERE id = $1`, r.ID[:]).Scan(&latest); err != nil {
		return mapErr(err)
	}
	if r.Version <= latest {
		return fmt.Errorf("record %s version %d: %w", r.ID, r.Version, vigil.ErrConflict)
	}
	if r.Version != latest+1 {
		return fmt.Errorf("%w: record %s version %d after %d", vigil.ErrInvalid, r.ID, r.Version, latest)
	}
	var key []byte // NULL for no key
	if len(r.Key) > 0 {
		key = r.Key
	}
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO records (`+recordCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ID[:], r.Version, r.Kind, r.Created.Unix(), r.LeafIndex, r.Blob, body, key)
	if err != nil {
		return mapErr(fmt.Errorf("record %s version %d: %w", r.ID, r.Version, err))
	}
	return nil
}

func (t *txn) WriteLeaf(index int64, entry []byte, hashes []tlog.Hash) error {
	n, err := t.TreeSize()
	if err != nil {
		return err
	}
	if index != n {
		return fmt.Errorf("leaf %d with tree size %d: %w", index, n, vigil.ErrConflict)
	}
	t.size = -1 // until the leaf is fully written
	base := tlog.StoredHashIndex(0, index)
	idx := make([]int64, len(hashes))
	hs := make([][]byte, len(hashes))
	for i := range hashes {
		idx[i] = base + int64(i)
		hs[i] = hashes[i][:]
	}
	var b pgx.Batch
	b.Queue(`INSERT INTO log_entries (idx, entry) VALUES ($1, $2)`, index, entry)
	b.Queue(`INSERT INTO log_hashes (idx, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, idx, hs)
	if err := mapErr(t.tx.SendBatch(t.ctx, &b).Close()); err != nil {
		return fmt.Errorf("leaf %d: %w", index, err)
	}
	if t.written == nil {
		t.written = make(map[int64]tlog.Hash)
	}
	for i, h := range hashes {
		t.written[base+int64(i)] = h
	}
	t.size = index + 1
	return nil
}

func (t *txn) PutCheckpoint(size int64, signed []byte) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO checkpoints (size, signed) VALUES ($1, $2) ON CONFLICT (size) DO NOTHING`, size, signed)
	return mapErr(err)
}
