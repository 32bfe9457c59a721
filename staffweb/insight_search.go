package staffweb

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/search"
	"github.com/vigil-hr/vigil/vocab"
)

// Search page limits.
const (
	searchPageSize   = 20
	searchMaxPages   = 500 // the deepest page offered: offset 10,000
	searchMaxText    = 500 // bytes of query text
	searchPerSession = 50  // saved searches kept per session, oldest dropped first
	searchSessions   = 2000
	searchKeep       = 12 * time.Hour // a saved search unused this long is forgotten
	facetPlaces      = 8              // place facet values shown (each needs its name)
)

// searchKinds are the record kinds the kind filter offers.
var searchKinds = []string{cases.KindIncident, cases.KindAct, cases.KindPerson, cases.KindPlace, cases.KindParty,
	cases.KindSource, cases.KindClaim, intake.KindSubmission, intake.KindMessage}

// searchStatuses are the statuses the status filter offers: an act's
// corroboration, a submission's triage state.
var searchStatuses = []string{string(corroborate.Unverified), string(corroborate.Reported), string(corroborate.Corroborated),
	string(corroborate.Confirmed), "new", "in_review", "linked", "rejected"}

// A savedQuery is a search kept on the server, so that its text never
// appears in a URL, a log or the browser's history: the URL carries only
// its random ID.
type savedQuery struct {
	Text          string
	Kind, ActType string
	Status        string
	From, To      string // as typed, already checked by vigil.ParseDate
	Place         vigil.ID
	PlaceName     string
	used          time.Time
	id            string
	fromD, toD    vigil.Date
}

// sessionQueries are one session's saved searches, newest last.
type sessionQueries struct {
	list []*savedQuery
	used time.Time
}

// sessionKey names r's session for saved searches: a hash of its CSRF
// token, which only that session's cookie yields.
func sessionKey(r *http.Request) string {
	h := sha256.Sum256([]byte("vigil search v1\x00" + session(r).CSRF))
	return string(h[:])
}

// saveQuery keeps q for r's session and returns its ID.
func (s *Server) saveQuery(r *http.Request, q *savedQuery) string {
	var b [16]byte
	rand.Read(b[:])
	q.id = base64.RawURLEncoding.EncodeToString(b[:])
	now := time.Now()
	q.used = now
	st := s.insight()
	st.mu.Lock()
	defer st.mu.Unlock()
	k := sessionKey(r)
	sq := st.queries[k]
	if sq == nil {
		// Forget the searches of sessions gone quiet, and keep the map
		// bounded.
		for key, o := range st.queries {
			if now.Sub(o.used) > searchKeep {
				delete(st.queries, key)
			}
		}
		if len(st.queries) >= searchSessions {
			var oldest string
			for key, o := range st.queries {
				if oldest == "" || o.used.Before(st.queries[oldest].used) {
					oldest = key
				}
			}
			delete(st.queries, oldest)
		}
		sq = &sessionQueries{}
		st.queries[k] = sq
	}
	sq.used = now
	sq.list = append(sq.list, q)
	if len(sq.list) > searchPerSession {
		sq.list = slices.Delete(sq.list, 0, len(sq.list)-searchPerSession)
	}
	return q.id
}

// saved returns r's session's saved search id, or nil.
func (s *Server) saved(r *http.Request, id string) *savedQuery {
	if id == "" {
		return nil
	}
	st := s.insight()
	st.mu.Lock()
	defer st.mu.Unlock()
	sq := st.queries[sessionKey(r)]
	if sq == nil {
		return nil
	}
	for _, q := range sq.list {
		if q.id == id && time.Since(q.used) < searchKeep {
			now := time.Now()
			q.used, sq.used = now, now
			c := *q
			return &c
		}
	}
	return nil
}

// filter returns the search filter of q.
func (q *savedQuery) filter() search.Filter {
	var f search.Filter
	if q.Kind != "" {
		f.Kinds = []string{q.Kind}
	}
	if q.ActType != "" {
		f.ActTypes = []string{q.ActType}
	}
	if q.Status != "" {
		f.Statuses = []string{q.Status}
	}
	f.From, f.To, f.Place = q.fromD, q.toD, q.Place
	return f
}

// Filtered reports whether q has any filter set.
func (q *savedQuery) Filtered() bool {
	return q.Kind != "" || q.ActType != "" || q.Status != "" || q.From != "" || q.To != "" || !q.Place.IsZero()
}

