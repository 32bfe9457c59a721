package search

import (
	"encoding/binary"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vigil-hr/vigil"
)

// A Field is one text of a document: a testimony, a title, a claim, a
// person's pseudonym, a place's name in one language.
type Field struct {
	Name string // "title", "text", "name"…; shown with the hit
	Text string // kept by reference, not copied: the index holds no second copy of case text
	// Private marks a field only some principals may read (a person's
	// names, identifiers, contacts). For a query without
	// [Query.SeePrivate] the field does not exist: it matches nothing,
	// shows in no snippet and counts in no statistic of the ranking.
	Private bool
}

// A Document is what the index knows of one record. Everything but Fields
// is for filters and facets.
type Document struct {
	ID       vigil.ID   // the record; adding a document with the ID of an earlier one replaces it
	Incident vigil.ID   // the incident the record belongs to, zero if none; what [Query.Visible] is asked about
	Kind     string     // record kind: "act", "incident", "person"…
	ActTypes []string   // act type codes
	Status   string     // e.g. the act's status
	From, To vigil.Date // period; a zero To means the period is the day, month or year From
	Places   []vigil.ID // places; [Filter.Place] also matches their ancestors' IDs
	Grade    string     // source grade
	Fields   []Field
}

// An Index is an in-memory full-text index of documents. It never writes to
// disk: build it when the vault unseals, keep it current with [Index.Add]
// and [Index.Remove] on every write, and [Index.Drop] it on seal.
//
// All methods may be called concurrently.
type Index struct {
	mu sync.RWMutex
	ix *index
}

// New returns an empty index.
func New() *Index { return &Index{ix: newIndex()} }

type term struct {
	text string
	docs []byte // per document: uvarint(doc - previous doc), uvarint(freq)
	pos  []byte // per document, freq times: uvarint(position - previous position)
	last uint32 // last document appended, for the delta
	df   uint32 // documents holding the term, dead ones included until compaction
}

type doc struct {
	d         Document
	length    uint32 // tokens, all fields
	public    uint32 // first position of the private fields (they come after the public ones); past the last position if none
	publicLen uint32 // tokens of public fields
	inc       uint32 // index in incs
	alive     bool
}

// incStat is what the index holds per incident, so that a search can
// compute BM25's statistics over the incidents the principal may see.
type incStat struct {
	id     vigil.ID
	docs   int    // live documents
	length uint64 // their total length
	public uint64 // their total length without private fields
}

type index struct {
	docs []doc
	byID map[vigil.ID]uint32
	live int

	terms   []term
	termID  map[string]uint32
	surface map[string]uint32 // folded word → term, so each distinct word is stemmed once

	names   map[string][]uint32 // name key → terms of words with that key
	nameLen map[nameBucket][]string

	parent map[vigil.ID]vigil.ID // place → parent place

	incs  []incStat
	incID map[vigil.ID]uint32

	// sorted is the keys of surface in order, for prefixes; built by the
	// first prefix query after new words, under sortMu since searches
	// hold only the read lock.
	sortMu  sync.Mutex
	sorted  []string
	sortedK []string // the keys of names in order, likewise

	// Scratch of add, under the write lock.
	one               analyzed
	occ               []occurrence
	tcount, tstart    []uint32 // per term
	distinct, grouped []uint32
}

// Name keys are bucketed by first letter and length for the near-miss scan.
type nameBucket struct {
	first rune
	n     int
}

func newIndex() *index {
	return &index{
		byID:    make(map[vigil.ID]uint32),
		termID:  make(map[string]uint32),
		surface: make(map[string]uint32),
		names:   make(map[string][]uint32),
		nameLen: make(map[nameBucket][]string),
		parent:  make(map[vigil.ID]vigil.ID),
		incID:   make(map[vigil.ID]uint32),
	}
}

// fieldGap separates fields' positions so that a phrase never spans two.
const fieldGap = 1000

// Add indexes d, replacing the document with the same ID if there is one.
// The index keeps d's strings and slices (not copies): don't modify them
// afterwards.
func (x *Index) Add(d Document) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ix.remove(d.ID)
	x.ix.add(d)
	x.ix.maybeCompact()
}

// AddAll adds docs as Add would, one after another, for the build at
// unseal: it finds and folds their words on every CPU, a batch ahead of
// the goroutine that adds them to the index.
func (x *Index) AddAll(docs []Document) {
	const batch = 512
	bufs := [2][]analyzed{make([]analyzed, batch), make([]analyzed, batch)}
	analyzeBatch := func(buf []analyzed, from int) {
		end := min(from+batch, len(docs))
		parallel(end-from, func(i int) { analyze(&buf[i], docs[from+i]) })
	}
	if len(docs) == 0 {
		return
	}
	analyzeBatch(bufs[0], 0)
	for k, from := 0, 0; from < len(docs); k, from = k+1, from+batch {
		cur, next := bufs[k%2], bufs[(k+1)%2]
		done := make(chan struct{})
		go func() {
			defer close(done)
			if from+batch < len(docs) {
				analyzeBatch(next, from+batch)
			}
		}()
		x.mu.Lock()
		for i := range min(batch, len(docs)-from) {
			x.ix.remove(cur[i].d.ID)
			x.ix.addAnalyzed(&cur[i])
			cur[i].d = Document{}
		}
		x.ix.maybeCompact()
		x.mu.Unlock()
		<-done
	}
}

