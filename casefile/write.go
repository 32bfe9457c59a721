package casefile

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigil-hr/vigil"
)

// An Export is what [Write] and [FileOf] turn into a case file: records
// with their IDs and, where they have one, their keys.
type Export struct {
	// Entries are the records, in any order. Each needs a non-zero ID and
	// a Doc of its Kind's noun (a value or a pointer to one); every ID a
	// Doc refers to (other than evidence and submissions) must be the ID
	// of another entry. An entry without a Key gets Kind-ID, e.g.
	// "act-0123456789abcdefghjkmnpqrs", which is stable across exports.
	Entries []Entry
}

// FileOf turns an export into a File: keys from the entries, references
// from IDs to keys, then [File.Validate] and [File.Sort]. Problems with
// the entries themselves are reported at "entries[i]"; problems of the
// resulting records at their path in the file before sorting, where each
// array holds its kind's entries in export order.
func FileOf(x Export) (*File, error) {
	var probs Problems
	keyOf := make(map[vigil.ID]string, len(x.Entries))
	used := make(map[string]int, len(x.Entries))
	keys := make([]string, len(x.Entries))
	for i, e := range x.Entries {
		path := fmt.Sprintf("entries[%d]", i)
		key := e.Key
		if key == "" {
			key = string(e.Kind) + "-" + e.ID.String()
		}
		keys[i] = key
		if e.ID.IsZero() {
			probs.add(path+".ID", "missing", vigil.ErrInvalid)
			continue
		}
		if prev, dup := keyOf[e.ID]; dup {
			probs.add(path+".ID", fmt.Sprintf("also the ID of key %s", quoteKey(prev)), vigil.ErrInvalid)
			continue
		}
		if j, dup := used[key]; dup {
			probs.add(path+".Key", fmt.Sprintf("key %s also names entries[%d]", quoteKey(key), j), vigil.ErrInvalid)
			continue
		}
		keyOf[e.ID] = key
		used[key] = i
	}
	f := &File{Format: Format}
	for i, e := range x.Entries {
		path := fmt.Sprintf("entries[%d]", i)
		k := func(id vigil.ID) string {
			if id.IsZero() {
				return ""
			}
			key, ok := keyOf[id]
			if !ok {
				probs.add(path, fmt.Sprintf("refers to %s, which is not in the export", id), vigil.ErrInvalid)
			}
			return key
		}
		if !f.add(e.Kind, keys[i], e.Doc, k) {
			probs.add(path+".Doc", fmt.Sprintf("a %T is not a %s", e.Doc, e.Kind), vigil.ErrInvalid)
		}
	}
	if err := probs.err(); err != nil {
		return nil, fmt.Errorf("build case file: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("build case file: %w", err)
	}
	f.Sort()
	return f, nil
}

// add appends doc, a noun of kind, as a record with key; it reports false
// if doc is not of kind's noun type.
func (f *File) add(kind Kind, key string, doc any, k func(vigil.ID) string) bool {
	switch kind {
	case KindPlace:
		if n, ok := deref[vigil.Place](doc); ok {
			f.Places = append(f.Places, placeOf(key, n, k))
			return true
		}
	case KindParty:
		if n, ok := deref[vigil.Party](doc); ok {
			f.Parties = append(f.Parties, partyOf(key, n, k))
			return true
		}
	case KindSource:
		if n, ok := deref[vigil.Source](doc); ok {
			f.Sources = append(f.Sources, sourceOf(key, n, k))
			return true
		}
	case KindPerson:
		if n, ok := deref[vigil.Person](doc); ok {
			f.Persons = append(f.Persons, personOf(key, n))
			return true
		}
	case KindIncident:
		if n, ok := deref[vigil.Incident](doc); ok {
			f.Incidents = append(f.Incidents, incidentOf(key, n, k))
			return true
		}
	case KindAct:
		if n, ok := deref[vigil.Act](doc); ok {
			f.Acts = append(f.Acts, actOf(key, n, k))
			return true
		}
	case KindClaim:
		if n, ok := deref[vigil.Claim](doc); ok {
			f.Claims = append(f.Claims, claimOf(key, n, k))
			return true
		}
	}
	return false
}

// deref accepts a T or a non-nil *T.
func deref[T any](doc any) (T, bool) {
	switch d := doc.(type) {
	case T:
		return d, true
	case *T:
		if d != nil {
			return *d, true
		}
	}
	var zero T
	return zero, false
}

// Write writes the export as a canonical vigil-case/1 file ([FileOf],
// then [Encode]). It writes nothing if the export is invalid: a written
// file always parses.
func Write(w io.Writer, x Export) error {
	f, err := FileOf(x)
	if err != nil {
		return err
	}
	return Encode(w, f)
}

// Sort puts each array's records in key order (by bytes), the order of
// a written file.
func (f *File) Sort() {
	byKey := func(a, b string) int { return strings.Compare(a, b) }
	slices.SortStableFunc(f.Places, func(a, b Place) int { return byKey(a.Key, b.Key) })
	slices.SortStableFunc(f.Parties, func(a, b Party) int { return byKey(a.Key, b.Key) })
	slices.SortStableFunc(f.Sources, func(a, b Source) int { return byKey(a.Key, b.Key) })
	slices.SortStableFunc(f.Persons, func(a, b Person) int { return byKey(a.Key, b.Key) })
	slices.SortStableFunc(f.Incidents, func(a, b Incident) int { return byKey(a.Key, b.Key) })
	slices.SortStableFunc(f.Acts, func(a, b Act) int { return byKey(a.Key, b.Key) })
	slices.SortStableFunc(f.Claims, func(a, b Claim) int { return byKey(a.Key, b.Key) })
}

// sorted returns a copy of f with its arrays sorted and never nil, so
// that empty arrays are written as [].
func (f *File) sorted() *File {
	c := &File{
		Format:    f.Format,
		Places:    append([]Place{}, f.Places...),
		Parties:   append([]Party{}, f.Parties...),
		Sources:   append([]Source{}, f.Sources...),
		Persons:   append([]Person{}, f.Persons...),
		Incidents: append([]Incident{}, f.Incidents...),
		Acts:      append([]Act{}, f.Acts...),
		Claims:    append([]Claim{}, f.Claims...),
	}
	c.Sort()
	return c
}

// Encode writes f as a canonical vigil-case/1 file: every array present,
// in the order of [Kinds], records sorted by key, members in the order of
// the structs, map members sorted, two-space indentation, a final newline,
// and <, > and & escaped as \u003c, \u003e, \u0026 so that the file is
// inert if opened in a browser. f must be valid ([File.Validate]); Encode
// refuses to write a file Parse would refuse. Encode does not modify f.
func Encode(w io.Writer, f *File) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("encode case file: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f.sorted()); err != nil {
		return fmt.Errorf("encode case file: %w", err)
	}
	return nil
}
