package vigil

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Size limits that Validate enforces. They keep one record small enough to
// show, index and seal without surprises; a longer quote belongs in an
// evidence item.
const (
	MaxNameLen = 500    // bytes of a name, title, label, origin or code
	MaxTextLen = 10_000 // bytes of a description or quote
	MaxRefs    = 10_000 // entries of one list of references or names
	MaxVictims = 10_000_000
)

// A FieldError says which field of a record is wrong and why. Problem never
// quotes the field's value, which may be sensitive. Err is [ErrInvalid] or
// [ErrTooLarge].
type FieldError struct {
	Field   string // JSON path inside the record, e.g. "victims.min"
	Problem string // e.g. "longer than 500 bytes"
	Err     error
}

func (e *FieldError) Error() string { return e.Err.Error() + ": " + e.Field + ": " + e.Problem }

// Unwrap returns Err, so errors.Is(err, ErrInvalid) holds.
func (e *FieldError) Unwrap() error { return e.Err }

// FieldErrors returns the FieldErrors in err's tree (joined or wrapped), in
// order: the problems a user may be shown, never err's other text.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case nil:
		case *FieldError:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects FieldErrors of one record.
type problems []error

func (p *problems) add(field, problem string) {
	*p = append(*p, &FieldError{Field: field, Problem: problem, Err: ErrInvalid})
}

func (p *problems) tooLarge(field, problem string) {
	*p = append(*p, &FieldError{Field: field, Problem: problem, Err: ErrTooLarge})
}

// nest adds the problems of err, a nested Validate result, under prefix.
func (p *problems) nest(prefix string, err error) {
	if err == nil {
		return
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var fe *FieldError
		if errors.As(e, &fe) {
			*p = append(*p, &FieldError{Field: prefix + "." + fe.Field, Problem: fe.Problem, Err: fe.Err})
		} else {
			*p = append(*p, e)
		}
	}
}

func (p problems) err() error { return errors.Join(p...) }

// str checks a string field: valid UTF-8, no control characters other
// than tab and newlines in multi-line text, at most limit bytes.
func (p *problems) str(field, s string, limit int, required, multiline bool) {
	switch {
	case s == "":
		if required {
			p.add(field, "missing")
		}
		return
	case len(s) > limit:
		p.tooLarge(field, fmt.Sprintf("longer than %d bytes", limit))
		return
	case !utf8.ValidString(s):
		p.add(field, "not valid UTF-8")
		return
	}
	for _, r := range s {
		if r < 0x20 && !(multiline && (r == '\n' || r == '\r' || r == '\t')) || 0x7f <= r && r <= 0x9f {
			p.add(field, "contains a control character")
			return
		}
	}
}

func (p *problems) name(field, s string, required bool) {
	p.str(field, s, MaxNameLen, required, false)
}

func (p *problems) text(field, s string, required bool) {
	p.str(field, s, MaxTextLen, required, true)
}

func (p *problems) ref(field string, id ID) {
	if id.IsZero() {
		p.add(field, "missing")
	}
}

// refs checks a list of references: none zero, no duplicates.
func (p *problems) refs(field string, ids []ID) {
	if len(ids) > MaxRefs {
		p.tooLarge(field, fmt.Sprintf("more than %d entries", MaxRefs))
		return
	}
	seen := make(map[ID]bool, len(ids))
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case id.IsZero():
			p.add(f, "missing")
		case seen[id]:
			p.add(f, "listed twice")
		}
		seen[id] = true
	}
}

func (p *problems) period(field string, v Period) { p.nest(field, v.Validate()) }

// code checks a vocabulary code: 1..MaxNameLen bytes of [a-z0-9_],
// starting with a letter.
func (p *problems) code(field, s string) {
	if s == "" {
		p.add(field, "missing")
		return
	}
	if len(s) > MaxNameLen {
		p.tooLarge(field, fmt.Sprintf("longer than %d bytes", MaxNameLen))
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '_')) {
			p.add(field, "not a code of lowercase letters, digits and _")
			return
		}
	}
}

// isLang reports whether s looks like a BCP 47 language tag such as "ru",
// "en", "ce" or "ru-Latn": 2 or 3 lowercase letters, then subtags of 2 to 8
// letters or digits.
func isLang(s string) bool {
	if len(s) > 35 {
		return false
	}
	n, first := 0, true
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '-' {
			if first && (n < 2 || n > 3) || !first && (n < 2 || n > 8) {
				return false
			}
			n, first = 0, false
			continue
		}
		c := s[i]
		if first && !('a' <= c && c <= 'z') ||
			!first && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
		n++
	}
	return true
}

