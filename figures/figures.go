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
	keys, err := keyFunc(by, func() map[vigil.ID]vigil.Place { return places })
	if err != nil {
		return nil, err
	}
	tallies := map[string]*tally{}
	for i := range acts {
		a := &acts[i]
		for _, k := range keys(a) {
			t := tallies[k]
			if t == nil {
				t = newTally()
				tallies[k] = t
			}
			t.add(a)
		}
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

// A Counter keeps the counts of acts grouped one or more ways while acts
// are put, replaced and removed one by one: for a page that must not
// count every act again after each write. Its counts are [Group]'s
// numbers over the acts it holds (TestCounter). A Counter is not safe for
// concurrent use.
type Counter struct {
	by     []By
	keys   []func(*Act) []string
	places map[vigil.ID]vigil.Place // read by ByPlace's keys
	groups []map[string]*count      // by grouping, then key
	held   map[vigil.ID]heldAct
	intern map[string]string // one copy of each group key seen
}

// heldAct is an act as a Counter holds it: its group keys in each
// grouping, and its contribution.
type heldAct struct {
	keys [][]string
	c    contribution
}

// NewCounter returns an empty Counter grouping by each of by. places is
// used by ByPlace as in [Group], read as each act is put (an act keeps the
// place groups it was put with); it must not change while c holds it.
func NewCounter(places map[vigil.ID]vigil.Place, by ...By) (*Counter, error) {
	c := &Counter{by: by, places: places, held: map[vigil.ID]heldAct{}, intern: map[string]string{}}
	for _, b := range by {
		keys, err := keyFunc(b, func() map[vigil.ID]vigil.Place { return c.places })
		if err != nil {
			return nil, err
		}
		c.keys = append(c.keys, keys)
		c.groups = append(c.groups, map[string]*count{})
	}
	return c, nil
}

// SetPlaces makes places the places acts are put with from now on: then
// put again every act whose place lineage they moved.
func (c *Counter) SetPlaces(places map[vigil.ID]vigil.Place) { c.places = places }

// Put counts a, in place of the act of the same ID if c holds one.
func (c *Counter) Put(a *Act) {
	c.Remove(a.ID)
	h := heldAct{keys: make([][]string, len(c.by)), c: contributionOf(a)}
	for i, keys := range c.keys {
		h.keys[i] = keys(a)
		for j, k := range h.keys[i] {
			if s, ok := c.intern[k]; ok {
				k = s
			} else {
				c.intern[k] = k
			}
			h.keys[i][j] = k
			g := c.groups[i][k]
			if g == nil {
				g = newCount()
				c.groups[i][k] = g
			}
			g.add(h.c, 1)
		}
	}
	c.held[a.ID] = h
}

// Remove takes act id out of the counts, if c holds it.
func (c *Counter) Remove(id vigil.ID) {
	h, ok := c.held[id]
	if !ok {
		return
	}
	delete(c.held, id)
	for i, keys := range h.keys {
		for _, k := range keys {
			g := c.groups[i][k]
			g.add(h.c, -1)
			if g.held == 0 {
				delete(c.groups[i], k)
			}
		}
	}
}

// Len returns the number of acts c holds.
func (c *Counter) Len() int { return len(c.held) }

// Counts returns the numbers of every group of grouping by that holds an
// act, or nil if c does not group by.
func (c *Counter) Counts(by By) map[string]Count {
	i := slices.Index(c.by, by)
	if i < 0 {
		return nil
	}
	out := make(map[string]Count, len(c.groups[i]))
	for k, g := range c.groups[i] {
		out[k] = g.numbers()
	}
	return out
}

// keyFunc returns the keys of an act's groups; ByPlace reads places()
// each time.
func keyFunc(by By, places func() map[vigil.ID]vigil.Place) (func(*Act) []string, error) {
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
			p, ok := places()[id]
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
	t := newTally()
	for i := range acts {
		t.add(&acts[i])
	}
	return t.figure()
}

// contribution is what one act brings to each group it is in.
type contribution struct {
	persons             []vigil.ID // its identified victims, distinct
	reported, confirmed bool       // it has an affirming claim; and it is corroborated or confirmed
	min, max            int
}

func contributionOf(a *Act) contribution {
	reported := len(a.Result.Affirming) > 0
	return contribution{
		persons:   distinct(a.VictimPersons),
		reported:  reported,
		confirmed: reported && a.Result.Status.Rank() >= corroborate.Corroborated.Rank(),
		min:       a.Victims.Min, max: a.Victims.Max,
	}
}

// A count is one group's numbers. Persons are kept with the number of the
// group's acts that name them, so that an act can be taken out again.
type count struct {
	held                              int // acts in the group, reported or not
	acts, confirmedActs               int
	reportedPersons, confirmedPersons map[vigil.ID]int
	reportedExtra, confirmedExtra     int // unidentified victims
}

func newCount() *count {
	return &count{reportedPersons: map[vigil.ID]int{}, confirmedPersons: map[vigil.ID]int{}}
}

// add adds an act's contribution to g (sign 1) or takes it out (sign -1):
// the formula of the package doc.
func (g *count) add(c contribution, sign int) {
	g.held += sign
	if !c.reported {
		return
	}
	persons := func(m map[vigil.ID]int) {
		for _, p := range c.persons {
			if m[p] += sign; m[p] == 0 {
				delete(m, p)
			}
		}
	}
	g.acts += sign
	persons(g.reportedPersons)
	g.reportedExtra += sign * max(0, c.max-len(c.persons))
	if c.confirmed {
		g.confirmedActs += sign
		persons(g.confirmedPersons)
		g.confirmedExtra += sign * max(0, c.min-len(c.persons))
	}
}

func (g *count) numbers() Count {
	return Count{
		ConfirmedAtLeast: len(g.confirmedPersons) + g.confirmedExtra,
		ReportedUpTo:     len(g.reportedPersons) + g.reportedExtra,
		Acts:             g.acts, ConfirmedActs: g.confirmedActs,
	}
}

// A tally is one group's figure with its lists, as acts are added to it;
// an act listed twice counts once, as its first listing with an affirming
// claim.
type tally struct {
	*count
	seenAct, seenClaim map[vigil.ID]bool
	lists              Figure
}

func newTally() *tally {
	return &tally{count: newCount(), seenAct: map[vigil.ID]bool{}, seenClaim: map[vigil.ID]bool{},
		lists: Figure{Acts: []vigil.ID{}, ConfirmedActs: []vigil.ID{}, Claims: []vigil.ID{}}}
}

func (t *tally) add(a *Act) {
	if t.seenAct[a.ID] {
		return
	}
	c := contributionOf(a)
	t.count.add(c, 1)
	if !c.reported {
		return
	}
	t.seenAct[a.ID] = true
	f := &t.lists
	f.Acts = append(f.Acts, a.ID)
	if c.confirmed {
		f.ConfirmedActs = append(f.ConfirmedActs, a.ID)
	}
	for _, id := range a.Result.Affirming {
		if !t.seenClaim[id] {
			t.seenClaim[id] = true
			f.Claims = append(f.Claims, id)
		}
	}
}

// figure returns t's figure, its lists sorted by ID.
func (t *tally) figure() Figure {
	f := t.lists
	for _, ids := range [][]vigil.ID{f.Acts, f.ConfirmedActs, f.Claims} {
		slices.SortFunc(ids, func(a, b vigil.ID) int { return bytes.Compare(a[:], b[:]) })
	}
	n := t.numbers()
	f.ConfirmedAtLeast, f.ReportedUpTo = n.ConfirmedAtLeast, n.ReportedUpTo
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
