package staffweb

import (
	"net/http"
	"net/url"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
)

// denialFields are the fields of the official denial form.
var denialFields = []string{"source.party", "source.name", "source.reliability", "claim.credibility", "claim.quote", "claim.date"}

type denialData struct {
	cases.ActResult
	Form        *form
	Parties     []option
	Rels, Creds []option
}

// denialView is the denial form of act id. The parties offered are the
// act's perpetrators and the parties above them (a denial by one of them
// sets denied_by_implicated), and "no party" (a denial that only
// disputes).
func (s *Server) denialView(r *http.Request, id vigil.ID, f *form) (*view, error) {
	ctx, p := r.Context(), principal(r)
	res, err := s.actResult(ctx, p, id)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "records.title.denial", nil)
	d := denialData{ActResult: res, Form: f}
	_, d.Rels, d.Creds = gradeOptions(v)
	n := s.names(r, v.Lang)
	seen := map[vigil.ID]bool{}
	for _, perp := range res.Act.Perpetrators {
		up, _ := vigil.Lineage(perp, func(id vigil.ID) (vigil.ID, bool) {
			rec, err := s.Cases.Get(ctx, p, id)
			if err != nil {
				return vigil.ID{}, false
			}
			pt, ok := rec.Doc.(vigil.Party)
			return pt.Parent, ok
		})
		for _, id := range append([]vigil.ID{perp}, up...) {
			if !seen[id] {
				seen[id] = true
				d.Parties = append(d.Parties, option{id.String(), n.of(id).Name})
			}
		}
	}
	if len(d.Parties) > 0 && f.V("source.party") == "" && r.Method == http.MethodGet {
		f.Values.Set("source.party", d.Parties[0].Value)
	}
	d.Parties = append(d.Parties, option{"", v.T("records.denial.noparty")})
	v.Data = d
	return v, nil
}

func (s *Server) denialPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.denialView(r, id, newForm(url.Values{"source.reliability": {"F"}, "claim.credibility": {"6"}}))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "records_denial", v)
}

// denial records an official denial of an act: a new official source
// speaking for the chosen party and its claim denying the act, in one
// batch. Package corroborate then flags the act denied_by_implicated if
// the party is, is above or is part of a perpetrator, else disputed.
func (s *Server) denial(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pr := principal(r)
	if _, err := s.actResult(r.Context(), pr, id); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.parser(r)
	src := vigil.Source{Name: p.str("source.name"), Type: vigil.SourceOfficial,
		Reliability: vigil.Reliability(p.str("source.reliability")), Party: p.ref("source.party", cases.KindParty)}
	cl := vigil.Claim{Act: id, Stance: vigil.Denies, Credibility: vigil.Credibility(p.int("claim.credibility", 6)),
		Quote: p.text("claim.quote"), Date: p.date("claim.date")}
	if cl.Quote == "" {
		p.errs["claim.quote"] = probEmpty
	}
	cl.Source = vigil.NewID()
	if _, ok := s.save(w, r, p, []cases.Change{{ID: cl.Source, Doc: src, Path: "source"}, {Doc: cl, Path: "claim"}}, formPage{name: "records_denial", fields: denialFields,
		view:   func(f *form) (*view, error) { return s.denialView(r, id, f) },
		rename: func(f string) string { return f }}); !ok {
		return
	}
	http.Redirect(w, r, "/acts/"+id.String()+"?done=denial", http.StatusSeeOther)
}
