package advisory

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
)

// IndexHeader is the first line of the signed list's text.
const IndexHeader = "vigil advisory-index/1"

// Statuses in the signed list.
const (
	StatusCurrent    = "current"    // published and not withdrawn (it may still have expired)
	StatusWithdrawn  = "withdrawn"  // Ref names the withdrawal
	StatusWithdrawal = "withdrawal" // a withdrawal; Ref names what it withdraws
)

// MaxIndexEntries bounds the signed list.
const MaxIndexEntries = 100000

// An Index is the signed list of every advisory, signed anew at each
// publication: whoever holds a recent one learns which advisories were
// withdrawn.
type Index struct {
	Time    time.Time
	Entries []IndexEntry
}

// An IndexEntry is one advisory's line in the list.
type IndexEntry struct {
	ID     vigil.ID
	Status string
	Ref    vigil.ID // zero for StatusCurrent
}

// Text returns the list's note text:
//
//	vigil advisory-index/1
//	time: 2026-12-01T08:00:00Z
//	01JD... current
//	01JC... withdrawn 01JE...
//	01JE... withdrawal 01JC...
func (x Index) Text() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\ntime: %s\n", IndexHeader, ts(x.Time))
	if len(x.Entries) > MaxIndexEntries {
		return nil, fmt.Errorf("%w: more than %d advisories", vigil.ErrInvalid, MaxIndexEntries)
	}
	for _, e := range x.Entries {
		switch {
		case e.ID.IsZero():
			return nil, fmt.Errorf("%w: index entry without an id", vigil.ErrInvalid)
		case e.Status == StatusCurrent && e.Ref.IsZero():
			fmt.Fprintf(&b, "%s %s\n", e.ID, e.Status)
		case (e.Status == StatusWithdrawn || e.Status == StatusWithdrawal) && !e.Ref.IsZero():
			fmt.Fprintf(&b, "%s %s %s\n", e.ID, e.Status, e.Ref)
		default:
			return nil, fmt.Errorf("%w: index entry %s: bad status %q", vigil.ErrInvalid, e.ID, e.Status)
		}
	}
	return b.Bytes(), nil
}

// ParseIndex parses the list's note text; it accepts only what
// [Index.Text] writes.
func ParseIndex(text []byte) (Index, error) {
	fail := func(format string, args ...any) (Index, error) {
		return Index{}, fmt.Errorf("%w list: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if len(text) > MaxIndexEntries*80 {
		return fail("too long")
	}
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if len(lines) < 2 || lines[0] != IndexHeader {
		return fail("first line is not %q", IndexHeader)
	}
	v, ok := strings.CutPrefix(lines[1], "time: ")
	if !ok {
		return fail("no time line")
	}
	var x Index
	var err error
	if x.Time, err = parseTS(v); err != nil {
		return fail("time: %v", err)
	}
	for _, l := range lines[2:] {
		f := strings.Split(l, " ")
		if len(f) < 2 || len(f) > 3 {
			return fail("bad line %q", clip(l))
		}
		var e IndexEntry
		if e.ID, err = vigil.ParseID(f[0]); err != nil {
			return fail("bad id in %q", clip(l))
		}
		e.Status = f[1]
		if len(f) == 3 {
			if e.Ref, err = vigil.ParseID(f[2]); err != nil {
				return fail("bad reference in %q", clip(l))
			}
		}
		x.Entries = append(x.Entries, e)
	}
	again, err := x.Text()
	if err != nil {
		return fail("%v", err)
	}
	if !bytes.Equal(again, text) {
		return fail("not in canonical form")
	}
	return x, nil
}

// SignIndex returns the list as a signed note.
func SignIndex(x Index, s note.Signer) ([]byte, error) {
	text, err := x.Text()
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(text)}, s)
}

// OpenIndex verifies a signed list with the publication key and parses it.
func OpenIndex(msg []byte, v note.Verifier) (Index, error) {
	text, err := openNote(msg, v)
	if err != nil {
		return Index{}, err
	}
	return ParseIndex(text)
}
