package vigil_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

type pkgInfo struct {
	ImportPath string
	Doc        string
	Name       string
	Deps       []string
	Imports    []string
}

func listPackages(t *testing.T) []pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkgInfo
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestPackageDocs checks that every package says what it is for.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.Doc == "" {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
	}
}

// TestDependencies checks the architecture: the shared nouns and the vault
// do no network or database I/O, and adapters don't import each other.
func TestDependencies(t *testing.T) {
	const mod = "github.com/vigil-hr/vigil"
	bad := map[string][]string{
		mod:                           {"net/http", "database/sql"},
		mod + "/vault":                {"net/http", "database/sql"},
		mod + "/evlog":                {"database/sql"},
		mod + "/bundle":               {"net/http", "database/sql"},
		mod + "/store":                {"database/sql", "net/http"},
		mod + "/blob":                 {"net/http", "database/sql"},
		mod + "/store/sqlite":         {mod + "/store/postgres", mod + "/blob/localdisk"},
		mod + "/blob/localdisk":       {mod + "/store/sqlite", "database/sql"},
		mod + "/evidence":             {"database/sql", mod + "/store/sqlite", mod + "/blob/localdisk"},
		mod + "/internal/datadir":     {"net/http"},
		mod + "/intake":               {"net/http", "database/sql", mod + "/store/sqlite", mod + "/blob/localdisk"},
		mod + "/internal/groupcommit": {"net/http", "database/sql"},
		mod + "/internal/connlimit":   {"net/http", "database/sql"},
		mod + "/internal/dirlock":     {"net/http", "database/sql"},
		mod + "/internal/atomicfile":  {"net/http", "database/sql"},
		mod + "/corroborate":          {"net/http", "database/sql", mod + "/store"},
		mod + "/figures":              {"net/http", "database/sql", mod + "/store"},
		mod + "/vocab":                {"net/http", "database/sql", mod + "/store"},
		mod + "/search":               {"net/http", "database/sql", "os", mod + "/store"},
	}
	for _, p := range listPackages(t) {
		for _, b := range bad[p.ImportPath] {
			// net/http is checked on direct imports only: the log's tiles
			// handler lives in evlog, which others import for proofs. So is
			// os, which fmt imports.
			deps := p.Deps
			if b == "net/http" || b == "os" {
				deps = p.Imports
			}
			for _, d := range deps {
				if d == b {
					t.Errorf("%s depends on %s", p.ImportPath, b)
				}
			}
		}
	}
}

// TestPure checks that the packages that decide statuses and figures
// import nothing that reads files, the network, the clock or randomness, so
// the same records always give the same result.
func TestPure(t *testing.T) {
	const mod = "github.com/vigil-hr/vigil"
	pure := map[string]bool{mod + "/corroborate": true, mod + "/figures": true, mod + "/vocab": true}
	impure := []string{"os", "io/fs", "net", "net/http", "database/sql", "time", "math/rand", "math/rand/v2", "crypto/rand", "syscall", "os/exec"}
	for _, p := range listPackages(t) {
		if !pure[p.ImportPath] {
			continue
		}
		for _, imp := range p.Imports {
			for _, b := range impure {
				if imp == b {
					t.Errorf("%s imports %s", p.ImportPath, imp)
				}
			}
		}
	}
}
