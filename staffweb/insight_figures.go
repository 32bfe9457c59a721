package staffweb

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/figures"
)

// Figures page geometry (SVG user units) and limits.
const (
	chartWidth = 640
	chartRow   = 40 // height of one bar with its label
	chartTop   = 36 // room for the legend
	figPlaces  = 25 // places shown: those with the highest "reported up to"
	figCaches  = 16 // visibilities whose counts are kept at once
)

// A figRow is one group's numbers.
type figRow struct {
	Key                 string
	Confirmed, Reported int
	Acts                int
}

// figCache is the figures page's numbers for one visibility at one
// point of the acts' history: immutable once made.
type figCache struct {
	charts map[figures.By][]figRow
	more   map[figures.By]int       // rows left out
	places map[vigil.ID]vigil.Place // the places of the place chart's rows
	order  []figures.By             // the charts, in page order
}

// figState is what one visibility has counted: every act it sees, held
// by a Counter that the acts changed since cursor bring up to date.
type figState struct {
	mu      sync.Mutex // held while counting
	cursor  cases.ActsCursor
	counter *figures.Counter
	places  map[vigil.ID]vigil.Place // the counter's, for the rows' labels
	view    *figCache                // the rows at cursor
}

// figOrder are the charts of the figures page.
var figOrder = []figures.By{figures.ByType, figures.ByMonth, figures.ByPlace}

// figuresOf returns p's figures: the counts kept for p's visibility
// (cases.Service.Visibility: principals let into the same restricted
// incidents share them; no other principal ever reads them), brought up
// to date with the acts changed since (cases.ActsSince), so that a write
// costs the page the acts it changed, not every act.
func (s *Server) figuresOf(r *http.Request) (*figCache, error) {
	p := principal(r)
	key, err := s.Cases.Visibility(r.Context(), p)
	if err != nil {
		return nil, err
	}
	// p may be let into or out of an incident between reading its
	// visibility and its acts: then count under the new one.
	for range 3 {
		view, now, err := s.figState(key).update(r.Context(), s.Cases, p, key)
		if err != nil || view != nil {
			return view, err
		}
		key = now
	}
	return nil, fmt.Errorf("figures: %w: the incidents this account is let into keep changing", vigil.ErrUnavailable)
}

// figState returns the kept counts of visibility key, making them if
// needed.
func (s *Server) figState(key string) *figState {
	st := s.insight()
	st.mu.Lock()
	defer st.mu.Unlock()
	fs := st.figs[key]
	if fs == nil {
		if len(st.figs) >= figCaches {
			for k := range st.figs { // forget one
				delete(st.figs, k)
				break
			}
		}
		fs = &figState{}
		st.figs[key] = fs
	}
	return fs
}

// update brings fs up to date for p and returns its rows, or, if p's
// visibility is no longer key, nil and the visibility p has now.
func (fs *figState) update(ctx context.Context, cs Cases, p vigil.Principal, key string) (*figCache, string, error) {
	// One count at a time per visibility: requests arriving together after
	// a write wait for the first one's numbers instead of counting again.
	fs.mu.Lock()
	defer fs.mu.Unlock()
	ch, err := cs.ActsSince(ctx, p, fs.cursor)
	if err != nil {
		return nil, "", err
	}
	if ch.Visibility != key {
		return nil, ch.Visibility, nil
	}
	// A new state has the zero cursor, for which ActsSince gives All.
	if !ch.All && ch.Places == nil && len(ch.Acts) == 0 && len(ch.Gone) == 0 {
		fs.cursor = ch.Next
		return fs.view, key, nil
	}
	switch {
	case ch.All:
		counter, err := figures.NewCounter(ch.Places, figOrder...)
		if err != nil {
			return nil, "", err
		}
		fs.places, fs.counter = ch.Places, counter
	case ch.Places != nil:
		// The acts at or under a written place are among ch.Acts.
		fs.places = ch.Places
		fs.counter.SetPlaces(ch.Places)
	}
	for _, id := range ch.Gone {
		fs.counter.Remove(id)
	}
	for _, a := range ch.Acts {
		fs.counter.Put(&figures.Act{ID: a.ID, Act: a.Act, Result: a.Result})
	}
	fs.cursor, fs.view = ch.Next, figRows(fs.counter, fs.places)
	return fs.view, key, nil
}

