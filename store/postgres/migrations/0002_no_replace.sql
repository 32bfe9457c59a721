-- Mirrors store/sqlite/migrations/0002_no_replace.sql. SQLite's INSERT OR
-- REPLACE deleted a conflicting row without firing DELETE triggers;
-- PostgreSQL has no such statement (ON CONFLICT DO UPDATE fires the UPDATE
-- triggers of 0001). Its way around row triggers is TRUNCATE, which fires
-- no DELETE trigger: refuse it on the same tables.
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse('records are immutable');
CREATE TRIGGER log_entries_no_truncate BEFORE TRUNCATE ON log_entries FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse('log is append-only');
CREATE TRIGGER log_hashes_no_truncate BEFORE TRUNCATE ON log_hashes FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse('log is append-only');
