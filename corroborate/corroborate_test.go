package corroborate_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
)

// The fixture: a ministry above a district police department above one of
// its units (the perpetrators are the department), an unrelated
// administration, two parties that are each other's parent (bad data), and
// sources of every kind.
var (
	act = vigil.NewID()

	ministry    = vigil.NewID() // Ministry of Internal Affairs of Chechnya
	police      = vigil.NewID() // Argun district police, under the ministry: the perpetrator
	unit        = vigil.NewID() // a unit of the Argun police
	mayor       = vigil.NewID() // a town administration, unrelated
	cycA, cycB  = vigil.NewID(), vigil.NewID()
	unknownPart = vigil.NewID() // a party nobody passed to Evaluate

	parties = map[vigil.ID]vigil.Party{
		ministry: {Name: "Ministry of Internal Affairs of Chechnya"},
		police:   {Name: "Argun district police", Parent: ministry},
		unit:     {Name: "Argun police patrol unit", Parent: police},
		mayor:    {Name: "Grozny mayor's office"},
		cycA:     {Name: "Party A", Parent: cycB},
		cycB:     {Name: "Party B", Parent: cycA},
	}

	memorial   = vigil.NewID() // NGO hotline, B
	relay      = vigil.NewID() // a site relaying the hotline: same origin, other spelling
	novaya     = vigil.NewID() // newspaper, C
	witnessA   = vigil.NewID() // witness, A, no origin: its own
	witnessD   = vigil.NewID() // witness, D, no origin: its own
	mvd        = vigil.NewID() // the ministry's statement, F
	policeSpox = vigil.NewID() // the perpetrator's own spokesman, E
	unitSpox   = vigil.NewID() // a unit's commander, E
	mayorSpox  = vigil.NewID() // the mayor's office, D
	blogger    = vigil.NewID() // no party, E
	cycSpox    = vigil.NewID() // speaks for Party A
	ghostSpox  = vigil.NewID() // speaks for a party not in the map

	sources = map[vigil.ID]vigil.Source{
		memorial:   {Name: "Memorial hotline", Type: vigil.SourceNGO, Reliability: "B", Origin: "Memorial hotline"},
		relay:      {Name: "Kavkaz news site", Type: vigil.SourceMedia, Reliability: "C", Origin: "memorial  HOTLINE"},
		novaya:     {Name: "Novaya Gazeta", Type: vigil.SourceMedia, Reliability: "C", Origin: "Novaya Gazeta"},
		witnessA:   {Name: "Witness 1", Type: vigil.SourceWitness, Reliability: "A"},
		witnessD:   {Name: "Witness 2", Type: vigil.SourceWitness, Reliability: "D"},
		mvd:        {Name: "official statement", Type: vigil.SourceOfficial, Reliability: "F", Party: ministry},
		policeSpox: {Name: "police spokesman", Type: vigil.SourceOfficial, Reliability: "E", Party: police},
		unitSpox:   {Name: "unit commander", Type: vigil.SourceOfficial, Reliability: "E", Party: unit},
		mayorSpox:  {Name: "mayor's press office", Type: vigil.SourceOfficial, Reliability: "D", Party: mayor},
		blogger:    {Name: "a blogger", Type: vigil.SourceSocialMedia, Reliability: "E"},
		cycSpox:    {Name: "Party A's spokesman", Type: vigil.SourceOfficial, Reliability: "F", Party: cycA},
		ghostSpox:  {Name: "spokesman", Type: vigil.SourceOfficial, Reliability: "F", Party: unknownPart},
	}
)

const (
	affirms = vigil.Affirms
	partial = vigil.PartiallyAffirms
	denies  = vigil.Denies
)

// claim returns a claim about act by src; evidence links one item.
func claim(src vigil.ID, stance vigil.Stance, cred vigil.Credibility, evidence bool) corroborate.Claim {
	c := corroborate.Claim{ID: vigil.NewID(), Claim: vigil.Claim{Act: act, Source: src, Stance: stance, Credibility: cred}}
	if evidence {
		c.Evidence = []vigil.ID{vigil.NewID()}
	}
	return c
}

func input(perps []vigil.ID, claims ...corroborate.Claim) corroborate.Input {
	return corroborate.Input{
		ActID:   act,
		Act:     vigil.Act{Incident: vigil.NewID(), Type: "arbitrary_detention", Perpetrators: perps},
		Claims:  claims,
		Sources: sources,
		Parties: parties,
	}
}

