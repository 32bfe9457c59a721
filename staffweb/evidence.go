package staffweb

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/search"
	"github.com/vigil-hr/vigil/vocab"
)

// Corroborations reads one act's corroboration without evaluating every
// act; *cases.Service implements it. The claim pages use it when Cases
// has it.
type Corroborations interface {
	Corroboration(ctx context.Context, p vigil.Principal, act vigil.ID) (cases.ActResult, error)
}

var _ Corroborations = (*cases.Service)(nil)

// writers may write sources and claims and use the evidence vault;
// caseReaders (records.go) may read sources and claims; package cases
// decides the rest.
var writers = []vigil.Role{vigil.RoleAdmin, vigil.RoleInvestigator}

// evidenceRoutes are the routes of sources, claims and the evidence vault.
func evidenceRoutes() []Route {
	h := func(f func(*Server) http.HandlerFunc) func(*Server) http.HandlerFunc { return f }
	return []Route{
		{"GET", "/sources", Staff, caseReaders, false, h(func(s *Server) http.HandlerFunc { return s.sourcesPage })},
		{"GET", "/sources/new", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.newSourcePage })},
		{"POST", "/sources", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.saveSource })},
		{"GET", "/sources/{id}", Staff, caseReaders, false, h(func(s *Server) http.HandlerFunc { return s.sourcePage })},
		{"POST", "/sources/{id}", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.saveSource })},
		{"GET", "/claims/new", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.newClaimPage })},
		{"POST", "/claims", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.saveClaim })},
		{"GET", "/claims/{id}", Staff, caseReaders, false, h(func(s *Server) http.HandlerFunc { return s.claimPage })},
		{"POST", "/claims/{id}", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.saveClaim })},
		{"GET", "/inbox/{id}/claims", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.statementsPage })},
		{"POST", "/inbox/{id}/claims", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.statementsToClaims })},
		{"GET", "/evidence", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.vaultList })},
		{"GET", "/evidence/upload", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.uploadPage })},
		{"POST", "/evidence/upload", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.upload })},
		{"GET", "/evidence/bundle", Staff, writers, true, h(func(s *Server) http.HandlerFunc { return s.bundlePage })},
		{"POST", "/evidence/bundle", Staff, writers, true, h(func(s *Server) http.HandlerFunc { return s.exportBundle })},
		{"GET", "/evidence/{id}", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.itemPage })},
		{"GET", "/evidence/{id}/content", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.itemContent })},
		{"POST", "/evidence/{id}/attach", Staff, writers, false, h(func(s *Server) http.HandlerFunc { return s.attach })},
	}
}

// Choices offered by the source and claim forms, in order.
var (
	SourceTypes   = []vigil.SourceType{vigil.SourceVictim, vigil.SourceWitness, vigil.SourceNGO, vigil.SourceMedia, vigil.SourceOfficial, vigil.SourceSocialMedia, vigil.SourceDocument, vigil.SourceOther}
	Reliabilities = []vigil.Reliability{vigil.ReliabilityA, vigil.ReliabilityB, vigil.ReliabilityC, vigil.ReliabilityD, vigil.ReliabilityE, vigil.ReliabilityF}
	Credibilities = []vigil.Credibility{vigil.CredibilityConfirmed, vigil.CredibilityProbable, vigil.CredibilityPossible, vigil.CredibilityDoubtful, vigil.CredibilityImprobable, vigil.CredibilityUnknown}
	Stances       = []vigil.Stance{vigil.Affirms, vigil.PartiallyAffirms, vigil.Denies}
)

// cases returns s.Cases or vigil.ErrNotFound when the UI has none.
func (s *Server) cases() (Cases, error) {
	if s.Cases == nil {
		return nil, vigil.ErrNotFound
	}
	return s.Cases, nil
}

// formErrs maps the fields of err's *vigil.FieldErrors to message keys
// (evidence.err.FIELD), for showing each next to its input. ok is false
// when err has none: it is not a form problem.
func formErrs(err error) (map[string]string, bool) {
	fes := vigil.FieldErrors(err)
	if len(fes) == 0 || !errors.Is(err, vigil.ErrInvalid) {
		return nil, false
	}
	out := map[string]string{}
	for _, fe := range fes {
		// A one-change batch names fields "[0].name"; the statements'
		// claims are under "statement.": show them by their own field.
		f := fe.Field
		if strings.HasPrefix(f, "[") {
			if i := strings.IndexByte(f, ']'); i > 0 {
				f = strings.TrimPrefix(f[i+1:], ".")
			}
		}
		f = strings.TrimPrefix(f, "statement.")
		if i := strings.IndexAny(f, ".["); i > 0 {
			f = f[:i]
		}
		if _, dup := out[f]; !dup {
			out[f] = "evidence.err." + f
		}
	}
	return out, true
}

