package staffweb

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/vigil-hr/vigil/corroborate"
)

// TestRecordsCatalog: every records.* key the record screens name is in
// both catalogs, and so is every name built from a value (statuses, flags,
// stances, source types, grades).
func TestRecordsCatalog(t *testing.T) {
	cats := loadCatalogs()
	keyRe := regexp.MustCompile(`"(records\.[a-z_.]*[a-z_])"`)
	tmpls, _ := filepath.Glob("templates/records_*.html")
	gos, _ := filepath.Glob("records*.go")
	keys := map[string]bool{}
	for _, f := range append(tmpls, gos...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	if len(keys) < 100 {
		t.Fatalf("only %d keys found", len(keys))
	}
	for _, st := range Statuses {
		keys["records.status."+string(st)] = true
	}
	for _, f := range []corroborate.Flag{corroborate.DeniedByImplicated, corroborate.Disputed} {
		keys["records.flag."+string(f)] = true
	}
	for _, s := range []string{"affirms", "partially_affirms", "denies"} {
		keys["records.stance."+s] = true
	}
	for _, s := range sourceTypes {
		keys["records.sourcetype."+string(s)] = true
	}
	for _, r := range reliabilities {
		keys["records.reliability."+string(r)] = true
	}
	for c := 1; c <= 6; c++ {
		keys["records.credibility."+strconv.Itoa(c)] = true
	}
	for _, k := range []string{"saved", "act", "denial", "triage"} {
		keys["records.done."+k] = true
	}
	for k := range keys {
		for _, l := range langs {
			if _, ok := cats[l][k]; !ok {
				t.Errorf("%s: %q missing", l, k)
			}
		}
	}
}