func evaluate(t *testing.T, in corroborate.Input, rules corroborate.Rules) corroborate.Result {
	t.Helper()
	res, err := corroborate.Evaluate(in, rules)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return res
}

type row struct {
	desc   string
	perps  []vigil.ID // the act's perpetrators; police if nil
	claims []corroborate.Claim
	status corroborate.Status
	flags  []corroborate.Flag
}

func (r row) run(t *testing.T, rules corroborate.Rules) {
	t.Run(r.desc, func(t *testing.T) {
		perps := r.perps
		if perps == nil {
			perps = []vigil.ID{police}
		}
		res := evaluate(t, input(perps, r.claims...), rules)
		if res.Status != r.status || !slices.Equal(res.Flags, r.flags) {
			t.Errorf("got %s %v, want %s %v\n%s", res.Status, res.Flags, r.status, r.flags, res.Explanation.EN)
		}
	})
}

var (
	denied   = []corroborate.Flag{corroborate.DeniedByImplicated}
	disputed = []corroborate.Flag{corroborate.Disputed}
	both     = []corroborate.Flag{corroborate.DeniedByImplicated, corroborate.Disputed}
)

// TestStatus has one row per status rule of the defaults.
func TestStatus(t *testing.T) {
	for _, r := range []row{
		{"no claims: unverified", nil, nil, corroborate.Unverified, nil},
		{"one source affirms: reported", nil, []corroborate.Claim{claim(memorial, affirms, 2, false)}, corroborate.Reported, nil},
		{"one source partially affirms: reported", nil, []corroborate.Claim{claim(novaya, partial, 3, false)}, corroborate.Reported, nil},
		{"one source says it twice: reported, the source counts once", nil, []corroborate.Claim{claim(memorial, affirms, 2, false), claim(memorial, affirms, 3, false)}, corroborate.Reported, nil},
		{"two sources of one origin (spelt differently): reported, the origin counts once", nil, []corroborate.Claim{claim(memorial, affirms, 2, false), claim(relay, affirms, 3, false)}, corroborate.Reported, nil},
		{"two origins: corroborated", nil, []corroborate.Claim{claim(memorial, affirms, 3, false), claim(novaya, affirms, 3, false)}, corroborate.Corroborated, nil},
		{"a partial affirmation counts as an origin", nil, []corroborate.Claim{claim(memorial, affirms, 3, false), claim(novaya, partial, 3, false)}, corroborate.Corroborated, nil},
		{"two sources with no origin count separately", nil, []corroborate.Claim{claim(witnessD, affirms, 3, false), claim(blogger, affirms, 4, false)}, corroborate.Corroborated, nil},
		{"a source with no origin and a named origin", nil, []corroborate.Claim{claim(witnessD, affirms, 3, false), claim(novaya, affirms, 3, false)}, corroborate.Corroborated, nil},
		{"corroborated with linked evidence: confirmed", nil, []corroborate.Claim{claim(memorial, affirms, 2, true), claim(novaya, affirms, 3, false)}, corroborate.Confirmed, nil},
		{"corroborated with an A1 source: confirmed", nil, []corroborate.Claim{claim(witnessA, affirms, 1, false), claim(novaya, affirms, 3, false)}, corroborate.Confirmed, nil},
		{"corroborated with a B2 source: confirmed", nil, []corroborate.Claim{claim(memorial, affirms, 2, false), claim(witnessD, affirms, 3, false)}, corroborate.Confirmed, nil},
		{"A with credibility 3 does not confirm", nil, []corroborate.Claim{claim(witnessA, affirms, 3, false), claim(novaya, affirms, 3, false)}, corroborate.Corroborated, nil},
		{"C with credibility 1 does not confirm", nil, []corroborate.Claim{claim(novaya, affirms, 1, false), claim(witnessD, affirms, 1, false)}, corroborate.Corroborated, nil},
		{"an A1 source alone is only reported", nil, []corroborate.Claim{claim(witnessA, affirms, 1, false)}, corroborate.Reported, nil},
		{"evidence from one origin alone is only reported", nil, []corroborate.Claim{claim(memorial, affirms, 2, true), claim(relay, affirms, 2, true)}, corroborate.Reported, nil},
		{"evidence on a denying claim does not confirm", nil, []corroborate.Claim{claim(memorial, affirms, 3, false), claim(novaya, affirms, 3, false), claim(mayorSpox, denies, 2, true)}, corroborate.Corroborated, disputed},
		{"an A1 denial does not confirm", nil, []corroborate.Claim{claim(memorial, affirms, 3, false), claim(novaya, affirms, 3, false), claim(witnessA, denies, 1, false)}, corroborate.Corroborated, disputed},
		{"evidence on a partial affirmation does not confirm", nil, []corroborate.Claim{claim(memorial, affirms, 3, false), claim(novaya, partial, 3, true)}, corroborate.Corroborated, nil},
		{"an A1 partial affirmation does not confirm", nil, []corroborate.Claim{claim(witnessA, partial, 1, false), claim(novaya, affirms, 3, false)}, corroborate.Corroborated, nil},
		{"a denial alone leaves it unverified", nil, []corroborate.Claim{claim(mvd, denies, 6, false)}, corroborate.Unverified, denied},
	} {
		r.run(t, corroborate.DefaultRules())
	}
}

