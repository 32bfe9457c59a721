package witness_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/witness"
)

// TestLitewitness checks vigil's client against litewitness, a tlog-witness
// we did not write (filippo.io/torchwood/cmd/litewitness@v0.9.0): the test
// starts it on loopback with a throwaway Ed25519 key in a throwaway ssh-agent,
// adds the test log with witnessctl, and checks that the client gets
// cosignatures as the log grows (learning litewitness's size from its 409),
// that torchwood's cosignature verifier accepts them, and that a forked log
// raises the alarm.
//
// It needs litewitness and witnessctl (on PATH, in $GOBIN or buildable with
// go install) and ssh-agent, ssh-add and ssh-keygen (Debian: openssh-client).
// Without them it skips, unless VIGIL_REQUIRE_WITNESS=1.
func TestLitewitness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs litewitness")
	}
	bins := litewitnessBins(t)
	dir, err := os.MkdirTemp("", "lw") // short: a unix socket path is at most ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	// A throwaway key in a throwaway agent.
	sock := filepath.Join(dir, "agent.sock")
	key := filepath.Join(dir, "key")
	run(t, nil, bins["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-C", "vigil-test", "-f", key)
	agent := exec.CommandContext(ctx, bins["ssh-agent"], "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	env := append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	waitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })
	run(t, env, bins["ssh-add"], "-q", key)
	fp := strings.Fields(run(t, nil, bins["ssh-keygen"], "-l", "-E", "sha256", "-f", key+".pub"))[1]
	pub := sshEd25519Key(t, key+".pub")

	// The test log, added with witnessctl.
	log := newMemLog(t, "vigil.example/interop-log")
	db := filepath.Join(dir, "litewitness.db")
	run(t, nil, bins["witnessctl"], "add-log", "-db", db, "-origin", log.origin)
	run(t, nil, bins["witnessctl"], "add-key", "-db", db, "-origin", log.origin, "-key", log.vkey)

	// litewitness on loopback.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	const name = "litewitness.example/w1"
	lw := exec.CommandContext(ctx, bins["litewitness"], "-db", db, "-name", name, "-key", fp, "-ssh-agent", sock, "-listen", addr)
	stderr, err := lw.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := lw.Start(); err != nil {
		t.Fatalf("litewitness: %v", err)
	}
	t.Cleanup(func() { lw.Process.Kill(); lw.Wait() })
	vkeyc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`vkey=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Logf("litewitness: %s", sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case vkeyc <- m[1]:
				default:
				}
			}
		}
	}()
	var vkey string
	select {
	case vkey = <-vkeyc:
	case <-time.After(30 * time.Second):
		t.Fatal("litewitness printed no verifier key")
	}
	// Our own computation of its vkey, from the SSH public key, must agree.
	if want, err := witness.VerifierKey(name, pub); err != nil || vkey != want {
		t.Fatalf("litewitness vkey %q; computed from the SSH key %q (%v)", vkey, want, err)
	}
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	v, err := witness.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	tv, err := torchwood.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	ws := []witness.Witness{{Name: "litewitness", Verifier: v, URL: "http://" + addr}}
	policy := torchwood.ThresholdPolicy(3,
		torchwood.OriginPolicy(log.origin),
		torchwood.SingleVerifierPolicy(mustVerifier(t, log.vkey)),
		torchwood.SingleVerifierPolicy(tv))

	var c witness.Client
	for i, k := range []int{5, 0, 250, 3} {
		if i == 2 {
			c = witness.Client{} // learns litewitness's size from a 409
		}
		log.add(t, k, "entry")
		res := c.Cosign(ctx, ws, log.checkpoint(t), log)
		if len(res.Errs) != 0 {
			t.Fatalf("size %d: %v", log.n, res.Errs)
		}
		cp, _, err := torchwood.VerifyCheckpoint(res.Cosigned, policy)
		if err != nil || cp.N != log.n {
			t.Fatalf("size %d: torchwood does not verify %q: %v", log.n, res.Cosigned, err)
		}
		t.Logf("size %d cosigned by litewitness:\n%s", log.n, res.Cosigned)
	}

	// A fork: the same key signs a rewritten history.
	for _, f := range []*memLog{forkAt(t, log, 100, 0), forkAt(t, log, 100, 400)} {
		res := (&witness.Client{}).Cosign(ctx, ws, f.checkpoint(t), f)
		if res.Conflict() == nil {
			t.Fatalf("fork of size %d: no alarm (errors %v)", f.n, res.Errs)
		}
		t.Logf("fork of size %d: %v", f.n, res.Conflict())
	}
	// litewitness still has the true log.
	log.add(t, 1, "entry")
	if res := c.Cosign(ctx, ws, log.checkpoint(t), log); len(res.Errs) != 0 {
		t.Fatalf("after the fork attempts: %v", res.Errs)
	}
}

// forkAt returns a log with l's key and first n entries, then entries that
// differ from l's up to l's size plus extra.
func forkAt(t *testing.T, l *memLog, n int64, extra int) *memLog {
	f := l.fork(n)
	f.add(t, int(l.n-n)+extra, "fork")
	return f
}

// litewitnessBins finds the tools TestLitewitness needs, building
// litewitness and witnessctl with go install if they are not on PATH.
func litewitnessBins(t *testing.T) map[string]string {
	skip := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("VIGIL_REQUIRE_WITNESS") == "1" {
			t.Fatalf("%s (VIGIL_REQUIRE_WITNESS=1)", msg)
		}
		t.Skipf("%s; set VIGIL_REQUIRE_WITNESS=1 to make this a failure", msg)
	}
	bins := map[string]string{}
	for _, name := range []string{"ssh-agent", "ssh-add", "ssh-keygen"} {
		p, err := exec.LookPath(name)
		if err != nil {
			skip("%s not found (install openssh-client)", name)
		}
		bins[name] = p
	}
	var gobin string
	for _, name := range []string{"litewitness", "witnessctl"} {
		if p, err := exec.LookPath(name); err == nil {
			bins[name] = p
			continue
		}
		if gobin == "" {
			gobin = t.TempDir()
			cmd := exec.Command("go", "install", "filippo.io/torchwood/cmd/litewitness@v0.9.0", "filippo.io/torchwood/cmd/witnessctl@v0.9.0")
			cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
			if out, err := cmd.CombinedOutput(); err != nil {
				skip("cannot build litewitness and witnessctl: %v\n%s", err, out)
			}
		}
		bins[name] = filepath.Join(gobin, name)
	}
	return bins
}

func run(t *testing.T, env []string, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 300 {
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("timed out")
}

// sshEd25519Key reads an OpenSSH ssh-ed25519 public key file.
func sshEd25519Key(t *testing.T, path string) ed25519.PublicKey {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if f[0] != "ssh-ed25519" || err != nil || len(blob) < ed25519.PublicKeySize {
		t.Fatalf("%s is not an ssh-ed25519 key", path)
	}
	return ed25519.PublicKey(blob[len(blob)-ed25519.PublicKeySize:])
}

var _ tlog.HashReader = (*memLog)(nil)
