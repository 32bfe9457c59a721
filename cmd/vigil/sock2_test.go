package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// vigil advisory create, list and withdraw work the same while vigil serve
// holds the data directory (through its staff socket) as offline; a sealed
// server says so where the vault is needed; key create-advisory, which
// rewrites keys.age, refuses while serving and says to stop serve.
func TestAdvisoryWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	sealedEnv := vigilEnv("")

	published := regexp.MustCompile(`^Published advisory ([0-9a-z]{26}) \(public at /advisories/([0-9a-z]{26})\.txt\):\n\n`)
	publish := func(env []string, args ...string) string {
		t.Helper()
		out := cliOK(t, env, args...)
		m := published.FindStringSubmatch(out)
		if m == nil || m[1] != m[2] {
			t.Fatalf("vigil %s printed %q", strings.Join(args, " "), out)
		}
		return m[1]
	}
	until := "2099-01-01T00:00:00Z"
	offID := publish(env, "advisory", "create", "--data", data, "--text", "en=Leave the district tonight", "--text", "ru=Покиньте район", "--until", until)
	lists := [][]string{
		{"advisory", "list", "--data", data},
		{"advisory", "list", "--data", data, "--json"},
	}
	offline := map[string]string{}
	for _, args := range lists {
		offline[strings.Join(args, " ")] = cliOK(t, sealedEnv, args...)
	}
	if !strings.Contains(offline["advisory list --data "+data], offID+"  current") {
		t.Fatalf("advisory list offline:\n%s", offline["advisory list --data "+data])
	}

	s := serveStart(t, bin, env, data)
	for _, args := range lists {
		if got, want := cliOK(t, sealedEnv, args...), offline[strings.Join(args, " ")]; got != want {
			t.Errorf("vigil %s while serving:\n%s\noffline:\n%s", strings.Join(args, " "), got, want)
		}
	}
	onID := publish(sealedEnv, "advisory", "create", "--data", data, "--text", "en=Checkpoint on the bridge", "--for", "72h")
	wID := publish(sealedEnv, "advisory", "withdraw", "--data", data, offID)
	servingFail(t, sealedEnv, []string{"not found"}, "advisory", "withdraw", "--data", data, "0000000000000000000000000g")
	servingFail(t, sealedEnv, []string{"invalid"}, "advisory", "create", "--data", data, "--text", "xx-not-a-lang!=hi", "--for", "1h")
	// key create-advisory on a directory without the key (as one made
	// before the key existed): it would rewrite keys.age under the server.
	cfgPath := filepath.Join(data, "vigil.json")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	noKey := regexp.MustCompile(`"advisory_vkey":\s*"[^"]*",?`).ReplaceAll(cfg, nil)
	if bytes.Equal(noKey, cfg) {
		t.Fatalf("vigil.json has no advisory_vkey:\n%s", cfg)
	}
	os.WriteFile(cfgPath, noKey, 0o600)
	servingFail(t, env, []string{"vigil serve holds", "stop it", "start it again"}, "key", "create-advisory", "--data", data)
	os.WriteFile(cfgPath, cfg, 0o600)
	online := map[string]string{}
	for _, args := range lists {
		online[strings.Join(args, " ")] = cliOK(t, sealedEnv, args...)
	}
	l := online["advisory list --data "+data]
	for _, want := range []string{onID + "  current", offID + "  withdrawn", wID + "  withdrawal"} {
		if !strings.Contains(l, want) {
			t.Errorf("advisory list while serving does not show %q:\n%s", want, l)
		}
	}

	// Sealed: publishing needs the signing key in the vault; the list does not.
	cliOK(t, env, "seal", "--staff", s.staff)
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "advisory", "create", "--data", data, "--text", "en=x", "--for", "1h")
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "advisory", "withdraw", "--data", data, onID)
	if got := cliOK(t, sealedEnv, lists[0]...); got != l {
		t.Errorf("advisory list from a sealed server:\n%s\nunsealed:\n%s", got, l)
	}
	s.stop(t)
	for _, args := range lists {
		if got, want := cliOK(t, sealedEnv, args...), online[strings.Join(args, " ")]; got != want {
			t.Errorf("vigil %s offline after serving:\n%s\nwhile serving:\n%s", strings.Join(args, " "), got, want)
		}
	}
}
