package staffweb

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/vocab"
)

// incidentFields are the fields of the incident form.
var incidentFields = []string{"title", "description", "period.from", "period.to", "place", "restricted"}

// actFields are the fields of the act form.
var actFields = []string{"type", "description", "period.from", "period.to", "place", "victims.min", "victims.max", "victim_persons", "perpetrators"}

// A statusCount is how many acts have a status.
type statusCount struct {
	Status corroborate.Status
	N      int
}

type incidentRow struct {
	ID         vigil.ID
	Title      string
	Period     vigil.Period
	Restricted bool
	Acts       int
	Counts     []statusCount // only statuses with acts
}

type incidentsData struct {
	Rows  []incidentRow
	Next  vigil.ID
	After vigil.ID
	Form  *form
}

func countStatuses(acts []cases.ActResult) []statusCount {
	var out []statusCount
	for _, st := range Statuses {
		n := 0
		for _, a := range acts {
			if a.Result.Status == st {
				n++
			}
		}
		if n > 0 {
			out = append(out, statusCount{st, n})
		}
	}
	return out
}

func (s *Server) incidentsView(r *http.Request, f *form) (*view, error) {
	recs, next, err := s.list(r, cases.KindIncident)
	if err != nil {
		return nil, err
	}
	d := incidentsData{Next: next, After: after(r), Form: f}
	for _, rec := range recs {
		inc := rec.Doc.(vigil.Incident)
		acts, err := s.incidentActs(r.Context(), principal(r), rec.ID)
		if err != nil {
			return nil, err
		}
		d.Rows = append(d.Rows, incidentRow{ID: rec.ID, Title: inc.Title, Period: inc.Period,
			Restricted: len(inc.Restricted) > 0, Acts: len(acts), Counts: countStatuses(acts)})
	}
	return s.newView(r, "records.title.incidents", d), nil
}

func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.incidentsView(r, newForm(nil))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "records_incidents", v)
}

// parseIncident reads the incident form onto inc (an edit keeps the
// members of a restricted incident; a new restricted one has its author).
func parseIncident(p *parser, inc vigil.Incident, author string) vigil.Incident {
	inc.Title = p.str("title")
	inc.Description = p.text("description")
	inc.Period = p.period("")
	inc.Place = p.ref("place", cases.KindPlace)
	switch restricted := p.str("restricted") != ""; {
	case !restricted:
		inc.Restricted = nil
	case len(inc.Restricted) == 0:
		inc.Restricted = []string{author}
	}
	return inc
}

func (s *Server) createIncident(w http.ResponseWriter, r *http.Request) {
	p := s.parser(r)
	pr := principal(r)
	inc := parseIncident(p, vigil.Incident{}, pr.Account)
	refs, ok := s.save(w, r, p, []cases.Change{{Doc: inc, Path: "doc"}}, formPage{name: "records_incidents", fields: incidentFields,
		view: func(f *form) (*view, error) { return s.incidentsView(r, f) }})
	if !ok {
		return
	}
	http.Redirect(w, r, "/incidents/"+refs[0].ID.String(), http.StatusSeeOther)
}

// trimDoc drops the path "doc" of a single change from a field name.
func trimDoc(field string) string { return strings.TrimPrefix(field, "doc.") }

// renamed returns err with its field errors' fields renamed by f; an error
// without field errors is returned as it is.
func renamed(err error, f func(string) string) error {
	fes := vigil.FieldErrors(err)
	if len(fes) == 0 {
		return err
	}
	out := make([]error, len(fes))
	for i, fe := range fes {
		c := *fe
		c.Field = f(c.Field)
		out[i] = &c
	}
	return errors.Join(out...)
}

type actRow struct {
	cases.ActResult
	Place   ref
	Victims []ref
}

type incidentData struct {
	ID       vigil.ID
	Version  int64
	Incident vigil.Incident
	Place    ref
	Acts     []actRow
	People   []ref
	Places   []ref
	Parties  []ref
	Edit     *form
	NewAct   *form
	Members  *form
	Accounts []option // accounts that may be added as members
	Types    []option
}

// actTypes are the act type choices in v's language, after a blank one.
func actTypes(v *view) []option {
	out := []option{{"", v.T("records.choose")}}
	for _, a := range vocab.ActTypes() {
		out = append(out, option{a.Code, a.Label(v.Lang)})
	}
	return out
}

// typeLabel is an act type's label in lang.
func typeLabel(code, lang string) string {
	if a, ok := vocab.ActType(code); ok {
		return a.Label(lang)
	}
	return code
}

func incidentValues(inc vigil.Incident, version int64) url.Values {
	vals := url.Values{"title": {inc.Title}, "description": {inc.Description}, "period.from": {dateVal(inc.Period.From)},
		"period.to": {dateVal(inc.Period.To)}, "place": {idVal(inc.Place)}, "version": {strconv.FormatInt(version, 10)}}
	if len(inc.Restricted) > 0 {
		vals.Set("restricted", "1")
	}
	return vals
}

