// Package figures turns acts and their corroboration results into the
// numbers a report quotes, "at least 40 detained, up to 100", each with the
// acts and claims behind it.
//
// Evaluate every act with package corroborate, then group:
//
//	table, err := figures.Group(figures.ByMonth, acts, places)
//	for month, f := range table {
//		fmt.Println(month, f.ConfirmedAtLeast, f.ReportedUpTo, f.Acts)
//	}
//
// Like corroborate, the package is pure: the same acts always give the
// same table, so anyone holding the records can recompute a published
// figure.
//
// # The formula
//
// For a group G of acts, let C be its acts that are corroborated or
// confirmed (and have an affirming claim), R its acts with at least one
// affirming or partially affirming claim (so C ⊆ R), and P(a) the distinct
// identified victim persons of act a. Then
//
//	confirmed_at_least(G) = |⋃_{a∈C} P(a)| + Σ_{a∈C} max(0, a.Victims.Min − |P(a)|)
//	reported_up_to(G)     = |⋃_{a∈R} P(a)| + Σ_{a∈R} max(0, a.Victims.Max − |P(a)|)
//
// In words: an act contributes its identified victims, a person named in
// two acts of the group counting once, plus its unidentified victims: the
// part of its minimum (or maximum) beyond the persons it names. An act
// whose minimum is lower than the persons it names counts those persons.
// Unidentified victims of different acts are taken to be different people,
// and different from every identified person; where a documenter knows
// otherwise, naming the persons (even by pseudonym) makes the figures
// count them once. Because C ⊆ R and Min <= Max, confirmed_at_least <=
// reported_up_to always holds (TestBounds).
//
// An act is counted once per group even if listed twice. Groups are
// documented on [By]. See TestGroup for one row per rule.
package figures

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
)

// An Act is an act with its record ID and its corroboration result.
type Act struct {
	ID vigil.ID
	vigil.Act
	Result corroborate.Result
}

// A Figure is what a group of acts establishes.
type Figure struct {
	// ConfirmedAtLeast counts victims of corroborated and confirmed acts;
	// see the package doc for the formula.
	ConfirmedAtLeast int `json:"confirmed_at_least"`
	// ReportedUpTo counts victims of acts with an affirming claim.
	ReportedUpTo int `json:"reported_up_to"`
	// Acts are the acts behind ReportedUpTo, ConfirmedActs those behind
	// ConfirmedAtLeast (a subset), and Claims the affirming claims of Acts.
	// All are sorted by ID; none is nil.
	Acts          []vigil.ID `json:"acts"`
	ConfirmedActs []vigil.ID `json:"confirmed_acts"`
	Claims        []vigil.ID `json:"claims"`
}

// By says how [Group] groups acts. Its values are the keys of the
// `--by` flag and of the API.
type By string

// Groupings. Each act falls in one group, except ByPlace.
const (
	// ByType keys by the act's type code, e.g. "arbitrary_detention".
	ByType By = "type"
	// ByMonth keys by the month the act's period starts, "YYYY-MM". An act
	// whose start is known only to the year goes under "YYYY", a bucket
	// of its own that means "some month of that year": it is not spread
	// over the months nor added to any of them. An act that spans months
	// counts in its first month only.
	ByMonth By = "month"
	// ByPlace keys by place ID. An act counts for its place and every
	// place that contains it (its village, district and region), following
	// Parent links; a cycle in them ends the walk.
	ByPlace By = "place"
	// ByIncident keys by incident ID.
	ByIncident By = "incident"
)

// Unknown is the key of acts with no start date, place, type or incident.
const Unknown = "unknown"

// ParseBy parses "type", "month", "place" or "incident"; errors wrap
// [vigil.ErrInvalid].
func ParseBy(s string) (By, error) {
	switch b := By(s); b {
	case ByType, ByMonth, ByPlace, ByIncident:
		return b, nil
	}
	return "", fmt.Errorf("%w: figures by %q: want type, month, place or incident", vigil.ErrInvalid, s)
}

// Group returns the figures of acts grouped by. Every group that holds an
// act has an entry, even if nothing in it is reported. places is used by
// ByPlace only, to follow Parent links; a place missing from it is a
// top-level place.
func Group(by By, acts []Act, places map[vigil.ID]vigil.Place) (map[string]Figure, error) {
	tallies, err := group(by, acts, places, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Figure, len(tallies))
	for k, t := range tallies {
		out[k] = t.figure()
	}
	return out, nil
}

// A Count is a [Figure] without its lists: the numbers a chart draws.
type Count struct {
	ConfirmedAtLeast int
	ReportedUpTo     int
	// Acts and ConfirmedActs are the lengths of Figure's lists.
	Acts, ConfirmedActs int
}

// Counts returns what [Group] returns without the lists of acts and
// claims, at a fraction of the cost: for pages that draw the numbers of
// many acts grouped several ways. The numbers are Group's (TestCounts).
func Counts(by By, acts []Act, places map[vigil.ID]vigil.Place) (map[string]Count, error) {
	tallies, err := group(by, acts, places, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Count, len(tallies))
	for k, t := range tallies {
		f := t.figure()
		out[k] = Count{ConfirmedAtLeast: f.ConfirmedAtLeast, ReportedUpTo: f.ReportedUpTo, Acts: t.acts, ConfirmedActs: t.confirmedActs}
	}
	return out, nil
}