// Reliability is the Admiralty (NATO) grade of a source, "A" to "F".
type Reliability string

// Reliability grades.
const (
	ReliabilityA Reliability = "A" // completely reliable
	ReliabilityB Reliability = "B" // usually reliable
	ReliabilityC Reliability = "C" // fairly reliable
	ReliabilityD Reliability = "D" // not usually reliable
	ReliabilityE Reliability = "E" // unreliable
	ReliabilityF Reliability = "F" // reliability cannot be judged
)

// Valid reports whether r is one of "A" to "F".
func (r Reliability) Valid() bool { return len(r) == 1 && 'A' <= r[0] && r[0] <= 'F' }

// Credibility is the Admiralty grade of one piece of information, 1 to 6.
type Credibility int

// Credibility grades.
const (
	CredibilityConfirmed  Credibility = 1 // confirmed by other sources
	CredibilityProbable   Credibility = 2 // probably true
	CredibilityPossible   Credibility = 3 // possibly true
	CredibilityDoubtful   Credibility = 4 // doubtful
	CredibilityImprobable Credibility = 5 // improbable
	CredibilityUnknown    Credibility = 6 // truth cannot be judged
)

// Valid reports whether c is 1 to 6.
func (c Credibility) Valid() bool { return 1 <= c && c <= 6 }

// Grade returns the two-character Admiralty grade, e.g. "B2".
func Grade(r Reliability, c Credibility) string {
	return fmt.Sprintf("%s%d", r, c)
}

// A Stance is what a claim says of its act.
type Stance string

// Stances.
const (
	Affirms          Stance = "affirms"
	PartiallyAffirms Stance = "partially_affirms"
	Denies           Stance = "denies"
)

// Valid reports whether s is one of the three stances.
func (s Stance) Valid() bool { return s == Affirms || s == PartiallyAffirms || s == Denies }

// Affirming reports whether s affirms or partially affirms.
func (s Stance) Affirming() bool { return s == Affirms || s == PartiallyAffirms }

// A SourceType says who a source is.
type SourceType string

// Source types.
const (
	SourceVictim      SourceType = "victim"
	SourceWitness     SourceType = "witness"
	SourceNGO         SourceType = "ngo"
	SourceMedia       SourceType = "media"
	SourceOfficial    SourceType = "official"
	SourceSocialMedia SourceType = "social_media"
	SourceDocument    SourceType = "document"
	SourceOther       SourceType = "other"
)

// Valid reports whether t is one of the source types.
func (t SourceType) Valid() bool {
	switch t {
	case SourceVictim, SourceWitness, SourceNGO, SourceMedia, SourceOfficial,
		SourceSocialMedia, SourceDocument, SourceOther:
		return true
	}
	return false
}

// An Incident is a named event or wave, e.g. a wave of detentions.
type Incident struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Period      Period `json:"period,omitzero"`
	Place       ID     `json:"place,omitzero"`
	// Restricted, if not empty, names the only accounts that may see the
	// incident and its acts (besides admins); empty means every account
	// whose role allows it.
	Restricted []string `json:"restricted,omitempty"`
}

// Validate checks the incident on its own; see the package doc, Case records.
func (v Incident) Validate() error {
	var p problems
	p.name("title", v.Title, true)
	p.text("description", v.Description, false)
	p.period("period", v.Period)
	p.names("restricted", v.Restricted)
	return p.err()
}

// names checks a list of distinct, non-empty names.
func (p *problems) names(field string, list []string) {
	if len(list) > MaxRefs {
		p.tooLarge(field, fmt.Sprintf("more than %d entries", MaxRefs))
		return
	}
	seen := make(map[string]bool, len(list))
	for i, s := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		if seen[s] {
			p.add(f, "listed twice")
		}
		seen[s] = true
		p.name(f, s, true)
	}
}

// VictimCount is how many people an act harmed, as a range: {"min": 40,
// "max": 100} when sources say "at least 40, up to 100"; Min == Max when the
// number is known.
type VictimCount struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Validate checks 0 <= Min <= Max <= [MaxVictims].
func (c VictimCount) Validate() error {
	var p problems
	if c.Min < 0 {
		p.add("min", "negative")
	}
	if c.Max < 0 {
		p.add("max", "negative")
	}
	if c.Max > MaxVictims {
		p.tooLarge("max", fmt.Sprintf("more than %d", MaxVictims))
	}
	if c.Min > c.Max && c.Max >= 0 {
		p.add("min", "greater than max")
	}
	return p.err()
}

