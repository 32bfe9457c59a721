// Package sqlmigrate applies a SQLite database's embedded, numbered
// migrations: each *.sql file of a directory, in name order, once, in a
// transaction of its own that also sets PRAGMA user_version to the number
// of migrations applied. store/sqlite and the witness's state use it.
package sqlmigrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
)

// Apply runs the migrations dir/*.sql of fsys that db has not applied
// yet. what names the database in errors ("database", "witness
// database"). A database whose user_version is beyond the migrations is
// refused: it was written by a newer vigil.
func Apply(ctx context.Context, db *sql.DB, fsys fs.FS, dir, what string) error {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return err
	}
	if have > len(names) {
		return fmt.Errorf("%s schema version %d is newer than this vigil (%d): upgrade vigil", what, have, len(names))
	}
	for i := have; i < len(names); i++ {
		body, err := fs.ReadFile(fsys, names[i])
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", names[i], err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