// TestFlags has one row per flag rule, and shows that flags never lower
// the status.
func TestFlags(t *testing.T) {
	two := func(extra ...corroborate.Claim) []corroborate.Claim {
		return append([]corroborate.Claim{claim(memorial, affirms, 3, false), claim(novaya, affirms, 3, false)}, extra...)
	}
	for _, r := range []row{
		{"the perpetrator party denies: denied by implicated", nil, two(claim(policeSpox, denies, 5, false)), corroborate.Corroborated, denied},
		{"the perpetrator's ministry (an ancestor) denies: denied by implicated", nil, two(claim(mvd, denies, 6, false)), corroborate.Corroborated, denied},
		{"a unit of the perpetrator (a descendant) denies: denied by implicated", nil, two(claim(unitSpox, denies, 5, false)), corroborate.Corroborated, denied},
		{"the ministry denies an act of a unit two levels down", []vigil.ID{unit}, two(claim(mvd, denies, 6, false)), corroborate.Corroborated, denied},
		{"one of several perpetrators denies", []vigil.ID{mayor, police}, two(claim(policeSpox, denies, 5, false)), corroborate.Corroborated, denied},
		{"an unrelated party denies: disputed", nil, two(claim(mayorSpox, denies, 4, false)), corroborate.Corroborated, disputed},
		{"a source with no party denies: disputed", nil, two(claim(blogger, denies, 4, false)), corroborate.Corroborated, disputed},
		{"a sibling's parent is not an ancestor: the ministry denies an act of the mayor", []vigil.ID{mayor}, two(claim(mvd, denies, 6, false)), corroborate.Corroborated, disputed},
		{"an act with no perpetrators: every denial is disputed", []vigil.ID{}, two(claim(mvd, denies, 6, false)), corroborate.Corroborated, disputed},
		{"both flags at once", nil, two(claim(mvd, denies, 6, false), claim(mayorSpox, denies, 4, false)), corroborate.Corroborated, both},
		{"both flags, disputed first in the claims", nil, two(claim(mayorSpox, denies, 4, false), claim(mvd, denies, 6, false)), corroborate.Corroborated, both},
		{"two implicated denials: one flag", nil, two(claim(mvd, denies, 6, false), claim(policeSpox, denies, 6, false)), corroborate.Corroborated, denied},
		{"flags never lower the status: confirmed stays confirmed", nil, []corroborate.Claim{claim(witnessA, affirms, 1, false), claim(novaya, affirms, 3, false), claim(mvd, denies, 6, false), claim(mayorSpox, denies, 2, true), claim(blogger, denies, 3, false)}, corroborate.Confirmed, both},
		{"flags never lower the status: reported stays reported", nil, []corroborate.Claim{claim(memorial, affirms, 2, false), claim(mvd, denies, 1, true), claim(policeSpox, denies, 1, true)}, corroborate.Reported, denied},
		{"a perpetrator's source that affirms counts as an origin", nil, []corroborate.Claim{claim(memorial, affirms, 3, false), claim(policeSpox, affirms, 5, false)}, corroborate.Corroborated, nil},
		{"a cycle in the party tree does not hang: unrelated denier in a cycle", nil, two(claim(cycSpox, denies, 6, false)), corroborate.Corroborated, disputed},
		{"a cycle in the party tree does not hang: perpetrator in a cycle", []vigil.ID{cycB}, two(claim(cycSpox, denies, 6, false)), corroborate.Corroborated, denied},
		{"a cycle in the party tree does not hang: perpetrator in a cycle, denier outside", []vigil.ID{cycA}, two(claim(mvd, denies, 6, false)), corroborate.Corroborated, disputed},
		{"a perpetrator party missing from the map still implicates itself", []vigil.ID{unknownPart}, two(claim(ghostSpox, denies, 6, false)), corroborate.Corroborated, denied},
	} {
		r.run(t, corroborate.DefaultRules())
	}
}