// An Act is one violation within an incident.
type Act struct {
	Incident ID `json:"incident"`
	// Type is a code of the act-type vocabulary (package vocab), e.g.
	// "arbitrary_detention". Validate checks only its form; vocab.ActType
	// checks that it is known.
	Type        string      `json:"type"`
	Description string      `json:"description,omitempty"`
	Period      Period      `json:"period,omitzero"`
	Place       ID          `json:"place,omitzero"`
	Victims     VictimCount `json:"victims"`
	// VictimPersons are the identified victims, as Person IDs. Victims.Max
	// may not be lower than their number; a lower Victims.Min counts as
	// their number in figures.
	VictimPersons []ID `json:"victim_persons,omitempty"`
	// Perpetrators are the parties that committed the act, as Party IDs.
	Perpetrators []ID `json:"perpetrators,omitempty"`
}

// Validate checks the act on its own; see the package doc, Case records.
func (v Act) Validate() error {
	var p problems
	p.ref("incident", v.Incident)
	p.code("type", v.Type)
	p.text("description", v.Description, false)
	p.period("period", v.Period)
	p.nest("victims", v.Victims.Validate())
	p.refs("victim_persons", v.VictimPersons)
	p.refs("perpetrators", v.Perpetrators)
	if len(v.VictimPersons) > v.Victims.Max && v.Victims.Max >= 0 {
		p.add("victims.max", "fewer than the identified victim_persons")
	}
	return p.err()
}

// A Person is a victim, witness or other individual. Only Pseudonym is
// shown by default; everything that identifies the person is in Private,
// which only roles allowed to see identities may read.
type Person struct {
	Pseudonym string `json:"pseudonym"`
	// Private holds what identifies the person. nil means nothing is known,
	// or the reader may not see it.
	Private *PersonPrivate `json:"private,omitempty"`
}

// PersonPrivate is the part of a [Person] that identifies them. It is
// shown only to roles allowed to see identities.
type PersonPrivate struct {
	// Names are the person's names and aliases, each in one script, e.g.
	// the same name in Cyrillic and in Latin.
	Names       []PersonName `json:"names,omitempty"`
	Identifiers []Identifier `json:"identifiers,omitempty"`
	Contacts    []Contact    `json:"contacts,omitempty"`
}

// A PersonName is a name in one script (an ISO 15924 code such as "Cyrl"
// or "Latn").
type PersonName struct {
	Script string `json:"script"`
	Name   string `json:"name"`
}