// parallel runs fn(0..n-1) on up to GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// Remove takes the document with the given ID out of the index. Removing
// an unknown ID does nothing.
func (x *Index) Remove(id vigil.ID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ix.remove(id)
	x.ix.maybeCompact()
}

// SetPlace records that place has the given parent (zero for none), for
// [Filter.Place]. Call it for every place at build and on every place write.
func (x *Index) SetPlace(place, parent vigil.ID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if parent.IsZero() {
		delete(x.ix.parent, place)
	} else {
		x.ix.parent[place] = parent
	}
}

// Drop empties the index: the next search finds nothing. Drop releases every
// reference the index holds to case text and to the words of the
// vocabulary, so the garbage collector can reclaim them; like any Go
// memory, they are not overwritten.
func (x *Index) Drop() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ix = newIndex()
}

// Len returns the number of documents in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.ix.live
}

// An analyzed document is a document with its words found and folded,
// before they are looked up in the vocabulary: the part of adding that
// needs no lock, which AddAll does on every CPU.
type analyzed struct {
	d       Document // Fields sorted public first
	folded  []byte   // the folded words, one after another
	words   []wordAt // each word: where it ends in folded, and its position
	public  uint32   // first position after the public fields
	npublic uint32   // words in public fields
}

type wordAt struct{ end, pos uint32 }

// analyze finds and folds d's words into a, reusing a's buffers.
func analyze(a *analyzed, d Document) {
	// Public fields first, so that one position tells them from private ones.
	fields := slices.Clone(d.Fields)
	slices.SortStableFunc(fields, func(a, b Field) int {
		switch {
		case a.Private == b.Private:
			return 0
		case b.Private:
			return -1
		}
		return 1
	})
	d.Fields = fields
	a.d = d
	a.folded, a.words = a.folded[:0], a.words[:0]
	a.public, a.npublic = 0, 0
	pos := uint32(0)
	for _, f := range d.Fields {
		segment(f.Text, func(start, end int) {
			n := len(a.folded)
			a.folded = appendFold(a.folded, f.Text[start:end])
			if len(a.folded) == n {
				return
			}
			a.words = append(a.words, wordAt{uint32(len(a.folded)), pos})
			pos++
		})
		pos += fieldGap
		if !f.Private {
			a.npublic = uint32(len(a.words))
			a.public = pos
		}
	}
}

func (ix *index) add(d Document) {
	analyze(&ix.one, d)
	ix.addAnalyzed(&ix.one)
	ix.one.d = Document{}
}

func (ix *index) addAnalyzed(a *analyzed) {
	d := a.d
	n := uint32(len(ix.docs))
	occ := ix.occ[:0]
	start := uint32(0)
	for _, w := range a.words {
		t := ix.termOf(a.folded[start:w.end])
		start = w.end
		occ = append(occ, occurrence{t, w.pos})
	}
	public, npublic := a.public, a.npublic
	// Group the positions by term, keeping their order: a counting sort
	// over per-term counters (cheaper than sorting by term).
	for len(ix.tcount) < len(ix.terms) {
		ix.tcount = append(ix.tcount, 0)
		ix.tstart = append(ix.tstart, 0)
	}
	distinct := ix.distinct[:0]
	for _, o := range occ {
		if ix.tcount[o.term] == 0 {
			distinct = append(distinct, o.term)
		}
		ix.tcount[o.term]++
	}
	at := uint32(0)
	for _, t := range distinct {
		ix.tstart[t] = at
		at += ix.tcount[t]
	}
	grouped := slices.Grow(ix.grouped[:0], len(occ))[:len(occ)]
	for _, o := range occ {
		grouped[ix.tstart[o.term]] = o.pos
		ix.tstart[o.term]++
	}
	at = 0
	for _, t := range distinct {
		k := ix.tcount[t]
		ix.tcount[t] = 0
		tm := &ix.terms[t]
		delta := n - tm.last
		if tm.df == 0 {
			delta = n
		}
		tm.docs = binary.AppendUvarint(tm.docs, uint64(delta))
		tm.docs = binary.AppendUvarint(tm.docs, uint64(k))
		prev := uint32(0)
		for _, p := range grouped[at : at+k] {
			tm.pos = binary.AppendUvarint(tm.pos, uint64(p-prev))
			prev = p
		}
		at += k
		tm.last = n
		tm.df++
	}
	ix.distinct, ix.grouped = distinct, grouped
	ix.occ = occ
	length := uint32(len(occ))
	inc, ok := ix.incID[d.Incident]
	if !ok {
		inc = uint32(len(ix.incs))
		ix.incs = append(ix.incs, incStat{id: d.Incident})
		ix.incID[d.Incident] = inc
	}
	ix.incs[inc].docs++
	ix.incs[inc].length += uint64(length)
	ix.incs[inc].public += uint64(npublic)
	ix.docs = append(ix.docs, doc{d: d, length: length, public: public, inc: inc, alive: true})
	ix.docs[n].publicLen = npublic
	ix.byID[d.ID] = n
	ix.live++
}