// TestRules changes one rule at a time.
func TestRules(t *testing.T) {
	two := []corroborate.Claim{claim(memorial, affirms, 2, false), claim(novaya, affirms, 3, false)}
	withEvidence := []corroborate.Claim{claim(memorial, affirms, 3, true), claim(novaya, affirms, 3, false)}
	partialEvidence := []corroborate.Claim{claim(memorial, affirms, 3, false), claim(novaya, partial, 3, true)}
	for _, test := range []struct {
		change func(*corroborate.Rules)
		row
	}{
		{func(r *corroborate.Rules) { r.CorroboratingOrigins = 3 }, row{"three origins needed: two are reported", nil, two, corroborate.Reported, nil}},
		{func(r *corroborate.Rules) { r.CorroboratingOrigins = 3 }, row{"three origins needed: three corroborate", nil, append(two[:2:2], claim(witnessD, affirms, 3, false)), corroborate.Confirmed, nil}},
		{func(r *corroborate.Rules) { r.EvidenceConfirms = false }, row{"evidence does not confirm", nil, withEvidence, corroborate.Corroborated, nil}},
		{func(r *corroborate.Rules) { r.ConfirmingGrades = nil }, row{"grades do not confirm", nil, two, corroborate.Corroborated, nil}},
		{func(r *corroborate.Rules) { r.ConfirmingGrades = nil }, row{"grades do not confirm, evidence still does", nil, withEvidence, corroborate.Confirmed, nil}},
		{func(r *corroborate.Rules) { r.ConfirmingCredibilities = []vigil.Credibility{1} }, row{"only credibility 1 confirms: B2 does not", nil, two, corroborate.Corroborated, nil}},
		{func(r *corroborate.Rules) {
			r.ConfirmingGrades = []vigil.Reliability{"A", "B", "C"}
			r.ConfirmingCredibilities = []vigil.Credibility{1, 2, 3}
		}, row{"C3 confirms when the rules say so", nil, []corroborate.Claim{claim(novaya, affirms, 3, false), claim(witnessD, affirms, 4, false)}, corroborate.Confirmed, nil}},
		{func(r *corroborate.Rules) { r.PartialConfirms = true }, row{"partial affirmations confirm when the rules say so", nil, partialEvidence, corroborate.Confirmed, nil}},
		{func(r *corroborate.Rules) {}, row{"default: partial affirmations do not confirm", nil, partialEvidence, corroborate.Corroborated, nil}},
	} {
		rules := corroborate.DefaultRules()
		test.change(&rules)
		test.row.run(t, rules)
	}
}

func TestErrors(t *testing.T) {
	ok := claim(memorial, affirms, 2, false)
	other := claim(novaya, affirms, 2, false)
	other.Act = vigil.NewID()
	lost := claim(vigil.NewID(), affirms, 2, false)
	odd := claim(memorial, "maybe", 2, false)
	bad := func(f func(*corroborate.Rules)) corroborate.Rules { r := corroborate.DefaultRules(); f(&r); return r }
	for _, test := range []struct {
		desc  string
		in    corroborate.Input
		rules corroborate.Rules
	}{
		{"a claim about another act", input(nil, ok, other), corroborate.DefaultRules()},
		{"a claim whose source is missing", input(nil, ok, lost), corroborate.DefaultRules()},
		{"a claim with an unknown stance", input(nil, ok, odd), corroborate.DefaultRules()},
		{"zero rules", input(nil, ok), corroborate.Rules{}},
		{"one origin corroborates", input(nil, ok), bad(func(r *corroborate.Rules) { r.CorroboratingOrigins = 1 })},
		{"grade G", input(nil, ok), bad(func(r *corroborate.Rules) { r.ConfirmingGrades = []vigil.Reliability{"G"} })},
		{"credibility 0", input(nil, ok), bad(func(r *corroborate.Rules) { r.ConfirmingCredibilities = []vigil.Credibility{0} })},
	} {
		t.Run(test.desc, func(t *testing.T) {
			if _, err := corroborate.Evaluate(test.in, test.rules); !errors.Is(err, vigil.ErrInvalid) {
				t.Errorf("Evaluate: %v, want ErrInvalid", err)
			}
		})
	}
}

