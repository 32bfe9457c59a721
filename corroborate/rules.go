package corroborate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-hr/vigil"
)

// Rules are the corroboration rules, all in one place. [DefaultRules]
// returns the rules of the design; docs/corroboration.md explains each one.
// The zero Rules is not valid: start from DefaultRules and change fields.
type Rules struct {
	// CorroboratingOrigins is how many distinct origins must affirm (or
	// partially affirm) an act for it to be corroborated. One origin makes
	// it reported, none leaves it unverified. Default 2; at least 2.
	CorroboratingOrigins int
	// ConfirmingGrades and ConfirmingCredibilities say which affirming
	// claims confirm a corroborated act on their grade alone: a claim whose
	// source's reliability is in ConfirmingGrades and whose credibility is
	// in ConfirmingCredibilities. Default A, B and 1, 2. Either empty
	// turns confirmation by grade off.
	ConfirmingGrades        []vigil.Reliability
	ConfirmingCredibilities []vigil.Credibility
	// EvidenceConfirms says whether an affirming claim with linked
	// evidence confirms a corroborated act. Default true.
	EvidenceConfirms bool
	// PartialConfirms says whether a partially affirming claim can confirm
	// (by grade or evidence). It always counts as an affirming origin.
	// Default false: evidence for part of an act does not confirm all of it.
	PartialConfirms bool
}

// DefaultRules returns the design's rules: two origins corroborate; a
// corroborated act is confirmed by linked evidence on an affirming claim or
// by an affirming source graded A or B with credibility 1 or 2.
func DefaultRules() Rules {
	return Rules{
		CorroboratingOrigins:    2,
		ConfirmingGrades:        []vigil.Reliability{vigil.ReliabilityA, vigil.ReliabilityB},
		ConfirmingCredibilities: []vigil.Credibility{vigil.CredibilityConfirmed, vigil.CredibilityProbable},
		EvidenceConfirms:        true,
	}
}

// Validate checks the rules; errors wrap [vigil.ErrInvalid].
func (r Rules) Validate() error {
	if r.CorroboratingOrigins < 2 || r.CorroboratingOrigins > 100 {
		return fmt.Errorf("%w: rules: corroborating origins %d outside 2..100", vigil.ErrInvalid, r.CorroboratingOrigins)
	}
	for _, g := range r.ConfirmingGrades {
		if !g.Valid() {
			return fmt.Errorf("%w: rules: confirming grade not one of A to F", vigil.ErrInvalid)
		}
	}
	for _, c := range r.ConfirmingCredibilities {
		if !c.Valid() {
			return fmt.Errorf("%w: rules: confirming credibility %d not one of 1 to 6", vigil.ErrInvalid, c)
		}
	}
	return nil
}

// confirmsByGrade reports whether a claim graded r, c confirms on its grade.
func (r Rules) confirmsByGrade(rel vigil.Reliability, c vigil.Credibility) bool {
	return slices.Contains(r.ConfirmingGrades, rel) && slices.Contains(r.ConfirmingCredibilities, c)
}

// gradeRule is the grade rule in words, e.g. "A or B", "1 or 2".
func (r Rules) gradeRule(or string) (grades, creds string) {
	var g, c []string
	for _, x := range r.ConfirmingGrades {
		g = append(g, string(x))
	}
	for _, x := range r.ConfirmingCredibilities {
		c = append(c, fmt.Sprint(int(x)))
	}
	return list(g, or), list(c, or)
}

// list joins "a", "a or b", "a, b or c".
func list(items []string, and string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + and + " " + items[len(items)-1]
}
