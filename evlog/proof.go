package evlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ProofHeader is the first line of a C2SP tlog-proof.
const ProofHeader = "c2sp.org/tlog-proof@v1"

// MaxProofSize bounds an encoded proof: 64 hashes, a checkpoint and extra data.
const MaxProofSize = 64<<10 + MaxCheckpointSize

// A Proof is an offline proof that an entry is in the log, in the C2SP
// tlog-proof format (https://c2sp.org/tlog-proof). For vigil, Extra is the
// salt followed by the statement, so SHA-256(Extra) is the log entry.
type Proof struct {
	Extra      []byte // nil if the proof has no extra line
	Index      int64
	Path       tlog.RecordProof
	Checkpoint []byte // the signed checkpoint, verbatim
}

// Marshal encodes p per c2sp.org/tlog-proof@v1.
func (p Proof) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ProofHeader + "\n")
	if p.Extra != nil {
		b.WriteString("extra " + base64.StdEncoding.EncodeToString(p.Extra) + "\n")
	}
	fmt.Fprintf(&b, "index %d\n", p.Index)
	for _, h := range p.Path {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ParseProof decodes a proof strictly: canonical base64 and numbers, at most
// 63 path hashes. It does not verify anything; see [VerifyProof].
func ParseProof(b []byte) (Proof, error) {
	var p Proof
	if len(b) > MaxProofSize {
		return p, errors.New("malformed proof: too large")
	}
	rest, ok := strings.CutPrefix(string(b), ProofHeader+"\n")
	if !ok {
		return p, errors.New("malformed proof: missing " + ProofHeader + " header")
	}
	line := func() (string, error) {
		l, r, ok := strings.Cut(rest, "\n")
		if !ok {
			return "", errors.New("malformed proof: truncated")
		}
		rest = r
		return l, nil
	}
	l, err := line()
	if err != nil {
		return p, err
	}
	if e, ok := strings.CutPrefix(l, "extra "); ok {
		p.Extra, err = base64.StdEncoding.Strict().DecodeString(e)
		if err != nil || base64.StdEncoding.EncodeToString(p.Extra) != e {
			return p, errors.New("malformed proof: extra is not canonical base64")
		}
		if l, err = line(); err != nil {
			return p, err
		}
	}
	s, ok := strings.CutPrefix(l, "index ")
	if !ok {
		return p, errors.New("malformed proof: want index line")
	}
	if p.Index, err = parseCanonicalInt(s); err != nil {
		return p, errors.New("malformed proof: index")
	}
	for {
		if l, err = line(); err != nil {
			return p, err
		}
		if l == "" {
			break
		}
		h, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != l {
			return p, fmt.Errorf("malformed proof: path hash %d", len(p.Path))
		}
		if len(p.Path) == 63 {
			return p, errors.New("malformed proof: too many path hashes")
		}
		p.Path = append(p.Path, tlog.Hash(h))
	}
	if rest == "" {
		return p, errors.New("malformed proof: missing checkpoint")
	}
	p.Checkpoint = []byte(rest)
	return p, nil
}

// A ProofError says which part of a proof failed to verify.
type ProofError struct {
	Part string // "format", "checkpoint signature", "checkpoint", "extra", "inclusion proof"
	Err  error
}

func (e *ProofError) Error() string { return e.Part + ": " + e.Err.Error() }
func (e *ProofError) Unwrap() error { return e.Err }

// VerifyProof checks, offline, that the entry is in the log signed by v:
// the checkpoint's signature and origin, then the inclusion path from the
// entry's leaf hash at p.Index to the checkpoint's root. It returns the
// verified checkpoint, or a *[ProofError] naming the failing part.
func VerifyProof(b []byte, v note.Verifier, entry [EntrySize]byte) (Proof, Checkpoint, error) {
	p, err := ParseProof(b)
	if err != nil {
		return p, Checkpoint{}, &ProofError{"format", err}
	}
	c, err := OpenCheckpoint(p.Checkpoint, v)
	if err != nil {
		if errors.Is(err, ErrSignature) {
			return p, c, &ProofError{"checkpoint signature", err}
		}
		return p, c, &ProofError{"checkpoint", err}
	}
	if p.Index >= c.N {
		return p, c, &ProofError{"inclusion proof", fmt.Errorf("index %d is outside the checkpoint's %d entries", p.Index, c.N)}
	}
	if err := tlog.CheckRecord(p.Path, c.N, c.Hash, p.Index, tlog.RecordHash(entry[:])); err != nil {
		return p, c, &ProofError{"inclusion proof", fmt.Errorf("entry %d does not hash to the checkpoint's root: %v", p.Index, err)}
	}
	return p, c, nil
}

// Prove returns the inclusion proof of entry index in the first n entries of r,
// with the given signed checkpoint (of size n) and extra data.
func Prove(r Reader, index, n int64, signedCheckpoint, extra []byte) (Proof, error) {
	path, err := tlog.ProveRecord(n, index, tlog.HashReaderFunc(r.ReadHashes))
	if err != nil {
		return Proof{}, fmt.Errorf("prove entry %d in tree %d: %w", index, n, err)
	}
	return Proof{Extra: extra, Index: index, Path: path, Checkpoint: signedCheckpoint}, nil
}
