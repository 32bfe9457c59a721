package audit

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// A Trail reads a data directory's audit events newest first, for the
// staff UI's audit page. Audit events have random IDs and sealed times, so
// the store cannot order them: the Trail decrypts each event once into an
// in-memory index and keeps it current incrementally. Events this process
// prepares ([Prepare]) are added without decrypting them again once their
// transaction has committed; events written by other processes are found
// when the store's count of audit records no longer matches the index,
// which then rescans the store and decrypts only the events it does not
// know. The index (actors, actions, targets: sealed data) lives only in
// memory while the vault is unsealed; a seal drops it.
//
// Its methods are safe for concurrent use.
type Trail struct {
	Store store.Store
	Vault *vault.Vault

	once  sync.Once
	mu    sync.Mutex
	built bool
	list  []Entry                // newest first
	known map[vigil.ID]time.Time // the time of every event listed
	// actors and verbs count the events of each actor and action verb.
	actors, verbs map[string]int
	scans         int   // full reads of the store (see Scans)
	tree          int64 // the log's size when the index was last brought up to date
}

// An Entry is an audit event with its record ID.
type Entry struct {
	ID vigil.ID
	Event
}

// A Filter selects events; zero fields select all.
type Filter struct {
	// Actor is an actor to match exactly.
	Actor string
	// Action is an action ("create:act") or its verb ("create") to match.
	Action string
}

func (f Filter) match(e *Entry) bool {
	if f.Actor != "" && e.Actor != f.Actor {
		return false
	}
	if f.Action != "" && e.Action != f.Action && Verb(e.Action) != f.Action {
		return false
	}
	return true
}

// Verb returns an action's verb: "create" for "create:act".
func Verb(action string) string {
	v, _, _ := strings.Cut(action, ":")
	return v
}

func newestFirst(a, b Entry) int {
	return cmp.Or(b.Time.Compare(a.Time), bytes.Compare(b.ID[:], a.ID[:]))
}

// A Page is a page of the trail.
type Page struct {
	Entries []Entry
	// Next is the ID of the last event of the page, for reading the next
	// page; zero on the last page.
	Next vigil.ID
	// Total counts the events the filter selects.
	Total int
	// Actors and Actions are every actor and action verb in the trail,
	// sorted, for choosing a filter.
	Actors, Actions []string
}

