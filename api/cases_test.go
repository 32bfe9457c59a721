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

// TestCasesHostile sends hostile bodies: each gets a clear error naming
// the field, and nothing is stored.
func TestCasesHostile(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	inc, src, act := ids["incidents"], ids["sources"], ids["acts"]
	a := e.create(t, e.ivan, "places", `{"names":{"en":"A"}}`)
	b := e.create(t, e.ivan, "places", `{"names":{"en":"B"},"parent":"`+a+`"}`)
	ghost := vigil.NewID().String()
	huge := strings.Repeat("я", 6000)
	n := e.treeSize(t)
	for _, tc := range []struct {
		desc, method, path, body string
		code                     int
		field                    string // the first problem's field: problem
	}{
		{"wrong type", "POST", "acts", `{"incident":"` + inc + `","type":"torture","victims":{"min":"ten","max":20}}`, 400, "victims.min: must be an integer in range"},
		{"number too big", "POST", "acts", `{"incident":"` + inc + `","type":"torture","victims":{"min":1,"max":1e300}}`, 400, "victims.max: must be an integer in range"},
		{"string for array", "POST", "acts", `{"incident":"` + inc + `","type":"torture","victims":{"min":1,"max":1},"perpetrators":"police"}`, 400, "perpetrators: must be an array"},
		{"bad ID", "POST", "claims", `{"act":"<script>","source":"` + src + `","stance":"affirms","credibility":1}`, 400, "act: must be an ID (26 base32 characters)"},
		{"unknown field", "POST", "parties", `{"name":"x","colour":"red"}`, 400, "colour: unknown field"},
		{"nested unknown field", "POST", "acts", `{"incident":"` + inc + `","type":"torture","victims":{"min":1,"max":1,"avg":1}}`, 400, "victims.avg: unknown field"},
		{"case-folded field", "POST", "parties", `{"Name":"x"}`, 400, "Name: unknown field"},
		{"field twice", "POST", "parties", `{"name":"x","name":"y"}`, 400, "name: given twice"},
		{"reliability out of range", "POST", "sources", `{"name":"x","type":"media","reliability":"G"}`, 400, "reliability: not one of A to F"},
		{"credibility out of range", "POST", "claims", `{"act":"` + act + `","source":"` + src + `","stance":"affirms","credibility":7}`, 400, "credibility: not one of 1 to 6"},
		{"negative victims", "POST", "acts", `{"incident":"` + inc + `","type":"torture","victims":{"min":-1,"max":3}}`, 400, "victims.min: negative"},
		{"min over max", "POST", "acts", `{"incident":"` + inc + `","type":"torture","victims":{"min":9,"max":3}}`, 400, "victims.min: greater than max"},
		{"dangling reference", "POST", "acts", `{"incident":"` + ghost + `","type":"torture","victims":{"min":1,"max":1}}`, 400, "incident: no such incident"},
		{"reference to another kind", "POST", "claims", `{"act":"` + act + `","source":"` + inc + `","stance":"affirms","credibility":1}`, 400, "source: not a source"},
		{"cyclic parent", "PUT", "places/" + a, `{"names":{"en":"A"},"parent":"` + b + `"}`, 400, "parent: makes a cycle"},
		{"own parent", "PUT", "places/" + a, `{"names":{"en":"A"},"parent":"` + a + `"}`, 400, "parent: makes a cycle"},
		{"dates out of order", "POST", "incidents", `{"title":"x","period":{"from":"2017-05","to":"2017-04"}}`, 400, "period.to: before from"},
		{"impossible date", "POST", "incidents", `{"title":"x","period":{"from":"2017-02-30"}}`, 400, "period.from: must be a date: YYYY, YYYY-MM or YYYY-MM-DD"},
		{"unknown act type", "POST", "acts", `{"incident":"` + inc + `","type":"tea_party","victims":{"min":1,"max":1}}`, 400, "type: "},
		{"huge string", "POST", "incidents", `{"title":"` + huge + `"}`, 413, "title: longer than 500 bytes"},
		{"invalid UTF-8", "POST", "parties", "{\"name\":\"ab\xff\xfe\"}", 400, "name: not valid UTF-8"},
		{"invalid UTF-8 in a name", "POST", "parties", "{\"name\":\"x\",\"\xff\":1}", 400, "\ufffd: unknown field"},
		{"control character", "POST", "parties", `{"name":"a\u0000b"}`, 400, "name: contains a control character"},
		{"not JSON", "POST", "parties", `{"name":`, 400, ": not valid JSON (at byte 8)"},
		{"two values", "POST", "parties", `{"name":"a"} {"name":"b"}`, 400, ": not valid JSON (at byte 14)"},
		{"trailing bracket", "POST", "parties", `{"name":"a"}]`, 400, ": not valid JSON (at byte 13)"},
		{"array body", "POST", "parties", `[{"name":"a"}]`, 400, ": must be a JSON object"},
		{"missing field", "POST", "parties", `{}`, 400, "name: missing"},
		{"key wrong type", "POST", "parties", `{"name":"a","key":7}`, 400, "key: must be a string"},
		{"key taken", "POST", "places", `{"key":"city","names":{"en":"Other"}}`, 409, "key: names another record"},
		{"unknown query", "POST", "parties?debug=1", `{"name":"a"}`, 400, "debug: unknown query parameter"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var r reply
			if tc.method == "PUT" {
				r = e.do(t, "PUT", "/api/v1/"+tc.path, e.ivan, tc.body, "If-Match", `"1"`)
			} else {
				r = e.do(t, tc.method, "/api/v1/"+tc.path, e.ivan, tc.body)
			}
			f := r.fields(t)
			if r.code != tc.code || len(f) == 0 || !strings.HasPrefix(f[0], tc.field) {
				t.Errorf("%d %v, want %d %q", r.code, f, tc.code, tc.field)
			}
			if strings.Contains(string(r.body), "<script>") || strings.Contains(string(r.body), ghost) {
				t.Errorf("answer echoes the input: %s", r.body)
			}
		})
	}
	if got := e.treeSize(t); got != n {
		t.Errorf("tree size %d after refused writes, want %d", got, n)
	}
}

