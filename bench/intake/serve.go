package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
)

// buildVigil builds cmd/vigil into the work directory, unless -vigil named
// a binary.
func (b *bench) buildVigil() error {
	if b.vigil != "" {
		return nil
	}
	b.vigil = filepath.Join(b.work, "vigil")
	cmd := exec.Command("go", "build", "-o", b.vigil, "github.com/vigil-hr/vigil/cmd/vigil")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build cmd/vigil (or give -vigil): %v\n%s", err, out)
	}
	return nil
}

// A serveProc is a running `vigil serve`.
type serveProc struct {
	cmd    *exec.Cmd
	base   string // public listener, http://127.0.0.1:PORT
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is a bytes.Buffer written by a child's stderr copier and read
// by the bench.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe starts `vigil serve` on dir with the phase's backends, unsealed
// and signing a checkpoint every second (as the http phase does), and waits
// for its public URL.
func (b *bench) startServe(dir string, be datadir.Backends) (*serveProc, error) {
	args := []string{"serve", "--data", dir, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0", "--checkpoint-interval", "1s"}
	if be.Store != "" {
		args = append(args, "--store", be.Store)
	}
	if be.Blobs != "" {
		args = append(args, "--blobs", be.Blobs)
	}
	cmd := exec.Command(b.vigil, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VIGIL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "VIGIL_PASSPHRASE="+passphrase)
	p := &serveProc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "public "); ok {
				urls <- strings.TrimSuffix(strings.TrimSpace(u), "/")
			}
		}
		close(urls)
		p.done <- cmd.Wait()
	}()
	select {
	case u, ok := <-urls:
		if ok {
			p.base = u
			return p, nil
		}
		<-p.done
		return nil, fmt.Errorf("vigil serve exited before listening: %s", lastLine(p.stderr.String()))
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("vigil serve did not listen within a minute: %s", lastLine(p.stderr.String()))
	}
}

// stop asks p to shut down (as SIGTERM does) and waits for it.
func (p *serveProc) stop() error {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("vigil serve: %v: %s", err, lastLine(p.stderr.String()))
		}
		return nil
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return errors.New("vigil serve did not stop within 30s of an interrupt")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// servePhase runs n `vigil serve` processes (the real binary) on one fresh
// backend, each with a data directory of its own holding the same
// vigil.json and keys.age (docs/scale.md, "Several servers"), and splits
// the clients between them: client w posts to server w mod n. Several
// servers need shared backends, so n > 1 is for postgres+s3 only.
func (b *bench) servePhase(n int) (result, error) {
	name := "serve"
	if n > 1 {
		name = fmt.Sprintf("serve%d", n)
	}
	dir := filepath.Join(b.work, name+"-"+strings.ReplaceAll(b.backend, "+", "-"))
	if _, err := datadir.Init(dir, []byte(passphrase), datadir.Options{WorkFactor: 10}); err != nil {
		return result{}, err
	}
	be, err := b.backendURLs(name)
	if err != nil {
		return result{}, err
	}
	dirs := []string{dir}
	for i := 1; i < n; i++ {
		other := fmt.Sprintf("%s-%d", dir, i)
		if err := os.Mkdir(other, 0o700); err != nil {
			return result{}, err
		}
		for _, f := range []string{"vigil.json", "keys.age"} {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				return result{}, err
			}
			if err := os.WriteFile(filepath.Join(other, f), data, 0o600); err != nil {
				return result{}, err
			}
		}
		dirs = append(dirs, other)
	}
	var procs []*serveProc
	stopAll := func() error {
		var first error
		for _, p := range procs {
			if err := p.stop(); err != nil && first == nil {
				first = err
			}
		}
		procs = nil
		return first
	}
	defer stopAll()
	for _, d := range dirs {
		p, err := b.startServe(d, be)
		if err != nil {
			return result{}, err
		}
		procs = append(procs, p)
	}
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: b.c, MaxConnsPerHost: b.c, DisableCompression: true},
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for i, p := range procs { // one each first, so a broken server fails at once
		if err := b.post(client, p.base, 0, b.n+i); err != nil {
			return result{}, fmt.Errorf("first submission to server %d: %w", i+1, err)
		}
	}
	r := b.load(name, func(w, seq int) error { return b.post(client, procs[w%n].base, w, seq) })
	signed := make([]int, n)
	for i, p := range procs {
		signed[i] = strings.Count(p.stderr.String(), "checkpoint signed")
	}
	if err := stopAll(); err != nil {
		return result{}, err
	}
	// What the servers stored, read back through the first one's directory.
	d, err := datadir.OpenWith(context.Background(), dir, be)
	if err != nil {
		return result{}, err
	}
	defer d.Close()
	subs := 0
	err = d.Store.View(context.Background(), func(tx store.ReadTx) error {
		return store.EachRecord(tx, intake.KindSubmission, func(store.Record) error { subs++; return nil })
	})
	if err != nil {
		return result{}, err
	}
	r.note = fmt.Sprintf("%d server(s), checkpoints signed by each: %v; %d submissions stored", n, signed, subs) + blobNote(d)
	if want := r.ok + n; subs < want {
		return r, fmt.Errorf("%s: %d submissions stored, %d acknowledged", name, subs, want)
	}
	return r, nil
}
