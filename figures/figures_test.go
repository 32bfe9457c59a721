package figures_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/figures"
)

var (
	p1, p2, p3 = vigil.NewID(), vigil.NewID(), vigil.NewID()
	inc1, inc2 = vigil.NewID(), vigil.NewID()

	region, district, village, otherRegion = vigil.NewID(), vigil.NewID(), vigil.NewID(), vigil.NewID()
	loopX, loopY                           = vigil.NewID(), vigil.NewID()

	places = map[vigil.ID]vigil.Place{
		region:      {Names: map[string]string{"en": "Chechnya"}},
		district:    {Names: map[string]string{"en": "Argun district"}, Parent: region},
		village:     {Names: map[string]string{"en": "a village"}, Parent: district},
		otherRegion: {Names: map[string]string{"en": "Dagestan"}},
		loopX:       {Names: map[string]string{"en": "X"}, Parent: loopY},
		loopY:       {Names: map[string]string{"en": "Y"}, Parent: loopX},
	}
)

// spec describes an act for a test row.
type spec struct {
	status   corroborate.Status
	min, max int
	persons  []vigil.ID
	typ      string
	from     string // period start
	place    vigil.ID
	incident vigil.ID
}

// act builds an act whose result has the given status; any status but
// unverified gets one affirming claim (an unverified act gets a denial).
func act(s spec) figures.Act {
	a := figures.Act{ID: vigil.NewID()}
	a.Incident = s.incident
	if a.Incident.IsZero() {
		a.Incident = inc1
	}
	a.Type = s.typ
	if a.Type == "" {
		a.Type = "arbitrary_detention"
	}
	if s.from != "" {
		d, err := vigil.ParseDate(s.from)
		if err != nil {
			panic(err)
		}
		a.Period.From = d
	}
	a.Place = s.place
	a.Victims = vigil.VictimCount{Min: s.min, Max: s.max}
	a.VictimPersons = s.persons
	a.Result.Status = s.status
	if s.status != corroborate.Unverified {
		a.Result.Affirming = []vigil.ID{vigil.NewID()}
	} else {
		a.Result.Denials = []corroborate.Denial{{Claim: vigil.NewID()}}
	}
	return a
}

var (
	unverified   = corroborate.Unverified
	reported     = corroborate.Reported
	corroborated = corroborate.Corroborated
	confirmed    = corroborate.Confirmed
)

// TestTotal has one row per rule of the formula.
func TestTotal(t *testing.T) {
	twice := act(spec{status: corroborated, min: 3, max: 4})
	for _, test := range []struct {
		desc              string
		acts              []figures.Act
		atLeast, upTo     int
		nActs, nConfirmed int
	}{
		{"no acts", nil, 0, 0, 0, 0},
		{"an unverified act counts nowhere", []figures.Act{act(spec{status: unverified, min: 5, max: 9})}, 0, 0, 0, 0},
		{"a reported act counts up to its maximum only", []figures.Act{act(spec{status: reported, min: 5, max: 9})}, 0, 9, 1, 0},
		{"a corroborated act counts at least its minimum", []figures.Act{act(spec{status: corroborated, min: 5, max: 9})}, 5, 9, 1, 1},
		{"a confirmed act counts like a corroborated one", []figures.Act{act(spec{status: confirmed, min: 5, max: 9})}, 5, 9, 1, 1},
		{"corroborated and reported differ", []figures.Act{act(spec{status: corroborated, min: 2, max: 5}), act(spec{status: reported, min: 3, max: 10})}, 2, 15, 2, 1},
		{"a person in two acts counts once", []figures.Act{act(spec{status: corroborated, min: 1, max: 1, persons: []vigil.ID{p1}}), act(spec{status: confirmed, min: 1, max: 1, persons: []vigil.ID{p1}})}, 1, 1, 2, 2},
		{"identified and unidentified victims add up", []figures.Act{act(spec{status: corroborated, min: 10, max: 20, persons: []vigil.ID{p1, p2}}), act(spec{status: corroborated, min: 1, max: 1, persons: []vigil.ID{p1}})}, 10, 20, 2, 2},
		{"a minimum below the persons named counts the persons", []figures.Act{act(spec{status: corroborated, min: 0, max: 3, persons: []vigil.ID{p1, p2}})}, 2, 3, 1, 1},
		{"a person of a reported act counts only up to", []figures.Act{act(spec{status: corroborated, min: 1, max: 1, persons: []vigil.ID{p1}}), act(spec{status: reported, min: 1, max: 1, persons: []vigil.ID{p3}})}, 1, 2, 2, 1},
		{"a person named twice in one act counts once", []figures.Act{act(spec{status: corroborated, min: 1, max: 2, persons: []vigil.ID{p1, p1}})}, 1, 2, 1, 1},
		{"an act listed twice counts once", []figures.Act{twice, twice}, 3, 4, 1, 1},
		{"a corroborated status without an affirming claim counts nowhere", []figures.Act{func() figures.Act {
			a := act(spec{status: corroborated, min: 5, max: 9})
			a.Result.Affirming = nil
			return a
		}()}, 0, 0, 0, 0},
	} {
		t.Run(test.desc, func(t *testing.T) {
			f := figures.Total(test.acts)
			if f.ConfirmedAtLeast != test.atLeast || f.ReportedUpTo != test.upTo || len(f.Acts) != test.nActs || len(f.ConfirmedActs) != test.nConfirmed {
				t.Errorf("got at least %d, up to %d, %d acts, %d confirmed; want %d, %d, %d, %d",
					f.ConfirmedAtLeast, f.ReportedUpTo, len(f.Acts), len(f.ConfirmedActs), test.atLeast, test.upTo, test.nActs, test.nConfirmed)
			}
			for _, a := range test.acts {
				if slices.Contains(f.Acts, a.ID) {
					for _, c := range a.Result.Affirming {
						if !slices.Contains(f.Claims, c) {
							t.Errorf("claim %s of counted act %s not listed", c, a.ID)
						}
					}
				}
			}
		})
	}
}

