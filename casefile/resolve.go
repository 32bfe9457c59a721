package casefile

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vigil-hr/vigil"
)

// An Entry is one record with its kind, key and ID. Doc is the vigil noun
// of the kind, as a value: a [vigil.Place] for [KindPlace], a
// [vigil.Party] for [KindParty], and so on, with every reference an ID.
type Entry struct {
	Kind Kind
	Key  string
	ID   vigil.ID
	Doc  any
}

// Resolve validates f ([File.Validate]) and returns its records as vigil
// nouns in dependency order, so that an importer can store them one by
// one and every reference names a record stored before it: places, each
// after its parent; parties, each after its parent; then sources, persons,
// incidents, acts and claims. Within a kind, records are in key order
// (places and parties: by depth in the parent tree, then key).
//
// idOf gives the ID of each key: an existing record's ID when the importer
// already holds a record with that key (so that importing a file again
// updates it), a new [vigil.NewID] otherwise. Resolve calls it once per
// record, in the order of the result, and uses the answers for every
// reference. An ID that is zero or given for two keys is a problem,
// reported as a [*Problems] at the record's key.
func Resolve(f *File, idOf func(key string) vigil.ID) ([]Entry, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("resolve case file: %w", err)
	}
	type rec struct {
		kind  Kind
		key   string
		path  string
		depth int
		doc   func(func(string) vigil.ID) any
	}
	var recs []rec
	depth := func(parents map[string]string, key string) int {
		n := 0
		for k := parents[key]; k != ""; k = parents[k] {
			n++ // Validate refused cycles, so this ends
		}
		return n
	}
	pp := make(map[string]string, len(f.Places))
	for _, r := range f.Places {
		pp[r.Key] = r.Parent
	}
	for i, r := range f.Places {
		recs = append(recs, rec{KindPlace, r.Key, fmt.Sprintf("$.places[%d].key", i), depth(pp, r.Key),
			func(id func(string) vigil.ID) any { return r.noun(id) }})
	}
	pt := make(map[string]string, len(f.Parties))
	for _, r := range f.Parties {
		pt[r.Key] = r.Parent
	}
	for i, r := range f.Parties {
		recs = append(recs, rec{KindParty, r.Key, fmt.Sprintf("$.parties[%d].key", i), depth(pt, r.Key),
			func(id func(string) vigil.ID) any { return r.noun(id) }})
	}
	for i, r := range f.Sources {
		recs = append(recs, rec{KindSource, r.Key, fmt.Sprintf("$.sources[%d].key", i), 0,
			func(id func(string) vigil.ID) any { return r.noun(id) }})
	}
	for i, r := range f.Persons {
		recs = append(recs, rec{KindPerson, r.Key, fmt.Sprintf("$.persons[%d].key", i), 0,
			func(func(string) vigil.ID) any { return r.noun() }})
	}
	for i, r := range f.Incidents {
		recs = append(recs, rec{KindIncident, r.Key, fmt.Sprintf("$.incidents[%d].key", i), 0,
			func(id func(string) vigil.ID) any { return r.noun(id) }})
	}
	for i, r := range f.Acts {
		recs = append(recs, rec{KindAct, r.Key, fmt.Sprintf("$.acts[%d].key", i), 0,
			func(id func(string) vigil.ID) any { return r.noun(id) }})
	}
	for i, r := range f.Claims {
		recs = append(recs, rec{KindClaim, r.Key, fmt.Sprintf("$.claims[%d].key", i), 0,
			func(id func(string) vigil.ID) any {
				return r.noun(id, func(s string) vigil.ID { id, _ := canonicalID(s); return id })
			}})
	}
	slices.SortStableFunc(recs, func(a, b rec) int {
		return cmp.Or(cmp.Compare(a.kind.rank(), b.kind.rank()), cmp.Compare(a.depth, b.depth), cmp.Compare(a.key, b.key))
	})

	ids := make(map[string]vigil.ID, len(recs))
	owner := make(map[vigil.ID]string, len(recs))
	var probs Problems
	for _, r := range recs {
		id := idOf(r.key)
		switch prev, dup := owner[id]; {
		case id.IsZero():
			probs.add(r.path, "the importer gave no ID for this key", vigil.ErrInvalid)
		case dup:
			probs.add(r.path, fmt.Sprintf("the importer gave this key the ID of key %s too", quoteKey(prev)), vigil.ErrInvalid)
		}
		ids[r.key] = id
		owner[id] = r.key
	}
	if err := probs.err(); err != nil {
		return nil, fmt.Errorf("resolve case file: %w", err)
	}
	lookup := func(key string) vigil.ID { return ids[key] } // "" gives zero
	out := make([]Entry, len(recs))
	for i, r := range recs {
		out[i] = Entry{Kind: r.kind, Key: r.key, ID: ids[r.key], Doc: r.doc(lookup)}
	}
	return out, nil
}
