package staffweb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/staffweb"
	"github.com/vigil-hr/vigil/vocab"
)

// benchVersion keys the cached data directory of BenchmarkRecordPages:
// change it when the generator changes.
const benchVersion = "vigil-bench-records-v1"

// The mix of the 100,000 generated case records.
const (
	benchRegions, benchDistricts, benchVillages = 20, 200, 1780
	benchMinistries, benchUnits                 = 20, 480
	benchPersons, benchSources                  = 5000, 1000
	benchIncidents, benchActsPer                = 10000, 4
	benchExtraClaims                            = 1500
)

// benchData returns a data directory holding 100,000 case records written
// through the cases service, generated once and kept under os.TempDir.
func benchData(b *testing.B) string {
	root := filepath.Join(os.TempDir(), benchVersion)
	data := filepath.Join(root, "data")
	if _, err := os.Stat(filepath.Join(root, "done")); err == nil {
		return data
	}
	must(b, os.RemoveAll(root))
	must(b, os.MkdirAll(root, 0o700))
	_, err := datadir.Init(data, []byte(vaultPass), datadir.Options{WorkFactor: 10})
	must(b, err)
	d, err := datadir.Open(context.Background(), data)
	must(b, err)
	defer d.Close()
	must(b, d.Vault.Unseal([]byte(vaultPass)))
	start := time.Now()
	n := generate(b, d.Cases)
	b.Logf("generated %d case records in %s", n, time.Since(start).Round(time.Second))
	must(b, os.WriteFile(filepath.Join(root, "done"), nil, 0o600))
	return data
}

// generate writes a realistic mix of case records: places in three
// levels, ministries with their units, people under pseudonyms (half with
// private names), sources of every type, incidents (5% restricted to
// another account) with four acts each, and claims for and against.
func generate(b *testing.B, s *cases.Service) int {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	var batch []cases.Change
	total := 0
	flush := func(force bool) {
		if len(batch) >= 2000 || force && len(batch) > 0 {
			_, err := s.Apply(ctx, cli, batch)
			must(b, err)
			total += len(batch)
			batch = batch[:0]
		}
	}
	add := func(doc cases.Doc) vigil.ID {
		id := vigil.NewID()
		batch = append(batch, cases.Change{ID: id, Doc: doc})
		flush(false)
		return id
	}
	pick := func(ids []vigil.ID) vigil.ID { return ids[rng.IntN(len(ids))] }
	var regions, districts, villages, ministries, units, persons, sources []vigil.ID
	for i := range benchRegions {
		regions = append(regions, add(vigil.Place{Names: map[string]string{"en": fmt.Sprintf("Region %d", i), "ru": fmt.Sprintf("Регион %d", i)}, Kind: "region"}))
	}
	flush(true)
	for i := range benchDistricts {
		districts = append(districts, add(vigil.Place{Names: map[string]string{"en": fmt.Sprintf("District %d", i), "ru": fmt.Sprintf("Район %d", i)}, Kind: "district", Parent: pick(regions)}))
	}
	flush(true)
	for i := range benchVillages {
		villages = append(villages, add(vigil.Place{Names: map[string]string{"en": fmt.Sprintf("Village %d", i), "ru": fmt.Sprintf("Село %d", i)}, Kind: "village", Parent: pick(districts),
			Coordinates: &vigil.Coordinates{Lat: 42 + rng.Float64(), Lon: 45 + rng.Float64()}}))
	}
	for i := range benchMinistries {
		ministries = append(ministries, add(vigil.Party{Name: fmt.Sprintf("Ministry %d", i)}))
	}
	flush(true)
	for i := range benchUnits {
		units = append(units, add(vigil.Party{Name: fmt.Sprintf("Police unit %d", i), Parent: pick(ministries)}))
	}
	for i := range benchPersons {
		p := vigil.Person{Pseudonym: fmt.Sprintf("Person %d", i)}
		if i%2 == 0 {
			p.Private = &vigil.PersonPrivate{Names: []vigil.PersonName{{Script: "Cyrl", Name: fmt.Sprintf("Иван Петров %d", i)}, {Script: "Latn", Name: fmt.Sprintf("Ivan Petrov %d", i)}}}
		}
		persons = append(persons, add(p))
	}
	types := []vigil.SourceType{vigil.SourceVictim, vigil.SourceWitness, vigil.SourceNGO, vigil.SourceMedia, vigil.SourceOfficial, vigil.SourceSocialMedia}
	for i := range benchSources {
		src := vigil.Source{Name: fmt.Sprintf("Source %d", i), Type: types[i%len(types)], Reliability: vigil.Reliability(rune('A' + rng.IntN(6)))}
		if i%5 == 0 {
			src.Origin = fmt.Sprintf("hotline %d", i%17)
		}
		if src.Type == vigil.SourceOfficial {
			src.Party = pick(ministries)
		}
		sources = append(sources, add(src))
	}
	flush(true)
	acts := vocab.ActTypes()
	var actIDs []vigil.ID
	for i := range benchIncidents {
		from, _ := vigil.NewDate(2022+rng.IntN(4), 1+rng.IntN(12), 1+rng.IntN(28))
		inc := vigil.Incident{Title: fmt.Sprintf("Incident %d: detentions and beatings in a village", i),
			Description: "A wave of detentions after a protest; several people were beaten in custody and released days later.",
			Period:      vigil.Period{From: from}, Place: pick(districts)}
		if i%20 == 0 {
			inc.Restricted = []string{"someone else"}
		}
		incID := add(inc)
		for range benchActsPer {
			a := vigil.Act{Incident: incID, Type: acts[rng.IntN(len(acts))].Code, Description: "Detained at the market and taken to the district police station.",
				Period: vigil.Period{From: from}, Place: pick(villages), Perpetrators: []vigil.ID{pick(units)}}
			for range rng.IntN(3) {
				p := pick(persons)
				if len(a.VictimPersons) == 0 || a.VictimPersons[0] != p {
					a.VictimPersons = append(a.VictimPersons, p)
				}
			}
			a.Victims = vigil.VictimCount{Min: len(a.VictimPersons) + rng.IntN(3), Max: len(a.VictimPersons) + 3 + rng.IntN(10)}
			actIDs = append(actIDs, add(a))
		}
	}
	flush(true)
	for i, act := range actIDs {
		add(vigil.Claim{Act: act, Source: pick(sources), Stance: vigil.Affirms, Credibility: vigil.Credibility(1 + rng.IntN(6)), Quote: "They took my brother from the market at noon."})
		if i < benchExtraClaims {
			add(vigil.Claim{Act: act, Source: pick(sources), Stance: vigil.Denies, Credibility: 6, Quote: "No such events took place."})
		}
	}
	flush(true)
	return total
}

