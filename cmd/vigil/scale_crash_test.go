package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"filippo.io/torchwood"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
)

// A scaleKind is what one round of TestScaleCrash kills.
type scaleKind int

const (
	// scaleKill kills vigil serve mid-traffic.
	scaleKill scaleKind = iota
	// scaleDBCrash kills PostgreSQL mid-traffic, restarts it, waits until
	// the same server takes submissions again, then kills vigil serve.
	scaleDBCrash
	// scaleKillDBDown kills PostgreSQL mid-traffic, kills vigil serve while
	// the database is down, then restarts PostgreSQL.
	scaleKillDBDown
)

func (k scaleKind) String() string {
	return [...]string{"kill serve", "kill PostgreSQL, restart it, kill serve", "kill PostgreSQL, kill serve while it is down"}[k]
}

// scalePlan is the rounds' kinds, cycled: every run of four rounds crashes
// the database twice, once with the server surviving it.
var scalePlan = []scaleKind{scaleKill, scaleDBCrash, scaleKill, scaleKillDBDown}

// TestScaleCrash is TestIntakeCrash on PostgreSQL and S3 (docs/scale.md,
// "Crash test"): real `vigil serve` processes, one after another, on one
// PostgreSQL cluster of the test's own and a SeaweedFS bucket. Each round
// six sources submit texts, half of them with a file, over the public
// listener until the round's kill (scalePlan): vigil serve with SIGKILL, or
// PostgreSQL itself (every process of it, SIGKILL) while the server keeps
// running, or both. While the database is down every submission, a
// follow-up login and a thread page must be answered 503 with the plain
// "nothing was stored" page, never 500, never a receipt, never an internal
// message. After every round, with the server dead and the database back,
// every receipt given in the round (and some earlier ones; all of them after
// the last round) opens its submission in-process and its file decrypts to
// the SHA-256 it was sent with; every record decrypts and commits to exactly
// one log entry and every entry to one record (nothing half written); the
// log extends the checkpoint signed after the round before. Earlier
// receipts open over HTTP on each restarted server. At the end vigil fsck
// (with the passphrase, over S3) is clean, its sweep removes the blobs of
// interrupted uploads, and torchwood reads the whole log from the last
// server and proves every entry.
func TestScaleCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the vigil binary")
	}
	blobs := s3test.URL(t)
	pg := pgtest.Own(t, false) // of its own: the test kills it
	rounds, seed, rng := crashPlan(t, "VIGIL_SCALE_CRASH_ROUNDS", 5)
	t.Logf("seed %d (VIGIL_CRASH_SEED reproduces the plan's delays and contents, not the timing), %d rounds", seed, rounds)
	bin := vigilBin(t)
	env := vigilEnv(inboxPass)

	data := inboxInit(t)
	scaleConfigure(t, data, scaleDatabase(t, pg.URL, "vigil"), blobs)

	var cur *icrashServer // the server running, killed if the test stops early
	t.Cleanup(func() {
		if cur != nil && cur.cmd.ProcessState == nil {
			cur.cmd.Process.Kill()
			cur.cmd.Wait()
		}
	})
	ctx := context.Background()
	var all []icrashSub              // every acknowledged submission, in order
	verified := map[vigil.ID]int64{} // records decrypted and checked after an earlier round
	var prevCP evlog.Checkpoint
	havePrev := false
	var ist icrashStats
	var outage503, probes, cut, httpChecks, withFile int
	start := time.Now()

	for round := range rounds {
		kind := scalePlan[round%len(scalePlan)]
		srv := icrashStart(t, bin, env, data)
		cur = &srv
		for range min(2, len(all)) {
			icrashFollowup(t, srv.url, all[rng.IntN(len(all))])
			httpChecks++
		}
		// A source reading its thread when the database goes away.
		var old icrashSub
		var sess *http.Client
		var thread string
		if kind != scaleKill && len(all) > 0 {
			old = all[rng.IntN(len(all))]
			sess, thread = clusterLogin(t, srv.url, old.receipt)
		}

		tr := scaleTrafficStart(t, srv.url, round, rng)
		time.Sleep(200*time.Millisecond + time.Duration(rng.Int64N(int64(400*time.Millisecond))))
		if kind != scaleKill {
			tr.outage.Store(true)
			pg.Crash()
			tr.waitFor(t, "clean 503s to submissions while PostgreSQL is down", &tr.clean503, 2, 15*time.Second)
			if sess != nil {
				scaleProbeOutage(t, srv.url, sess, thread, old.receipt)
				probes += 2
			}
			if kind == scaleKillDBDown {
				time.Sleep(time.Duration(rng.Int64N(int64(200 * time.Millisecond))))
				tr.kill(t, srv)
			}
			if err := pg.Restart(); err != nil {
				t.Fatalf("round %d: restart PostgreSQL: %v", round, err)
			}
			if kind == scaleDBCrash {
				// The same server takes submissions again: its pools
				// reconnect. Stale connections may still answer 503 once.
				n := tr.ok.Load()
				tr.waitFor(t, "receipts after PostgreSQL came back", &tr.ok, n+3, 30*time.Second)
				time.Sleep(time.Second)
				tr.outage.Store(false)
				time.Sleep(100*time.Millisecond + time.Duration(rng.Int64N(int64(300*time.Millisecond))))
			}
		}
		if kind != scaleKillDBDown {
			tr.kill(t, srv)
		}
		cur = nil
		if t.Failed() {
			t.FailNow()
		}
		got := tr.got
		for _, s := range got {
			if s.fileName != "" {
				withFile++
			}
		}
		all = append(all, got...)
		outage503 += int(tr.clean503.Load())
		cut += int(tr.cut.Load())

		// Server dead, database up: check in-process.
		check := icrashPick(rng, all, len(got), len(got), round == rounds-1)
		c, err := icrashVerify(ctx, data, inboxPass, check, len(all), verified, &ist, prevCP, havePrev)
		if err != nil {
			t.Fatalf("round %d (%v): %v", round, kind, err)
		}
		prevCP, havePrev = c, true
		t.Logf("round %d (%v): %d receipts, %d clean 503s, %d requests cut; %d receipts opened, tree %d",
			round, kind, len(got), tr.clean503.Load(), tr.cut.Load(), len(check), prevCP.N)
	}

	out := vigilRun(t, bin, env, "fsck", "--data", data)
	if want := fmt.Sprintf("items: %d, each decrypts", ist.items); !strings.Contains(out, want) || !strings.Contains(out, "records: ") {
		t.Fatalf("fsck output lacks %q or the records line:\n%s", want, out)
	}
	if strings.Contains(out, "unreferenced") {
		sw := vigilRun(t, bin, env, "fsck", "--data", data, "--sweep")
		if !strings.Contains(sw, "swept ") {
			t.Fatalf("fsck --sweep:\n%s", sw)
		}
		if out2 := vigilRun(t, bin, env, "fsck", "--data", data); strings.Contains(out2, "unreferenced") {
			t.Fatalf("blobs left unreferenced after the sweep:\n%s", out2)
		}
		t.Logf("fsck: %s", strings.TrimSpace(sw))
	}

	// The last server: torchwood reads the log and proves every entry, and
	// receipts of every round open over HTTP.
	srv := icrashStart(t, bin, env, data)
	cur = &srv
	var keys struct {
		Origin  string `json:"origin"`
		LogVKey string `json:"log_vkey"`
	}
	if err := json.Unmarshal(interopGet(t, srv.url+"/.well-known/vigil.json", http.StatusOK), &keys); err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(keys.LogVKey)
	if err != nil {
		t.Fatal(err)
	}
	policy := torchwood.ThresholdPolicy(2, torchwood.OriginPolicy(keys.Origin), torchwood.SingleVerifierPolicy(verifier))
	fetcher, err := torchwood.NewTileFetcher(srv.url+"/log/", torchwood.WithUserAgent("vigil-scale-crash-test"))
	if err != nil {
		t.Fatal(err)
	}
	_, cp := interopWaitCheckpoint(t, fetcher, policy, prevCP.N)
	clusterCheckLog(t, fetcher, cp)
	byRound := map[int]icrashSub{}
	for _, s := range all {
		if _, ok := byRound[s.round]; !ok || s.fileName != "" {
			byRound[s.round] = s
		}
	}
	for _, s := range byRound {
		icrashFollowup(t, srv.url, s)
		httpChecks++
	}
	srv.cmd.Process.Signal(os.Interrupt)
	if err := srv.cmd.Wait(); err != nil {
		t.Errorf("the last vigil serve: %v\n%s", err, srv.stderr)
	}
	cur = nil

	t.Logf("%d rounds in %v; receipts %d (%d with a file); clean 503s while PostgreSQL was down: %d submissions, %d follow-up probes; requests cut by kills: %d",
		rounds, time.Since(start).Round(time.Millisecond), len(all), withFile, outage503, probes, cut)
	t.Logf("stored without a receipt reaching the source: %d; items stored: %d; record decryptions: %d; receipts opened over HTTP: %d; torchwood proved %d entries",
		ist.committedUnacked, ist.items, ist.recordOpen, httpChecks, cp.N)
}

