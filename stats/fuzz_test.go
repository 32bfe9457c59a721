package stats

import (
	"bytes"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// FuzzParse feeds arbitrary text to the statistics parser and Open:
// nothing panics, and whatever parses re-encodes to the same bytes.
func FuzzParse(f *testing.F) {
	t := sampleTable()
	text, err := t.Text()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text)
	skey, vkey, _ := note.GenerateKey(nil, "example.org/advisories")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	msg, _ := Sign(t, s)
	f.Add(msg)
	f.Fuzz(func(t *testing.T, b []byte) {
		if tb, err := Parse(b); err == nil {
			again, err := tb.Text()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("parsed but does not re-encode: %v", err)
			}
		}
		Open(b, v)
	})
}
