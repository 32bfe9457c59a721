// Package stats computes, protects, signs and checks vigil's public
// statistics: victims of acts by act type, month and region, as a signed
// note that anyone can verify with the publication key, and that a court
// given the matching evidence bundles can recompute figure by figure.
//
// # What is published
//
// From the acts that have at least one affirming claim (package figures'
// set R), [Compute] makes two tables with their margins: type × region and
// type × month, the per-type, per-region and per-month totals, and the
// grand total. Places are coarsened to regions: an act's region is its
// place's ancestor at [Params.RegionLevel] (1, the default, is the
// top-level place; 2 the level below; an act placed above that level counts
// under its own place). Each figure gives the number of acts, "confirmed at
// least" and "reported up to" (the formulas of package figures).
//
// # Small counts
//
// A figure whose "reported up to" is below k ([Params.K], default 5) is
// suppressed (primary suppression): its numbers are not published and the
// page shows "fewer than k, or hidden". Then complementary suppression: the
// published figures satisfy linear equations (each margin is the sum of its
// row or column; the grand total the sum of each margin), so an attacker
// could solve for a hidden figure. [Suppress] treats every hidden figure as
// an unknown and checks, by exact rank computation over the rationals,
// whether the equations determine it (the unit vector lies in the row space
// of the equations restricted to the unknowns); while one is determined it
// hides one more figure of an equation that contains it, preferring the
// smallest cell. The pattern is the same for all three numbers.
// Complementary hidden figures are shown exactly like primary ones, so the
// page does not say which ones are small. What remains: the equations and
// non-negativity still bound a hidden figure to an interval (TestSmallCounts
// checks no hidden figure is determined, not that its interval is wide).
// "Reported up to" counts an identified person once per figure, so its
// margins may be less than the sum of their cells: an attacker then has
// inequalities, which determine no less than the equalities would.
//
// # Leaves
//
// Each published figure names the log leaves of the records behind it:
// its acts, their affirming claims and the places on each act's way up to
// its region. A court given bundles of those leaves recomputes the number
// of acts and "reported up to" ([Recompute]); "confirmed at least"
// depends on the sources' grades and the corroboration rules, whose
// records are not listed, and is not recomputed.
//
// A hidden figure lists no leaves: their number would give its size away.
// Nor may the shown ones let anyone work a hidden figure's leaves out: a
// margin's leaves minus its shown cells' leaves would be its hidden cells'
// leaves, and a type × month cell's leaves minus the shown type × region
// cells' leaves would be part of a hidden region cell's. So only the shown
// cells of the type × region table list leaves: they partition the acts,
// so no set operation on them isolates anything but shown cells. Margins,
// the grand total and the type × month table list none; a court checks
// them as sums of the cells it recomputed (the number of acts adds up
// exactly; "reported up to" may be less than the sum, see Small counts).
package stats

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/figures"
)

// Header is the first line of a statistics note.
const Header = "vigil statistics/1"

// All is the value of a dimension a figure does not split by.
const All = "*"

// A Key names a figure by its type, month and region; [All] where it does
// not split by that dimension.
type Key struct {
	Type, Month, Region string
}

func (k Key) String() string {
	return "type=" + k.Type + " month=" + k.Month + " region=" + k.Region
}

func (k Key) dims() int {
	n := 0
	for _, v := range []string{k.Type, k.Month, k.Region} {
		if v != All {
			n++
		}
	}
	return n
}

// A Figure is one published number set.
type Figure struct {
	Key
	Suppressed       bool
	Acts             int
	ConfirmedAtLeast int
	ReportedUpTo     int
	// Leaves are the log leaves of the records behind the figure, sorted;
	// nil when not listed (see the package doc, Leaves).
	Leaves []int64
}

// A Table is a statistics publication.
type Table struct {
	ID          vigil.ID
	Published   time.Time
	K           int
	RegionLevel int
	// Regions names the regions: region key (a place record ID) to name.
	Regions map[string]string
	Figures []Figure // sorted by key, see sortFigures
}

// Params tune [Compute].
type Params struct {
	// K is the smallest count published; default 5.
	K int
	// RegionLevel is the place level counted as a region: 1 (default) the
	// top-level place, 2 the one below, ...
	RegionLevel int
}

// An Act is an act with what Compute needs to place it and name its leaves.
type Act struct {
	figures.Act
	// Leaf is the act's log leaf; ClaimLeaves the leaves of its affirming
	// claims (keyed by claim ID).
	Leaf        int64
	ClaimLeaves map[vigil.ID]int64
}

