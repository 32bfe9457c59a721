-- PostgreSQL only (SQLite has one process, nobody to tell).
-- Every new record version is announced on the channel vigil_records as
-- "KIND HEXID", delivered to the listening servers when its transaction
-- commits (never if it rolls back). Other vigil serve processes on the same
-- database load it into their in-memory case model (internal/cluster). A
-- notification is not stored; it names only what the rows already show in
-- plaintext (kind and random ID).
CREATE FUNCTION vigil_notify_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('vigil_records', NEW.kind || ' ' || encode(NEW.id, 'hex'));
	RETURN NULL;
END;
$$;
CREATE TRIGGER records_notify AFTER INSERT ON records
	FOR EACH ROW EXECUTE FUNCTION vigil_notify_record();
