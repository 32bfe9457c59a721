package cases

import (
	"context"
	"fmt"
	"slices"

	"github.com/vigil-hr/vigil"
)

// IncidentActs returns the acts of incident id that p may see, in ID
// order, each with its corroboration, evaluating no other act: what an
// incident page needs, without [Service.Acts]' whole model. It fails as
// [Service.Get] does, and with vigil.ErrNotFound if id is not an
// incident.
func (s *Service) IncidentActs(ctx context.Context, p vigil.Principal, id vigil.ID) ([]ActResult, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if mt, ok := m.meta[id]; !ok || mt.kind != KindIncident || !m.visible(p, id) {
		return nil, fmt.Errorf("%w: incident %s", vigil.ErrNotFound, id)
	}
	rules := s.rules()
	out := []ActResult{}
	for _, a := range sortedSet(m.actsByIncident[id]) {
		res, err := m.evaluate(a, rules)
		if err != nil {
			return nil, err
		}
		out = append(out, ActResult{ID: a, Key: m.meta[a].key, Act: m.acts[a], Result: res})
	}
	return out, nil
}

// ActResult returns act id with its corroboration. It fails as
// [Service.Get] does, and with vigil.ErrNotFound if id is not an act.
func (s *Service) ActResult(ctx context.Context, p vigil.Principal, id vigil.ID) (ActResult, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return ActResult{}, err
	}
	defer unlock()
	if mt, ok := m.meta[id]; !ok || mt.kind != KindAct || !m.visible(p, id) {
		return ActResult{}, fmt.Errorf("%w: act %s", vigil.ErrNotFound, id)
	}
	res, err := m.evaluate(id, s.rules())
	if err != nil {
		return ActResult{}, err
	}
	return ActResult{ID: id, Key: m.meta[id].key, Act: m.acts[id], Result: res}, nil
}

// ActsNaming returns up to limit acts p may see that name record id: a
// person as a victim, a party as a perpetrator, a place as where it
// happened; in ID order, each with its corroboration (only those returned
// are evaluated). A limit below 1 means DefaultLimit. It fails as
// [Service.Get] does.
func (s *Service) ActsNaming(ctx context.Context, p vigil.Principal, id vigil.ID, limit int) ([]ActResult, error) {
	if limit < 1 {
		limit = DefaultLimit
	}
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !m.visible(p, id) {
		return nil, fmt.Errorf("%w: record %s", vigil.ErrNotFound, id)
	}
	rules := s.rules()
	out := []ActResult{}
	for _, a := range m.sorted(KindAct) {
		if len(out) == limit {
			break
		}
		act := m.acts[a]
		if act.Place != id && !slices.Contains(act.VictimPersons, id) && !slices.Contains(act.Perpetrators, id) || !m.visible(p, a) {
			continue
		}
		res, err := m.evaluate(a, rules)
		if err != nil {
			return nil, err
		}
		out = append(out, ActResult{ID: a, Key: m.meta[a].key, Act: act, Result: res})
	}
	return out, nil
}
