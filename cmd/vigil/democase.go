package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// The demo's worked example: a fictional wave of detentions modelled on
// public reporting of such waves. Every place, party, source and person in
// it is invented; persons have pseudonyms only. docs/demo-case.md lists
// what each act's claims establish and the figures, and TestDemoCase
// checks that the two agree.

// demoCase is a batch of keyed records under construction: each record gets
// its ID first, so later records refer to earlier ones by key.
type demoCase struct {
	ids     map[string]vigil.ID
	changes []cases.Change
}

func (c *demoCase) add(key string, doc cases.Doc) {
	id := vigil.NewID()
	c.ids[key] = id
	c.changes = append(c.changes, cases.Change{ID: id, Key: key, Doc: doc, Path: key})
}

// id returns the ID of the record with key; the keys are the code's own,
// so a missing one is a bug in this file.
func (c *demoCase) id(key string) vigil.ID {
	id, ok := c.ids[key]
	if !ok {
		panic("demo case: no record " + key)
	}
	return id
}

func (c *demoCase) ref(keys ...string) []vigil.ID {
	out := make([]vigil.ID, len(keys))
	for i, k := range keys {
		out[i] = c.id(k)
	}
	return out
}

func demoDate(s string) vigil.Date {
	d, err := vigil.ParseDate(s)
	if err != nil {
		panic("demo case: " + err.Error())
	}
	return d
}

func demoPeriod(from, to string) vigil.Period {
	p := vigil.Period{From: demoDate(from)}
	if to != "" {
		p.To = demoDate(to)
	}
	return p
}

