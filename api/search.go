package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/search"
)

// SearchResult is the answer of GET /api/v1/search: a page of hits, best
// first, their total and the facets of all of them. Records of incidents
// the token may not see count nowhere.
type SearchResult struct {
	Total  int          `json:"total"`
	Hits   []SearchHit  `json:"hits"`
	Facets SearchFacets `json:"facets"`
}

// A SearchHit is one matching record.
type SearchHit struct {
	ID   vigil.ID `json:"id"`
	Kind string   `json:"kind"`
	// Incident is the incident of an act, claim or incident; absent for
	// shared records (persons, places, parties, sources) and intake's.
	Incident vigil.ID `json:"incident,omitzero"`
	// Submission is the submission of a submission or message hit (the
	// thread to open); absent for case records.
	Submission vigil.ID `json:"submission,omitzero"`
	Score      float64  `json:"score"`
	// Field is the field the snippet comes from ("title", "quote", "place"…).
	Field string `json:"field"`
	// Snippet is consecutive pieces of that field's text; match marks the
	// words the query matched. The text is raw: escape it where shown.
	Snippet []SearchFragment `json:"snippet"`
}

// A SearchFragment is a piece of a snippet.
type SearchFragment struct {
	Text  string `json:"text"`
	Match bool   `json:"match"`
}

// SearchFacets count the hits by value, most frequent first. A place's
// value is its ID; a hit counts for its own place only.
type SearchFacets struct {
	Kinds    []FacetCount `json:"kinds"`
	ActTypes []FacetCount `json:"act_types"`
	Statuses []FacetCount `json:"statuses"`
	Grades   []FacetCount `json:"grades"`
	Places   []FacetCount `json:"places"`
}

// A FacetCount is a facet value and how many hits have it.
type FacetCount struct {
	Value string `json:"value"`
	N     int    `json:"n"`
}

// Search limits: a page of at most MaxSearchLimit hits, DefaultSearchLimit
// if not given, from an offset of at most MaxSearchOffset.
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 100
	MaxSearchOffset    = 10000
)

func (s *Server) search(w http.ResponseWriter, r *http.Request, _ *Server, c Cases, p vigil.Principal) {
	q, err := query(r, "q", "kind", "type", "status", "grade", "place", "from", "to", "offset", "limit")
	if err != nil {
		writeError(w, err)
		return
	}
	f, offset, limit, err := searchParams(q.Get)
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := c.Search(r.Context(), p, q.Get("q"), f, offset, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, NewSearchResult(res))
}

// NewSearchResult is res as the API (and vigil search --json) show it.
func NewSearchResult(res search.Result) SearchResult {
	out := SearchResult{Total: res.Total, Hits: make([]SearchHit, len(res.Hits)), Facets: SearchFacets{
		Kinds: facet(res.Facets.Kinds), ActTypes: facet(res.Facets.ActTypes), Statuses: facet(res.Facets.Statuses),
		Grades: facet(res.Facets.Grades), Places: facet(res.Facets.Places)}}
	for i, h := range res.Hits {
		sh := SearchHit{ID: h.ID, Kind: h.Kind, Incident: h.Incident, Score: h.Score, Field: h.Field,
			Snippet: make([]SearchFragment, len(h.Snippet))}
		if h.Kind == cases.KindSubmission || h.Kind == cases.KindMessage {
			// cases.Service.Search gives a thread's hits their
			// submission as their incident.
			sh.Incident, sh.Submission = vigil.ID{}, h.Incident
		}
		for j, f := range h.Snippet {
			sh.Snippet[j] = SearchFragment{Text: f.Text, Match: f.Match}
		}
		out.Hits[i] = sh
	}
	return out
}

// searchParams reads the filter and page parameters; lists are
// comma-separated.
func searchParams(get func(string) string) (f search.Filter, offset, limit int, err error) {
	var errs []error
	prob := func(field, problem string) {
		errs = append(errs, &vigil.FieldError{Field: field, Problem: problem, Err: vigil.ErrInvalid})
	}
	list := func(name string) []string {
		if v := get(name); v != "" {
			return strings.Split(v, ",")
		}
		return nil
	}
	f.Kinds, f.ActTypes, f.Statuses, f.Grades = list("kind"), list("type"), list("status"), list("grade")
	for _, k := range f.Kinds {
		if !IsSearchKind(k) {
			prob("kind", "not one of incident, act, person, place, party, source, claim, submission, message")
			break
		}
	}
	if v := get("place"); v != "" {
		if f.Place, err = vigil.ParseID(v); err != nil {
			prob("place", "not an ID")
		}
	}
	for _, d := range []struct {
		name string
		to   *vigil.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := get(d.name); v != "" {
			if *d.to, err = vigil.ParseDate(v); err != nil {
				prob(d.name, "not a date YYYY, YYYY-MM or YYYY-MM-DD")
			}
		}
	}
	number := func(name string, def, lo, hi int) int {
		v := get(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			prob(name, fmt.Sprintf("not an integer from %d to %d", lo, hi))
		}
		return n
	}
	offset = number("offset", 0, 0, MaxSearchOffset)
	limit = number("limit", DefaultSearchLimit, 1, MaxSearchLimit)
	return f, offset, limit, errors.Join(errs...)
}

// IsSearchKind reports whether kind is a kind of record search finds: a
// case record's, or cases.KindSubmission or cases.KindMessage.
func IsSearchKind(kind string) bool {
	_, ok := cases.NewDoc(kind)
	return ok || kind == cases.KindSubmission || kind == cases.KindMessage
}

func facet(cs []search.Count) []FacetCount {
	out := make([]FacetCount, len(cs))
	for i, c := range cs {
		out[i] = FacetCount{Value: c.Value, N: c.N}
	}
	return out
}
