package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/search"
)

// Cases is what the API needs of the case records; *cases.Service
// implements it (see package cases for the full contract). Every method
// checks the principal: a role that may not read or write cases gets an
// error wrapping vigil.ErrForbidden, a record the principal may not see
// (an incident restricted to other accounts, its acts and claims)
// vigil.ErrNotFound, and while the vault is sealed vigil.ErrSealed.
// Writes are all or nothing; an invalid one fails with vigil.ErrInvalid
// joining one *vigil.FieldError per problem, and an update whose version
// is no longer the latest with vigil.ErrConflict. Methods are safe for
// concurrent use.
type Cases interface {
	Apply(ctx context.Context, p vigil.Principal, changes []cases.Change) ([]cases.Ref, error)
	Get(ctx context.Context, p vigil.Principal, id vigil.ID) (cases.Record, error)
	List(ctx context.Context, p vigil.Principal, kind string, after vigil.ID, limit int) ([]cases.Record, error)
	Versions(ctx context.Context, p vigil.Principal, id vigil.ID) ([]cases.Record, error)
	Acts(ctx context.Context, p vigil.Principal) ([]cases.ActResult, error)
	Figures(ctx context.Context, p vigil.Principal, by figures.By) (map[string]figures.Figure, error)
	// Search finds the records p may see (package search); a person's
	// private names match only for roles that may read private fields.
	Search(ctx context.Context, p vigil.Principal, text string, filter search.Filter, offset, limit int) (search.Result, error)
}

// A Record is a version of a case record of document type T, as the API
// answers it: the record's metadata, and its document apart, so that a
// document field can never be mistaken for metadata.
type Record[T cases.Doc] struct {
	ID      vigil.ID `json:"id"`
	Kind    string   `json:"kind"`
	Version int64    `json:"version"`
	// Key is the record's external key (a case file's name for it), if any.
	Key    string    `json:"key,omitempty"`
	Author string    `json:"author"`
	Time   time.Time `json:"time"`
	// Leaf is the version's log leaf index (GET of one record and
	// versions; absent in lists).
	Leaf *int64 `json:"leaf,omitempty"`
	// Prev is the previous version's leaf, -1 for the first (versions
	// only).
	Prev *int64 `json:"prev,omitempty"`
	// Document is the record's document. A person's private part is
	// absent for roles that may not read it.
	Document T `json:"document"`
}

// A Page is one page of a list of records, in ID order.
type Page[T cases.Doc] struct {
	Items []Record[T] `json:"items"`
	// Next, if present, is the cursor of the next page: pass it as after.
	// Absent on the last page.
	Next vigil.ID `json:"next,omitzero"`
}

// A VersionList is every version of a record the caller may see, oldest
// first.
type VersionList[T cases.Doc] struct {
	Versions []Record[T] `json:"versions"`
}

// Written is the answer to a create (201) or an update (200).
type Written struct {
	ID      vigil.ID `json:"id"`
	Kind    string   `json:"kind"`
	Version int64    `json:"version"`
	Leaf    int64    `json:"leaf"`
	Key     string   `json:"key,omitempty"`
}

// ActStatus is an act with what its claims establish (package
// corroborate).
type ActStatus struct {
	ID          vigil.ID                `json:"id"`
	Key         string                  `json:"key,omitempty"`
	Incident    vigil.ID                `json:"incident"`
	Type        string                  `json:"type"`
	Status      corroborate.Status      `json:"status"`
	Flags       []corroborate.Flag      `json:"flags"`
	Explanation corroborate.Explanation `json:"explanation"`
}

// StatusPage is one page of GET /api/v1/acts/status, in act ID order.
type StatusPage struct {
	Items []ActStatus `json:"items"`
	Next  vigil.ID    `json:"next,omitzero"`
}

// FigureList is the answer of GET /api/v1/figures: the figures keyed by
// the grouping's value (an act type, a month "YYYY-MM", a place or
// incident ID, or "unknown").
type FigureList struct {
	By      figures.By                `json:"by"`
	Figures map[string]figures.Figure `json:"figures"`
}

// A caseKind is one kind of case record under /api/v1/{plural}.
type caseKind[T cases.Doc] struct {
	plural string // path segment: "acts"
	name   string // cases.KindAct
}

