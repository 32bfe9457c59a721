package staffweb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/staffweb"
	"github.com/vigil-hr/vigil/vocab"
)

// benchRecords is the size of the insight benchmark's data directory.
const benchRecords = 100_000

// benchDirVersion names the generator: change it when benchChanges
// changes, so that an old cached directory is not reused.
const benchDirVersion = "insight-v1"

// benchChanges returns n case records in the proportions of bench/cases
// (1% places, 0.5% parties, 3% sources, 8% persons, 1.5% incidents, 26%
// acts, the rest claims), a tenth of the incidents restricted to one
// account, and the person "Ахмед".
func benchChanges(n int) []cases.Change {
	r := rand.New(rand.NewPCG(7, 11))
	var out []cases.Change
	add := func(doc cases.Doc) vigil.ID {
		var id vigil.ID
		for j := range id {
			id[j] = byte(r.Uint32())
		}
		out = append(out, cases.Change{ID: id, Doc: doc})
		return id
	}
	pick := func(ids []vigil.ID) vigil.ID { return ids[r.IntN(len(ids))] }
	share := func(per int) int { return max(1, n*per/1000) }
	words := strings.Fields("задержали отвезли в отдел полиции держали несколько дней избивали требовали назвать имена detained taken to the police station held for several days beaten forced to name acquaintances")
	text := func(size int) string {
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		return strings.TrimSpace(b.String())
	}
	month := func() vigil.Date {
		d, _ := vigil.NewDate(2015+r.IntN(10), 1+r.IntN(12), 0)
		return d
	}
	var places, sources, persons, incidents, acts []vigil.ID
	for i := range share(10) {
		p := vigil.Place{Names: map[string]string{"ru": fmt.Sprintf("Район %d", i), "en": fmt.Sprintf("District %d", i)}}
		if i >= share(10)/20 {
			p.Parent = pick(places[:max(1, share(10)/20)])
		}
		places = append(places, add(p))
	}
	for i := range share(5) {
		add(vigil.Party{Name: fmt.Sprintf("Отдел полиции № %d", i)})
	}
	for i := range share(30) {
		sources = append(sources, add(vigil.Source{Name: fmt.Sprintf("Источник %d", i), Type: vigil.SourceWitness,
			Reliability: vigil.Reliability(string(rune('A' + r.IntN(6)))), Origin: fmt.Sprintf("origin %d", r.IntN(max(1, share(30)/2)))}))
	}
	persons = append(persons, add(vigil.Person{Pseudonym: "Ахмед"}))
	for i := range share(80) - 1 {
		persons = append(persons, add(vigil.Person{Pseudonym: fmt.Sprintf("П-%d", i)}))
	}
	incMonth := map[vigil.ID]vigil.Date{}
	for i := range share(15) {
		m := month()
		inc := vigil.Incident{Title: fmt.Sprintf("Волна задержаний %d", i), Description: text(300), Period: vigil.Period{From: m}, Place: pick(places)}
		if i%10 == 0 {
			inc.Restricted = []string{"someone else"}
		}
		id := add(inc)
		incidents, incMonth[id] = append(incidents, id), m
	}
	types := vocab.ActTypes()
	for range share(260) {
		inc := pick(incidents)
		lo := r.IntN(20)
		a := vigil.Act{Incident: inc, Type: types[r.IntN(len(types))].Code, Description: text(150), Period: vigil.Period{From: incMonth[inc]},
			Place: pick(places), Victims: vigil.VictimCount{Min: lo, Max: lo + 2 + r.IntN(50)}}
		if r.IntN(3) == 0 {
			a.VictimPersons = []vigil.ID{pick(persons)}
		}
		acts = append(acts, add(a))
	}
	for len(out) < n {
		st := vigil.Affirms
		if r.IntN(6) == 0 {
			st = vigil.Denies
		}
		add(vigil.Claim{Act: pick(acts), Source: pick(sources), Stance: st, Credibility: vigil.Credibility(1 + r.IntN(6)), Quote: text(200), Date: month()})
	}
	return out
}

// benchDir opens the benchmark's data directory under os.TempDir,
// generating it through the cases service the first time (minutes).
func benchDir(b *testing.B) *datadir.Dir {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("vigil-bench-%s-%d", benchDirVersion, benchRecords))
	done := filepath.Join(path, "..", filepath.Base(path)+".done")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(path)
		if _, err := datadir.Init(path, []byte(vaultPass), datadir.Options{WorkFactor: 10}); err != nil {
			b.Fatal(err)
		}
		d, err := datadir.Open(ctx, path)
		must(b, err)
		must(b, d.Vault.Unseal([]byte(vaultPass)))
		changes := benchChanges(benchRecords)
		start := time.Now()
		for i := 0; i < len(changes); i += 1000 {
			if _, err := d.Cases.Apply(ctx, writer, changes[i:min(i+1000, len(changes))]); err != nil {
				b.Fatalf("batch at %d: %v", i, err)
			}
		}
		b.Logf("generated %d records in %v", len(changes), time.Since(start).Round(time.Second))
		must(b, d.Close())
		must(b, os.WriteFile(done, nil, 0o644))
	}
	d, err := datadir.Open(ctx, path)
	must(b, err)
	b.Cleanup(func() { d.Close() })
	must(b, d.Vault.Unseal([]byte(vaultPass)))
	must(b, d.Cases.Load(ctx))
	return d
}