// A Place is a place with its log leaf, for regions.
type Place struct {
	vigil.Place
	Leaf int64
}

// Limits of a table.
const (
	MaxFigures = 20000
	maxLeaves  = 1000000
)

// Compute returns the protected statistics of acts. places must hold every
// place an act names and their ancestors; name gives a region's public
// name.
func Compute(acts []Act, places map[vigil.ID]Place, p Params, name func(vigil.ID) string) (Table, error) {
	if p.K <= 0 {
		p.K = 5
	}
	if p.RegionLevel <= 0 {
		p.RegionLevel = 1
	}
	t := Table{K: p.K, RegionLevel: p.RegionLevel, Regions: map[string]string{}}
	type group struct {
		acts   []figures.Act
		leaves map[int64]bool
	}
	groups := map[Key]*group{}
	add := func(k Key, a Act, leaves []int64) {
		g := groups[k]
		if g == nil {
			g = &group{leaves: map[int64]bool{}}
			groups[k] = g
		}
		g.acts = append(g.acts, a.Act)
		for _, l := range leaves {
			g.leaves[l] = true
		}
	}
	for _, a := range acts {
		if len(a.Result.Affirming) == 0 {
			continue
		}
		region, placeLeaves, err := RegionOf(a.Place, p.RegionLevel, func(id vigil.ID) (vigil.Place, int64, bool) {
			pl, ok := places[id]
			return pl.Place, pl.Leaf, ok
		})
		if err != nil {
			return Table{}, fmt.Errorf("act %s: %w", a.ID, err)
		}
		if region != figures.Unknown && name != nil {
			id, _ := vigil.ParseID(region)
			t.Regions[region] = name(id)
		}
		leaves := append([]int64{a.Leaf}, placeLeaves...)
		for _, c := range a.Result.Affirming {
			l, ok := a.ClaimLeaves[c]
			if !ok {
				return Table{}, fmt.Errorf("act %s: no leaf for claim %s", a.ID, c)
			}
			leaves = append(leaves, l)
		}
		typ := a.Type
		if typ == "" {
			typ = figures.Unknown
		}
		month := MonthKey(a.Period.From)
		for _, k := range []Key{
			{typ, All, region}, {typ, month, All},
			{typ, All, All}, {All, All, region}, {All, month, All},
			{All, All, All},
		} {
			add(k, a, leaves)
		}
	}
	if len(groups) > MaxFigures {
		return Table{}, fmt.Errorf("%w: more than %d figures", vigil.ErrInvalid, MaxFigures)
	}
	for k, g := range groups {
		f := figures.Total(g.acts)
		fig := Figure{Key: k, Acts: len(f.Acts), ConfirmedAtLeast: f.ConfirmedAtLeast, ReportedUpTo: f.ReportedUpTo}
		for l := range g.leaves {
			fig.Leaves = append(fig.Leaves, l)
		}
		slices.Sort(fig.Leaves)
		t.Figures = append(t.Figures, fig)
	}
	sortFigures(t.Figures)
	Suppress(t.Figures, p.K)
	// Leaves only for the shown cells of the type × region table, which
	// partition the acts (see the package doc, Leaves).
	for i := range t.Figures {
		f := &t.Figures[i]
		if f.Suppressed || !listsLeaves(f.Key) {
			f.Leaves = nil
		}
		if f.Suppressed {
			f.Acts, f.ConfirmedAtLeast, f.ReportedUpTo = 0, 0, 0
		}
	}
	return t, nil
}

// listsLeaves reports whether a figure of key k lists its leaves when
// shown: the cells of the type × region table.
func listsLeaves(k Key) bool { return k.Type != All && k.Region != All && k.Month == All }

// RegionOf returns the region key of place (its ancestor at level, see
// [Params.RegionLevel]; [figures.Unknown] for a zero place) and the leaves
// of the places from place up to the top. place looks a place up.
func RegionOf(place vigil.ID, level int, lookup func(vigil.ID) (vigil.Place, int64, bool)) (string, []int64, error) {
	if place.IsZero() {
		return figures.Unknown, nil, nil
	}
	chain := []vigil.ID{place}
	var leaves []int64
	seen := map[vigil.ID]bool{}
	for id := place; !id.IsZero(); {
		if seen[id] {
			return "", nil, fmt.Errorf("%w: place %s is its own ancestor", vigil.ErrCorrupt, id)
		}
		seen[id] = true
		p, leaf, ok := lookup(id)
		if !ok {
			return "", nil, fmt.Errorf("%w: place %s", vigil.ErrNotFound, id)
		}
		leaves = append(leaves, leaf)
		if !p.Parent.IsZero() {
			chain = append(chain, p.Parent)
		}
		id = p.Parent
	}
	return chain[max(0, len(chain)-level)].String(), leaves, nil
}