// caseRoutes are the case record routes, one set per kind, then the
// corroboration and figures reports.
func caseRoutes() []Route {
	var rs []Route
	rs = append(rs, caseKind[vigil.Incident]{"incidents", cases.KindIncident}.routes()...)
	rs = append(rs, caseKind[vigil.Act]{"acts", cases.KindAct}.routes()...)
	rs = append(rs, caseKind[vigil.Person]{"persons", cases.KindPerson}.routes()...)
	rs = append(rs, caseKind[vigil.Place]{"places", cases.KindPlace}.routes()...)
	rs = append(rs, caseKind[vigil.Party]{"parties", cases.KindParty}.routes()...)
	rs = append(rs, caseKind[vigil.Source]{"sources", cases.KindSource}.routes()...)
	rs = append(rs, caseKind[vigil.Claim]{"claims", cases.KindClaim}.routes()...)
	rs = append(rs,
		Route{Method: "GET", Path: "/api/v1/acts/status", Response: typeOf[StatusPage](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return s.casesAuthed(s.actStatus) }},
		Route{Method: "GET", Path: "/api/v1/figures", Response: typeOf[FigureList](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return s.casesAuthed(s.figures) }},
		Route{Method: "GET", Path: "/api/v1/search", Response: typeOf[SearchResult](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return s.casesAuthed(s.search) }},
	)
	return rs
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func (k caseKind[T]) routes() []Route {
	base := "/api/v1/" + k.plural
	return []Route{
		{Method: "GET", Path: base, Response: typeOf[Page[T]](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return s.casesAuthed(k.list) }},
		{Method: "POST", Path: base, Request: typeOf[T](), Response: typeOf[Written](), Status: 201,
			handler: func(s *Server) http.HandlerFunc { return jsonBody(s.casesAuthed(k.create)) }},
		{Method: "GET", Path: base + "/{id}", Response: typeOf[Record[T]](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return s.casesAuthed(k.get) }},
		{Method: "PUT", Path: base + "/{id}", Request: typeOf[T](), Response: typeOf[Written](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return jsonBody(s.casesAuthed(k.update)) }},
		{Method: "GET", Path: base + "/{id}/versions", Response: typeOf[VersionList[T]](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return s.casesAuthed(k.versions) }},
	}
}

// A casesHandler handles a case request with the service and the caller.
type casesHandler func(w http.ResponseWriter, r *http.Request, s *Server, c Cases, p vigil.Principal)

// casesAuthed wraps a case handler: it needs a token, a Cases (else 404)
// and an unsealed vault. A token authenticated while the vault was sealed
// has no known role; it gets 503, not the 403 its empty role would.
func (s *Server) casesAuthed(h casesHandler) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, tok auth.Token) {
		if s.Cases == nil {
			writeError(w, vigil.ErrNotFound)
			return
		}
		if tok.Role == "" {
			writeError(w, vigil.ErrSealed)
			return
		}
		h(w, r, s, s.Cases, tok.Principal())
	})
}

// query checks that r's query names only the allowed parameters, each at
// most once, and returns it.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &vigil.FieldError{Field: "", Problem: "malformed query string", Err: vigil.ErrInvalid}
	}
	var errs []error
	for name, vs := range q {
		switch {
		case !slices.Contains(allowed, name):
			errs = append(errs, &vigil.FieldError{Field: shortName(name), Problem: "unknown query parameter", Err: vigil.ErrInvalid})
		case len(vs) > 1:
			errs = append(errs, &vigil.FieldError{Field: name, Problem: "given more than once", Err: vigil.ErrInvalid})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return q, nil
}

// page reads the after and limit parameters: after an ID, limit an integer
// from 1 to cases.MaxLimit (default cases.DefaultLimit).
func page(q url.Values) (after vigil.ID, limit int, err error) {
	var errs []error
	if a := q.Get("after"); a != "" {
		if after, err = vigil.ParseID(a); err != nil {
			errs = append(errs, &vigil.FieldError{Field: "after", Problem: "not an ID", Err: vigil.ErrInvalid})
		}
	}
	limit = cases.DefaultLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > cases.MaxLimit {
			errs = append(errs, &vigil.FieldError{Field: "limit", Problem: fmt.Sprintf("not an integer from 1 to %d", cases.MaxLimit), Err: vigil.ErrInvalid})
		}
		limit = n
	}
	return after, limit, errors.Join(errs...)
}

