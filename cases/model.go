package cases

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/search"
	"github.com/vigil-hr/vigil/store"
)

// meta is what the model knows of a record's latest version besides its
// document.
type meta struct {
	kind    string
	version int64
	key     string
	author  string
	time    time.Time
	entry   [evlog.EntrySize]byte // the version's log commitment
	leaf    int64                 // its leaf, or -1 if not looked up yet
}

// set is a set of IDs.
type set map[vigil.ID]struct{}

// A model is the decrypted latest version of every case record, with the
// references resolved. It lives only in memory, while the vault is
// unsealed; the Service guards it with mu.
type model struct {
	meta      map[vigil.ID]*meta
	incidents map[vigil.ID]vigil.Incident
	acts      map[vigil.ID]vigil.Act
	persons   map[vigil.ID]vigil.Person
	places    map[vigil.ID]vigil.Place
	parties   map[vigil.ID]vigil.Party
	sources   map[vigil.ID]vigil.Source
	claims    map[vigil.ID]vigil.Claim

	ids  map[string][]vigil.ID // per kind, sorted
	keys map[[2]string]vigil.ID

	placeChildren  map[vigil.ID]set
	partyChildren  map[vigil.ID]set
	actsByIncident map[vigil.ID]set
	claimsByAct    map[vigil.ID]set

	// items are the evidence items known to exist: all of them at load,
	// and those claims written since were checked against.
	items set

	// ix is the full-text index of the records (package search), built
	// at load and kept current by reindex; dropped by wipe.
	ix *search.Index
	// threads are the submissions indexed in ix, each with the IDs of its
	// documents (itself and its messages); see indexThread.
	threads map[vigil.ID][]vigil.ID

	// results are acts' corroboration results, computed on first use and
	// forgotten by reindex for every act a batch may change (the same
	// acts whose search documents it rebuilds); readers share the model,
	// so resMu guards the map.
	resMu   sync.Mutex
	results map[vigil.ID]corroborate.Result

	// history is the order in which acts changed, for ActsSince.
	history actHistory
}

func newModel() *model {
	return &model{
		meta:      map[vigil.ID]*meta{},
		incidents: map[vigil.ID]vigil.Incident{}, acts: map[vigil.ID]vigil.Act{},
		persons: map[vigil.ID]vigil.Person{}, places: map[vigil.ID]vigil.Place{},
		parties: map[vigil.ID]vigil.Party{}, sources: map[vigil.ID]vigil.Source{},
		claims: map[vigil.ID]vigil.Claim{},
		ids:    map[string][]vigil.ID{}, keys: map[[2]string]vigil.ID{},
		placeChildren: map[vigil.ID]set{}, partyChildren: map[vigil.ID]set{},
		actsByIncident: map[vigil.ID]set{}, claimsByAct: map[vigil.ID]set{},
		items: set{}, threads: map[vigil.ID][]vigil.ID{}, results: map[vigil.ID]corroborate.Result{},
	}
}

// model returns the loaded model, loading it first if needed, with the
// read lock held; call unlock when done. It fails with vigil.ErrSealed
// while the vault is sealed.
func (s *Service) model(ctx context.Context) (m *model, unlock func(), err error) {
	s.once.Do(func() { s.Vault.OnSeal(s.dropLocked) })
	for range 2 {
		s.mu.RLock()
		if s.m != nil && !s.Vault.Sealed() {
			return s.m, s.mu.RUnlock, nil
		}
		s.mu.RUnlock()
		if err := s.load(ctx); err != nil {
			return nil, nil, err
		}
	}
	// Sealed (and dropped) between loading and reading.
	return nil, nil, fmt.Errorf("cases: %w", vigil.ErrSealed)
}

// Load decrypts every case record into the in-memory model now, unless it
// is loaded already, so that the first read after an unseal does not wait
// for it. Reads and writes load it themselves when needed; vigil serve
// calls Load at unseal. It returns vigil.ErrSealed while the vault is.
func (s *Service) Load(ctx context.Context) error { return s.load(ctx) }