// BenchmarkInsightPages measures the server time and size of the search,
// figures and audit pages over 100,000 case records (and their 100,000
// audit events), signed in as an admin. Run with -benchtime 3x: the first
// run generates the data directory.
func BenchmarkInsightPages(b *testing.B) {
	d := benchDir(b)
	c := &clock{}
	accts := &account.Accounts{Store: d.Store, Vault: d.Vault, Salt: d.Config.ReceiptSalt, NameParams: fast, LoginParams: fast, Now: c.Now, Audit: d.Intake.Audit}
	s := &account.Sessions{Accounts: accts, Now: c.Now, Insecure: true}
	srv := &staffweb.Server{Sessions: s, Vault: d.Vault, Inbox: d.Intake, Tokens: &auth.Tokens{Store: d.Store, Vault: d.Vault, Audit: d.Intake.Audit}, Cases: d.Cases,
		Audit: &audit.Trail{Store: d.Store, Vault: d.Vault}}
	e := &env{d: d, clock: c, accounts: accts, sessions: s, srv: srv, h: srv.Handler()}
	name := fmt.Sprintf("Bench %d", time.Now().UnixNano())
	e.account(b, name, vigil.RoleAdmin, "en", "a long benchmark passphrase")
	cl := newClient(b, e.serve(b))
	e.signIn(b, cl, name, "a long benchmark passphrase", nil)

	page := func(b *testing.B, path string, before func()) {
		var bytes int
		var total time.Duration
		for b.Loop() {
			if before != nil {
				b.StopTimer()
				before()
				b.StartTimer()
			}
			start := time.Now()
			r := cl.get(path)
			total += time.Since(start)
			if r.status != http.StatusOK {
				b.Fatalf("%s: %d", path, r.status)
			}
			bytes = len(r.body)
		}
		b.ReportMetric(float64(bytes), "bytes/page")
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/page")
	}
	write := func() {
		_, err := d.Cases.Apply(context.Background(), writer, []cases.Change{{Doc: vigil.Person{Pseudonym: "new " + vigil.NewID().String()}}})
		must(b, err)
	}
	for _, q := range []string{"Akhmed", "detained"} {
		_, loc := cl.search(url.Values{"q": {q}})
		b.Run("search-"+q, func(b *testing.B) { page(b, loc, nil) })
	}
	// A claim changes one act's result: the page counts that act again.
	// A place may change every act's lineage: the page counts them all.
	acts, err := d.Cases.List(context.Background(), writer, cases.KindAct, vigil.ID{}, 100)
	must(b, err)
	srcs, err := d.Cases.List(context.Background(), writer, cases.KindSource, vigil.ID{}, 10)
	must(b, err)
	claim := func() {
		_, err := d.Cases.Apply(context.Background(), writer, []cases.Change{{Doc: vigil.Claim{Act: acts[rand.IntN(len(acts))].ID,
			Source: srcs[rand.IntN(len(srcs))].ID, Stance: vigil.Affirms, Credibility: 2}}})
		must(b, err)
	}
	place := func() {
		_, err := d.Cases.Apply(context.Background(), writer, []cases.Change{{Doc: vigil.Place{Names: map[string]string{"en": "new " + vigil.NewID().String()}}}})
		must(b, err)
	}
	start := time.Now()
	cl.get("/figures")
	b.Logf("figures: first count of every act in %v", time.Since(start).Round(time.Millisecond))
	b.Run("figures-after-claim", func(b *testing.B) { page(b, "/figures", claim) })
	b.Run("figures-after-person", func(b *testing.B) { page(b, "/figures", write) })
	b.Run("figures-after-place", func(b *testing.B) { page(b, "/figures", place) })
	b.Run("figures-cached", func(b *testing.B) { page(b, "/figures", nil) })
	start = time.Now()
	cl.get("/audit")
	b.Logf("audit trail index built in %v", time.Since(start).Round(time.Millisecond))
	b.Run("audit-first-page", func(b *testing.B) { page(b, "/audit", nil) })
	b.Run("audit-after-write", func(b *testing.B) { page(b, "/audit", write) })
}
