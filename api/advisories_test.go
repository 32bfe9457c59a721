package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/advisory"
	"github.com/vigil-hr/vigil/api"
)

// TestAdvisoriesAPI: an admin creates and withdraws advisories; other
// roles may list but not publish; bad input is refused and stores
// nothing; what is published verifies with the publication key.
func TestAdvisoriesAPI(t *testing.T) {
	e := casesSetup(t)
	e.api.Advisories = e.d.Advisories
	until := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	body := `{"texts":[{"lang":"en","text":"Leave the district."},{"lang":"ru","text":"Покиньте район."}],"valid_until":"` + until + `"}`

	if r := e.do(t, "POST", "/api/v1/advisories", e.ivan, body); r.code != 403 {
		t.Fatalf("investigator publishes: %d %s", r.code, r.body)
	}
	size := e.treeSize(t)
	for _, bad := range []string{
		`{"texts":[{"lang":"en","text":"x"}]}`,
		`{"texts":[],"valid_until":"` + until + `"}`,
		`{"texts":[{"lang":"en","text":"a\n\nb"}],"valid_until":"` + until + `"}`,
		`{"texts":[{"lang":"en","text":"x"}],"valid_until":"` + until + `","extra":1}`,
	} {
		if r := e.do(t, "POST", "/api/v1/advisories", e.admin, bad); r.code != 400 {
			t.Errorf("%s: %d %s", bad, r.code, r.body)
		}
	}
	if e.treeSize(t) != size {
		t.Fatal("refused requests stored something")
	}
	r := e.do(t, "POST", "/api/v1/advisories", e.admin, body)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	var it advisory.FeedItem
	json.Unmarshal(r.body, &it)
	v, _ := note.NewVerifier(e.d.Config.AdvisoryVKey)
	if a, err := advisory.Open([]byte(it.Note), v); err != nil || a.ID.String() != it.ID || it.Status != "current" {
		t.Fatalf("created advisory: %v %+v", err, it)
	}
	if e.treeSize(t) != size+2 {
		t.Errorf("create added %d leaves, want 2 (advisory and audit event)", e.treeSize(t)-size)
	}
	if r := e.do(t, "POST", "/api/v1/advisories/"+it.ID+"/withdraw", e.admin, `{}`); r.code != 201 || !strings.Contains(string(r.body), `"withdraws": "`+it.ID) && !strings.Contains(string(r.body), `"withdraws":"`+it.ID) {
		t.Fatalf("withdraw: %d %s", r.code, r.body)
	}
	if r := e.do(t, "POST", "/api/v1/advisories/"+it.ID+"/withdraw", e.admin, `{}`); r.code != 409 {
		t.Errorf("second withdrawal: %d %s", r.code, r.body)
	}
	r = e.do(t, "GET", "/api/v1/advisories", e.analyst, "")
	var list api.AdvisoryList
	if err := json.Unmarshal(r.body, &list); err != nil || r.code != 200 || len(list.Advisories) != 2 {
		t.Fatalf("list: %d %s", r.code, r.body)
	}
	for _, a := range list.Advisories {
		if a.ID == it.ID && a.Status != "withdrawn" {
			t.Errorf("withdrawn advisory listed as %s", a.Status)
		}
	}
	e.d.Vault.Seal()
	if r := e.do(t, "POST", "/api/v1/advisories", e.admin, body); r.code != 503 && r.code != 401 {
		t.Errorf("sealed create: %d %s", r.code, r.body)
	}
}
