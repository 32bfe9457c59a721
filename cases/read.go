package cases

import (
	"context"
	"fmt"
	"slices"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/store"
)

// Default and maximum page sizes of [Service.List].
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// read checks that p may read cases and returns the model under the read
// lock.
func (s *Service) read(ctx context.Context, p vigil.Principal) (*model, func(), error) {
	if !p.Can(vigil.ReadCases) {
		return nil, nil, fmt.Errorf("%w: role %q may not read case records", vigil.ErrForbidden, p.Role)
	}
	return s.model(ctx)
}

// record returns the latest version of id as p may see it.
func (m *model) record(p vigil.Principal, id vigil.ID) Record {
	mt := m.meta[id]
	return Record{Ref: Ref{Kind: mt.kind, ID: id, Version: mt.version, Leaf: mt.leaf}, Key: mt.key,
		Author: mt.author, Time: mt.time, Doc: forReader(p, m.doc(mt.kind, id))}
}

// forReader hides what p may not read from d: a person's private fields.
func forReader(p vigil.Principal, d Doc) Doc {
	if v, ok := d.(vigil.Person); ok && !p.Can(vigil.ReadPrivate) {
		v.Private = nil
		return v
	}
	return d
}

// Get returns the latest version of record id. It fails with
// vigil.ErrForbidden if p may not read cases, vigil.ErrNotFound if there
// is no such record or p may not see it, and vigil.ErrSealed while the
// vault is sealed.
func (s *Service) Get(ctx context.Context, p vigil.Principal, id vigil.ID) (Record, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return Record{}, err
	}
	if !m.visible(p, id) {
		unlock()
		return Record{}, fmt.Errorf("%w: record %s", vigil.ErrNotFound, id)
	}
	r := m.record(p, id)
	entry := m.meta[id].entry
	unlock()
	if r.Leaf < 0 {
		err := s.Store.View(ctx, func(tx store.ReadTx) error {
			var err error
			r.Leaf, err = tx.LeafOf(entry[:])
			return err
		})
		if err != nil {
			return Record{}, fmt.Errorf("find leaf of %s %s: %w", r.Kind, id, err)
		}
	}
	return r, nil
}

// GetByKey returns the latest version of the record of kind whose external
// key is key; errors are as for [Service.Get].
func (s *Service) GetByKey(ctx context.Context, p vigil.Principal, kind, key string) (Record, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return Record{}, err
	}
	id, ok := m.keys[[2]string{kind, key}]
	unlock()
	if !ok {
		return Record{}, fmt.Errorf("%w: no %s with that key", vigil.ErrNotFound, kind)
	}
	return s.Get(ctx, p, id)
}

// List returns the latest versions of up to limit records of kind that p
// may see, in ID order, with IDs greater than after (zero: from the
// start). A limit outside 1..MaxLimit means DefaultLimit. A short page is
// the last. Leaf is -1 in listed records.
func (s *Service) List(ctx context.Context, p vigil.Principal, kind string, after vigil.ID, limit int) ([]Record, error) {
	if specOf(kind) == nil {
		return nil, &vigil.FieldError{Field: "kind", Problem: "not a kind of case record", Err: vigil.ErrInvalid}
	}
	if limit < 1 || limit > MaxLimit {
		limit = DefaultLimit
	}
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ids := m.sorted(kind)
	i, found := slices.BinarySearchFunc(ids, after, compareIDs)
	if found {
		i++
	}
	out := []Record{}
	for ; i < len(ids) && len(out) < limit; i++ {
		if m.visible(p, ids[i]) {
			r := m.record(p, ids[i])
			r.Leaf = -1
			out = append(out, r)
		}
	}
	return out, nil
}

// Children returns the records directly under record id that p may see:
// an incident's acts, an act's claims, a place's or party's children. It
// fails as [Service.Get] does.
func (s *Service) Children(ctx context.Context, p vigil.Principal, id vigil.ID) ([]Record, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !m.visible(p, id) {
		return nil, fmt.Errorf("%w: record %s", vigil.ErrNotFound, id)
	}
	var idx map[vigil.ID]set
	switch m.meta[id].kind {
	case KindIncident:
		idx = m.actsByIncident
	case KindAct:
		idx = m.claimsByAct
	case KindPlace:
		idx = m.placeChildren
	case KindParty:
		idx = m.partyChildren
	}
	ids := sortedSet(idx[id])
	out := make([]Record, 0, len(ids))
	for _, c := range ids {
		if m.visible(p, c) {
			r := m.record(p, c)
			r.Leaf = -1
			out = append(out, r)
		}
	}
	return out, nil
}

