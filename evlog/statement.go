package evlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StatementHeader is the first line of every statement.
const StatementHeader = "vigil.statement/v1"

// SaltSize is the size of the random salt of a commitment.
const SaltSize = 32

// MaxStatementSize bounds a statement's encoding.
const MaxStatementSize = 4096

// A Statement says what a log entry commits to. Its canonical text form
// ([Statement.Marshal]) is what is hashed, with a 32-byte random salt, into the
// entry: SHA-256(salt || statement). The statement and salt stay encrypted
// with the item; only an evidence bundle reveals them.
//
// The text form is line-oriented so a person can read and check it by hand:
//
//	vigil.statement/v1
//	kind item
//	id 0k6z4w3m8hq2v5a9c1d7e3f0gn
//	version 1
//	time 2026-11-25T15:00:00Z
//	sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	size 4
//	type text/plain
//	prev -
type Statement struct {
	Kind      string    // what the entry is: "item", "submission", "audit", ...
	ID        string    // the record's opaque ID
	Version   int64     // the record version, from 1
	Time      time.Time // when it was recorded, UTC, at most second precision
	SHA256    [32]byte  // SHA-256 of the content
	Size      int64     // size of the content in bytes
	MediaType string    // e.g. "application/pdf"; "application/octet-stream" if unknown
	Prev      int64     // leaf index of the previous version, or -1
}

var statementKeys = []string{"kind", "id", "version", "time", "sha256", "size", "type", "prev"}

// Marshal returns the canonical text form. It fails if a field cannot be
// represented (empty, or containing spaces or control characters).
func (s Statement) Marshal() ([]byte, error) {
	for _, f := range []struct{ name, v string }{{"kind", s.Kind}, {"id", s.ID}, {"type", s.MediaType}} {
		if !isToken(f.v) {
			return nil, fmt.Errorf("statement %s %q: want printable ASCII without spaces", f.name, f.v)
		}
	}
	if s.Version < 1 || s.Size < 0 || s.Prev < -1 {
		return nil, errors.New("statement: negative number")
	}
	prev := "-"
	if s.Prev >= 0 {
		prev = strconv.FormatInt(s.Prev, 10)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nkind %s\nid %s\nversion %d\ntime %s\nsha256 %x\nsize %d\ntype %s\nprev %s\n",
		StatementHeader, s.Kind, s.ID, s.Version, s.Time.UTC().Format(time.RFC3339), s.SHA256, s.Size, s.MediaType, prev)
	if b.Len() > MaxStatementSize {
		return nil, errors.New("statement too long")
	}
	return b.Bytes(), nil
}

func isToken(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// ParseStatement parses the canonical text form strictly: every line in
// order, no extra lines, canonical numbers, so that ParseStatement(b).Marshal()
// equals b for every accepted b.
func ParseStatement(b []byte) (Statement, error) {
	var s Statement
	if len(b) > MaxStatementSize {
		return s, errors.New("malformed statement: too long")
	}
	text := string(b)
	if !strings.HasSuffix(text, "\n") {
		return s, errors.New("malformed statement: missing final newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 1+len(statementKeys) || lines[0] != StatementHeader {
		return s, errors.New("malformed statement: want header and 8 lines")
	}
	vals := make([]string, len(statementKeys))
	for i, k := range statementKeys {
		v, ok := strings.CutPrefix(lines[i+1], k+" ")
		if !ok {
			return s, fmt.Errorf("malformed statement: line %d: want %q", i+2, k)
		}
		vals[i] = v
	}
	var err error
	s.Kind, s.ID, s.MediaType = vals[0], vals[1], vals[6]
	if s.Version, err = parseCanonicalInt(vals[2]); err != nil || s.Version < 1 {
		return s, errors.New("malformed statement: version")
	}
	if s.Time, err = time.Parse(time.RFC3339, vals[3]); err != nil {
		return s, errors.New("malformed statement: time")
	}
	h, err := hex.DecodeString(vals[4])
	if err != nil || len(h) != 32 || hex.EncodeToString(h) != vals[4] {
		return s, errors.New("malformed statement: sha256")
	}
	copy(s.SHA256[:], h)
	if s.Size, err = parseCanonicalInt(vals[5]); err != nil {
		return s, errors.New("malformed statement: size")
	}
	s.Prev = -1
	if vals[7] != "-" {
		if s.Prev, err = parseCanonicalInt(vals[7]); err != nil {
			return s, errors.New("malformed statement: prev")
		}
	}
	out, err := s.Marshal()
	if err != nil {
		return s, fmt.Errorf("malformed statement: %w", err)
	}
	if !bytes.Equal(out, b) {
		return s, errors.New("malformed statement: not canonical")
	}
	return s, nil
}

// parseCanonicalInt parses a non-negative decimal with no sign and no leading zeros.
func parseCanonicalInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, errors.New("not a canonical non-negative integer")
	}
	return n, nil
}

// Commitment returns the log entry for a statement: SHA-256(salt || statement).
// It hides the statement: without the salt, nobody can test a guess of it.
func Commitment(salt [SaltSize]byte, statement []byte) [32]byte {
	h := sha256.New()
	h.Write(salt[:])
	h.Write(statement)
	return [32]byte(h.Sum(nil))
}
