package staffweb

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/intake"
)

// triageRows is how many act rows the triage form starts with; "one more
// act" adds one, up to maxTriageRows.
const (
	triageRows    = 2
	maxTriageRows = 20
)

// The choices of the source and claim fields.
var (
	sourceTypes   = []vigil.SourceType{vigil.SourceVictim, vigil.SourceWitness, vigil.SourceNGO, vigil.SourceMedia, vigil.SourceOfficial, vigil.SourceSocialMedia, vigil.SourceDocument, vigil.SourceOther}
	reliabilities = []vigil.Reliability{vigil.ReliabilityA, vigil.ReliabilityB, vigil.ReliabilityC, vigil.ReliabilityD, vigil.ReliabilityE, vigil.ReliabilityF}
)

// gradeOptions are the choices of source type, reliability and
// credibility in the page's language.
func gradeOptions(v *view) (types, rels, creds []option) {
	for _, t := range sourceTypes {
		types = append(types, option{string(t), v.T("records.sourcetype." + string(t))})
	}
	for _, r := range reliabilities {
		rels = append(rels, option{string(r), string(r) + " — " + v.T("records.reliability."+string(r))})
	}
	for c := 1; c <= 6; c++ {
		n := strconv.Itoa(c)
		creds = append(creds, option{n, n + " — " + v.T("records.credibility."+n)})
	}
	return types, rels, creds
}

type triageData struct {
	Sub                intake.View
	Form               *form
	Rows               []int
	Types              []option
	SourceTypes, Rels  []option
	Creds              []option
	MaxRows, TotalRows int
}

// triageFields are the fields of the triage form with rows act rows.
func triageFields(rows int) []string {
	out := []string{"incident.title", "incident.description", "incident.period.from", "incident.period.to", "incident.place", "incident.restricted",
		"source.name", "source.type", "source.reliability", "claim.credibility"}
	for i := range rows {
		for _, f := range actFields {
			out = append(out, fmt.Sprintf("acts[%d].%s", i, f))
		}
	}
	return out
}

func (s *Server) triageView(r *http.Request, sub vigil.ID, f *form) (*view, error) {
	sv, err := s.Inbox.Get(r.Context(), principal(r), sub)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "records.title.triage", nil)
	d := triageData{Sub: sv, Form: f, Types: actTypes(v), MaxRows: maxTriageRows}
	d.SourceTypes, d.Rels, d.Creds = gradeOptions(v)
	for i := range f.Rows {
		d.Rows = append(d.Rows, i)
	}
	v.Data = d
	return v, nil
}

func (s *Server) triagePage(w http.ResponseWriter, r *http.Request) {
	sub, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(url.Values{"source.type": {string(vigil.SourceVictim)}, "source.reliability": {string(vigil.ReliabilityF)},
		"claim.credibility": {"6"}})
	f.Rows = triageRows
	for i := range f.Rows {
		f.Values.Set(fmt.Sprintf("acts[%d].victims.min", i), "1")
	}
	v, err := s.triageView(r, sub, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Values.Set("source.name", v.T("records.triage.sourcedefault", sub.String()[:8]))
	s.render(w, http.StatusOK, "records_triage", v)
}

// emptyRow reports whether act row prefix was left blank.
func emptyRow(vals url.Values, prefix string) bool {
	for _, f := range []string{"type", "description", "period.from", "period.to", "place"} {
		if strings.TrimSpace(vals.Get(prefix+f)) != "" {
			return false
		}
	}
	return true
}

// triage makes a new incident with its acts from a submission: the
// submission becomes a source whose claim affirms each act, naming the
// submission; all in one batch, or nothing. "One more act" re-renders the
// form with another blank row instead.
func (s *Server) triage(w http.ResponseWriter, r *http.Request) {
	sub, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(r.PostForm)
	f.Rows, _ = strconv.Atoi(r.PostFormValue("rows"))
	f.Rows = min(max(f.Rows, 1), maxTriageRows)
	if r.PostFormValue("more") != "" {
		f.Rows = min(f.Rows+1, maxTriageRows)
		f.Values.Set(fmt.Sprintf("acts[%d].victims.min", f.Rows-1), "1")
		v, err := s.triageView(r, sub, f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Notice = v.T("records.triage.added")
		s.render(w, http.StatusOK, "records_triage", v)
		return
	}
	pr := principal(r)
	// The submission must be readable before anything is written.
	if _, err := s.Inbox.Get(r.Context(), pr, sub); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.parser(r)
	inc := vigil.Incident{Title: p.str("incident.title"), Description: p.text("incident.description"),
		Period: p.period("incident."), Place: p.ref("incident.place", cases.KindPlace)}
	if p.str("incident.restricted") != "" {
		inc.Restricted = []string{pr.Account}
	}
	src := vigil.Source{Name: p.str("source.name"), Type: vigil.SourceType(p.str("source.type")),
		Reliability: vigil.Reliability(p.str("source.reliability"))}
	cred := vigil.Credibility(p.int("claim.credibility", 6))
	incID, srcID := vigil.NewID(), vigil.NewID()
	changes := []cases.Change{{ID: incID, Doc: inc, Path: "incident"}, {ID: srcID, Doc: src, Path: "source"}}
	acts := 0
	for i := range f.Rows {
		prefix := fmt.Sprintf("acts[%d].", i)
		if emptyRow(r.PostForm, prefix) {
			continue
		}
		acts++
		a := parseAct(p, prefix, vigil.Act{Incident: incID})
		actID := vigil.NewID()
		changes = append(changes, cases.Change{ID: actID, Doc: a, Path: fmt.Sprintf("acts[%d]", i)},
			cases.Change{Doc: vigil.Claim{Act: actID, Source: srcID, Stance: vigil.Affirms, Credibility: cred, Submissions: []vigil.ID{sub}},
				Path: fmt.Sprintf("claims[%d]", i)})
	}
	if acts == 0 {
		p.errs["acts[0].type"] = probEmpty
	}
	if _, ok := s.save(w, r, p, changes, formPage{name: "records_triage", fields: triageFields(f.Rows), form: f,
		view: func(f *form) (*view, error) { return s.triageView(r, sub, f) },
		// A claim's problem is the credibility's, the one field of it
		// on the form.
		rename: func(field string) string {
			if strings.HasPrefix(field, "claims[") {
				return "claim.credibility"
			}
			return field
		}}); !ok {
		return
	}
	// The records are written; the submission's state only follows them,
	// so a failure here must not send the user to write them twice.
	_ = s.Inbox.SetState(r.Context(), pr, sub, intake.StateLinked)
	http.Redirect(w, r, "/incidents/"+incID.String()+"?done=triage", http.StatusSeeOther)
}