// formAgain answers a refused form: for problems with fields, page name
// again as a 400, with data from fill (given the fields' message keys);
// for any other error, the error page.
func (s *Server) formAgain(w http.ResponseWriter, r *http.Request, err error, name, title string, fill func(errs map[string]string) (any, error)) {
	errs, ok := formErrs(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	data, err := fill(errs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, title, data)
	v.Error = v.T("evidence.err.form")
	s.render(w, http.StatusBadRequest, name, v)
}

// cursor reads the list's after= cursor; a bad one is vigil.ErrInvalid.
func cursor(r *http.Request) (vigil.ID, error) {
	a := r.FormValue("after")
	if a == "" {
		return vigil.ID{}, nil
	}
	id, err := vigil.ParseID(a)
	if err != nil {
		return id, &vigil.FieldError{Field: "after", Problem: "not an ID", Err: vigil.ErrInvalid}
	}
	return id, nil
}

// formID parses an optional ID form field; "" is the zero ID.
func formID(r *http.Request, field string) (vigil.ID, error) {
	v := strings.TrimSpace(r.FormValue(field))
	if v == "" {
		return vigil.ID{}, nil
	}
	id, err := vigil.ParseID(v)
	if err != nil {
		return id, &vigil.FieldError{Field: field, Problem: "not an ID", Err: vigil.ErrInvalid}
	}
	return id, nil
}

// A choice is one choice of a select: a record and its label.
type choice struct {
	ID    vigil.ID
	Label string
}

// claimOf reads claim id as p may see it; another kind of record is
// vigil.ErrNotFound.
func (s *Server) claimOf(r *http.Request, p vigil.Principal, id vigil.ID) (cases.Record, vigil.Claim, error) {
	rec, err := s.Cases.Get(r.Context(), p, id)
	if err != nil {
		return rec, vigil.Claim{}, err
	}
	cl, ok := rec.Doc.(vigil.Claim)
	if !ok {
		return rec, cl, fmt.Errorf("%w: %s is not a claim", vigil.ErrNotFound, id)
	}
	return rec, cl, nil
}

// onePage cuts a list read with limit pageSize+1 to a page and returns
// the next page's cursor (zero on the last page).
func onePage[T any](list []T, id func(T) vigil.ID) ([]T, vigil.ID) {
	if len(list) > pageSize {
		return list[:pageSize], id(list[pageSize-1])
	}
	return list, vigil.ID{}
}

// --- Sources ---

type sourcesData struct {
	Sources []cases.Record
	Next    vigil.ID // cursor of the next page; zero: last page
}

func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request) {
	c, err := s.cases()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after, err := cursor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, err := c.List(r.Context(), principal(r), cases.KindSource, after, pageSize+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var d sourcesData
	d.Sources, d.Next = onePage(recs, func(r cases.Record) vigil.ID { return r.ID })
	s.page(w, r, "evidence_sources", "evidence.sources.title", d)
}

// sourceForm is the source page: the source and its edit form.
type sourceForm struct {
	ID      vigil.ID
	Version int64
	Source  vigil.Source
	// Act, if set, is the act a new claim is being written for: the form
	// goes back to that claim form with the new source chosen.
	Act   vigil.ID
	Errs  map[string]string
	Types []vigil.SourceType
	Rels  []vigil.Reliability
}

func (s *Server) newSourcePage(w http.ResponseWriter, r *http.Request) {
	act, err := formID(r, "act")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "evidence_source", "evidence.source.new", sourceForm{Act: act, Source: vigil.Source{Reliability: vigil.ReliabilityF}, Types: SourceTypes, Rels: Reliabilities})
}

func (s *Server) sourcePage(w http.ResponseWriter, r *http.Request) {
	c, err := s.cases()
	if err == nil {
		var id vigil.ID
		if id, err = pathID(r, "id"); err == nil {
			var rec cases.Record
			if rec, err = c.Get(r.Context(), principal(r), id); err == nil {
				src, ok := rec.Doc.(vigil.Source)
				if !ok {
					err = vigil.ErrNotFound
				} else {
					v := s.newView(r, "evidence.source.title", sourceForm{ID: id, Version: rec.Version, Source: src, Types: SourceTypes, Rels: Reliabilities})
					if r.FormValue("saved") != "" {
						v.Notice = v.T("evidence.saved")
					}
					s.render(w, http.StatusOK, "evidence_source", v)
					return
				}
			}
		}
	}
	s.fail(w, r, err)
}

