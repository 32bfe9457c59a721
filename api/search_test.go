package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/intake"
)

// search GETs /api/v1/search with the given parameters (name, value
// pairs) and decodes the answer; it fails the test on another status
// than 200.
func (e *casesEnv) search(t *testing.T, token string, params ...string) api.SearchResult {
	t.Helper()
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	r := e.do(t, "GET", "/api/v1/search?"+q.Encode(), token, "")
	if r.code != 200 {
		t.Fatalf("search %v: %d %s", params, r.code, r.body)
	}
	var res api.SearchResult
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func hitIDs(res api.SearchResult) []string {
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID.String())
	}
	return ids
}

// TestSearchAPI: GET /api/v1/search finds records across scripts, filters
// by kind, and pages; its parameters are checked.
func TestSearchAPI(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	res := e.search(t, e.ivan, "q", "Грозный")
	if !slices.Contains(hitIDs(res), ids["places"]) {
		t.Errorf("Грозный: %+v", res)
	}
	res = e.search(t, e.ivan, "q", "detentions")
	if got := hitIDs(res); !slices.Contains(got, ids["incidents"]) || !slices.Contains(got, ids["acts"]) || res.Total != 2 {
		t.Errorf("detentions: %+v", res)
	}
	for _, h := range res.Hits {
		if h.Kind == "act" && (h.Incident.String() != ids["incidents"] || len(h.Snippet) == 0 || h.Score <= 0) {
			t.Errorf("act hit %+v", h)
		}
	}
	res = e.search(t, e.ivan, "q", "detentions", "kind", "act")
	if got := hitIDs(res); len(got) != 1 || got[0] != ids["acts"] || len(res.Facets.ActTypes) != 1 || res.Facets.ActTypes[0] != (api.FacetCount{Value: "arbitrary_detention", N: 1}) {
		t.Errorf("kind=act: %+v", res)
	}
	if res = e.search(t, e.ivan, "q", "took", "kind", "claim,act"); res.Total != 2 {
		t.Errorf("a claim's quote finds the claim and its act: %+v", res)
	}
	if res = e.search(t, e.ivan, "q", "detentions", "limit", "1", "offset", "1"); res.Total != 2 || len(res.Hits) != 1 {
		t.Errorf("page: %+v", res)
	}
	if res = e.search(t, e.ivan, "q", "", "kind", "source", "grade", "B"); res.Total != 1 {
		t.Errorf("browse sources of grade B: %+v", res)
	}
	for _, q := range []string{"kind=bogus", "limit=0", "limit=101", "offset=-1", "place=x", "from=2017-13", "bogus=1", "q=a&q=b"} {
		if r := e.do(t, "GET", "/api/v1/search?"+q, e.ivan, ""); r.code != 400 {
			t.Errorf("%s: %d %s", q, r.code, r.body)
		}
	}
}

// TestSearchRoles: intake tokens find no case record, analysts find no
// private name, and a sealed vault answers 503.
func TestSearchRoles(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	if res := e.search(t, e.intake, "q", "V1"); res.Total != 0 {
		t.Errorf("intake finds case records: %+v", res)
	}
	if r := e.do(t, "GET", "/api/v1/search?q=V1", "", ""); r.code != 401 {
		t.Errorf("no token: %d", r.code)
	}
	if res := e.search(t, e.analyst, "q", "Secretname"); res.Total != 0 {
		t.Errorf("analyst finds a private name: %+v", res)
	}
	if res := e.search(t, e.analyst, "q", "V1"); !slices.Contains(hitIDs(res), ids["persons"]) {
		t.Errorf("analyst by pseudonym: %+v", res)
	}
	for _, tok := range []string{e.ivan, e.admin} {
		if res := e.search(t, tok, "q", "Secretname"); !slices.Contains(hitIDs(res), ids["persons"]) {
			t.Errorf("private name: %+v", res)
		}
	}
	e.d.Vault.Seal()
	if r := e.do(t, "GET", "/api/v1/search?q=V1", e.ivan, ""); r.code != 503 || r.errMsg(t) != "vault sealed" {
		t.Errorf("sealed: %d %s", r.code, r.body)
	}
}

// TestSearchRestricted: a restricted incident's records appear in no hit,
// total or facet for a token it does not name.
func TestSearchRestricted(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	inc := e.create(t, e.ivan, "incidents", `{"title":"Secret wave","restricted":["ivan"],"place":"`+ids["places"]+`"}`)
	act := e.create(t, e.ivan, "acts", `{"incident":"`+inc+`","type":"torture","place":"`+ids["places"]+`","victims":{"min":3,"max":3}}`)
	claim := e.create(t, e.ivan, "claims", `{"act":"`+act+`","source":"`+ids["sources"]+`","stance":"affirms","credibility":1,"quote":"they took them too"}`)
	for _, tok := range []string{e.olga, e.analyst} {
		for _, q := range []string{"Grozny", "took", "torture", "secret", ""} {
			r := e.do(t, "GET", "/api/v1/search?q="+url.QueryEscape(q), tok, "")
			body := string(r.body)
			if r.code != 200 || strings.Contains(body, inc) || strings.Contains(body, act) || strings.Contains(body, claim) || strings.Contains(body, "torture") || strings.Contains(body, "Secret") {
				t.Errorf("%q: %d %s", q, r.code, body)
			}
		}
		if res := e.search(t, tok, "q", "took"); res.Total != 2 {
			t.Errorf("took: %d hits, want the open act and claim only", res.Total)
		}
	}
	res := e.search(t, e.ivan, "q", "Grozny", "kind", "act")
	if got := hitIDs(res); len(got) != 1 || got[0] != act {
		t.Errorf("ivan: %+v", res)
	}
}

// TestSearchSubmissionsAPI: a submission and a message of its thread are
// found by tokens that may read submissions, with the submission to open;
// an analyst's answer shows no trace of them.
func TestSearchSubmissionsAPI(t *testing.T) {
	e := casesSetup(t)
	e.world(t)
	_, sub, err := e.d.Intake.Submit(context.Background(), intake.Draft{Text: "Кадырова видели у блокпоста в Шали."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := e.d.Intake.Reply(context.Background(), vigil.Principal{Actor: "test", Role: vigil.RoleIntake}, sub, "Which checkpoint in Shali?")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{e.intake, e.ivan} {
		res := e.search(t, tok, "q", "Shali", "kind", "submission,message")
		if res.Total != 2 || len(res.Facets.Kinds) != 2 {
			t.Fatalf("Shali: %+v", res)
		}
		for _, h := range res.Hits {
			if h.Submission != sub || !h.Incident.IsZero() || (h.ID != sub && h.ID != msg.ID) || h.Field != "text" {
				t.Errorf("hit %+v: want the submission %s or its message %s", h, sub, msg.ID)
			}
		}
		if res := e.search(t, tok, "q", "Kadyrov", "status", "new"); res.Total != 1 || res.Hits[0].ID != sub {
			t.Errorf("Kadyrov status=new: %+v", res)
		}
	}
	r := e.do(t, "GET", "/api/v1/search?q=Shali", e.analyst, "")
	if r.code != 200 || strings.Contains(string(r.body), sub.String()) || strings.Contains(string(r.body), "блокпост") ||
		strings.Contains(string(r.body), "checkpoint") || strings.Contains(string(r.body), `"submission"`) || strings.Contains(string(r.body), `"message"`) {
		t.Errorf("analyst: %d %s", r.code, r.body)
	}
}
