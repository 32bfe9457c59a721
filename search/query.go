package search

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/vigil-hr/vigil"
)

// A Query is what a principal searches for.
type Query struct {
	// Text is the query: words, "quoted phrases" and prefixes (word*).
	// A document must match every part. An empty Text matches every
	// document, for browsing by filters and facets.
	Text   string
	Filter Filter
	// Visible reports whether the principal may see the incident (the zero
	// ID for records outside incidents). A document it rejects counts
	// nowhere: not in hits, snippets, totals or facets. A nil Visible sees
	// nothing. It is called under the index's read lock, once per
	// incident: it must not wait for a lock held by a goroutine that may
	// be calling [Index.Add] (in the cases service, call Search with the
	// model's read lock already held and let Visible read the model
	// without locking).
	Visible func(incident vigil.ID) bool
	// SeePrivate lets the query match and show private fields
	// ([Field.Private]).
	SeePrivate bool
	// Offset and Limit select the hits returned; a zero Limit means 20.
	Offset, Limit int
}

// A Filter narrows a search. Zero fields don't filter; a list matches a
// document with any of its values.
type Filter struct {
	Kinds    []string
	ActTypes []string
	Statuses []string
	Grades   []string
	// From and To select documents whose period overlaps From..To (either
	// may be zero for an open end); documents without a period don't match.
	From, To vigil.Date
	// Place matches documents at the place or at any place under it.
	Place vigil.ID
}

// A Result is a page of hits, their total and the facets of all of them.
type Result struct {
	Total  int
	Hits   []Hit
	Facets Facets
}

// A Hit is one matching document.
type Hit struct {
	ID       vigil.ID
	Incident vigil.ID
	Kind     string
	Score    float64
	Field    string     // the field the snippet comes from
	Snippet  []Fragment // consecutive pieces of that field's text
}

// A Fragment is a piece of a snippet; Match marks the words the query
// matched. The text is raw: escape it where it is shown.
type Fragment struct {
	Text  string
	Match bool
}

// Facets count the visible, filtered hits by value, most frequent first.
type Facets struct {
	Kinds, ActTypes, Statuses, Grades, Places []Count
}

// A Count is a facet value and how many hits have it.
type Count struct {
	Value string
	N     int
}

// Weights of the ways a query word matches a term.
const (
	weightExact = 1.0 // the same stem
	weightName  = 0.8 // the same name key, e.g. across scripts
	weightNear  = 0.5 // a name key within Distance
)

type weighted struct {
	t uint32
	w float64
}

// MaxParts is how many words, phrases and prefixes of a query count, and
// how many words of a phrase; the rest are ignored.
const MaxParts = 32

// A clause is one part of a query: a word, a prefix or a phrase.
type clause struct {
	terms  []weighted // word or prefix: any of them
	phrase []uint32   // phrase: these in sequence
	empty  bool       // the clause can't match
}

func parse(text string) (words []string, prefixes []string, phrases [][]string) {
	for i := 0; ; i++ {
		before, quoted, found := strings.Cut(text, `"`)
		for _, w := range strings.Fields(before) {
			if strings.HasSuffix(w, "*") {
				prefixes = append(prefixes, strings.TrimRight(w, "*"))
			} else {
				words = append(words, w)
			}
		}
		if !found {
			return
		}
		phrase, rest, _ := strings.Cut(quoted, `"`)
		phrases = append(phrases, []string{phrase})
		text = rest
	}
}