// parseQuery reads and checks the search form. Field errors name the
// form's fields; err is a failure of the service.
func (s *Server) parseQuery(r *http.Request) (q *savedQuery, errs []*vigil.FieldError, err error) {
	bad := func(field, msg string) {
		errs = append(errs, &vigil.FieldError{Field: field, Problem: msg, Err: vigil.ErrInvalid})
	}
	q = &savedQuery{
		Text:    strings.TrimSpace(r.PostFormValue("q")),
		Kind:    r.PostFormValue("kind"),
		ActType: r.PostFormValue("type"),
		Status:  r.PostFormValue("status"),
		From:    strings.TrimSpace(r.PostFormValue("from")),
		To:      strings.TrimSpace(r.PostFormValue("to")),
	}
	if len(q.Text) > searchMaxText || !utf8.ValidString(q.Text) {
		bad("q", "insight.search.err.text")
	}
	if q.Kind != "" && !slices.Contains(searchKinds, q.Kind) {
		bad("kind", "insight.search.err.kind")
	}
	if _, ok := vocab.ActType(q.ActType); q.ActType != "" && !ok {
		bad("type", "insight.search.err.type")
	}
	if q.Status != "" && !slices.Contains(searchStatuses, q.Status) {
		bad("status", "insight.search.err.status")
	}
	if q.From != "" {
		if q.fromD, err = vigil.ParseDate(q.From); err != nil {
			bad("from", "insight.search.err.date")
		}
	}
	if q.To != "" {
		if q.toD, err = vigil.ParseDate(q.To); err != nil {
			bad("to", "insight.search.err.date")
		}
	}
	if !q.fromD.IsZero() && !q.toD.IsZero() && q.toD.Last().Before(q.fromD.First()) {
		bad("to", "insight.search.err.order")
	}
	if p := r.PostFormValue("place"); p != "" {
		id, err := vigil.ParseID(p)
		if err == nil {
			var rec cases.Record
			rec, err = s.Cases.Get(r.Context(), principal(r), id)
			if err == nil && rec.Kind != cases.KindPlace {
				err = vigil.ErrNotFound
			}
			if err == nil {
				q.Place, q.PlaceName = id, placeName(rec.Doc.(vigil.Place), "")
			}
		}
		if err != nil && !errors.Is(err, vigil.ErrNotFound) && !errors.Is(err, vigil.ErrInvalid) {
			return nil, nil, err
		}
		if err != nil {
			bad("place", "insight.search.err.place")
		}
	}
	return q, errs, nil
}

// searchPost keeps the search form's query on the server and sends the
// browser to its results by ID. A facet button refines the saved search
// named by "s"; "unset" removes one of its filters.
func (s *Server) searchPost(w http.ResponseWriter, r *http.Request) {
	if s.Cases == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	base := s.saved(r, r.PostFormValue("s"))
	if facet, unset := r.PostFormValue("facet"), r.PostFormValue("unset"); base != nil && (facet != "" || unset != "") {
		form := url.Values{"q": {base.Text}, "kind": {base.Kind}, "type": {base.ActType}, "status": {base.Status},
			"from": {base.From}, "to": {base.To}}
		if !base.Place.IsZero() {
			form.Set("place", base.Place.String())
		}
		name, value, _ := strings.Cut(facet, ":")
		switch name {
		case "kind", "type", "status", "place":
			form.Set(name, value)
		case "":
		default:
			s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
			return
		}
		switch unset {
		case "kind", "type", "status", "place":
			form.Del(unset)
		case "dates":
			form.Del("from")
			form.Del("to")
		case "":
		default:
			s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
			return
		}
		r.PostForm = form
	} else if r.PostFormValue("s") != "" && base == nil {
		s.searchAgain(w, r)
		return
	}
	q, errs, err := s.parseQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(errs) > 0 {
		s.showSearch(w, r, http.StatusBadRequest, q, errs)
		return
	}
	http.Redirect(w, r, "/search?s="+s.saveQuery(r, q), http.StatusSeeOther)
}

// searchAgain answers a refinement of a search the server has forgotten
// (it expired, or the vault was sealed since).
func (s *Server) searchAgain(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "insight.search.title", s.searchData(r, &savedQuery{}, nil))
	v.Error = v.T("insight.search.expired")
	s.render(w, http.StatusNotFound, "insight_search", v)
}

// A searchHit is a hit as the results list shows it.
type searchHit struct {
	search.Hit
	Href  string
	Title string
}

// A facetValue is a facet's value with its count and label.
type facetValue struct {
	Name, Value, Label string
	N                  int
	Active             bool
}

type searchData struct {
	Q        *savedQuery
	ID       string // the saved search's ID, "" for the empty form
	Errors   map[string]string
	Ran      bool
	Result   search.Result
	Hits     []searchHit
	Facets   [][]facetValue
	Kinds    []string
	Types    []vocab.Act
	Statuses []string
	Page     int
	Pages    int
	Prev     int // the previous and next page numbers
	Next     int
	// TypeLabel is the act type filter's label.
	TypeLabel string
	From      int // ordinal of the first hit on the page, from 1
	To        int
}

func (s *Server) searchData(r *http.Request, q *savedQuery, errs []*vigil.FieldError) *searchData {
	d := &searchData{Q: q, Kinds: searchKinds, Types: vocab.ActTypes(), Statuses: searchStatuses, Errors: map[string]string{}}
	for _, e := range errs {
		if _, dup := d.Errors[e.Field]; !dup {
			d.Errors[e.Field] = e.Problem
		}
	}
	return d
}