// TestFacts checks the facts behind a result: which claims count, under
// which origin, which confirm, and which denials implicate whom.
func TestFacts(t *testing.T) {
	m1, m2 := claim(memorial, affirms, 3, false), claim(relay, partial, 3, false)
	n := claim(novaya, affirms, 3, true)
	d1, d2 := claim(unitSpox, denies, 6, false), claim(blogger, denies, 4, false)
	res := evaluate(t, input([]vigil.ID{police}, m1, d1, n, m2, d2), corroborate.DefaultRules())
	want := []corroborate.Origin{
		{Origin: "Memorial hotline", Sources: []vigil.ID{memorial, relay}, Claims: []vigil.ID{m1.ID, m2.ID}},
		{Origin: "Novaya Gazeta", Sources: []vigil.ID{novaya}, Claims: []vigil.ID{n.ID}},
	}
	if len(res.Origins) != len(want) {
		t.Fatalf("origins %+v", res.Origins)
	}
	for i := range want {
		g := res.Origins[i]
		if g.Origin != want[i].Origin || !slices.Equal(g.Sources, want[i].Sources) || !slices.Equal(g.Claims, want[i].Claims) {
			t.Errorf("origin %d = %+v, want %+v", i, g, want[i])
		}
	}
	if !slices.Equal(res.Affirming, []vigil.ID{m1.ID, n.ID, m2.ID}) {
		t.Errorf("affirming %v", res.Affirming)
	}
	if !slices.Equal(res.Confirming, []vigil.ID{n.ID}) {
		t.Errorf("confirming %v", res.Confirming)
	}
	wantD := []corroborate.Denial{
		{Claim: d1.ID, Source: unitSpox, Implicated: true, Perpetrator: police, Relation: "part"},
		{Claim: d2.ID, Source: blogger},
	}
	if !slices.Equal(res.Denials, wantD) {
		t.Errorf("denials %+v, want %+v", res.Denials, wantD)
	}
}

