package staffweb

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/search"
)

// Roles of the case record routes: the cases service decides the rest
// (analysts read but write nothing; a restricted incident is not found for
// a non-member).
var (
	caseReaders = []vigil.Role{vigil.RoleAdmin, vigil.RoleInvestigator, vigil.RoleAnalyst}
	caseWriters = []vigil.Role{vigil.RoleAdmin, vigil.RoleInvestigator}
)

// pageSize is how many records a list page shows.
const pageSize = 50

// recordRoutes are the routes of incidents, acts, people, places and
// parties, and triage of a submission into an incident.
func recordRoutes() []Route {
	h := func(f func(*Server, http.ResponseWriter, *http.Request)) func(*Server) http.HandlerFunc {
		return func(s *Server) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if s.Cases == nil {
					s.fail(w, r, vigil.ErrNotFound)
					return
				}
				if err := r.ParseForm(); err != nil {
					s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
					return
				}
				f(s, w, r)
			}
		}
	}
	return []Route{
		{"GET", "/incidents", Staff, caseReaders, false, h((*Server).incidentsPage)},
		{"POST", "/incidents", Staff, caseReaders, false, h((*Server).createIncident)},
		{"GET", "/incidents/{id}", Staff, caseReaders, false, h((*Server).incidentPage)},
		{"POST", "/incidents/{id}", Staff, caseReaders, false, h((*Server).editIncident)},
		{"POST", "/incidents/{id}/acts", Staff, caseReaders, false, h((*Server).addAct)},
		{"POST", "/incidents/{id}/members", Staff, caseReaders, false, h((*Server).members)},
		{"GET", "/acts/{id}", Staff, caseReaders, false, h((*Server).actPage)},
		{"POST", "/acts/{id}", Staff, caseReaders, false, h((*Server).editAct)},
		{"GET", "/acts/{id}/denial", Staff, caseReaders, false, h((*Server).denialPage)},
		{"POST", "/acts/{id}/denial", Staff, caseReaders, false, h((*Server).denial)},
		{"GET", "/people", Staff, caseReaders, false, h((*Server).peoplePage)},
		{"POST", "/people", Staff, caseReaders, false, h((*Server).savePerson)},
		{"GET", "/people/{id}", Staff, caseReaders, false, h((*Server).personPage)},
		{"POST", "/people/{id}", Staff, caseReaders, false, h((*Server).savePerson)},
		{"GET", "/places", Staff, caseReaders, false, h((*Server).placesPage)},
		{"POST", "/places", Staff, caseReaders, false, h((*Server).savePlace)},
		{"GET", "/places/{id}", Staff, caseReaders, false, h((*Server).placePage)},
		{"POST", "/places/{id}", Staff, caseReaders, false, h((*Server).savePlace)},
		{"GET", "/parties", Staff, caseReaders, false, h((*Server).partiesPage)},
		{"POST", "/parties", Staff, caseReaders, false, h((*Server).saveParty)},
		{"GET", "/parties/{id}", Staff, caseReaders, false, h((*Server).partyPage)},
		{"POST", "/parties/{id}", Staff, caseReaders, false, h((*Server).saveParty)},
		{"GET", "/inbox/{id}/triage", Staff, caseWriters, false, h((*Server).triagePage)},
		{"POST", "/inbox/{id}/triage", Staff, caseWriters, false, h((*Server).triage)},
	}
}

// recordReader is the narrow read of the incident and act pages;
// *cases.Service implements it. Without it the pages fall back to
// Cases.Acts.
type recordReader interface {
	IncidentActs(ctx context.Context, p vigil.Principal, id vigil.ID) ([]cases.ActResult, error)
	ActResult(ctx context.Context, p vigil.Principal, id vigil.ID) (cases.ActResult, error)
}

var _ recordReader = (*cases.Service)(nil)

// actsNamer finds the acts that name a person, party or place;
// *cases.Service implements it. Without it the pages do not list them.
type actsNamer interface {
	ActsNaming(ctx context.Context, p vigil.Principal, id vigil.ID, limit int) ([]cases.ActResult, error)
}

var _ actsNamer = (*cases.Service)(nil)

// incidentActs returns the acts of incident id with their results.
func (s *Server) incidentActs(ctx context.Context, p vigil.Principal, id vigil.ID) ([]cases.ActResult, error) {
	if rr, ok := s.Cases.(recordReader); ok {
		return rr.IncidentActs(ctx, p, id)
	}
	if _, err := s.getDoc(ctx, p, id, cases.KindIncident); err != nil {
		return nil, err
	}
	all, err := s.Cases.Acts(ctx, p)
	var out []cases.ActResult
	for _, a := range all {
		if a.Act.Incident == id {
			out = append(out, a)
		}
	}
	return out, err
}

