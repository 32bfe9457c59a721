package sqlite

import "context"

// WritePragma returns the value of PRAGMA name on db's write connection.
func WritePragma(ctx context.Context, db *DB, name string) (string, error) {
	var v string
	err := db.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// ReadPragma returns the value of PRAGMA name on one of db's read connections.
func ReadPragma(ctx context.Context, db *DB, name string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}
