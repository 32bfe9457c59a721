// Package advisory makes, signs, publishes and checks advisories: short
// public warnings ("leave district X before Friday") that anyone can check
// on a phone, offline, with the publication key alone.
//
// # Format
//
// An advisory is a C2SP signed note (c2sp.org/signed-note) signed with the
// data directory's publication key (vault.AdvisoryKeyName, published as
// advisory_vkey in /.well-known/vigil.json). Its text is
//
//	vigil advisory/1
//	id: 01JD...                        a record ID, also the file name
//	issued: 2026-12-01T08:00:00Z
//	valid: 2026-12-01T08:00:00Z .. 2026-12-08T08:00:00Z
//	withdraws: 01JC...                 only in a withdrawal
//
//	[en]
//	Leave the Kirovsky district before Friday.
//
//	[ru]
//	Покиньте Кировский район до пятницы.
//
// followed by the signature lines. Times are UTC to the second. Each
// language section is "[TAG]" on a line of its own and the text's lines;
// sections are separated by one empty line. [Parse] accepts exactly what
// [Advisory.Text] writes (it re-encodes and compares), so one text has one
// reading. Any program that verifies signed notes checks an advisory:
// golang.org/x/mod/sumdb/note's Open with the verifier key does
// (TestNoteOpen).
//
// # Withdrawal
//
// A withdrawal is itself a signed advisory whose "withdraws:" line names
// the withdrawn one. A copy of the withdrawn advisory stays valid as a
// signature (signatures cannot be revoked), so a verifier learns of a
// withdrawal from the withdrawal note itself or from the signed list: the
// [Index], a signed note naming every advisory and whether it is current
// or withdrawn, served at /advisories/index.txt and inside
// /advisories.json. [Check] refuses an advisory the list marks withdrawn,
// and one outside its validity period. A phone that only ever sees the
// advisory cannot learn of its withdrawal: docs/publication.md says so.
package advisory

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
)

// Header is the first line of every advisory's text.
const Header = "vigil advisory/1"

// Limits on an advisory.
const (
	MaxTextBytes = 4000 // per language
	MaxLanguages = 8
)

// An Advisory is a signed public warning.
type Advisory struct {
	ID         vigil.ID
	Issued     time.Time
	ValidFrom  time.Time
	ValidUntil time.Time
	// Withdraws is the advisory this one withdraws; zero for an ordinary
	// advisory.
	Withdraws vigil.ID
	// Texts are the warning in one or more languages, in the order shown.
	Texts []Text
}

// A Text is an advisory in one language.
type Text struct {
	Lang string `json:"lang"` // "en", "ru", ...
	Body string `json:"text"`
}

// Validate checks the advisory; errors wrap [vigil.ErrInvalid].
func (a Advisory) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: advisory: %s", vigil.ErrInvalid, fmt.Sprintf(format, args...))
	}
	if a.ID.IsZero() {
		return bad("no id")
	}
	if a.Issued.IsZero() || a.ValidFrom.IsZero() || a.ValidUntil.IsZero() {
		return bad("issued, valid from and valid until are required")
	}
	if !a.ValidUntil.After(a.ValidFrom) {
		return bad("the validity period ends before it starts")
	}
	if a.Issued.Year() < 2000 || a.ValidUntil.Year() > 9999 {
		return bad("times out of range")
	}
	if len(a.Texts) == 0 {
		return bad("no text: give at least one language")
	}
	if len(a.Texts) > MaxLanguages {
		return bad("more than %d languages", MaxLanguages)
	}
	seen := map[string]bool{}
	for _, t := range a.Texts {
		if !isLang(t.Lang) {
			return bad("language %q: want a tag such as en or ru", t.Lang)
		}
		if seen[t.Lang] {
			return bad("language %s given twice", t.Lang)
		}
		seen[t.Lang] = true
		if err := checkBody(t.Body); err != nil {
			return bad("text in %s: %v", t.Lang, err)
		}
	}
	return nil
}