// saveSource creates (POST /sources) or updates (POST /sources/{id}) a
// source; a bad form comes back with the problems next to the fields.
func (s *Server) saveSource(w http.ResponseWriter, r *http.Request) {
	c, err := s.cases()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := sourceForm{Types: SourceTypes, Rels: Reliabilities, Source: vigil.Source{
		Name:        strings.TrimSpace(r.PostFormValue("name")),
		Type:        vigil.SourceType(r.PostFormValue("type")),
		Reliability: vigil.Reliability(r.PostFormValue("reliability")),
		Origin:      strings.TrimSpace(r.PostFormValue("origin")),
	}}
	var ferr error
	f.Act, ferr = formID(r, "act")
	if ferr == nil {
		f.Source.Party, ferr = formID(r, "party")
	}
	title := "evidence.source.new"
	if r.PathValue("id") != "" {
		title = "evidence.source.title"
		if f.ID, err = pathID(r, "id"); err != nil {
			s.fail(w, r, err)
			return
		}
		f.Version, _ = strconv.ParseInt(r.PostFormValue("version"), 10, 64)
		if f.Version < 1 {
			ferr = &vigil.FieldError{Field: "version", Problem: "missing", Err: vigil.ErrInvalid}
		}
	}
	var refs []cases.Ref
	if ferr == nil {
		refs, ferr = c.Apply(r.Context(), principal(r), []cases.Change{{Kind: cases.KindSource, ID: f.ID, Version: f.Version, Doc: f.Source}})
	}
	if ferr != nil {
		s.formAgain(w, r, ferr, "evidence_source", title, func(errs map[string]string) (any, error) {
			f.Errs = errs
			return f, nil
		})
		return
	}
	if !f.Act.IsZero() {
		http.Redirect(w, r, "/claims/new?act="+f.Act.String()+"&source="+refs[0].ID.String(), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/sources/"+refs[0].ID.String()+"?saved=1", http.StatusSeeOther)
}

// --- Claims ---

// actInfo is an act as the claim pages show it.
type actInfo struct {
	ID       vigil.ID
	Label    string
	Incident string // the incident's title
	Result   *corroborate.Result
}

// claimForm is the claim page and the new-claim form.
type claimForm struct {
	ID      vigil.ID
	Version int64
	Claim   vigil.Claim
	Act     *actInfo // the act, once chosen
	Acts    []choice // acts to choose from, when none is
	Sources []choice // the chosen source first, then by name
	// FindSource narrows Sources to those whose name or origin it names;
	// SourceMatches of SourceTotal sources match (every one without it).
	FindSource                 string
	SourceMatches, SourceTotal int
	Items                      []itemInfo // the evidence attached
	Saved                      bool       // just saved: show the act's status
	Errs                       map[string]string
	Creds                      []vigil.Credibility
	Stances                    []vigil.Stance
}

// Explanation returns the act's explanation in the page's language.
func (a *actInfo) Explanation(lang string) string {
	if a == nil || a.Result == nil {
		return ""
	}
	if lang == "ru" {
		return a.Result.Explanation.RU
	}
	return a.Result.Explanation.EN
}

// choices is how many acts or sources a select offers; more are reached
// by finding a source by name (the claim form's find-source) or by ID
// (the act page links to a claim form with its act chosen).
const choices = 200

// actLabel describes an act for a select or a heading: its type's label
// in lang (package vocab) and the start of its description.
func actLabel(a vigil.Act, lang string) string {
	l := a.Type
	if v, ok := vocab.ActType(a.Type); ok {
		l = v.Label(lang)
	}
	if d := strings.TrimSpace(a.Description); d != "" {
		if r := []rune(d); len(r) > 80 {
			d = string(r[:80]) + "…"
		}
		l += ": " + d
	}
	return l
}

// langOf is the language of r's page.
func (s *Server) langOf(r *http.Request) string { return s.lang(r, session(r)) }

// act reads act id for the claim pages, with its status when withResult.
func (s *Server) act(r *http.Request, p vigil.Principal, id vigil.ID, withResult bool) (*actInfo, error) {
	ctx := r.Context()
	rec, err := s.Cases.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	a, ok := rec.Doc.(vigil.Act)
	if !ok {
		return nil, &vigil.FieldError{Field: "act", Problem: "not an act", Err: vigil.ErrInvalid}
	}
	info := &actInfo{ID: id, Label: actLabel(a, s.langOf(r))}
	if inc, err := s.Cases.Get(ctx, p, a.Incident); err == nil {
		if i, ok := inc.Doc.(vigil.Incident); ok {
			info.Incident = i.Title
		}
	}
	if withResult {
		cr, ok := s.Cases.(Corroborations)
		if !ok {
			return info, nil
		}
		res, err := cr.Corroboration(ctx, p, id)
		if err != nil {
			return nil, err
		}
		info.Result = &res.Result
	}
	return info, nil
}

// fillChoices lists the acts (when the form has none) and sources to
// choose from; the chosen source is always among them.
func (s *Server) fillChoices(r *http.Request, p vigil.Principal, f *claimForm) error {
	ctx := r.Context()
	if f.Act == nil {
		acts, err := s.Cases.List(ctx, p, cases.KindAct, vigil.ID{}, choices)
		if err != nil {
			return err
		}
		titles := map[vigil.ID]string{}
		for _, rec := range acts {
			a := rec.Doc.(vigil.Act)
			t, ok := titles[a.Incident]
			if !ok {
				if inc, err := s.Cases.Get(ctx, p, a.Incident); err == nil {
					t = inc.Doc.(vigil.Incident).Title
				}
				titles[a.Incident] = t
			}
			f.Acts = append(f.Acts, choice{rec.ID, t + " — " + actLabel(a, s.langOf(r))})
		}
	}
	f.FindSource = strings.TrimSpace(r.URL.Query().Get("find-source"))
	if len([]rune(f.FindSource)) > 100 {
		f.FindSource = string([]rune(f.FindSource)[:100])
	}
	if len(search.Analyze(f.FindSource)) == 0 {
		f.FindSource = "" // no word to find (punctuation only)
	}
	var all []choice
	var after vigil.ID
	for {
		recs, err := s.Cases.List(ctx, p, cases.KindSource, after, cases.MaxLimit)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			src, ok := rec.Doc.(vigil.Source)
			if !ok {
				continue
			}
			f.SourceTotal++
			matched := f.FindSource == "" || nameMatches(f.FindSource, src.Name+" "+src.Origin)
			if matched {
				f.SourceMatches++
			}
			if matched || rec.ID == f.Claim.Source {
				all = append(all, choice{rec.ID, src.Name + " (" + string(src.Reliability) + ")"})
			}
		}
		if len(recs) < cases.MaxLimit {
			break
		}
		after = recs[len(recs)-1].ID
	}
	slices.SortFunc(all, func(a, b choice) int {
		// The chosen source first, then by name.
		if (a.ID == f.Claim.Source) != (b.ID == f.Claim.Source) {
			if a.ID == f.Claim.Source {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)), bytes.Compare(a.ID[:], b.ID[:]))
	})
	if f.FindSource != "" && f.SourceMatches == 1 && f.Claim.Source.IsZero() {
		f.Claim.Source = all[0].ID // the one found: chosen
	}
	f.Sources = all[:min(len(all), choices)]
	return nil
}

