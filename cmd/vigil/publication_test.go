package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func configKeys(t *testing.T, data string) (advisoryKey, logKey string) {
	t.Helper()
	var cfg struct {
		AdvisoryVKey string `json:"advisory_vkey"`
		LogVKey      string `json:"log_vkey"`
	}
	b, err := os.ReadFile(filepath.Join(data, "vigil.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.AdvisoryVKey, cfg.LogVKey
}

// TestCLIAdvisory: create, verify with vigil verify and x/mod's note.Open,
// then one changed character, a wrong key and a withdrawn advisory shown
// as current each fail with a message that says which; fsck accounts for
// the advisories' leaves.
func TestCLIAdvisory(t *testing.T) {
	data, _, logKey := cliInit(t)
	env := vigilEnv(cliPassphrase)
	akey, _ := configKeys(t, data)
	if !strings.HasPrefix(akey, "example.org/advisories+") {
		t.Fatalf("advisory_vkey %q", akey)
	}
	out := cliOK(t, env, "advisory", "create", "--data", data, "--text", "en=Leave the Kirovsky district before Friday.", "--text", "ru=Покиньте Кировский район до пятницы.", "--for", "72h")
	id := strings.Fields(strings.TrimPrefix(out, "Published advisory "))[0]
	file := filepath.Join(data, "public", "advisories", id+".txt")
	msg, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(akey)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := note.Open(msg, note.VerifierList(v)); err != nil || !strings.Contains(n.Text, "Покиньте Кировский район") {
		t.Fatalf("x/mod note.Open: %v", err)
	}
	index := filepath.Join(data, "public", "advisories", "index.txt")
	if out := cliOK(t, env, "verify", file, "--key", akey, "--index", index); !strings.HasPrefix(out, "OK    advisory "+id) {
		t.Fatalf("verify: %s", out)
	}
	dir := t.TempDir()
	changed := filepath.Join(dir, "changed.txt")
	os.WriteFile(changed, bytes.Replace(msg, []byte("Friday"), []byte("Fridoy"), 1), 0o644)
	cliFail(t, data, env, []string{"FAILED", "signature does not verify"}, "verify", changed, "--key", akey)
	cliFail(t, data, env, []string{"FAILED", "not signed by the given key"}, "verify", file, "--key", logKey)

	cliOK(t, env, "advisory", "withdraw", "--data", data, id)
	cliFail(t, data, env, []string{"withdrawn", "must not be acted on"}, "verify", file, "--key", akey, "--index", index)
	cliFail(t, data, env, []string{"already withdrawn"}, "advisory", "withdraw", "--data", data, id)
	cliFail(t, data, env, []string{"no longer valid"}, "verify", file, "--key", akey, "--at", "2099-01-01T00:00:00Z")
	list := cliOK(t, env, "advisory", "list", "--data", data)
	if !strings.Contains(list, id+"  withdrawn") || !strings.Contains(list, "withdrawal") {
		t.Errorf("list:\n%s", list)
	}
	cliFail(t, data, env, []string{"validity"}, "advisory", "create", "--data", data, "--text", "en=x")
	cliFail(t, data, env, []string{"empty line"}, "advisory", "create", "--data", data, "--text", "en=a\n\nb", "--for", "1h")
	if out := cliOK(t, env, "fsck", "--data", data); !strings.Contains(out, "each of the log's") {
		t.Errorf("fsck: %s", out)
	}
}

// TestCLIAdvisoryKeyCreate: vigil key create-advisory refuses a data
// directory that has a publication key and changes nothing (adding one to
// an old key file is vault.TestAddAdvisoryKey).
func TestCLIAdvisoryKeyCreate(t *testing.T) {
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	cliFail(t, data, env, []string{"already has an advisory key"}, "key", "create-advisory", "--data", data)
}

// TestCLIStats: publish statistics of the worked case, recompute its
// figures from evidence bundles, and refuse a tampered file.
func TestCLIStats(t *testing.T) {
	data := filepath.Join(t.TempDir(), "case")
	env := vigilEnv(cliPassphrase)
	cliOK(t, env, "demo", "--case", data)
	akey, logKey := configKeys(t, data)

	// k = 5: the worked case is small and lies in one region: most is hidden.
	out := cliOK(t, env, "stats", "publish", "--data", data)
	if !strings.Contains(out, "hidden (k = 5") {
		t.Fatalf("publish: %s", out)
	}
	latest := filepath.Join(data, "public", "stats", "latest.txt")
	b, _ := os.ReadFile(latest)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "figure: ") && !strings.HasSuffix(l, " hidden") && strings.Contains(l, " reported=") {
			var n int
			for _, f := range strings.Fields(l) {
				if v, ok := strings.CutPrefix(f, "reported="); ok {
					json.Unmarshal([]byte(v), &n)
				}
			}
			if n < 5 {
				t.Errorf("shown below k: %s", l)
			}
		}
	}

	cliOK(t, env, "stats", "publish", "--data", data, "--k", "2")
	// The court asks for the bundles of the acts, claims and places.
	var figs map[string]struct {
		Acts   []string `json:"acts"`
		Claims []string `json:"claims"`
	}
	json.Unmarshal([]byte(cliOK(t, env, "figures", "--data", data, "--json")), &figs)
	ids := map[string]bool{}
	for _, f := range figs {
		for _, id := range append(f.Acts, f.Claims...) {
			ids[id] = true
		}
	}
	var places map[string]json.RawMessage
	json.Unmarshal([]byte(cliOK(t, env, "figures", "--data", data, "--json", "--by", "place")), &places)
	for k := range places {
		if k != "unknown" {
			ids[k] = true
		}
	}
	var list []string
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	bundles := t.TempDir()
	cliOK(t, env, append([]string{"bundle", "--data", data, "--out", filepath.Join(bundles, "case.zip")}, list...)...)
	out = cliOK(t, env, "verify", latest, "--key", akey, "--bundles", bundles, "--log-key", logKey)
	if !strings.Contains(out, "recomputed from the bundles") || !strings.Contains(out, " 0 failed") {
		t.Fatalf("verify with bundles:\n%s", out)
	}
	t.Logf("%s", out)

	// Tampering: one digit changed.
	b, _ = os.ReadFile(latest)
	tampered := filepath.Join(t.TempDir(), "stats.txt")
	os.WriteFile(tampered, bytes.Replace(b, []byte("reported=112"), []byte("reported=113"), 1), 0o644)
	if bytes.Equal(b, mustRead(t, tampered)) {
		t.Fatal("nothing to tamper with")
	}
	cliFail(t, data, env, []string{"FAILED", "signature does not verify"}, "verify", tampered, "--key", akey)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
