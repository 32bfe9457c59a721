package cases_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
)

// TestHostileInput: every bad write fails with an error naming the field
// and stores nothing: no record, no leaf, no audit event. Script text is
// stored inertly, byte for byte.
func TestHostileInput(t *testing.T) {
	d, s := openDir(t)
	f := newFixture(t, s, ivan)
	item, err := d.Evidence.Add(ctx, strings.NewReader("scan"), "scan.pdf", "")
	if err != nil {
		t.Fatal(err)
	}
	// A place whose parent is a child of region: region → town → village.
	village := create(t, s, ivan, vigil.Place{Names: map[string]string{"en": "Village"}, Parent: f.town})
	sub := create(t, s, ivan, vigil.Party{Name: "Argun police unit", Parent: f.police})
	claim := func(mod func(*vigil.Claim)) vigil.Claim {
		c := vigil.Claim{Act: f.act, Source: f.ngo, Stance: vigil.Affirms, Credibility: 2}
		mod(&c)
		return c
	}
	act := func(mod func(*vigil.Act)) vigil.Act {
		a := vigil.Act{Incident: f.incident, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}}
		mod(&a)
		return a
	}
	day := func(y, m, dd int) vigil.Date {
		v, err := vigil.NewDate(y, m, dd)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, test := range []struct {
		name  string
		id    vigil.ID // update this record at version 1; zero: create
		doc   cases.Doc
		field string
		err   error
	}{
		{"reliability G", vigil.ID{}, vigil.Source{Name: "x", Type: vigil.SourceNGO, Reliability: "G"}, "reliability", vigil.ErrInvalid},
		{"reliability lowercase", vigil.ID{}, vigil.Source{Name: "x", Type: vigil.SourceNGO, Reliability: "a"}, "reliability", vigil.ErrInvalid},
		{"source type", vigil.ID{}, vigil.Source{Name: "x", Type: "spy", Reliability: "A"}, "type", vigil.ErrInvalid},
		{"credibility 0", vigil.ID{}, claim(func(c *vigil.Claim) { c.Credibility = 0 }), "credibility", vigil.ErrInvalid},
		{"credibility 7", vigil.ID{}, claim(func(c *vigil.Claim) { c.Credibility = 7 }), "credibility", vigil.ErrInvalid},
		{"stance", vigil.ID{}, claim(func(c *vigil.Claim) { c.Stance = "maybe" }), "stance", vigil.ErrInvalid},
		{"dangling act", vigil.ID{}, claim(func(c *vigil.Claim) { c.Act = vigil.NewID() }), "act", vigil.ErrInvalid},
		{"act is a source", vigil.ID{}, claim(func(c *vigil.Claim) { c.Act = f.ngo }), "act", vigil.ErrInvalid},
		{"source is an act", vigil.ID{}, claim(func(c *vigil.Claim) { c.Source = f.act }), "source", vigil.ErrInvalid},
		{"evidence missing", vigil.ID{}, claim(func(c *vigil.Claim) { c.Evidence = []vigil.ID{item.ID, vigil.NewID()} }), "evidence[1]", vigil.ErrInvalid},
		{"evidence is a place", vigil.ID{}, claim(func(c *vigil.Claim) { c.Evidence = []vigil.ID{f.town} }), "evidence[0]", vigil.ErrInvalid},
		{"submission is an item", vigil.ID{}, claim(func(c *vigil.Claim) { c.Submissions = []vigil.ID{item.ID} }), "submissions[0]", vigil.ErrInvalid},
		{"evidence twice", vigil.ID{}, claim(func(c *vigil.Claim) { c.Evidence = []vigil.ID{item.ID, item.ID} }), "evidence[1]", vigil.ErrInvalid},
		{"huge quote", vigil.ID{}, claim(func(c *vigil.Claim) { c.Quote = strings.Repeat("я", vigil.MaxTextLen) }), "quote", vigil.ErrTooLarge},
		{"dangling incident", vigil.ID{}, act(func(a *vigil.Act) { a.Incident = vigil.NewID() }), "incident", vigil.ErrInvalid},
		{"incident is a place", vigil.ID{}, act(func(a *vigil.Act) { a.Incident = f.town }), "incident", vigil.ErrInvalid},
		{"perpetrator is a source", vigil.ID{}, act(func(a *vigil.Act) { a.Perpetrators = []vigil.ID{f.police, f.official} }), "perpetrators[1]", vigil.ErrInvalid},
		{"victim is a party", vigil.ID{}, act(func(a *vigil.Act) { a.VictimPersons = []vigil.ID{f.police} }), "victim_persons[0]", vigil.ErrInvalid},
		{"place is a person", vigil.ID{}, act(func(a *vigil.Act) { a.Place = f.person }), "place", vigil.ErrInvalid},
		{"unknown act type", vigil.ID{}, act(func(a *vigil.Act) { a.Type = "jaywalking" }), "type", vigil.ErrInvalid},
		{"act type form", vigil.ID{}, act(func(a *vigil.Act) { a.Type = "<b>x</b>" }), "type", vigil.ErrInvalid},
		{"victims min > max", vigil.ID{}, act(func(a *vigil.Act) { a.Victims = vigil.VictimCount{Min: 5, Max: 2} }), "victims.min", vigil.ErrInvalid},
		{"victims negative", vigil.ID{}, act(func(a *vigil.Act) { a.Victims = vigil.VictimCount{Min: -1, Max: 2} }), "victims.min", vigil.ErrInvalid},
		{"dates out of order", vigil.ID{}, act(func(a *vigil.Act) { a.Period = vigil.Period{From: day(2017, 5, 2), To: day(2017, 4, 1)} }), "period.to", vigil.ErrInvalid},
		{"incident place is a party", vigil.ID{}, vigil.Incident{Title: "x", Place: f.police}, "place", vigil.ErrInvalid},
		{"huge title", vigil.ID{}, vigil.Incident{Title: strings.Repeat("x", vigil.MaxNameLen+1)}, "title", vigil.ErrTooLarge},
		{"invalid UTF-8", vigil.ID{}, vigil.Party{Name: "bad \xff\xfe"}, "name", vigil.ErrInvalid},
		{"control character", vigil.ID{}, vigil.Party{Name: "a\x00b"}, "name", vigil.ErrInvalid},
		{"place name not a language", vigil.ID{}, vigil.Place{Names: map[string]string{"<script>": "x"}}, "names", vigil.ErrInvalid},
		{"coordinates", vigil.ID{}, vigil.Place{Names: map[string]string{"en": "x"}, Coordinates: &vigil.Coordinates{Lat: 91}}, "coordinates.lat", vigil.ErrInvalid},
		{"parent is a party", vigil.ID{}, vigil.Place{Names: map[string]string{"en": "x"}, Parent: f.police}, "parent", vigil.ErrInvalid},
		{"place self-parent", f.town, vigil.Place{Names: map[string]string{"en": "Argun"}, Parent: f.town}, "parent", vigil.ErrInvalid},
		{"place cycle", f.region, vigil.Place{Names: map[string]string{"en": "Chechnya"}, Parent: village}, "parent", vigil.ErrInvalid},
		{"party self-parent", f.ministry, vigil.Party{Name: "Ministry", Parent: f.ministry}, "parent", vigil.ErrInvalid},
		{"party cycle", f.ministry, vigil.Party{Name: "Ministry", Parent: sub}, "parent", vigil.ErrInvalid},
		{"party parent is a place", vigil.ID{}, vigil.Party{Name: "x", Parent: f.town}, "parent", vigil.ErrInvalid},
		{"source party is a person", vigil.ID{}, vigil.Source{Name: "x", Type: vigil.SourceNGO, Reliability: "A", Party: f.person}, "party", vigil.ErrInvalid},
		{"person script", vigil.ID{}, vigil.Person{Pseudonym: "p", Private: &vigil.PersonPrivate{Names: []vigil.PersonName{{Script: "latin", Name: "n"}}}}, "private.names[0].script", vigil.ErrInvalid},
		{"pseudonym missing", vigil.ID{}, vigil.Person{}, "pseudonym", vigil.ErrInvalid},
		{"update changes kind", f.person, vigil.Party{Name: "x"}, "kind", vigil.ErrInvalid},
	} {
		t.Run(test.name, func(t *testing.T) {
			before := count(t, d)
			var err error
			if test.id.IsZero() {
				kind, _ := kindName(test.doc)
				_, err = s.Create(ctx, ivan, kind, test.doc)
			} else {
				_, err = s.Update(ctx, ivan, test.id, 1, test.doc)
			}
			if !errors.Is(err, test.err) {
				t.Fatalf("got %v, want %v", err, test.err)
			}
			fes := fieldErrs(err)
			if fes[test.field] == nil {
				t.Fatalf("no error names %q: %v", test.field, err)
			}
			if strings.Contains(err.Error(), "\xff") || strings.Contains(err.Error(), "<script>") {
				t.Errorf("the error quotes the value: %v", err)
			}
			sameCounts(t, before, count(t, d))
		})
	}
	t.Run("script stored inertly", func(t *testing.T) {
		name := `<script>alert(1)</script>"'; DROP TABLE records; --`
		id := create(t, s, ivan, vigil.Source{Name: name, Type: vigil.SourceSocialMedia, Reliability: "F"})
		r, err := s.Get(ctx, analyst, id)
		if err != nil || r.Doc.(vigil.Source).Name != name {
			t.Fatalf("%+v, %v", r, err)
		}
	})
	t.Run("create with a taken ID", func(t *testing.T) {
		before := count(t, d)
		_, err := s.Apply(ctx, ivan, []cases.Change{{ID: f.ngo, Doc: vigil.Party{Name: "x"}}})
		if !errors.Is(err, vigil.ErrConflict) {
			t.Fatalf("got %v", err)
		}
		sameCounts(t, before, count(t, d))
	})
	t.Run("not a case record", func(t *testing.T) {
		_, err := s.Create(ctx, ivan, "incident", (*vigil.Incident)(nil))
		if !errors.Is(err, vigil.ErrInvalid) {
			t.Fatalf("got %v", err)
		}
		_, err = s.Create(ctx, ivan, "act", vigil.Incident{Title: "x"})
		if fieldErrs(err)["kind"] == nil {
			t.Fatalf("kind mismatch: %v", err)
		}
	})
}

