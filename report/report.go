// Package report writes an incident's report as a PDF, in English or
// Russian, for readers who will never log in: a court, a rapporteur, a
// journalist. Gather the incident with [Collect], then write it:
//
//	r, err := report.Collect(ctx, src, principal, incidentID)
//	...
//	err = r.WritePDF(w, "ru")
//
// The report holds the incident's acts with their corroboration status,
// flags and explanation (package corroborate), the figures with charts
// (package figures), the sources by reliability grade, and for every
// record it quotes (incident, act, claim, source, evidence item) the leaf
// index of its latest version in the evidence log, with one signed
// checkpoint whose tree contains them all. A reader can then ask for
// evidence bundles of those records (vigil bundle) and check them against
// that checkpoint offline (vigil verify), or with tools vigil did not
// write.
//
// # What it never shows
//
// Persons appear by pseudonym only: a person's private fields (names,
// identifiers, contacts) are not read into the [Report] at all, whatever
// the principal may see. Evidence items appear by record ID, media type and
// leaf: not their file names (which may name people), sizes or hashes
// (which would let a holder of a file test whether vigil holds it). Claims
// appear with their source, stance, grade, date and leaf, not their
// quotes: the quote is in the claim's bundle, for those given one. The
// accounts an incident is restricted to are not named; the report says
// that it is restricted.
//
// # Access
//
// [Collect] reads as the given principal, through package cases: an
// incident the principal may not see ([vigil.Principal.SeesIncident])
// fails with [vigil.ErrNotFound], exactly as if it did not exist.
//
// # Rendering
//
// The PDF is made in pure Go (github.com/signintech/gopdf) with the Go
// fonts (golang.org/x/image/font/gofont, BSD licence) embedded as subsets,
// which cover Latin, Cyrillic and Greek. Text is NFC-normalised; a
// character the fonts cannot draw (Arabic, Hebrew, emoji, control and
// bidirectional formatting characters) is shown as U+FFFD, never dropped
// silently, so a reader sees that something was there. Charts are PDF
// vector paths. The same report always gives the same bytes
// (TestDeterministic).
package report

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/figures"
)

// Sources is what [Collect] reads from.
type Sources struct {
	Cases    *cases.Service
	Evidence *evidence.Service
	// Checkpoint returns a signed checkpoint (a C2SP signed note) of a tree
	// of at least size leaves: the latest cosigned one if it is large
	// enough, else a newly signed one. Required.
	Checkpoint func(ctx context.Context, size int64) ([]byte, error)
	// LogVerifier verifies the checkpoint's signature; its name is the
	// log's origin. Required.
	LogVerifier note.Verifier
	// Organisation is the name of who runs this vigil per language tag
	// (vigil.json instance.name); a language without one falls back to
	// English, and a report without any says so neutrally.
	Organisation map[string]string
	// Now returns the current time; the report shows its UTC day only.
	// Defaults to time.Now.
	Now func() time.Time
}

// A Report is everything an incident's report shows, gathered by
// [Collect]. Every slice is in the order the report prints it.
type Report struct {
	Organisation map[string]string
	// Generated is the UTC day the report was made (midnight).
	Generated time.Time
	Incident  Incident
	Acts      []Act
	Sources   []Source
	Evidence  []Item
	// ByType and ByMonth are the incident's figures grouped as package
	// figures groups them; Total is the whole incident.
	ByType, ByMonth map[string]figures.Figure
	Total           figures.Figure
	Checkpoint      Checkpoint
}

// An Incident is the incident the report is about.
type Incident struct {
	ID          vigil.ID
	Key         string
	Title       string
	Description string
	Period      vigil.Period
	Place       map[string]string // the place's names by language; nil if none
	Restricted  bool              // restricted to named accounts (not named here)
	Leaf        int64
}

