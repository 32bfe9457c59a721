-- INSERT OR REPLACE deletes the conflicting row without firing DELETE
-- triggers (unless recursive_triggers is on), so the triggers of 0001 do not
-- stop it from overwriting a record version or a log entry. Refuse an insert
-- whose key exists; BEFORE INSERT triggers run before conflict resolution.
CREATE TRIGGER records_no_replace BEFORE INSERT ON records
	WHEN EXISTS (SELECT 1 FROM records WHERE id = NEW.id AND version = NEW.version)
	BEGIN SELECT RAISE(ABORT, 'records are immutable'); END;
CREATE TRIGGER log_entries_no_replace BEFORE INSERT ON log_entries
	WHEN EXISTS (SELECT 1 FROM log_entries WHERE idx = NEW.idx)
	BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;
CREATE TRIGGER log_hashes_no_replace BEFORE INSERT ON log_hashes
	WHEN EXISTS (SELECT 1 FROM log_hashes WHERE idx = NEW.idx)
	BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;
