package cases

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/search"
	"github.com/vigil-hr/vigil/vocab"
)

// Search runs a full-text search (package search) over the case records p
// may see and, for a principal who may read submissions, the submissions
// and their messages: text is a query (words, "phrases", prefix*), filter
// narrows it, offset and limit page the hits (a zero limit means 20).
// Records of an incident p may not see, and submissions and messages
// unless p may read submissions, count nowhere (hits, snippets, totals,
// facets); a person's private names match only for principals that may
// read private fields. A submission's or message's hit has the
// submission's ID as its Incident and its triage state as its status. It
// fails with vigil.ErrForbidden if p may read neither cases nor
// submissions, and vigil.ErrSealed while the vault is sealed.
//
// The index lives in the model: built when the model loads, kept current
// after every committed write (of intake's too: SubmissionChanged),
// dropped with it on seal (docs/search.md, Wiring).
func (s *Service) Search(ctx context.Context, p vigil.Principal, text string, filter search.Filter, offset, limit int) (search.Result, error) {
	readCases, readSubs := p.Can(vigil.ReadCases), p.Can(vigil.ReadSubmissions)
	if !readCases && !readSubs {
		return search.Result{}, fmt.Errorf("%w: role %q may read neither case records nor submissions", vigil.ErrForbidden, p.Role)
	}
	m, unlock, err := s.model(ctx)
	if err != nil {
		return search.Result{}, err
	}
	// The index calls Visible under its read lock; writers call Add with
	// s.mu held for writing, so Visible reads the model under the read lock
	// we already hold and takes no lock itself (docs/search.md, Locks).
	defer unlock()
	return m.ix.Search(search.Query{
		Text:   text,
		Filter: filter,
		Visible: func(id vigil.ID) bool {
			if _, ok := m.threads[id]; ok {
				return readSubs
			}
			return readCases && (id.IsZero() || m.seesIncident(p, id))
		},
		SeePrivate: p.Can(vigil.ReadPrivate),
		Offset:     offset,
		Limit:      limit,
	}), nil
}

// typeTexts maps each act type code to its code and its labels in every
// language, the text an act is found by.
var typeTexts = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, a := range vocab.ActTypes() {
		parts := []string{strings.ReplaceAll(a.Code, "_", " ")}
		for _, lang := range vocab.Languages() {
			if l := a.Labels[lang]; l != "" {
				parts = append(parts, l)
			}
		}
		out[a.Code] = strings.Join(parts, " · ")
	}
	return out
})

// buildIndex indexes every record of the model into a new index.
func (m *model) buildIndex(rules corroborate.Rules) {
	m.ix = search.New()
	for id, pl := range m.places {
		m.ix.SetPlace(id, pl.Parent)
	}
	ids := make([]vigil.ID, 0, len(m.meta))
	for id := range m.meta {
		ids = append(ids, id)
	}
	// The documents (an act's status is its corroboration) on every CPU;
	// AddAll analyses their texts on every CPU too.
	docs := make([]search.Document, len(ids))
	parallel(len(ids), func(i int) error {
		docs[i] = m.document(ids[i], rules)
		return nil
	})
	m.ix.AddAll(docs)
}