// BenchmarkRecordPages measures the server time and size of the incident
// list and an incident page (also an act page, the people list and a
// place's and a party's page, which scan the acts for those naming them) with
// 100,000 case records loaded, as an investigator. Targets: < 100 ms and
// < 200 KB per page.
func BenchmarkRecordPages(b *testing.B) {
	data := benchData(b)
	d, err := datadir.Open(context.Background(), data)
	must(b, err)
	b.Cleanup(func() { d.Close() })
	must(b, d.Vault.Unseal([]byte(vaultPass)))
	c := &clock{}
	accts := &account.Accounts{Store: d.Store, Vault: d.Vault, Salt: d.Config.ReceiptSalt, NameParams: fast, LoginParams: fast, Now: c.Now, Audit: d.Intake.Audit}
	sess := &account.Sessions{Accounts: accts, Now: c.Now, Insecure: true}
	srv := &staffweb.Server{Sessions: sess, Vault: d.Vault, Inbox: d.Intake, Tokens: &auth.Tokens{Store: d.Store, Vault: d.Vault, Audit: d.Intake.Audit}, Cases: d.Cases}
	e := &env{d: d, clock: c, accounts: accts, sessions: sess, srv: srv, h: srv.Handler()}
	name := "Bench " + vigil.NewID().String()[:8] // the cached directory keeps earlier runs' accounts
	e.account(b, name, vigil.RoleInvestigator, "en", "benchmark passphrase")
	ts := httptest.NewServer(e.h)
	b.Cleanup(ts.Close)
	cl := newClient(b, ts.URL)
	start := time.Now()
	e.signIn(b, cl, name, "benchmark passphrase", nil) // loads the model
	b.Logf("sign-in with the model's load: %s", time.Since(start).Round(time.Millisecond))
	u, _ := url.Parse(ts.URL)
	cookies := cl.hc.Jar.Cookies(u)

	p := vigil.Principal{Actor: "bench", Account: name, Role: vigil.RoleInvestigator}
	incs, err := d.Cases.List(b.Context(), p, cases.KindIncident, vigil.ID{}, 500)
	must(b, err)
	inc := incs[len(incs)/2].ID
	acts, err := d.Cases.Children(b.Context(), p, inc)
	must(b, err)
	pages := []struct{ name, path string }{
		{"incidents", "/incidents"},
		{"incidents-page-2", "/incidents?after=" + incs[49].ID.String()},
		{"incident", "/incidents/" + inc.String()},
		{"act", "/acts/" + acts[0].ID.String()},
		{"people", "/people"},
		{"place", "/places/" + acts[0].Doc.(vigil.Act).Place.String()},
		{"party", "/parties/" + acts[0].Doc.(vigil.Act).Perpetrators[0].String()},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				req := httptest.NewRequest("GET", ts.URL+pg.path, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
			if size > 200<<10 {
				b.Errorf("%s is %d bytes, over 200 KB", pg.path, size)
			}
		})
	}
}
