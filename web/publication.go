package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/advisory"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/stats"
	"github.com/vigil-hr/vigil/vocab"
)

// Publication says where the public listener finds what vigil advisory
// and vigil stats publish: signed notes in plain files, served without any
// key so that they stay readable while the vault is sealed. Each note is
// verified with the publication key before it is served.
type Publication struct {
	Advisories advisory.Dir
	Stats      stats.Dir
}

// publication serves /advisories, /stats and the how-to-check page.
type publication struct {
	p    *public
	dirs Publication
	v    note.Verifier
}

// publicationRoutes adds the publication routes to mux; without a
// publication key (keys.AdvisoryVKey) they answer 404.
func (p *public) publicationRoutes(mux *http.ServeMux, vkey string) {
	if vkey == "" {
		return
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return // vault.Open refused it before we got here
	}
	pub := &publication{p: p, dirs: p.opt.Publication, v: v}
	mux.HandleFunc("GET /advisories", pub.advisories)
	mux.HandleFunc("GET /advisories/check", pub.check)
	mux.HandleFunc("GET /advisories.atom", pub.atom)
	mux.HandleFunc("GET /advisories.json", pub.json)
	mux.HandleFunc("GET /advisories/{file}", pub.note)
	mux.HandleFunc("GET /stats", pub.stats)
	mux.HandleFunc("GET /stats.txt", pub.statsFile)
	mux.HandleFunc("GET /stats.json", pub.statsFile)
	mux.HandleFunc("GET /stats.csv", pub.statsFile)
}

// pubPage is what the publication templates get.
type pubPage struct {
	*page
	VKey       string
	Advisories []advView
	Stats      *statsView
}

type advView struct {
	advisory.Published
	Status string
	Texts  []advisory.Text // in the page's language first
}

func (pub *publication) render(w http.ResponseWriter, name string, pg *pubPage) {
	pub.p.renderData(w, http.StatusOK, name, pg.Lang, pg)
}

func (pub *publication) list(w http.ResponseWriter) ([]advisory.Published, bool) {
	list, err := pub.dirs.Advisories.List(pub.v)
	if err != nil {
		http.Error(w, "the published advisories do not verify", http.StatusInternalServerError)
		return nil, false
	}
	return list, true
}

func (pub *publication) advisories(w http.ResponseWriter, r *http.Request) {
	list, ok := pub.list(w)
	if !ok {
		return
	}
	lang := pub.p.lang(r, "")
	pg := &pubPage{page: pub.p.newPage(lang, "/advisories", "advisories.title"), VKey: vkeyOf(pub)}
	now := pub.p.opt.Now()
	for _, a := range list {
		v := advView{Published: a, Status: advisory.StatusAt(a, now)}
		for _, t := range a.Texts {
			if t.Lang == pg.Lang {
				v.Texts = append([]advisory.Text{t}, v.Texts...)
			} else {
				v.Texts = append(v.Texts, t)
			}
		}
		pg.Advisories = append(pg.Advisories, v)
	}
	pub.render(w, "advisories", pg)
}

func vkeyOf(pub *publication) string { return pub.p.advisoryVKey }

func (pub *publication) check(w http.ResponseWriter, r *http.Request) {
	lang := pub.p.lang(r, "")
	pg := &pubPage{page: pub.p.newPage(lang, "/advisories/check", "check.title"), VKey: vkeyOf(pub)}
	pub.render(w, "check", pg)
}

func (pub *publication) atom(w http.ResponseWriter, r *http.Request) {
	list, ok := pub.list(w)
	if !ok {
		return
	}
	base := "http://" + r.Host
	if r.TLS != nil {
		base = "https://" + r.Host
	}
	name := pub.p.opt.Instance.Name[fallbackLang]
	b, err := advisory.Atom(list, base, name)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write(b)
}

