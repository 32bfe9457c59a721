package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
)

var _ api.Cases = (*cases.Service)(nil)

const casesPass = "api cases test passphrase"

// casesEnv is a real, unsealed data directory served over HTTP, with a
// token per role: admin, two investigators (ivan, olga), an analyst and
// intake staff.
type casesEnv struct {
	srv                                *httptest.Server
	api                                *api.Server
	d                                  *datadir.Dir
	admin, ivan, olga, analyst, intake string
}

func casesSetup(t *testing.T) *casesEnv {
	t.Helper()
	d := datadirtest.Open(t, casesPass)
	if err := d.Vault.Unseal([]byte(casesPass)); err != nil {
		t.Fatal(err)
	}
	ts := &auth.Tokens{Store: d.Store, Vault: d.Vault, Audit: d.Intake.Audit}
	tok := func(name string, role auth.Role) string {
		secret, _, err := ts.Create(context.Background(), "test", name, role)
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	e := &casesEnv{d: d,
		admin: tok("root", auth.RoleAdmin), ivan: tok("ivan", auth.RoleInvestigator), olga: tok("olga", auth.RoleInvestigator),
		analyst: tok("ana", auth.RoleAnalyst), intake: tok("iris", auth.RoleIntake)}
	e.api = &api.Server{Vault: d.Vault, Health: func(*http.Request) (api.Health, error) { return api.Health{}, nil },
		Tokens: ts, Inbox: d.Intake, Cases: d.Cases}
	e.srv = httptest.NewServer(e.api.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request; POST and PUT bodies are application/json. header
// holds extra headers as name, value pairs.
func (e *casesEnv) do(t *testing.T, method, path, token, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method == http.MethodPost || method == http.MethodPut {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// create posts body to /api/v1/plural and returns the new record's ID.
func (e *casesEnv) create(t *testing.T, token, plural, body string) string {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/"+plural, token, body)
	if r.code != http.StatusCreated {
		t.Fatalf("POST %s %s: %d %s", plural, body, r.code, r.body)
	}
	var w api.Written
	if err := json.Unmarshal(r.body, &w); err != nil || w.Version != 1 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("POST %s: %s %v ETag %q", plural, r.body, err, r.header.Get("ETag"))
	}
	return w.ID.String()
}

// treeSize returns the log's size: every stored version and audit event
// adds a leaf, so an unchanged size means nothing was stored.
func (e *casesEnv) treeSize(t *testing.T) int64 {
	t.Helper()
	var n int64
	err := e.d.Store.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		n, err = tx.TreeSize()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fields returns the field problems of an error answer as "field: problem".
func (r reply) fields(t *testing.T) []string {
	t.Helper()
	var b api.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body %.200q: %v", r.body, err)
	}
	var out []string
	for _, f := range b.Fields {
		out = append(out, f.Field+": "+f.Problem)
	}
	return out
}

// world creates one record of every kind and returns their IDs by plural.
func (e *casesEnv) world(t *testing.T) map[string]string {
	t.Helper()
	ids := map[string]string{}
	ids["places"] = e.create(t, e.ivan, "places", `{"key":"city","names":{"en":"Grozny","ru":"Грозный"},"kind":"city"}`)
	ids["parties"] = e.create(t, e.ivan, "parties", `{"name":"Police unit 1"}`)
	ids["sources"] = e.create(t, e.ivan, "sources", `{"name":"Hotline","type":"ngo","reliability":"B","party":"`+ids["parties"]+`"}`)
	ids["persons"] = e.create(t, e.ivan, "persons", `{"pseudonym":"V1","private":{"names":[{"script":"Latn","name":"Canary Secretname"}]}}`)
	ids["incidents"] = e.create(t, e.ivan, "incidents", `{"title":"Wave of detentions","period":{"from":"2017-02","to":"2017-04"},"place":"`+ids["places"]+`"}`)
	ids["acts"] = e.create(t, e.ivan, "acts", `{"incident":"`+ids["incidents"]+`","type":"arbitrary_detention","victims":{"min":2,"max":5},"victim_persons":["`+ids["persons"]+`"],"perpetrators":["`+ids["parties"]+`"]}`)
	ids["claims"] = e.create(t, e.ivan, "claims", `{"act":"`+ids["acts"]+`","source":"`+ids["sources"]+`","stance":"affirms","credibility":2,"quote":"they took them","date":"2017-03-01"}`)
	return ids
}

// TestCasesCRUD creates, reads, updates, lists and versions one record of
// every kind through the API.
func TestCasesCRUD(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	edits := map[string][2]string{ // plural: a field of the document and its edited JSON body
		"places":    {"kind", `{"names":{"en":"Grozny"},"kind":"capital"}`},
		"parties":   {"name", `{"name":"Police unit 2"}`},
		"sources":   {"reliability", `{"name":"Hotline","type":"ngo","reliability":"C"}`},
		"persons":   {"pseudonym", `{"pseudonym":"V2"}`},
		"incidents": {"title", `{"title":"Second wave"}`},
		"acts":      {"type", `{"incident":"` + ids["incidents"] + `","type":"torture","victims":{"min":1,"max":1}}`},
		"claims":    {"stance", `{"act":"` + ids["acts"] + `","source":"` + ids["sources"] + `","stance":"denies","credibility":5}`},
	}
	for plural, id := range ids {
		t.Run(plural, func(t *testing.T) {
			path := "/api/v1/" + plural + "/" + id
			r := e.do(t, "GET", path, e.ivan, "")
			if r.code != 200 || r.header.Get("ETag") != `"1"` {
				t.Fatalf("GET: %d ETag %q %s", r.code, r.header.Get("ETag"), r.body)
			}
			m := r.json(t)
			if m["id"] != id || m["version"] != 1.0 || m["author"] == "" || m["time"] == nil || m["leaf"] == nil || m["document"] == nil {
				t.Errorf("GET: %s", r.body)
			}
			field, body := edits[plural][0], edits[plural][1]
			w := e.do(t, "PUT", path, e.ivan, body, "If-Match", `"1"`)
			if w.code != 200 || w.header.Get("ETag") != `"2"` || w.json(t)["version"] != 2.0 {
				t.Fatalf("PUT: %d %s", w.code, w.body)
			}
			var want map[string]any
			json.Unmarshal([]byte(body), &want)
			r = e.do(t, "GET", path, e.ivan, "")
			doc, _ := r.json(t)["document"].(map[string]any)
			if fmt.Sprint(doc[field]) != fmt.Sprint(want[field]) || r.header.Get("ETag") != `"2"` {
				t.Errorf("after PUT, %s = %v, want %v", field, doc[field], want[field])
			}
			if plural == "places" && r.json(t)["key"] != "city" {
				t.Errorf("update without a key dropped it: %s", r.body)
			}
			v := e.do(t, "GET", path+"/versions", e.ivan, "")
			var vl struct {
				Versions []struct {
					Version    int64 `json:"version"`
					Leaf, Prev int64
				} `json:"versions"`
			}
			if err := json.Unmarshal(v.body, &vl); err != nil || v.code != 200 || len(vl.Versions) != 2 ||
				vl.Versions[0].Prev != -1 || vl.Versions[1].Prev != vl.Versions[0].Leaf {
				t.Errorf("versions: %d %s", v.code, v.body)
			}
			l := e.do(t, "GET", "/api/v1/"+plural, e.ivan, "")
			if l.code != 200 || !strings.Contains(string(l.body), id) {
				t.Errorf("list: %d %s", l.code, l.body)
			}
			// Another kind's path does not find it.
			other := "places"
			if plural == "places" {
				other = "parties"
			}
			if r := e.do(t, "GET", "/api/v1/"+other+"/"+id, e.ivan, ""); r.code != 404 {
				t.Errorf("GET under %s: %d", other, r.code)
			}
		})
	}
}

// TestCasesPagination walks every record of a kind exactly once, in pages.
func TestCasesPagination(t *testing.T) {
	e := casesSetup(t)
	want := map[string]bool{}
	for i := range 23 {
		want[e.create(t, e.ivan, "parties", fmt.Sprintf(`{"name":"Party %d"}`, i))] = true
	}
	for _, limit := range []int{1, 7, 23, 1000} {
		seen := map[string]int{}
		after, pages := "", 0
		for {
			r := e.do(t, "GET", fmt.Sprintf("/api/v1/parties?limit=%d&after=%s", limit, after), e.analyst, "")
			var p api.Page[vigil.Party]
			if err := json.Unmarshal(r.body, &p); err != nil || r.code != 200 {
				t.Fatalf("limit %d: %d %s", limit, r.code, r.body)
			}
			if len(p.Items) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(p.Items))
			}
			for _, it := range p.Items {
				seen[it.ID.String()]++
			}
			pages++
			if p.Next.IsZero() {
				break
			}
			after = p.Next.String()
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("limit %d: record seen %d times", limit, seen[id])
			}
		}
		if len(seen) != len(want) || pages != (len(want)+limit-1)/limit {
			t.Errorf("limit %d: %d records in %d pages", limit, len(seen), pages)
		}
	}
	for _, q := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=1001", "limit"}, {"limit=x", "limit"},
		{"after=nope", "after"}, {"afer=x", "afer"}, {"limit=1&limit=2", "limit"},
	} {
		r := e.do(t, "GET", "/api/v1/parties?"+q.query, e.ivan, "")
		if f := r.fields(t); r.code != 400 || len(f) != 1 || !strings.HasPrefix(f[0], q.field+":") {
			t.Errorf("?%s: %d %s", q.query, r.code, r.body)
		}
	}
}

