package staffweb

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCatalogs: English and Russian have the same keys with the same fmt
// verbs, and every key the templates and handlers name exists.
func TestCatalogs(t *testing.T) {
	cats := loadCatalogs()
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	for _, l := range langs {
		for k, en := range cats["en"] {
			m, ok := cats[l][k]
			if !ok {
				t.Errorf("%s: missing %q", l, k)
				continue
			}
			if a, b := strings.Join(verbs.FindAllString(en, -1), " "), strings.Join(verbs.FindAllString(m, -1), " "); a != b {
				t.Errorf("%s %q: verbs %q, English %q", l, k, b, a)
			}
		}
		for k := range cats[l] {
			if _, ok := cats["en"][k]; !ok {
				t.Errorf("%s: %q not in English", l, k)
			}
		}
	}
	used := regexp.MustCompile(`(?:\.T|T\() ?"([a-z]+\.[a-z]+)"|"((?:err|title|signin|state|role|from|lang)\.[a-z_]+)"`)
	files, _ := filepath.Glob("templates/*.html")
	gos, _ := filepath.Glob("*.go")
	n := 0
	for _, f := range append(files, gos...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			k := m[1] + m[2]
			n++
			if _, ok := cats["en"][k]; !ok {
				t.Errorf("%s uses %q, not in the catalog", f, k)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d keys found in use", n)
	}
	for _, s := range States {
		if _, ok := cats["en"]["state."+string(s)]; !ok {
			t.Errorf("state %s has no name", s)
		}
	}
	for _, r := range Roles {
		if _, ok := cats["en"]["role."+string(r)]; !ok {
			t.Errorf("role %s has no name", r)
		}
	}
}