func (ix *index) clauses(text string) []clause {
	words, prefixes, phrases := parse(text)
	words = words[:min(len(words), MaxParts)]
	prefixes = prefixes[:min(len(prefixes), MaxParts)]
	phrases = phrases[:min(len(phrases), MaxParts)]
	var cs []clause
	var buf []byte
	// Stop words (in, the, в, и) are left out of a query that has other
	// words: a document in the other language doesn't have them.
	var folded []string
	content := false
	for _, w := range words {
		segment(w, func(start, end int) {
			s := fold(w[start:end])
			folded = append(folded, s)
			content = content || !isStopWord(s)
		})
	}
	for _, s := range folded {
		if content && isStopWord(s) {
			continue
		}
		func() {
			c := clause{}
			seen := map[uint32]bool{}
			addTerm := func(t uint32, wt float64) {
				if !seen[t] {
					seen[t] = true
					c.terms = append(c.terms, weighted{t, wt})
				}
			}
			if t, ok := ix.termID[stem(s)]; ok {
				addTerm(t, weightExact)
			}
			if key := nameKeyOfSurface(s); key != "" {
				for _, t := range ix.names[key] {
					addTerm(t, weightName)
				}
				if d := MaxDistance(key); d > 0 {
					b := bucketOf(key)
					for n := b.n - d; n <= b.n+d; n++ {
						for _, k := range ix.nameLen[nameBucket{b.first, n}] {
							if k != key && Distance(key, k, d) <= d {
								for _, t := range ix.names[k] {
									addTerm(t, weightNear)
								}
							}
						}
					}
				}
			}
			c.empty = len(c.terms) == 0
			cs = append(cs, c)
		}()
	}
	for _, p := range prefixes {
		buf = appendFold(buf[:0], p)
		if len([]rune(string(buf))) < 2 {
			continue // a one-letter prefix would match half the vocabulary
		}
		pre := string(buf)
		c := clause{}
		// Prefixes of the words as written ("кадыр*" finds Кадырова,
		// "arrested*" finds arrested), not of their stems; a Latin prefix
		// also read as Russian ("kadyr*" finds Кадырова too).
		seen := map[uint32]bool{}
		surfaces := ix.sortedSurfaces()
		expand := func(pre string, w float64) {
			i, _ := slices.BinarySearch(surfaces, pre)
			for ; i < len(surfaces) && strings.HasPrefix(surfaces[i], pre); i++ {
				if t := ix.surface[surfaces[i]]; !seen[t] {
					seen[t] = true
					c.terms = append(c.terms, weighted{t, w})
				}
			}
		}
		expand(pre, weightExact)
		if isLatin(pre) {
			expand(toCyrillic(pre), weightName)
		}
		// And prefixes of name keys, across scripts and spellings:
		// кадыр* finds Kadyrov, kadir* finds Кадыров.
		for _, kp := range prefixKeys(pre) {
			keys := ix.sortedKeys()
			i, _ := slices.BinarySearch(keys, kp)
			for ; i < len(keys) && strings.HasPrefix(keys[i], kp); i++ {
				for _, t := range ix.names[keys[i]] {
					if !seen[t] {
						seen[t] = true
						c.terms = append(c.terms, weighted{t, weightName})
					}
				}
			}
		}
		c.empty = len(c.terms) == 0
		cs = append(cs, c)
	}
	for _, p := range phrases {
		c := clause{}
		toks := Analyze(p[0])
		for _, tok := range toks[:min(len(toks), MaxParts)] {
			t, ok := ix.termID[tok.Term]
			if !ok {
				c.empty = true
			}
			c.phrase = append(c.phrase, t)
		}
		switch len(c.phrase) {
		case 0:
			continue
		case 1:
			c = clause{terms: []weighted{{c.phrase[0], weightExact}}, empty: c.empty}
		}
		cs = append(cs, c)
	}
	return cs
}

// prefixKeys returns the name-key prefixes a folded query prefix of at
// least three letters stands for: read as Russian if Latin, reduced to a
// skeleton like a name key ([NameKey], without taking endings off); a
// final с also as ш, since the х of сх may follow (мас* finds Mashadov).
func prefixKeys(pre string) []string {
	if len([]rune(pre)) < 3 {
		return nil
	}
	switch {
	case isCyrillic(pre):
	case isLatin(pre):
		pre = toCyrillic(pre)
	default:
		return nil
	}
	k := skeleton(pre)
	if len([]rune(k)) < 3 {
		return nil
	}
	if s, ok := strings.CutSuffix(k, "с"); ok {
		return []string{k, s + "ш"}
	}
	return []string{k}
}

