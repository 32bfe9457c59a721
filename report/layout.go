package report

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// A4 in points, and the text block.
const (
	pageW   = 595.28
	pageH   = 841.89
	margin  = 50.0
	bodyW   = pageW - 2*margin
	bottom  = pageH - 60 // the footer sits below
	leading = 1.35       // line height as a multiple of the font size
)

// Font families registered in the PDF.
const (
	regular = "regular"
	bold    = "bold"
	mono    = "mono"
)

var fontData = map[string][]byte{regular: goregular.TTF, bold: gobold.TTF, mono: gomono.TTF}

// coverage says which runes each font can draw, parsed once.
var coverage = sync.OnceValue(func() map[string]*sfnt.Font {
	out := map[string]*sfnt.Font{}
	for name, b := range fontData {
		f, err := sfnt.Parse(b)
		if err != nil {
			panic("report: embedded font " + name + ": " + err.Error())
		}
		out[name] = f
	}
	return out
})

// hasCache remembers has's answers for runes below cacheLimit (every
// script the Go fonts cover): looking a glyph up in the font's tables costs
// more than the rest of writing the character. Rarer runes are looked up
// each time, so hostile text cannot grow the cache without bound.
var hasCache sync.Map // struct{font string; r rune} -> bool

const cacheLimit = 0x3000

// has reports whether font can draw r.
func has(font string, r rune) bool {
	type key struct {
		font string
		r    rune
	}
	if r < cacheLimit {
		if v, ok := hasCache.Load(key{font, r}); ok {
			return v.(bool)
		}
	}
	var buf sfnt.Buffer
	i, err := coverage()[font].GlyphIndex(&buf, r)
	ok := err == nil && i != 0
	if r < cacheLimit {
		hasCache.Store(key{font, r}, ok)
	}
	return ok
}