// record converts a service record of kind k to the API's form; ok is
// false if it is of another kind.
func (k caseKind[T]) record(r cases.Record) (Record[T], bool) {
	doc, ok := r.Doc.(T)
	if !ok || r.Kind != k.name {
		return Record[T]{}, false
	}
	return Record[T]{ID: r.ID, Kind: r.Kind, Version: r.Version, Key: r.Key, Author: r.Author, Time: r.Time, Document: doc}, true
}

func (k caseKind[T]) list(w http.ResponseWriter, r *http.Request, _ *Server, c Cases, p vigil.Principal) {
	q, err := query(r, "after", "limit")
	if err != nil {
		writeError(w, err)
		return
	}
	after, limit, err := page(q)
	if err != nil {
		writeError(w, err)
		return
	}
	recs, err := c.List(r.Context(), p, k.name, after, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	out := Page[T]{Items: make([]Record[T], 0, len(recs))}
	for _, rec := range recs {
		if v, ok := k.record(rec); ok {
			out.Items = append(out.Items, v)
		}
	}
	if len(recs) == limit {
		// A full page: there is a next one only if a record follows.
		last := recs[len(recs)-1].ID
		more, err := c.List(r.Context(), p, k.name, last, 1)
		if err != nil {
			writeError(w, err)
			return
		}
		if len(more) > 0 {
			out.Next = last
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// get returns record id if it is of kind k and p may see it.
func (k caseKind[T]) get(w http.ResponseWriter, r *http.Request, _ *Server, c Cases, p vigil.Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	rec, err := c.Get(r.Context(), p, id)
	if err != nil {
		writeError(w, err)
		return
	}
	v, ok := k.record(rec)
	if !ok {
		writeError(w, vigil.ErrNotFound)
		return
	}
	leaf := rec.Leaf
	v.Leaf = &leaf
	w.Header().Set("ETag", etag(rec.Version))
	writeJSON(w, http.StatusOK, v)
}

func (k caseKind[T]) versions(w http.ResponseWriter, r *http.Request, _ *Server, c Cases, p vigil.Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	recs, err := c.Versions(r.Context(), p, id)
	if err != nil {
		writeError(w, err)
		return
	}
	out := VersionList[T]{Versions: make([]Record[T], 0, len(recs))}
	for _, rec := range recs {
		v, ok := k.record(rec)
		if !ok {
			writeError(w, vigil.ErrNotFound)
			return
		}
		leaf, prev := rec.Leaf, rec.Prev
		v.Leaf, v.Prev = &leaf, &prev
		out.Versions = append(out.Versions, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (k caseKind[T]) create(w http.ResponseWriter, r *http.Request, s *Server, c Cases, p vigil.Principal) {
	if _, err := query(r); err != nil {
		writeError(w, err)
		return
	}
	doc, key, err := readDoc[T](w, r, s.maxBody())
	if err != nil {
		writeError(w, err)
		return
	}
	refs, err := c.Apply(r.Context(), p, []cases.Change{{Kind: k.name, Key: key, Doc: doc}})
	if err != nil {
		writeError(w, unbatch(err))
		return
	}
	ref := refs[0]
	w.Header().Set("Location", "/api/v1/"+k.plural+"/"+ref.ID.String())
	w.Header().Set("ETag", etag(ref.Version))
	writeJSON(w, http.StatusCreated, Written{ID: ref.ID, Kind: ref.Kind, Version: ref.Version, Leaf: ref.Leaf, Key: key})
}

// update writes a new version made from the version If-Match names.
func (k caseKind[T]) update(w http.ResponseWriter, r *http.Request, s *Server, c Cases, p vigil.Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := query(r); err != nil {
		writeError(w, err)
		return
	}
	expected, err := ifMatch(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// The record must be one of this kind: a person's ID under /acts is
	// not found, as it would be for GET.
	cur, err := c.Get(r.Context(), p, id)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, ok := k.record(cur); !ok {
		writeError(w, vigil.ErrNotFound)
		return
	}
	doc, key, err := readDoc[T](w, r, s.maxBody())
	if err != nil {
		writeError(w, err)
		return
	}
	refs, err := c.Apply(r.Context(), p, []cases.Change{{Kind: k.name, ID: id, Version: expected, Key: key, Doc: doc}})
	if err != nil {
		err = unbatch(err)
		if errors.Is(err, vigil.ErrConflict) && !hasFields(err) {
			// A stale version: tell the client which one is current, so
			// that it can reload it and edit again.
			if now, gerr := c.Get(r.Context(), p, id); gerr == nil {
				w.Header().Set("ETag", etag(now.Version))
				writeErrorBody(w, err, func(b *ErrorBody) { b.Version = now.Version })
				return
			}
		}
		writeError(w, err)
		return
	}
	ref := refs[0]
	if key == "" {
		key = cur.Key
	}
	w.Header().Set("ETag", etag(ref.Version))
	writeJSON(w, http.StatusOK, Written{ID: ref.ID, Kind: ref.Kind, Version: ref.Version, Leaf: ref.Leaf, Key: key})
}

// etag is the strong entity tag of a record version: its number, quoted.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

var (
	// errNoVersion is an update without If-Match.
	errNoVersion = errors.New("If-Match header with the version being edited required")
)

// ifMatch returns the version an update names in If-Match: one strong
// entity tag "N" (a bare N is accepted too), N >= 1. "*" and lists are
// refused: they would let a write overwrite whatever is current.
func ifMatch(r *http.Request) (int64, error) {
	vs := r.Header.Values("If-Match")
	if len(vs) == 0 {
		return 0, errNoVersion
	}
	bad := &vigil.FieldError{Field: "If-Match", Problem: `not one version tag such as "3"`, Err: vigil.ErrInvalid}
	if len(vs) > 1 {
		return 0, bad
	}
	v := strings.TrimSpace(vs[0])
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != v {
		return 0, bad
	}
	return n, nil
}

// unbatch removes the "[0]" prefix that Apply puts before the field of
// each problem of a one-change batch: the API's fields are paths in the
// request body.
func unbatch(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = unbatch(e)
		}
		return errors.Join(out...)
	}
	var fe *vigil.FieldError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Field, "[0]") {
		f := strings.TrimPrefix(strings.TrimPrefix(fe.Field, "[0]"), ".")
		return &vigil.FieldError{Field: f, Problem: fe.Problem, Err: fe.Err}
	}
	return err
}

func hasFields(err error) bool { return len(fieldsOf(err)) > 0 }

func (s *Server) actStatus(w http.ResponseWriter, r *http.Request, _ *Server, c Cases, p vigil.Principal) {
	q, err := query(r, "after", "limit")
	if err != nil {
		writeError(w, err)
		return
	}
	after, limit, err := page(q)
	if err != nil {
		writeError(w, err)
		return
	}
	acts, err := c.Acts(r.Context(), p)
	if err != nil {
		writeError(w, err)
		return
	}
	// Acts are in ID order.
	i, found := slices.BinarySearchFunc(acts, after, func(a cases.ActResult, id vigil.ID) int {
		return bytes.Compare(a.ID[:], id[:])
	})
	if found {
		i++
	}
	out := StatusPage{Items: []ActStatus{}}
	for ; i < len(acts) && len(out.Items) < limit; i++ {
		a := acts[i]
		flags := a.Result.Flags
		if flags == nil {
			flags = []corroborate.Flag{}
		}
		out.Items = append(out.Items, ActStatus{ID: a.ID, Key: a.Key, Incident: a.Act.Incident, Type: a.Act.Type,
			Status: a.Result.Status, Flags: flags, Explanation: a.Result.Explanation})
	}
	if i < len(acts) && len(out.Items) > 0 {
		out.Next = out.Items[len(out.Items)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) figures(w http.ResponseWriter, r *http.Request, _ *Server, c Cases, p vigil.Principal) {
	q, err := query(r, "by")
	if err != nil {
		writeError(w, err)
		return
	}
	by := figures.ByType
	if v := q.Get("by"); v != "" {
		if by, err = figures.ParseBy(v); err != nil {
			writeError(w, &vigil.FieldError{Field: "by", Problem: "not one of type, month, place, incident", Err: vigil.ErrInvalid})
			return
		}
	}
	f, err := c.Figures(r.Context(), p, by)
	if err != nil {
		writeError(w, err)
		return
	}
	if f == nil {
		f = map[string]figures.Figure{}
	}
	writeJSON(w, http.StatusOK, FigureList{By: by, Figures: f})
}
