package casefile

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/vocab"
)

// Validate checks the whole file as [Parse] does after decoding: the
// format; keys present, at most [MaxKeyLen] bytes, without control
// characters or ";", unique in the file; each record's own Validate, its
// problems placed under the record's path; every reference naming a
// record of the right array; act types known to package vocab; evidence
// and submission IDs in canonical form; no cycle of place or party
// parents. It returns nil or a [*Problems].
func (f *File) Validate() error {
	var probs Problems
	v := validator{f: f, probs: &probs}
	v.run()
	return probs.err()
}

type loc struct {
	kind  Kind
	index int
}

// validator checks a decoded File. skip holds the paths where decoding
// already found a problem: what lies under them is not reported again.
type validator struct {
	f     *File
	probs *Problems
	skip  map[string]bool
	keys  map[string]loc // first record with each key
}

func (v *validator) add(path, msg string, err error) {
	if v.skipped(path) {
		return
	}
	v.probs.add(path, msg, err)
}

func (v *validator) skipped(path string) bool {
	if len(v.skip) == 0 {
		return false
	}
	for p := path; ; {
		if v.skip[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return false
		}
		p = p[:i]
	}
}

// keyedArrays returns each kind with the keys of its records, in order.
func keyedArrays(f *File) []struct {
	kind Kind
	keys []string
} {
	type ka = struct {
		kind Kind
		keys []string
	}
	out := []ka{{kind: KindPlace}, {kind: KindParty}, {kind: KindSource}, {kind: KindPerson}, {kind: KindIncident}, {kind: KindAct}, {kind: KindClaim}}
	for _, r := range f.Places {
		out[0].keys = append(out[0].keys, r.Key)
	}
	for _, r := range f.Parties {
		out[1].keys = append(out[1].keys, r.Key)
	}
	for _, r := range f.Sources {
		out[2].keys = append(out[2].keys, r.Key)
	}
	for _, r := range f.Persons {
		out[3].keys = append(out[3].keys, r.Key)
	}
	for _, r := range f.Incidents {
		out[4].keys = append(out[4].keys, r.Key)
	}
	for _, r := range f.Acts {
		out[5].keys = append(out[5].keys, r.Key)
	}
	for _, r := range f.Claims {
		out[6].keys = append(out[6].keys, r.Key)
	}
	return out
}

// stand-in IDs for validating nouns: distinct for distinct keys, zero for
// the empty key, so the nouns' own checks (missing, listed twice) apply.
func keyID(key string) vigil.ID {
	if key == "" {
		return vigil.ID{}
	}
	sum := sha256.Sum256([]byte("vigil-case key\x00" + key))
	return vigil.ID(sum[:16])
}

// parsedID returns the ID s names, or a stand-in if s is malformed (which
// the validator reports itself).
func parsedID(s string) vigil.ID {
	if s == "" {
		return vigil.ID{}
	}
	if id, ok := canonicalID(s); ok {
		return id
	}
	sum := sha256.Sum256([]byte("vigil-case bad id\x00" + s))
	return vigil.ID(sum[:16])
}

// canonicalID parses s as a vigil ID in the form ID.String gives.
func canonicalID(s string) (vigil.ID, bool) {
	id, err := vigil.ParseID(s)
	return id, err == nil && id.String() == s
}

func (v *validator) run() {
	f := v.f
	switch {
	case f.Format == "":
		v.add("$.format", "missing; want "+quoteKey(Format), vigil.ErrInvalid)
	case f.Format != Format:
		v.add("$.format", "not "+quoteKey(Format)+", the only format this reader knows", vigil.ErrInvalid)
	}

	v.keys = make(map[string]loc)
	for _, a := range keyedArrays(f) {
		for i, key := range a.keys {
			path := fmt.Sprintf("$.%s[%d].key", a.kind.Array(), i)
			v.checkKey(path, key)
			if key == "" {
				continue
			}
			if prev, dup := v.keys[key]; dup {
				v.add(path, fmt.Sprintf("key %s already used by $.%s[%d]", quoteKey(key), prev.kind.Array(), prev.index), vigil.ErrInvalid)
				continue
			}
			v.keys[key] = loc{a.kind, i}
		}
	}

	for i, r := range f.Places {
		path := fmt.Sprintf("$.places[%d]", i)
		v.fields(path, r.noun(keyID).Validate())
		v.ref(path+".parent", r.Parent, KindPlace)
	}
	for i, r := range f.Parties {
		path := fmt.Sprintf("$.parties[%d]", i)
		v.fields(path, r.noun(keyID).Validate())
		v.ref(path+".parent", r.Parent, KindParty)
	}
	for i, r := range f.Sources {
		path := fmt.Sprintf("$.sources[%d]", i)
		v.fields(path, r.noun(keyID).Validate())
		v.ref(path+".party", r.Party, KindParty)
	}
	for i, r := range f.Persons {
		v.fields(fmt.Sprintf("$.persons[%d]", i), r.noun().Validate())
	}
	for i, r := range f.Incidents {
		path := fmt.Sprintf("$.incidents[%d]", i)
		v.fields(path, r.noun(keyID).Validate())
		v.ref(path+".place", r.Place, KindPlace)
	}
	types := make(map[string]bool)
	for _, t := range vocab.ActTypes() {
		types[t.Code] = true
	}
	for i, r := range f.Acts {
		path := fmt.Sprintf("$.acts[%d]", i)
		bad := v.fields(path, r.noun(keyID).Validate())
		if !bad["type"] && !types[r.Type] {
			v.add(path+".type", "not an act type of the vocabulary (package vocab)", vigil.ErrInvalid)
		}
		v.ref(path+".incident", r.Incident, KindIncident)
		v.ref(path+".place", r.Place, KindPlace)
		v.refs(path+".victim_persons", r.VictimPersons, KindPerson)
		v.refs(path+".perpetrators", r.Perpetrators, KindParty)
	}
	for i, r := range f.Claims {
		path := fmt.Sprintf("$.claims[%d]", i)
		v.fields(path, r.noun(keyID, parsedID).Validate())
		v.ref(path+".act", r.Act, KindAct)
		v.ref(path+".source", r.Source, KindSource)
		v.ids(path+".evidence", r.Evidence)
		v.ids(path+".submissions", r.Submissions)
	}

	places := make([]string, len(f.Places))
	placeKeys := make([]string, len(f.Places))
	for i, r := range f.Places {
		placeKeys[i], places[i] = r.Key, r.Parent
	}
	v.cycles(KindPlace, placeKeys, places)
	parties := make([]string, len(f.Parties))
	partyKeys := make([]string, len(f.Parties))
	for i, r := range f.Parties {
		partyKeys[i], parties[i] = r.Key, r.Parent
	}
	v.cycles(KindParty, partyKeys, parties)
}