// load decrypts every case record into a new model, unless one is loaded.
func (s *Service) load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Vault.Sealed() {
		return fmt.Errorf("cases: %w", vigil.ErrSealed)
	}
	if s.m != nil {
		return nil
	}
	defer loadGC()()
	// Threads written from now on are left for this load to reread at its
	// end (SubmissionChanged does not wait for it).
	s.changed.start()
	defer s.changed.stop()
	m := newModel()
	var threads []intake.View // submissions, for the index
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		// Decrypting (an X25519 unwrap per record) is the cost of
		// loading: a goroutine reads the next page from the store while
		// every CPU decrypts the current one; this goroutine puts them in
		// the model.
		pages, stop := readPages(tx)
		defer stop()
		for pg := range pages {
			if pg.err != nil {
				return fmt.Errorf("load %s records: %w", pg.sp.kind.Name, pg.err)
			}
			loaded := make([]loadedRecord, len(pg.recs))
			err := parallel(len(pg.recs), func(i int) error {
				var err error
				loaded[i], err = s.decodeRecord(pg.sp, pg.recs[i])
				return err
			})
			if err != nil {
				return fmt.Errorf("load %s records: %w", pg.sp.kind.Name, err)
			}
			for i, r := range pg.recs {
				m.put(r.ID, loaded[i].meta, loaded[i].doc)
			}
		}
		stop()
		err := store.EachRecord(tx, kindItem, func(r store.Record) error {
			m.items[r.ID] = struct{}{}
			return nil
		})
		if err != nil {
			return err
		}
		threads, err = s.loadThreads(tx)
		return err
	})
	if err != nil {
		m.wipe()
		return err
	}
	m.sort()
	m.buildIndex(s.rules())
	for _, v := range threads {
		m.indexThread(v)
	}
	if s.Submissions != nil {
		if err := s.rereadThreads(ctx, m); err != nil {
			m.wipe()
			return err
		}
	}
	m.history.epoch = modelEpochs.Add(1)
	s.m = m
	return nil
}

// Loading drives the garbage collector hard: age allocates a 64 KiB
// buffer to decrypt each record's fields, garbage at once, and each
// collection cycle it triggers rescans the growing model. loadGC doubles
// GOGC while loads run (half the cycles, for a higher peak of garbage:
// bench/cases at 100,000 records, 15 % less CPU for 30 % more peak RSS)
// and returns the function that restores it. GOGC=off stays off.
func loadGC() (restore func()) {
	gcMu.Lock()
	defer gcMu.Unlock()
	if gcLoads == 0 {
		gcSaved = debug.SetGCPercent(-1)
		if gcSaved > 0 {
			debug.SetGCPercent(2 * gcSaved)
		} else {
			debug.SetGCPercent(gcSaved)
		}
	}
	gcLoads++
	return func() {
		gcMu.Lock()
		defer gcMu.Unlock()
		if gcLoads--; gcLoads == 0 {
			debug.SetGCPercent(gcSaved)
		}
	}
}

var (
	gcMu    sync.Mutex
	gcLoads int // loads running
	gcSaved int // GOGC before the first of them
)

// A loadedRecord is a record decrypted for the model.
type loadedRecord struct {
	meta *meta
	doc  Doc
}

// decodeRecord decrypts a stored record of sp's kind for the model.
func (s *Service) decodeRecord(sp *spec, r store.Record) (loadedRecord, error) {
	env, err := sp.kind.Open(s.Vault.OpenField, r)
	if err != nil {
		return loadedRecord{}, err
	}
	doc, err := sp.decode(env.Document)
	if err != nil {
		return loadedRecord{}, fmt.Errorf("%w: %s %s: document: %v", vigil.ErrCorrupt, sp.kind.Name, r.ID, err)
	}
	var l links
	if err := env.DecodeLinks(&l); err != nil {
		return loadedRecord{}, fmt.Errorf("%s %s: %w", sp.kind.Name, r.ID, err)
	}
	entry, err := env.Entry()
	if err != nil {
		return loadedRecord{}, fmt.Errorf("%w: %s %s: %v", vigil.ErrCorrupt, sp.kind.Name, r.ID, err)
	}
	return loadedRecord{&meta{kind: sp.kind.Name, version: r.Version, key: l.Key, author: env.Author,
		time: env.Time, entry: entry, leaf: -1}, doc}, nil
}

// A page is a page of records of one kind, or the error that ended them.
type page struct {
	sp   *spec
	recs []store.Record
	err  error
}