// TestGroup checks the groupings: month buckets, places with their
// children, types and incidents.
func TestGroup(t *testing.T) {
	type want map[string][2]int // key -> {at least, up to}
	for _, test := range []struct {
		desc string
		by   figures.By
		acts []figures.Act
		want want
	}{
		{"month: a day and a month of March go to 2017-03", figures.ByMonth, []figures.Act{
			act(spec{status: corroborated, min: 1, max: 2, from: "2017-03-14"}),
			act(spec{status: corroborated, min: 3, max: 4, from: "2017-03"}),
		}, want{"2017-03": {4, 6}}},
		{"month: a date known to the year goes to its own bucket", figures.ByMonth, []figures.Act{
			act(spec{status: corroborated, min: 1, max: 2, from: "2017-03"}),
			act(spec{status: corroborated, min: 3, max: 4, from: "2017"}),
		}, want{"2017-03": {1, 2}, "2017": {3, 4}}},
		{"month: no date is unknown", figures.ByMonth, []figures.Act{act(spec{status: reported, min: 1, max: 2})}, want{"unknown": {0, 2}}},
		{"month: a period counts in its first month", figures.ByMonth, []figures.Act{func() figures.Act {
			a := act(spec{status: corroborated, min: 1, max: 2, from: "2017-03-30"})
			a.Period.To, _ = vigil.ParseDate("2017-05")
			return a
		}()}, want{"2017-03": {1, 2}}},
		{"month: an unverified act still has its group, with zeros", figures.ByMonth, []figures.Act{act(spec{status: unverified, min: 1, max: 2, from: "2017-04"})}, want{"2017-04": {0, 0}}},
		{"place: an act in a village counts for its district and region", figures.ByPlace, []figures.Act{
			act(spec{status: corroborated, min: 1, max: 2, place: village}),
			act(spec{status: reported, min: 3, max: 4, place: district}),
			act(spec{status: corroborated, min: 5, max: 6, place: otherRegion}),
		}, want{village.String(): {1, 2}, district.String(): {1, 6}, region.String(): {1, 6}, otherRegion.String(): {5, 6}}},
		{"place: a person in acts in two villages of a region counts once for the region", figures.ByPlace, []figures.Act{
			act(spec{status: corroborated, min: 1, max: 1, place: village, persons: []vigil.ID{p1}}),
			act(spec{status: corroborated, min: 1, max: 1, place: district, persons: []vigil.ID{p1}}),
		}, want{village.String(): {1, 1}, district.String(): {1, 1}, region.String(): {1, 1}}},
		{"place: a cycle in the gazetteer does not hang and counts each place once", figures.ByPlace, []figures.Act{act(spec{status: corroborated, min: 1, max: 2, place: loopX})},
			want{loopX.String(): {1, 2}, loopY.String(): {1, 2}}},
		{"place: a place missing from the gazetteer counts for itself", figures.ByPlace, []figures.Act{act(spec{status: corroborated, min: 1, max: 2, place: p3})}, want{p3.String(): {1, 2}}},
		{"place: no place is unknown", figures.ByPlace, []figures.Act{act(spec{status: corroborated, min: 1, max: 2})}, want{"unknown": {1, 2}}},
		{"type: by code", figures.ByType, []figures.Act{
			act(spec{status: corroborated, min: 40, max: 100, typ: "arbitrary_detention"}),
			act(spec{status: reported, min: 2, max: 2, typ: "killing"}),
		}, want{"arbitrary_detention": {40, 100}, "killing": {0, 2}}},
		{"incident: by ID", figures.ByIncident, []figures.Act{
			act(spec{status: corroborated, min: 1, max: 2, incident: inc1}),
			act(spec{status: confirmed, min: 3, max: 4, incident: inc2}),
		}, want{inc1.String(): {1, 2}, inc2.String(): {3, 4}}},
	} {
		t.Run(test.desc, func(t *testing.T) {
			got, err := figures.Group(test.by, test.acts, places)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(test.want) {
				t.Errorf("groups %v, want %v", keys(got), test.want)
			}
			for k, w := range test.want {
				f, ok := got[k]
				if !ok || f.ConfirmedAtLeast != w[0] || f.ReportedUpTo != w[1] {
					t.Errorf("%s: %+v, want at least %d, up to %d", k, f, w[0], w[1])
				}
			}
		})
	}
}