// An occurrence is a term at a position of the document being added.
type occurrence struct{ term, pos uint32 }

// termOf returns the term of a folded word, creating it if new.
func (ix *index) termOf(folded []byte) uint32 {
	if t, ok := ix.surface[string(folded)]; ok {
		return t
	}
	s := string(folded)
	stemmed := stem(s)
	t, ok := ix.termID[stemmed]
	if !ok {
		t = uint32(len(ix.terms))
		ix.terms = append(ix.terms, term{text: stemmed})
		ix.termID[stemmed] = t
	}
	ix.surface[s] = t
	ix.addName(nameKeyOfSurface(s), t)
	return t
}

func nameKeyOfSurface(s string) string {
	if len([]rune(s)) < 3 {
		return ""
	}
	return NameKey(s)
}

func (ix *index) addName(key string, t uint32) {
	if key == "" {
		return
	}
	ts, ok := ix.names[key]
	for _, u := range ts {
		if u == t {
			return
		}
	}
	ix.names[key] = append(ts, t)
	if !ok {
		b := bucketOf(key)
		ix.nameLen[b] = append(ix.nameLen[b], key)
	}
}

func bucketOf(key string) nameBucket {
	r := []rune(key)
	return nameBucket{r[0], len(r)}
}

func (ix *index) remove(id vigil.ID) {
	n, ok := ix.byID[id]
	if !ok {
		return
	}
	delete(ix.byID, id)
	d := &ix.docs[n]
	d.alive = false
	ix.live--
	ix.incs[d.inc].docs--
	ix.incs[d.inc].length -= uint64(d.length)
	ix.incs[d.inc].public -= uint64(d.publicLen)
	d.d = Document{} // drop the references to the text now
}

// maybeCompact rewrites the postings without dead documents once they are
// a quarter of all, so that updates don't grow the index without bound.
func (ix *index) maybeCompact() {
	dead := len(ix.docs) - ix.live
	if dead < 1024 || dead < len(ix.docs)/4 {
		return
	}
	ix.compact()
}

func (ix *index) compact() {
	remap := make([]uint32, len(ix.docs))
	var docs []doc
	for i, d := range ix.docs {
		if d.alive {
			remap[i] = uint32(len(docs))
			ix.byID[d.d.ID] = uint32(len(docs))
			docs = append(docs, d)
		} else {
			remap[i] = ^uint32(0)
		}
	}
	for i := range ix.terms {
		tm := &ix.terms[i]
		var nd, np []byte
		var last, df uint32
		it := tm.iter()
		for it.next() {
			ps := it.positions()
			if remap[it.doc] == ^uint32(0) {
				continue
			}
			to := remap[it.doc]
			delta := to - last
			if df == 0 {
				delta = to
			}
			nd = binary.AppendUvarint(nd, uint64(delta))
			nd = binary.AppendUvarint(nd, uint64(len(ps)))
			prev := uint32(0)
			for _, p := range ps {
				np = binary.AppendUvarint(np, uint64(p-prev))
				prev = p
			}
			last, df = to, df+1
		}
		tm.docs, tm.pos, tm.last, tm.df = nd, np, last, df
	}
	ix.docs = docs
}

// A postings iterator walks a term's documents in order.
type postings struct {
	t       *term
	i, j    int // offsets in docs and pos
	doc     uint32
	freq    uint32
	started bool
	posRead bool
}

func (t *term) iter() *postings { return &postings{t: t} }

func (p *postings) next() bool {
	if p.started && !p.posRead {
		p.skipPositions()
	}
	if p.i >= len(p.t.docs) {
		return false
	}
	delta, n := binary.Uvarint(p.t.docs[p.i:])
	p.i += n
	freq, n := binary.Uvarint(p.t.docs[p.i:])
	p.i += n
	if p.started {
		p.doc += uint32(delta)
	} else {
		p.doc = uint32(delta)
	}
	p.freq = uint32(freq)
	p.started = true
	p.posRead = false
	return true
}

func (p *postings) skipPositions() {
	for k := uint32(0); k < p.freq; k++ {
		for p.t.pos[p.j] >= 0x80 {
			p.j++
		}
		p.j++
	}
	p.posRead = true
}

// positions returns the current document's positions of the term.
func (p *postings) positions() []uint32 {
	ps := make([]uint32, p.freq)
	prev := uint32(0)
	for k := range ps {
		v, n := binary.Uvarint(p.t.pos[p.j:])
		p.j += n
		prev += uint32(v)
		ps[k] = prev
	}
	p.posRead = true
	return ps
}
