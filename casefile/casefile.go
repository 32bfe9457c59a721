// Package casefile reads and writes vigil-case/1, the JSON case file in
// which investigators exchange a whole case: places, parties, sources,
// persons, incidents, acts and claims, each with a key that other records
// in the file use to refer to it. The format is documented, with an
// example, in docs/case-format.md, and as a JSON Schema in
// docs/case-format.schema.json; TestDocExample and TestSchemaMatchesStructs
// keep both in step with this package.
//
// To import a file, [Parse] it, which reports every problem at once, each
// with its JSON path, then [Resolve] it, which gives the records as vigil
// nouns in dependency order with vigil IDs in place of keys:
//
//	f, err := casefile.Parse(r, casefile.Options{})
//	var probs *casefile.Problems
//	if errors.As(err, &probs) {
//		for _, p := range probs.List {
//			fmt.Println(p) // $.claims[0].act: no act with key "a-17"
//		}
//	}
//	entries, err := casefile.Resolve(f, func(key string) vigil.ID {
//		return existingOrNew(key) // the importer's choice
//	})
//
// To export, give [Write] the records with their IDs and keys, or write
// one CSV per array with [WriteCSV]. Written files are canonical: arrays in
// a fixed order, records sorted by key, two-space indentation; parsing a
// written file and writing it again gives the same bytes
// (TestRoundTrip, FuzzParse).
//
// The package is pure: it reads and writes only the readers and writers
// it is given, and stores nothing (TestPure). It writes what it is given:
// an export that includes [vigil.Person.Private] carries identities, so
// callers whose reader may not see them clear Private first.
//
// # Keys
//
// A key is unique in the whole file, across all arrays, so "a-17" names one
// record whatever array it is in and a reference to the wrong kind of
// record is reported as such. A key is 1 to [MaxKeyLen] bytes of UTF-8
// without control characters and without ";", which the CSV form uses to
// join lists.
package casefile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-hr/vigil"
)

// Format is the value of the top-level "format" member.
const Format = "vigil-case/1"

// Limits.
const (
	// DefaultMaxSize is the largest file Parse reads when
	// [Options.MaxSize] is zero.
	DefaultMaxSize = 256 << 20
	// MaxKeyLen is the longest key, in bytes.
	MaxKeyLen = 200
	// MaxProblems is how many problems a [Problems] lists; it counts the
	// rest in More.
	MaxProblems = 1000
	// maxDepth is how deeply JSON may nest. The format itself needs 6
	// levels; the limit keeps hostile nesting from costing memory.
	maxDepth = 64
)

// A Kind names a kind of record and the array that holds it.
type Kind string

// Kinds, in dependency order: a record refers only to kinds before its own
// (places and parties also to their own kind, as parents).
const (
	KindPlace    Kind = "place"
	KindParty    Kind = "party"
	KindSource   Kind = "source"
	KindPerson   Kind = "person"
	KindIncident Kind = "incident"
	KindAct      Kind = "act"
	KindClaim    Kind = "claim"
)

// Kinds returns every kind in dependency order, the order of the arrays in
// a written file.
func Kinds() []Kind {
	return []Kind{KindPlace, KindParty, KindSource, KindPerson, KindIncident, KindAct, KindClaim}
}

// rank returns k's place in [Kinds], or -1.
func (k Kind) rank() int { return slices.Index(Kinds(), k) }

// Array returns the name of the top-level array that holds records of
// kind k, e.g. "parties".
func (k Kind) Array() string {
	switch k {
	case KindParty:
		return "parties"
	case KindPerson:
		return "persons"
	}
	return string(k) + "s"
}

// A File is a parsed vigil-case/1 file. Its records are the vigil nouns
// with a Key and with keys in place of IDs. Parse leaves absent and empty
// arrays nil, so a parsed file compares with reflect.DeepEqual.
type File struct {
	Format    string     `json:"format"`
	Places    []Place    `json:"places"`
	Parties   []Party    `json:"parties"`
	Sources   []Source   `json:"sources"`
	Persons   []Person   `json:"persons"`
	Incidents []Incident `json:"incidents"`
	Acts      []Act      `json:"acts"`
	Claims    []Claim    `json:"claims"`
}

// A Place is a [vigil.Place] with a key; Parent is a place's key.
type Place struct {
	Key         string             `json:"key"`
	Names       map[string]string  `json:"names"`
	Kind        string             `json:"kind,omitempty"`
	Parent      string             `json:"parent,omitempty"`
	Coordinates *vigil.Coordinates `json:"coordinates,omitempty"`
}