// TestCasesConcurrentEdits has two clients edit one record from the same
// version, many times: exactly one wins each round, the other gets 409
// with the current version, and every winner's edit is a version.
func TestCasesConcurrentEdits(t *testing.T) {
	e := casesSetup(t)
	id := e.create(t, e.ivan, "parties", `{"name":"start"}`)
	path := "/api/v1/parties/" + id
	const rounds = 25
	var winners []string
	for round := range rounds {
		version := fmt.Sprintf(`"%d"`, round+1)
		var wg sync.WaitGroup
		res := make([]reply, 2)
		for c, tok := range []string{e.ivan, e.olga} {
			wg.Go(func() {
				res[c] = e.do(t, "PUT", path, tok, fmt.Sprintf(`{"name":"round %d client %d"}`, round, c), "If-Match", version)
			})
		}
		wg.Wait()
		codes := []int{res[0].code, res[1].code}
		slices.Sort(codes)
		if codes[0] != 200 || codes[1] != 409 {
			t.Fatalf("round %d: %d %s / %d %s", round, res[0].code, res[0].body, res[1].code, res[1].body)
		}
		for c, r := range res {
			if r.code == 200 {
				winners = append(winners, fmt.Sprintf("round %d client %d", round, c))
				continue
			}
			if v := r.json(t)["version"]; v != float64(round+2) || r.header.Get("ETag") != fmt.Sprintf(`"%d"`, round+2) {
				t.Errorf("round %d: 409 names version %v", round, v)
			}
		}
	}
	var vl api.VersionList[vigil.Party]
	r := e.do(t, "GET", path+"/versions", e.ivan, "")
	if err := json.Unmarshal(r.body, &vl); err != nil || len(vl.Versions) != rounds+1 {
		t.Fatalf("versions: %v, %d of them", err, len(vl.Versions))
	}
	for i, w := range winners {
		if got := vl.Versions[i+1].Document.Name; got != w {
			t.Errorf("version %d is %q, want the winner %q", i+2, got, w)
		}
	}
}

