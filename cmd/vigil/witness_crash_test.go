package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/witness"
)

// TestWitnessCrash SIGKILLs `vigil witness` at random moments while two forks
// of one log (same key, histories that differ after entry 10) race to get
// checkpoints cosigned, and restarts it each time. Whatever the timing, every
// checkpoint it ever cosigned beyond size 10 belongs to one fork, and after a
// restart it never knows a size smaller than one it cosigned: its state is
// committed before it answers.
func TestWitnessCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills the vigil binary")
	}
	bin := vigilBin(t)
	env := vigilEnv("witness test passphrase")
	dir := filepath.Join(t.TempDir(), "wit")
	skey, vkey, err := note.GenerateKey(nil, "ngo.example/log")
	if err != nil {
		t.Fatal(err)
	}
	out := vigilRun(t, bin, env, "witness", "--data", dir, "--name", "witness.example/w1", "--scrypt-work-factor", "10", "--add-log", vkey)
	m := regexp.MustCompile(`witness key: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no witness key in %q", out)
	}
	wv, err := witness.NewVerifier(m[1])
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	forks := [2]*cmdTestLog{{signer: signer}, {signer: signer}}
	for i, f := range forks {
		f.add(t, 10, "common")
		f.add(t, 1, []string{"fork A", "fork B"}[i])
	}

	var (
		mu       sync.Mutex
		winner   = -1  // the fork whose checkpoints beyond 10 were cosigned
		maxSize  int64 // largest size cosigned so far
		cosigned int   // successful cosignatures
		rounds   = 40
	)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range rounds {
		cmd := exec.Command(bin, "witness", "--data", dir, "--listen", "127.0.0.1:0")
		cmd.Env = env
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		url := ""
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`^witness (http://\S+)/$`).FindStringSubmatch(sc.Text()); m != nil {
				url = m[1]
				break
			}
		}
		if url == "" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: vigil witness did not start", round)
		}
		go func() {
			for sc.Scan() {
			}
		}()
		ws := []witness.Witness{{Name: "w1", Verifier: wv, URL: url}}

		// After a restart the witness knows at least what it cosigned.
		if known := witnessSize(t, ws[0]); known < maxSize {
			t.Fatalf("round %d: after restart the witness knows size %d, but cosigned %d", round, known, maxSize)
		}

		var wg sync.WaitGroup
		for i, f := range forks {
			f.add(t, 1+rng.IntN(4), []string{"fork A", "fork B"}[i])
			signed := f.checkpoint(t)
			n := f.n
			for range 3 {
				wg.Go(func() {
					sigs, err := (&witness.Client{}).AddCheckpoint(t.Context(), ws[0], signed, f)
					if err != nil || len(sigs) == 0 {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					cosigned++
					maxSize = max(maxSize, n)
					if winner == -1 {
						winner = i
					} else if winner != i {
						t.Errorf("round %d: the witness cosigned both forks (size %d of fork %d after fork %d)", round, n, i, winner)
					}
				})
			}
		}
		time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		wg.Wait()
		cmd.Wait()
	}
	t.Logf("%d rounds, %d cosignatures, largest size %d, all of fork %d", rounds, cosigned, maxSize, winner)
	if cosigned == 0 {
		t.Errorf("no cosignature in %d rounds: the kills came too early to test anything", rounds)
	}
}

// witnessSize returns the size of the latest checkpoint the witness cosigned
// for ngo.example/log, from its monitoring endpoint (0 if none).
func witnessSize(t *testing.T, w witness.Witness) int64 {
	t.Helper()
	h := sha256.Sum256([]byte("ngo.example/log"))
	b, code := getBody(t, w.URL+"/"+hex.EncodeToString(h[:])+"/checkpoint")
	if code == http.StatusNotFound {
		return 0
	}
	if code != http.StatusOK {
		t.Fatalf("monitoring checkpoint: %d %s", code, b)
	}
	text, _, _ := strings.Cut(string(b), "\n\n")
	c, err := evlog.ParseCheckpoint(text + "\n")
	if err != nil {
		t.Fatalf("monitoring checkpoint %q: %v", b, err)
	}
	return c.N
}
