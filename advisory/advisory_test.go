package advisory

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
)

func sample() Advisory {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	return Advisory{ID: vigil.NewID(), Issued: t0, ValidFrom: t0, ValidUntil: t0.Add(72 * time.Hour),
		Texts: []Text{{Lang: "en", Body: "Leave the Kirovsky district before Friday."}, {Lang: "ru", Body: "Покиньте Кировский район до пятницы.\nВторая строка."}}}
}

func keys(t *testing.T, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return s, v
}

// TestNoteOpen: a signed advisory verifies with golang.org/x/mod's own
// note.Open and the verifier key alone, and its text is the advisory.
func TestNoteOpen(t *testing.T) {
	s, v := keys(t, "example.org/advisories")
	a := sample()
	msg, err := Sign(a, s)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("x/mod note.Open: %v", err)
	}
	if !strings.Contains(n.Text, "Покиньте Кировский район до пятницы.") || !strings.HasPrefix(n.Text, Header+"\n") {
		t.Fatalf("text: %q", n.Text)
	}
	got, err := Open(msg, v)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || !got.ValidUntil.Equal(a.ValidUntil) || len(got.Texts) != 2 || got.Texts[1] != a.Texts[1] {
		t.Fatalf("round trip: %+v", got)
	}
	// Pasted through a messenger: CRLF and no final newline.
	pasted := bytes.TrimSuffix(bytes.ReplaceAll(msg, []byte("\n"), []byte("\r\n")), []byte("\r\n"))
	if _, err := Open(pasted, v); err != nil {
		t.Fatalf("pasted copy: %v", err)
	}
}

// TestTampered: one changed character, a wrong key, a truncated copy each
// fail, with messages that say which.
func TestTampered(t *testing.T) {
	s, v := keys(t, "example.org/advisories")
	_, other := keys(t, "example.org/advisories")
	_, otherName := keys(t, "evil.example/advisories")
	msg, _ := Sign(sample(), s)
	changed := bytes.Replace(msg, []byte("Friday"), []byte("Fridax"), 1)
	if _, err := Open(changed, v); !errors.Is(err, ErrSignature) {
		t.Errorf("one changed character: %v, want ErrSignature", err)
	}
	cyr := bytes.Replace(msg, []byte("пятницы"), []byte("субботы"), 1)
	if _, err := Open(cyr, v); !errors.Is(err, ErrSignature) {
		t.Errorf("changed Cyrillic: %v", err)
	}
	if _, err := Open(msg, other); !errors.Is(err, ErrWrongKey) && !errors.Is(err, ErrSignature) {
		t.Errorf("another key of the same name: %v", err)
	}
	if _, err := Open(msg, otherName); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "example.org/advisories") {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := Open(msg[:len(msg)/2], v); err == nil {
		t.Error("half a note verified")
	}
	// A signature over a non-canonical text is refused too.
	bad := strings.Replace(string(mustText(t, sample())), "\n\n[en]", "\n\n\n[en]", 1)
	m2, _ := note.Sign(&note.Note{Text: bad}, s)
	if _, err := Open(m2, v); !errors.Is(err, ErrFormat) {
		t.Errorf("non-canonical text: %v", err)
	}
}