func isLang(s string) bool {
	if len(s) < 2 || len(s) > 8 {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// checkBody accepts text that survives a signed note and a messenger: valid
// UTF-8, no control or bidirectional formatting characters except newline,
// no empty lines (they separate sections), no line that looks like a
// section header, no leading or trailing space on a line.
func checkBody(b string) error {
	switch {
	case strings.TrimSpace(b) == "":
		return errors.New("empty")
	case len(b) > MaxTextBytes:
		return fmt.Errorf("longer than %d bytes", MaxTextBytes)
	case !utf8.ValidString(b):
		return errors.New("not valid UTF-8")
	}
	for _, line := range strings.Split(b, "\n") {
		if line == "" {
			return errors.New("has an empty line (use one paragraph per line, without blank lines)")
		}
		if line != strings.TrimSpace(line) {
			return errors.New("a line starts or ends with space")
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			return errors.New("a line looks like a language header [..]")
		}
		if strings.HasPrefix(line, "— ") {
			return errors.New("a line starts with the signature mark \"— \"")
		}
		for _, r := range line {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar {
				return fmt.Errorf("has a control or formatting character U+%04X", r)
			}
		}
	}
	return nil
}

// Current reports whether the advisory is in its validity period at now.
func (a Advisory) Current(now time.Time) bool {
	return !now.Before(a.ValidFrom) && now.Before(a.ValidUntil)
}

// Text returns the advisory's note text (without signatures).
func (a Advisory) Text() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nid: %s\nissued: %s\nvalid: %s .. %s\n", Header, a.ID, ts(a.Issued), ts(a.ValidFrom), ts(a.ValidUntil))
	if !a.Withdraws.IsZero() {
		fmt.Fprintf(&b, "withdraws: %s\n", a.Withdraws)
	}
	for _, t := range a.Texts {
		fmt.Fprintf(&b, "\n[%s]\n%s\n", t.Lang, t.Body)
	}
	return b.Bytes(), nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseTS(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || ts(t) != s {
		return time.Time{}, fmt.Errorf("time %q: want UTC like 2026-12-01T08:00:00Z", s)
	}
	return t.UTC(), nil
}

// ErrFormat is wrapped by every error of [Parse] and [ParseIndex].
var ErrFormat = errors.New("not a vigil advisory")

// Parse parses an advisory's note text (the part before the signatures).
// It accepts only what [Advisory.Text] writes.
func Parse(text []byte) (Advisory, error) {
	fail := func(format string, args ...any) (Advisory, error) {
		return Advisory{}, fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if len(text) > MaxLanguages*(MaxTextBytes+16)+512 {
		return fail("too long")
	}
	head, body, _ := bytes.Cut(text, []byte("\n\n"))
	lines := strings.Split(string(head), "\n")
	if len(lines) < 4 || lines[0] != Header {
		return fail("first line is not %q", Header)
	}
	var a Advisory
	field := func(line, name string) (string, bool) {
		return strings.CutPrefix(line, name+": ")
	}
	v, ok := field(lines[1], "id")
	if !ok {
		return fail("no id line")
	}
	var err error
	if a.ID, err = vigil.ParseID(v); err != nil {
		return fail("id: %v", err)
	}
	if v, ok = field(lines[2], "issued"); !ok {
		return fail("no issued line")
	}
	if a.Issued, err = parseTS(v); err != nil {
		return fail("issued: %v", err)
	}
	if v, ok = field(lines[3], "valid"); !ok {
		return fail("no valid line")
	}
	from, until, ok := strings.Cut(v, " .. ")
	if !ok {
		return fail("valid: want FROM .. UNTIL")
	}
	if a.ValidFrom, err = parseTS(from); err != nil {
		return fail("valid from: %v", err)
	}
	if a.ValidUntil, err = parseTS(until); err != nil {
		return fail("valid until: %v", err)
	}
	switch {
	case len(lines) == 5:
		if v, ok = field(lines[4], "withdraws"); !ok {
			return fail("unknown line %q", clip(lines[4]))
		}
		if a.Withdraws, err = vigil.ParseID(v); err != nil {
			return fail("withdraws: %v", err)
		}
	case len(lines) > 5:
		return fail("unknown header lines")
	}
	for _, sec := range strings.Split(string(body), "\n\n") {
		hdr, rest, _ := strings.Cut(sec, "\n")
		if len(hdr) < 3 || hdr[0] != '[' || hdr[len(hdr)-1] != ']' {
			return fail("language section without a [TAG] line")
		}
		a.Texts = append(a.Texts, Text{Lang: hdr[1 : len(hdr)-1], Body: strings.TrimSuffix(rest, "\n")})
	}
	again, err := a.Text()
	if err != nil {
		return Advisory{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if !bytes.Equal(again, text) {
		return fail("not in canonical form")
	}
	return a, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Sign returns the advisory as a signed note.
func Sign(a Advisory, s note.Signer) ([]byte, error) {
	text, err := a.Text()
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(text)}, s)
}

// Errors of [Open] and [Check].
var (
	ErrSignature = errors.New("the signature does not verify: the text was changed, or it was not signed by this key")
	ErrWrongKey  = errors.New("not signed by the given key")
	ErrWithdrawn = errors.New("withdrawn")
	ErrExpired   = errors.New("no longer valid")
	ErrNotYet    = errors.New("not valid yet")
)

// Open verifies a signed advisory with the publication key and parses it.
func Open(msg []byte, v note.Verifier) (Advisory, error) {
	text, err := openNote(msg, v)
	if err != nil {
		return Advisory{}, err
	}
	return Parse(text)
}

// openNote verifies a signed note with v and returns its text, with an
// error that says plainly what is wrong.
func openNote(msg []byte, v note.Verifier) ([]byte, error) {
	msg = normalize(msg)
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unknown *note.UnverifiedNoteError
		switch {
		case errors.As(err, &unknown):
			return nil, fmt.Errorf("%w %s (signed by %s)", ErrWrongKey, v.Name(), signerNames(unknown.Note))
		case err.Error() == "malformed note": // x/mod/sumdb/note does not export it
			return nil, fmt.Errorf("%w: not a signed note (the text and its signature lines must be copied whole)", ErrFormat)
		case errors.As(err, new(*note.InvalidSignatureError)):
			return nil, ErrSignature
		}
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return []byte(n.Text), nil
}

func signerNames(n *note.Note) string {
	var names []string
	for _, s := range n.UnverifiedSigs {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		return "nobody"
	}
	return strings.Join(names, ", ")
}

// normalize undoes what messengers do to pasted text: Windows line ends
// and a missing final newline. It changes nothing else, so a changed
// character still fails.
func normalize(msg []byte) []byte {
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	if len(msg) > 0 && msg[len(msg)-1] != '\n' {
		msg = append(slices.Clip(msg), '\n')
	}
	return msg
}

// Check says whether a verified advisory may be acted on at now: it must
// be in its validity period and, if idx (a verified signed list) is not
// nil, not withdrawn in it. A withdrawal is never "current" itself.
func Check(a Advisory, now time.Time, idx *Index) error {
	if idx != nil {
		for _, e := range idx.Entries {
			if e.ID == a.ID && e.Status == StatusWithdrawn {
				return fmt.Errorf("%w: advisory %s was withdrawn by advisory %s (signed list of %s)", ErrWithdrawn, a.ID, e.Ref, ts(idx.Time))
			}
		}
	}
	switch {
	case now.Before(a.ValidFrom):
		return fmt.Errorf("%w: advisory %s is valid from %s", ErrNotYet, a.ID, ts(a.ValidFrom))
	case !now.Before(a.ValidUntil):
		return fmt.Errorf("%w: advisory %s was valid until %s", ErrExpired, a.ID, ts(a.ValidUntil))
	}
	return nil
}
