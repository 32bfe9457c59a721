// Package corroborate decides, for one act, what its claims establish: a
// [Status] (unverified, reported, corroborated, confirmed), [Flag]s for
// denials, and an [Explanation] in English and Russian that names the
// sources, their grades and the rule applied.
//
// Gather the act's claims with their sources and the parties, and call
// [Evaluate]:
//
//	res, err := corroborate.Evaluate(corroborate.Input{
//		ActID: actID, Act: act, Claims: claims,
//		Sources: sources, Parties: parties,
//	}, corroborate.DefaultRules())
//	fmt.Println(res.Status, res.Flags, res.Explanation.EN)
//
// Evaluate is pure: no I/O, no clock, no randomness, and the same input
// always gives the same result, so a figure can be recomputed and checked
// by anyone holding the records.
//
// # Rules
//
// The default rules are the design's, documented in docs/corroboration.md; [Rules]
// holds every knob. Claims that affirm or partially affirm the act count by
// origin: sources with the same [vigil.Source.Origin] count once, and a
// source with no origin is its own. None is unverified, one origin
// reported, two or more corroborated. A corroborated act is confirmed when
// an affirming claim has linked evidence or its source is graded A or B
// with credibility 1 or 2. A denial never lowers the status: it sets
// [DeniedByImplicated] when the denier's party is a perpetrator of the act,
// above one or part of one (following [vigil.Party.Parent]), and
// [Disputed] otherwise. TestStatus and TestFlags hold one row per rule;
// TestProperties checks that extra claims move the status only the way the
// rules say.
package corroborate

import (
	"fmt"
	"strings"

	"github.com/vigil-hr/vigil"
)

// A Status is how well an act is established. Statuses are ordered:
// Unverified < Reported < Corroborated < Confirmed.
type Status string

// Statuses.
const (
	Unverified   Status = "unverified"   // no affirming claim
	Reported     Status = "reported"     // one origin affirms
	Corroborated Status = "corroborated" // enough independent origins affirm
	Confirmed    Status = "confirmed"    // corroborated, and evidence or a top grade
)

// Rank returns 0 for Unverified up to 3 for Confirmed, and -1 for anything
// else, so statuses can be compared.
func (s Status) Rank() int {
	switch s {
	case Unverified:
		return 0
	case Reported:
		return 1
	case Corroborated:
		return 2
	case Confirmed:
		return 3
	}
	return -1
}

// A Flag marks a denial. Flags never lower the status.
type Flag string

// Flags, in the order Result.Flags lists them.
const (
	// DeniedByImplicated: a source speaking for a perpetrator party of the
	// act, for a party above one, or for a part of one, denies it.
	DeniedByImplicated Flag = "denied_by_implicated"
	// Disputed: a source not implicated in the act denies it.
	Disputed Flag = "disputed"
)

// A Claim is a claim with its record ID, which the result refers to.
type Claim struct {
	ID vigil.ID
	vigil.Claim
}

// Input is everything one act's corroboration depends on.
type Input struct {
	// ActID is the act's ID; every claim must be about it.
	ActID vigil.ID
	// Act is the act; Evaluate uses its Perpetrators.
	Act vigil.Act
	// Claims are the act's claims, in the order the explanation lists
	// them (e.g. by date). A claim's linked evidence is its Evidence list:
	// the caller passes only evidence items that exist.
	Claims []Claim
	// Sources holds at least the source of every claim.
	Sources map[vigil.ID]vigil.Source
	// Parties holds the parties by ID, so that Evaluate can follow
	// Parent links; a party missing here is treated as having no parent
	// and is named by its ID.
	Parties map[vigil.ID]vigil.Party
}

// A Result is what an act's claims establish, with the facts behind it.
type Result struct {
	Status      Status      `json:"status"`
	Flags       []Flag      `json:"flags,omitempty"`
	Explanation Explanation `json:"explanation"`
	// Origins are the distinct origins of the affirming claims, in the
	// order of their first claim; len(Origins) is what the status counts.
	Origins []Origin `json:"origins,omitempty"`
	// Affirming lists the claims that affirm or partially affirm the act.
	Affirming []vigil.ID `json:"affirming,omitempty"`
	// Confirming lists the affirming claims that meet a confirmation rule
	// (evidence, or grade). They confirm only a corroborated act.
	Confirming []vigil.ID `json:"confirming,omitempty"`
	// Denials lists the denying claims and whether each is implicated.
	Denials []Denial `json:"denials,omitempty"`
}

// An Origin is one independent origin and the affirming claims that come
// from it.
type Origin struct {
	// Origin is the origin as the first of its sources names it; empty
	// when the source is its own origin.
	Origin  string     `json:"origin,omitempty"`
	Sources []vigil.ID `json:"sources"`
	Claims  []vigil.ID `json:"claims"`
}