// figRows lays the counts out as the page's rows: months in order, other
// groupings by "reported up to", the first figPlaces places.
func figRows(counter *figures.Counter, allPlaces map[vigil.ID]vigil.Place) *figCache {
	c := &figCache{charts: map[figures.By][]figRow{}, more: map[figures.By]int{}, places: map[vigil.ID]vigil.Place{}, order: figOrder}
	for _, by := range figOrder {
		table := counter.Counts(by)
		rows := make([]figRow, 0, len(table))
		for k, f := range table {
			rows = append(rows, figRow{Key: k, Confirmed: f.ConfirmedAtLeast, Reported: f.ReportedUpTo, Acts: f.Acts})
		}
		switch by {
		case figures.ByMonth:
			slices.SortFunc(rows, func(a, b figRow) int {
				if (a.Key == figures.Unknown) != (b.Key == figures.Unknown) {
					if a.Key == figures.Unknown {
						return 1
					}
					return -1
				}
				return cmp.Compare(a.Key, b.Key)
			})
		default:
			slices.SortFunc(rows, func(a, b figRow) int {
				return cmp.Or(cmp.Compare(b.Reported, a.Reported), cmp.Compare(b.Confirmed, a.Confirmed), cmp.Compare(a.Key, b.Key))
			})
		}
		if by == figures.ByPlace && len(rows) > figPlaces {
			c.more[by] = len(rows) - figPlaces
			rows = rows[:figPlaces]
		}
		if by == figures.ByPlace {
			for _, row := range rows {
				if id, err := vigil.ParseID(row.Key); err == nil {
					c.places[id] = allPlaces[id]
				}
			}
		}
		c.charts[by] = rows
	}
	return c
}

// A figBar is one row of a chart, laid out.
type figBar struct {
	figRow
	Label            string
	Href             string
	Y, TextY         int
	ConfirmedW, RepX int
	RepW             int
}

// A figChart is one chart of the figures page with its table.
type figChart struct {
	By     string
	Title  string // message key
	Desc   string // translated summary for the SVG's desc
	Bars   []figBar
	Height int
	More   int
}

type figuresData struct {
	Charts []figChart
	Empty  bool
	Width  int
	Legend int // y of the legend's text
}

func (s *Server) figuresPage(w http.ResponseWriter, r *http.Request) {
	if s.Cases == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	c, err := s.figuresOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &figuresData{Width: chartWidth, Empty: true}
	v := s.newView(r, "insight.figures.title", d)
	for _, by := range c.order {
		rows := c.charts[by]
		top := 1
		for _, row := range rows {
			top = max(top, row.Reported)
		}
		ch := figChart{By: string(by), Title: "insight.figures.by." + string(by), More: c.more[by], Height: chartTop + chartRow*len(rows) + 4}
		for i, row := range rows {
			if row.Acts > 0 {
				d.Empty = false
			}
			y := chartTop + i*chartRow
			cw := row.Confirmed * chartWidth / top
			rw := row.Reported*chartWidth/top - cw
			b := figBar{figRow: row, Label: s.figLabel(v, by, row.Key, c), Y: y + 20, TextY: y + 14, ConfirmedW: cw, RepX: cw, RepW: max(rw, 0)}
			if by == figures.ByPlace && row.Key != figures.Unknown {
				b.Href = "/places/" + row.Key
			}
			ch.Bars = append(ch.Bars, b)
		}
		ch.Desc = v.T("insight.figures.desc", len(rows))
		d.Charts = append(d.Charts, ch)
	}
	d.Legend = 16
	s.render(w, http.StatusOK, "insight_figures", v)
}

// figLabel names a chart row's key in the page's language.
func (s *Server) figLabel(v *view, by figures.By, key string, c *figCache) string {
	if key == figures.Unknown {
		return v.T("insight.unknown")
	}
	switch by {
	case figures.ByType:
		return typeLabel(key, v.Lang)
	case figures.ByMonth:
		return monthLabel(v, key)
	case figures.ByPlace:
		if id, err := vigil.ParseID(key); err == nil {
			if p, ok := c.places[id]; ok {
				return placeName(p, v.Lang)
			}
		}
	}
	return key
}

var (
	enMonthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	ruMonthNames = []string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}
)

// monthLabel names "YYYY-MM" ("March 2024", "март 2024") or a year
// bucket "YYYY" ("2024, month unknown").
func monthLabel(v *view, key string) string {
	y, m, ok := strings.Cut(key, "-")
	if !ok {
		return v.T("insight.figures.yearonly", y)
	}
	n, err := strconv.Atoi(m)
	if err != nil || n < 1 || n > 12 {
		return key
	}
	if v.Lang == "ru" {
		return ruMonthNames[n-1] + " " + y
	}
	return enMonthNames[n-1] + " " + y
}
