// Package evlog is vigil's evidence log: an append-only Merkle tree with
// RFC 6962 hashing whose entries are hiding commitments.
//
// Each entry is 32 bytes, SHA-256(salt || statement) ([Commitment]), and its
// leaf hash is the RFC 6962 record hash of those bytes (tlog.RecordHash). The
// tree is stored as golang.org/x/mod/sumdb/tlog's stored hashes, so [Append]
// writes O(log n) hashes per entry inside the caller's database transaction:
// a record and its leaf commit together or not at all.
//
// The log is published read-only as C2SP tlog-tiles ([Handler],
// https://c2sp.org/tlog-tiles) with checkpoints per C2SP tlog-checkpoint and
// signed-note ([Checkpointer]). Inclusion proofs travel in the C2SP
// tlog-proof format ([Proof]); [VerifyProof] checks one offline. Tests check
// all of this against filippo.io/torchwood, code we did not write.
package evlog

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
)

var errCorrupt = vigil.ErrCorrupt

// EntrySize is the size of every log entry: a SHA-256 commitment.
const EntrySize = 32

// A Reader reads a tree. Implementations must give a consistent snapshot for
// the duration of one operation (one database transaction).
type Reader interface {
	// TreeSize returns the number of entries.
	TreeSize() (int64, error)
	// ReadHashes returns the stored hashes at the given indexes
	// (tlog.StoredHashIndex layout). It fails if any is missing.
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
	// ReadEntries returns entries [start, end).
	ReadEntries(start, end int64) ([][]byte, error)
}

// A Writer appends to a tree inside a transaction.
type Writer interface {
	Reader
	// WriteLeaf records entry at index, which must equal the tree size, with
	// the stored hashes to write starting at tlog.StoredHashIndex(0, index).
	// It must return an error wrapping vigil.ErrConflict otherwise.
	WriteLeaf(index int64, entry []byte, hashes []tlog.Hash) error
}

// Append adds entry to the tree in w's transaction and returns its index.
// Appends are serialized by the caller's write transaction.
func Append(w Writer, entry [EntrySize]byte) (int64, error) {
	n, err := w.TreeSize()
	if err != nil {
		return 0, fmt.Errorf("tree size: %w", err)
	}
	hashes, err := tlog.StoredHashes(n, entry[:], tlog.HashReaderFunc(w.ReadHashes))
	if err != nil {
		return 0, fmt.Errorf("compute hashes for leaf %d: %w", n, err)
	}
	if err := w.WriteLeaf(n, entry[:], hashes); err != nil {
		return 0, fmt.Errorf("write leaf %d: %w", n, err)
	}
	return n, nil
}

// TreeHash returns the root hash of the first n entries.
func TreeHash(r Reader, n int64) (tlog.Hash, error) {
	return tlog.TreeHash(n, tlog.HashReaderFunc(r.ReadHashes))
}

// Tree returns the size and root hash of the whole tree.
func Tree(r Reader) (tlog.Tree, error) {
	n, err := r.TreeSize()
	if err != nil {
		return tlog.Tree{}, err
	}
	h, err := TreeHash(r, n)
	if err != nil {
		return tlog.Tree{}, err
	}
	return tlog.Tree{N: n, Hash: h}, nil
}

// Check recomputes every stored hash of the tree from its entries and compares
// it with what is stored, the way fsck would. It returns an error naming the
// first entry or hash that does not match.
func Check(r Reader) error {
	n, err := r.TreeSize()
	if err != nil {
		return err
	}
	const batch = 256
	// Each leaf's stored hashes are computed from its entry and hashes of
	// earlier leaves, which the loop has already checked: by induction, every
	// stored hash is checked against the entries alone.
	hr := tlog.HashReaderFunc(r.ReadHashes)
	for start := int64(0); start < n; start += batch {
		end := min(start+batch, n)
		entries, err := r.ReadEntries(start, end)
		if err != nil {
			return fmt.Errorf("read entries %d-%d: %w", start, end, err)
		}
		if int64(len(entries)) != end-start {
			return fmt.Errorf("read entries %d-%d: got %d", start, end, len(entries))
		}
		for i, e := range entries {
			idx := start + int64(i)
			if len(e) != EntrySize {
				return fmt.Errorf("entry %d: size %d, want %d", idx, len(e), EntrySize)
			}
			hs, err := tlog.StoredHashes(idx, e, hr)
			if err != nil {
				return fmt.Errorf("entry %d: %w", idx, err)
			}
			base := tlog.StoredHashIndex(0, idx)
			want := make([]int64, len(hs))
			for j := range hs {
				want[j] = base + int64(j)
			}
			got, err := r.ReadHashes(want)
			if err != nil {
				return fmt.Errorf("entry %d: read stored hashes: %w", idx, err)
			}
			for j := range hs {
				if got[j] != hs[j] {
					return fmt.Errorf("%w: entry %d: stored hash %d does not match the entries", errCorrupt, idx, want[j])
				}
			}
		}
	}
	return nil
}