// sortedKeys returns the name keys of the vocabulary in order, sorting
// them again if keys were added since the last call.
func (ix *index) sortedKeys() []string {
	ix.sortMu.Lock()
	defer ix.sortMu.Unlock()
	if len(ix.sortedK) != len(ix.names) {
		sorted := make([]string, 0, len(ix.names))
		for k := range ix.names {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		ix.sortedK = sorted
	}
	return ix.sortedK
}

// sortedSurfaces returns the words of the vocabulary in order, sorting
// them again if words were added since the last call.
func (ix *index) sortedSurfaces() []string {
	ix.sortMu.Lock()
	defer ix.sortMu.Unlock()
	if len(ix.sorted) != len(ix.surface) {
		// A new slice: searches running may still read the old one.
		sorted := make([]string, 0, len(ix.surface))
		for s := range ix.surface {
			sorted = append(sorted, s)
		}
		slices.Sort(sorted)
		ix.sorted = sorted
	}
	return ix.sorted
}

// BM25 parameters, Lucene's defaults.
const (
	k1 = 1.2
	b  = 0.75
)

// Search runs q and returns its hits ranked by BM25 (or, for an empty text,
// in the order documents were added), with snippets and facets.
func (x *Index) Search(q Query) Result {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.ix.search(q)
}

func (ix *index) search(q Query) Result {
	var res Result
	if q.Visible == nil || ix.live == 0 {
		return res
	}
	cs := ix.clauses(q.Text)
	if len(cs) > MaxParts {
		cs = cs[:MaxParts]
	}
	n := len(ix.docs)
	// Ask about each incident once, and compute every statistic of the
	// ranking (documents, lengths, document frequencies) over the visible
	// ones only: a score must not move when a document the principal may
	// not see is added.
	visInc := make([]bool, len(ix.incs))
	var nvis int
	var lvis uint64
	for i, st := range ix.incs {
		if st.docs > 0 && q.Visible(st.id) {
			visInc[i] = true
			nvis += st.docs
			if q.SeePrivate {
				lvis += st.length
			} else {
				lvis += st.public
			}
		}
	}
	if nvis == 0 {
		return res
	}
	visible := func(d uint32) bool { return ix.docs[d].alive && visInc[ix.docs[d].inc] }
	// freq is the frequency of the current posting of it, counting only
	// public fields unless the query may see private ones.
	freq := func(it *postings) uint32 {
		doc := &ix.docs[it.doc]
		if q.SeePrivate || doc.publicLen == doc.length {
			return it.freq
		}
		n := uint32(0)
		for _, p := range it.positions() {
			if p < doc.public {
				n++
			}
		}
		return n
	}
	length := func(d uint32) uint32 {
		if q.SeePrivate {
			return ix.docs[d].length
		}
		return ix.docs[d].publicLen
	}
	var score []float32
	var cand []uint32 // documents matching every clause
	if len(cs) > 0 {
		for _, c := range cs {
			if c.empty {
				return res
			}
		}
		sc := scratchPool.Get().(*scratch)
		defer scratchPool.Put(sc)
		score = sc.reset(n)
		matched, mark := sc.matched, sc.mark
		avg := float64(lvis) / float64(nvis)
		idf := func(t uint32) float64 {
			df := 0
			for it := ix.terms[t].iter(); it.next(); {
				if visible(it.doc) && freq(it) > 0 {
					df++
				}
			}
			return math.Log(1 + (float64(nvis)-float64(df)+0.5)/(float64(df)+0.5))
		}
		for ci, c := range cs {
			ci := uint16(ci + 1)
			need := uint16(len(cs))
			hit := func(d uint32, freq uint32, idf, w float64) {
				if matched[d] != ci-1 && mark[d] != ci || !visible(d) || freq == 0 {
					return // missed an earlier clause, dead, not to be seen, or only in private fields
				}
				tf := float64(freq)
				l := float64(length(d))
				score[d] += float32(w * idf * tf * (k1 + 1) / (tf + k1*(1-b+b*l/avg)))
				if mark[d] != ci {
					mark[d] = ci
					matched[d]++
					if matched[d] == need {
						cand = append(cand, d)
					}
				}
			}
			if c.phrase != nil {
				ix.phrase(c.phrase, idf, q.SeePrivate, hit)
				continue
			}
			for _, wt := range c.terms {
				idf := idf(wt.t)
				for it := ix.terms[wt.t].iter(); it.next(); {
					hit(it.doc, freq(it), idf, wt.w)
				}
			}
		}
	} else {
		cand = make([]uint32, 0, ix.live)
		for d := range n {
			cand = append(cand, uint32(d))
		}
	}
	places := ix.placeSet(q.Filter.Place)
	hits := cand[:0]
	var kinds, acts, statuses, grades = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	placeCount := map[vigil.ID]int{}
	for _, d := range cand {
		doc := &ix.docs[d]
		if !visible(d) || !q.Filter.match(&doc.d, places) {
			continue
		}
		hits = append(hits, d)
		count(kinds, doc.d.Kind)
		for _, a := range doc.d.ActTypes {
			count(acts, a)
		}
		count(statuses, doc.d.Status)
		count(grades, doc.d.Grade)
		for _, p := range doc.d.Places {
			placeCount[p]++
		}
	}
	placeNames := map[string]int{}
	for p, c := range placeCount {
		placeNames[p.String()] = c
	}
	res.Total = len(hits)
	res.Facets = Facets{
		Kinds: sorted(kinds), ActTypes: sorted(acts), Statuses: sorted(statuses),
		Grades: sorted(grades), Places: sorted(placeNames),
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	offset := max(q.Offset, 0)
	if offset >= len(hits) {
		return res
	}
	hits = top(hits, score, offset+limit)[offset:]
	match := map[uint32]bool{}
	for _, c := range cs {
		for _, wt := range c.terms {
			match[wt.t] = true
		}
		for _, t := range c.phrase {
			match[t] = true
		}
	}
	for _, d := range hits {
		doc := &ix.docs[d]
		h := Hit{ID: doc.d.ID, Incident: doc.d.Incident, Kind: doc.d.Kind}
		if score != nil {
			h.Score = float64(score[d])
		}
		h.Field, h.Snippet = ix.snippet(&doc.d, match, q.SeePrivate)
		res.Hits = append(res.Hits, h)
	}
	return res
}

// phrase calls hit for every document holding the terms in sequence, with
// the number of times it does.
func (ix *index) phrase(ts []uint32, idfOf func(uint32) float64, private bool, hit func(d, freq uint32, idf, w float64)) {
	its := make([]*postings, len(ts))
	idf := 0.0
	for i, t := range ts {
		its[i] = ix.terms[t].iter()
		if !its[i].next() {
			return
		}
		idf += idfOf(t)
	}
	for {
		// Align every iterator on the largest current document.
		top := its[0].doc
		for _, it := range its {
			top = max(top, it.doc)
		}
		aligned := true
		for _, it := range its {
			for it.doc < top {
				if !it.next() {
					return
				}
			}
			if it.doc != top {
				aligned = false
			}
		}
		if !aligned {
			continue
		}
		starts := its[0].positions()
		if !private {
			end := ix.docs[top].public
			starts = slices.DeleteFunc(starts, func(p uint32) bool { return p >= end })
		}
		for i := 1; i < len(its) && len(starts) > 0; i++ {
			ps := its[i].positions()
			var keep []uint32
			for _, s := range starts {
				if _, ok := slices.BinarySearch(ps, s+uint32(i)); ok {
					keep = append(keep, s)
				}
			}
			starts = keep
		}
		if len(starts) > 0 {
			hit(top, uint32(len(starts)), idf, weightExact)
		}
		if !its[0].next() {
			return
		}
	}
}

func count(m map[string]int, value string) {
	if value != "" {
		m[value]++
	}
}

// top returns the k best documents by score, best first (in the order
// added for equal scores, and for no scores at all).
func top(ds []uint32, score []float32, k int) []uint32 {
	better := func(a, b uint32) int {
		if score != nil {
			if c := cmp.Compare(score[b], score[a]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	}
	if k >= len(ds)/8 {
		slices.SortFunc(ds, better)
		return ds[:min(k, len(ds))]
	}
	// Keep the best k sorted and insert the rest: O(n log k) for the
	// usual page of 20 out of many.
	best := slices.Clone(ds[:k])
	slices.SortFunc(best, better)
	for _, d := range ds[k:] {
		if better(d, best[k-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, d, better)
		copy(best[i+1:], best[i:k-1])
		best[i] = d
	}
	return best
}

// scratch is a query's per-document arrays, pooled: allocating and zeroing
// them for every query would cost more than the query.
type scratch struct {
	score         []float32
	matched, mark []uint16
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (s *scratch) reset(n int) []float32 {
	if cap(s.score) < n {
		s.score = make([]float32, n)
		s.matched = make([]uint16, n)
		s.mark = make([]uint16, n)
	}
	s.score, s.matched, s.mark = s.score[:n], s.matched[:n], s.mark[:n]
	clear(s.score)
	clear(s.matched)
	clear(s.mark)
	return s.score
}

func sorted(m map[string]int) []Count {
	var cs []Count
	for v, n := range m {
		cs = append(cs, Count{v, n})
	}
	slices.SortFunc(cs, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return cs
}

// placeSet returns the place and every place under it, or nil for the zero ID.
func (ix *index) placeSet(p vigil.ID) map[vigil.ID]bool {
	if p.IsZero() {
		return nil
	}
	set := map[vigil.ID]bool{p: true}
	for changed := true; changed; {
		changed = false
		for child, parent := range ix.parent {
			if set[parent] && !set[child] {
				set[child] = true
				changed = true
			}
		}
	}
	return set
}

func (f *Filter) match(d *Document, places map[vigil.ID]bool) bool {
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, d.Kind) ||
		len(f.Statuses) > 0 && !slices.Contains(f.Statuses, d.Status) ||
		len(f.Grades) > 0 && !slices.Contains(f.Grades, d.Grade) {
		return false
	}
	if len(f.ActTypes) > 0 && !slices.ContainsFunc(d.ActTypes, func(a string) bool { return slices.Contains(f.ActTypes, a) }) {
		return false
	}
	if places != nil && !slices.ContainsFunc(d.Places, func(p vigil.ID) bool { return places[p] }) {
		return false
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		if d.From.IsZero() {
			return false
		}
		to := d.To
		if to.IsZero() {
			to = d.From
		}
		if !f.To.IsZero() && d.From.First().After(f.To.Last()) {
			return false
		}
		if !f.From.IsZero() && to.Last().Before(f.From.First()) {
			return false
		}
	}
	return true
}

// snippetWords is how many words a snippet shows.
const snippetWords = 24

// snippet returns the field with the most matched words and a window of it
// around the first of them.
func (ix *index) snippet(d *Document, match map[uint32]bool, private bool) (string, []Fragment) {
	type span struct{ start, end int }
	bestField, bestCount := -1, 0
	var bestSpans []span
	var buf []byte
	for fi, f := range d.Fields {
		if f.Private && !private {
			continue
		}
		var words, hits []span
		var firstHit = -1
		segment(f.Text, func(start, end int) {
			buf = appendFold(buf[:0], f.Text[start:end])
			if t, ok := ix.surface[string(buf)]; ok && match[t] {
				if firstHit < 0 {
					firstHit = len(words)
				}
				hits = append(hits, span{start, end})
			}
			words = append(words, span{start, end})
		})
		if len(hits) > bestCount || bestField < 0 && len(words) > 0 {
			bestField, bestCount = fi, len(hits)
			lo := max(firstHit-snippetWords/3, 0)
			hi := min(lo+snippetWords, len(words))
			bestSpans = append(words[lo:hi:hi], hits...)
		}
	}
	if bestField < 0 {
		return "", nil
	}
	f := d.Fields[bestField]
	nwin := min(len(bestSpans)-bestCount, snippetWords)
	window, hits := bestSpans[:nwin], bestSpans[nwin:]
	if len(window) == 0 {
		return f.Name, nil
	}
	var frags []Fragment
	at := window[0].start
	end := window[len(window)-1].end
	for _, h := range hits {
		if h.start < at || h.end > end {
			continue
		}
		if h.start > at {
			frags = append(frags, Fragment{Text: f.Text[at:h.start]})
		}
		frags = append(frags, Fragment{Text: f.Text[h.start:h.end], Match: true})
		at = h.end
	}
	if at < end {
		frags = append(frags, Fragment{Text: f.Text[at:end]})
	}
	return f.Name, frags
}
