package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/vocab"
)

// Phrases the generated texts are made of, half Russian, half English, as
// in a Russian-language case with English-language sources.
var (
	ruWords = strings.Fields("задержали отвезли в отдел полиции держали несколько дней избивали требовали назвать имена знакомых отобрали паспорт и телефон родственникам сказали молчать свидетели видели машину без номеров")
	enWords = strings.Fields("detained taken to the police station held for several days beaten forced to name acquaintances passport and phone taken relatives told to keep quiet witnesses saw an unmarked car")
	ruPlace = []string{"Северный", "Заречный", "Центральный", "Горный", "Речной", "Лесной", "Степной", "Озёрный"}
	enPlace = []string{"Northern", "Zarechny", "Central", "Mountain", "River", "Forest", "Steppe", "Lake"}
)

// gen builds records with IDs assigned up front, so that each may refer to
// any record generated before it.
type gen struct {
	r       *rand.Rand
	changes []cases.Change
}

func (g *gen) add(kind string, i int, doc cases.Doc) vigil.ID {
	var id vigil.ID
	for j := range id {
		id[j] = byte(g.r.Uint32())
	}
	g.changes = append(g.changes, cases.Change{ID: id, Key: fmt.Sprintf("%s-%d", kind, i), Doc: doc})
	return id
}

func (g *gen) pick(ids []vigil.ID) vigil.ID { return ids[g.r.IntN(len(ids))] }

// text returns about size bytes of Russian or English words.
func (g *gen) text(size int) string {
	words := enWords
	if g.r.IntN(2) == 0 {
		words = ruWords
	}
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(words[g.r.IntN(len(words))])
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}

func (g *gen) month() vigil.Date {
	d, err := vigil.NewDate(2015+g.r.IntN(10), 1+g.r.IntN(12), 0)
	if err != nil {
		panic(err)
	}
	return d
}

// share returns n*per/1000, at least least.
func share(n, per, least int) int { return max(least, n*per/1000) }

// generate returns n records: about 1% places, 0.5% parties, 3% sources,
// 8% persons, 1.5% incidents, 26% acts and the rest claims (three claims an
// act on average, some denials), in that order.
func generate(n int, seed uint64) []cases.Change {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	nPlace, nParty, nSource := share(n, 10, 3), share(n, 5, 2), share(n, 30, 1)
	nPerson, nIncident, nAct := share(n, 80, 1), share(n, 15, 1), share(n, 260, 1)
	nClaim := max(1, n-nPlace-nParty-nSource-nPerson-nIncident-nAct)

	var regions, cities, places []vigil.ID
	for i := range nPlace {
		k := g.r.IntN(len(ruPlace))
		p := vigil.Place{Names: map[string]string{}}
		switch {
		case i < max(1, nPlace/20):
			p.Kind = "region"
			p.Names["ru"], p.Names["en"] = fmt.Sprintf("%s край № %d", ruPlace[k], i), fmt.Sprintf("%s Region No. %d", enPlace[k], i)
		case i < max(2, nPlace/4):
			p.Kind, p.Parent = "city", g.pick(regions)
			p.Names["ru"], p.Names["en"] = fmt.Sprintf("город %s-%d", ruPlace[k], i), fmt.Sprintf("%s City %d", enPlace[k], i)
		default:
			p.Kind, p.Parent = "district", g.pick(cities)
			p.Names["ru"], p.Names["en"] = fmt.Sprintf("%s район %d", ruPlace[k], i), fmt.Sprintf("%s district %d", enPlace[k], i)
		}
		id := g.add("place", i, p)
		switch p.Kind {
		case "region":
			regions = append(regions, id)
		case "city":
			cities = append(cities, id)
		}
		places = append(places, id)
	}

	var ministries, units, parties []vigil.ID
	for i := range nParty {
		p := vigil.Party{}
		switch {
		case i < max(1, nParty/10):
			p.Name = fmt.Sprintf("МВД по региону № %d", i)
		case i%3 != 0:
			p.Name, p.Parent = fmt.Sprintf("Отдел полиции № %d", i), g.pick(ministries)
		case i%2 == 0:
			p.Name = fmt.Sprintf("Newspaper %d", i)
		default:
			p.Name = fmt.Sprintf("NGO hotline %d", i)
		}
		id := g.add("party", i, p)
		switch {
		case p.Parent.IsZero() && strings.HasPrefix(p.Name, "МВД"):
			ministries = append(ministries, id)
		case !p.Parent.IsZero():
			units = append(units, id)
		}
		parties = append(parties, id)
	}
	if len(units) == 0 {
		units = parties
	}

	types := []vigil.SourceType{vigil.SourceVictim, vigil.SourceWitness, vigil.SourceNGO, vigil.SourceMedia,
		vigil.SourceOfficial, vigil.SourceSocialMedia, vigil.SourceDocument, vigil.SourceOther}
	var sources []vigil.ID
	for i := range nSource {
		s := vigil.Source{Name: fmt.Sprintf("Источник / source %d", i), Type: types[g.r.IntN(len(types))],
			Reliability: vigil.Reliability(string(rune('A' + g.r.IntN(6))))}
		if g.r.IntN(10) < 3 { // relays: a shared origin
			s.Origin = fmt.Sprintf("origin %d", g.r.IntN(max(1, nSource/5)))
		}
		if g.r.IntN(2) == 0 {
			s.Party = g.pick(parties)
		}
		sources = append(sources, g.add("source", i, s))
	}

	var persons []vigil.ID
	for i := range nPerson {
		persons = append(persons, g.add("person", i, vigil.Person{Pseudonym: fmt.Sprintf("П-%d", i)}))
	}

	var incidents []vigil.ID
	incMonth := map[vigil.ID]vigil.Date{}
	for i := range nIncident {
		m := g.month()
		id := g.add("incident", i, vigil.Incident{Title: fmt.Sprintf("Волна задержаний / wave of detentions %d", i),
			Description: g.text(300), Period: vigil.Period{From: m}, Place: g.pick(places)})
		incidents = append(incidents, id)
		incMonth[id] = m
	}

	actTypes := vocab.ActTypes()
	acts := make([]vigil.ID, 0, nAct)
	for i := range nAct {
		inc := g.pick(incidents)
		lo := g.r.IntN(20)
		a := vigil.Act{Incident: inc, Type: actTypes[g.r.IntN(len(actTypes))].Code, Description: g.text(150),
			Period: vigil.Period{From: incMonth[inc]}, Place: g.pick(places),
			Victims: vigil.VictimCount{Min: lo, Max: lo + g.r.IntN(50) + 2}, Perpetrators: []vigil.ID{g.pick(units)}}
		for range g.r.IntN(3) {
			p := g.pick(persons)
			if !contains(a.VictimPersons, p) {
				a.VictimPersons = append(a.VictimPersons, p)
			}
		}
		acts = append(acts, g.add("act", i, a))
	}

	for i := range nClaim {
		st := vigil.Affirms
		switch x := g.r.IntN(20); {
		case x < 2:
			st = vigil.PartiallyAffirms
		case x < 5:
			st = vigil.Denies
		}
		g.add("claim", i, vigil.Claim{Act: g.pick(acts), Source: g.pick(sources), Stance: st,
			Credibility: vigil.Credibility(1 + g.r.IntN(6)), Quote: g.text(200), Date: g.month()})
	}
	return g.changes
}

func contains(ids []vigil.ID, id vigil.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
