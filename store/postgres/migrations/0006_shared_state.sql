-- PostgreSQL only (SQLite has one process, which keeps these in memory).
-- State that several vigil serve processes on one database share
-- (docs/scale.md, "Several servers"). Both tables are UNLOGGED: not written
-- to the write-ahead log, so not in WAL archives, base backups' WAL or
-- replicas, and emptied by crash recovery. Losing them costs sources a
-- retyped receipt and attackers a refilled bucket, nothing else.

-- Follow-up sessions. id is a hash of the cookie's secret, slot a keyed hash
-- only the source's receipt can compute (per time window: one session per
-- submission), sealed the session (the source's key material, its CSRF
-- token and last-use time) under a key derived from the cookie's secret,
-- which the database never sees. expires is on the intake precision grid.
CREATE UNLOGGED TABLE followup_sessions (
	id      bytea PRIMARY KEY,
	slot    bytea NOT NULL UNIQUE,
	sealed  bytea NOT NULL,
	expires timestamptz NOT NULL
);
CREATE INDEX followup_sessions_expires ON followup_sessions (expires);

-- Rate-limit token buckets. key is HMAC of a client's address (or of ""
-- for the global bucket) under a key that rotates every epoch and is never
-- stored; epoch says which rotation a row belongs to, so old ones are
-- deleted; took is the last TakeToken's answer.
CREATE UNLOGGED TABLE rate_buckets (
	key    bytea PRIMARY KEY,
	epoch  bigint NOT NULL,
	tokens double precision NOT NULL,
	last   timestamptz NOT NULL,
	took   boolean NOT NULL
);
CREATE INDEX rate_buckets_epoch ON rate_buckets (epoch);
