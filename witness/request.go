package witness

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// MaxProofLines is the most consistency proof lines a request may carry
// (c2sp.org/tlog-witness: "The client MUST NOT send more than 63").
const MaxProofLines = 63

// MaxRequestSize bounds an add-checkpoint body: the old size line, 63 proof
// lines and a checkpoint with its signatures.
const MaxRequestSize = 64<<10 + 16<<10

// An AddCheckpoint is the body of a tlog-witness add-checkpoint request.
type AddCheckpoint struct {
	OldSize    int64          // size of the checkpoint the witness last cosigned
	Proof      tlog.TreeProof // consistency proof from OldSize to the checkpoint's size
	Checkpoint []byte         // the signed checkpoint note, verbatim
}

// ErrMalformed is wrapped by every error of [ParseAddCheckpoint].
var ErrMalformed = errors.New("malformed add-checkpoint request")

// ParseAddCheckpoint decodes an add-checkpoint request body strictly: the
// old size in canonical decimal, at most [MaxProofLines] hashes in canonical
// base64, an empty line, then a non-empty checkpoint note ending in a newline.
// Every accepted body b satisfies Marshal(ParseAddCheckpoint(b)) == b, so
// one request has one encoding. It does not verify the checkpoint or the
// proof; the [Server] does.
func ParseAddCheckpoint(b []byte) (AddCheckpoint, error) {
	var r AddCheckpoint
	if len(b) > MaxRequestSize {
		return r, fmt.Errorf("%w: body larger than %d bytes", ErrMalformed, MaxRequestSize)
	}
	line, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return r, fmt.Errorf("%w: no old size line", ErrMalformed)
	}
	num, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok {
		return r, fmt.Errorf("%w: first line is not \"old <size>\"", ErrMalformed)
	}
	n, err := parseSize(num)
	if err != nil {
		return r, fmt.Errorf("%w: old size: %v", ErrMalformed, err)
	}
	r.OldSize = n
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return r, fmt.Errorf("%w: no empty line before the checkpoint", ErrMalformed)
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == MaxProofLines {
			return r, fmt.Errorf("%w: more than %d proof lines", ErrMalformed, MaxProofLines)
		}
		h, err := parseHash(line)
		if err != nil {
			return r, fmt.Errorf("%w: proof line %d: %v", ErrMalformed, len(r.Proof)+1, err)
		}
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 || rest[len(rest)-1] != '\n' {
		return r, fmt.Errorf("%w: checkpoint missing or not newline-terminated", ErrMalformed)
	}
	r.Checkpoint = rest
	return r, nil
}

// Marshal encodes r as an add-checkpoint request body.
func (r AddCheckpoint) Marshal() []byte {
	b := fmt.Appendf(nil, "old %d\n", r.OldSize)
	for _, h := range r.Proof {
		b = base64.StdEncoding.AppendEncode(b, h[:])
		b = append(b, '\n')
	}
	b = append(b, '\n')
	return append(b, r.Checkpoint...)
}

// parseSize parses a tree size in canonical ASCII decimal: digits only, no
// leading zeroes except "0" itself, at most 2^63-1.
func parseSize(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 19 {
		return 0, errors.New("not a decimal size")
	}
	if b[0] == '0' && len(b) > 1 {
		return 0, errors.New("leading zero")
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("not a decimal size")
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, errors.New("size out of range")
	}
	return n, nil
}

// parseHash decodes a hash in canonical standard base64 (padded, zero
// trailing bits), so each hash has exactly one encoding.
func parseHash(b []byte) (tlog.Hash, error) {
	var h tlog.Hash
	if len(b) != base64.StdEncoding.EncodedLen(len(h)) {
		return h, errors.New("not a base64 SHA-256 hash")
	}
	// Decode needs room for DecodedLen bytes (33 for 44 characters without
	// padding), or it writes past the end: found by FuzzParseAddCheckpoint.
	var buf [33]byte
	n, err := base64.StdEncoding.Strict().Decode(buf[:], b)
	if err != nil || n != len(h) {
		return h, errors.New("not a base64 SHA-256 hash")
	}
	copy(h[:], buf[:n])
	return h, nil
}
