package intake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store"
)

// A Query selects a page of the staff inbox.
type Query struct {
	// State keeps only submissions in that state; "" keeps all.
	State State
	// Before keeps only submissions older than the one logged at this leaf
	// index (the previous page's Next); 0 starts at the newest.
	Before int64
	// Limit is the page's size: 50 if 0, at most 500.
	Limit int
}

// A Page is one page of the inbox, newest first.
type Page struct {
	Items []Summary
	// Total is how many submissions match the state filter, on every page.
	Total int
	// Counts are the submissions in each state, filter aside.
	Counts map[State]int
	// Next is the Before of the next page; 0 on the last page.
	Next int64
}

// inboxIndex keeps every submission's Summary in memory while the vault is
// unsealed, so that a page of a large inbox reads no record: it is built
// on the first Page (decrypting each submission, its triage record and
// counting its messages once), and a submission is read again after every
// write to its thread by this process (Service.changed) or, in a cluster,
// by another (Service.Heard). Summaries hold IDs, states, coarse times and
// counts, never text; Forget drops them at seal.
type inboxIndex struct {
	mu     sync.Mutex // held while building or reading
	built  bool
	subs   map[vigil.ID]Summary
	triage map[vigil.ID]vigil.ID // triage record -> submission
	sorted []Summary             // newest first; nil when it must be sorted again

	// pmu guards the marks below; writers and notifications never wait
	// for a build.
	pmu     sync.Mutex
	pending map[vigil.ID]bool // submissions to read again
	triaged map[vigil.ID]bool // triage records heard of, mapped by refresh
	stale   bool
}

// touch marks a submission to be read again at the next Page.
func (x *inboxIndex) touch(sub vigil.ID) {
	x.pmu.Lock()
	if x.pending == nil {
		x.pending = map[vigil.ID]bool{}
	}
	x.pending[sub] = true
	x.pmu.Unlock()
}

// takePending returns and clears the marks: the submissions to read again
// (those of the triage records heard of included, mapped through the
// index; x.mu is held), and whether to build the index from scratch.
func (x *inboxIndex) takePending() (map[vigil.ID]bool, bool) {
	x.pmu.Lock()
	p, tr, stale := x.pending, x.triaged, x.stale
	x.pending, x.triaged, x.stale = nil, nil, false
	x.pmu.Unlock()
	for id := range tr {
		if sub, ok := x.triage[id]; ok {
			if p == nil {
				p = map[vigil.ID]bool{}
			}
			p[sub] = true
		}
	}
	return p, stale
}

// Heard tells the inbox of a record version another server committed (in
// a cluster, from PostgreSQL's notifications): the submission it belongs
// to is read again at the next Page. A new message names no submission
// (threads are unlinkable without the keys), so it makes the next Page
// rebuild the index.
func (s *Service) Heard(kind string, id vigil.ID) {
	x := &s.inbox
	switch kind {
	case KindSubmission:
		x.touch(id)
	case KindTriage:
		x.pmu.Lock()
		if x.triaged == nil {
			x.triaged = map[vigil.ID]bool{}
		}
		x.triaged[id] = true
		x.pmu.Unlock()
	case KindMessage:
		x.pmu.Lock()
		x.stale = true
		x.pmu.Unlock()
	}
}

// Forget drops the inbox index: at seal, and when notifications from other
// servers may have been missed.
func (s *Service) Forget() {
	x := &s.inbox
	x.pmu.Lock()
	x.stale = true
	x.pending, x.triaged = nil, nil
	x.pmu.Unlock()
	x.mu.Lock()
	x.built, x.subs, x.triage, x.sorted = false, nil, nil, nil
	x.mu.Unlock()
}

// summary reads a submission's Summary and the ID of its triage record.
func (s *Service) summary(tx store.ReadTx, r store.Record) (Summary, vigil.ID, error) {
	var doc document
	env, err := submissionKind.Decode(s.Vault.OpenField, r, &doc)
	if err != nil {
		return Summary{}, vigil.ID{}, err
	}
	var l links
	if err := env.DecodeLinks(&l); err != nil {
		return Summary{}, vigil.ID{}, err
	}
	_, st, err := s.state(tx, r.ID, l)
	if err != nil {
		return Summary{}, vigil.ID{}, err
	}
	msgs, err := messages(tx, l.Thread)
	if err != nil {
		return Summary{}, vigil.ID{}, err
	}
	leaf, err := env.Leaf(tx)
	if err != nil {
		return Summary{}, vigil.ID{}, fmt.Errorf("submission %s: %w", r.ID, err)
	}
	return Summary{ID: r.ID, State: st, Received: r.Created, Files: len(doc.Files), Messages: len(msgs), LeafIndex: leaf}, l.Triage, nil
}

