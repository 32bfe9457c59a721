-- Mirrors store/sqlite/migrations/0001_init.sql.
-- Records: versioned, never updated. Plaintext columns reveal nothing:
-- opaque random IDs, kinds, numbers, coarse times, random blob names.
CREATE TABLE records (
	id         bytea  NOT NULL CHECK (length(id) = 16),
	version    bigint NOT NULL CHECK (version >= 1),
	kind       text   NOT NULL,
	created    bigint NOT NULL, -- unix seconds, rounded by the writer
	leaf_index bigint NOT NULL,
	blob       text   NOT NULL,
	body       bytea  NOT NULL, -- age ciphertext
	PRIMARY KEY (id, version)
);
CREATE INDEX records_kind ON records (kind, id);

-- Evidence log: entries are hiding commitments; hashes use
-- golang.org/x/mod/sumdb/tlog's StoredHashIndex layout.
CREATE TABLE log_entries (
	idx   bigint PRIMARY KEY CHECK (idx >= 0),
	entry bytea  NOT NULL
);
CREATE TABLE log_hashes (
	idx  bigint PRIMARY KEY CHECK (idx >= 0),
	hash bytea  NOT NULL CHECK (length(hash) = 32)
);
CREATE TABLE checkpoints (
	size   bigint PRIMARY KEY,
	signed bytea  NOT NULL
);

-- Immutability enforced by the database too, not only by the code. An
-- INSERT ... ON CONFLICT DO UPDATE fires the UPDATE triggers, so it is
-- refused as well.
CREATE FUNCTION vigil_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER records_no_update BEFORE UPDATE ON records FOR EACH ROW EXECUTE FUNCTION vigil_refuse('records are immutable');
CREATE TRIGGER records_no_delete BEFORE DELETE ON records FOR EACH ROW EXECUTE FUNCTION vigil_refuse('records are immutable');
CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries FOR EACH ROW EXECUTE FUNCTION vigil_refuse('log is append-only');
CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries FOR EACH ROW EXECUTE FUNCTION vigil_refuse('log is append-only');
CREATE TRIGGER log_hashes_no_update BEFORE UPDATE ON log_hashes FOR EACH ROW EXECUTE FUNCTION vigil_refuse('log is append-only');
CREATE TRIGGER log_hashes_no_delete BEFORE DELETE ON log_hashes FOR EACH ROW EXECUTE FUNCTION vigil_refuse('log is append-only');
