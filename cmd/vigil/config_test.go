package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/web"
)

// vigil config check prints OK for a fresh directory and every problem,
// each with its key's path, for a broken one; serve refuses to start on it.
func TestConfigCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if _, err := datadir.Init(dir, []byte("config check passphrase"), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"config", "check", "--data", dir}, nil, &out, &errb); code != 0 || out.String() != "OK\n" {
		t.Fatalf("fresh directory: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	p := filepath.Join(dir, "vigil.json")
	b, _ := os.ReadFile(p)
	bad := strings.Replace(string(b), `"intake": {}`, `"intake": {"max_filez": 3, "time_precision": "1s"}, "instance": {"name": {"de": "Wache"}}`, 1)
	if bad == string(b) {
		t.Fatalf("vigil.json has no empty intake section:\n%s", b)
	}
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	code := Main(t.Context(), []string{"config", "check", "--data", dir}, nil, &out, &errb)
	want := []string{
		"vigil.json: intake.max_filez: unknown key (did you mean max_files?)",
		"vigil.json: intake.time_precision: 1s is out of range 1m0s..720h0m0s",
		"vigil.json: instance.name.de: no public pages in language \"de\" (have en, ru)",
	}
	if code != 1 || out.String() != strings.Join(want, "\n")+"\n" || !strings.Contains(errb.String(), "3 problem(s)") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := Main(t.Context(), []string{"serve", "--data", dir, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "intake.time_precision") {
		t.Errorf("serve on a bad config: exit %d, stderr %q", code, errb.String())
	}
	if code := Main(t.Context(), []string{"config", "nope"}, nil, &out, &errb); code != 2 {
		t.Errorf("config nope: exit %d", code)
	}
}

// The languages vigil.json's instance texts may use are the public pages'.
func TestConfigLanguagesAreThePages(t *testing.T) {
	if got := web.Languages(); !slices.Equal(got, datadir.Languages()) {
		t.Errorf("web has languages %v, datadir.Languages() %v", got, datadir.Languages())
	}
}

// serve refuses an unknown log format or level as a usage error.
func TestServeLogFlags(t *testing.T) {
	for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}} {
		var out, errb bytes.Buffer
		code := Main(t.Context(), append([]string{"serve", "--data", t.TempDir()}, args...), nil, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), args[0]) || !strings.Contains(errb.String(), "want") {
			t.Errorf("serve %v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}
