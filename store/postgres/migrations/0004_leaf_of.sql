-- Mirrors store/sqlite/migrations/0004_leaf_of.sql.
-- Records no longer name their log leaf in plaintext (a leaf index next to
-- its neighbours tied a submission to the files written in the same
-- transaction). A reader who can decrypt a record recomputes its commitment
-- SHA-256(salt || statement) and finds the leaf by it; entries are public
-- (served as tiles), so indexing them reveals nothing new.
CREATE INDEX log_entries_entry ON log_entries (entry);