// An Act is one act of the incident with what its claims establish.
type Act struct {
	ID           vigil.ID
	Key          string
	Type         string // the vocabulary code
	Description  string
	Period       vigil.Period
	Place        map[string]string
	Victims      vigil.VictimCount
	Persons      []string // the identified victims' pseudonyms
	Perpetrators []string // the perpetrator parties' names
	Status       corroborate.Status
	Flags        []corroborate.Flag
	Explanation  corroborate.Explanation
	Leaf         int64
	Claims       []Claim
}

// A Claim is what one source says of an act: no quote (see the package
// doc).
type Claim struct {
	ID          vigil.ID
	Key         string
	Source      vigil.ID
	Stance      vigil.Stance
	Credibility vigil.Credibility
	Date        vigil.Date
	Evidence    []vigil.ID // items that exist, in the claim's order
	Leaf        int64
}

// A Source is a source with a claim about one of the incident's acts.
type Source struct {
	ID          vigil.ID
	Key         string
	Name        string
	Type        vigil.SourceType
	Reliability vigil.Reliability
	Origin      string // empty: its own origin
	Party       string // the party it speaks for, if any
	Claims      int    // its claims about the incident's acts
	Leaf        int64
}

// An Item is an evidence item linked to one of the incident's claims.
type Item struct {
	ID        vigil.ID
	MediaType string
	Leaf      int64
	Claims    []vigil.ID // the incident's claims that link it
}

// A Checkpoint is the signed checkpoint every leaf of the report is in.
type Checkpoint struct {
	Signed string // the whole signed note, as served at /log/checkpoint
	Origin string
	Size   int64
	Root   string // base64, as in the checkpoint
}

// ErrNoCheckpoint is returned by [Collect] when no checkpoint contains
// every leaf the report lists.
var ErrNoCheckpoint = errors.New("no signed checkpoint contains every record of the report")

// Collect gathers incident's report as principal p sees it. It fails with
// vigil.ErrNotFound if there is no such incident or p may not see it,
// vigil.ErrForbidden if p may not read case records, and vigil.ErrSealed
// while the vault is sealed.
func Collect(ctx context.Context, src Sources, p vigil.Principal, incident vigil.ID) (*Report, error) {
	if src.Cases == nil || src.Evidence == nil || src.Checkpoint == nil || src.LogVerifier == nil {
		return nil, errors.New("report: Sources needs Cases, Evidence, Checkpoint and LogVerifier")
	}
	c := &collector{src: src, p: p, ctx: ctx}
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	t := now().UTC()
	r := &Report{Organisation: src.Organisation, Generated: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}

	rec, err := src.Cases.Get(ctx, p, incident)
	if err != nil {
		return nil, fmt.Errorf("incident %s: %w", incident, err)
	}
	inc, ok := rec.Doc.(vigil.Incident)
	if !ok {
		return nil, fmt.Errorf("%w: record %s is a %s, not an incident", vigil.ErrInvalid, incident, rec.Kind)
	}
	// cases already hides what p may not see; the report checks again so
	// that its promise does not rest on another package alone.
	if !p.SeesIncident(inc.Restricted) {
		return nil, fmt.Errorf("%w: record %s", vigil.ErrNotFound, incident)
	}
	r.Incident = Incident{ID: incident, Key: rec.Key, Title: inc.Title, Description: inc.Description,
		Period: inc.Period, Restricted: len(inc.Restricted) > 0, Leaf: rec.Leaf}
	if r.Incident.Place, err = c.placeNames(inc.Place); err != nil {
		return nil, err
	}

	results, err := src.Cases.Acts(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("corroborate acts: %w", err)
	}
	var fa []figures.Act
	for _, ar := range results {
		if ar.Act.Incident != incident {
			continue
		}
		a, err := c.act(ar)
		if err != nil {
			return nil, err
		}
		r.Acts = append(r.Acts, a)
		fa = append(fa, figures.Act{ID: ar.ID, Act: ar.Act, Result: ar.Result})
	}
	slices.SortFunc(r.Acts, func(a, b Act) int {
		return cmp.Or(a.Period.From.Compare(b.Period.From), cmp.Compare(a.Key, b.Key), compareIDs(a.ID, b.ID))
	})
	if r.ByType, err = figures.Group(figures.ByType, fa, nil); err != nil {
		return nil, err
	}
	if r.ByMonth, err = figures.Group(figures.ByMonth, fa, nil); err != nil {
		return nil, err
	}
	r.Total = figures.Total(fa)

	if r.Sources, err = c.sources(r.Acts); err != nil {
		return nil, err
	}
	if r.Evidence, err = c.items(r.Acts); err != nil {
		return nil, err
	}
	if err := c.checkpoint(r); err != nil {
		return nil, err
	}
	return r, nil
}