// A Denial is a denying claim and what implicates its source, if anything.
type Denial struct {
	Claim  vigil.ID `json:"claim"`
	Source vigil.ID `json:"source"`
	// Implicated is true when the source's party is Perpetrator, above it
	// or part of it; then the denial sets DeniedByImplicated.
	Implicated  bool     `json:"implicated"`
	Perpetrator vigil.ID `json:"perpetrator,omitzero"`
	// Relation is "perpetrator" (the source's party is the perpetrator),
	// "above" (an ancestor of it) or "part" (a descendant); "" if not
	// implicated.
	Relation string `json:"relation,omitempty"`
}

// Explanation is the result in plain words, for people and courts.
type Explanation struct {
	EN string `json:"en"`
	RU string `json:"ru"`
}

// originKey identifies an origin: an explicit origin by its normalized
// text, a source without one by its ID, so the two can never collide.
type originKey struct {
	text   string
	source vigil.ID
}

// normalizeOrigin folds case and runs of spaces, so that "Memorial
// hotline" and "memorial  hotline" count once. Folding errs towards fewer
// origins, the sceptic's side.
func normalizeOrigin(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// Evaluate applies rules to in. It returns an error wrapping
// [vigil.ErrInvalid] if the rules are invalid, a claim is about another
// act, or a claim's source is not in in.Sources; it never guesses a
// missing fact.
func Evaluate(in Input, rules Rules) (Result, error) {
	if err := rules.Validate(); err != nil {
		return Result{}, err
	}
	var res Result
	index := map[originKey]int{}
	var confirming []Claim
	var denials []Claim
	for _, c := range in.Claims {
		if c.Act != in.ActID {
			return Result{}, fmt.Errorf("%w: claim %s is about act %s, not %s", vigil.ErrInvalid, c.ID, c.Act, in.ActID)
		}
		src, ok := in.Sources[c.Source]
		if !ok {
			return Result{}, fmt.Errorf("%w: claim %s: source %s not given", vigil.ErrInvalid, c.ID, c.Source)
		}
		switch {
		case c.Stance.Affirming():
			res.Affirming = append(res.Affirming, c.ID)
			key := originKey{text: normalizeOrigin(src.Origin)}
			if key.text == "" {
				key.source = c.Source
			}
			i, ok := index[key]
			if !ok {
				i = len(res.Origins)
				index[key] = i
				res.Origins = append(res.Origins, Origin{Origin: src.Origin})
			}
			o := &res.Origins[i]
			if !containsID(o.Sources, c.Source) {
				o.Sources = append(o.Sources, c.Source)
			}
			o.Claims = append(o.Claims, c.ID)
			if c.Stance == vigil.Affirms || rules.PartialConfirms {
				if rules.EvidenceConfirms && len(c.Evidence) > 0 || rules.confirmsByGrade(src.Reliability, c.Credibility) {
					res.Confirming = append(res.Confirming, c.ID)
					confirming = append(confirming, c)
				}
			}
		case c.Stance == vigil.Denies:
			d := Denial{Claim: c.ID, Source: c.Source}
			d.Perpetrator, d.Relation = implicated(src.Party, in.Act.Perpetrators, in.Parties)
			d.Implicated = d.Relation != ""
			res.Denials = append(res.Denials, d)
			denials = append(denials, c)
		default:
			return Result{}, fmt.Errorf("%w: claim %s: stance not one of affirms, partially_affirms, denies", vigil.ErrInvalid, c.ID)
		}
	}

	switch n := len(res.Origins); {
	case n == 0:
		res.Status = Unverified
	case n < rules.CorroboratingOrigins:
		res.Status = Reported
	case len(res.Confirming) == 0:
		res.Status = Corroborated
	default:
		res.Status = Confirmed
	}
	for _, d := range res.Denials {
		f := Disputed
		if d.Implicated {
			f = DeniedByImplicated
		}
		if !containsFlag(res.Flags, f) {
			res.Flags = append(res.Flags, f)
		}
	}
	if len(res.Flags) == 2 && res.Flags[0] == Disputed {
		res.Flags[0], res.Flags[1] = res.Flags[1], res.Flags[0]
	}
	res.Explanation = explain(in, rules, res, confirming, denials)
	return res, nil
}

// implicated returns the perpetrator that party is, is above (an
// ancestor), or is part of (a descendant), in that order of preference
// and in the order of perps; relation is "" if none. A cycle in the party
// tree ends the walk; it does not hang.
func implicated(party vigil.ID, perps []vigil.ID, parties map[vigil.ID]vigil.Party) (perp vigil.ID, relation string) {
	if party.IsZero() {
		return vigil.ID{}, ""
	}
	parent := func(id vigil.ID) (vigil.ID, bool) {
		p, ok := parties[id]
		return p.Parent, ok
	}
	for _, p := range perps {
		if p == party {
			return p, "perpetrator"
		}
	}
	for _, p := range perps {
		if up, _ := vigil.Lineage(p, parent); containsID(up, party) {
			return p, "above"
		}
	}
	up, _ := vigil.Lineage(party, parent)
	for _, p := range perps {
		if containsID(up, p) {
			return p, "part"
		}
	}
	return vigil.ID{}, ""
}

func containsID(ids []vigil.ID, id vigil.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func containsFlag(fs []Flag, f Flag) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}