// A Party is a [vigil.Party] with a key; Parent is a party's key.
type Party struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// A Source is a [vigil.Source] with a key; Party is a party's key.
type Source struct {
	Key         string            `json:"key"`
	Name        string            `json:"name"`
	Type        vigil.SourceType  `json:"type"`
	Reliability vigil.Reliability `json:"reliability"`
	Origin      string            `json:"origin,omitempty"`
	Party       string            `json:"party,omitempty"`
}

// A Person is a [vigil.Person] with a key.
type Person struct {
	Key       string               `json:"key"`
	Pseudonym string               `json:"pseudonym"`
	Private   *vigil.PersonPrivate `json:"private,omitempty"`
}

// An Incident is a [vigil.Incident] with a key; Place is a place's key.
type Incident struct {
	Key         string       `json:"key"`
	Title       string       `json:"title"`
	Description string       `json:"description,omitempty"`
	Period      vigil.Period `json:"period,omitzero"`
	Place       string       `json:"place,omitempty"`
	Restricted  []string     `json:"restricted,omitempty"`
}

// An Act is a [vigil.Act] with a key. Incident is an incident's key, Place
// a place's, VictimPersons persons' and Perpetrators parties'. An absent
// victims member reads as {"min": 0, "max": 0}.
type Act struct {
	Key           string            `json:"key"`
	Incident      string            `json:"incident"`
	Type          string            `json:"type"`
	Description   string            `json:"description,omitempty"`
	Period        vigil.Period      `json:"period,omitzero"`
	Place         string            `json:"place,omitempty"`
	Victims       vigil.VictimCount `json:"victims"`
	VictimPersons []string          `json:"victim_persons,omitempty"`
	Perpetrators  []string          `json:"perpetrators,omitempty"`
}

// A Claim is a [vigil.Claim] with a key. Act is an act's key and Source a
// source's; Evidence and Submissions are vigil IDs (evidence items and
// submissions are not in the file), in their 26-character lowercase form.
type Claim struct {
	Key         string            `json:"key"`
	Act         string            `json:"act"`
	Source      string            `json:"source"`
	Stance      vigil.Stance      `json:"stance"`
	Credibility vigil.Credibility `json:"credibility"`
	Quote       string            `json:"quote,omitempty"`
	Date        vigil.Date        `json:"date,omitzero"`
	Evidence    []string          `json:"evidence,omitempty"`
	Submissions []string          `json:"submissions,omitempty"`
}

// A Problem is one thing wrong with a case file. Path is the JSON path of
// the offending value, e.g. "$.acts[3].victims.min"; Message says what is
// wrong without quoting the value (keys excepted); Err is
// [vigil.ErrInvalid] or [vigil.ErrTooLarge].
type Problem struct {
	Path    string
	Message string
	Err     error
}

// String returns "path: message".
func (p Problem) String() string { return p.Path + ": " + p.Message }

// Problems is the error Parse, [File.Validate], [Resolve] and [Write]
// return for an invalid file: the first [MaxProblems] problems, in
// document order where the JSON is malformed and record by record after
// that, and the number of others in More. It wraps [vigil.ErrInvalid],
// and also [vigil.ErrTooLarge] when a problem is about size.
type Problems struct {
	List []Problem
	More int
}

func (p *Problems) Error() string {
	var b strings.Builder
	n := len(p.List) + p.More
	fmt.Fprintf(&b, "case file: %d problem", n)
	if n != 1 {
		b.WriteString("s")
	}
	for i, q := range p.List {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", n-10)
			break
		}
		b.WriteString("; ")
		b.WriteString(q.String())
	}
	return b.String()
}

// Unwrap returns the distinct Errs of the listed problems, so errors.Is
// finds vigil.ErrInvalid, and vigil.ErrTooLarge when a size limit was hit.
func (p *Problems) Unwrap() []error {
	errs := []error{vigil.ErrInvalid}
	for _, q := range p.List {
		if q.Err != nil && q.Err != vigil.ErrInvalid && !containsErr(errs, q.Err) {
			errs = append(errs, q.Err)
		}
	}
	return errs
}

func containsErr(errs []error, e error) bool {
	for _, x := range errs {
		if x == e {
			return true
		}
	}
	return false
}

func (p *Problems) add(path, msg string, err error) {
	if len(p.List) >= MaxProblems {
		p.More++
		return
	}
	p.List = append(p.List, Problem{Path: path, Message: msg, Err: err})
}

func (p *Problems) err() error {
	if len(p.List) == 0 {
		return nil
	}
	return p
}

// quoteKey quotes a key or other input string for a message, cut to 64
// bytes so a hostile value cannot flood the report.
func quoteKey(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