// demoCaseChanges returns the worked example as one batch. evidence is the
// evidence item (the sample testimony) linked to victim V-1's account.
func demoCaseChanges(evidence vigil.ID) []cases.Change {
	c := &demoCase{ids: map[string]vigil.ID{}}

	// Places: a region, its capital, a district of the capital.
	c.add("region", vigil.Place{Kind: "region",
		Names: map[string]string{"en": "Veresk Region", "ru": "Вересковская область"}})
	c.add("veresk", vigil.Place{Kind: "city", Parent: c.id("region"),
		Names: map[string]string{"en": "Veresk", "ru": "Вереск"}})
	c.add("zarechny", vigil.Place{Kind: "district", Parent: c.id("veresk"),
		Names: map[string]string{"en": "Zarechny district", "ru": "Заречный район"}})

	// Parties: the ministry and its police unit (the perpetrators), an
	// NGO's hotline, two newspapers, and the regional head's office, which
	// the party tree does not link to the ministry.
	c.add("ministry", vigil.Party{Name: "Ministry of Internal Affairs of the Veresk Region"})
	c.add("zarechny-police", vigil.Party{Name: "Zarechny district police department", Parent: c.id("ministry")})
	c.add("rainbow-line", vigil.Party{Name: "Rainbow Line (NGO hotline)"})
	c.add("courier", vigil.Party{Name: "Veresk Courier (newspaper)"})
	c.add("evening", vigil.Party{Name: "Evening Veresk (newspaper)"})
	c.add("head-office", vigil.Party{Name: "Office of the Head of the Veresk Region"})

	// Sources. The hotline relays V-1's and V-2's testimonies: same
	// origins, counted once. Evening Veresk reprints the Courier: same
	// origin, counted once.
	c.add("src-v1", vigil.Source{Name: "Anonymous testimony V-1", Type: vigil.SourceVictim,
		Reliability: vigil.ReliabilityC, Origin: "testimony V-1"})
	c.add("src-v2", vigil.Source{Name: "Anonymous testimony V-2", Type: vigil.SourceVictim,
		Reliability: vigil.ReliabilityC, Origin: "testimony V-2"})
	c.add("src-relative", vigil.Source{Name: "Relative of K-1 (anonymous)", Type: vigil.SourceWitness,
		Reliability: vigil.ReliabilityC, Origin: "relative of K-1"})
	c.add("src-hotline-v1", vigil.Source{Name: "Rainbow Line hotline, relaying testimony V-1", Type: vigil.SourceNGO,
		Reliability: vigil.ReliabilityB, Origin: "testimony V-1", Party: c.id("rainbow-line")})
	c.add("src-hotline-v2", vigil.Source{Name: "Rainbow Line hotline, relaying testimony V-2", Type: vigil.SourceNGO,
		Reliability: vigil.ReliabilityB, Origin: "testimony V-2", Party: c.id("rainbow-line")})
	c.add("src-courier", vigil.Source{Name: "Veresk Courier, investigative report", Type: vigil.SourceMedia,
		Reliability: vigil.ReliabilityB, Origin: "Veresk Courier report", Party: c.id("courier")})
	c.add("src-evening", vigil.Source{Name: "Evening Veresk, reprint of the Courier's report", Type: vigil.SourceMedia,
		Reliability: vigil.ReliabilityC, Origin: "Veresk Courier report", Party: c.id("evening")})
	c.add("src-ministry", vigil.Source{Name: "Press service of the regional Ministry of Internal Affairs", Type: vigil.SourceOfficial,
		Reliability: vigil.ReliabilityF, Party: c.id("ministry")})
	c.add("src-head", vigil.Source{Name: "Press secretary of the Head of the Region", Type: vigil.SourceOfficial,
		Reliability: vigil.ReliabilityF, Party: c.id("head-office")})

	// Persons: pseudonyms only, nothing private.
	c.add("V-1", vigil.Person{Pseudonym: "V-1"})
	c.add("V-2", vigil.Person{Pseudonym: "V-2"})
	c.add("K-1", vigil.Person{Pseudonym: "K-1"})

	c.add("spring-2017", vigil.Incident{
		Title:       "Wave of detentions of gay and bisexual men in the Veresk Region, spring 2017 (fictional)",
		Description: "Men suspected of being gay or bisexual were detained, held in unofficial places of detention, beaten and made to name others. A fictional case for the vigil demo.",
		Period:      demoPeriod("2017-02", "2017-05"),
		Place:       c.id("region"),
	})
	inc := c.id("spring-2017")
	police := c.ref("zarechny-police")

	c.add("detentions-zarechny", vigil.Act{Incident: inc, Type: "arbitrary_detention",
		Description: "Detentions in the former district police building in Zarechny; held for days without any record.",
		Period:      demoPeriod("2017-03", "2017-04"), Place: c.id("zarechny"),
		Victims: vigil.VictimCount{Min: 30, Max: 100}, VictimPersons: c.ref("V-1", "V-2"), Perpetrators: police})
	c.add("torture-zarechny", vigil.Act{Incident: inc, Type: "torture",
		Description: "Beatings and electric shocks during interrogation to make detainees name other men.",
		Period:      demoPeriod("2017-03", ""), Place: c.id("zarechny"),
		Victims: vigil.VictimCount{Min: 10, Max: 30}, VictimPersons: c.ref("V-2"), Perpetrators: police})
	c.add("killing-veresk", vigil.Act{Incident: inc, Type: "killing",
		Description: "Deaths after release to relatives.",
		Period:      demoPeriod("2017-04", ""), Place: c.id("veresk"),
		Victims: vigil.VictimCount{Min: 2, Max: 3}, VictimPersons: c.ref("K-1"), Perpetrators: police})
	c.add("detentions-veresk", vigil.Act{Incident: inc, Type: "arbitrary_detention",
		Description: "A second round of detentions in the city after the first reports were published.",
		Period:      demoPeriod("2017-04", ""), Place: c.id("veresk"),
		Victims: vigil.VictimCount{Min: 5, Max: 12}, Perpetrators: police})
	c.add("documents-zarechny", vigil.Act{Incident: inc, Type: "document_confiscation",
		Description: "Passports taken from detainees and not returned; noted from a hotline call, no source recorded yet.",
		Period:      demoPeriod("2017-03", ""), Place: c.id("zarechny"),
		Victims: vigil.VictimCount{Min: 1, Max: 20}, Perpetrators: police})

	claim := func(key, act, src string, st vigil.Stance, cred vigil.Credibility, date, quote string, ev ...vigil.ID) {
		c.add(key, vigil.Claim{Act: c.id(act), Source: c.id(src), Stance: st, Credibility: cred,
			Date: demoDate(date), Quote: quote, Evidence: ev})
	}
	var ev []vigil.ID
	if !evidence.IsZero() {
		ev = []vigil.ID{evidence}
	}
	claim("v1-detention", "detentions-zarechny", "src-v1", vigil.Affirms, 2, "2017-04-02",
		"They held us in the old police building for days; about twenty men were in my room.", ev...)
	claim("hotline-v1-detention", "detentions-zarechny", "src-hotline-v1", vigil.Affirms, 3, "2017-04-03",
		"A caller describes being held with about twenty other men.")
	claim("v2-detention", "detentions-zarechny", "src-v2", vigil.Affirms, 3, "2017-04-05",
		"I was taken from my workplace and held in Zarechny.")
	claim("hotline-v2-detention", "detentions-zarechny", "src-hotline-v2", vigil.Affirms, 3, "2017-04-06",
		"A second caller was held in the same building.")
	claim("courier-detention", "detentions-zarechny", "src-courier", vigil.PartiallyAffirms, 3, "2017-04-01",
		"Our sources confirm detentions at the site; we cannot confirm the number of more than a hundred.")
	claim("evening-detention", "detentions-zarechny", "src-evening", vigil.PartiallyAffirms, 3, "2017-04-02",
		"According to the Veresk Courier, men were detained in Zarechny.")
	claim("ministry-detention", "detentions-zarechny", "src-ministry", vigil.Denies, 6, "2017-04-01",
		"Complete lies and disinformation.")
	claim("head-detention", "detentions-zarechny", "src-head", vigil.Denies, 6, "2017-04-01",
		"Nothing of the kind has happened in the region.")

	claim("v2-torture", "torture-zarechny", "src-v2", vigil.Affirms, 2, "2017-04-05",
		"They beat us with pipes and used electric shocks until we gave names.")
	claim("hotline-v2-torture", "torture-zarechny", "src-hotline-v2", vigil.Affirms, 3, "2017-04-06",
		"The caller describes beatings and electric shocks.")
	claim("relative-torture", "torture-zarechny", "src-relative", vigil.Affirms, 3, "2017-04-20",
		"When they gave him back he was covered in bruises.")
	claim("ministry-torture", "torture-zarechny", "src-ministry", vigil.Denies, 6, "2017-04-01",
		"Complete lies.")

	claim("relative-killing", "killing-veresk", "src-relative", vigil.Affirms, 3, "2017-04-20",
		"He died two days after they returned him to us; we were told to keep quiet.")
	claim("head-killing", "killing-veresk", "src-head", vigil.Denies, 6, "2017-04-21",
		"No such deaths have been registered.")

	claim("courier-detentions-veresk", "detentions-veresk", "src-courier", vigil.Affirms, 2, "2017-04-24",
		"Our correspondent saw at least five men taken into a police van in central Veresk.")
	claim("v1-detentions-veresk", "detentions-veresk", "src-v1", vigil.Affirms, 3, "2017-04-25",
		"Friends of mine were taken in the city after the articles came out.")

	return c.changes
}

