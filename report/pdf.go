package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/signintech/gopdf"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/vocab"
)

// WritePDF writes the report in lang ("en" or "ru") to w.
func (r *Report) WritePDF(w io.Writer, lang string) error {
	if !slices.Contains(Languages, lang) {
		return fmt.Errorf("%w: report language %q: want en or ru", vigil.ErrInvalid, lang)
	}
	d, err := newDoc(lang)
	if err != nil {
		return err
	}
	r.titlePage(d)
	r.actsTable(d)
	r.actDetails(d)
	r.figures(d)
	r.sourcesByGrade(d)
	r.items(d)
	r.recordIndex(d)
	r.howToVerify(d)
	r.footers(d)
	if d.err != nil {
		return fmt.Errorf("write report: %w", d.err)
	}
	if _, err := d.pdf.WriteTo(w); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func (r *Report) orgName(lang string) string {
	if n := localName(r.Organisation, lang); n != "" {
		return n
	}
	return tr(lang, "org.none")
}

func (r *Report) titlePage(d *doc) {
	l := d.lang
	d.y = margin + 20
	d.color(0x55, 0x55, 0x55)
	d.para(regular, 12, r.orgName(l))
	d.color(0, 0, 0)
	d.y += 30
	d.color(0x1f, 0x2f, 0x4f)
	d.para(bold, 22, tr(l, "title"))
	d.color(0, 0, 0)
	d.para(bold, 15, r.Incident.Title)
	d.y += 10
	inc := r.Incident
	d.field(tr(l, "key"), keyOr(inc.Key, inc.ID), regular)
	d.field(tr(l, "record"), inc.ID.String(), mono)
	d.field(tr(l, "leaf"), fmt.Sprint(inc.Leaf), mono)
	d.field(tr(l, "period"), periodText(inc.Period), regular)
	if inc.Place != nil {
		d.field(tr(l, "place"), localName(inc.Place, l), regular)
	}
	d.field(tr(l, "generated"), r.Generated.Format("2006-01-02"), regular)
	d.y += 6
	if inc.Restricted {
		d.color(0x9a, 0x1b, 0x1b)
		d.para(bold, 10, tr(l, "restricted"))
		d.color(0, 0, 0)
	}
	if inc.Description != "" {
		d.y += 4
		d.para(regular, 10, inc.Description)
	}
	d.heading(2, tr(l, "summary"))
	d.para(regular, 10, tr(l, "summary.text", len(r.Acts), r.Total.ConfirmedAtLeast, r.Total.ReportedUpTo))
	d.heading(2, tr(l, "log"))
	r.checkpointFields(d)
}

func (r *Report) checkpointFields(d *doc) {
	l := d.lang
	d.field(tr(l, "origin"), r.Checkpoint.Origin, mono)
	d.field(tr(l, "size"), fmt.Sprint(r.Checkpoint.Size), mono)
	d.field(tr(l, "root"), r.Checkpoint.Root, mono)
	d.y += 4
	d.setFont(bold, 9.5)
	d.paraAt(margin, bodyW, bold, 9.5, tr(l, "signed"))
	d.box(r.Checkpoint.Signed)
}

func (r *Report) actsTable(d *doc) {
	l := d.lang
	d.newPage()
	d.heading(1, tr(l, "acts"))
	cols := []column{
		{tr(l, "act"), 1.3, regular, false}, {tr(l, "type"), 1.3, regular, false},
		{tr(l, "period"), 1.0, regular, false}, {tr(l, "victims"), 0.75, regular, true},
		{tr(l, "status"), 1.1, regular, false}, {tr(l, "flags"), 1.1, regular, false},
		{tr(l, "leaf"), 0.55, mono, true},
	}
	var rows [][]string
	for _, a := range r.Acts {
		rows = append(rows, []string{keyOr(a.Key, a.ID), typeLabel(l, a.Type), periodText(a.Period),
			victimsText(a.Victims), statusLabel(l, a.Status), flagLabels(l, a.Flags), fmt.Sprint(a.Leaf)})
	}
	d.table(cols, rows)
	d.color(0x44, 0x44, 0x44)
	d.para(regular, 8.5, tr(l, "status.legend"))
	d.color(0, 0, 0)
}

func (r *Report) actDetails(d *doc) {
	l := d.lang
	src := map[vigil.ID]Source{}
	for _, s := range r.Sources {
		src[s.ID] = s
	}
	d.heading(1, tr(l, "explanations"))
	for _, a := range r.Acts {
		d.ensure(190) // the act's heading with its facts, where they fit
		d.heading(2, keyOr(a.Key, a.ID)+" — "+typeLabel(l, a.Type))
		d.field(tr(l, "record"), a.ID.String(), mono)
		d.field(tr(l, "leaf"), fmt.Sprint(a.Leaf), mono)
		d.field(tr(l, "period"), periodText(a.Period), regular)
		if a.Place != nil {
			d.field(tr(l, "place"), localName(a.Place, l), regular)
		}
		d.field(tr(l, "victims"), victimsText(a.Victims), regular)
		if len(a.Persons) > 0 {
			d.field(tr(l, "persons"), strings.Join(a.Persons, ", "), regular)
		}
		if len(a.Perpetrators) > 0 {
			d.field(tr(l, "perpetrators"), strings.Join(a.Perpetrators, "; "), regular)
		}
		d.field(tr(l, "status"), statusLabel(l, a.Status), bold)
		d.field(tr(l, "flags"), flagLabels(l, a.Flags), regular)
		if a.Description != "" {
			d.field(tr(l, "description"), a.Description, regular)
		}
		d.y += 4
		d.heading(3, tr(l, "explanation"))
		d.para(regular, 9.5, explanation(l, a.Explanation))
		if len(a.Claims) == 0 {
			d.para(regular, 9.5, tr(l, "no.claims"))
			continue
		}
		d.heading(3, tr(l, "claims"))
		cols := []column{
			{tr(l, "claim"), 1.2, regular, false}, {tr(l, "source"), 1.9, regular, false},
			{tr(l, "stance"), 1.0, regular, false}, {tr(l, "grade"), 0.55, regular, false},
			{tr(l, "date"), 0.8, regular, false}, {tr(l, "evidence.col"), 0.8, mono, true},
			{tr(l, "leaf"), 0.55, mono, true},
		}
		var rows [][]string
		for _, c := range a.Claims {
			s := src[c.Source]
			ev := "—"
			if len(c.Evidence) > 0 {
				ev = fmt.Sprint(len(c.Evidence))
			}
			date := c.Date.String()
			if date == "" {
				date = "—"
			}
			rows = append(rows, []string{keyOr(c.Key, c.ID), s.Name, word(l, "stance", string(c.Stance)),
				vigil.Grade(s.Reliability, c.Credibility), date, ev, fmt.Sprint(c.Leaf)})
		}
		d.table(cols, rows)
	}
}

func (r *Report) figures(d *doc) {
	l := d.lang
	d.newPage()
	d.heading(1, tr(l, "figures"))
	d.para(regular, 9.5, tr(l, "figures.text"))
	d.heading(2, tr(l, "by.type"))
	var keys []string
	for k := range r.ByType {
		keys = append(keys, k)
	}
	rank := map[string]int{}
	for i, t := range vocab.ActTypes() {
		rank[t.Code] = i + 1
	}
	order := func(k string) int {
		if k == figures.Unknown {
			return 1 << 30
		}
		if n := rank[k]; n > 0 {
			return n
		}
		return 1 << 29
	}
	slices.SortFunc(keys, func(a, b string) int {
		if oa, ob := order(a), order(b); oa != ob {
			return oa - ob
		}
		return strings.Compare(a, b)
	})
	var bars []bar
	for _, k := range keys {
		f := r.ByType[k]
		bars = append(bars, bar{label: typeLabel(l, k), confirmed: f.ConfirmedAtLeast, reported: f.ReportedUpTo})
	}
	bars = append(bars, bar{label: tr(l, "total"), confirmed: r.Total.ConfirmedAtLeast, reported: r.Total.ReportedUpTo, total: true})
	d.chart(bars)

	d.heading(2, tr(l, "by.month"))
	keys = keys[:0]
	for k := range r.ByMonth {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case a == figures.Unknown:
			return 1
		case b == figures.Unknown:
			return -1
		}
		return strings.Compare(a, b)
	})
	bars = bars[:0]
	for _, k := range keys {
		f := r.ByMonth[k]
		label := k
		if k == figures.Unknown {
			label = tr(l, "unknown")
		}
		bars = append(bars, bar{label: label, confirmed: f.ConfirmedAtLeast, reported: f.ReportedUpTo})
	}
	d.chart(bars)
}

