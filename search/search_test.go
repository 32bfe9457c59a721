package search_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/search"
)

func all(vigil.ID) bool { return true }

func date(t *testing.T, s string) vigil.Date {
	t.Helper()
	var d vigil.Date
	if err := d.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return d
}

type corpus struct {
	ix                    *search.Index
	inc1, inc2            vigil.ID
	chechnya, grozny, nyc vigil.ID
	docs                  map[string]vigil.ID
}

func newCorpus(t *testing.T) *corpus {
	c := &corpus{ix: search.New(), inc1: vigil.NewID(), inc2: vigil.NewID(),
		chechnya: vigil.NewID(), grozny: vigil.NewID(), nyc: vigil.NewID(), docs: map[string]vigil.ID{}}
	c.ix.SetPlace(c.grozny, c.chechnya)
	add := func(name string, d search.Document) {
		d.ID = vigil.NewID()
		c.docs[name] = d.ID
		c.ix.Add(d)
	}
	add("ru1", search.Document{Incident: c.inc1, Kind: "act", ActTypes: []string{"detention"}, Status: "confirmed",
		From: date(t, "2017-02"), To: date(t, "2017-04"), Places: []vigil.ID{c.grozny}, Grade: "A",
		Fields: []search.Field{{Name: "title", Text: "Задержание в Грозном"}, {Name: "text",
			Text: "Его задержали сотрудники полиции по приказу Кадырова и избивали в подвале. Задержанных держали три недели."}}})
	add("en1", search.Document{Incident: c.inc1, Kind: "act", ActTypes: []string{"torture"}, Status: "alleged",
		From: date(t, "2017-03-10"), Places: []vigil.ID{c.chechnya}, Grade: "B",
		Fields: []search.Field{{Name: "text", Text: "He was detained by police in Argun and beaten; the men said Kadyrov had ordered the arrests."}}})
	add("secret", search.Document{Incident: c.inc2, Kind: "act", ActTypes: []string{"torture"}, Status: "confirmed",
		From: date(t, "2019"), Places: []vigil.ID{c.grozny}, Grade: "A",
		Fields: []search.Field{{Name: "text", Text: "Юрий был задержан в Грозном; свидетель Kadyrov секретный."}}})
	add("person", search.Document{Kind: "person",
		Fields: []search.Field{{Name: "name", Text: "Yuri Ivanov"}, {Name: "pseudonym", Text: "Witness 7"}}})
	add("nyc", search.Document{Incident: c.inc1, Kind: "act", ActTypes: []string{"threat"}, Status: "alleged",
		From: date(t, "2021-05-01"), To: date(t, "2021-06-01"), Places: []vigil.ID{c.nyc}, Grade: "C",
		Fields: []search.Field{{Name: "text", Text: "Threatening calls in New York from a man who said he worked for the police in Grozny."}}})
	return c
}

func (c *corpus) names(r search.Result) []string {
	var got []string
	for _, h := range r.Hits {
		for name, id := range c.docs {
			if id == h.ID {
				got = append(got, name)
			}
		}
	}
	return got
}

