package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/casefile"
)

// caseFile returns a small case whose names, quotes and place names are
// the given canaries.
func caseFile(t *testing.T, canary map[string]string) []byte {
	t.Helper()
	f := &casefile.File{
		Format: casefile.Format,
		Places: []casefile.Place{
			{Key: "region", Names: map[string]string{"en": "Region " + canary["place"], "ru": "Регион " + canary["place"]}},
			{Key: "city", Names: map[string]string{"en": "City"}, Parent: "region"},
		},
		Parties: []casefile.Party{
			{Key: "ministry", Name: "Ministry of Internal Affairs"},
			{Key: "police", Name: "Police unit " + canary["party"], Parent: "ministry"},
		},
		Sources: []casefile.Source{
			{Key: "victim-1", Name: "Anonymous testimony", Type: vigil.SourceType("victim"), Reliability: vigil.Reliability("C"), Origin: "victim-1"},
			{Key: "paper", Name: "Newspaper", Type: vigil.SourceType("media"), Reliability: vigil.Reliability("B"), Origin: "paper"},
			{Key: "official", Name: "Ministry spokesman", Type: vigil.SourceType("official"), Reliability: vigil.Reliability("F"), Origin: "official", Party: "ministry"},
		},
		Persons: []casefile.Person{{Key: "p1", Pseudonym: "Person " + canary["person"]}},
		Incidents: []casefile.Incident{{Key: "wave", Title: "Wave of detentions " + canary["title"],
			Period: vigil.Period{From: mustDate(t, "2017-02"), To: mustDate(t, "2017-04")}, Place: "region"}},
		Acts: []casefile.Act{{Key: "det", Incident: "wave", Type: "arbitrary_detention", Place: "city",
			Period: vigil.Period{From: mustDate(t, "2017-03")}, Victims: vigil.VictimCount{Min: 30, Max: 100},
			VictimPersons: []string{"p1"}, Perpetrators: []string{"police"}}},
		Claims: []casefile.Claim{
			{Key: "c1", Act: "det", Source: "victim-1", Stance: vigil.Stance("affirms"), Credibility: 3, Quote: "They took us " + canary["quote"]},
			{Key: "c2", Act: "det", Source: "paper", Stance: vigil.Stance("partially_affirms"), Credibility: 3, Quote: "At least thirty"},
			{Key: "c3", Act: "det", Source: "official", Stance: vigil.Stance("denies"), Credibility: 6, Quote: "Complete lies"},
		},
	}
	var b bytes.Buffer
	if err := casefile.Encode(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustDate(t *testing.T, s string) vigil.Date {
	t.Helper()
	d, err := vigil.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestImportExport runs vigil import and export as a user would: a case
// file imports whole; exporting it and importing the export again changes
// nothing (no duplicates, no new versions); the export round-trips exactly,
// in the same directory and into a fresh one; a changed record gets a new
// version; a file with problems reports each with its JSON path and stores
// nothing; CSV tables are written; and the data directory holds none of the
// case's names, quotes or place names in plaintext.
func TestImportExport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vigil binary")
	}
	dir := t.TempDir()
	bin := vigilBin(t)
	env := vigilEnv("case io test passphrase")
	data := filepath.Join(dir, "data")
	vigilRun(t, bin, env, "init", "--data", data, "--scrypt-work-factor", "10")
	canary := map[string]string{}
	for _, k := range []string{"place", "party", "person", "title", "quote"} {
		canary[k] = canaryString()
	}
	file := filepath.Join(dir, "case.json")
	writeFile(t, file, caseFile(t, canary))

	if out := vigilRun(t, bin, env, "import", "--data", data, file); !strings.Contains(out, "imported 13 records: 13 new, 0 updated, 0 unchanged") {
		t.Fatalf("first import: %q", out)
	}
	export1 := vigilRun(t, bin, env, "export", "--data", data)
	exportFile := filepath.Join(dir, "export.json")
	writeFile(t, exportFile, []byte(export1))
	if out := vigilRun(t, bin, env, "import", "--data", data, exportFile); !strings.Contains(out, "0 new, 0 updated, 13 unchanged") {
		t.Errorf("importing the export again: %q", out)
	}
	if export2 := vigilRun(t, bin, env, "export", "--data", data); export2 != export1 {
		t.Errorf("the export changed after importing it again:\n%s\n---\n%s", export1, export2)
	}
	data2 := filepath.Join(dir, "data2")
	vigilRun(t, bin, env, "init", "--data", data2, "--scrypt-work-factor", "10")
	vigilRun(t, bin, env, "import", "--data", data2, exportFile)
	if export3 := vigilRun(t, bin, env, "export", "--data", data2); export3 != export1 {
		t.Errorf("the export does not round-trip into a fresh directory:\n%s\n---\n%s", export1, export3)
	}
	if !strings.Contains(export1, canary["quote"]) || !strings.Contains(export1, `"key": "det"`) {
		t.Errorf("the export lacks the records' content or keys:\n%s", export1)
	}

	// One quote changed: one new version.
	changed := strings.Replace(export1, "At least thirty", "At least thirty-five", 1)
	writeFile(t, exportFile, []byte(changed))
	if out := vigilRun(t, bin, env, "import", "--data", data, exportFile); !strings.Contains(out, "0 new, 1 updated, 12 unchanged") {
		t.Errorf("importing one changed claim: %q", out)
	}

	// Problems: each named by its path, nothing stored.
	bad := strings.Replace(changed, `"act": "det"`, `"act": "nothing"`, 1)
	bad = strings.Replace(bad, `"reliability": "B"`, `"reliability": "Z"`, 1)
	writeFile(t, exportFile, []byte(bad))
	before := cliSnapshot(t, data)
	r := cliRun(t, env, "import", "--data", data, exportFile)
	if r.code == 0 {
		t.Fatalf("a file with problems was imported: %s", r.stdout)
	}
	for _, want := range []string{"$.claims[0].act", "$.sources[", ".reliability", "nothing was imported"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the problems do not mention %q:\n%s", want, r.stderr)
		}
	}
	if diff := cliDiff(before, cliSnapshot(t, data)); diff != "" {
		t.Errorf("a refused import changed the data directory: %s", diff)
	}

	// CSV.
	csvDir := filepath.Join(dir, "csv")
	vigilRun(t, bin, env, "export", "--data", data, "--format", "csv", "--out", csvDir)
	for _, k := range casefile.Kinds() {
		b, err := os.ReadFile(filepath.Join(csvDir, k.Array()+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "key,") {
			t.Errorf("%s.csv starts %.40q", k.Array(), b)
		}
	}

	// Nothing of the case in plaintext at rest.
	err := filepath.WalkDir(data, func(path string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, c := range canary {
			for _, n := range canaryNeedles(c) {
				if bytes.Contains(b, n.b) {
					t.Errorf("%s holds the %s canary (%s)", path, what, n.name)
				}
			}
		}
		for _, s := range []string{"Complete lies", "arbitrary_detention", "partially_affirms", "Ministry"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in plaintext", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