func (r *Report) sourcesByGrade(d *doc) {
	l := d.lang
	d.heading(1, tr(l, "sources"))
	d.para(regular, 9.5, tr(l, "sources.text"))
	cols := []column{
		{tr(l, "name"), 2.2, regular, false}, {tr(l, "type"), 0.9, regular, false},
		{tr(l, "origin.src"), 1.5, regular, false}, {tr(l, "party"), 1.5, regular, false},
		{tr(l, "n.claims"), 0.75, regular, true}, {tr(l, "leaf"), 0.55, mono, true},
	}
	rows := map[vigil.Reliability][][]string{}
	var all [][]string
	for _, s := range r.Sources {
		origin := s.Origin
		if origin == "" {
			origin = tr(l, "own")
		}
		party := s.Party
		if party == "" {
			party = "—"
		}
		row := []string{s.Name, word(l, "src", string(s.Type)), origin, party, fmt.Sprint(s.Claims), fmt.Sprint(s.Leaf)}
		rows[s.Reliability] = append(rows[s.Reliability], row)
		all = append(all, row)
	}
	for _, g := range []vigil.Reliability{"A", "B", "C", "D", "E", "F"} {
		if len(rows[g]) == 0 {
			continue
		}
		d.heading(2, word(l, "rel", string(g)))
		d.table(cols, rows[g], all...)
	}
}