// group tallies acts by, keeping the lists of IDs when lists is set.
func group(by By, acts []Act, places map[vigil.ID]vigil.Place, lists bool) (map[string]*tally, error) {
	keys, err := keyFunc(by, places)
	if err != nil {
		return nil, err
	}
	out := map[string]*tally{}
	for i := range acts {
		a := &acts[i]
		for _, k := range keys(a) {
			t := out[k]
			if t == nil {
				t = newTally(lists)
				out[k] = t
			}
			t.add(a)
		}
	}
	return out, nil
}

func keyFunc(by By, places map[vigil.ID]vigil.Place) (func(*Act) []string, error) {
	orUnknown := func(s string, known bool) []string {
		if !known {
			return []string{Unknown}
		}
		return []string{s}
	}
	switch by {
	case ByType:
		return func(a *Act) []string { return orUnknown(a.Type, a.Type != "") }, nil
	case ByMonth:
		return func(a *Act) []string { return []string{monthKey(a.Period.From)} }, nil
	case ByIncident:
		return func(a *Act) []string { return orUnknown(a.Incident.String(), !a.Incident.IsZero()) }, nil
	case ByPlace:
		parent := func(id vigil.ID) (vigil.ID, bool) {
			p, ok := places[id]
			return p.Parent, ok
		}
		return func(a *Act) []string {
			if a.Place.IsZero() {
				return []string{Unknown}
			}
			up, _ := vigil.Lineage(a.Place, parent)
			keys := []string{a.Place.String()}
			for _, id := range up {
				keys = append(keys, id.String())
			}
			return keys
		}, nil
	}
	_, err := ParseBy(string(by))
	return nil, err
}

// monthKey returns "YYYY-MM", "YYYY" for a date known to the year, or
// Unknown.
func monthKey(d vigil.Date) string {
	switch d.Precision() {
	case 0:
		return Unknown
	case vigil.PrecisionYear:
		return d.String()
	}
	return fmt.Sprintf("%04d-%02d", d.Year(), d.Month())
}

// Total returns the figures of all acts as one group; see the package doc
// for the formula.
func Total(acts []Act) Figure {
	t := newTally(true)
	for i := range acts {
		t.add(&acts[i])
	}
	return t.figure()
}

// A tally is one group's figure as acts are added to it; with lists nil,
// only its numbers.
type tally struct {
	seenAct                           map[vigil.ID]bool
	confirmedPersons, reportedPersons map[vigil.ID]bool
	confirmedExtra, reportedExtra     int // unidentified victims
	acts, confirmedActs               int
	lists                             *Figure // the IDs, or nil
	seenClaim                         map[vigil.ID]bool
}

func newTally(lists bool) *tally {
	t := &tally{seenAct: map[vigil.ID]bool{}, confirmedPersons: map[vigil.ID]bool{}, reportedPersons: map[vigil.ID]bool{}}
	if lists {
		t.lists = &Figure{Acts: []vigil.ID{}, ConfirmedActs: []vigil.ID{}, Claims: []vigil.ID{}}
		t.seenClaim = map[vigil.ID]bool{}
	}
	return t
}

// add counts a in t, unless t counted it before or it has no affirming
// claim.
func (t *tally) add(a *Act) {
	if t.seenAct[a.ID] || len(a.Result.Affirming) == 0 {
		return
	}
	t.seenAct[a.ID] = true
	persons := distinct(a.VictimPersons)
	confirmed := a.Result.Status.Rank() >= corroborate.Corroborated.Rank()

	t.acts++
	for _, p := range persons {
		t.reportedPersons[p] = true
	}
	t.reportedExtra += max(0, a.Victims.Max-len(persons))
	if confirmed {
		t.confirmedActs++
		for _, p := range persons {
			t.confirmedPersons[p] = true
		}
		t.confirmedExtra += max(0, a.Victims.Min-len(persons))
	}
	if f := t.lists; f != nil {
		f.Acts = append(f.Acts, a.ID)
		if confirmed {
			f.ConfirmedActs = append(f.ConfirmedActs, a.ID)
		}
		for _, c := range a.Result.Affirming {
			if !t.seenClaim[c] {
				t.seenClaim[c] = true
				f.Claims = append(f.Claims, c)
			}
		}
	}
}

// figure returns t's figure, its lists sorted by ID (empty without
// lists).
func (t *tally) figure() Figure {
	f := Figure{Acts: []vigil.ID{}, ConfirmedActs: []vigil.ID{}, Claims: []vigil.ID{}}
	if t.lists != nil {
		f = *t.lists
		for _, ids := range [][]vigil.ID{f.Acts, f.ConfirmedActs, f.Claims} {
			slices.SortFunc(ids, func(a, b vigil.ID) int { return bytes.Compare(a[:], b[:]) })
		}
	}
	f.ReportedUpTo = len(t.reportedPersons) + t.reportedExtra
	f.ConfirmedAtLeast = len(t.confirmedPersons) + t.confirmedExtra
	return f
}

// distinct returns ids without zero IDs and repeats.
func distinct(ids []vigil.ID) []vigil.ID {
	var out []vigil.ID
	seen := make(map[vigil.ID]bool, len(ids))
	for _, id := range ids {
		if !id.IsZero() && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