// readPages reads the latest versions of every case record from tx, a
// page at a time in load order (specs), on a goroutine of its own, so
// that reading the next page overlaps decrypting the current one. The
// channel is closed after the last page or an error page. stop ends the
// reading early and waits until the goroutine is done with tx; call it
// before the transaction ends (it may be called more than once).
func readPages(tx store.ReadTx) (<-chan page, func()) {
	pages := make(chan page, 1)
	quit, done := make(chan struct{}), make(chan struct{})
	errStopped := errors.New("stopped")
	go func() {
		defer close(done)
		defer close(pages)
		for _, sp := range specs {
			err := eachPage(tx, sp.kind.Name, func(recs []store.Record) error {
				select {
				case pages <- page{sp: sp, recs: recs}:
					return nil
				case <-quit:
					return errStopped
				}
			})
			if err != nil {
				if err != errStopped {
					select {
					case pages <- page{sp: sp, err: err}:
					case <-quit:
					}
				}
				return
			}
		}
	}()
	var once sync.Once
	return pages, func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// eachPage calls fn with the latest versions of the records of kind, a page
// at a time, in ID order.
func eachPage(tx store.ReadTx, kind string, fn func([]store.Record) error) error {
	const size = 1024
	var after vigil.ID
	for {
		page, err := tx.Records(kind, after, size)
		if err != nil {
			return err
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// parallel runs fn(0..n-1) on up to GOMAXPROCS goroutines and returns the
// first error.
func parallel(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs[w] = err
					next.Store(int64(n)) // stop the others early
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// dropLocked is the vault's seal hook: it forgets the model.
func (s *Service) dropLocked() {
	s.mu.Lock()
	s.drop()
	s.mu.Unlock()
}

// drop forgets the model; s.mu must be held. Its maps are cleared so that
// nothing keeps their contents reachable; the vault's Seal then collects
// the garbage and returns the freed pages to the system (strings cannot be
// overwritten in Go: that is the best a Go program can do).
func (s *Service) drop() {
	if s.m != nil {
		s.m.wipe()
		s.m = nil
	}
}

func (m *model) wipe() {
	if m.ix != nil {
		m.ix.Drop()
		m.ix = nil
	}
	clear(m.meta)
	clear(m.incidents)
	clear(m.acts)
	clear(m.persons)
	clear(m.places)
	clear(m.parties)
	clear(m.sources)
	clear(m.claims)
	clear(m.ids)
	clear(m.keys)
	clear(m.placeChildren)
	clear(m.partyChildren)
	clear(m.actsByIncident)
	clear(m.claimsByAct)
	clear(m.items)
	clear(m.threads)
	m.resMu.Lock()
	clear(m.results)
	m.resMu.Unlock()
}

// lookup returns the kind and document of record id.
func (m *model) lookup(id vigil.ID) (string, Doc, bool) {
	mt, ok := m.meta[id]
	if !ok {
		return "", nil, false
	}
	return mt.kind, m.doc(mt.kind, id), true
}

func (m *model) doc(kind string, id vigil.ID) Doc {
	switch kind {
	case KindIncident:
		return m.incidents[id]
	case KindAct:
		return m.acts[id]
	case KindPerson:
		return m.persons[id]
	case KindPlace:
		return m.places[id]
	case KindParty:
		return m.parties[id]
	case KindSource:
		return m.sources[id]
	case KindClaim:
		return m.claims[id]
	}
	return nil
}

// visible reports whether p may see record id (see the package doc,
// Restriction).
func (m *model) visible(p vigil.Principal, id vigil.ID) bool {
	mt, ok := m.meta[id]
	if !ok {
		return false
	}
	switch mt.kind {
	case KindIncident:
		return m.seesIncident(p, id)
	case KindAct:
		return m.seesIncident(p, m.acts[id].Incident)
	case KindClaim:
		return m.seesIncident(p, m.acts[m.claims[id].Act].Incident)
	}
	return true
}

func (m *model) seesIncident(p vigil.Principal, id vigil.ID) bool {
	inc, ok := m.incidents[id]
	return ok && p.SeesIncident(inc.Restricted)
}

// put sets the latest version of record id, keeping the indexes current.
// New IDs are appended to m.ids unsorted; call sort after.
func (m *model) put(id vigil.ID, mt *meta, d Doc) {
	old, existed := m.meta[id]
	if existed {
		m.unindex(id, old)
	} else {
		m.ids[mt.kind] = append(m.ids[mt.kind], id)
	}
	m.meta[id] = mt
	if mt.key != "" {
		m.keys[[2]string{mt.kind, mt.key}] = id
	}
	switch v := d.(type) {
	case vigil.Incident:
		m.incidents[id] = v
	case vigil.Act:
		m.acts[id] = v
		link(m.actsByIncident, v.Incident, id)
	case vigil.Person:
		m.persons[id] = v
	case vigil.Place:
		m.places[id] = v
		link(m.placeChildren, v.Parent, id)
	case vigil.Party:
		m.parties[id] = v
		link(m.partyChildren, v.Parent, id)
	case vigil.Source:
		m.sources[id] = v
	case vigil.Claim:
		m.claims[id] = v
		link(m.claimsByAct, v.Act, id)
	}
}

// unindex removes the index entries of record id's version old.
func (m *model) unindex(id vigil.ID, old *meta) {
	if old.key != "" {
		delete(m.keys, [2]string{old.kind, old.key})
	}
	switch old.kind {
	case KindAct:
		unlink(m.actsByIncident, m.acts[id].Incident, id)
	case KindPlace:
		unlink(m.placeChildren, m.places[id].Parent, id)
	case KindParty:
		unlink(m.partyChildren, m.parties[id].Parent, id)
	case KindClaim:
		unlink(m.claimsByAct, m.claims[id].Act, id)
	}
}

func link(idx map[vigil.ID]set, from, to vigil.ID) {
	if from.IsZero() {
		return
	}
	s := idx[from]
	if s == nil {
		s = set{}
		idx[from] = s
	}
	s[to] = struct{}{}
}

func unlink(idx map[vigil.ID]set, from, to vigil.ID) {
	if s := idx[from]; s != nil {
		delete(s, to)
		if len(s) == 0 {
			delete(idx, from)
		}
	}
}

func compareIDs(a, b vigil.ID) int { return bytes.Compare(a[:], b[:]) }

func (m *model) sort() {
	for _, ids := range m.ids {
		slices.SortFunc(ids, compareIDs)
	}
}

// apply puts the committed writes of a batch. A version not newer than the
// model's (a reload already saw it) is skipped.
func (m *model) apply(ws []*write) {
	resort := false
	for _, w := range ws {
		cur, ok := m.meta[w.ID]
		if ok && cur.version >= w.ref.Version {
			continue
		}
		m.put(w.ID, &meta{kind: w.ref.Kind, version: w.ref.Version, key: w.Key, author: w.pre.Envelope.Author,
			time: w.pre.Envelope.Time, entry: w.pre.Entry, leaf: w.ref.Leaf}, w.Doc)
		// The transaction found these items; claims loaded from the
		// store get no such trust (see load).
		for _, r := range w.stored {
			if r.kind == kindItem {
				m.items[r.id] = struct{}{}
			}
		}
		switch {
		case ok:
		case len(ws) > 16:
			resort = true
		default:
			// Move the appended ID into place: cheaper than sorting
			// for a few creates.
			ids := m.ids[w.ref.Kind]
			ids = ids[:len(ids)-1]
			i, _ := slices.BinarySearchFunc(ids, w.ID, compareIDs)
			m.ids[w.ref.Kind] = slices.Insert(ids, i, w.ID)
		}
	}
	if resort {
		m.sort()
	}
}

// sorted returns the IDs of kind in order (m.ids is kept sorted).
func (m *model) sorted(kind string) []vigil.ID { return m.ids[kind] }

// Refresh brings the model up to date with record id, which another server
// sharing the store wrote (internal/cluster tells vigil serve): if the model
// is loaded and holds an older version of id, or none while the store has
// one of a case kind, the model is dropped and reloaded from the store, so
// that its references and search index stay whole. It does nothing when the
// model is not loaded, or already has that version (this server wrote it).
func (s *Service) Refresh(ctx context.Context, id vigil.ID) error {
	s.mu.RLock()
	m := s.m
	var have int64
	if m != nil {
		if mt := m.meta[id]; mt != nil {
			have = mt.version
		}
	}
	s.mu.RUnlock()
	if m == nil {
		return nil
	}
	var latest int64
	var kind string
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		r, err := tx.Record(id, 0)
		if err != nil {
			return err
		}
		latest, kind = r.Version, r.Kind
		return nil
	})
	if errors.Is(err, vigil.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if latest <= have || !slices.ContainsFunc(specs, func(sp *spec) bool { return sp.kind.Name == kind }) {
		return nil
	}
	s.mu.Lock()
	if s.m == m {
		s.drop()
	}
	s.mu.Unlock()
	return s.load(ctx)
}

// Drop forgets the loaded model; the next read reloads it from the store.
// vigil serve calls it when it may have missed another server's writes.
func (s *Service) Drop() { s.dropLocked() }
