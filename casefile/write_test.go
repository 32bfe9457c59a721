package casefile_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/casefile"
)

// hashID is a deterministic idOf for tests.
func hashID(key string) vigil.ID {
	sum := sha256.Sum256([]byte(key))
	return vigil.ID(sum[:16])
}

func encode(tb testing.TB, f *casefile.File) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := casefile.Encode(&buf, f); err != nil {
		tb.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

// checkRoundTrip checks, for a file that parsed from in, that writing and
// reading it again gives the same records in key order, that writing that
// again gives the same bytes, and that Resolve followed by Write gives the
// same bytes too.
func checkRoundTrip(tb testing.TB, f *casefile.File) {
	tb.Helper()
	b1 := encode(tb, f)
	f2, err := casefile.Parse(bytes.NewReader(b1), casefile.Options{})
	if err != nil {
		tb.Fatalf("Parse(Encode(f)): %v\n%s", err, b1)
	}
	want := *f
	want.Sort()
	if !reflect.DeepEqual(f2, &want) {
		tb.Fatalf("Parse(Encode(f)) differs from f sorted:\n got %+v\nwant %+v", f2, &want)
	}
	if b2 := encode(tb, f2); !bytes.Equal(b1, b2) {
		tb.Fatalf("Encode(Parse(Encode(f))) differs:\n%s\n%s", b1, b2)
	}
	entries, err := casefile.Resolve(f, hashID)
	if err != nil {
		tb.Fatalf("Resolve: %v", err)
	}
	var b3 bytes.Buffer
	if err := casefile.Write(&b3, casefile.Export{Entries: entries}); err != nil {
		tb.Fatalf("Write: %v", err)
	}
	if !bytes.Equal(b1, b3.Bytes()) {
		tb.Fatalf("Write(Resolve(f)) differs from Encode(f):\n%s\n%s", b1, b3.Bytes())
	}
}

// TestRoundTrip checks parse → write → parse on the doc example, the
// minimal file and a file with every optional field.
func TestRoundTrip(t *testing.T) {
	for name, in := range map[string]string{
		"doc example": string(docExample(t)),
		"minimal":     minimal,
		"empty":       `{"format": "vigil-case/1"}`,
		"empty arrays and objects": with(`"pseudonym": "A"`, `"pseudonym": "A", "private": {"names": []}`,
			`"title": "Wave"`, `"title": "Wave", "period": {}, "restricted": []`,
			`"names": {"en": "Town"}`, `"names": {"en": "Town"}, "coordinates": {"lat": -0, "lon": 1e-7}`),
		"text that needs escaping": with(`"title": "Wave"`, `"title": "<b>&\"\\/\u2028 Волна \ud83d\ude00"`),
	} {
		t.Run(name, func(t *testing.T) {
			checkRoundTrip(t, mustParse(t, []byte(in)))
		})
	}
}

// TestCanonical pins the written form: every array, in kind order,
// records by key, members in struct order, two-space indentation.
func TestCanonical(t *testing.T) {
	f := mustParse(t, []byte(`{"parties": [{"name": "B", "key": "b"}, {"parent": "b", "key": "a", "name": "A"}], "format": "vigil-case/1"}`))
	want := `{
  "format": "vigil-case/1",
  "places": [],
  "parties": [
    {
      "key": "a",
      "name": "A",
      "parent": "b"
    },
    {
      "key": "b",
      "name": "B"
    }
  ],
  "sources": [],
  "persons": [],
  "incidents": [],
  "acts": [],
  "claims": []
}
`
	if got := string(encode(t, f)); got != want {
		t.Errorf("Encode =\n%s\nwant\n%s", got, want)
	}
}

// TestEncodeRefusesInvalid checks that the writer never writes a file the
// reader would refuse.
func TestEncodeRefusesInvalid(t *testing.T) {
	f := mustParse(t, []byte(minimal))
	f.Claims[0].Act = "gone"
	var buf bytes.Buffer
	err := casefile.Encode(&buf, f)
	if !errors.Is(err, vigil.ErrInvalid) || buf.Len() != 0 {
		t.Errorf("Encode of a dangling reference: %v, wrote %d bytes", err, buf.Len())
	}
}

// TestResolve checks the order, the IDs and the nouns Resolve gives.
func TestResolve(t *testing.T) {
	f := mustParse(t, docExample(t))
	calls := map[string]int{}
	entries, err := casefile.Resolve(f, func(key string) vigil.ID {
		calls[key]++
		return hashID(key)
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range calls {
		if n != 1 {
			t.Errorf("idOf(%q) called %d times", k, n)
		}
	}
	var kinds []casefile.Kind
	seen := map[vigil.ID]bool{}
	for _, e := range entries {
		if len(kinds) == 0 || kinds[len(kinds)-1] != e.Kind {
			kinds = append(kinds, e.Kind)
		}
		if e.ID != hashID(e.Key) {
			t.Errorf("%s %q has ID %s", e.Kind, e.Key, e.ID)
		}
		// Every reference names a record that comes earlier.
		for _, ref := range refsOf(t, e.Doc) {
			if !seen[ref] {
				t.Errorf("%s %q refers to %s before it is resolved", e.Kind, e.Key, ref)
			}
		}
		seen[e.ID] = true
	}
	if !reflect.DeepEqual(kinds, casefile.Kinds()) {
		t.Errorf("kinds in order %v; want %v", kinds, casefile.Kinds())
	}
	// The places: the district before the town in it, though "lesnoye" < "severny-district".
	if entries[0].Key != "severny-district" || entries[1].Key != "lesnoye" {
		t.Errorf("places in order %q, %q; want parent first", entries[0].Key, entries[1].Key)
	}
	var act vigil.Act
	var claim vigil.Claim
	for _, e := range entries {
		switch e.Key {
		case "act-detentions":
			act = e.Doc.(vigil.Act)
		case "claim-hotline":
			claim = e.Doc.(vigil.Claim)
		}
	}
	if act.Incident != hashID("lesnoye-wave") || act.Victims != (vigil.VictimCount{Min: 12, Max: 40}) ||
		!reflect.DeepEqual(act.Perpetrators, []vigil.ID{hashID("lesnoye-police")}) {
		t.Errorf("act-detentions resolved to %+v", act)
	}
	if claim.Act != hashID("act-detentions") || len(claim.Evidence) != 1 || claim.Evidence[0].String() != "at5f1wgxp2pac9xk7wn4teccc0" {
		t.Errorf("claim-hotline resolved to %+v", claim)
	}
}

// refsOf returns the record IDs a noun refers to.
func refsOf(t *testing.T, doc any) []vigil.ID {
	var ids []vigil.ID
	add := func(list ...vigil.ID) {
		for _, id := range list {
			if !id.IsZero() {
				ids = append(ids, id)
			}
		}
	}
	switch d := doc.(type) {
	case vigil.Place:
		add(d.Parent)
	case vigil.Party:
		add(d.Parent)
	case vigil.Source:
		add(d.Party)
	case vigil.Person:
	case vigil.Incident:
		add(d.Place)
	case vigil.Act:
		add(d.Incident, d.Place)
		add(d.VictimPersons...)
		add(d.Perpetrators...)
	case vigil.Claim:
		add(d.Act, d.Source)
	default:
		t.Fatalf("Doc of type %T", doc)
	}
	return ids
}

// TestResolveBadIDs checks that Resolve refuses an importer's zero or
// shared IDs, and an invalid file.
func TestResolveBadIDs(t *testing.T) {
	f := mustParse(t, []byte(minimal))
	for name, idOf := range map[string]func(string) vigil.ID{
		"zero":   func(string) vigil.ID { return vigil.ID{} },
		"shared": func(key string) vigil.ID { return hashID("same") },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := casefile.Resolve(f, idOf)
			if lines := problemLines(t, err); len(lines) == 0 || !strings.Contains(lines[0], ".key: the importer gave") {
				t.Errorf("problems %q", lines)
			}
		})
	}
	f.Acts[0].Type = "beating"
	if _, err := casefile.Resolve(f, hashID); !strings.Contains(strings.Join(problemLines(t, err), "\n"), "$.acts[0].type") {
		t.Errorf("Resolve of an invalid file: %v", err)
	}
}

// TestWriteExport checks keys made for records without one, pointer docs,
// and the problems of a broken export.
func TestWriteExport(t *testing.T) {
	inc, act, src, claim := vigil.NewID(), vigil.NewID(), vigil.NewID(), vigil.NewID()
	ok := []casefile.Entry{
		{Kind: casefile.KindClaim, ID: claim, Doc: vigil.Claim{Act: act, Source: src, Stance: vigil.Denies, Credibility: 6}},
		{Kind: casefile.KindAct, ID: act, Key: "act", Doc: &vigil.Act{Incident: inc, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}}},
		{Kind: casefile.KindIncident, ID: inc, Doc: vigil.Incident{Title: "Wave"}},
		{Kind: casefile.KindSource, ID: src, Doc: vigil.Source{Name: "Ministry", Type: vigil.SourceOfficial, Reliability: "F"}},
	}
	var b1, b2 bytes.Buffer
	if err := casefile.Write(&b1, casefile.Export{Entries: ok}); err != nil {
		t.Fatal(err)
	}
	// Any order of entries writes the same file.
	rev := []casefile.Entry{ok[3], ok[2], ok[1], ok[0]}
	if err := casefile.Write(&b2, casefile.Export{Entries: rev}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Errorf("entry order changed the file:\n%s\n%s", b1.Bytes(), b2.Bytes())
	}
	f := mustParse(t, b1.Bytes())
	if got, want := f.Claims[0].Key, "claim-"+claim.String(); got != want {
		t.Errorf("made key %q, want %q", got, want)
	}
	if got, want := f.Acts[0].Incident, "incident-"+inc.String(); got != want {
		t.Errorf("act's incident %q, want %q", got, want)
	}

	for _, test := range []struct {
		name    string
		entries []casefile.Entry
		want    string
	}{
		{"dangling reference", ok[:3], "entries[0]: refers to " + src.String() + ", which is not in the export"},
		{"wrong doc", []casefile.Entry{{Kind: casefile.KindAct, ID: act, Doc: vigil.Party{Name: "x"}}}, "entries[0].Doc: a vigil.Party is not a act"},
		{"nil doc", []casefile.Entry{{Kind: casefile.KindAct, ID: act, Doc: (*vigil.Act)(nil)}}, "entries[0].Doc: a *vigil.Act is not a act"},
		{"zero ID", []casefile.Entry{{Kind: casefile.KindIncident, Doc: vigil.Incident{Title: "x"}}}, "entries[0].ID: missing"},
		{"same ID twice", []casefile.Entry{ok[2], ok[2]}, "entries[1].ID: also the ID of key"},
		{"same key twice", []casefile.Entry{{Kind: casefile.KindIncident, ID: vigil.NewID(), Key: "k", Doc: vigil.Incident{Title: "x"}}, {Kind: casefile.KindIncident, ID: vigil.NewID(), Key: "k", Doc: vigil.Incident{Title: "y"}}}, `entries[1].Key: key "k" also names entries[0]`},
		{"reference to the wrong kind", []casefile.Entry{{Kind: casefile.KindIncident, ID: inc, Key: "inc", Doc: vigil.Incident{Title: "x", Place: src}}, ok[3]}, `$.incidents[0].place: no place with key "source-`},
		{"invalid record", []casefile.Entry{{Kind: casefile.KindIncident, ID: inc, Doc: vigil.Incident{}}}, "$.incidents[0].title: missing"},
	} {
		t.Run(test.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := casefile.Write(&buf, casefile.Export{Entries: test.entries})
			if lines := problemLines(t, err); !strings.Contains(strings.Join(lines, "\n"), test.want) {
				t.Errorf("problems %q; want %q", lines, test.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes", buf.Len())
			}
		})
	}
}

