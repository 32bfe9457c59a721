// Package sqlite implements [store.Store] on SQLite through the pure-Go
// modernc.org/sqlite driver (no cgo).
//
// The database runs in WAL mode with synchronous=FULL, so a transaction is
// fsynced before [DB.Update] returns. Writes go through one connection and
// begin IMMEDIATE, which serializes writers (and so log appends); reads use a
// pool of query-only connections that see committed snapshots. Migrations are
// embedded and applied once each, in order, inside a transaction.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/sqlmigrate"
	"github.com/vigil-hr/vigil/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a SQLite-backed store.
type DB struct {
	path string
	w    *sql.DB             // one connection, BEGIN IMMEDIATE
	r    *sql.DB             // query-only pool
	ws   [numStmts]*sql.Stmt // prepared on w, for the write path
}

// Statements of the write path, prepared once on the write connection (SQLite
// parses a statement in about as much time as it runs a small one).
const (
	stTreeSize = iota
	stReadHash
	stInsEntry
	stInsHash
	stMaxVersion
	stInsRecord
	numStmts
)

var writeSQL = [numStmts]string{
	stTreeSize:   `SELECT coalesce(max(idx) + 1, 0) FROM log_entries`,
	stReadHash:   `SELECT hash FROM log_hashes WHERE idx = ?`,
	stInsEntry:   `INSERT INTO log_entries (idx, entry) VALUES (?, ?)`,
	stInsHash:    `INSERT INTO log_hashes (idx, hash) VALUES (?, ?)`,
	stMaxVersion: `SELECT coalesce(max(version), 0) FROM records WHERE id = ?`,
	stInsRecord:  `INSERT INTO records (id, version, kind, created, leaf_index, blob, body, lookup) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path, checks its
// integrity, and applies pending migrations. A damaged database is refused
// with an error wrapping vigil.ErrCorrupt.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)", "trusted_schema(0)"} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	db := &DB{path: path, w: w}
	if err := db.init(ctx); err != nil {
		w.Close()
		return nil, err
	}
	for i, q := range writeSQL {
		if db.ws[i], err = w.PrepareContext(ctx, q); err != nil {
			db.Close()
			return nil, mapErr(fmt.Errorf("prepare: %w", err))
		}
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	r.SetMaxOpenConns(4)
	db.r = r
	return db, nil
}

func (db *DB) init(ctx context.Context) error {
	var res string
	if err := db.w.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return mapErr(fmt.Errorf("check database %s: %w", db.path, err))
	}
	if res != "ok" {
		return fmt.Errorf("%w: database %s: %s (hint: restore the data directory from a backup)", vigil.ErrCorrupt, db.path, firstLine(res))
	}
	if err := db.migrate(ctx); err != nil {
		return mapErr(fmt.Errorf("migrate database: %w", err))
	}
	return nil
}

// firstLine returns the first informative line of quick_check's report,
// skipping its "*** in database main ***" banner.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "***") {
			return l
		}
	}
	return strings.TrimSpace(s)
}

func (db *DB) migrate(ctx context.Context) error {
	return sqlmigrate.Apply(ctx, db.w, migrations, "migrations", "database")
}

// Close closes the database.
func (db *DB) Close() error {
	var err error
	if db.r != nil {
		err = db.r.Close()
		db.r = nil
	}
	for i, st := range db.ws {
		if st != nil {
			st.Close()
			db.ws[i] = nil
		}
	}
	if db.w != nil {
		if e := db.w.Close(); err == nil {
			err = e
		}
		db.w = nil
	}
	return err
}

// Update implements [store.Store].
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	if err := fn(&txn{ctx: ctx, tx: tx, ws: &db.ws, size: -1}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// View implements [store.Store].
func (db *DB) View(ctx context.Context, fn func(store.ReadTx) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return mapErr(fmt.Errorf("begin read: %w", err))
	}
	defer tx.Rollback()
	return fn(&txn{ctx: ctx, tx: tx})
}

// mapErr turns SQLite's corruption errors into vigil.ErrCorrupt with a hint.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	if strings.Contains(s, "malformed") || strings.Contains(s, "not a database") || strings.Contains(s, "SQLITE_CORRUPT") || strings.Contains(s, "SQLITE_NOTADB") {
		return fmt.Errorf("%w: %v (hint: restore the data directory from a backup)", vigil.ErrCorrupt, err)
	}
	return err
}

type txn struct {
	ctx context.Context
	tx  *sql.Tx
	// Write transactions only:
	ws    *[numStmts]*sql.Stmt // the DB's prepared statements (nil in View)
	local [numStmts]*sql.Stmt  // ws bound to tx, made on first use
	// size is the tree size as of this transaction's last TreeSize or
	// WriteLeaf, or -1 if unknown. Only WriteLeaf adds log entries, and a
	// write transaction is alone in writing, so it stays right until the
	// transaction ends; any failed write resets it.
	size int64
	// written holds the stored hashes this transaction inserted, so that
	// the next appends of a batch (group commit) read them from memory:
	// most hashes an append reads are its left siblings, written by the
	// appends just before it. Each is added once its insert succeeded, so
	// it always agrees with the transaction's view of the table.
	written map[int64]tlog.Hash
}

// stmt returns prepared write statement i bound to t's transaction.
func (t *txn) stmt(i int) (*sql.Stmt, error) {
	if t.local[i] != nil {
		return t.local[i], nil
	}
	if t.ws != nil {
		t.local[i] = t.tx.StmtContext(t.ctx, t.ws[i])
		return t.local[i], nil
	}
	st, err := t.tx.PrepareContext(t.ctx, writeSQL[i]) // closed with the transaction
	if err != nil {
		return nil, mapErr(err)
	}
	t.local[i] = st
	return st, nil
}

func (t *txn) Record(id vigil.ID, version int64) (store.Record, error) {
	var row *sql.Row
	if version == 0 {
		row = t.tx.QueryRowContext(t.ctx, `SELECT id, version, kind, created, leaf_index, blob, body, lookup FROM records WHERE id = ? ORDER BY version DESC LIMIT 1`, id[:])
	} else {
		row = t.tx.QueryRowContext(t.ctx, `SELECT id, version, kind, created, leaf_index, blob, body, lookup FROM records WHERE id = ? AND version = ?`, id[:], version)
	}
	r, err := scanRecord(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("record %s: %w", id, vigil.ErrNotFound)
	}
	return r, mapErr(err)
}

func scanRecord(scan func(...any) error) (store.Record, error) {
	var r store.Record
	var id []byte
	var created int64
	if err := scan(&id, &r.Version, &r.Kind, &created, &r.LeafIndex, &r.Blob, &r.Body, &r.Key); err != nil {
		return r, err
	}
	if len(id) != len(r.ID) {
		return r, fmt.Errorf("%w: record id length %d", vigil.ErrCorrupt, len(id))
	}
	copy(r.ID[:], id)
	r.Created = time.Unix(created, 0).UTC()
	return r, nil
}

func (t *txn) Records(kind string, after vigil.ID, limit int) ([]store.Record, error) {
	return t.queryRecords(`
		SELECT r.id, r.version, r.kind, r.created, r.leaf_index, r.blob, r.body, r.lookup
		FROM records r
		WHERE r.kind = ? AND r.id > ?
		  AND r.version = (SELECT max(version) FROM records WHERE id = r.id)
		ORDER BY r.id LIMIT ?`, kind, after[:], limit)
}

// queryRecords runs a query selecting whole records and scans them all.
func (t *txn) queryRecords(query string, args ...any) ([]store.Record, error) {
	rows, err := t.tx.QueryContext(t.ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scanRecord(rows.Scan)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

func (t *txn) Blobs(fn func(string) error) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT DISTINCT blob FROM records WHERE blob <> ''`)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return mapErr(err)
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

