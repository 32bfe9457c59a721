package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/search"
)

// caseReader is what acts, figures and search read of the case records:
// the offline service (localCases) or a running server's API
// (remoteCases), so that both print through the same code.
type caseReader interface {
	Acts(ctx context.Context) ([]cases.ActResult, error)
	Figures(ctx context.Context, by figures.By) (map[string]figures.Figure, error)
	// Get returns record id of kind: its key, and its document for a place
	// or an incident (nil for other kinds).
	Get(ctx context.Context, kind string, id vigil.ID) (string, cases.Doc, error)
	Search(ctx context.Context, text string, f search.Filter, limit int) (api.SearchResult, error)
}

// localCases reads an open data directory's case records as the admin "cli".
type localCases struct{ c *cases.Service }

func (l localCases) Acts(ctx context.Context) ([]cases.ActResult, error) {
	return l.c.Acts(ctx, cliPrincipal)
}

func (l localCases) Figures(ctx context.Context, by figures.By) (map[string]figures.Figure, error) {
	return l.c.Figures(ctx, cliPrincipal, by)
}

func (l localCases) Get(ctx context.Context, _ string, id vigil.ID) (string, cases.Doc, error) {
	r, err := l.c.Get(ctx, cliPrincipal, id)
	return r.Key, r.Doc, err
}

func (l localCases) Search(ctx context.Context, text string, f search.Filter, limit int) (api.SearchResult, error) {
	res, err := l.c.Search(ctx, cliPrincipal, text, f, 0, limit)
	if err != nil {
		return api.SearchResult{}, err
	}
	return api.NewSearchResult(res), nil
}

// openCases opens the case records offline (with the passphrase) or on the
// running server; done closes what was opened.
func openCases(ctx context.Context, e *env, data, pfile string) (caseReader, func(), error) {
	d, srv, err := open(ctx, e, data, pfile, passNeeded)
	if err != nil {
		return nil, nil, err
	}
	if srv != nil {
		return remoteCases{srv}, func() {}, nil
	}
	return localCases{d.Cases}, func() { d.Close() }, nil
}

// remoteCases reads a running server's case records over its staff socket.
type remoteCases struct{ s *server }

func (r remoteCases) Acts(ctx context.Context) ([]cases.ActResult, error) {
	var out []cases.ActResult
	after := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(cases.MaxLimit)}}
		if after != "" {
			q.Set("after", after)
		}
		var page api.StatusPage
		if err := r.s.do(ctx, "GET", "/api/v1/acts/status?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		for _, a := range page.Items {
			flags := a.Flags
			if len(flags) == 0 {
				flags = nil // as the service answers
			}
			out = append(out, cases.ActResult{ID: a.ID, Key: a.Key, Act: vigil.Act{Incident: a.Incident, Type: a.Type},
				Result: corroborate.Result{Status: a.Status, Flags: flags, Explanation: a.Explanation}})
		}
		if page.Next.IsZero() {
			return out, nil
		}
		after = page.Next.String()
	}
}

func (r remoteCases) Figures(ctx context.Context, by figures.By) (map[string]figures.Figure, error) {
	var out api.FigureList
	err := r.s.do(ctx, "GET", "/api/v1/figures?by="+url.QueryEscape(string(by)), nil, &out)
	return out.Figures, err
}

// plurals are the API's path segments of the kinds.
var plurals = map[string]string{
	cases.KindIncident: "incidents", cases.KindAct: "acts", cases.KindPerson: "persons",
	cases.KindPlace: "places", cases.KindParty: "parties", cases.KindSource: "sources", cases.KindClaim: "claims",
}

func (r remoteCases) Get(ctx context.Context, kind string, id vigil.ID) (string, cases.Doc, error) {
	plural, ok := plurals[kind]
	if !ok {
		return "", nil, fmt.Errorf("%w: kind %q", vigil.ErrInvalid, kind)
	}
	var rec struct {
		Key      string          `json:"key"`
		Document json.RawMessage `json:"document"`
	}
	if err := r.s.do(ctx, "GET", "/api/v1/"+plural+"/"+id.String(), nil, &rec); err != nil {
		return "", nil, err
	}
	switch kind {
	case cases.KindPlace:
		var p vigil.Place
		err := json.Unmarshal(rec.Document, &p)
		return rec.Key, p, err
	case cases.KindIncident:
		var i vigil.Incident
		err := json.Unmarshal(rec.Document, &i)
		return rec.Key, i, err
	}
	return rec.Key, nil, nil
}

func (r remoteCases) Search(ctx context.Context, text string, f search.Filter, limit int) (api.SearchResult, error) {
	if limit > api.MaxSearchLimit {
		return api.SearchResult{}, usageError{fmt.Sprintf("--limit %d: a running server answers at most %d hits", limit, api.MaxSearchLimit)}
	}
	q := url.Values{"q": {text}, "limit": {strconv.Itoa(limit)}}
	if len(f.Kinds) > 0 {
		q.Set("kind", strings.Join(f.Kinds, ","))
	}
	var out api.SearchResult
	err := r.s.do(ctx, "GET", "/api/v1/search?"+q.Encode(), nil, &out)
	return out, err
}

// list is one page of a kind's records from the running server, each with
// its key and document (as cases.Service.List gives them).
func (s *server) list(ctx context.Context, kind string, after vigil.ID, limit int) ([]cases.Record, error) {
	plural, ok := plurals[kind]
	if !ok {
		return nil, fmt.Errorf("%w: kind %q", vigil.ErrInvalid, kind)
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if !after.IsZero() {
		q.Set("after", after.String())
	}
	var page struct {
		Items []struct {
			ID       vigil.ID        `json:"id"`
			Version  int64           `json:"version"`
			Key      string          `json:"key"`
			Document json.RawMessage `json:"document"`
		} `json:"items"`
	}
	if err := s.do(ctx, "GET", "/api/v1/"+plural+"?"+q.Encode(), nil, &page); err != nil {
		return nil, err
	}
	out := make([]cases.Record, len(page.Items))
	for i, it := range page.Items {
		doc, _ := cases.NewDoc(kind)
		if err := json.Unmarshal(it.Document, doc); err != nil {
			return nil, fmt.Errorf("read %s %s from the server: %w", kind, it.ID, err)
		}
		out[i] = cases.Record{Ref: cases.Ref{Kind: kind, ID: it.ID, Version: it.Version, Leaf: -1}, Key: it.Key, Doc: doc}
	}
	return out, nil
}
