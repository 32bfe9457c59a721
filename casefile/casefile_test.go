package casefile_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/casefile"
)

// docExample returns the ```json block of docs/case-format.md.
func docExample(tb testing.TB) []byte {
	tb.Helper()
	md, err := os.ReadFile("../docs/case-format.md")
	if err != nil {
		tb.Fatalf("read doc: %v", err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(md)
	if m == nil {
		tb.Fatal("docs/case-format.md has no ```json block")
	}
	return m[1]
}

// mustParse parses b or fails tb with every problem.
func mustParse(tb testing.TB, b []byte) *casefile.File {
	tb.Helper()
	f, err := casefile.Parse(bytes.NewReader(b), casefile.Options{})
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return f
}

// problemLines returns "path: message" for each problem of err.
func problemLines(tb testing.TB, err error) []string {
	tb.Helper()
	var probs *casefile.Problems
	if !errors.As(err, &probs) {
		tb.Fatalf("error %v is not *casefile.Problems", err)
	}
	if !errors.Is(err, vigil.ErrInvalid) {
		tb.Errorf("error %v does not wrap vigil.ErrInvalid", err)
	}
	var out []string
	for _, p := range probs.List {
		out = append(out, p.String())
	}
	return out
}

// TestDocExample checks that the example in docs/case-format.md parses,
// and holds the case the doc describes.
func TestDocExample(t *testing.T) {
	f := mustParse(t, docExample(t))
	if len(f.Acts) != 2 || len(f.Claims) != 5 || len(f.Places) != 2 || len(f.Parties) != 4 || len(f.Sources) != 4 || len(f.Persons) != 2 || len(f.Incidents) != 1 {
		t.Errorf("example has %d places, %d parties, %d sources, %d persons, %d incidents, %d acts, %d claims",
			len(f.Places), len(f.Parties), len(f.Sources), len(f.Persons), len(f.Incidents), len(f.Acts), len(f.Claims))
	}
	stances := map[vigil.Stance]int{}
	for _, c := range f.Claims {
		stances[c.Stance]++
	}
	if stances[vigil.PartiallyAffirms] != 1 || stances[vigil.Denies] != 1 {
		t.Errorf("example stances %v; want a partial confirmation and a denial", stances)
	}
}

// minimal is a valid file with one record of each kind; the rows of
// TestParseHostile change it.
const minimal = `{"format": "vigil-case/1",
 "places": [{"key": "town", "names": {"en": "Town"}}, {"key": "region", "names": {"en": "Region"}}],
 "parties": [{"key": "police", "name": "Police"}, {"key": "ministry", "name": "Ministry"}],
 "sources": [{"key": "src", "name": "Hotline", "type": "ngo", "reliability": "B"}],
 "persons": [{"key": "p1", "pseudonym": "A"}],
 "incidents": [{"key": "inc", "title": "Wave"}],
 "acts": [{"key": "act", "incident": "inc", "type": "arbitrary_detention", "victims": {"min": 1, "max": 2}}],
 "claims": [{"key": "c1", "act": "act", "source": "src", "stance": "affirms", "credibility": 2}]}`

// with returns minimal with old replaced by new; it panics if old is not
// in minimal, so a row cannot silently test the valid file.
func with(pairs ...string) string {
	s := minimal
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("minimal has no " + pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// TestParseHostile feeds Parse hostile and broken files and checks that it
// refuses each with a problem naming the JSON path. Each want entry is a
// path and a part of the message; every one must be reported.
func TestParseHostile(t *testing.T) {
	const id = "at5f1wgxp2pac9xk7wn4teccc0"
	for _, test := range []struct {
		name string
		in   string
		want []string // "path: message part"; nil means valid
	}{
		{"valid", minimal, nil},
		{"script injection is inert data", with(`"title": "Wave"`, `"title": "<script>alert(1)</script>"`,
			`"name": "Hotline"`, `"name": "=HYPERLINK(\"http://x\")"`), nil},
		{"evidence and submissions", with(`"credibility": 2`, `"credibility": 2, "evidence": ["`+id+`"], "submissions": ["`+id+`"]`), nil},

		// The JSON itself.
		{"empty input", "", []string{"$: empty input"}},
		{"not an object", "[]", []string{"$: want an object, got an array"}},
		{"syntax error", `{"format": "vigil-case/1",}`, []string{"$: malformed JSON"}},
		{"truncated", minimal[:len(minimal)/2], []string{"$: "}},
		{"trailing data", minimal + `{}`, []string{"$: data after the end"}},
		{"trailing garbage", minimal + `x`, []string{"$: data after the end"}},
		{"invalid UTF-8", with(`"pseudonym": "A"`, "\"pseudonym\": \"A\xff\""), []string{"$: not valid UTF-8"}},
		{"truncated UTF-8 at end", minimal + " \xd0", []string{"$: not valid UTF-8"}},
		{"deep nesting", with(`"format": "vigil-case/1",`, `"format": "vigil-case/1", "deep": `+strings.Repeat("[", 100_000)), []string{"$: nested deeper than 64"}},
		{"deep nesting at the top", strings.Repeat("[", 100_000), []string{"$: nested deeper than 64"}},
		{"huge token", with(`"title": "Wave"`, `"title": "`+strings.Repeat("x", 2<<20)+`"`), []string{"$: a string or other token longer than"}},

		// Types, members, null.
		{"wrong type: credibility as string", with(`"credibility": 2`, `"credibility": "2"`), []string{"$.claims[0].credibility: want an integer, got a string"}},
		{"wrong type: victims.min a fraction", with(`"min": 1`, `"min": 1.5`), []string{"$.acts[0].victims.min: not an integer in range"}},
		{"wrong type: number out of range", with(`"credibility": 2`, `"credibility": 1e400`), []string{"$.claims[0].credibility: not an integer in range"}},
		{"wrong type: names as array", with(`"names": {"en": "Town"}`, `"names": ["Town"]`), []string{"$.places[0].names: want an object, got an array"}},
		{"wrong type: acts as object", with(`"acts": [`, `"acts": {"x": [`, `"max": 2}}]`, `"max": 2}}]}`), []string{"$.acts: want an array, got an object"}},
		{"wrong type: bool", with(`"pseudonym": "A"`, `"pseudonym": true`), []string{"$.persons[0].pseudonym: want a string, got true or false"}},
		{"null", with(`"title": "Wave"`, `"title": "Wave", "place": null`), []string{"$.incidents[0].place: null is not allowed"}},
		{"unknown member at the top", with(`"format": "vigil-case/1",`, `"format": "vigil-case/1", "extra": {"a": [1]},`), []string{"$.extra: unknown member"}},
		{"unknown member with a hostile name", with(`"pseudonym": "A"`, `"pseudonym": "A", "<img src=x onerror=alert(1)>": 1`), []string{`$.persons[0]["<img src=x onerror=alert(1)>"]: unknown member`}},
		{"every problem reported", with(`"victims"`, `"victim": 1, "victims"`, `"act": "act"`, `"act": "a-17"`, `"reliability": "B"`, `"reliability": "G"`),
			[]string{"$.acts[0].victim: unknown member", `$.claims[0].act: no act with key "a-17"`, "$.sources[0].reliability: not one of A to F"}},
		{"duplicate member", with(`"key": "act",`, `"key": "act", "key": "act2",`), []string{"$.acts[0].key: member given twice"}},
		{"duplicate map member", with(`{"en": "Town"}`, `{"en": "Town", "en": "Village"}`), []string{"$.places[0].names.en: member given twice"}},

		// Format and keys.
		{"other format", with(`"vigil-case/1"`, `"vigil-case/2"`), []string{`$.format: not "vigil-case/1"`}},
		{"no format", with(`"format": "vigil-case/1",`, ``), []string{"$.format: missing"}},
		{"missing key", with(`"key": "p1", `, ``), []string{"$.persons[0].key: missing"}},
		{"duplicate key in one array", with(`"key": "ministry"`, `"key": "police"`), []string{`$.parties[1].key: key "police" already used by $.parties[0]`}},
		{"duplicate key across arrays", with(`"key": "ministry"`, `"key": "town"`), []string{`$.parties[1].key: key "town" already used by $.places[0]`}},
		{"key too long", with(`"key": "p1"`, `"key": "`+strings.Repeat("k", 201)+`"`), []string{"$.persons[0].key: longer than 200 bytes"}},
		{"key with ;", with(`"key": "p1"`, `"key": "p;1"`), []string{"$.persons[0].key: contains ;"}},
		{"key with a control character", with(`"key": "p1"`, `"key": "p\u00011"`), []string{"$.persons[0].key: contains a control character"}},

		// Grades, ranges, dates, sizes: each record's own Validate.
		{"reliability out of range", with(`"reliability": "B"`, `"reliability": "G"`), []string{"$.sources[0].reliability: not one of A to F"}},
		{"credibility 0", with(`"credibility": 2`, `"credibility": 0`), []string{"$.claims[0].credibility: not one of 1 to 6"}},
		{"credibility 7", with(`"credibility": 2`, `"credibility": 7`), []string{"$.claims[0].credibility: not one of 1 to 6"}},
		{"unknown stance", with(`"affirms"`, `"maybe"`), []string{"$.claims[0].stance: not one of affirms"}},
		{"unknown source type", with(`"type": "ngo"`, `"type": "rumour"`), []string{"$.sources[0].type: not one of victim"}},
		{"victims min above max", with(`"min": 1`, `"min": 3`), []string{"$.acts[0].victims.min: greater than max"}},
		{"negative victims", with(`"min": 1`, `"min": -1`), []string{"$.acts[0].victims.min: negative"}},
		{"period out of order", with(`"title": "Wave"`, `"title": "Wave", "period": {"from": "2017-05", "to": "2017-04"}`), []string{"$.incidents[0].period.to: before from"}},
		{"period to without from", with(`"title": "Wave"`, `"title": "Wave", "period": {"to": "2017-04"}`), []string{"$.incidents[0].period.from: missing while to is set"}},
		{"date that does not exist", with(`"credibility": 2`, `"credibility": 2, "date": "2017-02-30"`), []string{"$.claims[0].date: date: 2017-02 has no day 30"}},
		{"malformed date", with(`"credibility": 2`, `"credibility": 2, "date": "17-3"`), []string{"$.claims[0].date: date: want YYYY"}},
		{"huge name", with(`"title": "Wave"`, `"title": "`+strings.Repeat("я", 300)+`"`), []string{"$.incidents[0].title: longer than 500 bytes"}},
		{"huge quote", with(`"credibility": 2`, `"credibility": 2, "quote": "`+strings.Repeat("x", 10_001)+`"`), []string{"$.claims[0].quote: longer than 10000 bytes"}},
		{"control character", with(`"pseudonym": "A"`, `"pseudonym": "A\u0007"`), []string{"$.persons[0].pseudonym: contains a control character"}},
		{"C1 control character", with(`"pseudonym": "A"`, `"pseudonym": "A\u0085"`), []string{"$.persons[0].pseudonym: contains a control character"}},
		{"coordinates out of range", with(`"names": {"en": "Town"}`, `"names": {"en": "Town"}, "coordinates": {"lat": 91, "lon": 0}`), []string{"$.places[0].coordinates.lat: outside -90..90"}},
		{"not a language tag", with(`{"en": "Town"}`, `{"english": "Town"}`), []string{"$.places[0].names: has a key that is not a language tag"}},
		{"private name without script", with(`"pseudonym": "A"`, `"pseudonym": "A", "private": {"names": [{"script": "cyrillic", "name": "X"}]}`), []string{"$.persons[0].private.names[0].script: not an ISO 15924"}},
		{"unknown act type", with(`"arbitrary_detention"`, `"beating"`), []string{"$.acts[0].type: not an act type of the vocabulary"}},
		{"malformed act type", with(`"arbitrary_detention"`, `"Beating!"`), []string{"$.acts[0].type: not a code"}},
		{"more victim persons than victims", with(`"max": 2}`, `"max": 0}, "victim_persons": ["p1"]`, `"min": 1`, `"min": 0`), []string{"$.acts[0].victims.max: fewer than the identified victim_persons"}},

		// References.
		{"missing required reference", with(`"incident": "inc", `, ``), []string{"$.acts[0].incident: missing"}},
		{"dangling reference", with(`"act": "act"`, `"act": "a-17"`), []string{`$.claims[0].act: no act with key "a-17"`}},
		{"reference to the wrong kind", with(`"act": "act"`, `"act": "src"`), []string{`$.claims[0].act: no act with key "src"; that key is a source's`}},
		{"dangling source party", with(`"reliability": "B"`, `"reliability": "B", "party": "nobody"`), []string{`$.sources[0].party: no party with key "nobody"`}},
		{"dangling perpetrator", with(`"max": 2}`, `"max": 2}, "perpetrators": ["police", "army"]`), []string{`$.acts[0].perpetrators[1]: no party with key "army"`}},
		{"perpetrator listed twice", with(`"max": 2}`, `"max": 2}, "perpetrators": ["police", "police"]`), []string{`$.acts[0].perpetrators[1]: listed twice`}},
		{"victim person that is a party", with(`"max": 2}`, `"max": 2}, "victim_persons": ["police"]`), []string{`$.acts[0].victim_persons[0]: no person with key "police"; that key is a party's`}},
		{"incident place that is a party", with(`"title": "Wave"`, `"title": "Wave", "place": "police"`), []string{`$.incidents[0].place: no place with key "police"`}},
		{"place parent dangling", with(`"names": {"en": "Town"}`, `"names": {"en": "Town"}, "parent": "county"`), []string{`$.places[0].parent: no place with key "county"`}},
		{"place is its own parent", with(`"names": {"en": "Town"}`, `"names": {"en": "Town"}, "parent": "town"`), []string{`$.places[0].parent: parents form a cycle: "town" → "town"`}},
		{"place cycle", with(`"names": {"en": "Town"}`, `"names": {"en": "Town"}, "parent": "region"`, `"names": {"en": "Region"}`, `"names": {"en": "Region"}, "parent": "town"`),
			[]string{`$.places[0].parent: parents form a cycle: "town" → "region" → "town"`}},
		{"party cycle", with(`"name": "Police"`, `"name": "Police", "parent": "ministry"`, `"name": "Ministry"`, `"name": "Ministry", "parent": "police"`),
			[]string{`$.parties[0].parent: parents form a cycle: "police" → "ministry" → "police"`}},
		{"evidence not an ID", with(`"credibility": 2`, `"credibility": 2, "evidence": ["photo.jpg"]`), []string{"$.claims[0].evidence[0]: not a vigil ID"}},
		{"evidence ID in upper case", with(`"credibility": 2`, `"credibility": 2, "evidence": ["`+strings.ToUpper(id)+`"]`), []string{"$.claims[0].evidence[0]: not a vigil ID"}},
		{"submission empty", with(`"credibility": 2`, `"credibility": 2, "submissions": [""]`), []string{"$.claims[0].submissions[0]: missing"}},
		{"evidence listed twice", with(`"credibility": 2`, `"credibility": 2, "evidence": ["`+id+`", "`+id+`"]`), []string{"$.claims[0].evidence[1]: listed twice"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			f, err := casefile.Parse(strings.NewReader(test.in), casefile.Options{})
			if test.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if f != nil {
				t.Errorf("Parse returned a file with its error")
			}
			got := problemLines(t, err)
			for _, w := range test.want {
				found := false
				for _, g := range got {
					path, msg, _ := strings.Cut(w, ": ")
					found = found || strings.HasPrefix(g, path+": ") && strings.Contains(g, msg)
				}
				if !found {
					t.Errorf("no problem %q; got %q", w, got)
				}
			}
		})
	}
}

// TestInertText checks that text that would be code elsewhere is kept as
// it is, and written escaped.
func TestInertText(t *testing.T) {
	in := with(`"title": "Wave"`, `"title": "<script>alert('x')</script> & \"more\""`)
	f := mustParse(t, []byte(in))
	if got, want := f.Incidents[0].Title, `<script>alert('x')</script> & "more"`; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	var buf bytes.Buffer
	if err := casefile.Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("<script")) {
		t.Errorf("written file contains <script unescaped:\n%s", buf.Bytes())
	}
}

// TestProblemsCap checks that a file with more problems than MaxProblems
// lists MaxProblems and counts the rest.
func TestProblemsCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"format": "vigil-case/1", "persons": [`)
	const n = casefile.MaxProblems + 500
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"key": "", "pseudonym": "A"}`)
	}
	b.WriteString("]}")
	_, err := casefile.Parse(strings.NewReader(b.String()), casefile.Options{})
	var probs *casefile.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("Parse: %v", err)
	}
	if len(probs.List) != casefile.MaxProblems || probs.More != n-casefile.MaxProblems {
		t.Errorf("listed %d, more %d; want %d, %d", len(probs.List), probs.More, casefile.MaxProblems, n-casefile.MaxProblems)
	}
	if !strings.Contains(err.Error(), "1500 problems") {
		t.Errorf("Error() = %.200s…; want the total", err.Error())
	}
}