// csvOf writes f's CSV and returns each kind's bytes.
func csvOf(t *testing.T, f *casefile.File) map[casefile.Kind]*bytes.Buffer {
	t.Helper()
	out := map[casefile.Kind]*bytes.Buffer{}
	err := casefile.WriteCSV(f, func(k casefile.Kind) (io.Writer, error) {
		out[k] = new(bytes.Buffer)
		return out[k], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCSV checks that the CSV of a file is deterministic (the same for
// the file in any order) and lays out what the doc says.
func TestCSV(t *testing.T) {
	in := string(docExample(t))
	in = strings.Replace(in, `"title": "Wave of detentions in Lesnoye, March 2025"`,
		`"title": "=HYPERLINK(\"http://example.org\")", "restricted": ["ana;lyst", "b=c\\d"]`, 1)
	f := mustParse(t, []byte(in))
	a := csvOf(t, f)
	// Reverse every array: same CSV.
	g := *f
	g.Places = []casefile.Place{f.Places[1], f.Places[0]}
	g.Claims = append([]casefile.Claim(nil), f.Claims...)
	for i, j := 0, len(g.Claims)-1; i < j; i, j = i+1, j-1 {
		g.Claims[i], g.Claims[j] = g.Claims[j], g.Claims[i]
	}
	for range 5 {
		b := csvOf(t, &g)
		for _, k := range casefile.Kinds() {
			if !bytes.Equal(a[k].Bytes(), b[k].Bytes()) {
				t.Fatalf("%s CSV differs:\n%s\n%s", k, a[k], b[k])
			}
		}
	}
	table := func(k casefile.Kind) [][]string {
		rows, err := csv.NewReader(bytes.NewReader(a[k].Bytes())).ReadAll()
		if err != nil {
			t.Fatalf("%s CSV: %v", k, err)
		}
		return rows
	}
	for _, test := range []struct {
		kind     casefile.Kind
		row, col int
		want     string
	}{
		{casefile.KindPlace, 0, 1, "names.en"},
		{casefile.KindPlace, 0, 2, "names.ru"},
		{casefile.KindPlace, 1, 0, "lesnoye"},
		{casefile.KindPlace, 1, 2, "Лесное"},
		{casefile.KindPlace, 1, 4, "severny-district"},
		{casefile.KindPlace, 1, 5, "43.25"},
		{casefile.KindAct, 0, 9, "victim_persons"},
		{casefile.KindAct, 1, 9, "detainee-a;detainee-b"},
		{casefile.KindAct, 1, 7, "12"},
		{casefile.KindAct, 1, 4, "2025-03-02"},
		{casefile.KindIncident, 1, 1, `'=HYPERLINK("http://example.org")`},
		{casefile.KindIncident, 1, 6, `ana\;lyst;b\=c\\d`},
		{casefile.KindPerson, 2, 2, "Cyrl=Примеров Пример;Latn=Primer Primerov"},
		{casefile.KindClaim, 0, 7, "evidence"},
		{casefile.KindClaim, 1, 0, "claim-hotline"},
		{casefile.KindClaim, 1, 7, "at5f1wgxp2pac9xk7wn4teccc0"},
	} {
		rows := table(test.kind)
		if test.row >= len(rows) || test.col >= len(rows[test.row]) {
			t.Errorf("%s CSV has no cell %d,%d", test.kind, test.row, test.col)
			continue
		}
		if got := rows[test.row][test.col]; got != test.want {
			t.Errorf("%s CSV cell %d,%d = %q, want %q", test.kind, test.row, test.col, got, test.want)
		}
	}
}
