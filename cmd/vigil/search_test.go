package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/intake"
)

// TestSearchCLI runs vigil search on an imported case: a Russian title
// is found in Latin letters, the act by its incident's title and its
// claims' quote, --kind narrows, --json is stable and the text output marks
// matches.
func TestSearchCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vigil binary")
	}
	dir := t.TempDir()
	bin := vigilBin(t)
	env := vigilEnv("search cli test passphrase")
	data := filepath.Join(dir, "data")
	vigilRun(t, bin, env, "init", "--data", data, "--scrypt-work-factor", "10")
	file := filepath.Join(dir, "case.json")
	writeFile(t, file, caseFile(t, map[string]string{"title": "в Грозном", "quote": "к мечети", "person": "Кадыров"}))
	vigilRun(t, bin, env, "import", "--data", data, file)

	var out searchOut
	if err := json.Unmarshal([]byte(vigilRun(t, bin, env, "search", "--data", data, "--json", "Grozny")), &out); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, h := range out.Hits {
		keys[h.Key] = h.Kind
		if h.Text == "" || len(h.Snippet) == 0 || h.Score <= 0 {
			t.Errorf("hit without snippet or score: %+v", h)
		}
	}
	if keys["wave"] != "incident" || keys["det"] != "act" || out.Total != 2 {
		t.Errorf("Grozny: %+v", out)
	}
	if len(out.Facets.Kinds) != 2 || len(out.Facets.ActTypes) != 1 || out.Facets.ActTypes[0] != (api.FacetCount{Value: "arbitrary_detention", N: 1}) {
		t.Errorf("facets: %+v", out.Facets)
	}
	// The act by its claim's quote, only acts with --kind.
	out = searchOut{}
	if err := json.Unmarshal([]byte(vigilRun(t, bin, env, "search", "--data", data, "--json", "--kind", "act", "мечеть")), &out); err != nil {
		t.Fatal(err)
	}
	if out.Total != 1 || out.Hits[0].Key != "det" || out.Hits[0].Field != "quote" {
		t.Errorf("мечеть --kind act: %+v", out)
	}
	// A person's pseudonym typed in Latin; the text output brackets matches.
	text := vigilRun(t, bin, env, "search", "--data", data, "Kadyrov")
	if !strings.Contains(text, "1 hits") || !strings.Contains(text, "[Кадыров]") || !strings.Contains(text, "p1") {
		t.Errorf("Kadyrov:\n%s", text)
	}
	// A submission, written sealed as a source would, is searched too.
	d := inboxOpen(t, data)
	_, sub, err := d.Intake.Submit(context.Background(), intake.Draft{Text: "Soldiers took Kadyrov's cousin near the mosque."}, nil)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	out = searchOut{}
	if err := json.Unmarshal([]byte(vigilRun(t, bin, env, "search", "--data", data, "--json", "--kind", "submission", "Кадырова")), &out); err != nil {
		t.Fatal(err)
	}
	if out.Total != 1 || out.Hits[0].ID != sub || out.Hits[0].Submission != sub || out.Hits[0].Kind != "submission" || !strings.Contains(out.Hits[0].Text, "Kadyrov's") {
		t.Errorf("Кадырова --kind submission: %+v", out)
	}
	// Usage errors.
	for _, args := range [][]string{{"search", "--data", data}, {"search", "--data", data, "--kind", "bogus", "x"}, {"search", "--data", data, "--limit", "0", "x"}} {
		if r := cliRun(t, env, args...); r.code != 2 {
			t.Errorf("vigil %s: exit %d, want 2\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// TestSearchEscapes: record text cannot drive the terminal; matches are
// bold only on one.
func TestSearchEscapes(t *testing.T) {
	out := searchOut{Total: 1, Hits: []searchHit{{Key: "k\x1b]0;x\a", SearchHit: api.SearchHit{Kind: "claim", ID: vigil.NewID(), Field: "quote",
		Snippet: []api.SearchFragment{{Text: "a \x1b[2J"}, {Text: "word", Match: true}, {Text: "\u202e end"}}}}}}
	var b strings.Builder
	if err := writeSearch(&b, out, false); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.ContainsAny(s, "\x1b\a\u202e") || !strings.Contains(s, "[word]") {
		t.Errorf("not escaped or not marked:\n%q", s)
	}
	b.Reset()
	if err := writeSearch(&b, out, true); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); !strings.Contains(s, "\033[1mword\033[0m") || strings.Contains(s, "\x1b[2J") {
		t.Errorf("terminal:\n%q", s)
	}
}