// endless is a reader of prefix followed by n bytes of fill; it counts
// what was read and never holds more than one block of fill.
type endless struct {
	prefix string
	fill   byte
	n      int64
	read   int64
	block  []byte
}

func (e *endless) Read(p []byte) (int, error) {
	total := int64(len(e.prefix)) + e.n
	if e.read >= total {
		return 0, io.EOF
	}
	if e.read < int64(len(e.prefix)) {
		n := copy(p, e.prefix[e.read:])
		e.read += int64(n)
		return n, nil
	}
	if e.block == nil {
		e.block = bytes.Repeat([]byte{e.fill}, 64<<10)
	}
	n := copy(p, e.block)
	if rest := total - e.read; int64(n) > rest {
		n = int(rest)
	}
	e.read += int64(n)
	return n, nil
}

// TestTooLarge feeds Parse 300 MB and checks that it stops at the limit
// with ErrTooLarge, having read no more than the limit and one byte, and
// having allocated less than 16 MiB on the way (it streams); and that a
// single huge string is refused long before the limit.
func TestTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 256 MiB")
	}
	for _, test := range []struct {
		name     string
		r        *endless
		opts     casefile.Options
		maxRead  int64
		wantPath string
	}{
		{"300 MB of whitespace, default limit", &endless{prefix: `{"format": "vigil-case/1", "places": [`, fill: ' ', n: 300e6}, casefile.Options{}, casefile.DefaultMaxSize + 1, "$"},
		{"300 MB of whitespace, 1 MiB limit", &endless{prefix: `{"format": "vigil-case/1", "places": [`, fill: ' ', n: 300e6}, casefile.Options{MaxSize: 1 << 20}, 1<<20 + 1, "$"},
		{"300 MB string", &endless{prefix: `{"format": "`, fill: 'x', n: 300e6}, casefile.Options{}, 2 << 20, "$"},
	} {
		t.Run(test.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := casefile.Parse(test.r, test.opts)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("allocated %d bytes; want the input streamed, not held", alloc)
			}
			if !errors.Is(err, vigil.ErrTooLarge) {
				t.Fatalf("Parse: %v; want ErrTooLarge", err)
			}
			if test.r.read > test.maxRead {
				t.Errorf("read %d bytes; want at most %d", test.r.read, test.maxRead)
			}
			lines := problemLines(t, err)
			if len(lines) != 1 || !strings.HasPrefix(lines[0], test.wantPath+": ") {
				t.Errorf("problems %q; want one at %s", lines, test.wantPath)
			}
		})
	}
}

// errReader fails after its prefix.
type errReader struct{ s string }

var errDisk = errors.New("disk on fire")

func (e *errReader) Read(p []byte) (int, error) {
	if e.s == "" {
		return 0, errDisk
	}
	n := copy(p, e.s)
	e.s = e.s[n:]
	return n, nil
}

// TestReadError checks that a failing reader is reported as itself, not
// as a problem of the file.
func TestReadError(t *testing.T) {
	_, err := casefile.Parse(&errReader{s: minimal[:40]}, casefile.Options{})
	var probs *casefile.Problems
	if !errors.Is(err, errDisk) || errors.As(err, &probs) {
		t.Errorf("Parse: %v; want the read error, not problems", err)
	}
}

// TestParseEmptyArraysNil checks that absent and empty arrays read the
// same, so that a written file (which has them all) reads back equal.
func TestParseEmptyArraysNil(t *testing.T) {
	a := mustParse(t, []byte(`{"format": "vigil-case/1"}`))
	b := mustParse(t, []byte(`{"format": "vigil-case/1", "places": [], "claims": []}`))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("absent arrays %+v, empty arrays %+v", a, b)
	}
}
