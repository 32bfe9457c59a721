package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// demoDoc holds what docs/demo-case.md says the worked case establishes:
// the rows of its tables, by section heading.
type demoDoc struct {
	acts    map[string][]string          // key -> type, victims, status, flags
	figures map[string]map[string][2]int // "type", "month", ... -> group -> {confirmed, reported}
}

// parseDemoDoc reads the tables of docs/demo-case.md whose first cell is a
// `code` span: the acts table and the figures tables.
func parseDemoDoc(t *testing.T) demoDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "demo-case.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := demoDoc{acts: map[string][]string{}, figures: map[string]map[string][2]int{}}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "## Acts"):
			section = "acts"
		case strings.HasPrefix(line, "### By "):
			section = strings.Fields(line)[2]
		case strings.HasPrefix(line, "#"):
			section = ""
		case strings.HasPrefix(line, "| `") && section != "":
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.ReplaceAll(strings.TrimSpace(cells[i]), "`", "")
			}
			if section == "acts" {
				doc.acts[cells[0]] = cells[1:5]
				continue
			}
			c, err1 := strconv.Atoi(cells[1])
			r, err2 := strconv.Atoi(cells[2])
			if err1 != nil || err2 != nil {
				t.Fatalf("docs/demo-case.md: figures row %q: not numbers", line)
			}
			if doc.figures[section] == nil {
				doc.figures[section] = map[string][2]int{}
			}
			doc.figures[section][cells[0]] = [2]int{c, r}
		}
	}
	if len(doc.acts) == 0 || len(doc.figures) != 4 {
		t.Fatalf("docs/demo-case.md: found %d acts and %d figures tables, want acts and 4 tables", len(doc.acts), len(doc.figures))
	}
	return doc
}

// TestDemoCase builds the worked case with vigil demo --case into a fresh
// data directory and checks that vigil acts and vigil figures give exactly
// what docs/demo-case.md says, and that the case shows every status and
// both flags.
func TestDemoCase(t *testing.T) {
	doc := parseDemoDoc(t)
	data := filepath.Join(t.TempDir(), "case")
	env := vigilEnv(cliPassphrase)
	out := cliOK(t, env, "demo", "--case", data)
	if !strings.Contains(out, "all acts               confirmed at least 44, reported up to 144") {
		t.Errorf("demo --case summary:\n%s", out)
	}

	var acts []actLine
	if err := json.Unmarshal([]byte(cliOK(t, env, "acts", "--data", data, "--json")), &acts); err != nil {
		t.Fatal(err)
	}
	statuses, flags := map[string]bool{}, map[string]bool{}
	for _, a := range acts {
		want, ok := doc.acts[a.Key]
		if !ok {
			t.Errorf("act %s is not in docs/demo-case.md", a.Key)
			continue
		}
		delete(doc.acts, a.Key)
		var fl []string
		for _, f := range a.Flags {
			fl = append(fl, string(f))
			flags[string(f)] = true
		}
		gotFlags := strings.Join(fl, ", ")
		if gotFlags == "" {
			gotFlags = "-"
		}
		statuses[string(a.Status)] = true
		if a.Type != want[0] || string(a.Status) != want[2] || gotFlags != want[3] {
			t.Errorf("act %s: %s %s [%s], docs/demo-case.md says %s %s [%s]", a.Key, a.Type, a.Status, gotFlags, want[0], want[2], want[3])
		}
		if a.Explanation == "" || a.Label == "" {
			t.Errorf("act %s: no explanation or label", a.Key)
		}
	}
	for k := range doc.acts {
		t.Errorf("docs/demo-case.md lists act %s, which the demo does not create", k)
	}
	for _, s := range []string{"unverified", "reported", "corroborated", "confirmed"} {
		if !statuses[s] {
			t.Errorf("no act of the demo case is %s", s)
		}
	}
	for _, f := range []string{"denied_by_implicated", "disputed"} {
		if !flags[f] {
			t.Errorf("no act of the demo case is flagged %s", f)
		}
	}

	for _, by := range []string{"type", "month", "place", "incident"} {
		var table map[string]figureLine
		if err := json.Unmarshal([]byte(cliOK(t, env, "figures", "--data", data, "--json", "--by", by)), &table); err != nil {
			t.Fatal(err)
		}
		want := doc.figures[by]
		got := map[string][2]int{}
		for k, f := range table {
			if by == "place" || by == "incident" {
				k = f.Key // the doc names records by their keys
			}
			got[k] = [2]int{f.ConfirmedAtLeast, f.ReportedUpTo}
			if f.ConfirmedAtLeast > f.ReportedUpTo || len(f.ConfirmedActs) > len(f.Acts) {
				t.Errorf("figures by %s, %s: confirmed exceeds reported: %+v", by, k, f)
			}
		}
		if !mapsEqual(got, want) {
			t.Errorf("figures by %s: %v, docs/demo-case.md says %v", by, got, want)
		}
	}

	// The text forms say the same in words.
	text := cliOK(t, env, "figures", "--data", data, "--by", "month")
	if !strings.Contains(text, "confirmed at least 39, reported up to 129") {
		t.Errorf("vigil figures --by month:\n%s", text)
	}
	ru := cliOK(t, env, "acts", "--data", data, "--lang", "ru")
	if !strings.Contains(ru, "Произвольное задержание") || !strings.Contains(ru, "Подтверждено") {
		t.Errorf("vigil acts --lang ru:\n%s", ru)
	}
}

func mapsEqual(a, b map[string][2]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestActsFiguresUsage(t *testing.T) {
	env := vigilEnv(cliPassphrase)
	for _, args := range [][]string{{"acts", "--help"}, {"figures", "--help"}, {"demo", "--help"}} {
		r := cliRun(t, env, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage") {
			t.Errorf("vigil %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"figures", "--data", dir, "--by", "week"},
		{"acts", "--data", dir, "--lang", "de"},
		{"acts", "--data", dir, "extra"},
	} {
		r := cliRun(t, env, args...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("vigil %s: exit %d, stderr %q; want a one-line usage error", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	r := cliRun(t, env, "acts", "--data", filepath.Join(dir, "missing"))
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "not a vigil data directory") {
		t.Errorf("vigil acts on a missing directory: exit %d, stderr %q", r.code, r.stderr)
	}
}