type collector struct {
	ctx context.Context
	src Sources
	p   vigil.Principal
}

func compareIDs(a, b vigil.ID) int { return bytes.Compare(a[:], b[:]) }

func (c *collector) get(id vigil.ID) (cases.Record, error) {
	r, err := c.src.Cases.Get(c.ctx, c.p, id)
	if err != nil {
		return r, fmt.Errorf("record %s: %w", id, err)
	}
	return r, nil
}

func (c *collector) placeNames(id vigil.ID) (map[string]string, error) {
	if id.IsZero() {
		return nil, nil
	}
	r, err := c.get(id)
	if err != nil {
		return nil, err
	}
	pl, _ := r.Doc.(vigil.Place)
	return pl.Names, nil
}

func (c *collector) act(ar cases.ActResult) (Act, error) {
	rec, err := c.get(ar.ID)
	if err != nil {
		return Act{}, err
	}
	a := Act{ID: ar.ID, Key: ar.Key, Type: ar.Act.Type, Description: ar.Act.Description,
		Period: ar.Act.Period, Victims: ar.Act.Victims, Status: ar.Result.Status,
		Flags: ar.Result.Flags, Explanation: ar.Result.Explanation, Leaf: rec.Leaf}
	if a.Place, err = c.placeNames(ar.Act.Place); err != nil {
		return Act{}, err
	}
	for _, id := range ar.Act.VictimPersons {
		r, err := c.get(id)
		if err != nil {
			return Act{}, err
		}
		// The pseudonym only: Private is never copied, whoever reads.
		if pe, ok := r.Doc.(vigil.Person); ok {
			a.Persons = append(a.Persons, pe.Pseudonym)
		}
	}
	for _, id := range ar.Act.Perpetrators {
		r, err := c.get(id)
		if err != nil {
			return Act{}, err
		}
		if pa, ok := r.Doc.(vigil.Party); ok {
			a.Perpetrators = append(a.Perpetrators, pa.Name)
		}
	}
	kids, err := c.src.Cases.Children(c.ctx, c.p, ar.ID)
	if err != nil {
		return Act{}, fmt.Errorf("claims of act %s: %w", ar.ID, err)
	}
	for _, k := range kids {
		cl, ok := k.Doc.(vigil.Claim)
		if !ok {
			continue
		}
		r, err := c.get(k.ID) // for its leaf: Children lists without
		if err != nil {
			return Act{}, err
		}
		a.Claims = append(a.Claims, Claim{ID: k.ID, Key: k.Key, Source: cl.Source, Stance: cl.Stance,
			Credibility: cl.Credibility, Date: cl.Date, Evidence: cl.Evidence, Leaf: r.Leaf})
	}
	slices.SortFunc(a.Claims, func(x, y Claim) int {
		return cmp.Or(x.Date.Compare(y.Date), cmp.Compare(x.Key, y.Key), compareIDs(x.ID, y.ID))
	})
	return a, nil
}