// TestCasesBodyLimit: a body over Server.MaxBody is 413, read no further.
func TestCasesBodyLimit(t *testing.T) {
	e := casesSetup(t)
	n := e.treeSize(t)
	body := `{"name":"x","description":"` + strings.Repeat("a", 5<<20) + `"}`
	r := e.do(t, "POST", "/api/v1/parties", e.ivan, body)
	if r.code != 413 || r.errMsg(t) != "request too large" {
		t.Errorf("%d %s", r.code, r.body)
	}
	if r := e.do(t, "POST", "/api/v1/parties", e.ivan, `{"name":"x"}`, "Content-Type", "text/plain"); r.code != 415 {
		t.Errorf("text/plain: %d %s", r.code, r.body)
	}
	if e.treeSize(t) != n {
		t.Error("stored something")
	}
}

// TestCasesScriptInert: markup is stored as text and served only as JSON
// that no browser sniffs into HTML.
func TestCasesScriptInert(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	const quote = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	body, _ := json.Marshal(map[string]any{"act": ids["acts"], "source": ids["sources"], "stance": "affirms", "credibility": 3, "quote": quote})
	id := e.create(t, e.ivan, "claims", string(body))
	for _, path := range []string{"/api/v1/claims/" + id, "/api/v1/claims", "/api/v1/claims/" + id + "/versions"} {
		r := e.do(t, "GET", path, e.analyst, "")
		if r.code != 200 || r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %q %q", path, r.code, r.header.Get("Content-Type"), r.header.Get("X-Content-Type-Options"))
		}
		if strings.Contains(string(r.body), "<script>") || !strings.Contains(string(r.body), `\u003cscript\u003e`) {
			t.Errorf("%s: markup not escaped: %s", path, r.body)
		}
	}
	var rec api.Record[vigil.Claim]
	r := e.do(t, "GET", "/api/v1/claims/"+id, e.analyst, "")
	if err := json.Unmarshal(r.body, &rec); err != nil || rec.Document.Quote != quote {
		t.Errorf("quote not stored as given: %q %v", rec.Document.Quote, err)
	}
}