func mustText(t *testing.T, a Advisory) []byte {
	b, err := a.Text()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWithdrawnShownAsCurrent: an advisory that the signed list marks
// withdrawn fails Check, as does one outside its validity; a forged list
// does not verify.
func TestWithdrawnShownAsCurrent(t *testing.T) {
	s, v := keys(t, "example.org/advisories")
	a := sample()
	w := Advisory{ID: vigil.NewID(), Issued: a.Issued.Add(time.Hour), ValidFrom: a.Issued.Add(time.Hour), ValidUntil: a.ValidUntil, Withdraws: a.ID, Texts: []Text{{Lang: "en", Body: "Withdrawn."}}}
	x := Index{Time: w.Issued, Entries: []IndexEntry{{ID: a.ID, Status: StatusWithdrawn, Ref: w.ID}, {ID: w.ID, Status: StatusWithdrawal, Ref: a.ID}}}
	msg, err := SignIndex(x, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenIndex(msg, v)
	if err != nil {
		t.Fatal(err)
	}
	now := a.Issued.Add(2 * time.Hour)
	if err := Check(a, now, nil); err != nil {
		t.Fatalf("without the list: %v", err)
	}
	if err := Check(a, now, &got); !errors.Is(err, ErrWithdrawn) || !strings.Contains(err.Error(), w.ID.String()) {
		t.Fatalf("withdrawn shown as current: %v", err)
	}
	if err := Check(a, a.ValidUntil, nil); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	if err := Check(a, a.ValidFrom.Add(-time.Second), nil); !errors.Is(err, ErrNotYet) {
		t.Fatalf("not yet: %v", err)
	}
	// Someone rewrites the list to say "current".
	forged := bytes.Replace(msg, []byte(a.ID.String()+" withdrawn "+w.ID.String()), []byte(a.ID.String()+" current"), 1)
	if _, err := OpenIndex(forged, v); !errors.Is(err, ErrSignature) {
		t.Fatalf("forged list: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for name, mod := range map[string]func(*Advisory){
		"no text":          func(a *Advisory) { a.Texts = nil },
		"empty line":       func(a *Advisory) { a.Texts[0].Body = "a\n\nb" },
		"header lookalike": func(a *Advisory) { a.Texts[0].Body = "[ru]" },
		"bidi":             func(a *Advisory) { a.Texts[0].Body = "a\u202eb" },
		"control":          func(a *Advisory) { a.Texts[0].Body = "a\x07" },
		"signature mark":   func(a *Advisory) { a.Texts[0].Body = "— x y" },
		"bad lang":         func(a *Advisory) { a.Texts[0].Lang = "EN" },
		"twice":            func(a *Advisory) { a.Texts[1].Lang = "en" },
		"backwards":        func(a *Advisory) { a.ValidUntil = a.ValidFrom },
		"too long":         func(a *Advisory) { a.Texts[0].Body = strings.Repeat("x", MaxTextBytes+1) },
	} {
		a := sample()
		mod(&a)
		if _, err := a.Text(); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAtom: the feed is well-formed XML in the Atom namespace with the
// elements RFC 4287 requires (feed id, title, updated, author; entry id,
// title, updated), and each entry's content is the signed note.
func TestAtom(t *testing.T) {
	s, _ := keys(t, "example.org/advisories")
	a := sample()
	a.Texts[0].Body = "Leave <now> & \"quickly\""
	msg, _ := Sign(a, s)
	b, err := Atom([]Published{{Advisory: a, Note: msg}}, "https://example.org", "Watch & <co>")
	if err != nil {
		t.Fatal(err)
	}
	checkAtom(t, b, [][]byte{msg})
}

// checkAtom parses b with encoding/xml, token by token (so any
// well-formedness error is caught), then checks the Atom structure.
func checkAtom(t *testing.T, b []byte, notes [][]byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
	}
	var f struct {
		XMLName xml.Name
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Author  []struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Content struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.XMLName.Space != "http://www.w3.org/2005/Atom" || f.XMLName.Local != "feed" {
		t.Fatalf("root %v", f.XMLName)
	}
	if f.ID == "" || f.Title == "" || len(f.Author) != 1 || f.Author[0].Name == "" {
		t.Fatalf("feed metadata missing: %+v", f)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Fatalf("feed updated: %v", err)
	}
	if len(f.Entries) != len(notes) {
		t.Fatalf("%d entries, want %d", len(f.Entries), len(notes))
	}
	for i, e := range f.Entries {
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.ID == "" || e.Title == "" {
			t.Fatalf("entry %d: %+v", i, e)
		}
		if e.Content.Type != "text" || e.Content.Body != string(notes[i]) {
			t.Fatalf("entry %d content is not the signed note", i)
		}
	}
}
