package main

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"

	"github.com/vigil-hr/vigil/internal/witnesstest"
	"github.com/vigil-hr/vigil/witness"
)

// TestWitnessedBundle runs vigil end to end with a witness: vigil init and
// add, vigil witness (another process, its own key) witnessing the log,
// vigil serve with a witness policy in vigil.json publishing the cosigned
// checkpoint, then vigil bundle, whose proofs carry the cosignature: vigil
// verify --policy accepts it under a policy requiring the witness and
// refuses it under one naming a witness that never cosigned.
//
// It runs twice: with a vigil witness, and with litewitness (see package
// witnesstest for what that needs), whose cosignatures torchwood verifies.
func TestWitnessedBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	t.Run("vigil witness", func(t *testing.T) {
		testWitnessedBundle(t, func(t *testing.T, bin, dir, logVKey string) (string, string) {
			return startVigilWitness(t, bin, dir, "witness.example/w1", logVKey)
		})
	})
	t.Run("litewitness", func(t *testing.T) {
		testWitnessedBundle(t, func(t *testing.T, bin, dir, logVKey string) (string, string) {
			lw := witnesstest.StartLitewitness(t, "witness.example/w1", logVKey)
			return lw.VKey, lw.URL
		})
	})
}

func testWitnessedBundle(t *testing.T, start func(t *testing.T, bin, dir, logVKey string) (vkey, url string)) {
	bin := vigilBin(t)
	tmp := t.TempDir()
	env := vigilEnv(interopPassphrase)
	data := filepath.Join(tmp, "data")
	out := vigilRun(t, bin, env, "init", "--data", data, "--origin", "witnessed.example/log", "--scrypt-work-factor", "10")
	logKey := regexp.MustCompile(`log key:\s+(\S+)`).FindStringSubmatch(out)
	if logKey == nil {
		t.Fatalf("vigil init printed no log key:\n%s", out)
	}
	items := map[int64]interopItem{}
	interopAdd(t, bin, env, data, filepath.Join(tmp, "files"), 0, 3, items)

	wkey, wurl := start(t, bin, filepath.Join(tmp, "wit"), logKey[1])
	absentKey := newCosignerKey(t, "absent.example/w")
	policy := map[string]any{"witnesses": []map[string]any{{"name": "w1", "vkey": wkey, "url": wurl}}}
	setWitnessPolicy(t, data, policy)

	srv := exec.Command(bin, "serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0", "--checkpoint-interval", "1s")
	srv.Env = env
	var sout, serr interopBuffer
	srv.Stdout, srv.Stderr = &sout, &serr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	var pub string
	waitUntil(t, 30*time.Second, func() bool {
		m := regexp.MustCompile(`(?m)^public (\S+)$`).FindStringSubmatch(sout.String())
		if m != nil {
			pub = m[1]
		}
		return pub != ""
	})
	var cp []byte
	waitUntil(t, 20*time.Second, func() bool {
		b, code := getBody(t, pub+"log/checkpoint")
		cp = b
		return code == http.StatusOK && strings.Contains(string(b), "— witness.example/w1 ")
	})
	t.Logf("public checkpoint:\n%s", cp)
	tv, err := torchwood.NewCosignatureVerifier(wkey)
	if err != nil {
		t.Fatal(err)
	}
	policyTW := torchwood.ThresholdPolicy(3, torchwood.OriginPolicy("witnessed.example/log"),
		torchwood.SingleVerifierPolicy(mustNoteVerifier(t, logKey[1])), torchwood.SingleVerifierPolicy(tv))
	if _, _, err := torchwood.VerifyCheckpoint(cp, policyTW); err != nil {
		t.Fatalf("torchwood does not verify the public checkpoint under the policy: %v", err)
	}
	srv.Process.Signal(os.Interrupt)
	srv.Wait()
	if strings.Contains(serr.String(), "ALARM") {
		t.Fatalf("alarm:\n%s", serr.String())
	}

	var ids []string
	for _, it := range items {
		ids = append(ids, it.id)
	}
	zip := filepath.Join(tmp, "b.zip")
	vigilRun(t, bin, env, append([]string{"bundle", "--data", data, "--out", zip}, ids...)...)

	good := filepath.Join(tmp, "good.json")
	writeJSON(t, good, map[string]any{"witnesses": []map[string]any{{"name": "w1", "vkey": wkey}}})
	out = vigilRun(t, bin, env, "verify", zip, "--log-key", logKey[1], "--policy", good)
	if strings.Count(out, "cosigned by w1") != len(ids) {
		t.Fatalf("verify --policy good.json:\n%s", out)
	}
	t.Logf("verify --policy good.json:\n%s", out)

	missing := filepath.Join(tmp, "missing.json")
	writeJSON(t, missing, map[string]any{"witnesses": []map[string]any{{"name": "w1", "vkey": wkey}, {"name": "absent", "vkey": absentKey}}})
	cmd := exec.Command(bin, "verify", zip, "--log-key", logKey[1], "--policy", missing)
	cmd.Env = env
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "witness quorum") || !strings.Contains(string(b), "absent") {
		t.Fatalf("verify --policy missing.json: err %v\n%s", err, b)
	}
	t.Logf("verify --policy missing.json: %v\n%s", err, b)
}

// startVigilWitness makes a vigil witness in dir witnessing the log, runs it
// on loopback until the test ends, and returns its vkey and URL.
func startVigilWitness(t *testing.T, bin, dir, name, logVKey string) (string, string) {
	t.Helper()
	out := vigilRun(t, bin, vigilEnv(""), "witness", "--data", dir, "--name", name, "--add-log", logVKey)
	m := regexp.MustCompile(`witness key: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no witness key in %q", out)
	}
	cmd := exec.Command(bin, "witness", "--data", dir, "--listen", "127.0.0.1:0")
	cmd.Env = vigilEnv("")
	var wout interopBuffer
	cmd.Stdout, cmd.Stderr = &wout, &wout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var url string
	waitUntil(t, 20*time.Second, func() bool {
		if u := regexp.MustCompile(`witness (http://\S+)/`).FindStringSubmatch(wout.String()); u != nil {
			url = u[1]
		}
		return url != ""
	})
	return m[1], url
}

// newCosignerKey returns the vkey of a fresh cosigner key.
func newCosignerKey(t *testing.T, name string) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := witness.NewSigner(name, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.VerifierKey()
}

func setWitnessPolicy(t *testing.T, data string, policy any) {
	t.Helper()
	p := filepath.Join(data, "vigil.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["witness"] = policy
	writeJSON(t, p, cfg)
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