func (pub *publication) json(w http.ResponseWriter, r *http.Request) {
	list, ok := pub.list(w)
	if !ok {
		return
	}
	idx, err := pub.dirs.Advisories.Index()
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	b, _ := json.MarshalIndent(advisory.Feed(list, idx, pub.p.opt.Now()), "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

// note serves /advisories/ID.txt and /advisories/index.txt verbatim.
func (pub *publication) note(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, ok := strings.CutSuffix(file, ".txt")
	if !ok {
		pub.p.notFound(w, r)
		return
	}
	var b []byte
	var err error
	if name == "index" {
		b, err = pub.dirs.Advisories.Index()
		if err == nil && b != nil {
			_, err = advisory.OpenIndex(b, pub.v)
		}
	} else {
		id, perr := vigil.ParseID(name)
		if perr != nil {
			pub.p.notFound(w, r)
			return
		}
		b, err = pub.dirs.Advisories.Note(id)
		if err == nil {
			_, err = advisory.Open(b, pub.v)
		}
	}
	if b == nil || err != nil {
		pub.p.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(b)
}

// latestStats reads and verifies the latest statistics; nil if none.
func (pub *publication) latestStats() ([]byte, *stats.Table, error) {
	b, err := pub.dirs.Stats.Latest()
	if err != nil || b == nil {
		return nil, nil, err
	}
	t, err := stats.Open(b, pub.v)
	if err != nil {
		return nil, nil, err
	}
	return b, &t, nil
}

func (pub *publication) statsFile(w http.ResponseWriter, r *http.Request) {
	b, t, err := pub.latestStats()
	if err != nil {
		http.Error(w, "the published statistics do not verify", http.StatusInternalServerError)
		return
	}
	if t == nil {
		pub.p.notFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, ".txt"):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(b)
	case strings.HasSuffix(r.URL.Path, ".json"):
		out, _ := json.MarshalIndent(statsJSON(t, b), "", "  ")
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(out, '\n'))
	default:
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		cw.Write([]string{"type", "month", "region", "region_name", "hidden", "acts", "confirmed_at_least", "reported_up_to", "leaves"})
		for _, f := range t.Figures {
			row := []string{f.Type, f.Month, f.Region, csvSafe(t.Regions[f.Region]), "false", "", "", "", ""}
			if f.Suppressed {
				row[4] = "true"
			} else {
				row[5], row[6], row[7] = strconv.Itoa(f.Acts), strconv.Itoa(f.ConfirmedAtLeast), strconv.Itoa(f.ReportedUpTo)
				row[8] = leavesString(f.Leaves)
			}
			cw.Write(row)
		}
		cw.Flush()
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="vigil-stats.csv"`)
		w.Write(buf.Bytes())
	}
}

// csvSafe keeps a spreadsheet from reading a name as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func leavesString(ls []int64) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = strconv.FormatInt(l, 10)
	}
	return strings.Join(parts, " ")
}

type statsFigureJSON struct {
	Type             string  `json:"type"`
	Month            string  `json:"month"`
	Region           string  `json:"region"`
	Hidden           bool    `json:"hidden"`
	Acts             *int    `json:"acts,omitempty"`
	ConfirmedAtLeast *int    `json:"confirmed_at_least,omitempty"`
	ReportedUpTo     *int    `json:"reported_up_to,omitempty"`
	Leaves           []int64 `json:"leaves,omitempty"`
}

func statsJSON(t *stats.Table, signed []byte) any {
	figs := []statsFigureJSON{}
	for _, f := range t.Figures {
		j := statsFigureJSON{Type: f.Type, Month: f.Month, Region: f.Region, Hidden: f.Suppressed, Leaves: f.Leaves}
		if !f.Suppressed {
			a, c, r := f.Acts, f.ConfirmedAtLeast, f.ReportedUpTo
			j.Acts, j.ConfirmedAtLeast, j.ReportedUpTo = &a, &c, &r
		}
		figs = append(figs, j)
	}
	return map[string]any{"id": t.ID.String(), "published": t.Published, "k": t.K, "region_level": t.RegionLevel,
		"regions": t.Regions, "figures": figs, "signed_note": string(signed)}
}

// statsView is the /stats page's data: one chart per dimension, and the
// two tables.
type statsView struct {
	Table  *stats.Table
	Charts []chart
}

type chart struct {
	Title  string // message key
	Bars   []bar
	Height int
	SVG    template.HTML
}

type bar struct {
	Label               string
	Hidden              bool
	Confirmed, Reported int
}

func (pub *publication) stats(w http.ResponseWriter, r *http.Request) {
	lang := pub.p.lang(r, "")
	pg := &pubPage{page: pub.p.newPage(lang, "/stats", "stats.title"), VKey: vkeyOf(pub)}
	_, t, err := pub.latestStats()
	if err != nil {
		http.Error(w, "the published statistics do not verify", http.StatusInternalServerError)
		return
	}
	if t != nil {
		pg.Stats = &statsView{Table: t}
		for _, dim := range []struct {
			key  string
			pick func(stats.Key) (string, bool)
		}{
			{"stats.by_type", func(k stats.Key) (string, bool) { return k.Type, k.Month == stats.All && k.Region == stats.All }},
			{"stats.by_region", func(k stats.Key) (string, bool) { return k.Region, k.Type == stats.All && k.Month == stats.All }},
			{"stats.by_month", func(k stats.Key) (string, bool) { return k.Month, k.Type == stats.All && k.Region == stats.All }},
		} {
			c := chart{Title: dim.key}
			for _, f := range t.Figures {
				v, ok := dim.pick(f.Key)
				if !ok || v == stats.All {
					continue
				}
				c.Bars = append(c.Bars, bar{Label: pg.label(t, f.Key, v), Hidden: f.Suppressed, Confirmed: f.ConfirmedAtLeast, Reported: f.ReportedUpTo})
			}
			c.SVG = pg.barChart(c.Bars, t.K)
			pg.Stats.Charts = append(pg.Stats.Charts, c)
		}
	}
	pub.render(w, "stats", pg)
}

// label names a dimension value for people.
func (pg *pubPage) label(t *stats.Table, k stats.Key, v string) string {
	switch {
	case v == figures.Unknown:
		return pg.T("stats.unknown")
	case v == k.Type:
		if at, ok := vocab.ActType(v); ok {
			return at.Label(pg.Lang)
		}
	case v == k.Region:
		if n := t.Regions[v]; n != "" {
			return n
		}
	}
	return v
}

// Label is label for templates.
func (pg *pubPage) Label(t *stats.Table, k stats.Key, v string) string { return pg.label(t, k, v) }

// barChart draws horizontal bars (reported up to, with confirmed at least
// inside) as inline SVG: no script, no style sheet, text escaped.
func (pg *pubPage) barChart(bars []bar, k int) template.HTML {
	const rowH, labelW, barW, pad = 28, 220, 360, 4
	maxV := 1
	for _, b := range bars {
		if !b.Hidden {
			maxV = max(maxV, b.Reported)
		}
	}
	h := rowH*len(bars) + 30
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`, labelW+barW+120, h, labelW+barW+120, h)
	for i, b := range bars {
		y := i * rowH
		fmt.Fprintf(&s, `<text x="0" y="%d">%s</text>`, y+18, template.HTMLEscapeString(clip(b.Label, 32)))
		if b.Hidden {
			fmt.Fprintf(&s, `<text x="%d" y="%d" fill="#555">%s</text>`, labelW, y+18, template.HTMLEscapeString(pg.T("stats.hidden", k)))
			continue
		}
		rw := b.Reported * barW / maxV
		cw := b.Confirmed * barW / maxV
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" fill="#9ab"/>`, labelW, y+pad, rw, rowH-2*pad)
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" fill="#246"/>`, labelW, y+pad, cw, rowH-2*pad)
		fmt.Fprintf(&s, `<text x="%d" y="%d">%d–%d</text>`, labelW+rw+6, y+18, b.Confirmed, b.Reported)
	}
	ly := rowH*len(bars) + 10
	fmt.Fprintf(&s, `<rect x="0" y="%d" width="12" height="12" fill="#246"/><text x="16" y="%d">%s</text>`, ly, ly+11, template.HTMLEscapeString(pg.T("stats.confirmed")))
	fmt.Fprintf(&s, `<rect x="%d" y="%d" width="12" height="12" fill="#9ab"/><text x="%d" y="%d">%s</text>`, labelW, ly, labelW+16, ly+11, template.HTMLEscapeString(pg.T("stats.reported")))
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Date formats a time as a date and time for people.
func (pg *pubPage) Date(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
