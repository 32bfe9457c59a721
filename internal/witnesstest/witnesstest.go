// Package witnesstest starts litewitness (filippo.io/torchwood's tlog-witness,
// code we did not write) for tests: on loopback, with a throwaway Ed25519 key
// in a throwaway ssh-agent, witnessing the logs added with witnessctl.
//
// It needs litewitness and witnessctl (on PATH, or buildable with go install
// filippo.io/torchwood/cmd/{litewitness,witnessctl}@v0.9.0) and ssh-agent,
// ssh-add and ssh-keygen (Debian: openssh-client). Without them the test is
// skipped, unless VIGIL_REQUIRE_WITNESS=1 makes it fail.
package witnesstest

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/internal/testneed"
)

// Version is the torchwood version whose litewitness is used.
const Version = "v0.9.0"

// A Litewitness is a running litewitness.
type Litewitness struct {
	Name string // its cosigner name
	VKey string // its verifier key, as it printed it
	URL  string // its submission prefix, http://127.0.0.1:PORT
	// Key is its public key, read from the SSH key: VKey must agree with it.
	Key ed25519.PublicKey
}

// StartLitewitness runs litewitness until the test ends, witnessing the
// logs with the given signed-note verifier keys (the key name is the origin).
func StartLitewitness(t *testing.T, name string, logVKeys ...string) *Litewitness {
	t.Helper()
	bins := findBins(t)
	dir, err := os.MkdirTemp("", "lw") // short: a unix socket path is at most ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

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

	db := filepath.Join(dir, "litewitness.db")
	for _, vkey := range logVKeys {
		origin, _, _ := strings.Cut(vkey, "+")
		run(t, nil, bins["witnessctl"], "add-log", "-db", db, "-origin", origin)
		run(t, nil, bins["witnessctl"], "add-key", "-db", db, "-origin", origin, "-key", vkey)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
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
	var logMu sync.Mutex
	var logs strings.Builder
	go func() {
		re := regexp.MustCompile(`vkey=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case vkeyc <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("litewitness log:\n%s", logs.String())
			logMu.Unlock()
		}
	})
	w := &Litewitness{Name: name, URL: "http://" + addr, Key: sshEd25519Key(t, key+".pub")}
	select {
	case w.VKey = <-vkeyc:
	case <-time.After(30 * time.Second):
		t.Fatal("litewitness printed no verifier key")
	}
	waitFor(t, func() bool {
		resp, err := http.Get(w.URL + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	return w
}

// VKeyOf computes a cosignature/v1 vkey independently of package witness:
// name+hex(SHA-256(name || "\n" || 0x04 || key)[:4])+base64(0x04 || key).
func VKeyOf(name string, key ed25519.PublicKey) string {
	h := sha256.Sum256(append([]byte(name+"\n\x04"), key...))
	return fmt.Sprintf("%s+%08x+%s", name, binary.BigEndian.Uint32(h[:4]), base64.StdEncoding.EncodeToString(append([]byte{4}, key...)))
}

var (
	binsOnce sync.Once
	binsDir  string
	binsErr  error
)

// findBins finds the tools, building litewitness and witnessctl once per
// test binary if they are not on PATH.
func findBins(t *testing.T) map[string]string {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		testneed.Skip(t, "VIGIL_REQUIRE_WITNESS", fmt.Sprintf(format, args...))
	}
	bins := map[string]string{}
	for _, name := range []string{"ssh-agent", "ssh-add", "ssh-keygen"} {
		p, err := exec.LookPath(name)
		if err != nil {
			skip("%s not found (install openssh-client)", name)
		}
		bins[name] = p
	}
	for _, name := range []string{"litewitness", "witnessctl"} {
		if p, err := exec.LookPath(name); err == nil {
			bins[name] = p
			continue
		}
		binsOnce.Do(func() {
			binsDir, binsErr = os.MkdirTemp("", "vigil-litewitness-")
			if binsErr != nil {
				return
			}
			cmd := exec.Command("go", "install", "filippo.io/torchwood/cmd/litewitness@"+Version, "filippo.io/torchwood/cmd/witnessctl@"+Version)
			cmd.Env = append(os.Environ(), "GOBIN="+binsDir, "GOFLAGS=-mod=mod")
			if out, err := cmd.CombinedOutput(); err != nil {
				binsErr = fmt.Errorf("%v\n%s", err, out)
			}
		})
		if binsErr != nil {
			skip("cannot build litewitness and witnessctl %s: %v", Version, binsErr)
		}
		bins[name] = filepath.Join(binsDir, name)
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
	for range 500 {
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("timed out")
}

// sshEd25519Key reads an OpenSSH ssh-ed25519 public key file.
func sshEd25519Key(t *testing.T, path string) ed25519.PublicKey {
	t.Helper()
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