// TestCasesRoles: analysts read but do not write and do not see private
// fields; intake staff do not read cases; a token checked while sealed
// gets 503.
func TestCasesRoles(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	n := e.treeSize(t)
	for plural, id := range ids {
		if r := e.do(t, "GET", "/api/v1/"+plural+"/"+id, e.analyst, ""); r.code != 200 {
			t.Errorf("analyst GET %s: %d", plural, r.code)
		}
		for _, path := range []string{"/api/v1/" + plural, "/api/v1/" + plural + "/" + id, "/api/v1/" + plural + "/" + id + "/versions"} {
			if r := e.do(t, "GET", path, e.intake, ""); r.code != 403 {
				t.Errorf("intake GET %s: %d %s", path, r.code, r.body)
			}
		}
	}
	if r := e.do(t, "POST", "/api/v1/parties", e.analyst, `{"name":"x"}`); r.code != 403 {
		t.Errorf("analyst POST: %d %s", r.code, r.body)
	}
	if r := e.do(t, "PUT", "/api/v1/parties/"+ids["parties"], e.analyst, `{"name":"x"}`, "If-Match", `"1"`); r.code != 403 {
		t.Errorf("analyst PUT: %d %s", r.code, r.body)
	}
	for _, path := range []string{"/api/v1/acts/status", "/api/v1/figures"} {
		if r := e.do(t, "GET", path, e.intake, ""); r.code != 403 {
			t.Errorf("intake %s: %d", path, r.code)
		}
		if r := e.do(t, "GET", path, e.analyst, ""); r.code != 200 {
			t.Errorf("analyst %s: %d", path, r.code)
		}
	}
	if e.treeSize(t) != n {
		t.Error("refused writes stored something")
	}
	person := "/api/v1/persons/" + ids["persons"]
	for _, path := range []string{person, person + "/versions", "/api/v1/persons"} {
		if r := e.do(t, "GET", path, e.analyst, ""); strings.Contains(string(r.body), "Secretname") || strings.Contains(string(r.body), "private") {
			t.Errorf("analyst sees private fields at %s: %s", path, r.body)
		}
		if r := e.do(t, "GET", path, e.ivan, ""); !strings.Contains(string(r.body), "Canary Secretname") {
			t.Errorf("investigator does not see private fields at %s: %s", path, r.body)
		}
	}
	e.d.Vault.Seal()
	if r := e.do(t, "GET", "/api/v1/acts/"+ids["acts"], e.ivan, ""); r.code != 503 || r.errMsg(t) != "vault sealed" {
		t.Errorf("sealed: %d %s", r.code, r.body)
	}
	if r := e.do(t, "GET", "/api/v1/acts", "", ""); r.code != 401 {
		t.Errorf("no token: %d", r.code)
	}
}

