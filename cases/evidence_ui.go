package cases

import (
	"context"
	"fmt"

	"github.com/vigil-hr/vigil"
)

// Corroboration returns one act with its corroboration, as [Service.Acts]
// would list it, without evaluating every act: for the page that shows an
// act's status after a claim is saved. It fails as [Service.Get] does, and
// with vigil.ErrNotFound if id is not an act.
func (s *Service) Corroboration(ctx context.Context, p vigil.Principal, id vigil.ID) (ActResult, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return ActResult{}, err
	}
	defer unlock()
	if !m.visible(p, id) || m.meta[id].kind != KindAct {
		return ActResult{}, fmt.Errorf("%w: act %s", vigil.ErrNotFound, id)
	}
	res, err := m.evaluate(id, s.rules())
	if err != nil {
		return ActResult{}, err
	}
	return ActResult{ID: id, Key: m.meta[id].key, Act: m.acts[id], Result: res}, nil
}
