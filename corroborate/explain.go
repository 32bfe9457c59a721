package corroborate

import (
	"fmt"
	"strings"

	"github.com/vigil-hr/vigil"
)

// lang holds the words of one language of the explanation.
type lang struct {
	or, and                  string
	partially, oneOrigin     string
	origins                  func(n int) string // "2 independent origins"
	affirm                   func(n int) string // "affirm it", agreeing with origins(n)
	unverified               string
	reported, corroborated   string
	confirmed, notConfirmed  string
	confirmedBy              string
	needs                    func(n int) string // "corroboration needs 2 independent origins"
	noEvidence, noGrade      func(g, c string) string
	confirmationOff          string
	byEvidence, byGrade      func(g, c string) string
	confirmsOnlyCorroborated string
	denied, disputed         string
	self, above, part        func(perp string) string
	source, speaksFor        func(s string) string
	denialsKeepStatus        string
	unnamedParty             func(id vigil.ID) string
}

var en = lang{
	or: "or", and: "and",
	partially: "partially", oneOrigin: "one origin",
	origins: func(n int) string {
		if n == 1 {
			return "1 origin"
		}
		return fmt.Sprintf("%d independent origins", n)
	},
	affirm: func(n int) string {
		if n == 1 {
			return "affirms it"
		}
		return "affirm it"
	},
	unverified:   "Unverified: no source affirms it.",
	reported:     "Reported",
	corroborated: "Corroborated",
	confirmed:    "Confirmed",
	notConfirmed: "not confirmed",
	confirmedBy:  "confirmed by",
	needs:        func(n int) string { return fmt.Sprintf("corroboration needs %d independent origins", n) },
	noEvidence:   func(string, string) string { return "no linked evidence" },
	noGrade: func(g, c string) string {
		return fmt.Sprintf("no affirming source graded %s with credibility %s", g, c)
	},
	confirmationOff:          "the rules confirm nothing",
	byEvidence:               func(string, string) string { return "linked evidence" },
	byGrade:                  func(g, c string) string { return fmt.Sprintf("graded %s with credibility %s", g, c) },
	confirmsOnlyCorroborated: "Evidence or a top grade confirms only a corroborated act.",
	denied:                   "Denied by an implicated party",
	disputed:                 "Disputed by a source not implicated in the act",
	self:                     func(string) string { return "itself named as a perpetrator" },
	above:                    func(p string) string { return "above the perpetrator " + p },
	part:                     func(p string) string { return "part of the perpetrator " + p },
	source:                   func(s string) string { return "source: " + s },
	speaksFor:                func(p string) string { return "speaking for " + p },
	denialsKeepStatus:        "Denials are flagged and do not lower the status.",
	unnamedParty:             func(id vigil.ID) string { return "party " + id.String() },
}

// ru counts n in Russian: one for 1, 21, 31…; few for 2–4, 22–24…; many
// for the rest (0, 5–20, 25–30…, 11–14).
func ru(n int, one, few, many string) string {
	switch n10, n100 := n%10, n%100; {
	case n10 == 1 && n100 != 11:
		return one
	case n10 >= 2 && n10 <= 4 && (n100 < 12 || n100 > 14):
		return few
	}
	return many
}

var rus = lang{
	or: "или", and: "и",
	partially: "частично", oneOrigin: "один первоисточник",
	origins: func(n int) string {
		if n == 1 {
			return "1 первоисточник"
		}
		return fmt.Sprintf("%d %s", n, ru(n, "независимый первоисточник", "независимых первоисточника", "независимых первоисточников"))
	},
	affirm: func(n int) string {
		return ru(n, "подтверждает это", "подтверждают это", "подтверждают это")
	},
	unverified:   "Не проверено: ни один источник этого не подтверждает.",
	reported:     "Сообщено",
	corroborated: "Подкреплено",
	confirmed:    "Подтверждено",
	notConfirmed: "не подтверждено",
	confirmedBy:  "основание подтверждения:",
	needs: func(n int) string {
		return fmt.Sprintf("для подкрепления нужно %d %s", n, ru(n, "независимый первоисточник", "независимых первоисточника", "независимых первоисточников"))
	},
	noEvidence: func(string, string) string { return "нет приложенных доказательств" },
	noGrade: func(g, c string) string {
		return fmt.Sprintf("нет подтверждающего источника с оценкой %s и достоверностью %s", g, c)
	},
	confirmationOff:          "правила ничего не подтверждают",
	byEvidence:               func(string, string) string { return "приложены доказательства" },
	byGrade:                  func(g, c string) string { return fmt.Sprintf("оценка %s, достоверность %s", g, c) },
	confirmsOnlyCorroborated: "Доказательства или высшая оценка подтверждают только подкреплённое нарушение.",
	denied:                   "Отрицает причастная сторона",
	disputed:                 "Оспаривает источник, не причастный к нарушению",
	self:                     func(string) string { return "сама указана исполнителем" },
	above: func(p string) string {
		return "вышестоящая по отношению к исполнителю " + p
	},
	part:              func(p string) string { return "входит в состав исполнителя " + p },
	source:            func(s string) string { return "источник: " + s },
	speaksFor:         func(p string) string { return "от имени " + p },
	denialsKeepStatus: "Отрицания отмечаются флагами и не понижают статус.",
	unnamedParty:      func(id vigil.ID) string { return "сторона " + id.String() },
}

