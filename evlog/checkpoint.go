package evlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/atomicfile"
)

// MaxCheckpointSize bounds a signed checkpoint with its signatures.
const MaxCheckpointSize = 16 << 10

// ErrFork is returned by [Checkpointer.Sign] when the tree is not an
// extension of the last checkpoint the log signed: signing would fork the
// log. It happens after restoring an old backup, or if entries were altered.
var ErrFork = errors.New("tree is not consistent with the last signed checkpoint")

// ErrSignature is wrapped by errors about a checkpoint's signatures: missing,
// invalid, by an unknown key, or a malformed signed note.
var ErrSignature = errors.New("checkpoint signature not verified")

// A Checkpoint is the body of a C2SP tlog-checkpoint: origin, size, root hash.
type Checkpoint struct {
	Origin string
	tlog.Tree
}

// Format returns the checkpoint body text (before signatures).
func (c Checkpoint) Format() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.N, base64.StdEncoding.EncodeToString(c.Hash[:]))
}

// ParseCheckpoint parses a checkpoint body (the text of a signed note). Extension
// lines after the root hash are allowed and ignored, per c2sp.org/tlog-checkpoint.
// The root hash must be canonical base64, so one tree has one checkpoint body.
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	if len(text) > MaxCheckpointSize || !strings.HasSuffix(text, "\n") {
		return c, errors.New("malformed checkpoint")
	}
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return c, errors.New("malformed checkpoint: want origin, size and hash lines")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || lines[1] != strconv.FormatInt(n, 10) {
		return c, errors.New("malformed checkpoint: size")
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != lines[2] {
		return c, errors.New("malformed checkpoint: root hash")
	}
	for _, ext := range strings.Split(strings.TrimSuffix(lines[3], "\n"), "\n") {
		if lines[3] != "" && ext == "" {
			return c, errors.New("malformed checkpoint: empty extension line")
		}
	}
	c.Origin, c.N, c.Hash = lines[0], n, tlog.Hash(h)
	return c, nil
}

// OpenCheckpoint verifies a signed checkpoint with v and parses it. The origin
// must equal the verifier's name.
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	if len(signed) > MaxCheckpointSize {
		return Checkpoint{}, errors.New("checkpoint too large")
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("checkpoint origin %q is not the log %q", c.Origin, v.Name())
	}
	return c, nil
}

// A CheckpointStore keeps signed checkpoints in the database.
type CheckpointStore interface {
	Reader
	// PutCheckpoint records a signed checkpoint of the given size.
	PutCheckpoint(size int64, signed []byte) error
	// LatestCheckpoint returns the latest stored checkpoint, or nil.
	LatestCheckpoint() ([]byte, error)
}

// A Checkpointer signs checkpoints and refuses to fork the log. The last
// signed checkpoint is kept in a file outside the database (the anchor); a new
// checkpoint is signed only if the tree extends it. Its methods are safe for
// concurrent use.
type Checkpointer struct {
	// Signer signs checkpoints; its name is the log's origin.
	Signer note.Signer
	// Verifier verifies the anchor; it must match Signer.
	Verifier note.Verifier
	// AnchorPath is the file holding the last signed checkpoint.
	AnchorPath string

	mu sync.Mutex
}

// Anchor returns the last signed checkpoint from the anchor file, or nil if
// none was ever signed.
func (c *Checkpointer) Anchor() ([]byte, error) {
	b, err := os.ReadFile(c.AnchorPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint anchor: %w", err)
	}
	return b, nil
}

// Sign signs a checkpoint of the whole tree in s, stores it in the database
// (through s, which should be a write transaction) and then in the anchor
// file, and returns it. If the tree has not grown since the anchor, it returns
// the anchor unchanged (storing it in s if s lacks it, as after a crash
// between the two writes). It returns an error wrapping [ErrFork] if the tree is
// smaller than the anchor or its first anchor.N entries hash to another root,
// and vigil.ErrSealed if the signer's vault is sealed.
func (c *Checkpointer) Sign(s CheckpointStore) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tree, err := Tree(s)
	if err != nil {
		return nil, fmt.Errorf("tree head: %w", err)
	}
	anchor, err := c.Anchor()
	if err != nil {
		return nil, err
	}
	if anchor != nil {
		prev, err := OpenCheckpoint(anchor, c.Verifier)
		if err != nil {
			return nil, fmt.Errorf("%w: checkpoint anchor %s: %v", vigil.ErrCorrupt, c.AnchorPath, err)
		}
		if tree.N < prev.N {
			return nil, fmt.Errorf("%w: the tree has %d entries but checkpoint %d was signed (hint: was the database restored from an old backup?)", ErrFork, tree.N, prev.N)
		}
		h, err := TreeHash(s, prev.N)
		if err != nil {
			return nil, fmt.Errorf("tree hash at %d: %w", prev.N, err)
		}
		if h != prev.Hash {
			return nil, fmt.Errorf("%w: the first %d entries hash to %s, checkpoint says %s", ErrFork, prev.N, h, prev.Hash)
		}
		if tree.N == prev.N {
			// The anchor is written before the caller's transaction
			// commits: after a crash in between, the database lacks the
			// anchored checkpoint. Store it, so what is published catches up.
			latest, err := s.LatestCheckpoint()
			if err != nil {
				return nil, fmt.Errorf("latest checkpoint: %w", err)
			}
			if !bytes.Equal(latest, anchor) {
				if err := s.PutCheckpoint(prev.N, anchor); err != nil {
					return nil, fmt.Errorf("store checkpoint: %w", err)
				}
			}
			return anchor, nil
		}
	}
	text := Checkpoint{Origin: c.Signer.Name(), Tree: tree}.Format()
	signed, err := note.Sign(&note.Note{Text: text}, c.Signer)
	if err != nil {
		if errors.Is(err, vigil.ErrSealed) {
			return nil, vigil.ErrSealed
		}
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	if err := s.PutCheckpoint(tree.N, signed); err != nil {
		return nil, fmt.Errorf("store checkpoint: %w", err)
	}
	if err := atomicfile.Write(c.AnchorPath, signed, 0o644); err != nil {
		return nil, fmt.Errorf("write checkpoint anchor: %w", err)
	}
	return signed, nil
}

// CheckConsistent checks that the tree in r extends the signed checkpoint
// old, by recomputing the root at old's size from stored hashes.
func CheckConsistent(r Reader, old Checkpoint) error {
	n, err := r.TreeSize()
	if err != nil {
		return err
	}
	if n < old.N {
		return fmt.Errorf("%w: tree has %d entries, checkpoint %d", ErrFork, n, old.N)
	}
	h, err := TreeHash(r, old.N)
	if err != nil {
		return err
	}
	if h != old.Hash {
		return fmt.Errorf("%w: root at %d differs", ErrFork, old.N)
	}
	return nil
}