// TestApplyAllOrNothing: a batch of 50 changes with one bad change stores
// nothing and names the bad change; the same batch fixed stores all 50,
// including changes that refer to records created earlier in the batch.
func TestApplyAllOrNothing(t *testing.T) {
	d, s := openDir(t)
	f := newFixture(t, s, ivan)
	batch := func(bad bool) []cases.Change {
		var cs []cases.Change
		parent := f.region
		for i := range 20 { // a chain of places, each in the previous
			id := vigil.NewID()
			cs = append(cs, cases.Change{ID: id, Key: fmt.Sprintf("place-%d", i), Path: fmt.Sprintf("places[%d]", i),
				Doc: vigil.Place{Names: map[string]string{"en": fmt.Sprintf("place %d", i)}, Parent: parent}})
			parent = id
		}
		inc := vigil.NewID()
		cs = append(cs, cases.Change{ID: inc, Path: "incidents[0]", Doc: vigil.Incident{Title: "batch incident"}})
		for i := range 14 {
			act := vigil.NewID()
			a := vigil.Act{Incident: inc, Type: "arbitrary_detention", Place: cs[i].ID, Victims: vigil.VictimCount{Min: 1, Max: 3}}
			if bad && i == 7 {
				a.Incident = vigil.NewID()
			}
			cs = append(cs,
				cases.Change{ID: act, Path: fmt.Sprintf("acts[%d]", i), Doc: a},
			)
		}
		// 15 claims on the batch's acts, and one update of an existing record.
		for i := range 14 {
			cs = append(cs, cases.Change{Path: fmt.Sprintf("claims[%d]", i),
				Doc: vigil.Claim{Act: cs[21+i].ID, Source: f.ngo, Stance: vigil.Affirms, Credibility: 3}})
		}
		cs = append(cs, cases.Change{ID: f.ngo, Version: 1, Path: "sources[0]",
			Doc: vigil.Source{Name: "NGO hotline (renamed)", Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB, Origin: "hotline"}})
		return cs
	}
	if n := len(batch(false)); n != 50 {
		t.Fatalf("batch of %d", n)
	}
	before := count(t, d)
	_, err := s.Apply(ctx, ivan, batch(true))
	if fieldErrs(err)["acts[7].incident"] == nil {
		t.Fatalf("bad batch: %v", err)
	}
	sameCounts(t, before, count(t, d))
	if r, _ := s.Get(ctx, analyst, f.ngo); r.Version != 1 {
		t.Errorf("the batch's update of the NGO was applied: %+v", r)
	}
	// A batch whose changes are fine one by one but fail together in the
	// store (a dangling evidence item in the last change) stores nothing.
	late := batch(false)
	late[48].Doc = vigil.Claim{Act: late[21].ID, Source: f.ngo, Stance: vigil.Affirms, Credibility: 3, Evidence: []vigil.ID{vigil.NewID()}}
	_, err = s.Apply(ctx, ivan, late)
	if fieldErrs(err)["claims[13].evidence[0]"] == nil {
		t.Fatalf("batch with a dangling item: %v", err)
	}
	sameCounts(t, before, count(t, d))

	refs, err := s.Apply(ctx, ivan, batch(false))
	if err != nil {
		t.Fatal(err)
	}
	after := count(t, d)
	if len(refs) != 50 || after["place"]-before["place"] != 20 || after["claim"]-before["claim"] != 14 ||
		after["audit"]-before["audit"] != 50 || after["tree"]-before["tree"] != 100 {
		t.Errorf("%d refs; before %v, after %v", len(refs), before, after)
	}
	if r, _ := s.Get(ctx, analyst, f.ngo); r.Version != 2 {
		t.Errorf("NGO after the batch: %+v", r)
	}
	kids, err := s.Children(ctx, analyst, f.region)
	if err != nil || len(kids) != 2 { // the town and place 0
		t.Errorf("children of the region: %d, %v", len(kids), err)
	}
	// A record changed twice in one batch is refused.
	_, err = s.Apply(ctx, ivan, []cases.Change{
		{ID: f.ngo, Version: 2, Doc: vigil.Party{Name: "x"}},
		{ID: f.ngo, Version: 2, Doc: vigil.Party{Name: "y"}},
	})
	if fieldErrs(err)["[1].id"] == nil {
		t.Errorf("one record twice: %v", err)
	}
}