func (t *txn) RecordsByKey(kind string, key []byte, limit int) ([]store.Record, error) {
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty lookup key", vigil.ErrInvalid)
	}
	return t.queryRecords(`
		SELECT r.id, r.version, r.kind, r.created, r.leaf_index, r.blob, r.body, r.lookup
		FROM records r
		WHERE r.kind = ? AND r.lookup = ?
		  AND r.version = (SELECT max(version) FROM records WHERE id = r.id)
		ORDER BY r.leaf_index, r.id LIMIT ?`, kind, key, limit)
}

func (t *txn) CountRecords(kind string) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(DISTINCT id) FROM records WHERE kind = ?`, kind).Scan(&n)
	return n, mapErr(err)
}

func (t *txn) TreeSize() (int64, error) {
	if t.ws == nil {
		var n int64
		err := t.tx.QueryRowContext(t.ctx, writeSQL[stTreeSize]).Scan(&n)
		return n, mapErr(err)
	}
	if t.size < 0 {
		st, err := t.stmt(stTreeSize)
		if err != nil {
			return 0, err
		}
		var n int64
		if err := st.QueryRowContext(t.ctx).Scan(&n); err != nil {
			return 0, mapErr(err)
		}
		t.size = n
	}
	return t.size, nil
}

func (t *txn) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	if t.ws != nil && len(indexes) <= 16 {
		// An append reads a few hashes: one prepared lookup each.
		st, err := t.stmt(stReadHash)
		if err != nil {
			return nil, err
		}
		missing := 0
		for i, x := range indexes {
			if h, ok := t.written[x]; ok {
				out[i] = h
				continue
			}
			var h []byte
			err := st.QueryRowContext(t.ctx, x).Scan(&h)
			if errors.Is(err, sql.ErrNoRows) {
				missing++
				continue
			}
			if err != nil {
				return nil, mapErr(err)
			}
			if len(h) != tlog.HashSize {
				return nil, fmt.Errorf("%w: stored hash %d has length %d", vigil.ErrCorrupt, x, len(h))
			}
			out[i] = tlog.Hash(h)
		}
		if missing > 0 {
			return nil, fmt.Errorf("%w: %d stored hashes missing", vigil.ErrNotFound, missing)
		}
		return out, nil
	}
	// Query in chunks with IN (...) and place results by index.
	pos := make(map[int64][]int, len(indexes))
	for i, x := range indexes {
		pos[x] = append(pos[x], i)
	}
	found := 0
	const chunk = 500
	for s := 0; s < len(indexes); s += chunk {
		part := indexes[s:min(s+chunk, len(indexes))]
		args := make([]any, len(part))
		for i, x := range part {
			args[i] = x
		}
		q := `SELECT idx, hash FROM log_hashes WHERE idx IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		rows, err := t.tx.QueryContext(t.ctx, q, args...)
		if err != nil {
			return nil, mapErr(err)
		}
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				rows.Close()
				return nil, mapErr(err)
			}
			if len(h) != tlog.HashSize {
				rows.Close()
				return nil, fmt.Errorf("%w: stored hash %d has length %d", vigil.ErrCorrupt, idx, len(h))
			}
			for _, i := range pos[idx] {
				out[i] = tlog.Hash(h)
				found++
			}
			delete(pos, idx)
		}
		rows.Close()
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
	rows, err := t.tx.QueryContext(t.ctx, `SELECT idx, entry FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx`, start, end)
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
	err := t.tx.QueryRowContext(t.ctx, `SELECT idx FROM log_entries WHERE entry = ? ORDER BY idx LIMIT 1`, entry).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("log entry %x: %w", entry, vigil.ErrNotFound)
	}
	return idx, mapErr(err)
}