func sortedSet(s set) []vigil.ID {
	ids := make([]vigil.ID, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}

// Versions returns every version of record id, oldest first, each with its
// leaf and its statement's previous leaf. For an act or a claim, a version
// is shown only if p may see the incident it belonged to (as that incident
// is now). Errors are as for [Service.Get].
func (s *Service) Versions(ctx context.Context, p vigil.Principal, id vigil.ID) ([]Record, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return nil, err
	}
	if !m.visible(p, id) {
		unlock()
		return nil, fmt.Errorf("%w: record %s", vigil.ErrNotFound, id)
	}
	mt := *m.meta[id]
	sp := specOf(mt.kind)
	var out []Record
	err = s.Store.View(ctx, func(tx store.ReadTx) error {
		for v := int64(1); v <= mt.version; v++ {
			rec, err := tx.Record(id, v)
			if err != nil {
				return err
			}
			env, err := sp.kind.Open(s.Vault.OpenField, rec)
			if err != nil {
				return err
			}
			doc, err := sp.decode(env.Document)
			if err != nil {
				return fmt.Errorf("%w: %s %s version %d: %v", vigil.ErrCorrupt, mt.kind, id, v, err)
			}
			if !versionVisible(m, p, doc) {
				continue
			}
			leaf, err := env.Leaf(tx)
			if err != nil {
				return err
			}
			st, err := evlog.ParseStatement([]byte(env.Statement))
			if err != nil {
				return fmt.Errorf("%w: %s %s version %d: statement: %v", vigil.ErrCorrupt, mt.kind, id, v, err)
			}
			var l links
			if err := env.DecodeLinks(&l); err != nil {
				return err
			}
			out = append(out, Record{Ref: Ref{Kind: mt.kind, ID: id, Version: v, Leaf: leaf}, Key: l.Key,
				Author: env.Author, Time: env.Time, Prev: st.Prev, Doc: forReader(p, doc)})
		}
		return nil
	})
	unlock()
	if err != nil {
		return nil, fmt.Errorf("versions of %s %s: %w", mt.kind, id, err)
	}
	return out, nil
}

// versionVisible reports whether p may see an old version d of a record:
// an act or claim of an incident p may not see (now) stays hidden.
func versionVisible(m *model, p vigil.Principal, d Doc) bool {
	switch v := d.(type) {
	case vigil.Act:
		return m.seesIncident(p, v.Incident)
	case vigil.Claim:
		return m.visible(p, v.Act)
	case vigil.Incident:
		return p.SeesIncident(v.Restricted)
	}
	return true
}

// An ActResult is an act with what its claims establish.
type ActResult struct {
	ID     vigil.ID           `json:"id"`
	Key    string             `json:"key,omitempty"`
	Act    vigil.Act          `json:"act"`
	Result corroborate.Result `json:"result"`
}

// Acts returns every act p may see, in ID order, with its corroboration
// (package corroborate, under s.Rules): status, flags and explanation.
// A claim's evidence counts only for items that exist.
func (s *Service) Acts(ctx context.Context, p vigil.Principal) ([]ActResult, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return m.actResults(p, m.sorted(KindAct), s.rules())
}

// actResults returns the acts ids that p may see, in the order given,
// with their corroboration results.
func (m *model) actResults(p vigil.Principal, ids []vigil.ID, rules corroborate.Rules) ([]ActResult, error) {
	out := make([]ActResult, 0, len(ids))
	for _, id := range ids {
		if !m.visible(p, id) {
			continue
		}
		res, err := m.evaluate(id, rules)
		if err != nil {
			return nil, err
		}
		out = append(out, ActResult{ID: id, Key: m.meta[id].key, Act: m.acts[id], Result: res})
	}
	return out, nil
}

// evaluate corroborates act id from the model, once per version of what
// the result depends on (see model.results).
func (m *model) evaluate(id vigil.ID, rules corroborate.Rules) (corroborate.Result, error) {
	m.resMu.Lock()
	res, ok := m.results[id]
	m.resMu.Unlock()
	if ok {
		return res, nil
	}
	res, err := m.corroborate(id, rules)
	if err == nil {
		m.resMu.Lock()
		m.results[id] = res
		m.resMu.Unlock()
	}
	return res, err
}

// corroborate evaluates act id from the model.
func (m *model) corroborate(id vigil.ID, rules corroborate.Rules) (corroborate.Result, error) {
	in := corroborate.Input{ActID: id, Act: m.acts[id], Sources: m.sources, Parties: m.parties}
	for _, c := range sortedSet(m.claimsByAct[id]) {
		cl := m.claims[c]
		if len(cl.Evidence) > 0 {
			ev := make([]vigil.ID, 0, len(cl.Evidence))
			for _, e := range cl.Evidence {
				if _, ok := m.items[e]; ok {
					ev = append(ev, e)
				}
			}
			cl.Evidence = ev
		}
		in.Claims = append(in.Claims, corroborate.Claim{ID: c, Claim: cl})
	}
	res, err := corroborate.Evaluate(in, rules)
	if err != nil {
		return res, fmt.Errorf("corroborate act %s: %w", id, err)
	}
	return res, nil
}

// Figures returns the figures (package figures) grouped by by, counting
// only the acts p may see.
func (s *Service) Figures(ctx context.Context, p vigil.Principal, by figures.By) (map[string]figures.Figure, error) {
	if _, err := figures.ParseBy(string(by)); err != nil {
		return nil, err
	}
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return nil, err
	}
	defer unlock()
	results, err := m.actResults(p, m.sorted(KindAct), s.rules())
	if err != nil {
		return nil, err
	}
	acts := make([]figures.Act, len(results))
	for i, a := range results {
		acts[i] = figures.Act{ID: a.ID, Act: a.Act, Result: a.Result}
	}
	return figures.Group(by, acts, m.places)
}
