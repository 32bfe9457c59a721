-- The witness state: one row per witnessed log, holding its trusted keys and
-- the latest checkpoint cosigned for it (size 0 and the empty-tree hash until
-- the first one); and the evidence of refused forks.
CREATE TABLE logs (
	origin     TEXT PRIMARY KEY NOT NULL,
	vkeys      TEXT NOT NULL,            -- the log's verifier keys, one a line
	size       INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
	hash       BLOB NOT NULL,            -- root hash at size
	checkpoint BLOB                      -- latest cosigned checkpoint with its signatures, NULL before the first
) STRICT;
CREATE TABLE conflicts (
	id       INTEGER PRIMARY KEY,
	origin   TEXT NOT NULL,
	received TEXT NOT NULL,              -- RFC 3339, UTC
	request  BLOB NOT NULL,              -- the add-checkpoint body: a checkpoint signed by the log, inconsistent with the cosigned one
	cosigned BLOB                        -- the cosigned checkpoint it contradicts
) STRICT;
