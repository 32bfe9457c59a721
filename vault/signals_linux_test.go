package vault_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/bech32"
	"github.com/vigil-hr/vigil/internal/procmem"
	"github.com/vigil-hr/vigil/vault"
)

// TestKeysNotInSignalFrames unseals a vault, decrypts and signs with it from
// several goroutines while every thread of this process is sent SIGURG (the
// signal Go's runtime uses for preemption) as fast as it can be, then seals
// and reads this process's whole memory through /proc/self/mem for every
// form of the keys that signing and decrypting use (see
// TestKeysNotInSignalFramesCreate).
//
// Each signal makes the kernel save the interrupted thread's registers,
// vector registers included, on that thread's signal stack, where they stay
// after the handler returns. A key that the code moved through vector
// registers (runtime.memmove copies 17 to 32 bytes through X0 and X1, one
// 32-byte key whole) was found there after seal by TestMemoryAfterSeal in
// cmd/vigil, once in a while; here the signals make it likely. Without the
// key thread (keyThread.do running its function in place) this test finds the
// signing keys' seeds and nonce prefixes, in SHA-512 states on stacks the
// runtime had copied and freed, and in signal frames; with the scalar copied
// by memmove in x25519, the identity scalar in signal frames.
//
// Under -race the detector's instrumentation overwrites the registers within
// instructions, and the test found nothing with either fix undone; .ci/run
// also runs it without -race.
//
// The test keeps only masked copies of the keys it looks for, and compares
// without unmasking them into memory.
func TestKeysNotInSignalFrames(t *testing.T) {
	if testing.Short() {
		t.Skip("signals every thread for a second and scans the process's memory")
	}
	// The keys are made, and the forms of them to look for computed, in
	// another process: vault.Create generates the signing keys with
	// note.GenerateKey, which leaves them in strings and stack frames nobody
	// can wipe (as vigil init does, in a process that then ends), and
	// computing the derived forms here would leave copies of its own. This
	// process gets them masked.
	path := filepath.Join(t.TempDir(), "keys.age")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeysNotInSignalFramesCreate$")
	cmd.Env = append(os.Environ(), "VIGIL_VAULT_CREATE="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("create the key file in a child process: %v\n%s", err, out)
	}
	var child childKeys
	if err := json.Unmarshal(childLine(t, out), &child); err != nil {
		t.Fatalf("the child's keys: %v\n%s", err, out)
	}
	needles := child.Needles
	if len(needles) != 8 || len(child.Held) != 3 {
		t.Fatalf("the child gave %d forms of the keys, %d held, want 8 and 3", len(needles), len(child.Held))
	}
	pub := child.Public

	v, err := vault.Open(path, pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unseal([]byte("pass")); err != nil {
		t.Fatal(err)
	}
	var ct bytes.Buffer
	w, err := v.Encrypt(&ct)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "testimony"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	adv, err := v.AdvisorySigner()
	if err != nil {
		t.Fatal(err)
	}

	// Control: while unsealed, the vault holds the identity's scalar and the
	// signing keys' seeds (the other forms exist only during an operation).
	hits := scanSelf(t, needles)
	for _, n := range needles {
		if child.Held[n.Name] && len(hits[n.Name]) == 0 {
			t.Fatalf("control: the scan while unsealed did not find the %s", n.Name)
		}
	}

	stopSignals := procmem.SignalThreads(os.Getpid())
	var ops atomic.Int64
	workers := 2 * runtime.GOMAXPROCS(0)
	errs := make(chan error, workers) // one each at most
	var work sync.WaitGroup
	deadline := time.Now().Add(time.Second)
	for g := range workers {
		work.Add(1)
		go func() {
			defer work.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				var err error
				switch (g + i) % 8 {
				case 0:
					_, err = note.Sign(&note.Note{Text: "example.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}, v.LogSigner())
				case 1:
					_, err = note.Sign(&note.Note{Text: "advisory\n"}, adv)
				case 2:
					if i%64 == 2 {
						err = v.Unseal([]byte("pass"))
					}
				default:
					var r io.Reader
					if r, err = v.Decrypt(bytes.NewReader(ct.Bytes())); err == nil {
						_, err = io.Copy(io.Discard, r)
					}
				}
				if errors.Is(err, vigil.ErrSealed) {
					err = nil // an Unseal on another goroutine replaced the keys this one had taken
				}
				if err != nil {
					errs <- err
					return
				}
				ops.Add(1)
			}
		}()
	}
	time.Sleep(900 * time.Millisecond)
	signals := stopSignals()
	work.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d key operations, %d signals", ops.Load(), signals)
	if signals < 1000 {
		t.Fatalf("only %d signals sent", signals)
	}

	v.Seal()
	after := scanSelf(t, needles)
	for _, n := range needles {
		for _, h := range after[n.Name] {
			t.Errorf("after seal: the %s is in %s", n.Name, h)
		}
	}
}

// childKeys is what TestKeysNotInSignalFramesCreate prints.
type childKeys struct {
	Public  vault.Public
	Needles []procmem.Needle
	Held    map[string]bool // the needles the vault holds while unsealed
}

// TestKeysNotInSignalFramesCreate is run by TestKeysNotInSignalFrames in a
// child process: it creates a key file and prints its public keys and,
// masked, every form of the private keys that signing and decrypting use:
// the identity's scalar as stored and as clamped for X25519, and for each
// Ed25519 key its seed, its secret scalar (the clamped first half of
// SHA-512(seed)) and its nonce prefix (the second half), either of which
// gives the key away.
func TestKeysNotInSignalFramesCreate(t *testing.T) {
	path := os.Getenv("VIGIL_VAULT_CREATE")
	if path == "" {
		t.Skip("run by TestKeysNotInSignalFrames in a child process")
	}
	pub, err := vault.Create(path, []byte("pass"), "example.org/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	c := childKeys{Public: pub, Held: map[string]bool{}}
	scalar, err := bech32.Decode([]byte(keyFileLine(t, path, "pass", "age-identity ")), "AGE-SECRET-KEY-")
	if err != nil || len(scalar) != 32 {
		t.Fatalf("identity: %d bytes, %v", len(scalar), err)
	}
	c.Needles = append(c.Needles, procmem.NewNeedle("identity scalar", scalar))
	c.Held["identity scalar"] = true
	clamped := bytes.Clone(scalar)
	clamped[0] &= 248
	clamped[31] = clamped[31]&127 | 64
	c.Needles = append(c.Needles, procmem.NewNeedle("identity scalar, clamped", clamped))
	for _, k := range []string{"log-skey", "advisory-skey"} {
		skey := keyFileLine(t, path, "pass", k+" ")
		parts := strings.SplitN(skey, "+", 5) // the base64 may hold '+'
		raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
		if err != nil || len(raw) != 33 {
			t.Fatalf("%s: %d bytes, %v", k, len(raw), err)
		}
		h := sha512.Sum512(raw[1:])
		h[0] &= 248
		h[31] = h[31]&127 | 64
		c.Needles = append(c.Needles,
			procmem.NewNeedle(k+" seed", raw[1:]),
			procmem.NewNeedle(k+" secret scalar", h[:32]),
			procmem.NewNeedle(k+" nonce prefix", h[32:]))
		c.Held[k+" seed"] = true
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("keys %s\n", b)
}

// childLine returns the JSON after "keys " in the child's output.
func childLine(t *testing.T, out []byte) []byte {
	t.Helper()
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(line, "keys "); ok {
			return []byte(v)
		}
	}
	t.Fatalf("no keys in the child's output:\n%s", out)
	return nil
}

// scanSelf is procmem.FindSelf, failing t on an error.
func scanSelf(t *testing.T, needles []procmem.Needle) map[string][]string {
	t.Helper()
	hits, err := procmem.FindSelf(needles)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}