// incidentView is the incident page; nil forms are filled from the record.
func (s *Server) incidentView(r *http.Request, id vigil.ID, edit, newAct, members *form) (*view, error) {
	ctx, p := r.Context(), principal(r)
	rec, err := s.getDoc(ctx, p, id, cases.KindIncident)
	if err != nil {
		return nil, err
	}
	acts, err := s.incidentActs(ctx, p, id)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "records.title.incident", nil)
	n := s.names(r, v.Lang)
	inc := rec.Doc.(vigil.Incident)
	d := incidentData{ID: id, Version: rec.Version, Incident: inc, Place: n.of(inc.Place), Types: actTypes(v),
		Edit: edit, NewAct: newAct, Members: members}
	if d.Edit == nil {
		d.Edit = newForm(incidentValues(inc, rec.Version))
	}
	if d.NewAct == nil {
		d.NewAct = newForm(url.Values{"victims.min": {"1"}, "victims.max": {"1"}})
	}
	if d.Members == nil {
		d.Members = newForm(nil)
	}
	d.NewAct.ID = "act-" // the edit form has fields of the same names
	seen := map[vigil.ID]bool{}
	add := func(list *[]ref, id vigil.ID) {
		if !id.IsZero() && !seen[id] {
			seen[id] = true
			*list = append(*list, n.of(id))
		}
	}
	// Acts in the order they happened; undated ones last.
	slices.SortStableFunc(acts, func(a, b cases.ActResult) int {
		fa, fb := a.Act.Period.From, b.Act.Period.From
		switch {
		case fa.IsZero() != fb.IsZero():
			if fa.IsZero() {
				return 1
			}
			return -1
		}
		return fa.Compare(fb)
	})
	for _, a := range acts {
		d.Acts = append(d.Acts, actRow{ActResult: a, Place: n.of(a.Act.Place), Victims: n.all(a.Act.VictimPersons)})
		for _, id := range a.Act.VictimPersons {
			add(&d.People, id)
		}
		add(&d.Places, a.Act.Place)
		for _, id := range a.Act.Perpetrators {
			add(&d.Parties, id)
		}
	}
	if len(inc.Restricted) > 0 && v.Can(string(vigil.WriteCases)) {
		list, err := s.Sessions.Accounts.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			if a.Disabled.IsZero() && a.Role != vigil.RoleIntake && !slices.Contains(inc.Restricted, a.Name) {
				d.Accounts = append(d.Accounts, option{a.Name, a.Name})
			}
		}
	}
	v.Data = d
	return v, nil
}

func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request) {
	s.showRecord(w, r, "records_incident", func(id vigil.ID) (*view, error) { return s.incidentView(r, id, nil, nil, nil) })
}

// version reads the form's version field (the version edited).
func version(r *http.Request) int64 {
	n, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	return n
}

func (s *Server) editIncident(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.pathRecord(w, r, cases.KindIncident)
	if !ok {
		return
	}
	id, pr := rec.ID, principal(r)
	p := s.parser(r)
	inc := parseIncident(p, rec.Doc.(vigil.Incident), pr.Account)
	if _, ok := s.save(w, r, p, []cases.Change{{ID: id, Version: version(r), Doc: inc, Path: "doc"}}, formPage{name: "records_incident", fields: incidentFields,
		view: func(f *form) (*view, error) { return s.incidentView(r, id, f, nil, nil) }}); !ok {
		return
	}
	http.Redirect(w, r, "/incidents/"+id.String()+"?done=saved", http.StatusSeeOther)
}

// members adds or removes a member account of a restricted incident.
func (s *Server) members(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.pathRecord(w, r, cases.KindIncident)
	if !ok {
		return
	}
	id := rec.ID
	inc := rec.Doc.(vigil.Incident)
	if len(inc.Restricted) == 0 {
		s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
		return
	}
	inc.Restricted = slices.Clone(inc.Restricted)
	p := s.parser(r)
	errs := p.errs
	if add := r.PostFormValue("add"); add != "" {
		if slices.Contains(inc.Restricted, add) {
			errs["add"] = "listed twice"
		}
		inc.Restricted = append(inc.Restricted, add)
	} else if rm := r.PostFormValue("remove"); rm != "" {
		i := slices.Index(inc.Restricted, rm)
		if i < 0 {
			s.fail(w, r, vigil.ErrNotFound)
			return
		}
		inc.Restricted = slices.Delete(inc.Restricted, i, i+1)
		if len(inc.Restricted) == 0 {
			errs["add"] = "missing"
		}
	} else {
		errs["add"] = "missing"
	}
	if _, ok := s.save(w, r, p, []cases.Change{{ID: id, Version: version(r), Doc: inc, Path: "doc"}}, formPage{name: "records_incident", fields: []string{"add"},
		view:   func(f *form) (*view, error) { return s.incidentView(r, id, nil, nil, f) },
		rename: func(string) string { return "add" }}); !ok {
		return
	}
	http.Redirect(w, r, "/incidents/"+id.String()+"?done=saved#members", http.StatusSeeOther)
}