func (r *Report) items(d *doc) {
	l := d.lang
	d.heading(1, tr(l, "items"))
	if len(r.Evidence) == 0 {
		d.para(regular, 9.5, tr(l, "no.items"))
		return
	}
	d.para(regular, 9.5, tr(l, "items.text"))
	claimKey := map[vigil.ID]string{}
	for _, a := range r.Acts {
		for _, c := range a.Claims {
			claimKey[c.ID] = keyOr(c.Key, c.ID)
		}
	}
	cols := []column{
		{tr(l, "record"), 1.75, mono, false}, {tr(l, "media"), 1.2, regular, false},
		{tr(l, "supports"), 1.7, regular, false}, {tr(l, "leaf"), 0.55, mono, true},
	}
	var rows [][]string
	for _, it := range r.Evidence {
		var cs []string
		for _, c := range it.Claims {
			cs = append(cs, claimKey[c])
		}
		rows = append(rows, []string{it.ID.String(), it.MediaType, strings.Join(cs, ", "), fmt.Sprint(it.Leaf)})
	}
	d.table(cols, rows)
}

// recordIndex lists every record of the report with its ID and leaf, in
// leaf order: what a reader names when asking for bundles.
func (r *Report) recordIndex(d *doc) {
	l := d.lang
	type rec struct {
		leaf      int64
		kind, key string
		id        vigil.ID
	}
	recs := []rec{{r.Incident.Leaf, tr(l, "incident"), r.Incident.Key, r.Incident.ID}}
	for _, a := range r.Acts {
		recs = append(recs, rec{a.Leaf, tr(l, "act"), a.Key, a.ID})
		for _, c := range a.Claims {
			recs = append(recs, rec{c.Leaf, tr(l, "claim"), c.Key, c.ID})
		}
	}
	for _, s := range r.Sources {
		recs = append(recs, rec{s.Leaf, tr(l, "source"), s.Key, s.ID})
	}
	for _, it := range r.Evidence {
		recs = append(recs, rec{it.Leaf, tr(l, "kind.item"), "", it.ID})
	}
	slices.SortFunc(recs, func(a, b rec) int {
		if a.leaf != b.leaf {
			return int(a.leaf - b.leaf)
		}
		return compareIDs(a.id, b.id)
	})
	d.heading(1, tr(l, "records"))
	d.para(regular, 9.5, tr(l, "records.text"))
	cols := []column{
		{tr(l, "leaf"), 0.6, mono, true}, {tr(l, "kind"), 1.1, regular, false},
		{tr(l, "key"), 1.6, regular, false}, {tr(l, "record"), 2.0, mono, false},
	}
	var rows [][]string
	for _, x := range recs {
		key := x.key
		if key == "" {
			key = "—"
		}
		rows = append(rows, []string{fmt.Sprint(x.leaf), x.kind, key, x.id.String()})
	}
	d.table(cols, rows)
}

func (r *Report) howToVerify(d *doc) {
	l := d.lang
	d.heading(1, tr(l, "verify"))
	for i := 1; i <= 4; i++ {
		d.para(regular, 9.5, fmt.Sprintf("%d. %s", i, tr(l, fmt.Sprintf("verify.%d", i))))
		if i == 3 {
			// In a monospaced box: "--" must not read as a dash.
			d.box("vigil verify bundle.zip --log-key VKEY")
		}
	}
	d.heading(2, tr(l, "log"))
	r.checkpointFields(d)
	if d.replaced {
		d.para(regular, 8.5, tr(l, "replaced"))
	}
}

// footers numbers every page, "Page i of n", once the count is known.
func (r *Report) footers(d *doc) {
	n := d.pdf.GetNumberOfPages()
	left := d.prepFont(regular, r.orgName(d.lang)+" · "+r.Incident.Title)
	for i := 1; i <= n; i++ {
		d.fail(d.pdf.SetPage(i))
		d.setFont(regular, 8)
		d.color(0x66, 0x66, 0x66)
		right := tr(d.lang, "page", i, n)
		rw := d.width(right)
		d.text(margin+bodyW-rw, pageH-40, right)
		// The left text is cut to fit beside the page number.
		rs := []rune(left)
		if d.width(left) > bodyW-rw-20 {
			rs = append(rs[:d.fit(rs, bodyW-rw-30)], '…')
		}
		d.text(margin, pageH-40, string(rs))
		d.pdf.SetStrokeColor(0xb0, 0xb0, 0xb0)
		d.pdf.SetLineWidth(0.4)
		d.pdf.Line(margin, pageH-46, margin+bodyW, pageH-46)
		d.color(0, 0, 0)
	}
	d.pdf.SetInfo(gopdf.PdfInfo{Title: d.prepFont(regular, tr(d.lang, "title")+": "+r.Incident.Title), Producer: "vigil"})
}

// prepFont cleans s for font as one line.
func (d *doc) prepFont(font, s string) string {
	f := d.font
	d.font = font
	s = strings.ReplaceAll(d.prep(s), "\n", " ")
	d.font = f
	return s
}