// sources returns the sources of the acts' claims, best grade first.
func (c *collector) sources(acts []Act) ([]Source, error) {
	count := map[vigil.ID]int{}
	var ids []vigil.ID
	for _, a := range acts {
		for _, cl := range a.Claims {
			if count[cl.Source] == 0 {
				ids = append(ids, cl.Source)
			}
			count[cl.Source]++
		}
	}
	out := make([]Source, 0, len(ids))
	for _, id := range ids {
		r, err := c.get(id)
		if err != nil {
			return nil, err
		}
		s, ok := r.Doc.(vigil.Source)
		if !ok {
			return nil, fmt.Errorf("%w: record %s is a %s, not a source", vigil.ErrCorrupt, id, r.Kind)
		}
		so := Source{ID: id, Key: r.Key, Name: s.Name, Type: s.Type, Reliability: s.Reliability,
			Origin: s.Origin, Claims: count[id], Leaf: r.Leaf}
		if !s.Party.IsZero() {
			pr, err := c.get(s.Party)
			if err != nil {
				return nil, err
			}
			if pa, ok := pr.Doc.(vigil.Party); ok {
				so.Party = pa.Name
			}
		}
		out = append(out, so)
	}
	slices.SortFunc(out, func(a, b Source) int {
		return cmp.Or(cmp.Compare(a.Reliability, b.Reliability), cmp.Compare(a.Name, b.Name), compareIDs(a.ID, b.ID))
	})
	return out, nil
}

// items returns the evidence items the acts' claims link, in leaf order.
// An item that does not exist is left out of the claim's list too, as
// corroboration leaves it out.
func (c *collector) items(acts []Act) ([]Item, error) {
	byID := map[vigil.ID]*Item{}
	var out []*Item
	for ai := range acts {
		for ci := range acts[ai].Claims {
			cl := &acts[ai].Claims[ci]
			var kept []vigil.ID
			for _, id := range cl.Evidence {
				it, ok := byID[id]
				if !ok {
					e, err := c.src.Evidence.Get(c.ctx, id)
					if errors.Is(err, vigil.ErrNotFound) {
						continue
					}
					if err != nil {
						return nil, fmt.Errorf("evidence item %s: %w", id, err)
					}
					it = &Item{ID: id, MediaType: e.MediaType, Leaf: e.LeafIndex}
					byID[id] = it
					out = append(out, it)
				}
				it.Claims = append(it.Claims, cl.ID)
				kept = append(kept, id)
			}
			cl.Evidence = kept
		}
	}
	items := make([]Item, len(out))
	for i, it := range out {
		items[i] = *it
	}
	slices.SortFunc(items, func(a, b Item) int { return cmp.Or(cmp.Compare(a.Leaf, b.Leaf), compareIDs(a.ID, b.ID)) })
	return items, nil
}

// leaves returns every leaf the report lists.
func (r *Report) leaves() []int64 {
	l := []int64{r.Incident.Leaf}
	for _, a := range r.Acts {
		l = append(l, a.Leaf)
		for _, c := range a.Claims {
			l = append(l, c.Leaf)
		}
	}
	for _, s := range r.Sources {
		l = append(l, s.Leaf)
	}
	for _, it := range r.Evidence {
		l = append(l, it.Leaf)
	}
	return l
}

// checkpoint finds a signed checkpoint containing every leaf and verifies
// it.
func (c *collector) checkpoint(r *Report) error {
	size := int64(0)
	for _, l := range r.leaves() {
		if l < 0 {
			return fmt.Errorf("%w: a record without a leaf", vigil.ErrCorrupt)
		}
		size = max(size, l+1)
	}
	signed, err := c.src.Checkpoint(c.ctx, size)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	cp, err := evlog.OpenCheckpoint(signed, c.src.LogVerifier)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if cp.N < size {
		return fmt.Errorf("%w: the checkpoint has %d leaves, the report needs %d", ErrNoCheckpoint, cp.N, size)
	}
	r.Checkpoint = Checkpoint{Signed: string(signed), Origin: cp.Origin, Size: cp.N,
		Root: base64.StdEncoding.EncodeToString(cp.Hash[:])}
	return nil
}