// nameMatches reports whether every word of query begins a word of text,
// or names it in the other script (search.NameKey: "Novaya" finds
// "Новая"), ignoring case.
func nameMatches(query, text string) bool {
	words := search.Analyze(text)
	for _, q := range search.Analyze(query) {
		key := search.NameKey(q.Surface)
		found := false
		for _, w := range words {
			if strings.HasPrefix(w.Surface, q.Surface) || key != "" && search.NameKey(w.Surface) == key {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (s *Server) newClaimPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cases(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r)
	f := claimForm{Creds: Credibilities, Stances: Stances, Claim: vigil.Claim{Stance: vigil.Affirms, Credibility: vigil.CredibilityUnknown}}
	act, err := formID(r, "act")
	if err == nil {
		f.Claim.Source, err = formID(r, "source")
	}
	if err == nil && !act.IsZero() {
		f.Act, err = s.act(r, p, act, true)
		if errors.Is(err, vigil.ErrInvalid) {
			err = vigil.ErrNotFound
		}
		f.Claim.Act = act
	}
	if err == nil {
		err = s.fillChoices(r, p, &f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "evidence_claim", "evidence.claim.new", f)
}

func (s *Server) claimPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cases(); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r)
	rec, cl, err := s.claimOf(r, p, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := claimForm{ID: id, Version: rec.Version, Claim: cl, Creds: Credibilities, Stances: Stances, Saved: r.FormValue("saved") != ""}
	if f.Act, err = s.act(r, p, cl.Act, true); err == nil {
		if err = s.fillChoices(r, p, &f); err == nil {
			f.Items, err = s.itemInfos(r.Context(), cl.Evidence)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "evidence.claim.title", f)
	if f.Saved && f.Act.Result != nil {
		v.Notice = v.T("evidence.claim.savedstatus", v.T("evidence.status."+string(f.Act.Result.Status)))
	}
	s.render(w, http.StatusOK, "evidence_claim", v)
}

// saveClaim creates (POST /claims) or updates (POST /claims/{id}) a
// claim, then shows it with its act's new status. An update keeps what
// the form does not show (the date, the submissions).
func (s *Server) saveClaim(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cases(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r)
	f := claimForm{Creds: Credibilities, Stances: Stances}
	title := "evidence.claim.new"
	if r.PathValue("id") != "" {
		title = "evidence.claim.title"
		id, err := pathID(r, "id")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		_, cl, err := s.claimOf(r, p, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.ID, f.Claim = id, cl
		f.Version, _ = strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	}
	ferr := f.read(r)
	if ferr == nil && !f.ID.IsZero() && f.Version < 1 {
		ferr = &vigil.FieldError{Field: "version", Problem: "missing", Err: vigil.ErrInvalid}
	}
	var refs []cases.Ref
	if ferr == nil {
		refs, ferr = s.Cases.Apply(r.Context(), p, []cases.Change{{Kind: cases.KindClaim, ID: f.ID, Version: f.Version, Doc: f.Claim}})
	}
	if ferr == nil {
		http.Redirect(w, r, "/claims/"+refs[0].ID.String()+"?saved=1", http.StatusSeeOther)
		return
	}
	s.formAgain(w, r, ferr, "evidence_claim", title, func(errs map[string]string) (any, error) {
		f.Errs = errs
		if a, err := s.act(r, p, f.Claim.Act, false); err == nil {
			f.Act = a
		} else {
			f.Errs["act"] = "evidence.err.act"
		}
		if err := s.fillChoices(r, p, &f); err != nil {
			return nil, err
		}
		f.Items, _ = s.itemInfos(r.Context(), f.Claim.Evidence)
		return f, nil
	})
}

// read fills f.Claim from the form: the act, source, stance, credibility,
// statement, the evidence kept (checkboxes) and one more item by ID.
func (f *claimForm) read(r *http.Request) error {
	var errs []error
	bad := func(field string) {
		errs = append(errs, &vigil.FieldError{Field: field, Problem: "not an ID", Err: vigil.ErrInvalid})
	}
	c := &f.Claim
	if a := r.PostFormValue("act"); a != "" || f.ID.IsZero() {
		id, err := vigil.ParseID(a)
		if err != nil {
			bad("act")
		}
		c.Act = id
	}
	id, err := vigil.ParseID(r.PostFormValue("source"))
	if err != nil {
		bad("source")
	}
	c.Source = id
	c.Stance = vigil.Stance(r.PostFormValue("stance"))
	if n, err := strconv.Atoi(r.PostFormValue("credibility")); err == nil {
		c.Credibility = vigil.Credibility(n)
	} else {
		c.Credibility = 0
	}
	c.Quote = strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("quote"), "\r\n", "\n"))
	if r.PostFormValue("evidence-shown") != "" {
		var keep []vigil.ID
		for _, v := range r.PostForm["evidence"] {
			id, err := vigil.ParseID(v)
			if err != nil {
				bad("evidence")
				continue
			}
			keep = append(keep, id)
		}
		c.Evidence = keep
	}
	if v := strings.TrimSpace(r.PostFormValue("add-evidence")); v != "" {
		id, err := vigil.ParseID(v)
		if err != nil {
			bad("evidence")
		} else if !slices.Contains(c.Evidence, id) {
			c.Evidence = append(c.Evidence, id)
		}
	}
	return errors.Join(errs...)
}

// --- Statements of a submission into claims ---

// A statement is a part of a submission that can become a claim: its
// text, or a message from its source.
type statement struct {
	Key  string // "text" or the message ID
	Text string
	From string
}

type statementsData struct {
	Sub        vigil.ID
	Statements []statement
	Acts       []choice
	Sources    []choice
	Act        vigil.ID
	Errs       map[string]string
	Creds      []vigil.Credibility
	Stances    []vigil.Stance
	Types      []vigil.SourceType
	Rels       []vigil.Reliability
}

// statements returns the submission's statements: its text and its
// source's messages (not staff replies).
func (s *Server) statements(ctx context.Context, p vigil.Principal, sub vigil.ID) ([]statement, error) {
	v, err := s.Inbox.Get(ctx, p, sub)
	if err != nil {
		return nil, err
	}
	var out []statement
	if strings.TrimSpace(v.Text) != "" {
		out = append(out, statement{Key: "text", Text: v.Text})
	}
	for _, m := range v.Messages {
		if m.From == "source" && strings.TrimSpace(m.Text) != "" {
			out = append(out, statement{Key: m.ID.String(), Text: m.Text})
		}
	}
	return out, nil
}

func (s *Server) statementsData(r *http.Request, sub vigil.ID) (statementsData, error) {
	d := statementsData{Sub: sub, Creds: Credibilities, Stances: Stances, Types: SourceTypes, Rels: Reliabilities}
	if _, err := s.cases(); err != nil {
		return d, err
	}
	p := principal(r)
	var err error
	if d.Statements, err = s.statements(r.Context(), p, sub); err != nil {
		return d, err
	}
	f := claimForm{}
	if err := s.fillChoices(r, p, &f); err != nil {
		return d, err
	}
	d.Acts, d.Sources = f.Acts, f.Sources
	return d, nil
}

func (s *Server) statementsPage(w http.ResponseWriter, r *http.Request) {
	sub, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.statementsData(r, sub)
	if err == nil {
		d.Act, err = formID(r, "act")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "evidence_statements", "evidence.statements.title", d)
}

// statementsToClaims turns the chosen statements into claims about one
// act, all in one batch: each claim quotes its statement and names the
// submission; their source is a chosen source or a new one made for the
// submission.
func (s *Server) statementsToClaims(w http.ResponseWriter, r *http.Request) {
	sub, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.statementsData(r, sub)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var errs []error
	bad := func(field, problem string) {
		errs = append(errs, &vigil.FieldError{Field: field, Problem: problem, Err: vigil.ErrInvalid})
	}
	act, err := vigil.ParseID(r.PostFormValue("act"))
	if err != nil {
		bad("act", "not an ID")
	}
	d.Act = act
	var changes []cases.Change
	var source vigil.ID
	if v := r.PostFormValue("source"); v == "new" {
		source = vigil.NewID()
		changes = append(changes, cases.Change{Kind: cases.KindSource, ID: source, Path: "newsource", Doc: vigil.Source{
			Name:        strings.TrimSpace(r.PostFormValue("source-name")),
			Type:        vigil.SourceType(r.PostFormValue("source-type")),
			Reliability: vigil.Reliability(r.PostFormValue("source-reliability")),
			Origin:      strings.TrimSpace(r.PostFormValue("source-origin")),
		}})
	} else if source, err = vigil.ParseID(v); err != nil {
		bad("source", "not an ID")
	}
	cred, _ := strconv.Atoi(r.PostFormValue("credibility"))
	chosen := r.PostForm["statement"]
	if len(chosen) == 0 {
		bad("statement", "choose at least one")
	}
	for _, st := range d.Statements {
		if !slices.Contains(chosen, st.Key) {
			continue
		}
		changes = append(changes, cases.Change{Kind: cases.KindClaim, Path: "statement", Doc: vigil.Claim{
			Act: act, Source: source, Stance: vigil.Stance(r.PostFormValue("stance")), Credibility: vigil.Credibility(cred),
			Quote: strings.TrimSpace(st.Text), Submissions: []vigil.ID{sub},
		}})
	}
	var refs []cases.Ref
	if len(errs) == 0 {
		refs, err = s.Cases.Apply(r.Context(), principal(r), changes)
	} else {
		err = errors.Join(errs...)
	}
	if err != nil {
		s.formAgain(w, r, err, "evidence_statements", "evidence.statements.title", func(errs map[string]string) (any, error) {
			d.Errs = errs
			return d, nil
		})
		return
	}
	for _, ref := range refs {
		if ref.Kind == cases.KindClaim {
			http.Redirect(w, r, "/claims/"+ref.ID.String()+"?saved=1", http.StatusSeeOther)
			return
		}
	}
	s.fail(w, r, vigil.ErrInvalid)
}
