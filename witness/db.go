package witness

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vigil-hr/vigil/internal/sqlmigrate"
)

// ErrUnknownLog is returned for an origin the witness was not told to witness.
var ErrUnknownLog = errors.New("unknown log origin")

// migrations are the witness schema, applied once each, in order, in a
// transaction, as store/sqlite does; PRAGMA user_version counts them.
//
//go:embed migrations/*.sql
var migrations embed.FS

// A DB is a witness's state in SQLite: the logs it witnesses and, for each,
// the latest checkpoint it cosigned. Like vigil's store it runs in WAL mode
// with synchronous=FULL, so a state change is on disk when [DB.Advance]
// returns; writes go through one connection and begin IMMEDIATE, so two
// processes on the same file serialize too. Its methods are safe for
// concurrent use.
type DB struct {
	path string
	w    *sql.DB
}

// A LogState is what a witness knows of one log.
type LogState struct {
	Origin     string
	VKeys      []string  // the log's verifier keys
	Size       int64     // size of the latest cosigned checkpoint, 0 if none
	Hash       tlog.Hash // its root hash (the empty tree's if none)
	Checkpoint []byte    // the latest cosigned checkpoint with the log's and the witness's signatures, nil if none
}

// Verifiers returns the note verifiers of the log's keys.
func (s LogState) Verifiers() (note.Verifiers, error) {
	var vs []note.Verifier
	for _, k := range s.VKeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("log %q: key %q: %w", s.Origin, k, err)
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}

// emptyHash is the root hash of the empty tree: SHA-256 of the empty string
// (RFC 6962, section 2.1).
var emptyHash = tlog.Hash{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}

// OpenDB opens (creating if needed) the witness database at path.
func OpenDB(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "trusted_schema(0)"} {
		q.Add("_pragma", p)
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open witness database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	var res string
	if err := w.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		w.Close()
		return nil, fmt.Errorf("check witness database %s: %w", path, err)
	}
	if res != "ok" {
		w.Close()
		return nil, fmt.Errorf("witness database %s is damaged: %s (hint: never re-create a witness's state: a witness that forgets what it cosigned can be made to cosign a fork)", path, res)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate witness database: %w", err)
	}
	return &DB{path: path, w: w}, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.w.Close() }

// AddLog starts witnessing the log with the given origin, trusting the
// given verifier keys (whose names must be the origin). Adding a log already
// known adds the keys and keeps its state: the witness never forgets a
// checkpoint it cosigned.
func (db *DB) AddLog(ctx context.Context, origin string, vkeys ...string) error {
	if len(vkeys) == 0 {
		return errors.New("add log: no verifier key")
	}
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return fmt.Errorf("add log: key %q: %w", k, err)
		}
		if v.Name() != origin {
			return fmt.Errorf("add log: key %q is named %q, not the origin %q", k, v.Name(), origin)
		}
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add log: begin: %w", err)
	}
	defer tx.Rollback()
	var have string
	err = tx.QueryRowContext(ctx, `SELECT vkeys FROM logs WHERE origin = ?`, origin).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO logs (origin, vkeys, hash) VALUES (?, ?, ?)`, origin, strings.Join(vkeys, "\n"), emptyHash[:])
	case err == nil:
		keys := strings.Split(have, "\n")
		for _, k := range vkeys {
			if !contains(keys, k) {
				keys = append(keys, k)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE logs SET vkeys = ? WHERE origin = ?`, strings.Join(keys, "\n"), origin)
	}
	if err != nil {
		return fmt.Errorf("add log: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add log: commit: %w", err)
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Log returns the state of the log with the given origin, or an error
// wrapping [ErrUnknownLog].
func (db *DB) Log(ctx context.Context, origin string) (LogState, error) {
	return readLog(ctx, db.w, origin)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readLog(ctx context.Context, q queryer, origin string) (LogState, error) {
	st := LogState{Origin: origin}
	var keys string
	var hash []byte
	err := q.QueryRowContext(ctx, `SELECT vkeys, size, hash, checkpoint FROM logs WHERE origin = ?`, origin).Scan(&keys, &st.Size, &hash, &st.Checkpoint)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("%w: %q", ErrUnknownLog, origin)
	}
	if err != nil {
		return st, fmt.Errorf("read log state: %w", err)
	}
	if len(hash) != len(st.Hash) {
		return st, fmt.Errorf("log %q: stored hash has %d bytes", origin, len(hash))
	}
	copy(st.Hash[:], hash)
	if keys != "" {
		st.VKeys = strings.Split(keys, "\n")
	}
	return st, nil
}

// Advance runs fn on the state of the log in a write transaction that
// serializes with every other Advance (even in another process). If fn
// returns a new state, it is written and committed (fsynced) before Advance
// returns; if fn fails, nothing changes. This is what makes checking the old
// size and recording the new checkpoint atomic, as tlog-witness requires.
func (db *DB) Advance(ctx context.Context, origin string, fn func(LogState) (LogState, error)) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	st, err := readLog(ctx, tx, origin)
	if err != nil {
		return err
	}
	next, err := fn(st)
	if err != nil {
		return err
	}
	if next.Size < st.Size {
		return fmt.Errorf("log %q: refusing to roll back the witness state from size %d to %d", origin, st.Size, next.Size)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE logs SET size = ?, hash = ?, checkpoint = ? WHERE origin = ?`, next.Size, next.Hash[:], next.Checkpoint, origin); err != nil {
		return fmt.Errorf("write log state: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit log state: %w", err)
	}
	return nil
}

// A Conflict is evidence of a log's misbehavior: a checkpoint validly signed
// by the log that is inconsistent with one the witness cosigned. Both are
// signed by the log key, so together they prove the log signed two
// incompatible histories.
type Conflict struct {
	Origin   string
	Received time.Time
	Request  []byte // the add-checkpoint body
	Cosigned []byte // the cosigned checkpoint it contradicts
}

// RecordConflict keeps evidence of a refused, validly signed checkpoint.
func (db *DB) RecordConflict(ctx context.Context, c Conflict) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO conflicts (origin, received, request, cosigned) VALUES (?, ?, ?, ?)`,
		c.Origin, c.Received.UTC().Format(time.RFC3339), c.Request, c.Cosigned)
	if err != nil {
		return fmt.Errorf("record conflict: %w", err)
	}
	return nil
}

// Conflicts returns the evidence kept for the log, oldest first.
func (db *DB) Conflicts(ctx context.Context, origin string) ([]Conflict, error) {
	rows, err := db.w.QueryContext(ctx, `SELECT received, request, cosigned FROM conflicts WHERE origin = ? ORDER BY id`, origin)
	if err != nil {
		return nil, fmt.Errorf("read conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		c := Conflict{Origin: origin}
		var t string
		if err := rows.Scan(&t, &c.Request, &c.Cosigned); err != nil {
			return nil, fmt.Errorf("read conflicts: %w", err)
		}
		c.Received, _ = time.Parse(time.RFC3339, t)
		out = append(out, c)
	}
	return out, rows.Err()
}

func migrate(ctx context.Context, w *sql.DB) error {
	return sqlmigrate.Apply(ctx, w, migrations, "migrations", "witness database")
}
