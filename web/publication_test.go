package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/advisory"
	"github.com/vigil-hr/vigil/stats"
	"github.com/vigil-hr/vigil/web"
)

var admin = vigil.Principal{Actor: "cli", Account: "cli", Role: vigil.RoleAdmin}

func pget(t *testing.T, srv *httptest.Server, path string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestPublicationSealed publishes an advisory, a withdrawal and
// statistics, seals the vault, and reads every public publication route:
// they work sealed, carry the strict headers, no script, and what they
// serve verifies with the advisory_vkey of /.well-known/vigil.json.
func TestPublicationSealed(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	keep, err := d.Advisories.Create(ctx, admin, []advisory.Text{{Lang: "en", Body: "Leave the Kirovsky district before Friday."}, {Lang: "ru", Body: "Покиньте Кировский район до пятницы."}}, time.Time{}, time.Now().Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	gone, err := d.Advisories.Create(ctx, admin, []advisory.Text{{Lang: "en", Body: "A <b>mistaken</b> warning & more."}}, time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Advisories.Withdraw(ctx, admin, gone.ID, nil); err != nil {
		t.Fatal(err)
	}
	region := vigil.NewID()
	table := stats.Table{K: 5, RegionLevel: 1, Regions: map[string]string{region.String(): "Veresk Region"}, Figures: []stats.Figure{
		{Key: stats.Key{Type: stats.All, Month: stats.All, Region: stats.All}, Acts: 3, ConfirmedAtLeast: 20, ReportedUpTo: 40},
		{Key: stats.Key{Type: "arbitrary_detention", Month: stats.All, Region: region.String()}, Acts: 2, ConfirmedAtLeast: 20, ReportedUpTo: 38, Leaves: []int64{3, 5, 7}},
		{Key: stats.Key{Type: "torture", Month: stats.All, Region: region.String()}, Suppressed: true},
	}}
	if _, _, err := stats.Publish(ctx, d.StatsDir, d.Store, d.Vault, admin, table, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	d.Vault.Seal()

	opt := web.Options{Publication: web.Publication{Advisories: d.AdvisoryDir, Stats: d.StatsDir}}
	srv := httptest.NewServer(web.NewPublic(d, web.Keys{Origin: d.Config.Origin, LogVKey: d.Config.LogVKey, AgeRecipient: d.Config.Recipient, AdvisoryVKey: d.Config.AdvisoryVKey}, d.Intake, opt))
	t.Cleanup(srv.Close)

	_, _, wk := pget(t, srv, "/.well-known/vigil.json")
	var keys struct {
		AdvisoryVKey string `json:"advisory_vkey"`
	}
	json.Unmarshal([]byte(wk), &keys)
	v, err := note.NewVerifier(keys.AdvisoryVKey)
	if err != nil {
		t.Fatalf("advisory_vkey in vigil.json: %v", err)
	}

	for _, path := range []string{"/advisories", "/advisories?lang=ru", "/advisories/check", "/advisories/check?lang=ru", "/advisories.atom", "/advisories.json",
		"/advisories/" + keep.ID.String() + ".txt", "/advisories/index.txt", "/stats", "/stats?lang=ru", "/stats.txt", "/stats.json", "/stats.csv"} {
		code, h, body := pget(t, srv, path)
		if code != 200 {
			t.Errorf("%s: %d %s", path, code, body)
			continue
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("Set-Cookie") != "" {
			t.Errorf("%s: headers %v", path, h)
		}
		if strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, "<b>mistaken") {
			t.Errorf("%s: script or unescaped markup", path)
		}
	}
	_, _, page := pget(t, srv, "/advisories?lang=ru")
	if !strings.Contains(page, "Покиньте Кировский район до пятницы.") || !strings.Contains(page, "ОТОЗВАНО") || !strings.Contains(page, "Как проверить") {
		t.Errorf("/advisories?lang=ru:\n%s", page)
	}
	_, _, page = pget(t, srv, "/advisories")
	if !strings.Contains(page, "WITHDRAWN") || !strings.Contains(html.UnescapeString(page), keys.AdvisoryVKey) {
		t.Errorf("/advisories does not mark the withdrawn one or show the key")
	}
	_, _, txt := pget(t, srv, "/advisories/"+keep.ID.String()+".txt")
	if a, err := advisory.Open([]byte(txt), v); err != nil || a.ID != keep.ID {
		t.Errorf("served advisory: %v", err)
	}
	_, _, idx := pget(t, srv, "/advisories/index.txt")
	x, err := advisory.OpenIndex([]byte(idx), v)
	if err != nil {
		t.Fatal(err)
	}
	ga, _ := advisory.Open(mustGet(t, srv, "/advisories/"+gone.ID.String()+".txt"), v)
	if err := advisory.Check(ga, time.Now(), &x); err == nil {
		t.Error("the withdrawn advisory passes Check with the served list")
	}
	_, h, atom := pget(t, srv, "/advisories.atom")
	if !strings.HasPrefix(h.Get("Content-Type"), "application/atom+xml") {
		t.Errorf("atom content type %q", h.Get("Content-Type"))
	}
	var feed struct {
		XMLName xml.Name
		Entries []struct {
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(atom), &feed); err != nil || feed.XMLName.Space != "http://www.w3.org/2005/Atom" || len(feed.Entries) != 3 {
		t.Errorf("atom: %v %v %d", err, feed.XMLName, len(feed.Entries))
	}
	var fj advisory.FeedJSON
	if err := json.Unmarshal([]byte(mustGetS(t, srv, "/advisories.json")), &fj); err != nil || len(fj.Advisories) != 3 || fj.Index == "" {
		t.Errorf("json feed: %v", err)
	}

	_, _, sp := pget(t, srv, "/stats")
	if !strings.Contains(sp, "<svg") || !strings.Contains(sp, "fewer than 5, or hidden") || !strings.Contains(sp, "Veresk Region") {
		t.Errorf("/stats:\n%s", sp)
	}
	if _, err := stats.Open(mustGet(t, srv, "/stats.txt"), v); err != nil {
		t.Errorf("/stats.txt: %v", err)
	}
	rows, err := csv.NewReader(strings.NewReader(mustGetS(t, srv, "/stats.csv"))).ReadAll()
	if err != nil || len(rows) != 4 || rows[3][4] != "true" || rows[3][7] != "" {
		t.Errorf("csv: %v %v", err, rows)
	}

	// A tampered public file is not served as genuine.
	f := filepath.Join(string(d.AdvisoryDir), keep.ID.String()+".txt")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, []byte(strings.Replace(string(b), "Friday", "Monday", 1)), 0o644)
	if code, _, _ := pget(t, srv, "/advisories/"+keep.ID.String()+".txt"); code != 404 {
		t.Errorf("tampered advisory served: %d", code)
	}
	if code, _, _ := pget(t, srv, "/advisories"); code != 500 {
		t.Errorf("tampered directory listed: %d", code)
	}
	if code, _, _ := pget(t, srv, "/advisories/nonsense.txt"); code != 404 {
		t.Errorf("nonsense: %d", code)
	}
}

func mustGet(t *testing.T, srv *httptest.Server, path string) []byte {
	return []byte(mustGetS(t, srv, path))
}

func mustGetS(t *testing.T, srv *httptest.Server, path string) string {
	t.Helper()
	code, _, body := pget(t, srv, path)
	if code != 200 {
		t.Fatalf("%s: %d", path, code)
	}
	return body
}