// scaleDatabase creates the database name on the cluster at admin and
// returns its URL.
func scaleDatabase(t *testing.T, admin, name string) string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// scaleConfigure sets the store and blobs of data's vigil.json.
func scaleConfigure(t *testing.T, data, storeURL, blobsURL string) {
	t.Helper()
	path := filepath.Join(data, "vigil.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["store"], cfg["blobs"] = storeURL, blobsURL
	if b, err = json.MarshalIndent(cfg, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// scaleTraffic is one round's sources, submitting until the server dies.
type scaleTraffic struct {
	base   string
	round  int
	killed chan struct{}
	// outage is set while PostgreSQL is down (and a while after): a 503
	// to a request that started or ended then is the right answer.
	outage   atomic.Bool
	wg       sync.WaitGroup
	mu       sync.Mutex
	got      []icrashSub // acknowledged, read after the kill
	ok       atomic.Int64
	clean503 atomic.Int64
	cut      atomic.Int64 // requests cut by the kill, or refused after it
}

const scaleSources = 6

func scaleTrafficStart(t *testing.T, base string, round int, rng *rand.Rand) *scaleTraffic {
	tr := &scaleTraffic{base: base, round: round, killed: make(chan struct{})}
	for c := range scaleSources {
		seed := rng.Uint64()
		tr.wg.Go(func() { tr.source(t, c, seed) })
	}
	return tr
}

func (tr *scaleTraffic) source(t *testing.T, c int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(c)))
	client := &http.Client{Timeout: 20 * time.Second}
	for seq := 0; ; seq++ {
		select {
		case <-tr.killed:
			return
		default:
		}
		s := icrashSub{round: tr.round,
			text: fmt.Sprintf("scale crash round %d source %d submission %d: %016x", tr.round, c, seq, rng.Uint64())}
		if rng.IntN(2) == 0 {
			s.fileName = fmt.Sprintf("r%d-s%d-%d.bin", tr.round, c, seq)
			s.file = make([]byte, 1+rng.IntN(16<<10))
			for i := range s.file {
				s.file[i] = byte(rng.Uint32())
			}
		}
		during := tr.outage.Load()
		status, page, err := icrashPost(client, tr.base, s)
		during = during || tr.outage.Load()
		switch {
		case err != nil:
			select {
			case <-tr.killed:
				tr.cut.Add(1)
			default:
				t.Errorf("round %d: submit before the kill: %v", tr.round, err)
			}
			return
		case status == http.StatusOK:
			m := icrashReceiptRE.FindSubmatch(page)
			if m == nil {
				t.Errorf("round %d: POST /submit: 200 without a receipt: %.300s", tr.round, page)
				return
			}
			s.receipt = string(m[1])
			tr.mu.Lock()
			tr.got = append(tr.got, s)
			tr.mu.Unlock()
			tr.ok.Add(1)
		case status == http.StatusServiceUnavailable && during:
			if err := scaleCleanOutage(page); err != nil {
				t.Errorf("round %d: POST /submit while PostgreSQL is down: %v", tr.round, err)
				return
			}
			tr.clean503.Add(1)
			time.Sleep(20 * time.Millisecond)
		default:
			t.Errorf("round %d: POST /submit: %d (PostgreSQL down: %v), want 200 with a receipt, or 503 while the database is down: %.500s",
				tr.round, status, during, page)
			return
		}
	}
}

// waitFor waits until n reaches want, failing the test after wait.
func (tr *scaleTraffic) waitFor(t *testing.T, what string, n *atomic.Int64, want int64, wait time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(wait); n.Load() < want; {
		if time.Now().After(deadline) {
			close(tr.killed) // so the sources stop
			t.Fatalf("round %d: %d of %d %s in %v", tr.round, n.Load(), want, what, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill stops the sources and kills srv with SIGKILL, marking the kill
// first: a request cut by it must not read as a failure before it.
func (tr *scaleTraffic) kill(t *testing.T, srv icrashServer) {
	t.Helper()
	close(tr.killed)
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("round %d: kill: %v (server exited early?)\n%s", tr.round, err, srv.stderr)
	}
	werr := srv.cmd.Wait()
	tr.wg.Wait()
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("round %d: server exited with %v, not by the kill\n%s", tr.round, werr, srv.stderr)
	}
}

// scaleCleanOutage checks an answer given while the database is down: the
// plain error page telling the source that the service is unavailable
// and what they sent got no receipt, without a receipt or anything of the
// server's internals.
func scaleCleanOutage(page []byte) error {
	if !bytes.Contains(page, []byte("unavailable for a few minutes. Whatever you were sending got no receipt")) {
		return fmt.Errorf("503 page does not say the service is unavailable and nothing got a receipt: %.500s", page)
	}
	if icrashReceiptRE.Match(page) {
		return fmt.Errorf("503 page with a receipt: %.500s", page)
	}
	low := strings.ToLower(string(page))
	for _, w := range []string{"postgres", "pgx", "sqlstate", "dial ", "connection refused", "unexpected eof", "socket", "s3", "/tmp/", "panic", "goroutine", "unavailable:"} {
		if strings.Contains(low, w) {
			return fmt.Errorf("503 page shows %q: %.1000s", w, page)
		}
	}
	return nil
}

// scaleProbeOutage checks that, with the database down, a source's thread
// page and a follow-up login with a good receipt are answered 503 with the
// plain error page (not 500, not "wrong receipt", which would also cost the
// source an attempt).
func scaleProbeOutage(t *testing.T, base string, sess *http.Client, thread, receipt string) {
	t.Helper()
	check := func(what string, resp *http.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s while PostgreSQL is down: %v", what, err)
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s while PostgreSQL is down: %v", what, err)
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s while PostgreSQL is down: %s, want 503: %.500s", what, resp.Status, page)
		}
		if err := scaleCleanOutage(page); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	resp, err := sess.Get(base + thread)
	check("GET "+thread, resp, err)
	resp, err = noRedirect.PostForm(base+"/followup", url.Values{"receipt": {receipt}, "lang": {"en"}})
	check("POST /followup with a good receipt", resp, err)
}