// TestCasesRestricted: an incident restricted to ivan, its acts and
// claims do not exist for olga (404, absent from lists and reports); the
// admin sees them.
func TestCasesRestricted(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	inc := e.create(t, e.ivan, "incidents", `{"title":"Secret","restricted":["ivan"]}`)
	act := e.create(t, e.ivan, "acts", `{"incident":"`+inc+`","type":"torture","victims":{"min":3,"max":3}}`)
	claim := e.create(t, e.ivan, "claims", `{"act":"`+act+`","source":"`+ids["sources"]+`","stance":"affirms","credibility":1}`)
	n := e.treeSize(t)
	hidden := []string{"/api/v1/incidents/" + inc, "/api/v1/acts/" + act, "/api/v1/claims/" + claim}
	for _, p := range hidden {
		for _, path := range []string{p, p + "/versions"} {
			if r := e.do(t, "GET", path, e.olga, ""); r.code != 404 {
				t.Errorf("olga GET %s: %d", path, r.code)
			}
			if r := e.do(t, "GET", path, e.analyst, ""); r.code != 404 {
				t.Errorf("analyst GET %s: %d", path, r.code)
			}
			for _, tok := range []string{e.ivan, e.admin} {
				if r := e.do(t, "GET", path, tok, ""); r.code != 200 {
					t.Errorf("GET %s: %d", path, r.code)
				}
			}
		}
	}
	if r := e.do(t, "PUT", "/api/v1/incidents/"+inc, e.olga, `{"title":"mine now"}`, "If-Match", `"1"`); r.code != 404 {
		t.Errorf("olga PUT: %d %s", r.code, r.body)
	}
	if r := e.do(t, "POST", "/api/v1/acts", e.olga, `{"incident":"`+inc+`","type":"torture","victims":{"min":1,"max":1}}`); r.code != 400 || r.fields(t)[0] != "incident: no such incident" {
		t.Errorf("olga POST into it: %d %s", r.code, r.body)
	}
	for _, path := range []string{"/api/v1/incidents", "/api/v1/acts", "/api/v1/claims", "/api/v1/acts/status", "/api/v1/figures?by=incident"} {
		if r := e.do(t, "GET", path, e.olga, ""); r.code != 200 || strings.Contains(string(r.body), inc) || strings.Contains(string(r.body), act) || strings.Contains(string(r.body), claim) {
			t.Errorf("olga %s: %d %s", path, r.code, r.body)
		}
		if r := e.do(t, "GET", path, e.ivan, ""); r.code != 200 || !strings.Contains(string(r.body), act) && !strings.Contains(string(r.body), inc) {
			t.Errorf("ivan %s: %d %s", path, r.code, r.body)
		}
	}
	if e.treeSize(t) != n {
		t.Error("refused writes stored something")
	}
}

// TestCasesStatusFigures: acts/status and figures say what the claims
// establish.
func TestCasesStatusFigures(t *testing.T) {
	e := casesSetup(t)
	ids := e.world(t)
	// A second origin corroborates the act; the first (B2) confirms it.
	src2 := e.create(t, e.ivan, "sources", `{"name":"Newspaper","type":"media","reliability":"C"}`)
	e.create(t, e.ivan, "claims", `{"act":"`+ids["acts"]+`","source":"`+src2+`","stance":"partially_affirms","credibility":3}`)
	r := e.do(t, "GET", "/api/v1/acts/status", e.analyst, "")
	var sp api.StatusPage
	if err := json.Unmarshal(r.body, &sp); err != nil || r.code != 200 || len(sp.Items) != 1 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	st := sp.Items[0]
	if st.ID.String() != ids["acts"] || st.Type != "arbitrary_detention" || st.Status != "confirmed" || st.Flags == nil ||
		st.Explanation.EN == "" || st.Explanation.RU == "" {
		t.Errorf("status: %s", r.body)
	}
	r = e.do(t, "GET", "/api/v1/figures?by=type", e.analyst, "")
	var fl api.FigureList
	if err := json.Unmarshal(r.body, &fl); err != nil || r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if f := fl.Figures["arbitrary_detention"]; fl.By != "type" || f.ConfirmedAtLeast != 2 || f.ReportedUpTo != 5 {
		t.Errorf("figures: %s", r.body)
	}
	if r := e.do(t, "GET", "/api/v1/figures?by=colour", e.analyst, ""); r.code != 400 || r.fields(t)[0] != "by: not one of type, month, place, incident" {
		t.Errorf("by=colour: %d %s", r.code, r.body)
	}
	if r := e.do(t, "GET", "/api/v1/acts/status?limit=0", e.analyst, ""); r.code != 400 {
		t.Errorf("limit=0: %d", r.code)
	}
}