// Read returns up to limit events matching f, newest first, that come
// after event after (zero: from the newest). It fails with
// vigil.ErrNotFound if after is not in the trail, and vigil.ErrSealed while
// the vault is sealed.
func (t *Trail) Read(ctx context.Context, f Filter, after vigil.ID, limit int) (Page, error) {
	if t.Vault.Sealed() {
		return Page{}, fmt.Errorf("audit trail: %w", vigil.ErrSealed)
	}
	t.once.Do(func() {
		watch(t.Vault)
		t.Vault.OnSeal(t.drop)
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.sync(ctx); err != nil {
		return Page{}, err
	}
	var p Page
	start := 0
	if !after.IsZero() {
		at, ok := t.known[after]
		if !ok {
			return Page{}, fmt.Errorf("audit event %s: %w", after, vigil.ErrNotFound)
		}
		i, found := slices.BinarySearchFunc(t.list, Entry{ID: after, Event: Event{Time: at}}, newestFirst)
		if found {
			i++
		}
		start = i
	}
	for i := range t.list {
		e := &t.list[i]
		if !f.match(e) {
			continue
		}
		p.Total++
		if i < start {
			continue
		}
		if len(p.Entries) < limit {
			p.Entries = append(p.Entries, *e)
		} else if p.Next.IsZero() && len(p.Entries) > 0 {
			p.Next = p.Entries[len(p.Entries)-1].ID
		}
	}
	p.Actors, p.Actions = sortedKeys(t.actors), sortedKeys(t.verbs)
	return p, nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Scans returns how many times the trail has read every audit record of
// the store (its first build included).
func (t *Trail) Scans() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.scans
}

// drop forgets the index (on seal).
func (t *Trail) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.list, t.known, t.actors, t.verbs, t.built, t.tree = nil, nil, nil, nil, false, 0
	takePending(t.Vault)
}

// pendingWait is how long a prepared event whose record is not (yet) in
// the store is kept waiting for its transaction.
const pendingWait = time.Minute

// sync brings the index up to date. t.mu is held.
func (t *Trail) sync(ctx context.Context) error {
	pend := takePending(t.Vault)
	var keep []pending
	var add []Entry
	var count, tree int64
	same := false
	err := t.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		// Every audit event appends a log leaf: a log of the same size
		// holds no new event, and costs one row to learn.
		if tree, err = tx.TreeSize(); err != nil {
			return err
		}
		if t.built && tree == t.tree {
			same = true
			return nil
		}
		if count, err = tx.CountRecords(Kind.Name); err != nil {
			return err
		}
		if !t.built {
			return nil
		}
		for _, p := range pend {
			if _, ok := t.known[p.id]; ok {
				continue
			}
			_, err := tx.Record(p.id, 1)
			switch {
			case err == nil:
				add = append(add, Entry{ID: p.id, Event: p.ev})
			case errors.Is(err, vigil.ErrNotFound):
				if time.Since(p.at) < pendingWait {
					keep = append(keep, p)
				}
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		requeue(t.Vault, pend)
		return err
	}
	if same {
		requeue(t.Vault, pend)
		return nil
	}
	requeue(t.Vault, keep)
	t.merge(add)
	if t.built && int64(len(t.known)) == count {
		t.tree = tree
		return nil
	}
	if err := t.scan(ctx); err != nil {
		return err
	}
	t.tree = tree
	return nil
}

// scan reads every audit record and decrypts those the index lacks.
func (t *Trail) scan(ctx context.Context) error {
	var add []Entry
	var batch []store.Record
	flush := func() error {
		out := make([]Entry, len(batch))
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		n := runtime.GOMAXPROCS(0)
		for w := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(batch); i += n {
					ev, err := Decode(t.Vault.OpenField, batch[i])
					out[i], errs[i] = Entry{ID: batch[i].ID, Event: ev}, err
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("audit trail: %w", err)
		}
		add = append(add, out...)
		batch = batch[:0]
		return nil
	}
	err := t.Store.View(ctx, func(tx store.ReadTx) error {
		return store.EachRecord(tx, Kind.Name, func(r store.Record) error {
			if _, ok := t.known[r.ID]; ok {
				return nil
			}
			batch = append(batch, r)
			if len(batch) == 256 {
				return flush()
			}
			return nil
		})
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return err
	}
	t.scans++
	t.built = true
	t.merge(add)
	return nil
}

// merge adds entries to the index, keeping it newest first.
func (t *Trail) merge(add []Entry) {
	if len(add) == 0 {
		return
	}
	if t.known == nil {
		t.known, t.actors, t.verbs = map[vigil.ID]time.Time{}, map[string]int{}, map[string]int{}
	}
	fresh := add[:0:0]
	for _, e := range add {
		if _, ok := t.known[e.ID]; !ok {
			t.known[e.ID] = e.Time
			t.actors[e.Actor]++
			t.verbs[Verb(e.Action)]++
			fresh = append(fresh, e)
		}
	}
	slices.SortFunc(fresh, newestFirst)
	out := make([]Entry, 0, len(t.list)+len(fresh))
	i, j := 0, 0
	for i < len(t.list) && j < len(fresh) {
		if newestFirst(t.list[i], fresh[j]) <= 0 {
			out = append(out, t.list[i])
			i++
		} else {
			out = append(out, fresh[j])
			j++
		}
	}
	out = append(append(out, t.list[i:]...), fresh[j:]...)
	t.list = out
}

// Prepared events of this process, per vault a Trail reads: the hint that
// lets a Trail add them without a rescan. Only vaults a Trail watches
// collect them, at most maxPending each (beyond that the oldest are
// forgotten and the Trail's count check rescans).
const maxPending = 100_000

type pending struct {
	id vigil.ID
	ev Event
	at time.Time
}

var pendings struct {
	mu sync.Mutex
	m  map[*vault.Vault][]pending
}

// watch starts collecting v's prepared events.
func watch(v *vault.Vault) {
	pendings.mu.Lock()
	defer pendings.mu.Unlock()
	if pendings.m == nil {
		pendings.m = map[*vault.Vault][]pending{}
	}
	if _, ok := pendings.m[v]; !ok {
		pendings.m[v] = nil
	}
}

// note records a prepared event of v if a Trail watches v and v is
// unsealed (a sealed vault's index is gone anyway).
func note(v *vault.Vault, id vigil.ID, ev Event) {
	if v.Sealed() {
		return
	}
	pendings.mu.Lock()
	defer pendings.mu.Unlock()
	list, ok := pendings.m[v]
	if !ok {
		return
	}
	if len(list) >= maxPending {
		list = slices.Delete(list, 0, len(list)-maxPending+1)
	}
	pendings.m[v] = append(list, pending{id: id, ev: ev, at: time.Now()})
}

func takePending(v *vault.Vault) []pending {
	pendings.mu.Lock()
	defer pendings.mu.Unlock()
	list := pendings.m[v]
	if _, ok := pendings.m[v]; ok {
		pendings.m[v] = nil
	}
	return list
}

func requeue(v *vault.Vault, list []pending) {
	if len(list) == 0 {
		return
	}
	pendings.mu.Lock()
	defer pendings.mu.Unlock()
	if _, ok := pendings.m[v]; ok {
		pendings.m[v] = append(list, pendings.m[v]...)
	}
}
