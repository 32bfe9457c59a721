package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/witness"
)

// TestWitnessCommand runs vigil witness through Main: it makes its key,
// adds a log, serves add-checkpoint, and keeps its state across a restart
// (a forked checkpoint is refused after it).
func TestWitnessCommand(t *testing.T) {
	t.Setenv("VIGIL_PASSPHRASE", "witness test passphrase")
	dir := filepath.Join(t.TempDir(), "wit")
	skey, vkey, err := note.GenerateKey(nil, "ngo.example/log")
	if err != nil {
		t.Fatal(err)
	}
	if code := Main(t.Context(), []string{"witness", "--data", dir, "--add-log", vkey}, nil, io.Discard, io.Discard); code != 2 {
		t.Fatalf("without a key or --name: exit %d, want 2", code)
	}
	var out strings.Builder
	if code := Main(t.Context(), []string{"witness", "--data", dir, "--name", "witness.example/w1", "--scrypt-work-factor", "10", "--add-log", vkey}, nil, &out, io.Discard); code != 0 {
		t.Fatalf("add-log: exit %d: %s", code, out.String())
	}
	// The key is stored only encrypted: an age scrypt file, useless
	// without the passphrase.
	kb, err := os.ReadFile(filepath.Join(dir, "witness.key"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(kb, []byte("age-encryption.org/v1\n-> scrypt ")) || bytes.Contains(kb, []byte("witness.example")) {
		t.Fatalf("witness.key is not an age scrypt file:\n%s", kb)
	}
	t.Setenv("VIGIL_PASSPHRASE", "a wrong passphrase")
	if code := Main(t.Context(), []string{"witness", "--data", dir, "--add-log", vkey}, nil, io.Discard, io.Discard); code == 0 {
		t.Fatal("the witness key opened with a wrong passphrase")
	}
	t.Setenv("VIGIL_PASSPHRASE", "witness test passphrase")
	wkey := regexp.MustCompile(`witness key: (\S+)`).FindStringSubmatch(out.String())
	if wkey == nil || !strings.Contains(out.String(), "witnessing ngo.example/log") {
		t.Fatalf("add-log printed %q", out.String())
	}
	v, err := witness.NewVerifier(wkey[1])
	if err != nil {
		t.Fatal(err)
	}
	tv, err := torchwood.NewCosignatureVerifier(wkey[1])
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	log := &cmdTestLog{signer: signer}

	start := func() (string, func()) {
		ctx, cancel := context.WithCancel(t.Context())
		pr, pw := io.Pipe()
		done := make(chan int, 1)
		go func() {
			done <- Main(ctx, []string{"witness", "--data", dir, "--listen", "127.0.0.1:0"}, nil, pw, io.Discard)
			pw.Close()
		}()
		re := regexp.MustCompile(`witness (http://\S+)/`)
		urlc := make(chan string, 1)
		go func() {
			b := make([]byte, 4096)
			var acc string
			for {
				n, err := pr.Read(b)
				acc += string(b[:n])
				if m := re.FindStringSubmatch(acc); m != nil {
					urlc <- m[1]
					io.Copy(io.Discard, pr)
					return
				}
				if err != nil {
					urlc <- ""
					return
				}
			}
		}()
		var url string
		select {
		case url = <-urlc:
		case <-time.After(20 * time.Second):
		}
		if url == "" {
			t.Fatal("vigil witness did not start")
		}
		return url, func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("vigil witness exit %d", code)
			}
		}
	}

	url, stop := start()
	ws := []witness.Witness{{Name: "w1", Verifier: v, URL: url}}
	var c witness.Client
	for _, k := range []int{3, 200} {
		log.add(t, k, "a")
		res := c.Cosign(t.Context(), ws, log.checkpoint(t), log)
		if len(res.Errs) != 0 {
			t.Fatal(res.Errs)
		}
		if _, err := note.Open(res.Cosigned, note.VerifierList(tv)); err != nil {
			t.Fatalf("torchwood rejects the cosignature: %v", err)
		}
	}
	stop()

	// After a restart, the witness remembers size 203: a fork is refused.
	url, stop = start()
	defer stop()
	ws[0].URL = url
	fork := &cmdTestLog{signer: signer}
	fork.add(t, 203, "fork")
	res := (&witness.Client{}).Cosign(t.Context(), ws, fork.checkpoint(t), fork)
	if res.Conflict() == nil {
		t.Fatalf("fork after restart: no alarm (%v)", res.Errs)
	}
}

// cmdTestLog is a log in memory.
type cmdTestLog struct {
	signer note.Signer
	hashes []tlog.Hash
	n      int64
}

func (l *cmdTestLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *cmdTestLog) add(t *testing.T, k int, tag string) {
	for range k {
		e := sha256.Sum256(fmt.Appendf(nil, "%s %d", tag, l.n))
		hs, err := tlog.StoredHashes(l.n, e[:], l)
		if err != nil {
			t.Fatal(err)
		}
		l.hashes = append(l.hashes, hs...)
		l.n++
	}
}

func (l *cmdTestLog) checkpoint(t *testing.T) []byte {
	h, err := tlog.TreeHash(l.n, l)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", l.signer.Name(), l.n, h)}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}
