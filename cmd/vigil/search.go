package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/search"
)

const searchHelp = `--data DIR [--json] [--kind K] [--limit N] QUERY...

Full-text search over the case records, the submissions and their messages
(docs/search.md): Russian and English
words, "quoted phrases", prefixes (word*), and names across scripts (Grozny
finds Грозный, Kadyrov finds Кадырова). An act is found by its description,
its type's labels, its place's names, its incident's title and its claims'
quotes. Every word must match.

Prints the hits, best first: kind, key (the record's ID if it has none; the
submission's ID for a submission or message),
score, the field matched and a snippet with the matched words marked (bold
on a terminal, [brackets] elsewhere); then the facets: how many hits of each
kind, act type, status, source grade and place.

--kind limits the hits to one kind of record (incident, act, person, place,
party, source, claim, submission, message); repeat it or separate kinds
with commas for several.

--json prints one object with the fields
  total, hits, facets
each hit an object with kind, id, key, incident, submission (of a
submission or message), score, field, snippet
(an array of {text, match}) and text (the snippet as one string); facets has
kinds, act_types, statuses, grades and places, each an array of {value, n}
(a place's value is its ID).

Read-only. Needs the admin passphrase, and searches as the admin: every
incident, and persons' private names too. While vigil serve runs, search asks
it over its staff socket (docs/cli.md; --limit at most 100 there).`

// searchOut is what vigil search --json prints: the API's search result
// (api.SearchResult) with each hit's key and text. The field names are
// stable: scripts rely on them.
type searchOut struct {
	Total  int              `json:"total"`
	Hits   []searchHit      `json:"hits"`
	Facets api.SearchFacets `json:"facets"`
}

type searchHit struct {
	api.SearchHit
	Key  string `json:"key"`
	Text string `json:"text"` // the snippet's text, joined
}

// kindsFlag collects --kind values.
type kindsFlag []string

func (k *kindsFlag) String() string { return strings.Join(*k, ",") }

func (k *kindsFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if !api.IsSearchKind(s) {
			return fmt.Errorf("%q is not a kind of record search finds", s)
		}
		*k = append(*k, s)
	}
	return nil
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "search", searchHelp)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	var kinds kindsFlag
	fs.Var(&kinds, "kind", "only records of `KIND` (repeatable, or comma-separated)")
	limit := fs.Int("limit", 20, "at most `N` hits")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	query := strings.TrimSpace(strings.Join(pos, " "))
	if query == "" {
		return usageError{"search needs a query (see vigil search --help)"}
	}
	if *limit < 1 || *limit > cases.MaxLimit {
		return usageError{fmt.Sprintf("--limit %d: want 1 to %d", *limit, cases.MaxLimit)}
	}
	c, closeCases, err := openCases(ctx, e, *data, *pfile)
	if err != nil {
		return err
	}
	defer closeCases()
	done := loadingNote(e)
	res, err := c.Search(ctx, query, search.Filter{Kinds: kinds}, *limit)
	done()
	if err != nil {
		return err
	}
	out, err := searchResult(ctx, c, res)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	return writeSearch(e.stdout, out, isTerminal(e.stdout))
}

// searchResult adds the records' keys to res.
func searchResult(ctx context.Context, c caseReader, r api.SearchResult) (searchOut, error) {
	out := searchOut{Total: r.Total, Hits: make([]searchHit, len(r.Hits)), Facets: r.Facets}
	for i, h := range r.Hits {
		var key string
		if h.Submission.IsZero() { // a case record; submissions and messages have no key
			k, _, err := c.Get(ctx, h.Kind, h.ID)
			if err != nil {
				return out, fmt.Errorf("read hit %s: %w", h.ID, err)
			}
			key = k
		}
		var text strings.Builder
		for _, f := range h.Snippet {
			text.WriteString(f.Text)
		}
		out.Hits[i] = searchHit{SearchHit: h, Key: key, Text: text.String()}
	}
	return out, nil
}

// writeSearch prints the hits and facets for a person; record text is
// escaped (safeLine) and matches are bold on a terminal, bracketed
// elsewhere.
func writeSearch(w io.Writer, out searchOut, tty bool) error {
	open, closing := "[", "]"
	if tty {
		open, closing = "\033[1m", "\033[0m"
	}
	fmt.Fprintf(w, "%d hits\n", out.Total)
	if len(out.Hits) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tKEY\tSCORE\tFIELD\tSNIPPET")
		for _, h := range out.Hits {
			key := h.Key
			switch {
			case !h.Submission.IsZero():
				key = h.Submission.String() // the thread to open (vigil inbox)
			case key == "":
				key = h.ID.String()
			}
			var snip strings.Builder
			for _, f := range h.Snippet {
				if f.Match {
					snip.WriteString(open + safeLine(f.Text) + closing)
				} else {
					snip.WriteString(safeLine(f.Text))
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%s\n", h.Kind, safeLine(key), h.Score, h.Field, snip.String())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		cs   []api.FacetCount
	}{{"kinds", out.Facets.Kinds}, {"act types", out.Facets.ActTypes}, {"statuses", out.Facets.Statuses},
		{"grades", out.Facets.Grades}, {"places", out.Facets.Places}} {
		if len(f.cs) == 0 {
			continue
		}
		parts := make([]string, len(f.cs))
		for i, c := range f.cs {
			parts[i] = fmt.Sprintf("%s %d", safeLine(c.Value), c.N)
		}
		fmt.Fprintf(w, "%s: %s\n", f.name, strings.Join(parts, ", "))
	}
	return nil
}