// TestExplanation checks the words, in English and Russian, of the cases a
// reader meets most.
func TestExplanation(t *testing.T) {
	var many []corroborate.Claim
	for range 21 {
		id := vigil.NewID()
		sources[id] = vigil.Source{Name: "W", Type: vigil.SourceWitness, Reliability: "D"}
		many = append(many, corroborate.Claim{ID: vigil.NewID(), Claim: vigil.Claim{Act: act, Source: id, Stance: affirms, Credibility: 4}})
	}
	five := func(r *corroborate.Rules) { r.CorroboratingOrigins = 5 }
	for _, test := range []struct {
		desc   string
		perps  []vigil.ID
		claims []corroborate.Claim
		change func(*corroborate.Rules)
		en, ru string
	}{
		{"the design's example", nil,
			[]corroborate.Claim{claim(memorial, affirms, 3, false), claim(novaya, affirms, 3, false), claim(mvd, denies, 6, false)}, nil,
			"Corroborated: 2 independent origins affirm it (Memorial hotline, B3; Novaya Gazeta, C3); not confirmed: no linked evidence and no affirming source graded A or B with credibility 1 or 2. Denied by an implicated party: Ministry of Internal Affairs of Chechnya, above the perpetrator Argun district police (source: official statement, F6). Denials are flagged and do not lower the status.",
			"Подкреплено: 2 независимых первоисточника подтверждают это (Memorial hotline, B3; Novaya Gazeta, C3); не подтверждено: нет приложенных доказательств и нет подтверждающего источника с оценкой A или B и достоверностью 1 или 2. Отрицает причастная сторона: Ministry of Internal Affairs of Chechnya, вышестоящая по отношению к исполнителю Argun district police (источник: official statement, F6). Отрицания отмечаются флагами и не понижают статус."},
		{"unverified", nil, nil, nil,
			"Unverified: no source affirms it.",
			"Не проверено: ни один источник этого не подтверждает."},
		{"reported by one origin through two sources, one partially", nil,
			[]corroborate.Claim{claim(memorial, affirms, 2, false), claim(relay, partial, 3, false)}, nil,
			"Reported: 1 origin affirms it (Memorial hotline, B2 and Kavkaz news site, C3, partially, one origin); corroboration needs 2 independent origins.",
			"Сообщено: 1 первоисточник подтверждает это (Memorial hotline, B2 и Kavkaz news site, C3, частично, один первоисточник); для подкрепления нужно 2 независимых первоисточника."},
		{"reported by an A1 source", nil,
			[]corroborate.Claim{claim(witnessA, affirms, 1, false)}, nil,
			"Reported: 1 origin affirms it (Witness 1, A1); corroboration needs 2 independent origins. Evidence or a top grade confirms only a corroborated act.",
			"Сообщено: 1 первоисточник подтверждает это (Witness 1, A1); для подкрепления нужно 2 независимых первоисточника. Доказательства или высшая оценка подтверждают только подкреплённое нарушение."},
		{"confirmed by grade and by evidence, disputed", nil,
			[]corroborate.Claim{claim(witnessA, affirms, 1, true), claim(novaya, affirms, 3, true), claim(mayorSpox, denies, 4, false)}, nil,
			"Confirmed: 2 independent origins affirm it (Witness 1, A1; Novaya Gazeta, C3); confirmed by Witness 1, A1 (linked evidence; graded A or B with credibility 1 or 2) and Novaya Gazeta, C3 (linked evidence). Disputed by a source not implicated in the act: mayor's press office, D4 (speaking for Grozny mayor's office). Denials are flagged and do not lower the status.",
			"Подтверждено: 2 независимых первоисточника подтверждают это (Witness 1, A1; Novaya Gazeta, C3); основание подтверждения: Witness 1, A1 (приложены доказательства; оценка A или B, достоверность 1 или 2) и Novaya Gazeta, C3 (приложены доказательства). Оспаривает источник, не причастный к нарушению: mayor's press office, D4 (от имени Grozny mayor's office). Отрицания отмечаются флагами и не понижают статус."},
		{"denied by the perpetrator itself and by a part of it", nil,
			[]corroborate.Claim{claim(policeSpox, denies, 5, false), claim(unitSpox, denies, 6, false)}, nil,
			"Unverified: no source affirms it. Denied by an implicated party: Argun district police, itself named as a perpetrator (source: police spokesman, E5). Denied by an implicated party: Argun police patrol unit, part of the perpetrator Argun district police (source: unit commander, E6). Denials are flagged and do not lower the status.",
			"Не проверено: ни один источник этого не подтверждает. Отрицает причастная сторона: Argun district police, сама указана исполнителем (источник: police spokesman, E5). Отрицает причастная сторона: Argun police patrol unit, входит в состав исполнителя Argun district police (источник: unit commander, E6). Отрицания отмечаются флагами и не понижают статус."},
		{"Russian plural: 5 origins", nil, many[:5], nil,
			"Corroborated: 5 independent origins affirm it (W, D4; W, D4; W, D4; W, D4; W, D4); not confirmed: no linked evidence and no affirming source graded A or B with credibility 1 or 2.",
			"Подкреплено: 5 независимых первоисточников подтверждают это (W, D4; W, D4; W, D4; W, D4; W, D4); не подтверждено: нет приложенных доказательств и нет подтверждающего источника с оценкой A или B и достоверностью 1 или 2."},
		{"Russian plural: 21 origins", nil, many, nil,
			"Corroborated: 21 independent origins affirm it (",
			"Подкреплено: 21 независимый первоисточник подтверждает это ("},
		{"Russian plural: 5 needed", nil, many[:1], five,
			"Reported: 1 origin affirms it (W, D4); corroboration needs 5 independent origins.",
			"Сообщено: 1 первоисточник подтверждает это (W, D4); для подкрепления нужно 5 независимых первоисточников."},
		{"confirmation switched off", nil, many[:2], func(r *corroborate.Rules) { r.EvidenceConfirms = false; r.ConfirmingGrades = nil },
			"Corroborated: 2 independent origins affirm it (W, D4; W, D4); not confirmed: the rules confirm nothing.",
			"Подкреплено: 2 независимых первоисточника подтверждают это (W, D4; W, D4); не подтверждено: правила ничего не подтверждают."},
	} {
		t.Run(test.desc, func(t *testing.T) {
			rules := corroborate.DefaultRules()
			if test.change != nil {
				test.change(&rules)
			}
			perps := test.perps
			if perps == nil {
				perps = []vigil.ID{police}
			}
			res := evaluate(t, input(perps, test.claims...), rules)
			if !strings.HasPrefix(res.Explanation.EN, test.en) {
				t.Errorf("EN:\n got %s\nwant %s", res.Explanation.EN, test.en)
			}
			if !strings.HasPrefix(res.Explanation.RU, test.ru) {
				t.Errorf("RU:\n got %s\nwant %s", res.Explanation.RU, test.ru)
			}
		})
	}
}