func explain(in Input, rules Rules, res Result, confirming, denials []Claim) Explanation {
	claims := make(map[vigil.ID]Claim, len(in.Claims))
	for _, c := range in.Claims {
		claims[c.ID] = c
	}
	return Explanation{
		EN: explainIn(en, in, rules, res, claims, confirming, denials),
		RU: explainIn(rus, in, rules, res, claims, confirming, denials),
	}
}

func explainIn(l lang, in Input, rules Rules, res Result, claims map[vigil.ID]Claim, confirming, denials []Claim) string {
	// graded names a claim's source with its grade: "Memorial hotline, B2".
	graded := func(c Claim) string {
		s := in.Sources[c.Source]
		g := s.Name + ", " + vigil.Grade(s.Reliability, c.Credibility)
		if c.Stance == vigil.PartiallyAffirms {
			g += ", " + l.partially
		}
		return g
	}
	partyName := func(id vigil.ID) string {
		if p, ok := in.Parties[id]; ok && p.Name != "" {
			return p.Name
		}
		return l.unnamedParty(id)
	}
	grades, creds := rules.gradeRule(l.or)

	var b strings.Builder
	if res.Status == Unverified {
		b.WriteString(l.unverified)
	} else {
		var os []string
		for _, o := range res.Origins {
			var cs []string
			for _, id := range o.Claims {
				cs = append(cs, graded(claims[id]))
			}
			s := list(cs, l.and)
			if len(cs) > 1 {
				s += ", " + l.oneOrigin
			}
			os = append(os, s)
		}
		n := len(res.Origins)
		head := map[Status]string{Reported: l.reported, Corroborated: l.corroborated, Confirmed: l.confirmed}[res.Status]
		fmt.Fprintf(&b, "%s: %s %s (%s)", head, l.origins(n), l.affirm(n), strings.Join(os, "; "))
		switch res.Status {
		case Reported:
			fmt.Fprintf(&b, "; %s.", l.needs(rules.CorroboratingOrigins))
		case Corroborated:
			var why []string
			if rules.EvidenceConfirms {
				why = append(why, l.noEvidence(grades, creds))
			}
			if grades != "" && creds != "" {
				why = append(why, l.noGrade(grades, creds))
			}
			if len(why) == 0 {
				why = append(why, l.confirmationOff)
			}
			fmt.Fprintf(&b, "; %s: %s.", l.notConfirmed, strings.Join(why, " "+l.and+" "))
		case Confirmed:
			var by []string
			for _, c := range confirming {
				var how []string
				if rules.EvidenceConfirms && len(c.Evidence) > 0 {
					how = append(how, l.byEvidence(grades, creds))
				}
				if rules.confirmsByGrade(in.Sources[c.Source].Reliability, c.Credibility) {
					how = append(how, l.byGrade(grades, creds))
				}
				by = append(by, graded(c)+" ("+strings.Join(how, "; ")+")")
			}
			fmt.Fprintf(&b, "; %s %s.", l.confirmedBy, list(by, l.and))
		}
		if res.Status.Rank() < Corroborated.Rank() && len(confirming) > 0 {
			b.WriteString(" " + l.confirmsOnlyCorroborated)
		}
	}

	for i, c := range denials {
		d := res.Denials[i]
		s := in.Sources[c.Source]
		grade := vigil.Grade(s.Reliability, c.Credibility)
		if d.Implicated {
			rel := map[string]func(string) string{"perpetrator": l.self, "above": l.above, "part": l.part}[d.Relation]
			fmt.Fprintf(&b, " %s: %s, %s (%s, %s).", l.denied, partyName(s.Party), rel(partyName(d.Perpetrator)), l.source(s.Name), grade)
			continue
		}
		fmt.Fprintf(&b, " %s: %s, %s", l.disputed, s.Name, grade)
		if !s.Party.IsZero() {
			fmt.Fprintf(&b, " (%s)", l.speaksFor(partyName(s.Party)))
		}
		b.WriteString(".")
	}
	if len(denials) > 0 {
		b.WriteString(" " + l.denialsKeepStatus)
	}
	return b.String()
}
