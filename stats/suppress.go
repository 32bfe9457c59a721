package stats

import (
	"math/big"
	"slices"
)

// An equation says that the figure Total is the sum of the figures Parts
// (by index into the figure list).
type equation struct {
	Total int
	Parts []int
}

// equations returns the linear relations between figs that a reader knows
// from the table's shape: every figure with one dimension set to All is
// the sum, over that dimension's values, of the figures that split it,
// when those figures are in the table.
func equations(figs []Figure) []equation {
	index := make(map[Key]int, len(figs))
	for i, f := range figs {
		index[f.Key] = i
	}
	var eqs []equation
	for i, f := range figs {
		// For each dimension this figure does not split by, the figures
		// that split it by exactly that dimension.
		for d := range 3 {
			if get(f.Key, d) != All {
				continue
			}
			var parts []int
			for j, g := range figs {
				if j == i || get(g.Key, d) == All {
					continue
				}
				same := true
				for e := range 3 {
					if e != d && get(g.Key, e) != get(f.Key, e) {
						same = false
					}
				}
				if same {
					parts = append(parts, j)
				}
			}
			if len(parts) > 0 {
				eqs = append(eqs, equation{Total: i, Parts: parts})
			}
		}
	}
	return eqs
}

func get(k Key, d int) string {
	switch d {
	case 0:
		return k.Type
	case 1:
		return k.Month
	}
	return k.Region
}

// Suppress hides every figure whose ReportedUpTo is below k, then hides
// more until no hidden figure is determined by the equations between the
// figures (see the package doc, Small counts). It sets Suppressed; it does
// not clear the numbers.
func Suppress(figs []Figure, k int) {
	for i := range figs {
		if figs[i].ReportedUpTo < k {
			figs[i].Suppressed = true
		}
	}
	eqs := equations(figs)
	for {
		hidden := func(i int) bool { return figs[i].Suppressed }
		r := firstDetermined(len(figs), eqs, hidden)
		if r < 0 {
			return
		}
		// Hide one more figure of an equation holding r: the shown cell
		// (most dimensions, then smallest) or, failing that, any shown one.
		best := -1
		for _, eq := range eqs {
			all := append([]int{eq.Total}, eq.Parts...)
			if !slices.Contains(all, r) {
				continue
			}
			for _, j := range all {
				if figs[j].Suppressed {
					continue
				}
				if best < 0 || better(figs[j], figs[best]) {
					best = j
				}
			}
		}
		if best < 0 { // cannot happen: a determined unknown has a shown neighbour
			return
		}
		figs[best].Suppressed = true
	}
}

func better(a, b Figure) bool {
	if a.dims() != b.dims() {
		return a.dims() > b.dims()
	}
	return a.ReportedUpTo < b.ReportedUpTo
}

// firstDetermined returns the first hidden figure that the equations
// determine from the shown ones, or -1.
func firstDetermined(n int, eqs []equation, hidden func(int) bool) int {
	for _, i := range Determined(n, eqs, hidden) {
		return i
	}
	return -1
}

// Determined returns the hidden figures (of n, hidden(i) true) whose value
// follows from the equations and the shown figures: i is determined when
// the unit vector e_i lies in the row space of the equations' coefficients
// restricted to the hidden figures. Computed exactly over the rationals.
func Determined(n int, eqs []equation, hidden func(int) bool) []int {
	col := map[int]int{}
	var unknowns []int
	for i := range n {
		if hidden(i) {
			col[i] = len(unknowns)
			unknowns = append(unknowns, i)
		}
	}
	if len(unknowns) == 0 {
		return nil
	}
	var rows [][]*big.Rat
	for _, eq := range eqs {
		row := make([]*big.Rat, len(unknowns))
		nz := false
		set := func(i int, v int64) {
			if c, ok := col[i]; ok {
				if row[c] == nil {
					row[c] = new(big.Rat)
				}
				row[c].Add(row[c], big.NewRat(v, 1))
				nz = true
			}
		}
		set(eq.Total, 1)
		for _, p := range eq.Parts {
			set(p, -1)
		}
		if nz {
			for c := range row {
				if row[c] == nil {
					row[c] = new(big.Rat)
				}
			}
			rows = append(rows, row)
		}
	}
	basis := rowEchelon(rows, len(unknowns))
	r := len(basis)
	var out []int
	for c, i := range unknowns {
		e := make([]*big.Rat, len(unknowns))
		for j := range e {
			e[j] = new(big.Rat)
		}
		e[c].SetInt64(1)
		if len(rowEchelon(append(slices.Clone(basis), e), len(unknowns))) == r {
			out = append(out, i)
		}
	}
	return out
}

// rowEchelon returns a basis of the row space of rows (copied), by
// Gaussian elimination over the rationals.
func rowEchelon(rows [][]*big.Rat, width int) [][]*big.Rat {
	m := make([][]*big.Rat, len(rows))
	for i, r := range rows {
		m[i] = make([]*big.Rat, width)
		for j := range width {
			m[i][j] = new(big.Rat).Set(r[j])
		}
	}
	rank := 0
	for c := 0; c < width && rank < len(m); c++ {
		p := -1
		for i := rank; i < len(m); i++ {
			if m[i][c].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		m[rank], m[p] = m[p], m[rank]
		for i := range m {
			if i == rank || m[i][c].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Quo(m[i][c], m[rank][c])
			for j := c; j < width; j++ {
				m[i][j].Sub(m[i][j], new(big.Rat).Mul(f, m[rank][j]))
			}
		}
		rank++
	}
	return m[:rank]
}
