package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/vigil-hr/vigil"
)

// An ActsCursor marks a point in the history of the loaded model's acts,
// for [Service.ActsSince]. The zero cursor is before every change.
type ActsCursor struct {
	model  uint64 // the model's epoch
	seq    uint64 // changes seen
	places uint64 // place writes seen
}

// ActChanges are what changed in the acts a principal may see since a
// cursor.
type ActChanges struct {
	// All says Acts holds every act the principal may see, not only
	// those changed: drop whatever was kept from before. It is set on the
	// first call (zero cursor), after the model was reloaded (at unseal,
	// after another server's write), and when the cursor is older than
	// the history the model keeps.
	All bool
	// Places, with All or after a place was written, are every place, as
	// they were when Acts were read; else nil. A place's parent may have
	// changed: the acts at or under it are in Acts.
	Places map[vigil.ID]vigil.Place
	// Visibility names what the principal sees of the acts (see
	// [Service.Visibility]) when Acts were read.
	Visibility string
	// Acts are the acts the principal may see whose record or
	// corroboration result may have changed, as they are now, in no
	// particular order.
	Acts []ActResult
	// Gone are the acts the principal no longer sees: deleted, or now in
	// an incident restricted to others. It may name acts never seen.
	Gone []vigil.ID
	// Next is the cursor to ask from next time.
	Next ActsCursor
}

// historyMax bounds the act changes a model remembers; a cursor older
// than what is left gets every act (ActChanges.All).
const historyMax = 1 << 17

// modelEpochs numbers models, so that a cursor never reads another
// model's history.
var modelEpochs atomic.Uint64

// actHistory is the order in which a model's acts changed: every act
// whose record or corroboration result a write may have changed, as
// reindex marks them dirty.
type actHistory struct {
	epoch  uint64
	base   uint64     // sequence number of ids[0]
	ids    []vigil.ID // changed acts, oldest first, repeats kept
	places uint64     // batches that wrote places
}

func (h *actHistory) next() uint64 { return h.base + uint64(len(h.ids)) }

// note records that acts changed, and whether places did; the caller
// holds the model's write lock.
func (h *actHistory) note(acts []vigil.ID, places bool) {
	h.ids = append(h.ids, acts...)
	if places {
		h.places++
	}
	if len(h.ids) > historyMax {
		drop := len(h.ids) - historyMax/2
		h.base += uint64(drop)
		h.ids = append([]vigil.ID(nil), h.ids[drop:]...)
	}
}

// ActsSince returns what changed in the acts p may see since cursor c:
// for a page that keeps numbers computed from every act (the figures)
// and must not recompute them all after each write. Results are those of
// [Service.Acts].
func (s *Service) ActsSince(ctx context.Context, p vigil.Principal, c ActsCursor) (ActChanges, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return ActChanges{}, err
	}
	defer unlock()
	h := &m.history
	out := ActChanges{Next: ActsCursor{model: h.epoch, seq: h.next(), places: h.places}, Visibility: m.visibility(p)}
	out.All = c.model != h.epoch || c.seq < h.base || c.seq > h.next()
	if out.All || c.places != h.places {
		out.Places = maps.Clone(m.places)
	}
	if out.All {
		out.Acts, err = m.actResults(p, m.sorted(KindAct), s.rules())
		return out, err
	}
	seen := map[vigil.ID]bool{}
	var changed []vigil.ID
	for _, id := range h.ids[c.seq-h.base:] {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := m.acts[id]; ok && m.visible(p, id) {
			changed = append(changed, id)
		} else {
			out.Gone = append(out.Gone, id)
		}
	}
	out.Acts, err = m.actResults(p, changed, s.rules())
	return out, err
}

// Visibility names what p sees of the acts: "all" for an admin; for
// anyone else a digest of the restricted incidents p is let into ("open"
// for none). Principals with the same visibility see the same acts, so a
// page may share numbers counted from the acts between them, never across
// visibilities. It changes when p is let into or out of an incident.
func (s *Service) Visibility(ctx context.Context, p vigil.Principal) (string, error) {
	m, unlock, err := s.read(ctx, p)
	if err != nil {
		return "", err
	}
	defer unlock()
	return m.visibility(p), nil
}

func (m *model) visibility(p vigil.Principal) string {
	if p.Role == vigil.RoleAdmin {
		return "all" // vigil.Principal.SeesIncident
	}
	var in []vigil.ID
	for id, inc := range m.incidents {
		if len(inc.Restricted) > 0 && p.SeesIncident(inc.Restricted) {
			in = append(in, id)
		}
	}
	if len(in) == 0 {
		return "open"
	}
	slices.SortFunc(in, compareIDs)
	h := sha256.New()
	for _, id := range in {
		h.Write(id[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
