// Package store defines vigil's record store: versioned records that are
// never overwritten, the evidence log's entries and stored hashes, and signed
// checkpoints, all changed together in one transaction.
//
// Open an adapter (store/sqlite; store/postgres follows) and use [Store.Update]
// for writes and [Store.View] for reads. Record bodies are age ciphertext
// produced by the vault; the plaintext columns (ID, kind, version, coarse
// time, leaf index, blob name) reveal nothing about content or people.
// store/storetest is the conformance suite every adapter must pass.
package store

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
)

// A Record is one version of a record. Versions are immutable: a change is a
// new version with the next number.
type Record struct {
	ID      vigil.ID
	Version int64 // from 1
	Kind    string
	// Created is when the version was written, stored at the precision the
	// writer chose (callers round it to hide exact times where that matters).
	Created time.Time
	// LeafIndex is -1 for new records: a plaintext leaf index would tie the
	// records written in one transaction together (a submission and its
	// files have neighbouring leaves). Readers find a record's leaf from its
	// sealed commitment with [ReadTx.LeafOf]. Records written before that
	// change may hold their leaf here.
	LeafIndex int64
	// Blob is empty for new records: which blob holds an item's content is
	// inside its sealed body. Records written before that change may name
	// their blob here.
	Blob string
	// Body is age ciphertext (see vault.SealField).
	Body []byte
	// Key is an optional opaque lookup key (nil for none): a keyed hash of a
	// receipt or token, or the random ID of a parent record. It must reveal
	// nothing by itself. See [ReadTx.RecordsByKey].
	Key []byte
}

// A Store is a transactional record store. All its methods are safe for
// concurrent use. Writes are serialized; a write is durable (fsynced) when
// Update returns nil.
type Store interface {
	// Update runs fn in a read-write transaction and commits if fn returns
	// nil; otherwise nothing fn did is kept. fn must not retain tx.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction that sees a consistent snapshot.
	View(ctx context.Context, fn func(ReadTx) error) error
	// Close releases the store. It is safe to call more than once.
	Close() error
}

// A ReadTx reads a consistent snapshot.
type ReadTx interface {
	// Record returns version of the record id; version 0 means the latest.
	// It returns an error wrapping vigil.ErrNotFound if there is none.
	Record(id vigil.ID, version int64) (Record, error)
	// Records returns the latest version of up to limit records of kind,
	// ordered by ID, with IDs greater than after (zero ID: from the start).
	Records(kind string, after vigil.ID, limit int) ([]Record, error)
	// RecordsByKey returns the latest version of up to limit records of kind
	// whose latest version has the given key, in order of leaf index, then ID.
	RecordsByKey(kind string, key []byte, limit int) ([]Record, error)
	// Blobs calls fn with the name of every blob any record version
	// references, once per name.
	Blobs(fn func(name string) error) error
	// CountRecords returns how many distinct records of kind exist.
	CountRecords(kind string) (int64, error)

	// TreeSize returns the number of log entries.
	TreeSize() (int64, error)
	// ReadHashes returns the log's stored hashes at the given indexes
	// (tlog.StoredHashIndex layout); missing ones are an error.
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
	// ReadEntries returns log entries [start, end).
	ReadEntries(start, end int64) ([][]byte, error)
	// LeafOf returns the index of the first log entry equal to entry, or an
	// error wrapping vigil.ErrNotFound. Records do not name their leaf in
	// plaintext: a reader who can decrypt a record recomputes its commitment
	// and finds the leaf with LeafOf.
	LeafOf(entry []byte) (int64, error)
	// LatestCheckpoint returns the latest signed checkpoint, or nil.
	LatestCheckpoint() ([]byte, error)
	// Checkpoint returns the signed checkpoint stored for the given tree
	// size, or an error wrapping vigil.ErrNotFound.
	Checkpoint(size int64) ([]byte, error)
}

// A Tx is a read-write transaction.
type Tx interface {
	ReadTx
	// PutRecord inserts a record version. It returns an error wrapping
	// vigil.ErrConflict if that version exists, and vigil.ErrInvalid if
	// the version is not the next one.
	PutRecord(r Record) error
	// WriteLeaf appends log entry index, which must equal TreeSize (else
	// vigil.ErrConflict), with its stored hashes starting at
	// tlog.StoredHashIndex(0, index).
	WriteLeaf(index int64, entry []byte, hashes []tlog.Hash) error
	// PutCheckpoint records a signed checkpoint of the given tree size.
	PutCheckpoint(size int64, signed []byte) error
}

// EachRecord calls fn with the latest version of every record of kind, in
// ID order, reading tx's Records page by page. It stops at fn's first error.
func EachRecord(tx ReadTx, kind string, fn func(Record) error) error {
	const page = 500
	var after vigil.ID
	for {
		recs, err := tx.Records(kind, after, page)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) < page {
			return nil
		}
		after = recs[len(recs)-1].ID
	}
}