func (t *txn) LatestCheckpoint() ([]byte, error) {
	var b []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT signed FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return b, mapErr(err)
}

func (t *txn) Checkpoint(size int64) ([]byte, error) {
	var b []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT signed FROM checkpoints WHERE size = ?`, size).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("checkpoint %d: %w", size, vigil.ErrNotFound)
	}
	return b, mapErr(err)
}

func (t *txn) PutRecord(r store.Record) error {
	if r.Version < 1 || r.Kind == "" || r.ID.IsZero() {
		return fmt.Errorf("%w: record needs id, kind and version >= 1", vigil.ErrInvalid)
	}
	var latest int64
	st, err := t.stmt(stMaxVersion)
	if err != nil {
		return err
	}
	if err := st.QueryRowContext(t.ctx, r.ID[:]).Scan(&latest); err != nil {
		return mapErr(err)
	}
	if r.Version <= latest {
		return fmt.Errorf("record %s version %d: %w", r.ID, r.Version, vigil.ErrConflict)
	}
	if r.Version != latest+1 {
		return fmt.Errorf("%w: record %s version %d after %d", vigil.ErrInvalid, r.ID, r.Version, latest)
	}
	if st, err = t.stmt(stInsRecord); err != nil {
		return err
	}
	var key any // NULL for no key
	if len(r.Key) > 0 {
		key = r.Key
	}
	_, err = st.ExecContext(t.ctx, r.ID[:], r.Version, r.Kind, r.Created.Unix(), r.LeafIndex, r.Blob, r.Body, key)
	return mapErr(err)
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
	st, err := t.stmt(stInsEntry)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(t.ctx, index, entry); err != nil {
		return mapErr(err)
	}
	base := tlog.StoredHashIndex(0, index)
	ins, err := t.stmt(stInsHash)
	if err != nil {
		return err
	}
	if t.written == nil {
		t.written = make(map[int64]tlog.Hash)
	}
	for i, h := range hashes {
		if _, err := ins.ExecContext(t.ctx, base+int64(i), h[:]); err != nil {
			return mapErr(err)
		}
		t.written[base+int64(i)] = h
	}
	t.size = index + 1
	return nil
}

func (t *txn) PutCheckpoint(size int64, signed []byte) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO checkpoints (size, signed) VALUES (?, ?) ON CONFLICT (size) DO NOTHING`, size, signed)
	return mapErr(err)
}