func keys(m map[string]figures.Figure) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestParseBy(t *testing.T) {
	for _, s := range []string{"type", "month", "place", "incident"} {
		if b, err := figures.ParseBy(s); err != nil || string(b) != s {
			t.Errorf("ParseBy(%q) = %q, %v", s, b, err)
		}
	}
	for _, s := range []string{"", "year", "Type"} {
		if _, err := figures.ParseBy(s); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("ParseBy(%q): %v", s, err)
		}
		if _, err := figures.Group(figures.By(s), nil, nil); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("Group(%q): %v", s, err)
		}
	}
}

// TestJSON checks the shape the CLI and API print.
func TestJSON(t *testing.T) {
	table, err := figures.Group(figures.ByType, []figures.Act{act(spec{status: unverified, typ: "torture"})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(table)
	if want := `{"torture":{"confirmed_at_least":0,"reported_up_to":0,"acts":[],"confirmed_acts":[],"claims":[]}}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

// TestBounds checks over seeded random acts that confirmed_at_least never
// exceeds reported_up_to, in every grouping, and that adding an act never
// lowers a figure of the groups it joins.
func TestBounds(t *testing.T) {
	statuses := []corroborate.Status{unverified, reported, corroborated, confirmed}
	persons := []vigil.ID{p1, p2, p3}
	allPlaces := []vigil.ID{region, district, village, otherRegion, loopX, {}}
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 1))
		var acts []figures.Act
		for range 1 + r.IntN(8) {
			min := r.IntN(5)
			s := spec{status: statuses[r.IntN(4)], min: min, max: min + r.IntN(5), place: allPlaces[r.IntN(len(allPlaces))],
				from: []string{"", "2017", "2017-03", "2017-03-14", "2018-01"}[r.IntN(5)], typ: []string{"torture", "killing"}[r.IntN(2)]}
			for _, p := range persons {
				if r.IntN(3) == 0 && len(s.persons) < s.max {
					s.persons = append(s.persons, p)
				}
			}
			acts = append(acts, act(s))
		}
		for _, by := range []figures.By{figures.ByType, figures.ByMonth, figures.ByPlace, figures.ByIncident} {
			before, _ := figures.Group(by, acts[:len(acts)-1], places)
			after, _ := figures.Group(by, acts, places)
			for k, f := range after {
				if f.ConfirmedAtLeast > f.ReportedUpTo {
					t.Errorf("seed %d, %s %s: at least %d > up to %d", seed, by, k, f.ConfirmedAtLeast, f.ReportedUpTo)
				}
				if b, ok := before[k]; ok && (f.ConfirmedAtLeast < b.ConfirmedAtLeast || f.ReportedUpTo < b.ReportedUpTo) {
					t.Errorf("seed %d, %s %s: adding an act lowered %+v to %+v", seed, by, k, b, f)
				}
			}
		}
	}
}

// TestWithCorroborate runs the two packages together on a small case: a
// wave of detentions reported by two origins, and a killing by one.
func TestWithCorroborate(t *testing.T) {
	hotline, paper, ministry := vigil.NewID(), vigil.NewID(), vigil.NewID()
	sources := map[vigil.ID]vigil.Source{
		hotline:  {Name: "hotline", Type: vigil.SourceNGO, Reliability: "B", Origin: "hotline"},
		paper:    {Name: "paper", Type: vigil.SourceMedia, Reliability: "C"},
		ministry: {Name: "ministry", Type: vigil.SourceOfficial, Reliability: "F"},
	}
	eval := func(a vigil.Act, stances ...vigil.Stance) figures.Act {
		id := vigil.NewID()
		var cs []corroborate.Claim
		for i, s := range stances {
			src := []vigil.ID{hotline, paper, ministry}[i]
			cs = append(cs, corroborate.Claim{ID: vigil.NewID(), Claim: vigil.Claim{Act: id, Source: src, Stance: s, Credibility: 3}})
		}
		res, err := corroborate.Evaluate(corroborate.Input{ActID: id, Act: a, Claims: cs, Sources: sources}, corroborate.DefaultRules())
		if err != nil {
			t.Fatal(err)
		}
		return figures.Act{ID: id, Act: a, Result: res}
	}
	detention := eval(vigil.Act{Incident: inc1, Type: "arbitrary_detention", Victims: vigil.VictimCount{Min: 40, Max: 100}}, vigil.Affirms, vigil.PartiallyAffirms, vigil.Denies)
	killing := eval(vigil.Act{Incident: inc1, Type: "killing", Victims: vigil.VictimCount{Min: 2, Max: 3}}, vigil.Affirms)
	table, _ := figures.Group(figures.ByType, []figures.Act{detention, killing}, nil)
	if d := table["arbitrary_detention"]; d.ConfirmedAtLeast != 40 || d.ReportedUpTo != 100 || len(d.Claims) != 2 {
		t.Errorf("detentions %+v", d)
	}
	if k := table["killing"]; k.ConfirmedAtLeast != 0 || k.ReportedUpTo != 3 {
		t.Errorf("killings %+v", k)
	}
	if s := strings.Join(keys(table), ","); len(table) != 2 {
		t.Errorf("groups %s", s)
	}
}

// TestCounter puts, replaces and removes seeded random acts in a Counter
// of every grouping and checks after each step that its counts are
// Group's numbers over the acts it holds.
func TestCounter(t *testing.T) {
	statuses := []corroborate.Status{unverified, reported, corroborated, confirmed}
	persons := []vigil.ID{p1, p2, p3}
	allPlaces := []vigil.ID{region, district, village, otherRegion, loopX, {}}
	random := func(r *rand.Rand) figures.Act {
		min := r.IntN(5)
		s := spec{status: statuses[r.IntN(4)], min: min, max: min + r.IntN(5), place: allPlaces[r.IntN(len(allPlaces))],
			from: []string{"", "2017", "2017-03", "2018-01"}[r.IntN(4)], typ: []string{"torture", "killing"}[r.IntN(2)],
			incident: []vigil.ID{inc1, inc2}[r.IntN(2)]}
		for _, p := range persons {
			if r.IntN(3) == 0 {
				s.persons = append(s.persons, p, p)
			}
		}
		return act(s)
	}
	all := []figures.By{figures.ByType, figures.ByMonth, figures.ByPlace, figures.ByIncident}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 2))
		c, err := figures.NewCounter(places, all...)
		if err != nil {
			t.Fatal(err)
		}
		held := map[vigil.ID]figures.Act{}
		var ids []vigil.ID
		for step := range 30 {
			switch n := r.IntN(10); {
			case n < 5 || len(ids) == 0:
				a := random(r)
				ids = append(ids, a.ID)
				held[a.ID] = a
				c.Put(&a)
			case n < 8: // replace
				a := random(r)
				a.ID = ids[r.IntN(len(ids))]
				held[a.ID] = a
				c.Put(&a)
			default:
				id := ids[r.IntN(len(ids))]
				delete(held, id)
				c.Remove(id)
			}
			var acts []figures.Act
			for _, a := range held {
				acts = append(acts, a)
			}
			if c.Len() != len(held) {
				t.Fatalf("seed %d, step %d: %d acts held for %d", seed, step, c.Len(), len(held))
			}
			for _, by := range all {
				table, err := figures.Group(by, acts, places)
				if err != nil {
					t.Fatal(err)
				}
				counts := c.Counts(by)
				if len(counts) != len(table) {
					t.Fatalf("%s, seed %d, step %d: %d counts for %d groups", by, seed, step, len(counts), len(table))
				}
				for k, f := range table {
					want := figures.Count{ConfirmedAtLeast: f.ConfirmedAtLeast, ReportedUpTo: f.ReportedUpTo, Acts: len(f.Acts), ConfirmedActs: len(f.ConfirmedActs)}
					if got, ok := counts[k]; !ok || got != want {
						t.Fatalf("%s, seed %d, step %d, group %s: counts %+v, want %+v", by, seed, step, k, got, want)
					}
				}
			}
		}
	}
	if _, err := figures.NewCounter(nil, figures.ByType, "week"); !errors.Is(err, vigil.ErrInvalid) {
		t.Errorf("NewCounter by week: %v", err)
	}
	if c, _ := figures.NewCounter(nil, figures.ByType); c.Counts(figures.ByMonth) != nil {
		t.Errorf("Counts by a grouping the Counter does not keep")
	}
}