// refresh brings the index up to date; x.mu is held.
func (s *Service) refresh(ctx context.Context) error {
	x := &s.inbox
	pending, stale := x.takePending()
	if stale || !x.built {
		subs, triage := map[vigil.ID]Summary{}, map[vigil.ID]vigil.ID{}
		err := s.Store.View(ctx, func(tx store.ReadTx) error {
			return store.EachRecord(tx, KindSubmission, func(r store.Record) error {
				sum, tr, err := s.summary(tx, r)
				subs[r.ID], triage[tr] = sum, r.ID
				return err
			})
		})
		if err != nil {
			x.pmu.Lock()
			x.stale = true // try again next time; keep the marks taken
			x.pmu.Unlock()
			return err
		}
		x.built, x.subs, x.triage, x.sorted = true, subs, triage, nil
		return nil
	}
	if len(pending) == 0 {
		return nil
	}
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		for id := range pending {
			r, err := tx.Record(id, 0)
			if errors.Is(err, vigil.ErrNotFound) {
				delete(x.subs, id)
				continue
			}
			if err != nil {
				return err
			}
			sum, tr, err := s.summary(tx, r)
			if err != nil {
				return err
			}
			x.subs[id], x.triage[tr] = sum, id
		}
		return nil
	})
	if err != nil {
		for id := range pending {
			x.touch(id)
		}
		return err
	}
	x.sorted = nil
	return nil
}

// Warm builds the inbox index now (vigil serve calls it at unseal), so
// that the first Page or List does not wait for it.
func (s *Service) Warm(ctx context.Context) error {
	if s.Vault.Sealed() {
		return vigil.ErrSealed
	}
	_, err := s.sortedLocked(ctx)
	s.inbox.mu.Unlock()
	return err
}

// sortedLocked locks the inbox index, brings it up to date and returns
// its summaries newest first (log order is arrival order); the caller
// unlocks s.inbox.mu, also after an error.
func (s *Service) sortedLocked(ctx context.Context) ([]Summary, error) {
	x := &s.inbox
	x.mu.Lock()
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	if s.Vault.Sealed() { // sealed while building: show nothing
		x.built, x.subs, x.triage, x.sorted = false, nil, nil, nil
		return nil, vigil.ErrSealed
	}
	if x.sorted == nil {
		x.sorted = make([]Summary, 0, len(x.subs))
		for _, sum := range x.subs {
			x.sorted = append(x.sorted, sum)
		}
		slices.SortFunc(x.sorted, func(a, b Summary) int { return cmp.Compare(b.LeafIndex, a.LeafIndex) })
	}
	return x.sorted, nil
}

// Page returns a page of the staff inbox, newest first (log order is
// arrival order), with the count of submissions in each state. It needs
// the vault unsealed and a principal who may read submissions, and
// records an audit event as List does.
func (s *Service) Page(ctx context.Context, p vigil.Principal, q Query) (Page, error) {
	if s.Vault.Sealed() {
		return Page{}, vigil.ErrSealed
	}
	if err := allowed(p, vigil.ReadSubmissions); err != nil {
		return Page{}, err
	}
	if q.State != "" && !q.State.Valid() {
		return Page{}, fmt.Errorf("%w: unknown state %q", vigil.ErrInvalid, q.State)
	}
	if q.Before < 0 || q.Limit < 0 {
		return Page{}, fmt.Errorf("%w: negative cursor or limit", vigil.ErrInvalid)
	}
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	limit = min(limit, 500)

	sorted, err := s.sortedLocked(ctx)
	if err != nil {
		s.inbox.mu.Unlock()
		return Page{}, err
	}
	out := Page{Counts: map[State]int{}}
	for _, sum := range sorted {
		out.Counts[sum.State]++
		if q.State != "" && sum.State != q.State {
			continue
		}
		out.Total++
		if q.Before > 0 && sum.LeafIndex >= q.Before {
			continue
		}
		if len(out.Items) < limit {
			out.Items = append(out.Items, sum)
		} else if out.Next == 0 {
			out.Next = out.Items[len(out.Items)-1].LeafIndex
		}
	}
	s.inbox.mu.Unlock()
	return out, s.audit(ctx, p.Actor, "list", vigil.ID{})
}