// TestCasesVersionRequired: an update must name the version it was made
// from, as one positive strong entity tag.
func TestCasesVersionRequired(t *testing.T) {
	e := casesSetup(t)
	id := e.create(t, e.ivan, "parties", `{"name":"p"}`)
	n := e.treeSize(t)
	path := "/api/v1/parties/" + id
	body := `{"name":"q"}`
	if r := e.do(t, "PUT", path, e.ivan, body); r.code != 428 {
		t.Errorf("no If-Match: %d %s", r.code, r.body)
	}
	for _, v := range []string{"*", `"0"`, "0", `"-1"`, `W/"1"`, `"1", "2"`, `"01"`, "x"} {
		if r := e.do(t, "PUT", path, e.ivan, body, "If-Match", v); r.code != 400 || r.fields(t)[0] != `If-Match: not one version tag such as "3"` {
			t.Errorf("If-Match %s: %d %s", v, r.code, r.body)
		}
	}
	if r := e.do(t, "PUT", path, e.ivan, body, "If-Match", `"2"`); r.code != 409 || r.json(t)["version"] != 1.0 {
		t.Errorf("future version: %d %s", r.code, r.body)
	}
	// No record is created by an update of an unknown ID.
	if r := e.do(t, "PUT", "/api/v1/parties/"+vigil.NewID().String(), e.ivan, body, "If-Match", `"1"`); r.code != 404 {
		t.Errorf("unknown ID: %d %s", r.code, r.body)
	}
	if e.treeSize(t) != n {
		t.Errorf("refused updates stored something")
	}
	if r := e.do(t, "PUT", path, e.ivan, body, "If-Match", "1"); r.code != 200 {
		t.Errorf("bare version: %d %s", r.code, r.body)
	}
}
