-- Mirrors store/sqlite/migrations/0003_record_key.sql.
-- An optional lookup key per record version: an opaque value that reveals
-- nothing by itself (a keyed hash of a receipt or token, or a parent
-- record's random ID), so records can be found without decrypting them.
ALTER TABLE records ADD COLUMN lookup bytea;
CREATE INDEX records_lookup ON records (kind, lookup) WHERE lookup IS NOT NULL;
