package advisory

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"golang.org/x/mod/sumdb/note"
)

// FuzzParse feeds arbitrary text to the advisory and list parsers and to
// Open: nothing panics, and whatever parses re-encodes to the same bytes.
func FuzzParse(f *testing.F) {
	a := sample()
	text, _ := a.Text()
	f.Add(text)
	a.Withdraws = vigil.NewID()
	text, _ = a.Text()
	f.Add(text)
	x := Index{Time: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Entries: []IndexEntry{{ID: a.ID, Status: StatusCurrent}, {ID: a.Withdraws, Status: StatusWithdrawn, Ref: a.ID}}}
	it, _ := x.Text()
	f.Add(it)
	skey, vkey, _ := note.GenerateKey(nil, "example.org/advisories")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	msg, _ := Sign(sample(), s)
	f.Add(msg)
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := Parse(b); err == nil {
			again, err := a.Text()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("parsed but does not re-encode: %v", err)
			}
		}
		if x, err := ParseIndex(b); err == nil {
			again, err := x.Text()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("list parsed but does not re-encode: %v", err)
			}
		}
		Open(b, v)
		OpenIndex(b, v)
	})
}
