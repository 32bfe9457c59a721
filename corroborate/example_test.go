package corroborate_test

import (
	"fmt"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
)

// A wave of detentions: an NGO hotline and a newspaper affirm it, the
// ministry over the police that carried it out calls it lies.
func ExampleEvaluate() {
	id := func(b byte) vigil.ID { return vigil.ID{b} }
	act, hotline, paper, statement, ministry, police := id(1), id(2), id(3), id(4), id(5), id(6)
	in := corroborate.Input{
		ActID: act,
		Act:   vigil.Act{Type: "arbitrary_detention", Perpetrators: []vigil.ID{police}},
		Claims: []corroborate.Claim{
			{ID: id(7), Claim: vigil.Claim{Act: act, Source: hotline, Stance: vigil.Affirms, Credibility: 3}},
			{ID: id(8), Claim: vigil.Claim{Act: act, Source: paper, Stance: vigil.PartiallyAffirms, Credibility: 3}},
			{ID: id(9), Claim: vigil.Claim{Act: act, Source: statement, Stance: vigil.Denies, Credibility: 6}},
		},
		Sources: map[vigil.ID]vigil.Source{
			hotline:   {Name: "Memorial hotline", Type: vigil.SourceNGO, Reliability: "B", Origin: "hotline"},
			paper:     {Name: "Novaya Gazeta", Type: vigil.SourceMedia, Reliability: "C"},
			statement: {Name: "official statement", Type: vigil.SourceOfficial, Reliability: "F", Party: ministry},
		},
		Parties: map[vigil.ID]vigil.Party{
			ministry: {Name: "Ministry of Internal Affairs"},
			police:   {Name: "district police", Parent: ministry},
		},
	}
	res, err := corroborate.Evaluate(in, corroborate.DefaultRules())
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Flags)
	fmt.Println(res.Explanation.EN)
	// Output:
	// corroborated [denied_by_implicated]
	// Corroborated: 2 independent origins affirm it (Memorial hotline, B3; Novaya Gazeta, C3, partially); not confirmed: no linked evidence and no affirming source graded A or B with credibility 1 or 2. Denied by an implicated party: Ministry of Internal Affairs, above the perpetrator district police (source: official statement, F6). Denials are flagged and do not lower the status.
}