// parseAct reads the act form (fields under prefix) onto a.
func parseAct(p *parser, prefix string, a vigil.Act) vigil.Act {
	a.Type = p.str(prefix + "type")
	a.Description = p.text(prefix + "description")
	a.Period = p.period(prefix)
	a.Place = p.ref(prefix+"place", cases.KindPlace)
	if _, ok := p.vals[prefix+"victim_persons"]; ok {
		a.VictimPersons = p.refs(prefix+"victim_persons", cases.KindPerson)
	}
	if _, ok := p.vals[prefix+"perpetrators"]; ok {
		a.Perpetrators = p.refs(prefix+"perpetrators", cases.KindParty)
	}
	a.Victims.Min = p.int(prefix+"victims.min", len(a.VictimPersons))
	a.Victims.Max = p.int(prefix+"victims.max", max(a.Victims.Min, len(a.VictimPersons)))
	return a
}

func (s *Server) addAct(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.pathRecord(w, r, cases.KindIncident)
	if !ok {
		return
	}
	id := rec.ID
	p := s.parser(r)
	a := parseAct(p, "", vigil.Act{Incident: id})
	refs, ok := s.save(w, r, p, []cases.Change{{Doc: a, Path: "doc"}}, formPage{name: "records_incident", fields: actFields,
		view: func(f *form) (*view, error) { return s.incidentView(r, id, nil, f, nil) }})
	if !ok {
		return
	}
	http.Redirect(w, r, "/acts/"+refs[0].ID.String()+"?done=act", http.StatusSeeOther)
}

type claimRow struct {
	ID     vigil.ID
	Claim  vigil.Claim
	Source ref
	Grade  string
}

type actData struct {
	cases.ActResult
	Version      int64
	Incident     ref
	Place        ref
	Victims      []ref
	Perpetrators []ref
	For, Against []claimRow
	Denials      map[vigil.ID]corroborate.Denial // by claim
	Edit         *form
	Types        []option
}

func actValues(a vigil.Act, version int64) url.Values {
	return url.Values{"type": {a.Type}, "description": {a.Description}, "period.from": {dateVal(a.Period.From)},
		"period.to": {dateVal(a.Period.To)}, "place": {idVal(a.Place)}, "victims.min": {strconv.Itoa(a.Victims.Min)},
		"victims.max": {strconv.Itoa(a.Victims.Max)}, "victim_persons": {idList(a.VictimPersons)},
		"perpetrators": {idList(a.Perpetrators)}, "version": {strconv.FormatInt(version, 10)}}
}

func (s *Server) actView(r *http.Request, id vigil.ID, edit *form) (*view, error) {
	ctx, p := r.Context(), principal(r)
	res, err := s.actResult(ctx, p, id)
	if err != nil {
		return nil, err
	}
	rec, err := s.getDoc(ctx, p, id, cases.KindAct)
	if err != nil {
		return nil, err
	}
	claims, err := s.Cases.Children(ctx, p, id)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "records.title.act", nil)
	n := s.names(r, v.Lang)
	d := actData{ActResult: res, Version: rec.Version, Incident: n.of(res.Act.Incident), Place: n.of(res.Act.Place),
		Victims: n.all(res.Act.VictimPersons), Perpetrators: n.all(res.Act.Perpetrators), Edit: edit,
		Types: actTypes(v), Denials: map[vigil.ID]corroborate.Denial{}}
	if d.Edit == nil {
		d.Edit = newForm(actValues(res.Act, rec.Version))
	}
	for _, dn := range res.Result.Denials {
		d.Denials[dn.Claim] = dn
	}
	for _, c := range claims {
		cl, ok := c.Doc.(vigil.Claim)
		if !ok {
			continue
		}
		row := claimRow{ID: c.ID, Claim: cl, Source: n.of(cl.Source)}
		if src, err := s.Cases.Get(ctx, p, cl.Source); err == nil {
			if sd, ok := src.Doc.(vigil.Source); ok {
				row.Grade = vigil.Grade(sd.Reliability, cl.Credibility)
			}
		}
		if cl.Stance.Affirming() {
			d.For = append(d.For, row)
		} else {
			d.Against = append(d.Against, row)
		}
	}
	v.Data = d
	return v, nil
}

func (s *Server) actPage(w http.ResponseWriter, r *http.Request) {
	s.showRecord(w, r, "records_act", func(id vigil.ID) (*view, error) { return s.actView(r, id, nil) })
}

func (s *Server) editAct(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.pathRecord(w, r, cases.KindAct)
	if !ok {
		return
	}
	id := rec.ID
	p := s.parser(r)
	a := parseAct(p, "", rec.Doc.(vigil.Act))
	if _, ok := s.save(w, r, p, []cases.Change{{ID: id, Version: version(r), Doc: a, Path: "doc"}}, formPage{name: "records_act", fields: actFields,
		view: func(f *form) (*view, error) { return s.actView(r, id, f) }}); !ok {
		return
	}
	http.Redirect(w, r, "/acts/"+id.String()+"?done=saved", http.StatusSeeOther)
}