// reindex re-adds to the index the records a batch wrote and those whose
// documents show their text or depend on them: an incident's acts (its
// title), an act's claims (their incident), a claim's act before and after
// (its quotes and status), the acts at a place (its names), and every act
// with claims when a source or party changes (their status). oldActs are
// the acts the batch's claims belonged to before it.
func (m *model) reindex(ws []*write, oldActs []vigil.ID, rules corroborate.Rules) {
	dirty := set{}
	places, statuses := set{}, false
	for _, w := range ws {
		dirty[w.ID] = struct{}{}
		switch w.spec.kind.Name {
		case KindIncident:
			for a := range m.actsByIncident[w.ID] {
				dirty[a] = struct{}{}
			}
		case KindAct:
			for c := range m.claimsByAct[w.ID] {
				dirty[c] = struct{}{}
			}
		case KindClaim:
			dirty[m.claims[w.ID].Act] = struct{}{}
		case KindPlace:
			m.ix.SetPlace(w.ID, m.places[w.ID].Parent)
			places[w.ID] = struct{}{}
		case KindSource, KindParty:
			statuses = true
		}
	}
	for _, a := range oldActs {
		dirty[a] = struct{}{}
	}
	// The acts at or under a written place: their lineage may have moved
	// (ActsSince).
	var moved []vigil.ID
	var under set
	if len(places) > 0 {
		under = m.under(places)
	}
	if len(places) > 0 || statuses {
		for id, a := range m.acts {
			_, at := places[a.Place]
			if at || statuses && len(m.claimsByAct[id]) > 0 {
				dirty[id] = struct{}{}
			}
			if _, ok := under[a.Place]; ok && !at {
				moved = append(moved, id)
			}
		}
	}
	m.resMu.Lock()
	for id := range dirty {
		delete(m.results, id)
		if _, isAct := m.acts[id]; isAct || m.meta[id] == nil {
			moved = append(moved, id)
		}
	}
	m.resMu.Unlock()
	m.history.note(moved, len(places) > 0)
	for id := range dirty {
		if _, ok := m.meta[id]; ok {
			m.ix.Add(m.document(id, rules))
		}
	}
}

// under returns places and every place under them, following the
// children links (a cycle in them ends the walk).
func (m *model) under(places set) set {
	out := set{}
	next := slices.Collect(maps.Keys(places))
	for len(next) > 0 {
		id := next[len(next)-1]
		next = next[:len(next)-1]
		if _, seen := out[id]; seen {
			continue
		}
		out[id] = struct{}{}
		for c := range m.placeChildren[id] {
			next = append(next, c)
		}
	}
	return out
}

// document returns the search document of record id.
func (m *model) document(id vigil.ID, rules corroborate.Rules) search.Document {
	mt := m.meta[id]
	d := search.Document{ID: id, Kind: mt.kind}
	field := func(name, text string) {
		if text != "" {
			d.Fields = append(d.Fields, search.Field{Name: name, Text: text})
		}
	}
	switch mt.kind {
	case KindIncident:
		v := m.incidents[id]
		d.Incident, d.From, d.To = id, v.Period.From, v.Period.To
		d.Places = placeList(v.Place)
		field("title", v.Title)
		field("description", v.Description)
	case KindAct:
		v := m.acts[id]
		d.Incident, d.From, d.To = v.Incident, v.Period.From, v.Period.To
		d.ActTypes = []string{v.Type}
		d.Places = placeList(v.Place)
		if res, err := m.evaluate(id, rules); err == nil {
			d.Status = string(res.Status)
		}
		if t, ok := typeTexts()[v.Type]; ok {
			field("type", t)
		} else {
			field("type", v.Type)
		}
		field("description", v.Description)
		m.placeFields(&d, v.Place)
		field("incident", m.incidents[v.Incident].Title)
		for _, c := range sortedSet(m.claimsByAct[id]) {
			field("quote", m.claims[c].Quote)
		}
	case KindPerson:
		v := m.persons[id]
		field("pseudonym", v.Pseudonym)
		if v.Private != nil {
			for _, n := range v.Private.Names {
				d.Fields = append(d.Fields, search.Field{Name: "name", Text: n.Name, Private: true})
			}
		}
	case KindPlace:
		d.Places = placeList(id)
		m.placeFields(&d, id)
	case KindParty:
		field("name", m.parties[id].Name)
	case KindSource:
		v := m.sources[id]
		d.Grade = string(v.Reliability)
		field("name", v.Name)
	case KindClaim:
		v := m.claims[id]
		d.Incident = m.acts[v.Act].Incident
		d.From = v.Date
		field("quote", v.Quote)
	}
	return d
}

// placeFields adds place's names, one field per language in tag order.
func (m *model) placeFields(d *search.Document, place vigil.ID) {
	names := m.places[place].Names
	langs := make([]string, 0, len(names))
	for l := range names {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		if names[l] != "" {
			d.Fields = append(d.Fields, search.Field{Name: "place", Text: names[l]})
		}
	}
}

func placeList(id vigil.ID) []vigil.ID {
	if id.IsZero() {
		return nil
	}
	return []vigil.ID{id}
}
