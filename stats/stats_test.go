package stats

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/figures"
)

// world is a small case: two regions (each with a district), acts of
// three types over two months, with victim counts chosen so that many
// cells are below k.
type world struct {
	acts   []Act
	places map[vigil.ID]Place
	region map[vigil.ID]string
}

func newWorld(t testing.TB, victims [][3]int) world {
	// victims[i] = {type index, region index*2+month index, count}
	w := world{places: map[vigil.ID]Place{}, region: map[vigil.ID]string{}}
	leaf := int64(100)
	next := func() int64 { leaf++; return leaf }
	var districts []vigil.ID
	for i := range 2 {
		r, d := vigil.NewID(), vigil.NewID()
		w.places[r] = Place{Place: vigil.Place{Names: map[string]string{"en": "Region " + string(rune('A'+i))}}, Leaf: next()}
		w.places[d] = Place{Place: vigil.Place{Names: map[string]string{"en": "District"}, Parent: r}, Leaf: next()}
		districts = append(districts, d)
		w.region[r] = "Region " + string(rune('A'+i))
	}
	types := []string{"arbitrary_detention", "torture", "enforced_disappearance"}
	for _, v := range victims {
		month := v[1] % 2
		d, err := vigil.NewDate(2024, 3+month, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := vigil.NewID()
		a := Act{Leaf: next(), ClaimLeaves: map[vigil.ID]int64{c: next()}}
		a.ID = vigil.NewID()
		a.Act.Act = vigil.Act{Type: types[v[0]], Place: districts[v[1]/2], Period: vigil.Period{From: d}, Victims: vigil.VictimCount{Min: v[2], Max: v[2]}}
		a.Result = corroborate.Result{Status: corroborate.Corroborated, Affirming: []vigil.ID{c}}
		w.acts = append(w.acts, a)
	}
	return w
}

func (w world) compute(t testing.TB, k int) Table {
	tb, err := Compute(w.acts, w.places, Params{K: k}, func(id vigil.ID) string { return w.region[id] })
	if err != nil {
		t.Fatal(err)
	}
	tb.ID, tb.Published = vigil.NewID(), time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	return tb
}

func sampleTable() Table {
	w := newWorld(nopTB{}, smallCounts)
	return w.compute(nopTB{}, 5)
}

type nopTB struct{ testing.TB }

func (nopTB) Fatal(...any) { panic("fatal") }

// smallCounts: {type, region*2+month, victims}.
var smallCounts = [][3]int{
	{0, 0, 3}, {0, 0, 4}, {0, 1, 2}, {0, 2, 9}, {0, 3, 1},
	{1, 0, 1}, {1, 2, 6}, {1, 3, 7},
	{2, 1, 2}, {2, 3, 3}, {2, 0, 8},
}

// TestSmallCounts publishes a table of small counts, then attacks it: from
// the published text alone, the attacker writes every linear relation the
// table's shape implies (each total is the sum of its row or column, an
// absent cell is zero) and solves for the hidden figures. No hidden figure
// may be determined, no shown figure may be below k, and a hidden figure
// lists no leaves.
func TestSmallCounts(t *testing.T) {
	for _, k := range []int{3, 5, 10} {
		w := newWorld(t, smallCounts)
		tb := w.compute(t, k)
		text, err := tb.Text()
		if err != nil {
			t.Fatal(err)
		}
		pub, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		hidden := 0
		for _, f := range pub.Figures {
			if f.Suppressed {
				hidden++
				if f.Leaves != nil || f.ReportedUpTo != 0 {
					t.Errorf("k=%d: hidden %s carries numbers or leaves", k, f.Key)
				}
			} else if f.ReportedUpTo < k {
				t.Errorf("k=%d: %s shows %d, below k", k, f.Key, f.ReportedUpTo)
			}
		}
		if hidden == 0 {
			t.Fatalf("k=%d: nothing hidden: the test table is not small enough", k)
		}
		if det := attack(t, pub, func(f Figure) float64 { return float64(f.Acts) }); len(det) > 0 {
			t.Errorf("k=%d: the attacker recovers %v", k, det)
		}
		t.Logf("k=%d: %d figures, %d hidden", k, len(pub.Figures), hidden)
	}
}

// TestSuppressMinimal: the same table without complementary suppression
// (primary only) is open to the attack, so the attack is not vacuous.
func TestAttackFindsPrimaryOnly(t *testing.T) {
	w := newWorld(t, smallCounts)
	// Unhide every figure that is not below k: primary suppression only.
	full, err := Compute(w.acts, w.places, Params{K: 1}, func(id vigil.ID) string { return w.region[id] })
	if err != nil {
		t.Fatal(err)
	}
	for i := range full.Figures {
		full.Figures[i].Suppressed = full.Figures[i].ReportedUpTo < 5
	}
	if det := attack(t, full, func(f Figure) float64 { return float64(f.Acts) }); len(det) == 0 {
		t.Fatal("the attacker recovers nothing even from primary suppression alone: the attack is too weak to mean anything")
	}
}

// attack returns the hidden figures that the published ones determine. It
// builds its own equations from the keys (independently of Suppress):
// unknowns are the hidden figures; an absent cell is a known zero. It
// computes the null space of the equations restricted to the unknowns by
// floating-point elimination; an unknown is determined iff every null
// space vector is zero there.
func attack(t *testing.T, tb Table, value func(Figure) float64) []string {
	t.Helper()
	byKey := map[Key]Figure{}
	var types, months, regions []string
	add := func(list *[]string, v string) {
		if v != All && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, f := range tb.Figures {
		byKey[f.Key] = f
		add(&types, f.Type)
		add(&months, f.Month)
		add(&regions, f.Region)
	}
	var unknowns []Key
	col := map[Key]int{}
	for _, f := range tb.Figures {
		if f.Suppressed {
			col[f.Key] = len(unknowns)
			unknowns = append(unknowns, f.Key)
		}
	}
	var A [][]float64
	eq := func(total Key, parts []Key) {
		row := make([]float64, len(unknowns))
		any := false
		term := func(k Key, sign float64) {
			if c, ok := col[k]; ok {
				row[c] += sign
				any = true
			}
		}
		term(total, 1)
		for _, p := range parts {
			term(p, -1)
		}
		if any {
			A = append(A, row)
		}
	}
	for _, ty := range types {
		var byR, byM []Key
		for _, r := range regions {
			byR = append(byR, Key{ty, All, r})
		}
		for _, m := range months {
			byM = append(byM, Key{ty, m, All})
		}
		eq(Key{ty, All, All}, byR)
		eq(Key{ty, All, All}, byM)
	}
	var allT, allR, allM []Key
	for _, r := range regions {
		var parts []Key
		for _, ty := range types {
			parts = append(parts, Key{ty, All, r})
		}
		eq(Key{All, All, r}, parts)
		allR = append(allR, Key{All, All, r})
	}
	for _, m := range months {
		var parts []Key
		for _, ty := range types {
			parts = append(parts, Key{ty, m, All})
		}
		eq(Key{All, m, All}, parts)
		allM = append(allM, Key{All, m, All})
	}
	for _, ty := range types {
		allT = append(allT, Key{ty, All, All})
	}
	eq(Key{All, All, All}, allT)
	eq(Key{All, All, All}, allR)
	eq(Key{All, All, All}, allM)
	null := nullSpace(A, len(unknowns))
	var det []string
	for c, k := range unknowns {
		free := false
		for _, v := range null {
			if math.Abs(v[c]) > 1e-9 {
				free = true
			}
		}
		if !free {
			det = append(det, k.String())
		}
	}
	return det
}

// nullSpace returns a basis of {x : A x = 0} by reduced row echelon form.
func nullSpace(A [][]float64, n int) [][]float64 {
	m := make([][]float64, len(A))
	for i := range A {
		m[i] = slices.Clone(A[i])
	}
	var pivots []int
	r := 0
	for c := 0; c < n && r < len(m); c++ {
		p := -1
		for i := r; i < len(m); i++ {
			if math.Abs(m[i][c]) > 1e-9 && (p < 0 || math.Abs(m[i][c]) > math.Abs(m[p][c])) {
				p = i
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		pv := m[r][c]
		for j := range m[r] {
			m[r][j] /= pv
		}
		for i := range m {
			if i != r && math.Abs(m[i][c]) > 1e-12 {
				f := m[i][c]
				for j := range m[i] {
					m[i][j] -= f * m[r][j]
				}
			}
		}
		pivots = append(pivots, c)
		r++
	}
	var basis [][]float64
	for c := range n {
		if slices.Contains(pivots, c) {
			continue
		}
		v := make([]float64, n)
		v[c] = 1
		for i, pc := range pivots {
			v[pc] = -m[i][c]
		}
		basis = append(basis, v)
	}
	return basis
}

// TestLeavesNotListedNextToHidden: only shown type × region cells list
// leaves, their act leaves are disjoint (a partition, so no difference of
// listed sets isolates a hidden cell), and no hidden figure's act is among
// the listed leaves.
func TestLeavesNotListedNextToHidden(t *testing.T) {
	listed := 0
	for _, counts := range [][][3]int{smallCounts, {{0, 0, 6}, {0, 0, 7}, {0, 2, 9}, {1, 0, 8}, {1, 2, 6}, {2, 3, 1}}} {
		w := newWorld(t, counts)
		tb := w.compute(t, 5)
		actLeaf := map[int64]bool{}
		for _, a := range w.acts {
			actLeaf[a.Leaf] = true
		}
		seen := map[int64]Key{}
		for _, f := range tb.Figures {
			if f.Leaves == nil {
				continue
			}
			if f.Suppressed || f.Type == All || f.Region == All || f.Month != All {
				t.Errorf("%s (hidden %v) lists leaves", f.Key, f.Suppressed)
			}
			listed++
			for _, l := range f.Leaves {
				if !actLeaf[l] {
					continue
				}
				if k, dup := seen[l]; dup {
					t.Errorf("act leaf %d listed by %s and %s", l, k, f.Key)
				}
				seen[l] = f.Key
			}
		}
		// A hidden type × region cell's acts are listed nowhere.
		for _, a := range w.acts {
			if _, ok := seen[a.Leaf]; ok && hiddenCell(tb, w, a) {
				t.Errorf("act leaf %d of a hidden type × region cell is listed", a.Leaf)
			}
		}
	}
	if listed == 0 {
		t.Fatal("no figure lists leaves: the test checks nothing")
	}
}

func hiddenCell(tb Table, w world, a Act) bool {
	region, _, _ := RegionOf(a.Place, 1, func(id vigil.ID) (vigil.Place, int64, bool) { p, ok := w.places[id]; return p.Place, p.Leaf, ok })
	for _, f := range tb.Figures {
		if f.Suppressed && f.Key == (Key{a.Type, All, region}) {
			return true
		}
	}
	return false
}

// TestRecompute: every figure that lists leaves recomputes from the
// records of those leaves; a changed record or a missing one fails.
func TestRecompute(t *testing.T) {
	w := newWorld(t, [][3]int{{0, 0, 6}, {0, 0, 7}, {0, 2, 9}, {1, 0, 8}, {1, 2, 6}})
	tb := w.compute(t, 5)
	byLeaf := map[int64]Record{}
	for id, p := range w.places {
		byLeaf[p.Leaf] = Record{Kind: "place", ID: id, Document: mustJSON(t, p.Place)}
	}
	for _, a := range w.acts {
		byLeaf[a.Leaf] = Record{Kind: "act", ID: a.ID, Document: mustJSON(t, a.Act.Act)}
		for c, l := range a.ClaimLeaves {
			byLeaf[l] = Record{Kind: "claim", ID: c, Document: mustJSON(t, vigil.Claim{Act: a.ID, Source: vigil.NewID(), Stance: vigil.Affirms, Credibility: 2})}
		}
	}
	checked := 0
	for _, f := range tb.Figures {
		if f.Leaves == nil {
			continue
		}
		if err := Recompute(f, tb.RegionLevel, byLeaf); err != nil {
			t.Errorf("%s: %v", f.Key, err)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no figure lists leaves")
	}
	first := slices.IndexFunc(tb.Figures, func(f Figure) bool { return f.Leaves != nil })
	// A figure claiming one more victim fails.
	f := tb.Figures[first]
	f.ReportedUpTo++
	if err := Recompute(f, tb.RegionLevel, byLeaf); err == nil || !strings.Contains(err.Error(), "reported up to") {
		t.Errorf("inflated figure: %v", err)
	}
	// A denial passed off as an affirming claim fails.
	var a Act
	for _, x := range w.acts {
		if slices.Contains(tb.Figures[first].Leaves, x.Leaf) {
			a = x
		}
	}
	for c, l := range a.ClaimLeaves {
		byLeaf[l] = Record{Kind: "claim", ID: c, Document: mustJSON(t, vigil.Claim{Act: a.ID, Source: vigil.NewID(), Stance: vigil.Denies, Credibility: 2})}
	}
	if err := Recompute(tb.Figures[first], tb.RegionLevel, byLeaf); err == nil || !strings.Contains(err.Error(), "does not affirm") {
		t.Errorf("denial: %v", err)
	}
	delete(byLeaf, a.Leaf)
	if err := Recompute(tb.Figures[first], tb.RegionLevel, byLeaf); err == nil || !strings.Contains(err.Error(), "not in the bundles") {
		t.Errorf("missing record: %v", err)
	}
}

// TestTamper: the signed file verifies; a changed digit, a wrong key and
// a truncated file fail.
func TestTamper(t *testing.T) {
	tb := sampleTable()
	skey, vkey, _ := note.GenerateKey(nil, "example.org/advisories")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	msg, err := Sign(tb, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Fatalf("x/mod note.Open: %v", err)
	}
	got, err := Open(msg, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Figures) != len(tb.Figures) {
		t.Fatal("round trip lost figures")
	}
	i := bytes.Index(msg, []byte("reported="))
	changed := slices.Clone(msg)
	changed[i+len("reported=")]++
	if _, err := Open(changed, v); !errors.Is(err, ErrSignature) {
		t.Errorf("changed digit: %v", err)
	}
	_, vkey2, _ := note.GenerateKey(nil, "other.example/advisories")
	v2, _ := note.NewVerifier(vkey2)
	if _, err := Open(msg, v2); !errors.Is(err, ErrWrongKey) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := Open(msg[:len(msg)-20], v); err == nil {
		t.Error("truncated file verified")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var _ = figures.Unknown

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
