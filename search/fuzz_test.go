package search_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/search"
)

// FuzzSearch checks that no query text or document text makes the index
// panic (words, phrases, prefixes), that AddAll and Add give the same
// answer, and that a document is found by its own words.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{`Kadyrov "по приказу" кадыр*`, `"`, `*`, `""*`, "ударе́ние", "a'b'", "Ё", "\xff\xfe", `"a" "b" c* d`} {
		f.Add(s, "Его задержали по приказу Кадырова в Грозном.")
	}
	f.Fuzz(func(t *testing.T, query, text string) {
		ix := search.New()
		ix.Add(search.Document{ID: vigil.ID{1}, Fields: []search.Field{{Text: text}}})
		r := ix.Search(search.Query{Text: query, Visible: all, Limit: 5})
		ix.Search(search.Query{Text: query + "*", Visible: all, Limit: 5})
		all2 := search.New()
		all2.AddAll([]search.Document{{ID: vigil.ID{1}, Fields: []search.Field{{Text: text}}}})
		if r2 := all2.Search(search.Query{Text: query, Visible: all, Limit: 5}); fmt.Sprint(r) != fmt.Sprint(r2) {
			t.Fatalf("Add %+v, AddAll %+v", r, r2)
		}
		for _, tok := range search.Analyze(text) {
			if r := ix.Search(search.Query{Text: tok.Surface, Visible: all}); r.Total != 1 {
				t.Fatalf("%q not found by its word %q", text, tok.Surface)
			}
		}
		search.NameKey(query)
	})
}

// TestNoFiles builds, searches and drops an index with TMPDIR pointing at
// an empty directory, and checks that nothing was written there.
func TestNoFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	ix := search.New()
	for i := range 2000 {
		ix.Add(search.Document{ID: vigil.ID{byte(i), byte(i >> 8)}, Fields: []search.Field{{Text: "Показания о задержании в Грозном, Kadyrov"}}})
	}
	if r := ix.Search(search.Query{Text: "Kadyrov гроз*", Visible: all}); r.Total != 2000 {
		t.Errorf("total %d", r.Total)
	}
	ix.Drop()
	if ix.Len() != 0 {
		t.Errorf("Len %d after Drop", ix.Len())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}