// An Identifier is an identifying number or handle, e.g. {"kind":
// "passport", "value": "…"}.
type Identifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// A Contact is a way to reach someone, e.g. {"kind": "signal", "value": "…"}.
type Contact struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// isScript reports whether s is an ISO 15924 code: one uppercase and three
// lowercase letters.
func isScript(s string) bool {
	if len(s) != 4 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < 4; i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// Validate checks the person on its own; see the package doc, Case records.
func (v Person) Validate() error {
	var p problems
	p.name("pseudonym", v.Pseudonym, true)
	if v.Private == nil {
		return p.err()
	}
	pv := v.Private
	if len(pv.Names)+len(pv.Identifiers)+len(pv.Contacts) > MaxRefs {
		p.tooLarge("private", fmt.Sprintf("more than %d entries", MaxRefs))
		return p.err()
	}
	for i, n := range pv.Names {
		f := fmt.Sprintf("private.names[%d]", i)
		if !isScript(n.Script) {
			p.add(f+".script", "not an ISO 15924 script code such as Cyrl or Latn")
		}
		p.name(f+".name", n.Name, true)
	}
	for i, d := range pv.Identifiers {
		f := fmt.Sprintf("private.identifiers[%d]", i)
		p.name(f+".kind", d.Kind, true)
		p.name(f+".value", d.Value, true)
	}
	for i, d := range pv.Contacts {
		f := fmt.Sprintf("private.contacts[%d]", i)
		p.name(f+".kind", d.Kind, true)
		p.name(f+".value", d.Value, true)
	}
	return p.err()
}

// A Place is a gazetteer entry: a village in a district in a region.
type Place struct {
	// Names maps a language tag ("ru", "en", "ce") to the place's name in
	// that language. At least one is required.
	Names map[string]string `json:"names"`
	// Kind says what the place is, e.g. "region", "district", "village",
	// "building"; optional.
	Kind string `json:"kind,omitempty"`
	// Parent is the place this one lies in; zero for a top-level place.
	Parent      ID           `json:"parent,omitzero"`
	Coordinates *Coordinates `json:"coordinates,omitempty"`
}

// Coordinates are WGS 84 degrees.
type Coordinates struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Validate checks -90 <= Lat <= 90 and -180 <= Lon <= 180.
func (c Coordinates) Validate() error {
	var p problems
	if math.IsNaN(c.Lat) || c.Lat < -90 || c.Lat > 90 {
		p.add("lat", "outside -90..90")
	}
	if math.IsNaN(c.Lon) || c.Lon < -180 || c.Lon > 180 {
		p.add("lon", "outside -180..180")
	}
	return p.err()
}

// Validate checks the place on its own; see the package doc, Case records.
func (v Place) Validate() error {
	var p problems
	p.langNames("names", v.Names, true)
	p.name("kind", v.Kind, false)
	if v.Coordinates != nil {
		p.nest("coordinates", v.Coordinates.Validate())
	}
	return p.err()
}

// langNames checks a map from language tag to name.
func (p *problems) langNames(field string, m map[string]string, required bool) {
	switch {
	case len(m) == 0 && required:
		p.add(field, "missing")
		return
	case len(m) > 100:
		p.tooLarge(field, "more than 100 languages")
		return
	}
	for lang, name := range m {
		if !isLang(lang) {
			// The key is not echoed: it may be anything.
			p.add(field, "has a key that is not a language tag such as ru or en")
			continue
		}
		p.name(field+"."+lang, name, true)
	}
}

// A Party is an organisation or authority: a police unit, a ministry, an
// NGO, a newspaper. Acts name perpetrator parties; sources name the party
// they speak for.
type Party struct {
	Name string `json:"name"`
	// Parent is the party this one belongs to (a police unit's ministry);
	// zero for none.
	Parent ID `json:"parent,omitzero"`
}

// Validate checks the party on its own; see the package doc, Case records.
func (v Party) Validate() error {
	var p problems
	p.name("name", v.Name, true)
	return p.err()
}

// A Source is who told us: a victim, a witness, an NGO's hotline, a
// newspaper, an official.
type Source struct {
	Name        string      `json:"name"`
	Type        SourceType  `json:"type"`
	Reliability Reliability `json:"reliability"`
	// Origin names where the source's information ultimately comes from.
	// Sources that relay the same informant share an Origin and count once
	// in corroboration. Empty means the source is its own origin.
	Origin string `json:"origin,omitempty"`
	// Party is the party the source speaks for (an official's ministry, a
	// newspaper); zero for none.
	Party ID `json:"party,omitzero"`
}

// Validate checks the source on its own; see the package doc, Case records.
func (v Source) Validate() error {
	var p problems
	p.name("name", v.Name, true)
	if !v.Type.Valid() {
		p.add("type", "not one of victim, witness, ngo, media, official, social_media, document, other")
	}
	if !v.Reliability.Valid() {
		p.add("reliability", "not one of A to F")
	}
	p.name("origin", v.Origin, false)
	return p.err()
}

// A Claim is what one source says about one act: that it happened, that
// part of it happened, or that it did not. An official denial is a claim
// like any other.
type Claim struct {
	Act         ID          `json:"act"`
	Source      ID          `json:"source"`
	Stance      Stance      `json:"stance"`
	Credibility Credibility `json:"credibility"`
	Quote       string      `json:"quote,omitempty"`
	// Date is when the source said it; zero if not known.
	Date Date `json:"date,omitzero"`
	// Evidence lists the evidence items that back the claim.
	Evidence []ID `json:"evidence,omitempty"`
	// Submissions lists the submissions the claim was taken from.
	Submissions []ID `json:"submissions,omitempty"`
}

// Validate checks the claim on its own; see the package doc, Case records.
func (v Claim) Validate() error {
	var p problems
	p.ref("act", v.Act)
	p.ref("source", v.Source)
	if !v.Stance.Valid() {
		p.add("stance", "not one of affirms, partially_affirms, denies")
	}
	if !v.Credibility.Valid() {
		p.add("credibility", "not one of 1 to 6")
	}
	p.text("quote", v.Quote, false)
	p.refs("evidence", v.Evidence)
	p.refs("submissions", v.Submissions)
	return p.err()
}

// Lineage returns id's ancestors, nearest first, following parent until it
// returns false or a zero ID. If the chain comes back to an ID already seen
// (a cycle, which validation should have refused), Lineage stops there and
// reports cycle. Places and parties use it; so does a store that must
// refuse a parent that would close a cycle.
func Lineage(id ID, parent func(ID) (ID, bool)) (ancestors []ID, cycle bool) {
	seen := map[ID]bool{id: true}
	for {
		next, ok := parent(id)
		if !ok || next.IsZero() {
			return ancestors, false
		}
		if seen[next] {
			return ancestors, true
		}
		seen[next] = true
		ancestors = append(ancestors, next)
		id = next
	}
}
