package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// initConfig reads the origin and the English instance name of a data
// directory's vigil.json.
func initConfig(t *testing.T, data string) (origin, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "vigil.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Origin   string `json:"origin"`
		LogVKey  string `json:"log_vkey"`
		Instance struct {
			Name map[string]string `json:"name"`
		} `json:"instance"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.LogVKey, cfg.Origin+"+") {
		t.Errorf("log key %q is not named after the origin %q", cfg.LogVKey, cfg.Origin)
	}
	return cfg.Origin, cfg.Instance.Name["en"]
}

// TestInitNameOrigin: --name and --origin land in vigil.json; without them
// and without a terminal, init keeps the default origin and says so on
// stderr; bad values are refused before anything is created.
func TestInitNameOrigin(t *testing.T) {
	env := vigilEnv(cliPassphrase)
	data := filepath.Join(t.TempDir(), "d")
	r := cliRun(t, env, "init", "--data", data, "--name", "Crimea Watch", "--origin", "watch.example.org/log", "--scrypt-work-factor", "10")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("init with --name and --origin: exit %d, stderr %q", r.code, r.stderr)
	}
	if o, n := initConfig(t, data); o != "watch.example.org/log" || n != "Crimea Watch" {
		t.Errorf("origin %q, name %q", o, n)
	}

	bare := filepath.Join(t.TempDir(), "d")
	r = cliRun(t, env, "init", "--data", bare, "--scrypt-work-factor", "10")
	if r.code != 0 {
		t.Fatalf("init without flags: exit %d, %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "warning: no --origin, so the log is named vigil.localhost/log") || !strings.Contains(r.stderr, "--origin HOST/PATH") || !strings.Contains(r.stderr, "no --name") {
		t.Errorf("init without --origin or --name does not warn:\n%s", r.stderr)
	}
	if o, n := initConfig(t, bare); o != defaultOrigin || n != "" {
		t.Errorf("origin %q, name %q", o, n)
	}

	for _, bad := range [][]string{
		{"--origin", "https://example.org/log"},
		{"--origin", "example.org/log with space"},
		{"--name", "Watch\x1b[2J"},
		{"--name", strings.Repeat("x", 101)},
		{"--name", "a\u202eb"},
	} {
		parent := t.TempDir()
		fresh := filepath.Join(parent, "fresh")
		cliFail(t, parent, env, []string{strings.TrimPrefix(bad[0], "--")}, append([]string{"init", "--data", fresh, "--scrypt-work-factor", "10"}, bad...)...)
		if _, err := os.Stat(fresh); err == nil {
			t.Errorf("init %q created %s", bad, fresh)
		}
	}
}