// MonthKey is the month key of a date: "YYYY-MM", "YYYY" for a date known
// to the year, or [figures.Unknown].
func MonthKey(d vigil.Date) string {
	switch d.Precision() {
	case 0:
		return figures.Unknown
	case vigil.PrecisionYear:
		return d.String()
	}
	return fmt.Sprintf("%04d-%02d", d.Year(), d.Month())
}

func sortFigures(fs []Figure) {
	slices.SortFunc(fs, func(a, b Figure) int {
		if c := a.dims() - b.dims(); c != 0 {
			return c
		}
		return strings.Compare(a.Key.String(), b.Key.String())
	})
}

// Text returns the table's note text:
//
//	vigil statistics/1
//	id: 01JD...
//	published: 2026-12-01T08:00:00Z
//	k: 5
//	region-level: 1
//	region: 01JC... Name of the region
//	figure: type=* month=* region=* acts=12 confirmed=30 reported=41 leaves=3,5,...
//	figure: type=arbitrary_detention month=* region=01JC... hidden
func (t Table) Text() ([]byte, error) {
	if t.ID.IsZero() || t.Published.IsZero() || t.K <= 0 || t.RegionLevel <= 0 {
		return nil, fmt.Errorf("%w: statistics: id, time, k and region level are required", vigil.ErrInvalid)
	}
	if len(t.Figures) > MaxFigures {
		return nil, fmt.Errorf("%w: statistics: more than %d figures", vigil.ErrInvalid, MaxFigures)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nid: %s\npublished: %s\nk: %d\nregion-level: %d\n", Header, t.ID, t.Published.UTC().Format(time.RFC3339), t.K, t.RegionLevel)
	regions := make([]string, 0, len(t.Regions))
	for r := range t.Regions {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		if _, err := vigil.ParseID(r); err != nil {
			return nil, fmt.Errorf("%w: region %q is not a record ID", vigil.ErrInvalid, r)
		}
		n := t.Regions[r]
		if !safeName(n) {
			return nil, fmt.Errorf("%w: region %s: name has control characters or is too long", vigil.ErrInvalid, r)
		}
		fmt.Fprintf(&b, "region: %s %s\n", r, n)
	}
	for _, f := range t.Figures {
		for _, v := range []string{f.Type, f.Month, f.Region} {
			if v == "" || strings.ContainsAny(v, " =\n") || len(v) > 64 {
				return nil, fmt.Errorf("%w: figure key %q", vigil.ErrInvalid, v)
			}
		}
		if f.Suppressed {
			if f.Leaves != nil || f.Acts != 0 || f.ReportedUpTo != 0 || f.ConfirmedAtLeast != 0 {
				return nil, fmt.Errorf("%w: hidden figure %s carries numbers", vigil.ErrInvalid, f.Key)
			}
			fmt.Fprintf(&b, "figure: %s hidden\n", f.Key)
			continue
		}
		if f.Acts < 0 || f.ConfirmedAtLeast < 0 || f.ReportedUpTo < f.ConfirmedAtLeast {
			return nil, fmt.Errorf("%w: figure %s: bad numbers", vigil.ErrInvalid, f.Key)
		}
		fmt.Fprintf(&b, "figure: %s acts=%d confirmed=%d reported=%d", f.Key, f.Acts, f.ConfirmedAtLeast, f.ReportedUpTo)
		if f.Leaves != nil {
			b.WriteString(" leaves=")
			for i, l := range f.Leaves {
				if l < 0 || (i > 0 && l <= f.Leaves[i-1]) {
					return nil, fmt.Errorf("%w: figure %s: leaves not sorted", vigil.ErrInvalid, f.Key)
				}
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatInt(l, 10))
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

func safeName(s string) bool {
	if s == "" || len(s) > 200 || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

// ErrFormat is wrapped by every error of [Parse].
var ErrFormat = errors.New("not a vigil statistics file")

// Parse parses a statistics note's text; it accepts only what [Table.Text]
// writes.
func Parse(text []byte) (Table, error) {
	fail := func(format string, args ...any) (Table, error) {
		return Table{}, fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if len(text) > 64<<20 {
		return fail("too large")
	}
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if len(lines) < 5 || lines[0] != Header {
		return fail("first line is not %q", Header)
	}
	var t Table
	get := func(i int, name string) (string, error) {
		v, ok := strings.CutPrefix(lines[i], name+": ")
		if !ok {
			return "", fmt.Errorf("line %d: want %s", i+1, name)
		}
		return v, nil
	}
	v, err := get(1, "id")
	if err == nil {
		t.ID, err = vigil.ParseID(v)
	}
	if err != nil {
		return fail("id: %v", err)
	}
	if v, err = get(2, "published"); err == nil {
		t.Published, err = time.Parse(time.RFC3339, v)
	}
	if err != nil {
		return fail("published: %v", err)
	}
	t.Published = t.Published.UTC()
	if v, err = get(3, "k"); err == nil {
		t.K, err = strconv.Atoi(v)
	}
	if err != nil || t.K <= 0 || t.K > 1000 {
		return fail("k: want a small positive number")
	}
	if v, err = get(4, "region-level"); err == nil {
		t.RegionLevel, err = strconv.Atoi(v)
	}
	if err != nil || t.RegionLevel <= 0 || t.RegionLevel > 100 {
		return fail("region-level: want a small positive number")
	}
	t.Regions = map[string]string{}
	leaves := 0
	for i, l := range lines[5:] {
		if r, ok := strings.CutPrefix(l, "region: "); ok {
			id, n, _ := strings.Cut(r, " ")
			if _, dup := t.Regions[id]; dup {
				return fail("line %d: region listed twice", i+6)
			}
			t.Regions[id] = n
			continue
		}
		r, ok := strings.CutPrefix(l, "figure: ")
		if !ok {
			return fail("line %d: unknown line", i+6)
		}
		f, err := parseFigure(r, &leaves)
		if err != nil {
			return fail("line %d: %v", i+6, err)
		}
		t.Figures = append(t.Figures, f)
	}
	again, err := t.Text()
	if err != nil {
		return fail("%v", err)
	}
	if !bytes.Equal(again, text) {
		return fail("not in canonical form")
	}
	return t, nil
}

func parseFigure(s string, leaves *int) (Figure, error) {
	var f Figure
	parts := strings.Split(s, " ")
	if len(parts) < 4 {
		return f, errors.New("short figure line")
	}
	for i, name := range []string{"type", "month", "region"} {
		v, ok := strings.CutPrefix(parts[i], name+"=")
		if !ok || v == "" {
			return f, fmt.Errorf("want %s=", name)
		}
		*[]*string{&f.Type, &f.Month, &f.Region}[i] = v
	}
	if len(parts) == 4 && parts[3] == "hidden" {
		f.Suppressed = true
		return f, nil
	}
	if len(parts) < 6 || len(parts) > 7 {
		return f, errors.New("want acts=, confirmed=, reported= and maybe leaves=")
	}
	for i, name := range []string{"acts", "confirmed", "reported"} {
		v, ok := strings.CutPrefix(parts[3+i], name+"=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 || n > 1<<40 {
			return f, fmt.Errorf("want %s=N", name)
		}
		*[]*int{&f.Acts, &f.ConfirmedAtLeast, &f.ReportedUpTo}[i] = n
	}
	if len(parts) == 7 {
		v, ok := strings.CutPrefix(parts[6], "leaves=")
		if !ok || v == "" {
			return f, errors.New("want leaves=")
		}
		for _, x := range strings.Split(v, ",") {
			if *leaves++; *leaves > maxLeaves {
				return f, errors.New("too many leaves")
			}
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil || n < 0 {
				return f, errors.New("bad leaf index")
			}
			f.Leaves = append(f.Leaves, n)
		}
	}
	return f, nil
}

// Sign returns the table as a signed note.
func Sign(t Table, s note.Signer) ([]byte, error) {
	text, err := t.Text()
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(text)}, s)
}

// Errors of [Open].
var (
	ErrSignature = errors.New("the signature does not verify: the file was changed, or it was not signed by this key")
	ErrWrongKey  = errors.New("not signed by the given key")
)

// Open verifies a signed statistics note with the publication key and
// parses it.
func Open(msg []byte, v note.Verifier) (Table, error) {
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unknown *note.UnverifiedNoteError
		switch {
		case errors.As(err, &unknown):
			return Table{}, fmt.Errorf("%w %s", ErrWrongKey, v.Name())
		case err.Error() == "malformed note":
			return Table{}, fmt.Errorf("%w: not a signed note", ErrFormat)
		}
		return Table{}, ErrSignature
	}
	return Parse([]byte(n.Text))
}