// clean returns s as font can draw it: NFC, tabs as spaces, carriage
// returns dropped, and every character the font lacks (control and
// formatting characters included) as U+FFFD. Newlines are kept; callers
// that want one line replace them.
func clean(font, s string) (string, bool) {
	s = norm.NFC.String(s)
	var b strings.Builder
	replaced := false
	for _, r := range s {
		switch {
		case r == '\n' || ' ' <= r && r <= '~': // printable ASCII: in every font
			b.WriteRune(r)
		case r == '\t':
			b.WriteRune(' ')
		case r == '\r':
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || !has(font, r):
			b.WriteRune(unicode.ReplacementChar)
			replaced = true
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), replaced
}

// A doc is a PDF under construction with a cursor: y is the top of the next
// line.
type doc struct {
	pdf      *gopdf.GoPdf
	lang     string
	y        float64
	font     string
	size     float64
	replaced bool // some text had characters replaced
	err      error
	adv      map[string]map[rune]float64 // see advance
	// onNewPage runs after each page break, e.g. to repeat a table's
	// header.
	onNewPage func()
}

func newDoc(lang string) (*doc, error) {
	p := &gopdf.GoPdf{}
	p.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	for _, name := range []string{regular, bold, mono} {
		if err := p.AddTTFFontData(name, fontData[name]); err != nil {
			return nil, fmt.Errorf("embed font %s: %w", name, err)
		}
	}
	d := &doc{pdf: p, lang: lang, adv: map[string]map[rune]float64{}}
	d.newPage()
	return d, nil
}

func (d *doc) fail(err error) {
	if err != nil && d.err == nil {
		d.err = err
	}
}

// newPage starts a page and runs onNewPage; the font in use before stays
// in use after, so a paragraph broken over pages keeps its size.
func (d *doc) newPage() {
	font, size := d.font, d.size
	d.pdf.AddPage()
	d.y = margin
	if f := d.onNewPage; f != nil {
		d.onNewPage = nil // a header taller than a page must not loop
		f()
		d.onNewPage = f
	}
	if font == "" {
		font, size = regular, 10
	}
	d.setFont(font, size)
}

// ensure starts a new page unless h more points fit on this one.
func (d *doc) ensure(h float64) {
	if d.y+h > bottom {
		d.newPage()
	}
}

func (d *doc) setFont(font string, size float64) {
	d.font, d.size = font, size
	d.fail(d.pdf.SetFont(font, "", size))
}

func (d *doc) lineHeight() float64 { return d.size * leading }

func (d *doc) color(r, g, b uint8) { d.pdf.SetTextColor(r, g, b) }

// width measures s (already clean) in the current font. gopdf measures a
// string as the sum of its glyphs' advances (no kerning unless asked), so
// each rune is measured once per font and the sums are exact; measuring
// whole strings again and again made wrapping long words quadratic.
func (d *doc) width(s string) float64 {
	w := 0.0
	for _, r := range s {
		w += d.advance(r)
	}
	return w * d.size
}

// advance returns r's advance in the current font at size 1.
func (d *doc) advance(r rune) float64 {
	m := d.adv[d.font]
	if m == nil {
		m = map[rune]float64{}
		d.adv[d.font] = m
	}
	a, ok := m[r]
	if !ok {
		w, err := d.pdf.MeasureTextWidth(string(r))
		d.fail(err)
		a = w / d.size
		m[r] = a
	}
	return a
}

// text draws one clean line with its top at (x, y).
func (d *doc) text(x, y float64, s string) {
	if s == "" {
		return
	}
	d.pdf.SetXY(x, y)
	d.fail(d.pdf.Cell(nil, s))
}

// prep cleans s for the current font and notes a replacement.
func (d *doc) prep(s string) string {
	c, rep := clean(d.font, s)
	d.replaced = d.replaced || rep
	return c
}

// wrap cleans s and breaks it into lines no wider than w: at spaces where
// it can, inside a word longer than a line where it must. Newlines in s
// start new lines.
func (d *doc) wrap(s string, w float64) []string {
	s = d.prep(s)
	var lines []string
	space := d.width(" ")
	for _, para := range strings.Split(s, "\n") {
		line, lineW := "", 0.0
		for _, word := range strings.Split(para, " ") {
			ww := d.width(word)
			if line == "" && ww <= w {
				line, lineW = word, ww
				continue
			}
			if line != "" && lineW+space+ww <= w {
				line, lineW = line+" "+word, lineW+space+ww
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			// The word alone: break it by characters if it is too long.
			rs := []rune(word)
			for ww > w {
				n := d.fit(rs, w)
				lines = append(lines, string(rs[:n]))
				rs = rs[n:]
				ww = d.width(string(rs))
			}
			line, lineW = string(rs), ww
		}
		lines = append(lines, line)
	}
	return lines
}

// fit returns how many leading runes of rs fit in w, at least one.
func (d *doc) fit(rs []rune, w float64) int {
	sum := 0.0
	for i, r := range rs {
		sum += d.advance(r) * d.size
		if sum > w {
			return max(i, 1)
		}
	}
	return len(rs)
}

// para writes s as a wrapped paragraph in font and size, breaking pages
// between lines, and leaves space after.
func (d *doc) para(font string, size float64, s string) {
	d.paraAt(margin, bodyW, font, size, s)
	d.y += size * 0.5
}

func (d *doc) paraAt(x, w float64, font string, size float64, s string) {
	d.setFont(font, size)
	for _, l := range d.wrap(s, w) {
		d.ensure(d.lineHeight())
		d.text(x, d.y, l)
		d.y += d.lineHeight()
	}
}

// heading writes a section heading, keeping it with room for what follows.
func (d *doc) heading(level int, s string) {
	size := map[int]float64{1: 16, 2: 12.5, 3: 11}[level]
	d.y += size * 0.6
	d.ensure(size*leading + 90) // keep it with what follows
	d.color(0x1f, 0x2f, 0x4f)
	d.paraAt(margin, bodyW, bold, size, s)
	d.color(0, 0, 0)
	if level == 1 {
		d.pdf.SetStrokeColor(0x1f, 0x2f, 0x4f)
		d.pdf.SetLineWidth(0.8)
		d.pdf.Line(margin, d.y, margin+bodyW, d.y)
		d.pdf.SetStrokeColor(0, 0, 0)
	}
	d.y += size * 0.4
}

// field writes "label: value" with the value wrapped beside the label.
func (d *doc) field(label, value, valueFont string) {
	const lw = 150
	d.setFont(bold, 9.5)
	ls := d.wrap(label, lw-8)
	d.setFont(valueFont, 9.5)
	vs := d.wrap(value, bodyW-lw)
	lh := d.lineHeight()
	if n := max(len(ls), len(vs)); n <= 10 {
		d.ensure(float64(n) * lh)
	}
	for i := 0; i < max(len(ls), len(vs)); i++ {
		d.ensure(lh)
		if i < len(ls) {
			d.setFont(bold, 9.5)
			d.text(margin, d.y, ls[i])
		}
		if i < len(vs) {
			d.setFont(valueFont, 9.5)
			d.text(margin+lw, d.y, vs[i])
		}
		d.y += lh
	}
}

// A column of a table: its title, its share of the body width, the font
// of its cells, and whether numbers align right.
type column struct {
	title string
	share float64
	font  string
	right bool
}

// table writes rows under a header row repeated on every page. A row taller
// than the rest of the page continues on the next, line by line, so no
// text is lost however long a cell is.
//
// Columns are sized on rows, or on sizeBy if given, so that several tables
// of the same kind (one per grade) line up.
func (d *doc) table(cols []column, rows [][]string, sizeBy ...[]string) {
	const size, pad = 8.5, 3.0
	total := 0.0
	for _, c := range cols {
		total += c.share
	}
	if len(sizeBy) == 0 {
		sizeBy = rows
	}
	ws := d.columnWidths(cols, sizeBy, size, pad, total)
	lh := size * leading
	wrapRow := func(cells []string, head bool) [][]string {
		out := make([][]string, len(cols))
		for i := range cols {
			f := cols[i].font
			if head {
				f = bold
			}
			d.setFont(f, size)
			s := ""
			if i < len(cells) {
				s = cells[i]
			}
			out[i] = d.wrap(s, ws[i]-2*pad)
		}
		return out
	}
	d.setFont(bold, size)
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	head := wrapRow(titles, true)
	drawRow := func(cells [][]string, from, n int, head, shade bool) {
		h := float64(n)*lh + 2*pad
		x := margin
		for i := range cols {
			switch {
			case head:
				d.pdf.SetFillColor(0xdd, 0xe3, 0xee)
			case shade:
				d.pdf.SetFillColor(0xf4, 0xf6, 0xfa)
			default:
				d.pdf.SetFillColor(0xff, 0xff, 0xff)
			}
			d.pdf.SetStrokeColor(0xb0, 0xb8, 0xc8)
			d.pdf.SetLineWidth(0.4)
			d.pdf.RectFromUpperLeftWithStyle(x, d.y, ws[i], h, "FD")
			f := cols[i].font
			if head {
				f = bold
			}
			d.setFont(f, size)
			for j := from; j < from+n && j < len(cells[i]); j++ {
				tx := x + pad
				if cols[i].right && !head {
					tx = x + ws[i] - pad - d.width(cells[i][j])
				}
				d.text(tx, d.y+pad+float64(j-from)*lh, cells[i][j])
			}
			x += ws[i]
		}
		d.pdf.SetFillColor(0, 0, 0)
		d.pdf.SetStrokeColor(0, 0, 0)
		d.y += h
	}
	lines := func(cells [][]string) int {
		n := 1
		for _, c := range cells {
			n = max(n, len(c))
		}
		return n
	}
	header := func() { drawRow(head, 0, lines(head), true, false) }
	// Keep the header with the first row (or its first lines).
	first := 1
	if len(rows) > 0 {
		first = min(lines(wrapRow(rows[0], false)), 6)
	}
	d.ensure(float64(lines(head)+first)*lh + 4*pad)
	header()
	prev := d.onNewPage
	d.onNewPage = func() {
		if prev != nil {
			prev()
		}
		header()
	}
	for ri, r := range rows {
		cells := wrapRow(r, false)
		n := lines(cells)
		// Keep a row whole when it fits on a page.
		if float64(n)*lh+2*pad > bottom-d.y && float64(n)*lh+2*pad <= bottom-margin-60 {
			d.newPage()
		}
		for from := 0; from < n; {
			fit := int((bottom - d.y - 2*pad) / lh)
			if fit < 1 {
				d.newPage()
				continue
			}
			k := min(fit, n-from)
			drawRow(cells, from, k, false, ri%2 == 1)
			from += k
		}
	}
	d.onNewPage = prev
	d.y += 8
}

// columnWidths sizes columns as browsers size auto tables: each column
// needs room for its longest word (header included), so words break only
// when they cannot fit at all, and would like room for its longest cell on
// one line. If all the wishes fit, the rest is shared by the columns'
// shares; else the room beyond the needs goes to each column in proportion
// to how much more it would like. If even the needs do not fit, the
// shares alone decide.
func (d *doc) columnWidths(cols []column, rows [][]string, size, pad, total float64) []float64 {
	ws := make([]float64, len(cols))
	need := make([]float64, len(cols))
	want := make([]float64, len(cols))
	var sumNeed, sumWant float64
	for i, c := range cols {
		d.setFont(bold, size)
		title := d.prep(c.title)
		for _, w := range strings.Fields(title) {
			need[i] = max(need[i], d.width(w))
		}
		d.setFont(c.font, size)
		for _, r := range rows {
			if i >= len(r) {
				continue
			}
			cell := d.prep(r[i])
			for _, l := range strings.Split(cell, "\n") {
				want[i] = max(want[i], d.width(l))
			}
			for _, w := range strings.Fields(cell) {
				need[i] = max(need[i], d.width(w))
			}
		}
		need[i] = min(need[i]+2*pad+1, bodyW*0.4)
		want[i] = min(max(want[i]+2*pad+1, need[i]), bodyW*0.6)
		sumNeed += need[i]
		sumWant += want[i]
	}
	for i, c := range cols {
		switch {
		case sumWant <= bodyW:
			ws[i] = want[i] + (bodyW-sumWant)*c.share/total
		case sumNeed <= bodyW:
			ws[i] = need[i] + (bodyW-sumNeed)*(want[i]-need[i])/(sumWant-sumNeed)
		default:
			ws[i] = bodyW * c.share / total
		}
	}
	return ws
}

// A bar is one group of a chart.
type bar struct {
	label               string
	confirmed, reported int
	total               bool // the sum of the groups: set apart by a rule
}

// Chart colours: confirmed dark, reported light, told apart by lightness
// as well as hue (readable in grey print and by colour-blind readers).
var (
	darkBar  = [3]uint8{0x1f, 0x4e, 0x79}
	lightBar = [3]uint8{0xa9, 0xc8, 0xe8}
)

// chart draws a horizontal range chart: for each group a light bar up to
// "reported up to" and a dark bar up to "confirmed at least" over it, the
// two numbers at the right. The axis repeats on each page it spans.
func (d *doc) chart(bars []bar) {
	const labelW, numW, size, barH = 150.0, 70.0, 8.5, 11.0
	x0 := margin + labelW
	plotW := bodyW - labelW - numW
	top := 1
	for _, b := range bars {
		top = max(top, b.reported, b.confirmed)
	}
	step := niceStep(float64(top) / 5)
	scaleMax := math.Ceil(float64(top)/step) * step
	xOf := func(v float64) float64 { return x0 + plotW*v/scaleMax }
	lh := size * leading

	legend := func() {
		d.setFont(regular, size)
		x := x0
		for _, it := range []struct {
			c [3]uint8
			s string
		}{{darkBar, tr(d.lang, "chart.legend.c")}, {lightBar, tr(d.lang, "chart.legend.r")}} {
			d.pdf.SetFillColor(it.c[0], it.c[1], it.c[2])
			d.pdf.RectFromUpperLeftWithStyle(x, d.y+1, 10, 8, "F")
			s := d.prep(it.s)
			d.text(x+14, d.y, s)
			x += 14 + d.width(s) + 18
		}
		d.pdf.SetFillColor(0, 0, 0)
		// The numbers' column says what they are.
		d.color(0x55, 0x55, 0x55)
		s := d.prep(tr(d.lang, "chart.numbers"))
		d.text(margin+bodyW-d.width(s), d.y, s)
		d.color(0, 0, 0)
		d.y += lh + 4
	}
	axis := func() {
		d.setFont(regular, 7.5)
		d.color(0x55, 0x55, 0x55)
		for v := 0.0; v <= scaleMax+step/2; v += step {
			s := fmt.Sprint(int(v))
			d.text(xOf(v)-d.width(s)/2, d.y, s)
		}
		d.color(0, 0, 0)
		d.y += 7.5*leading + 2
	}
	d.ensure(lh*3 + 30)
	legend()
	axis()
	prev := d.onNewPage
	d.onNewPage = func() {
		if prev != nil {
			prev()
		}
		axis()
	}
	for _, b := range bars {
		d.setFont(regular, size)
		ls := d.wrap(b.label, labelW-8)
		if len(ls) > 3 {
			ls = append(ls[:2], ls[2]+"…")
		}
		rowH := max(float64(len(ls))*lh, barH) + 6
		d.ensure(rowH)
		font := regular
		if b.total {
			font = bold
			d.y += 4
			d.pdf.SetStrokeColor(0x40, 0x40, 0x40)
			d.pdf.SetLineWidth(0.6)
			d.pdf.Line(margin, d.y-2, margin+bodyW, d.y-2)
		}
		// Grid lines through the row.
		d.pdf.SetStrokeColor(0xd8, 0xd8, 0xd8)
		d.pdf.SetLineWidth(0.4)
		for v := 0.0; v <= scaleMax+step/2; v += step {
			d.pdf.Line(xOf(v), d.y, xOf(v), d.y+rowH)
		}
		d.setFont(font, size)
		for i, l := range ls {
			d.text(margin, d.y+3+float64(i)*lh, l)
		}
		by := d.y + (rowH-barH)/2
		if b.reported > 0 {
			d.pdf.SetFillColor(lightBar[0], lightBar[1], lightBar[2])
			d.pdf.RectFromUpperLeftWithStyle(x0, by, xOf(float64(b.reported))-x0, barH, "F")
		}
		if b.confirmed > 0 {
			d.pdf.SetFillColor(darkBar[0], darkBar[1], darkBar[2])
			d.pdf.RectFromUpperLeftWithStyle(x0, by+2, xOf(float64(b.confirmed))-x0, barH-4, "F")
		}
		d.pdf.SetFillColor(0, 0, 0)
		d.pdf.SetStrokeColor(0x40, 0x40, 0x40)
		d.pdf.SetLineWidth(0.6)
		d.pdf.Line(x0, d.y, x0, d.y+rowH)
		d.setFont(bold, size)
		num := fmt.Sprintf("%d / %d", b.confirmed, b.reported)
		d.text(margin+bodyW-d.width(num), d.y+(rowH-lh)/2, num)
		d.y += rowH
	}
	d.pdf.SetStrokeColor(0, 0, 0)
	d.onNewPage = prev
	d.y += 10
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// box writes preformatted text (a signed checkpoint) in a shaded frame,
// each line wrapped by characters if it is too long.
func (d *doc) box(s string) {
	const size, pad = 8.0, 6.0
	d.setFont(mono, size)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		l = d.prep(l)
		rs := []rune(l)
		for len(rs) > 0 && d.width(string(rs)) > bodyW-2*pad {
			n := d.fit(rs, bodyW-2*pad)
			lines = append(lines, string(rs[:n]))
			rs = rs[n:]
		}
		lines = append(lines, string(rs))
	}
	lh := size * leading
	h := float64(len(lines))*lh + 2*pad
	d.ensure(min(h, bottom-margin))
	d.pdf.SetFillColor(0xf2, 0xf2, 0xf2)
	d.pdf.SetStrokeColor(0xb0, 0xb0, 0xb0)
	d.pdf.SetLineWidth(0.4)
	d.pdf.RectFromUpperLeftWithStyle(margin, d.y, bodyW, min(h, bottom-d.y), "FD")
	d.pdf.SetFillColor(0, 0, 0)
	d.pdf.SetStrokeColor(0, 0, 0)
	d.y += pad
	d.setFont(mono, size)
	for _, l := range lines {
		d.ensure(lh)
		d.text(margin+pad, d.y, l)
		d.y += lh
	}
	d.y += pad + 6
}
