package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/figures"
)

// TestWordsComplete: every text of the report exists in every language.
func TestWordsComplete(t *testing.T) {
	for _, a := range Languages {
		for _, b := range Languages {
			for k := range words[a] {
				if _, ok := words[b][k]; !ok {
					t.Errorf("%q has %q, %q lacks it", a, k, b)
				}
			}
		}
	}
}

func TestClean(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"plain ) Tj \\", "plain ) Tj \\"},
		{"e\u0301", "é"},
		{"a\tb\r\nc", "a b\nc"},
		{"\u202Eabc", "\uFFFDabc"},
		{"ש", "\uFFFD"},
		{"\x00\x07", "\uFFFD\uFFFD"},
		{"Ёлка ΣΩ", "Ёлка ΣΩ"},
	} {
		if got, _ := clean(regular, test.in); got != test.want {
			t.Errorf("clean(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

func TestNiceStep(t *testing.T) {
	for _, test := range []struct{ raw, want float64 }{{0.2, 1}, {1, 1}, {1.5, 2}, {3, 5}, {7, 10}, {22.4, 50}, {140, 200}} {
		if got := niceStep(test.raw); got != test.want {
			t.Errorf("niceStep(%v) = %v, want %v", test.raw, got, test.want)
		}
	}
}

// fuzzReport is a report whose every stored text is s.
func fuzzReport(s string) *Report {
	id := vigil.ID{1}
	fg := figures.Figure{ConfirmedAtLeast: 3, ReportedUpTo: 7}
	return &Report{
		Organisation: map[string]string{"en": s},
		Generated:    time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		Incident:     Incident{ID: id, Key: s, Title: s, Description: s, Place: map[string]string{"en": s}, Leaf: 1},
		Acts: []Act{{ID: id, Key: s, Type: s, Description: s, Place: map[string]string{"en": s}, Persons: []string{s},
			Perpetrators: []string{s}, Status: corroborate.Status(s), Flags: []corroborate.Flag{corroborate.Flag(s)},
			Explanation: corroborate.Explanation{EN: s, RU: s}, Leaf: 2,
			Claims: []Claim{{ID: id, Key: s, Source: id, Stance: vigil.Stance(s), Leaf: 3}}}},
		Sources:    []Source{{ID: id, Key: s, Name: s, Type: vigil.SourceType(s), Reliability: "A", Origin: s, Party: s, Leaf: 4}},
		Evidence:   []Item{{ID: id, MediaType: s, Leaf: 5, Claims: []vigil.ID{id}}},
		ByType:     map[string]figures.Figure{s: fg},
		ByMonth:    map[string]figures.Figure{s: fg},
		Total:      fg,
		Checkpoint: Checkpoint{Signed: s, Origin: s, Size: 6, Root: s},
	}
}

// FuzzText puts arbitrary text in every field of a report: writing must
// not fail or panic, and the PDF must parse.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a", ") Tj ET", "\\", "e\u0301", "\u202Eשלום", strings.Repeat("Ж", 300),
		"a\nb\n\n\tc", "\x00\xff\xfe", "🙂漢字", strings.Repeat("x ", 400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 2000 {
			return // fields are at most 10,000 bytes; keep each run short
		}
		var b bytes.Buffer
		if err := fuzzReport(s).WritePDF(&b, "ru"); err != nil {
			t.Fatal(err)
		}
		rd, err := pdf.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		if rd.NumPage() < 1 {
			t.Fatal("no pages")
		}
	})
}

// TestTallRow: a table row taller than a page continues on the next pages
// under the repeated header, every word kept and nothing below the margin.
func TestTallRow(t *testing.T) {
	d, err := newDoc("en")
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for i := range 1500 {
		words = append(words, "w"+strings.Repeat("x", i%7)+"#"+strconvItoa(i))
	}
	cols := []column{{"Head", 1, regular, false}, {"Text", 3, regular, false}}
	d.table(cols, [][]string{{"short", "one"}, {"tall", strings.Join(words, " ")}, {"after", "last row"}})
	if d.err != nil {
		t.Fatal(d.err)
	}
	if n := d.pdf.GetNumberOfPages(); n < 3 {
		t.Fatalf("%d pages, want the row to span at least 3", n)
	}
	var b bytes.Buffer
	if _, err := d.pdf.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	rd, err := pdf.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for i := 1; i <= rd.NumPage(); i++ {
		s, _ := rd.Page(i).GetPlainText(nil)
		if !strings.Contains(s, "Head") {
			t.Errorf("page %d has no table header", i)
		}
		all = append(all, s)
	}
	text := strings.Join(strings.Fields(strings.Join(all, "\n")), " ")
	for _, w := range append(words, "last row") {
		if !strings.Contains(text, w+" ") && !strings.HasSuffix(text, w) {
			t.Fatalf("word %q lost", w)
		}
	}
}

func strconvItoa(i int) string { return fmt.Sprint(i) }

// TestASCIIInFonts: clean skips the glyph lookup for printable ASCII, so
// every font must have it.
func TestASCIIInFonts(t *testing.T) {
	for _, f := range []string{regular, bold, mono} {
		for r := ' '; r <= '~'; r++ {
			if !has(f, r) {
				t.Errorf("font %s lacks %q", f, r)
			}
		}
	}
}

// TestWordsUsed: every key the code asks tr for is in the table (tr would
// print an empty string for a missing one).
func TestWordsUsed(t *testing.T) {
	re := regexp.MustCompile(`tr\([a-z.]+, "([a-z0-9.]+)"`)
	files, _ := filepath.Glob("*.go")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			if _, ok := words["en"][m[1]]; !ok {
				t.Errorf("%s: tr key %q is not in words", f, m[1])
			}
		}
	}
	if n < 50 {
		t.Errorf("found %d tr calls, the pattern is broken", n)
	}
}