// actResult returns act id with its result.
func (s *Server) actResult(ctx context.Context, p vigil.Principal, id vigil.ID) (cases.ActResult, error) {
	if rr, ok := s.Cases.(recordReader); ok {
		return rr.ActResult(ctx, p, id)
	}
	all, err := s.Cases.Acts(ctx, p)
	if err != nil {
		return cases.ActResult{}, err
	}
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	return cases.ActResult{}, vigil.ErrNotFound
}

// getDoc returns the latest version of record id if it is of kind.
func (s *Server) getDoc(ctx context.Context, p vigil.Principal, id vigil.ID, kind string) (cases.Record, error) {
	rec, err := s.Cases.Get(ctx, p, id)
	if err == nil && rec.Kind != kind {
		err = vigil.ErrNotFound
	}
	return rec, err
}

// Statuses are the corroboration statuses, weakest first.
var Statuses = []corroborate.Status{corroborate.Unverified, corroborate.Reported, corroborate.Corroborated, corroborate.Confirmed}

// A form is what a form shows: its values and the problems of its fields.
type form struct {
	Values url.Values
	// Errs are the translated problems by field name; Other are problems
	// that name no field of the form.
	Errs  map[string]string
	Other []string
	// Rows is the number of act rows of the triage form.
	Rows int
	// ID prefixes the element IDs of the fields, for two forms on one
	// page with fields of the same names.
	ID string
}

func newForm(vals url.Values) *form {
	if vals == nil {
		vals = url.Values{}
	}
	return &form{Values: vals, Errs: map[string]string{}}
}

// V returns the value of field name.
func (f *form) V(name string) string { return f.Values.Get(name) }

// E returns the problem of field name, or "".
func (f *form) E(name string) string { return f.Errs[name] }

// Failed reports whether the form has problems.
func (f *form) Failed() bool { return len(f.Errs) > 0 || len(f.Other) > 0 }

// problems are the form's own parse problems (before the service sees
// anything), English like vigil.FieldError's; problemKeys translates them.
const (
	probDate   = "not a date"
	probNumber = "not a whole number"
	probCoord  = "not a number"
	probID     = "not an ID"
	probEmpty  = "missing"
	// A reference given by a name that names no record, or several.
	probNoName    = "no record has this name"
	probAmbiguous = "several records have this name"
)

