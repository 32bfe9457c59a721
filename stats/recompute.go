package stats

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/figures"
)

// A Record is a record taken from a verified evidence bundle: its kind
// (the statement's), record ID and document (the bundle's content, which
// the statement commits to).
type Record struct {
	Kind     string
	ID       vigil.ID
	Document []byte
}

// Recompute recomputes figure f of a table with the given region level
// from the records of its leaves, byLeaf (leaf index to record), and
// returns an error saying what differs. It checks that every leaf is
// there; that every act falls in the figure's type, month and region (its
// places' records give the region); that every claim affirms a listed act
// and every act has such a claim; and that the number of acts and
// "reported up to" come out as published. "Confirmed at least" is not
// recomputed (see the package doc, Leaves).
func Recompute(f Figure, level int, byLeaf map[int64]Record) error {
	if f.Suppressed {
		return fmt.Errorf("figure %s is hidden: nothing to recompute", f.Key)
	}
	if f.Leaves == nil {
		return fmt.Errorf("figure %s lists no leaves (only the shown type × region cells do; check the others as their sums)", f.Key)
	}
	acts := map[vigil.ID]vigil.Act{}
	places := map[vigil.ID]vigil.Place{}
	placeLeaf := map[vigil.ID]int64{}
	var claims []struct {
		id vigil.ID
		c  vigil.Claim
	}
	for _, l := range f.Leaves {
		r, ok := byLeaf[l]
		if !ok {
			return fmt.Errorf("leaf %d is not in the bundles", l)
		}
		var err error
		switch r.Kind {
		case "act":
			var a vigil.Act
			err = json.Unmarshal(r.Document, &a)
			acts[r.ID] = a
		case "claim":
			var c vigil.Claim
			err = json.Unmarshal(r.Document, &c)
			claims = append(claims, struct {
				id vigil.ID
				c  vigil.Claim
			}{r.ID, c})
		case "place":
			var p vigil.Place
			err = json.Unmarshal(r.Document, &p)
			places[r.ID] = p
			placeLeaf[r.ID] = l
		default:
			return fmt.Errorf("leaf %d is a %s, not an act, claim or place", l, r.Kind)
		}
		if err != nil {
			return fmt.Errorf("leaf %d: %s document: %v", l, r.Kind, err)
		}
	}
	affirming := map[vigil.ID][]vigil.ID{}
	for _, c := range claims {
		if !c.c.Stance.Affirming() {
			return fmt.Errorf("claim %s (stance %s) does not affirm its act", c.id, c.c.Stance)
		}
		if _, ok := acts[c.c.Act]; !ok {
			return fmt.Errorf("claim %s is about act %s, which the figure does not list", c.id, c.c.Act)
		}
		affirming[c.c.Act] = append(affirming[c.c.Act], c.id)
	}
	var in []figures.Act
	for id, a := range acts {
		if len(affirming[id]) == 0 {
			return fmt.Errorf("act %s has no affirming claim among the leaves", id)
		}
		typ := a.Type
		if typ == "" {
			typ = figures.Unknown
		}
		region, _, err := RegionOf(a.Place, level, func(p vigil.ID) (vigil.Place, int64, bool) {
			pl, ok := places[p]
			return pl, placeLeaf[p], ok
		})
		if err != nil {
			return fmt.Errorf("act %s: region: %v (the place records must be bundled too)", id, err)
		}
		for _, d := range []struct{ name, want, got string }{{"type", f.Type, typ}, {"month", f.Month, MonthKey(a.Period.From)}, {"region", f.Region, region}} {
			if d.want != All && d.want != d.got {
				return fmt.Errorf("act %s has %s %s, not the figure's %s", id, d.name, d.got, d.want)
			}
		}
		slices.SortFunc(affirming[id], func(a, b vigil.ID) int { return slices.Compare(a[:], b[:]) })
		in = append(in, figures.Act{ID: id, Act: a, Result: corroborate.Result{Affirming: affirming[id]}})
	}
	got := figures.Total(in)
	if len(got.Acts) != f.Acts {
		return fmt.Errorf("the bundles give %d acts, the file says %d", len(got.Acts), f.Acts)
	}
	if got.ReportedUpTo != f.ReportedUpTo {
		return fmt.Errorf("the bundles give reported up to %d, the file says %d", got.ReportedUpTo, f.ReportedUpTo)
	}
	return nil
}
