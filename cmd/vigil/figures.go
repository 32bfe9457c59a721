package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/vocab"
)

const figuresHelp = `--data DIR [--json] [--by type|month|place|incident] [--lang en|ru]

The figures of the case records: for each group of acts, "confirmed at least"
(victims of corroborated and confirmed acts, each identified person once) and
"reported up to" (victims of every act with an affirming claim); the formula is
in docs/corroboration.md.

Groups (--by, default type) and their keys:
  type      the act type's code, e.g. arbitrary_detention
  month     "YYYY-MM" of the act's start ("YYYY" if only the year is known)
  place     the place's record ID; an act counts for its place and every place
            that contains it
  incident  the incident's record ID
Acts without the grouped field are under "unknown". Record IDs are the keys
because they never change; the record's external key (a case file's "key")
and its name are given alongside.

--json prints one object keyed by the group, each value
  {"label": ..., "key": ..., "confirmed_at_least": N, "reported_up_to": M,
   "acts": [...], "confirmed_acts": [...], "claims": [...]}
label is the type's label, the place's name or the incident's title (in
--lang); key is the place's or incident's external key, omitted if none; acts
are the acts behind reported_up_to, confirmed_acts those behind
confirmed_at_least, claims the affirming claims, all record IDs.

Read-only. Needs the admin passphrase; shows no person's private fields. While
vigil serve runs, figures asks it over its staff socket (docs/cli.md): no
passphrase is read, and the server must be unsealed.`

// A figureLine is one group as vigil figures --json prints it. The field
// names are stable.
type figureLine struct {
	Label string `json:"label"`
	Key   string `json:"key,omitempty"`
	figures.Figure
}

func runFigures(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "figures", figuresHelp)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	byFlag := fs.String("by", "type", "group by `type`, month, place or incident")
	lang := fs.String("lang", "en", "language of labels and names: `en` or ru")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"figures takes no arguments (see vigil figures --help)"}
	}
	by, err := figures.ParseBy(*byFlag)
	if err != nil {
		return usageError{fmt.Sprintf("--by %q: want type, month, place or incident", *byFlag)}
	}
	if err := checkLang(*lang); err != nil {
		return err
	}
	c, done, err := openCases(ctx, e, *data, *pfile)
	if err != nil {
		return err
	}
	defer done()
	table, err := figureTable(ctx, e, c, by, *lang)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, table)
	}
	return writeFigures(e.stdout, by, table)
}

// figureTable returns the figures grouped by, each with its label.
func figureTable(ctx context.Context, e *env, c caseReader, by figures.By, lang string) (map[string]figureLine, error) {
	done := loadingNote(e)
	table, err := c.Figures(ctx, by)
	done()
	if err != nil {
		return nil, err
	}
	out := make(map[string]figureLine, len(table))
	for k, f := range table {
		l := figureLine{Figure: f}
		switch {
		case k == figures.Unknown:
			l.Label = "unknown"
		case by == figures.ByType:
			l.Label = typeLabel(k, lang)
		case by == figures.ByMonth:
			l.Label = k
		default:
			id, err := vigil.ParseID(k)
			if err != nil {
				return nil, fmt.Errorf("figures: group %q is not a record ID: %w", k, err)
			}
			kind := cases.KindPlace
			if by == figures.ByIncident {
				kind = cases.KindIncident
			}
			key, doc, err := c.Get(ctx, kind, id)
			if err != nil {
				return nil, fmt.Errorf("figures: %s %s: %w", by, id, err)
			}
			l.Key = key
			switch v := doc.(type) {
			case vigil.Place:
				l.Label = placeName(v, lang)
			case vigil.Incident:
				l.Label = v.Title
			}
		}
		out[k] = l
	}
	return out, nil
}

// placeName returns the place's name in lang, else in English, else in
// the first language in order.
func placeName(p vigil.Place, lang string) string {
	for _, l := range []string{lang, "en"} {
		if n, ok := p.Names[l]; ok {
			return n
		}
	}
	langs := make([]string, 0, len(p.Names))
	for l := range p.Names {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	if len(langs) == 0 {
		return ""
	}
	return p.Names[langs[0]]
}

// groupOrder sorts group keys: types in the vocabulary's order, everything
// else (months, IDs) as strings, "unknown" last.
func groupOrder(by figures.By, keys []string) {
	rank := map[string]int{}
	if by == figures.ByType {
		for i, t := range vocab.ActTypes() {
			rank[t.Code] = i + 1
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == figures.Unknown:
			return 1
		case b == figures.Unknown:
			return -1
		}
		ra, rb := rank[a], rank[b]
		if ra == 0 {
			ra = len(rank) + 1
		}
		if rb == 0 {
			rb = len(rank) + 1
		}
		if ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
}

func writeFigures(w io.Writer, by figures.By, table map[string]figureLine) error {
	if len(table) == 0 {
		fmt.Fprintln(w, "no acts")
		return nil
	}
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	groupOrder(by, keys)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tNAME\tFIGURES\tACTS\n", strings.ToUpper(string(by)))
	for _, k := range keys {
		l := table[k]
		name := l.Label
		if l.Key != "" {
			name += " [" + l.Key + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\tconfirmed at least %d, reported up to %d\t%d acts with an affirming claim, %d corroborated or confirmed, %d affirming claims\n",
			safeLine(k), safeLine(name), l.ConfirmedAtLeast, l.ReportedUpTo, len(l.Acts), len(l.ConfirmedActs), len(l.Claims))
	}
	return tw.Flush()
}