// buildDemoCase writes the worked example into d (unsealed) in one batch, as
// the command line's admin, and returns its acts.
func buildDemoCase(ctx context.Context, d *datadir.Dir, evidence vigil.ID) ([]cases.ActResult, error) {
	if _, err := d.Cases.Apply(ctx, cliPrincipal, demoCaseChanges(evidence)); err != nil {
		return nil, fmt.Errorf("build the demo case: %w", err)
	}
	return d.Cases.Acts(ctx, cliPrincipal)
}

// writeDemoSummary prints the worked example's acts and figures by type.
func writeDemoSummary(ctx context.Context, w io.Writer, d *datadir.Dir, acts []cases.ActResult) error {
	acts = slices.Clone(acts)
	slices.SortFunc(acts, func(a, b cases.ActResult) int { return strings.Compare(a.Key, b.Key) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range acts {
		fl := "-"
		if len(a.Result.Flags) > 0 {
			fl = ""
			for i, f := range a.Result.Flags {
				if i > 0 {
					fl += ","
				}
				fl += string(f)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Key, a.Act.Type, a.Result.Status, fl)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	table, err := d.Cases.Figures(ctx, cliPrincipal, figures.ByType)
	if err != nil {
		return err
	}
	var all []figures.Act
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	groupOrder(figures.ByType, keys)
	fmt.Fprintln(w)
	for _, k := range keys {
		f := table[k]
		fmt.Fprintf(tw, "  %s\tconfirmed at least %d, reported up to %d\n", k, f.ConfirmedAtLeast, f.ReportedUpTo)
	}
	for _, a := range acts {
		all = append(all, figures.Act{ID: a.ID, Act: a.Act, Result: a.Result})
	}
	t := figures.Total(all)
	fmt.Fprintf(tw, "  all acts\tconfirmed at least %d, reported up to %d\n", t.ConfirmedAtLeast, t.ReportedUpTo)
	return tw.Flush()
}
