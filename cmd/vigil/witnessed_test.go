package main

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
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
	writeJSONFile(t, good, map[string]any{"witnesses": []map[string]any{{"name": "w1", "vkey": wkey}}})
	out = vigilRun(t, bin, env, "verify", zip, "--log-key", logKey[1], "--policy", good)
	if strings.Count(out, "cosigned by w1") != len(ids) {
		t.Fatalf("verify --policy good.json:\n%s", out)
	}
	t.Logf("verify --policy good.json:\n%s", out)

	missing := filepath.Join(tmp, "missing.json")
	writeJSONFile(t, missing, map[string]any{"witnesses": []map[string]any{{"name": "w1", "vkey": wkey}, {"name": "absent", "vkey": absentKey}}})
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
	out := vigilRun(t, bin, vigilEnv("witness test passphrase"), "witness", "--data", dir, "--name", name, "--scrypt-work-factor", "10", "--add-log", logVKey)
	m := regexp.MustCompile(`witness key: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no witness key in %q", out)
	}
	cmd := exec.Command(bin, "witness", "--data", dir, "--listen", "127.0.0.1:0")
	cmd.Env = vigilEnv("witness test passphrase")
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
	writeJSONFile(t, p, cfg)
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWitnessedFork forks a witnessed vigil the way a seizure or a careless
// restore would: the data directory is put back to an old backup (its own
// anchor and database agree, so vigil's own fork check passes) and new,
// different items are added. Both witnesses (a vigil witness and
// litewitness) refuse the forked checkpoint; serve raises the alarm naming
// both, stops signing, and keeps publishing the last cosigned checkpoint.
func TestWitnessedFork(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	tmp := t.TempDir()
	env := vigilEnv(interopPassphrase)
	data := filepath.Join(tmp, "data")
	out := vigilRun(t, bin, env, "init", "--data", data, "--origin", "forked.example/log", "--scrypt-work-factor", "10")
	logKey := regexp.MustCompile(`log key:\s+(\S+)`).FindStringSubmatch(out)[1]
	lw := witnesstest.StartLitewitness(t, "lw.example/w", logKey)
	vkey, url := startVigilWitness(t, bin, filepath.Join(tmp, "wit"), "vigil.example/w", logKey)
	setWitnessPolicy(t, data, map[string]any{"witnesses": []map[string]any{
		{"name": "vigil-w", "vkey": vkey, "url": url},
		{"name": "litewitness", "vkey": lw.VKey, "url": lw.URL},
	}})

	items := map[int64]interopItem{}
	interopAdd(t, bin, env, data, filepath.Join(tmp, "f1"), 0, 3, items)
	pub, stop := serveWitnessed(t, bin, env, data)
	waitCosigned(t, pub, 3, "vigil.example/w", "lw.example/w")
	stop()
	backup := filepath.Join(tmp, "backup")
	if out, err := exec.Command("cp", "-a", data, backup).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	interopAdd(t, bin, env, data, filepath.Join(tmp, "f2"), 3, 2, items)
	pub, stop = serveWitnessed(t, bin, env, data)
	waitCosigned(t, pub, 5, "vigil.example/w", "lw.example/w")
	stop()

	out = vigilRun(t, bin, env, "fsck", "--data", data)
	if !strings.Contains(out, "cosigned checkpoint: 5 entries, cosigned by vigil-w, litewitness, consistent with the tree") {
		t.Errorf("fsck:\n%s", out)
	}
	cosigned5, err := os.ReadFile(filepath.Join(data, "checkpoint.cosigned"))
	if err != nil {
		t.Fatal(err)
	}

	// Restore the old backup, then add other files: a fork at size 5.
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(backup, data); err != nil {
		t.Fatal(err)
	}
	// Had the newer cosigned checkpoint been kept, fsck would refuse the
	// restored directory.
	cosigned3, err := os.ReadFile(filepath.Join(data, "checkpoint.cosigned"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(data, "checkpoint.cosigned"), cosigned5, 0o644)
	cmd := exec.Command(bin, "fsck", "--data", data)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "does not extend the checkpoint its witnesses cosigned") {
		t.Errorf("fsck of a directory older than its cosigned checkpoint: %v\n%s", err, b)
	}
	os.WriteFile(filepath.Join(data, "checkpoint.cosigned"), cosigned3, 0o644)
	vigilRun(t, bin, env, "fsck", "--data", data)
	// Serving the restored directory as it is: at start serve asks the
	// witnesses again, and they have cosigned a larger tree.
	rolled := filepath.Join(tmp, "rolled")
	if out, err := exec.Command("cp", "-a", data, rolled).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	_, stopRolled := serveWitnessed(t, bin, env, rolled)
	waitUntil(t, 20*time.Second, func() bool {
		a, _ := os.ReadFile(filepath.Join(rolled, "witness-alarm"))
		return strings.Count(string(a), "cosigned a larger tree") == 2
	})
	stopRolled()

	interopAdd(t, bin, env, data, filepath.Join(tmp, "f3"), 3, 2, map[int64]interopItem{})
	pub, stop = serveWitnessed(t, bin, env, data)
	defer stop()
	alarmPath := filepath.Join(data, "witness-alarm")
	var alarm []byte
	waitUntil(t, 20*time.Second, func() bool {
		alarm, _ = os.ReadFile(alarmPath)
		return strings.Contains(string(alarm), "vigil-w") && strings.Contains(string(alarm), "litewitness")
	})
	t.Logf("alarm:\n%s", alarm)
	if b, _ := getBody(t, pub+"log/checkpoint"); !strings.Contains(string(b), "\n3\n") {
		t.Errorf("public checkpoint after the fork is not the last cosigned one of the backup (size 3):\n%s", b)
	}
	stop()

	// The alarm stands after serve stops: vigil add keeps the file but
	// signs no checkpoint, and a bundle of it cannot be made.
	cmd = exec.Command(bin, "fsck", "--data", data)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "witness alarm") {
		t.Errorf("fsck during the alarm: %v\n%s", err, b)
	}
	f4 := filepath.Join(tmp, "f4")
	os.MkdirAll(f4, 0o755)
	os.WriteFile(filepath.Join(f4, "late.txt"), []byte("late\n"), 0o644)
	cmd = exec.Command(bin, "add", "--data", data, "-q", f4)
	cmd.Env = env
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "conflicting checkpoint") {
		t.Fatalf("vigil add during the alarm: %v\n%s", err, b)
	}
	id := strings.Fields(string(b))[0]
	cmd = exec.Command(bin, "bundle", "--data", data, "--out", filepath.Join(tmp, "x.zip"), "--no-content", id)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "conflicting checkpoint") {
		t.Errorf("bundle of a record not in the cosigned tree during the alarm: %v\n%s", err, b)
	}
}

// serveWitnessed runs vigil serve with a 1s checkpoint interval.
func serveWitnessed(t *testing.T, bin string, env []string, data string) (string, func()) {
	t.Helper()
	srv := exec.Command(bin, "serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0", "--checkpoint-interval", "1s")
	srv.Env = env
	var sout, serr interopBuffer
	srv.Stdout, srv.Stderr = &sout, &serr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var once bool
	stop := func() {
		if once {
			return
		}
		once = true
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
		t.Logf("serve stderr:\n%s", serr.String())
	}
	t.Cleanup(stop)
	var pub string
	waitUntil(t, 30*time.Second, func() bool {
		if m := regexp.MustCompile(`(?m)^public (\S+)$`).FindStringSubmatch(sout.String()); m != nil {
			pub = m[1]
		}
		return pub != ""
	})
	return pub, stop
}

// waitCosigned waits until the public checkpoint has size n and is cosigned
// by the named cosigners.
func waitCosigned(t *testing.T, pub string, n int64, names ...string) {
	t.Helper()
	waitUntil(t, 20*time.Second, func() bool {
		b, code := getBody(t, pub+"log/checkpoint")
		if code != http.StatusOK || !strings.Contains(string(b), fmt.Sprintf("\n%d\n", n)) {
			return false
		}
		for _, name := range names {
			if !strings.Contains(string(b), "— "+name+" ") {
				return false
			}
		}
		return true
	})
}

// TestMutualWitnessingServe runs two vigil instances (two NGOs), each with a
// vigil witness for the other's log: each serve publishes its checkpoint
// cosigned by the other NGO's witness, as the log grows.
func TestMutualWitnessingServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	tmp := t.TempDir()
	env := vigilEnv(interopPassphrase)
	type ngo struct{ data, logKey, wkey, wurl string }
	ngos := map[string]*ngo{}
	for _, name := range []string{"a", "b"} {
		n := &ngo{data: filepath.Join(tmp, name, "data")}
		out := vigilRun(t, bin, env, "init", "--data", n.data, "--origin", "ngo-"+name+".example/log", "--scrypt-work-factor", "10")
		n.logKey = regexp.MustCompile(`log key:\s+(\S+)`).FindStringSubmatch(out)[1]
		ngos[name] = n
	}
	// Each NGO's witness witnesses the other's log.
	for name, other := range map[string]string{"a": "b", "b": "a"} {
		n := ngos[name]
		n.wkey, n.wurl = startVigilWitness(t, bin, filepath.Join(tmp, name, "witness"), "witness.ngo-"+name+".example/w", ngos[other].logKey)
	}
	for name, other := range map[string]string{"a": "b", "b": "a"} {
		setWitnessPolicy(t, ngos[name].data, map[string]any{"witnesses": []map[string]any{
			{"name": "ngo-" + other, "vkey": ngos[other].wkey, "url": ngos[other].wurl}}})
	}
	pubs := map[string]string{}
	for i, name := range []string{"a", "b"} {
		interopAdd(t, bin, env, ngos[name].data, filepath.Join(tmp, name, "f1"), 0, 2+i, map[int64]interopItem{})
		pubs[name], _ = serveWitnessed(t, bin, env, ngos[name].data)
	}
	waitCosigned(t, pubs["a"], 2, "witness.ngo-b.example/w")
	waitCosigned(t, pubs["b"], 3, "witness.ngo-a.example/w")
	for name, other := range map[string]string{"a": "b", "b": "a"} {
		b, _ := getBody(t, pubs[name]+"log/checkpoint")
		tv, err := torchwood.NewCosignatureVerifier(ngos[other].wkey)
		if err != nil {
			t.Fatal(err)
		}
		policy := torchwood.ThresholdPolicy(3, torchwood.OriginPolicy("ngo-"+name+".example/log"),
			torchwood.SingleVerifierPolicy(mustNoteVerifier(t, ngos[name].logKey)), torchwood.SingleVerifierPolicy(tv))
		if _, _, err := torchwood.VerifyCheckpoint(b, policy); err != nil {
			t.Fatalf("ngo %s's checkpoint cosigned by ngo %s: %v\n%s", name, other, err, b)
		}
		t.Logf("ngo %s, cosigned by ngo %s's witness:\n%s", name, other, b)
	}
}