func TestSearch(t *testing.T) {
	c := newCorpus(t)
	for _, test := range []struct {
		query string
		want  []string // in rank order when ranked matters; sorted compare otherwise
	}{
		{"задержание", []string{"ru1", "secret"}},     // stem: задержали, задержанных, задержан
		{"задержанные", []string{"ru1", "secret"}},    // the same stem from another form
		{"arrested", []string{"en1"}},                 // English stemming: arrests
		{"ordering", []string{"en1"}},                 // ordered
		{"Kadyrov", []string{"en1", "ru1", "secret"}}, // across scripts: Кадырова
		{"Кадыров", []string{"en1", "ru1", "secret"}},
		{"Qadyrov", []string{"en1", "ru1", "secret"}},
		{"Kadirov", []string{"en1", "ru1", "secret"}},
		{"Grozny", []string{"nyc", "ru1", "secret"}}, // Грозном
		{"Groznyj", []string{"nyc", "ru1", "secret"}},
		{"Юрий", []string{"person", "secret"}},
		{"Iurii", []string{"person", "secret"}},
		{"Аргун", []string{"en1"}},
		{`"new york"`, []string{"nyc"}},
		{`"york new"`, nil},
		{`"по приказу Кадырова"`, []string{"ru1"}},
		{"кадыр*", []string{"en1", "ru1", "secret"}}, // a Cyrillic prefix finds Latin spellings (name keys)
		{"kadyr*", []string{"en1", "ru1", "secret"}}, // a Latin one is also read as Russian
		{"задерж*", []string{"ru1", "secret"}},       // not detained: a key prefix only meets keys
		{"thr*", []string{"nyc"}},
		{"police Kadyrov", []string{"en1", "ru1"}}, // police ~ полиции by name key, Kadyrov in both
		{"Petrov", nil},
		{"police in Grozny", []string{"nyc", "ru1"}}, // "in" is left out: ru1 has no English stop words
		{"in", []string{"en1", "nyc"}},               // alone, a stop word is searched
		{"", []string{"en1", "nyc", "person", "ru1", "secret"}},
	} {
		t.Run(test.query, func(t *testing.T) {
			got := c.names(c.ix.Search(search.Query{Text: test.query, Visible: all}))
			slices.Sort(got)
			want := slices.Clone(test.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestRanking(t *testing.T) {
	ix := search.New()
	a, b := vigil.NewID(), vigil.NewID()
	ix.Add(search.Document{ID: a, Fields: []search.Field{{Text: "Кадыров. Кадыров приказал. Кадырова боятся."}}})
	ix.Add(search.Document{ID: b, Fields: []search.Field{{Text: "Говорили о многом, и среди прочего упомянули Кадырова один раз, а потом долго говорили о погоде и дорогах."}}})
	for _, q := range []string{"Кадыров", "Kadyrov"} {
		r := ix.Search(search.Query{Text: q, Visible: all})
		if len(r.Hits) != 2 || r.Hits[0].ID != a || r.Hits[0].Score <= r.Hits[1].Score {
			t.Errorf("%s: want the document naming him three times first, got %+v", q, r.Hits)
		}
	}
}

func TestSnippet(t *testing.T) {
	c := newCorpus(t)
	r := c.ix.Search(search.Query{Text: "Kadyrov подвал", Visible: all})
	if len(r.Hits) != 1 {
		t.Fatalf("got %d hits", len(r.Hits))
	}
	h := r.Hits[0]
	if h.Field != "text" {
		t.Errorf("field %q, want text", h.Field)
	}
	var text strings.Builder
	var marked []string
	for _, f := range h.Snippet {
		text.WriteString(f.Text)
		if f.Match {
			marked = append(marked, f.Text)
		}
	}
	if !slices.Equal(marked, []string{"Кадырова", "подвале"}) {
		t.Errorf("marked %q in %q", marked, text.String())
	}
	if !strings.HasPrefix(text.String(), "Его задержали") {
		t.Errorf("snippet %q", text.String())
	}
}

func TestFiltersAndFacets(t *testing.T) {
	c := newCorpus(t)
	for _, test := range []struct {
		name   string
		query  string
		filter search.Filter
		want   []string
	}{
		{"kind", "", search.Filter{Kinds: []string{"person"}}, []string{"person"}},
		{"act type", "", search.Filter{ActTypes: []string{"torture", "threat"}}, []string{"en1", "nyc", "secret"}},
		{"status", "Kadyrov", search.Filter{Statuses: []string{"confirmed"}}, []string{"ru1", "secret"}},
		{"grade", "", search.Filter{Grades: []string{"C"}}, []string{"nyc"}},
		{"place with children", "", search.Filter{Place: c.chechnya}, []string{"en1", "ru1", "secret"}},
		{"place leaf", "", search.Filter{Place: c.grozny}, []string{"ru1", "secret"}},
		{"period overlap", "", search.Filter{From: date(t, "2017-04-15"), To: date(t, "2018")}, []string{"ru1"}},
		{"period month", "", search.Filter{From: date(t, "2017-03")}, []string{"en1", "nyc", "ru1", "secret"}},
		{"period open start", "", search.Filter{To: date(t, "2017-02-28")}, []string{"ru1"}},
		{"period to year", "", search.Filter{From: date(t, "2021"), To: date(t, "2021")}, []string{"nyc"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			got := c.names(c.ix.Search(search.Query{Text: test.query, Filter: test.filter, Visible: all}))
			slices.Sort(got)
			if !slices.Equal(got, test.want) {
				t.Errorf("got %v, want %v", got, test.want)
			}
		})
	}
	r := c.ix.Search(search.Query{Text: "Kadyrov", Visible: all})
	if r.Total != 3 {
		t.Errorf("total %d", r.Total)
	}
	want := search.Facets{
		Kinds:    []search.Count{{"act", 3}},
		ActTypes: []search.Count{{"torture", 2}, {"detention", 1}},
		Statuses: []search.Count{{"confirmed", 2}, {"alleged", 1}},
		Grades:   []search.Count{{"A", 2}, {"B", 1}},
		Places:   sortedCounts(search.Count{Value: c.grozny.String(), N: 2}, search.Count{Value: c.chechnya.String(), N: 1}),
	}
	if !facetsEqual(r.Facets, want) {
		t.Errorf("facets %+v, want %+v", r.Facets, want)
	}
}

func sortedCounts(cs ...search.Count) []search.Count { return cs }

func facetsEqual(a, b search.Facets) bool {
	return slices.Equal(a.Kinds, b.Kinds) && slices.Equal(a.ActTypes, b.ActTypes) &&
		slices.Equal(a.Statuses, b.Statuses) && slices.Equal(a.Grades, b.Grades) && slices.Equal(a.Places, b.Places)
}

// TestRestriction checks that a principal who may not see incident 2 gets
// nothing from it: no hit, no total, no facet count, no snippet.
func TestRestriction(t *testing.T) {
	c := newCorpus(t)
	notInc2 := func(id vigil.ID) bool { return id != c.inc2 }
	for _, q := range []string{"Юрий", "секретный", "Kadyrov", "", `"задержан в Грозном"`, "секр*"} {
		r := c.ix.Search(search.Query{Text: q, Visible: notInc2, Limit: 100})
		for _, name := range c.names(r) {
			if name == "secret" {
				t.Errorf("%q: restricted document in hits", q)
			}
		}
		for _, h := range r.Hits {
			for _, f := range h.Snippet {
				if strings.Contains(f.Text, "секрет") {
					t.Errorf("%q: restricted text in a snippet", q)
				}
			}
		}
		full := c.ix.Search(search.Query{Text: q, Visible: all, Limit: 100})
		if r.Total != len(r.Hits) {
			t.Errorf("%q: total %d counts %d hits", q, r.Total, len(r.Hits))
		}
		for _, cs := range [][]search.Count{r.Facets.Grades, r.Facets.Places, r.Facets.ActTypes} {
			for _, cnt := range cs {
				if cnt.Value == "torture" && cnt.N > 1 {
					t.Errorf("%q: facet %v counts the restricted act", q, cnt)
				}
			}
		}
		_ = full
	}
	r := c.ix.Search(search.Query{Text: "секретный", Visible: notInc2})
	if r.Total != 0 || len(r.Facets.Kinds) != 0 || len(r.Facets.Places) != 0 {
		t.Errorf("restricted word: %+v", r)
	}
	if r := c.ix.Search(search.Query{Text: "Kadyrov"}); r.Total != 0 {
		t.Errorf("nil Visible sees %d", r.Total)
	}
	calls := map[vigil.ID]int{}
	c.ix.Search(search.Query{Visible: func(id vigil.ID) bool { calls[id]++; return true }})
	for id, n := range calls {
		if n != 1 {
			t.Errorf("Visible(%v) asked %d times in one search", id, n)
		}
	}
}

func TestUpdateRemoveDrop(t *testing.T) {
	ix := search.New()
	id := vigil.NewID()
	ix.Add(search.Document{ID: id, Fields: []search.Field{{Text: "первая версия показаний"}}})
	ix.Add(search.Document{ID: id, Fields: []search.Field{{Text: "вторая версия показаний"}}})
	if ix.Len() != 1 {
		t.Errorf("Len %d after an update", ix.Len())
	}
	if r := ix.Search(search.Query{Text: "первая", Visible: all}); r.Total != 0 {
		t.Errorf("old version still found")
	}
	if r := ix.Search(search.Query{Text: "вторая", Visible: all}); r.Total != 1 {
		t.Errorf("new version not found")
	}
	ix.Remove(id)
	ix.Remove(vigil.NewID())
	if r := ix.Search(search.Query{Text: "показания", Visible: all}); r.Total != 0 || ix.Len() != 0 {
		t.Errorf("removed document found")
	}
	ix.Add(search.Document{ID: id, Fields: []search.Field{{Text: "третья"}}})
	ix.Drop()
	if r := ix.Search(search.Query{Visible: all}); r.Total != 0 || ix.Len() != 0 {
		t.Errorf("found after Drop")
	}
}

// TestCompaction updates many documents so that compaction runs, and
// checks that every document is still found exactly once.
func TestCompaction(t *testing.T) {
	ix := search.New()
	ids := make([]vigil.ID, 500)
	for i := range ids {
		ids[i] = vigil.NewID()
	}
	words := []string{"арест", "побои", "угрозы", "похищение"}
	for round := range 10 {
		for i, id := range ids {
			ix.Add(search.Document{ID: id, Fields: []search.Field{{Text: words[(i+round)%4] + " свидетель номер"}}})
		}
	}
	if ix.Len() != len(ids) {
		t.Fatalf("Len %d", ix.Len())
	}
	total := 0
	for _, w := range words {
		r := ix.Search(search.Query{Text: w, Visible: all})
		total += r.Total
		if r.Total != 125 {
			t.Errorf("%s: %d hits, want 125", w, r.Total)
		}
	}
	if r := ix.Search(search.Query{Text: `"свидетель номер"`, Visible: all}); r.Total != 500 {
		t.Errorf("phrase after compaction: %d", r.Total)
	}
}

func TestPaging(t *testing.T) {
	ix := search.New()
	for range 30 {
		ix.Add(search.Document{ID: vigil.NewID(), Fields: []search.Field{{Text: "Грозный"}}})
	}
	r := ix.Search(search.Query{Text: "Grozny", Visible: all, Offset: 25, Limit: 10})
	if r.Total != 30 || len(r.Hits) != 5 {
		t.Errorf("total %d, hits %d", r.Total, len(r.Hits))
	}
	if r := ix.Search(search.Query{Text: "Grozny", Visible: all, Offset: 40}); len(r.Hits) != 0 {
		t.Errorf("hits past the end")
	}
}

// TestRestrictedStatistics checks that documents a principal may not see
// don't move the scores it gets: BM25's statistics are computed over the
// visible incidents only, so scores can't reveal hidden testimonies.
func TestRestrictedStatistics(t *testing.T) {
	open, hidden := vigil.NewID(), vigil.NewID()
	seen := func(id vigil.ID) bool { return id == open }
	visibleDocs := []search.Document{
		{ID: vigil.NewID(), Incident: open, Fields: []search.Field{{Text: "Задержание в Грозном по приказу Кадырова"}}},
		{ID: vigil.NewID(), Incident: open, Fields: []search.Field{{Text: "Угрозы родственникам, Kadyrov, Grozny"}}},
	}
	a, b := search.New(), search.New()
	for _, d := range visibleDocs {
		a.Add(d)
		b.Add(d)
	}
	for i := range 50 {
		b.Add(search.Document{ID: vigil.NewID(), Incident: hidden, Fields: []search.Field{{Text: "Кадыров Кадыров Грозный, показания " + strings.Repeat("слово ", i)}}})
	}
	for _, q := range []string{"Kadyrov", "Грозный приказ*", `"по приказу"`, ""} {
		ra := a.Search(search.Query{Text: q, Visible: seen})
		rb := b.Search(search.Query{Text: q, Visible: seen})
		if len(ra.Hits) != len(rb.Hits) || ra.Total != rb.Total {
			t.Fatalf("%q: %d/%d hits with hidden documents, %d/%d without", q, len(rb.Hits), rb.Total, len(ra.Hits), ra.Total)
		}
		for i := range ra.Hits {
			if ra.Hits[i].ID != rb.Hits[i].ID || ra.Hits[i].Score != rb.Hits[i].Score {
				t.Errorf("%q: hit %d is %v %v with hidden documents, %v %v without", q, i, rb.Hits[i].ID, rb.Hits[i].Score, ra.Hits[i].ID, ra.Hits[i].Score)
			}
		}
	}
}

// TestPrivateFields checks that a private field (a person's names) doesn't
// exist for a query without SeePrivate: no hit, no snippet, no effect on
// scores; and that it does with SeePrivate.
func TestPrivateFields(t *testing.T) {
	person := vigil.NewID()
	build := func(private string) *search.Index {
		ix := search.New()
		ix.Add(search.Document{ID: person, Kind: "person", Fields: []search.Field{
			{Name: "name", Text: private, Private: true},
			{Name: "pseudonym", Text: "Свидетель из Аргуна"},
		}})
		ix.Add(search.Document{ID: vigil.NewID(), Kind: "act", Fields: []search.Field{{Text: "Задержание в Аргуне"}}})
		return ix
	}
	ix := build("Магомед Ибрагимов, Аргун")
	for _, q := range []string{"Ibragimov", "Ибрагимов", `"Магомед Ибрагимов"`, "ибраг*", "Magomed Argun"} {
		if r := ix.Search(search.Query{Text: q, Visible: all}); r.Total != 0 || len(r.Facets.Kinds) != 0 {
			t.Errorf("%q finds a private field: %+v", q, r)
		}
		r := ix.Search(search.Query{Text: q, Visible: all, SeePrivate: true})
		if r.Total != 1 || r.Hits[0].ID != person || r.Hits[0].Field != "name" {
			t.Errorf("%q with SeePrivate: %+v", q, r)
		}
	}
	r := ix.Search(search.Query{Text: "Argun", Visible: all})
	for _, h := range r.Hits {
		if h.Field == "name" {
			t.Errorf("snippet from a private field: %+v", h)
		}
	}
	// Scores ignore private text for those who may not read it.
	other := build("Аргун Аргун Аргун Аргун " + strings.Repeat("слово ", 40))
	ra := ix.Search(search.Query{Text: "Argun", Visible: all})
	rb := other.Search(search.Query{Text: "Argun", Visible: all})
	if len(ra.Hits) != 2 || len(rb.Hits) != 2 {
		t.Fatalf("hits %d, %d", len(ra.Hits), len(rb.Hits))
	}
	for i := range ra.Hits {
		if ra.Hits[i].Score != rb.Hits[i].Score {
			t.Errorf("hit %d: score %v with one private text, %v with another", i, ra.Hits[i].Score, rb.Hits[i].Score)
		}
	}
}

// TestConcurrent adds, updates, removes and searches from several
// goroutines at once; run with -race.
func TestConcurrent(t *testing.T) {
	ix := search.New()
	ids := make([]vigil.ID, 200)
	for i := range ids {
		ids[i] = vigil.NewID()
	}
	done := make(chan bool)
	for w := range 2 {
		go func() {
			for i, id := range ids {
				ix.Add(search.Document{ID: id, Fields: []search.Field{{Text: fmt.Sprintf("Задержан в Грозном, слово%d-%d", w, i)}}})
				if i%7 == 0 {
					ix.Remove(id)
				}
			}
			done <- true
		}()
	}
	for range 2 {
		go func() {
			for i := range 100 {
				ix.Search(search.Query{Text: fmt.Sprintf("Grozny слово%d*", i%3), Visible: all})
				ix.Search(search.Query{Text: `"задержан в"`, Visible: all, Filter: search.Filter{Place: ids[i]}})
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	if n := ix.Search(search.Query{Text: "Grozny", Visible: all}).Total; n != ix.Len() {
		t.Errorf("%d hits, %d documents", n, ix.Len())
	}
}

func TestLongQuery(t *testing.T) {
	c := newCorpus(t)
	q := strings.Repeat("Kadyrov ", search.MaxParts) + strings.Repeat("Petrov ", 70000)
	if r := c.ix.Search(search.Query{Text: q, Visible: all}); r.Total != 3 {
		t.Errorf("%d hits, want the 3 for Kadyrov", r.Total)
	}
}

// TestAddAll: AddAll, which analyses documents on every CPU a batch ahead,
// gives the same index as Add one by one: same hits, scores, snippets and
// facets, over more than two batches, with replaced documents and private
// fields.
func TestAddAll(t *testing.T) {
	words := strings.Fields("Кадыров Kadyrov задержали detained полиции police Грозный Grozny подвал basement избивали beaten свидетель witness приказ ordered")
	ids := make([]vigil.ID, 900)
	for i := range ids {
		ids[i] = vigil.NewID()
	}
	var docs []search.Document
	for i := range 1500 { // 600 replace earlier ones
		var text []string
		for j := range 5 + i%17 {
			text = append(text, words[(i*7+j*3)%len(words)])
		}
		d := search.Document{ID: ids[i%len(ids)], Incident: ids[i%3], Kind: []string{"act", "claim"}[i%2], Status: fmt.Sprint(i % 4),
			Fields: []search.Field{{Name: "text", Text: strings.Join(text, " ") + fmt.Sprintf(" слово%d", i)}}}
		if i%5 == 0 {
			d.Fields = append([]search.Field{{Name: "name", Text: "Шамиль Басаев " + words[i%len(words)], Private: true}}, d.Fields...)
		}
		docs = append(docs, d)
	}
	one, batch := search.New(), search.New()
	for _, d := range docs {
		one.Add(d)
	}
	batch.AddAll(docs)
	if one.Len() != len(ids) || batch.Len() != len(ids) {
		t.Fatalf("Len: %d and %d, want %d", one.Len(), batch.Len(), len(ids))
	}
	for _, q := range []string{"Kadyrov", "задержанного", `"detained Грозный"`, "basem*", "Басаева", "слово1499", "слово3", ""} {
		for _, private := range []bool{false, true} {
			query := search.Query{Text: q, Visible: all, SeePrivate: private, Limit: 50}
			a, b := one.Search(query), batch.Search(query)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%q (private %v):\nAdd    %+v\nAddAll %+v", q, private, a, b)
			}
			if q != "слово3" && q != "Басаева" && a.Total == 0 {
				t.Errorf("%q: no hits", q)
			}
		}
	}
}

// TestCrossScriptPrefix: a prefix finds the words it begins in the other
// script and in other spellings (name keys), and no others.
func TestCrossScriptPrefix(t *testing.T) {
	ix := search.New()
	docs := map[string]string{
		"kadyrov": "Men loyal to Kadyrov came at night.", "kadyrova": "Люди Кадырова приехали ночью.",
		"maskhadov": "Aslan Maskhadov's guards were detained.", "mashadov": "Mashadov was named by the witness.",
		"maschadow": "Die Wachen von Maschadow wurden verhaftet.", "karimov": "Карим Каримов, сосед.",
	}
	ids := map[vigil.ID]string{}
	for name, text := range docs {
		id := vigil.NewID()
		ids[id] = name
		ix.Add(search.Document{ID: id, Fields: []search.Field{{Name: "text", Text: text}}})
	}
	for q, want := range map[string][]string{
		"кадыр*":    {"kadyrov", "kadyrova"},
		"kadir*":    {"kadyrov", "kadyrova"},
		"Кадыров*":  {"kadyrov", "kadyrova"},
		"мас*":      {"maskhadov", "mashadov", "maschadow"},
		"Масхадов*": {"maskhadov", "mashadov", "maschadow"},
		"mash*":     {"maskhadov", "mashadov", "maschadow"},
		"кари*":     {"karimov"},
		"kar*":      {"karimov"},
	} {
		var got []string
		for _, h := range ix.Search(search.Query{Text: q, Visible: all, Limit: 50}).Hits {
			got = append(got, ids[h.ID])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
}