func (s *Server) showSearch(w http.ResponseWriter, r *http.Request, status int, q *savedQuery, errs []*vigil.FieldError) {
	d := s.searchData(r, q, errs)
	v := s.newView(r, "insight.search.title", d)
	for k, m := range d.Errors {
		d.Errors[k] = v.T(m)
	}
	if len(errs) > 0 {
		v.Error = v.T("insight.search.invalid")
	}
	s.render(w, status, "insight_search", v)
}

// searchPage shows the search form and, for ?s=ID, the saved search's
// results page by page (?page=N).
func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	if s.Cases == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	id := r.URL.Query().Get("s")
	if id == "" {
		s.showSearch(w, r, http.StatusOK, &savedQuery{}, nil)
		return
	}
	q := s.saved(r, id)
	if q == nil {
		s.searchAgain(w, r)
		return
	}
	page := 1
	if ps := r.URL.Query().Get("page"); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > searchMaxPages {
			s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
			return
		}
		page = n
	}
	res, err := s.Cases.Search(r.Context(), principal(r), q.Text, q.filter(), (page-1)*searchPageSize, searchPageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := s.searchData(r, q, nil)
	d.ID, d.Ran, d.Result, d.Page = id, true, res, page
	d.Pages = min((res.Total+searchPageSize-1)/searchPageSize, searchMaxPages)
	d.Prev, d.Next = page-1, page+1
	if len(res.Hits) > 0 {
		d.From = (page-1)*searchPageSize + 1
		d.To = d.From + len(res.Hits) - 1
	}
	v := s.newView(r, "insight.search.title", d)
	d.TypeLabel = typeLabel(q.ActType, v.Lang)
	for _, h := range res.Hits {
		d.Hits = append(d.Hits, s.hit(r, v, h))
	}
	d.Facets = s.facets(r, v, q, res.Facets)
	s.render(w, http.StatusOK, "insight_search", v)
}

// recordPaths are the pages of the record kinds.
var recordPaths = map[string]string{
	cases.KindIncident: "/incidents/", cases.KindAct: "/acts/", cases.KindPerson: "/people/", cases.KindPlace: "/places/",
	cases.KindParty: "/parties/", cases.KindSource: "/sources/", cases.KindClaim: "/claims/",
}

// hit names a hit's record and links its page.
func (s *Server) hit(r *http.Request, v *view, h search.Hit) searchHit {
	out := searchHit{Hit: h}
	switch h.Kind {
	case cases.KindSubmission:
		out.Href, out.Title = "/inbox/"+h.ID.String(), v.T("insight.kind.submission")
		return out
	case cases.KindMessage:
		out.Href, out.Title = "/inbox/"+h.Incident.String()+"#thread", v.T("insight.kind.message")
		return out
	}
	if p, ok := recordPaths[h.Kind]; ok {
		out.Href = p + h.ID.String()
	}
	out.Title = v.T("insight.kind." + h.Kind)
	rec, err := s.Cases.Get(r.Context(), principal(r), h.ID)
	if err != nil {
		return out
	}
	switch d := rec.Doc.(type) {
	case vigil.Incident:
		out.Title = d.Title
	case vigil.Act:
		out.Title = typeLabel(d.Type, v.Lang)
	case vigil.Person:
		out.Title = d.Pseudonym
	case vigil.Place:
		out.Title = placeName(d, v.Lang)
	case vigil.Party:
		out.Title = d.Name
	case vigil.Source:
		out.Title = d.Name
	case vigil.Claim:
		out.Title = v.T("insight.kind.claim")
	}
	return out
}

// facets labels the result's facets, each a list of values with counts.
func (s *Server) facets(r *http.Request, v *view, q *savedQuery, f search.Facets) [][]facetValue {
	var out [][]facetValue
	add := func(name string, counts []search.Count, label func(string) string, active string, limit int) {
		var vals []facetValue
		for i, c := range counts {
			if i == limit {
				break
			}
			vals = append(vals, facetValue{Name: name, Value: c.Value, Label: label(c.Value), N: c.N, Active: c.Value == active})
		}
		if len(vals) > 0 {
			out = append(out, vals)
		}
	}
	add("kind", f.Kinds, func(k string) string { return v.T("insight.kind." + k) }, q.Kind, 20)
	add("type", f.ActTypes, func(k string) string { return typeLabel(k, v.Lang) }, q.ActType, 20)
	add("status", f.Statuses, func(k string) string { return v.T("insight.status." + k) }, q.Status, 20)
	place := ""
	if !q.Place.IsZero() {
		place = q.Place.String()
	}
	add("place", f.Places, func(k string) string {
		id, err := vigil.ParseID(k)
		if err != nil {
			return k
		}
		rec, err := s.Cases.Get(r.Context(), principal(r), id)
		if err != nil {
			return v.T("insight.unknown")
		}
		if p, ok := rec.Doc.(vigil.Place); ok {
			return placeName(p, v.Lang)
		}
		return k
	}, place, facetPlaces)
	return out
}
