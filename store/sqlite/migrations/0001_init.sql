-- Records: versioned, never updated. Plaintext columns reveal nothing:
-- opaque random IDs, kinds, numbers, coarse times, random blob names.
CREATE TABLE records (
	id         BLOB    NOT NULL,
	version    INTEGER NOT NULL CHECK (version >= 1),
	kind       TEXT    NOT NULL,
	created    INTEGER NOT NULL, -- unix seconds, rounded by the writer
	leaf_index INTEGER NOT NULL,
	blob       TEXT    NOT NULL,
	body       BLOB    NOT NULL, -- age ciphertext
	PRIMARY KEY (id, version)
) WITHOUT ROWID;
CREATE INDEX records_kind ON records (kind, id);

-- Evidence log: entries are hiding commitments; hashes use
-- golang.org/x/mod/sumdb/tlog's StoredHashIndex layout.
CREATE TABLE log_entries (
	idx   INTEGER PRIMARY KEY,
	entry BLOB NOT NULL
);
CREATE TABLE log_hashes (
	idx  INTEGER PRIMARY KEY,
	hash BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE TABLE checkpoints (
	size   INTEGER PRIMARY KEY,
	signed BLOB NOT NULL
);

-- Immutability enforced by the database too, not only by the code.
CREATE TRIGGER records_no_update BEFORE UPDATE ON records BEGIN SELECT RAISE(ABORT, 'records are immutable'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records BEGIN SELECT RAISE(ABORT, 'records are immutable'); END;
CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;
CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;
CREATE TRIGGER log_hashes_no_update BEFORE UPDATE ON log_hashes BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;
CREATE TRIGGER log_hashes_no_delete BEFORE DELETE ON log_hashes BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;