var problemKeys = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^missing$`), "records.problem.missing"},
	{regexp.MustCompile(`^missing while to is set$`), "records.problem.fromneeded"},
	{regexp.MustCompile(`^before from$`), "records.problem.beforefrom"},
	{regexp.MustCompile(`^longer than`), "records.problem.toolong"},
	{regexp.MustCompile(`^contains a control character$`), "records.problem.control"},
	{regexp.MustCompile(`^greater than max$`), "records.problem.minmax"},
	{regexp.MustCompile(`^negative$`), "records.problem.negative"},
	{regexp.MustCompile(`^fewer than the identified`), "records.problem.fewer"},
	{regexp.MustCompile(`^no such `), "records.problem.nosuch"},
	{regexp.MustCompile(`^not an? (place|party|person|incident|act|source)`), "records.problem.nosuch"},
	{regexp.MustCompile(`^not a known act type$`), "records.problem.acttype"},
	{regexp.MustCompile(`^does not name your account$`), "records.problem.notyou"},
	{regexp.MustCompile(`^listed twice$`), "records.problem.twice"},
	{regexp.MustCompile(`^` + probDate + `$`), "records.problem.date"},
	{regexp.MustCompile(`^` + probNumber + `$`), "records.problem.number"},
	{regexp.MustCompile(`^` + probCoord + `$`), "records.problem.coord"},
	{regexp.MustCompile(`^` + probID + `$`), "records.problem.id"},
	{regexp.MustCompile(`^` + probNoName + `$`), "records.problem.noname"},
	{regexp.MustCompile(`^` + probAmbiguous + `$`), "records.problem.ambiguous"},
	{regexp.MustCompile(`^not an ISO 15924`), "records.problem.script"},
	{regexp.MustCompile(`^outside `), "records.problem.range"},
}

// problem translates a field problem; one the catalog does not know is
// shown as vigil wrote it (problems never quote values).
func problem(v *view, p string) string {
	for _, k := range problemKeys {
		if k.re.MatchString(p) {
			return v.T(k.key)
		}
	}
	return p
}

// A parser reads typed values off a form, noting a problem per field it
// cannot read.
type parser struct {
	vals url.Values
	errs map[string]string // field → English problem
	// find returns the record of kind named text (an ID, or the exact
	// name of one record), or a problem; nil takes IDs only.
	find func(kind, text string) (vigil.ID, string)
}

func newParser(vals url.Values) *parser { return &parser{vals: vals, errs: map[string]string{}} }

// parser returns a parser of r's form that finds references by name as
// the request's principal sees the records.
func (s *Server) parser(r *http.Request) *parser {
	p := newParser(r.PostForm)
	p.find = func(kind, text string) (vigil.ID, string) { return s.find(r, kind, text) }
	return p
}

// find returns the one record of kind whose name (a pseudonym, a party's
// name, a place's name in any language) is text, ignoring case, or an ID
// typed as it is. Names are looked up with the full-text search; what is
// typed goes in the POST body only, never in a URL or a log.
func (s *Server) find(r *http.Request, kind, text string) (vigil.ID, string) {
	if id, err := vigil.ParseID(text); err == nil {
		return id, ""
	}
	res, err := s.Cases.Search(r.Context(), principal(r), text, search.Filter{Kinds: []string{kind}}, 0, 20)
	if err != nil {
		return vigil.ID{}, probNoName
	}
	var found []vigil.ID
	for _, h := range res.Hits {
		if h.Kind != kind || slices.Contains(found, h.ID) {
			continue
		}
		rec, err := s.Cases.Get(r.Context(), principal(r), h.ID)
		if err == nil && named(rec.Doc, text) {
			found = append(found, h.ID)
		}
	}
	switch len(found) {
	case 0:
		return vigil.ID{}, probNoName
	case 1:
		return found[0], ""
	}
	return vigil.ID{}, probAmbiguous
}

// named reports whether d is called text.
func named(d cases.Doc, text string) bool {
	text = strings.TrimSpace(text)
	if p, ok := d.(vigil.Place); ok {
		for _, n := range p.Names {
			if strings.EqualFold(n, text) {
				return true
			}
		}
		return false
	}
	return strings.EqualFold(docName(d, ""), text)
}

func (p *parser) str(name string) string { return strings.TrimSpace(p.vals.Get(name)) }

// text keeps a multi-line value as typed, without surrounding blanks.
func (p *parser) text(name string) string {
	return strings.TrimSpace(strings.ReplaceAll(p.vals.Get(name), "\r\n", "\n"))
}

func (p *parser) date(name string) vigil.Date {
	s := p.str(name)
	if s == "" {
		return vigil.Date{}
	}
	d, err := vigil.ParseDate(s)
	if err != nil {
		p.errs[name] = probDate
	}
	return d
}

// period reads prefix+"period.from" and prefix+"period.to".
func (p *parser) period(prefix string) vigil.Period {
	return vigil.Period{From: p.date(prefix + "period.from"), To: p.date(prefix + "period.to")}
}

// int reads a whole number; empty is def.
func (p *parser) int(name string, def int) int {
	s := p.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.errs[name] = probNumber
	}
	return n
}

func (p *parser) float(name string) (float64, bool) {
	s := p.str(name)
	if s == "" {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil {
		p.errs[name] = probCoord
	}
	return x, err == nil
}

// ref reads a reference to a record of kind: an ID, or a name if the
// parser can find records by name; empty is none.
func (p *parser) ref(name, kind string) vigil.ID {
	s := p.str(name)
	if s == "" {
		return vigil.ID{}
	}
	return p.one(name, kind, s)
}

func (p *parser) one(name, kind, s string) vigil.ID {
	if p.find == nil {
		id, err := vigil.ParseID(s)
		if err != nil {
			p.errs[name] = probID
		}
		return id
	}
	id, prob := p.find(kind, s)
	if prob != "" {
		p.errs[name] = prob
	}
	return id
}

// refs reads references to records of kind, one a line (or separated by
// commas), each an ID or a name.
func (p *parser) refs(name, kind string) []vigil.ID {
	var out []vigil.ID
	for _, s := range strings.FieldsFunc(p.vals.Get(name), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, p.one(name, kind, s))
		}
	}
	return out
}

// lines reads "KIND VALUE" lines (a script and a name, a kind and a
// value); a line without a blank is a problem of the field.
func (p *parser) lines(name string) [][2]string {
	var out [][2]string
	for _, l := range strings.Split(p.text(name), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		k, v, ok := strings.Cut(l, " ")
		k = strings.TrimSuffix(k, ":")
		if !ok || strings.TrimSpace(v) == "" {
			p.errs[name] = probEmpty
			continue
		}
		out = append(out, [2]string{k, strings.TrimSpace(v)})
	}
	return out
}

// failed fills f with the problems of a write: the parser's, or the
// service's field errors, each under the longest of fields it falls in
// ("victim_persons[2]" under "victim_persons"), the rest in f.Other. It
// returns false for an error that is not about the input.
func failed(v *view, f *form, fields []string, parse map[string]string, err error) bool {
	put := func(field, prob string) {
		best := ""
		for _, name := range fields {
			if (field == name || strings.HasPrefix(field, name+".") || strings.HasPrefix(field, name+"[")) && len(name) > len(best) {
				best = name
			}
		}
		if best == "" {
			f.Other = append(f.Other, field+": "+problem(v, prob))
			return
		}
		if _, dup := f.Errs[best]; !dup {
			f.Errs[best] = problem(v, prob)
		}
	}
	for field, prob := range parse {
		put(field, prob)
	}
	if err != nil {
		fes := vigil.FieldErrors(err)
		if len(fes) == 0 || !errors.Is(err, vigil.ErrInvalid) {
			return false
		}
		for _, fe := range fes {
			put(fe.Field, fe.Problem)
		}
	}
	return true
}

// claimsData is what the "records_claims" template gets.
type claimsData struct {
	V       *view
	Rows    []claimRow
	Denials map[vigil.ID]corroborate.Denial
}

// An option is one choice of a select.
type option struct{ Value, Label string }

type fieldData struct {
	ID, Name, Label, Value, Err, Hint, Kind string
	Required                                bool
	Options                                 []option
}

var fieldTmpl = template.Must(template.New("field").Parse(`<p class="field">` +
	`{{if eq .Kind "checkbox"}}<input type="checkbox" id="{{.ID}}" name="{{.Name}}" value="1"{{if .Value}} checked{{end}}> <label for="{{.ID}}" class="check">{{.Label}}</label>` +
	`{{else}}<label for="{{.ID}}">{{.Label}}</label>` +
	`{{if .Hint}}<span class="hint" id="{{.ID}}-hint">{{.Hint}}</span>{{end}}` +
	`{{if .Err}}<span class="field-error" id="{{.ID}}-err">{{.Err}}</span>{{end}}` +
	`{{if eq .Kind "textarea"}}<textarea id="{{.ID}}" name="{{.Name}}" rows="3"{{template "aria" .}}>{{.Value}}</textarea>` +
	`{{else if eq .Kind "select"}}<select id="{{.ID}}" name="{{.Name}}"{{template "aria" .}}>{{range .Options}}<option value="{{.Value}}"{{if eq .Value $.Value}} selected{{end}}>{{.Label}}</option>{{end}}</select>` +
	`{{else}}<input id="{{.ID}}" name="{{.Name}}" value="{{.Value}}"{{if eq .Kind "number"}} inputmode="numeric"{{end}}{{if .Required}} required{{end}} autocomplete="off"{{template "aria" .}}>{{end}}{{end}}</p>` +
	`{{define "aria"}}{{if .Err}} aria-invalid="true"{{end}}{{if or .Err .Hint}} aria-describedby="{{if .Hint}}{{.ID}}-hint{{end}}{{if and .Err .Hint}} {{end}}{{if .Err}}{{.ID}}-err{{end}}"{{end}}{{end}}`))

var nonWord = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// fieldID is the element ID of form field name ("acts[0].period.from" is
// "f-acts-0-period-from").
func fieldID(name string) string {
	return "f-" + strings.Trim(nonWord.ReplaceAllString(name, "-"), "-")
}

// field renders one labelled field of f: kind is text, number, date,
// textarea, checkbox or select (then options); the label is a message key.
// Date fields carry the date hint; an error is shown under the label and
// tied to the input with aria-describedby.
func field(v *view, f *form, kind, name, label string) template.HTML {
	return fieldWith(v, f, kind, name, label, nil)
}

// selectField renders a labelled select of f with options.
func selectField(v *view, f *form, name, label string, options []option) template.HTML {
	return fieldWith(v, f, "select", name, label, options)
}

func fieldWith(v *view, f *form, kind, name, label string, options []option) template.HTML {
	d := fieldData{ID: fieldID(f.ID + name), Name: name, Label: v.T(label), Value: f.V(name), Err: f.E(name), Kind: kind, Options: options}
	if kind == "date" {
		d.Hint = v.T("records.hint.date")
	}
	if kind == "textarea" && strings.HasSuffix(name, "persons") || strings.HasSuffix(name, "perpetrators") {
		d.Hint = v.T("records.hint.ids")
	}
	if strings.HasSuffix(name, "place") || strings.HasSuffix(name, "parent") {
		d.Hint = v.T("records.hint.id")
	}
	var b bytes.Buffer
	if err := fieldTmpl.Execute(&b, d); err != nil {
		return template.HTML(template.HTMLEscapeString(err.Error()))
	}
	return template.HTML(b.String())
}

// A part is what a shared form part (templates/records_shared.html) gets:
// the page's view, the form, the prefix of its field names and the act
// types.
type part struct {
	V     *view
	F     *form
	P     string
	Types []option
}

// sharedParts are the parts of the forms that several pages show.
var sharedParts = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("records_shared.html").Funcs(funcs).ParseFS(templateFS, "templates/records_shared.html"))
})

// recPart renders the shared form part name.
func recPart(name string, v *view, f *form, prefix string, types []option) (template.HTML, error) {
	var b bytes.Buffer
	if err := sharedParts().ExecuteTemplate(&b, name, part{v, f, prefix, types}); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

func init() {
	funcs["recPart"] = recPart
	funcs["recField"] = field
	funcs["recSelect"] = selectField
	funcs["recType"] = typeLabel
	funcs["recName"] = docName
	funcs["inc"] = func(i int) int { return i + 1 }
	funcs["recPlace"] = func(d cases.Doc) *vigil.Place {
		if p, ok := d.(vigil.Place); ok {
			return &p
		}
		return nil
	}
	funcs["recPrivate"] = func(d cases.Doc) *vigil.PersonPrivate {
		if p, ok := d.(vigil.Person); ok {
			return p.Private
		}
		return nil
	}
	funcs["claimsOf"] = func(v *view, rows []claimRow) claimsData {
		d, _ := v.Data.(actData)
		return claimsData{V: v, Rows: rows, Denials: d.Denials}
	}
	funcs["recPeriod"] = func(p vigil.Period) string {
		switch {
		case p.IsZero():
			return "—"
		case p.To.IsZero():
			return p.From.String()
		}
		return p.From.String() + " – " + p.To.String()
	}
	funcs["recExplain"] = func(v *view, e corroborate.Explanation) string {
		if v.Lang == "ru" {
			return e.RU
		}
		return e.EN
	}
}

// after reads the list cursor ?after=ID; a bad one starts from the top.
func after(r *http.Request) vigil.ID {
	id, _ := vigil.ParseID(r.FormValue("after"))
	return id
}

// list returns one page of records of kind after the request's cursor,
// and the cursor of the next page (zero on the last).
func (s *Server) list(r *http.Request, kind string) ([]cases.Record, vigil.ID, error) {
	recs, err := s.Cases.List(r.Context(), principal(r), kind, after(r), pageSize+1)
	if err != nil {
		return nil, vigil.ID{}, err
	}
	var next vigil.ID
	if len(recs) > pageSize {
		recs = recs[:pageSize]
		next = recs[pageSize-1].ID
	}
	return recs, next, nil
}

// A ref is a record shown by name with a link.
type ref struct {
	ID   vigil.ID
	Name string
	Href string
}

// names looks up records' display names for one page, each once.
type names struct {
	s    *Server
	r    *http.Request
	lang string
	memo map[vigil.ID]ref
}

func (s *Server) names(r *http.Request, lang string) *names {
	return &names{s: s, r: r, lang: lang, memo: map[vigil.ID]ref{}}
}

// of returns the name of record id, or its ID if it cannot be read.
func (n *names) of(id vigil.ID) ref {
	if id.IsZero() {
		return ref{}
	}
	if x, ok := n.memo[id]; ok {
		return x
	}
	x := ref{ID: id, Name: id.String()}
	if rec, err := n.s.Cases.Get(n.r.Context(), principal(n.r), id); err == nil {
		x.Name, x.Href = docName(rec.Doc, n.lang), hrefOf(rec.Kind, id)
	}
	n.memo[id] = x
	return x
}

func (n *names) all(ids []vigil.ID) []ref {
	out := make([]ref, len(ids))
	for i, id := range ids {
		out[i] = n.of(id)
	}
	return out
}

// docName is what a record is called on a page.
func docName(d cases.Doc, lang string) string {
	switch v := d.(type) {
	case vigil.Incident:
		return v.Title
	case vigil.Person:
		return v.Pseudonym
	case vigil.Place:
		return placeName(v, lang)
	case vigil.Party:
		return v.Name
	case vigil.Source:
		return v.Name
	}
	return ""
}

// placeName is the place's name in lang, else English, else any.
func placeName(p vigil.Place, lang string) string {
	if n, ok := p.Names[lang]; ok {
		return n
	}
	if n, ok := p.Names["en"]; ok {
		return n
	}
	best := ""
	for l, n := range p.Names {
		if best == "" || l < best {
			best = l
			_ = n
		}
	}
	return p.Names[best]
}

func hrefOf(kind string, id vigil.ID) string {
	switch kind {
	case cases.KindIncident:
		return "/incidents/" + id.String()
	case cases.KindAct:
		return "/acts/" + id.String()
	case cases.KindPerson:
		return "/people/" + id.String()
	case cases.KindPlace:
		return "/places/" + id.String()
	case cases.KindParty:
		return "/parties/" + id.String()
	case cases.KindSource:
		return "/sources/" + id.String()
	case cases.KindClaim:
		return "/claims/" + id.String()
	}
	return ""
}

// idList writes IDs one per line for a textarea.
func idList(ids []vigil.ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, "\n")
}

func dateVal(d vigil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func idVal(id vigil.ID) string {
	if id.IsZero() {
		return ""
	}
	return id.String()
}

// pathRecord returns the record of the path's ID if it is of kind, or
// renders the error page and returns false.
func (s *Server) pathRecord(w http.ResponseWriter, r *http.Request, kind string) (cases.Record, bool) {
	id, err := pathID(r, "id")
	var rec cases.Record
	if err == nil {
		rec, err = s.getDoc(r.Context(), principal(r), id, kind)
	}
	if err != nil {
		s.fail(w, r, err)
		return rec, false
	}
	return rec, true
}

// showRecord renders page name for the record of the path's ID, with the
// notice of a change just made (?done=saved, act, denial or triage).
func (s *Server) showRecord(w http.ResponseWriter, r *http.Request, name string, build func(id vigil.ID) (*view, error)) {
	id, err := pathID(r, "id")
	var v *view
	if err == nil {
		v, err = build(id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch done := r.FormValue("done"); done {
	case "saved", "act", "denial", "triage":
		v.Notice = v.T("records.done." + done)
	}
	s.render(w, http.StatusOK, name, v)
}

// A formPage is the page a form is on, to render again when the form
// fails.
type formPage struct {
	name   string   // the page template
	fields []string // the form's field names
	view   func(f *form) (*view, error)
	// form is the form to show, nil for one of the request's values.
	form *form
	// rename maps the service's field names to the form's; nil drops
	// the change path "doc".
	rename func(string) string
}

// save writes changes as the request's principal unless the parser noted
// problems. On a problem with the input it renders the form's page again
// with the values and the problems (400), on any other error the error
// page, and returns false; nothing is stored then.
func (s *Server) save(w http.ResponseWriter, r *http.Request, p *parser, changes []cases.Change, fp formPage) ([]cases.Ref, bool) {
	var err error
	if len(p.errs) == 0 {
		var refs []cases.Ref
		if refs, err = s.Cases.Apply(r.Context(), principal(r), changes); err == nil {
			return refs, true
		}
	}
	f := fp.form
	if f == nil {
		f = newForm(r.PostForm)
	}
	v, verr := fp.view(f)
	if verr != nil {
		s.fail(w, r, verr)
		return nil, false
	}
	if fp.rename == nil {
		fp.rename = trimDoc
	}
	s.renderForm(w, r, v, fp.name, f, fp.fields, p.errs, renamed(err, fp.rename))
	return nil, false
}

// renderForm renders page name for a form that failed with status 400,
// or the error page for an error that is not about the input.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, v *view, name string, f *form, fields []string, parse map[string]string, err error) {
	if !failed(v, f, fields, parse, err) {
		s.fail(w, r, err)
		return
	}
	v.Error = v.T("records.err.form")
	s.render(w, http.StatusBadRequest, name, v)
}