// checkKey checks the form of a key.
func (v *validator) checkKey(path, key string) {
	switch {
	case key == "":
		v.add(path, "missing", vigil.ErrInvalid)
		return
	case len(key) > MaxKeyLen:
		v.add(path, fmt.Sprintf("longer than %d bytes", MaxKeyLen), vigil.ErrTooLarge)
		return
	case !utf8.ValidString(key):
		v.add(path, "not valid UTF-8", vigil.ErrInvalid)
		return
	case strings.Contains(key, ";"):
		v.add(path, "contains ;, which joins lists in the CSV form", vigil.ErrInvalid)
		return
	}
	for _, r := range key {
		if r < 0x20 || 0x7f <= r && r <= 0x9f {
			v.add(path, "contains a control character", vigil.ErrInvalid)
			return
		}
	}
}

// fields adds the problems of a record's Validate under path, and
// returns the fields they name.
func (v *validator) fields(path string, err error) map[string]bool {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	named := make(map[string]bool)
	for _, e := range errs {
		var fe *vigil.FieldError
		if errors.As(e, &fe) {
			named[fe.Field] = true
			v.add(path+"."+fe.Field, fe.Problem, fe.Err)
			continue
		}
		v.add(path, e.Error(), vigil.ErrInvalid)
	}
	return named
}

// ref checks that key, if set, names a record of kind want. A missing
// required reference is the record's own Validate's to report.
func (v *validator) ref(path, key string, want Kind) {
	if key == "" {
		return
	}
	l, ok := v.keys[key]
	switch {
	case !ok:
		if v.skipped("$." + want.Array()) {
			return // that array did not decode; its keys are unknown
		}
		v.add(path, fmt.Sprintf("no %s with key %s", want, quoteKey(key)), vigil.ErrInvalid)
	case l.kind != want:
		v.add(path, fmt.Sprintf("no %s with key %s; that key is a %s's", want, quoteKey(key), l.kind), vigil.ErrInvalid)
	}
}

func (v *validator) refs(path string, keys []string, want Kind) {
	if len(keys) > vigil.MaxRefs {
		return // Validate reported it
	}
	for i, k := range keys {
		v.ref(fmt.Sprintf("%s[%d]", path, i), k, want)
	}
}

// ids checks that each non-empty entry is a vigil ID in canonical form.
func (v *validator) ids(path string, list []string) {
	if len(list) > vigil.MaxRefs {
		return // Validate reported it
	}
	for i, s := range list {
		if _, ok := canonicalID(s); s != "" && !ok {
			v.add(fmt.Sprintf("%s[%d]", path, i), "not a vigil ID (26 characters of lowercase base32)", vigil.ErrInvalid)
		}
	}
}

// cycles reports each cycle of parents among the records of one array
// once, at the parent of the first record of the cycle met in file order,
// naming the cycle's keys.
func (v *validator) cycles(kind Kind, keys, parents []string) {
	index := make(map[string]int, len(keys))
	for i, k := range keys {
		if _, dup := index[k]; !dup && k != "" {
			index[k] = i
		}
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(keys))
	for i := range keys {
		var chain []int
		j := i
		for j >= 0 && state[j] == unseen {
			state[j] = onPath
			chain = append(chain, j)
			p, ok := index[parents[j]]
			if !ok {
				p = -1
			}
			j = p
		}
		if j >= 0 && state[j] == onPath {
			start := 0
			for chain[start] != j {
				start++
			}
			cyc := chain[start:]
			var b strings.Builder
			for n, c := range append(cyc, j) {
				if n > 0 {
					b.WriteString(" → ")
				}
				if n == 10 && len(cyc) > 10 {
					fmt.Fprintf(&b, "… (%d more) → %s", len(cyc)-10, quoteKey(keys[j]))
					break
				}
				b.WriteString(quoteKey(keys[c]))
			}
			v.add(fmt.Sprintf("$.%s[%d].parent", kind.Array(), j), "parents form a cycle: "+b.String(), vigil.ErrInvalid)
		}
		for _, c := range chain {
			state[c] = done
		}
	}
}
