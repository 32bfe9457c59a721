package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// icrashSub is a submission whose receipt the server returned: it must be
// readable with that receipt forever after.
type icrashSub struct {
	receipt  string
	text     string
	fileName string // "" for text only
	file     []byte
	round    int
}

type icrashStats struct {
	rounds, unsealedRounds                int
	receipts, withFile                    int // acknowledged (receipt page received)
	killedInFlight, refusedAfterKill      int // client requests cut by the kill; started after it
	killedBeforeFirst                     int // rounds killed before any receipt came back
	committedUnacked                      int // submissions stored whose receipt never reached the client
	receiptChecks, httpChecks, recordOpen int
	items                                 int // file items stored (acknowledged or not)
	inServer, inChecks                    time.Duration
}

var icrashReceiptRE = regexp.MustCompile(`<strong id="receipt"[^>]*>\s*([0-9]{4}(?:[ \x{00a0}]?[0-9]{4}){6})\s*</strong>`)

// TestIntakeCrash kills `vigil serve` with SIGKILL at random moments while
// concurrent sources submit texts (some with a file), restarts it, and
// checks that every receipt the server ever returned still opens the
// submission it was given for (in-process while the server is down, and over
// POST /followup once it is back), that every submission record decrypts and
// matches its log entry, that no submission is half written, and that the
// log verifies and extends every checkpoint signed before.
func TestIntakeCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the vigil binary")
	}
	rounds, seed, rng := crashPlan(t, "VIGIL_INTAKE_CRASH_ROUNDS", 30)
	t.Logf("seed %d (VIGIL_CRASH_SEED reproduces the kill plan, not the timing), %d rounds", seed, rounds)

	bin := vigilBin(t)
	const pass = "intake crash passphrase"
	data := filepath.Join(t.TempDir(), "data")
	sealedEnv := vigilEnv("")
	unsealedEnv := vigilEnv(pass)
	vigilRun(t, bin, unsealedEnv, "init", "--data", data, "--scrypt-work-factor", "10")

	ctx := context.Background()
	var all []icrashSub              // every acknowledged submission, in order
	verified := map[vigil.ID]int64{} // logged records already decrypted and checked, with their leaves
	var prevCP evlog.Checkpoint
	havePrev := false
	var st icrashStats
	start := time.Now()

	for round := 0; round < rounds; round++ {
		st.rounds++
		t0 := time.Now()
		// Half the rounds run unsealed, signing checkpoints every 20ms, so
		// some kills land in a checkpoint; intake works sealed too.
		env := sealedEnv
		if rng.IntN(2) == 0 {
			env = unsealedEnv
			st.unsealedRounds++
		}
		srv := icrashStart(t, bin, env, data)

		// The server that came back answers earlier receipts over HTTP.
		if len(all) > 0 {
			for range 2 {
				icrashFollowup(t, srv.url, all[rng.IntN(len(all))])
				st.httpChecks++
			}
		}

		// Eight sources submit until the kill.
		var mu sync.Mutex
		var got []icrashSub
		killed := make(chan struct{})
		var wg sync.WaitGroup
		for c := range 8 {
			seedC := rng.Uint64()
			wg.Go(func() {
				crng := rand.New(rand.NewPCG(seedC, uint64(c)))
				client := &http.Client{Timeout: 20 * time.Second}
				for seq := 0; ; seq++ {
					select {
					case <-killed:
						return
					default:
					}
					s := icrashSub{round: round,
						text: fmt.Sprintf("icrash round %d source %d submission %d: %016x", round, c, seq, crng.Uint64())}
					if crng.IntN(4) == 0 {
						s.fileName = fmt.Sprintf("r%d-s%d-%d.bin", round, c, seq)
						s.file = make([]byte, crng.IntN(8<<10))
						for i := range s.file {
							s.file[i] = byte(crng.Uint32())
						}
					}
					rc, err := icrashSubmit(client, srv.url, s)
					if err != nil {
						select {
						case <-killed:
						default:
							t.Errorf("round %d: submit before the kill: %v", round, err)
							return
						}
						mu.Lock()
						if errors.Is(err, syscall.ECONNREFUSED) {
							st.refusedAfterKill++
						} else {
							st.killedInFlight++
						}
						mu.Unlock()
						return
					}
					s.receipt = rc
					mu.Lock()
					got = append(got, s)
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
		// Mark the kill first: a request cut by it must not read as a
		// failure before it.
		close(killed)
		if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("round %d: kill: %v (server exited early?)\n%s", round, err, srv.stderr.String())
		}
		werr := srv.cmd.Wait()
		wg.Wait()
		var ee *exec.ExitError
		if !errors.As(werr, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
			t.Fatalf("round %d: server exited with %v, not by the kill\n%s", round, werr, srv.stderr.String())
		}
		if t.Failed() {
			t.FailNow()
		}
		if len(got) == 0 {
			st.killedBeforeFirst++
		}
		for _, s := range got {
			if s.fileName != "" {
				st.withFile++
			}
		}
		st.receipts += len(got)
		all = append(all, got...)
		st.inServer += time.Since(t0)

		// Server down: the directory opens (the lock died with the server).
		// Up to ten of this round's receipts and five earlier ones each
		// round; all of them after the last round (later kills must not
		// lose earlier submissions).
		t0 = time.Now()
		check := icrashPick(rng, all, len(got), 10, round == rounds-1)
		c, err := icrashVerify(ctx, data, pass, check, len(all), verified, &st, prevCP, havePrev)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		prevCP, havePrev = c, true
		st.inChecks += time.Since(t0)
	}
	out := vigilRun(t, bin, unsealedEnv, "fsck", "--data", data)
	if want := fmt.Sprintf("items: %d, each decrypts", st.items); !strings.Contains(out, want) {
		t.Fatalf("fsck output lacks %q:\n%s", want, out)
	}
	t.Logf("%d rounds (%d unsealed, signing) in %v: in servers %v, in checks %v",
		st.rounds, st.unsealedRounds, time.Since(start).Round(time.Millisecond), st.inServer.Round(time.Millisecond), st.inChecks.Round(time.Millisecond))
	t.Logf("receipts returned: %d (%d with a file); requests cut by a kill: %d (plus %d refused after it); rounds killed before any receipt: %d",
		st.receipts, st.withFile, st.killedInFlight, st.refusedAfterKill, st.killedBeforeFirst)
	t.Logf("submissions committed whose receipt never reached the source: %d; receipt checks in-process: %d, over HTTP after restart: %d; record decryptions: %d",
		st.committedUnacked, st.receiptChecks, st.httpChecks, st.recordOpen)
}

type icrashServer struct {
	cmd    *exec.Cmd
	url    string // public listener, "http://127.0.0.1:PORT"
	stderr *bytes.Buffer
}

// icrashStart starts vigil serve on loopback ports and waits for its public
// URL. The server must start: the killed one's lock is gone.
func icrashStart(t *testing.T, bin string, env []string, data string) icrashServer {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0", "--checkpoint-interval", "20ms")
	cmd.Env = env
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "public "); ok {
				urls <- strings.TrimSuffix(u, "/")
			}
		}
		close(urls)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			cmd.Wait()
			t.Fatalf("vigil serve exited before listening:\n%s", stderr)
		}
		return icrashServer{cmd: cmd, url: u, stderr: stderr}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("vigil serve did not start in 30s:\n%s", stderr)
	}
	panic("unreachable")
}

// icrashSubmit posts s as the submission form does and returns the receipt
// shown on the answer page.
func icrashSubmit(client *http.Client, base string, s icrashSub) (string, error) {
	status, page, err := icrashPost(client, base, s)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("POST /submit: %d %s: %.300s", status, http.StatusText(status), page)
	}
	m := icrashReceiptRE.FindSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("POST /submit: 200 without a receipt: %.300s", page)
	}
	return string(m[1]), nil
}

// icrashPost posts s as the submission form does and returns the answer.
func icrashPost(client *http.Client, base string, s icrashSub) (int, []byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("lang", "en")
	mw.WriteField("text", s.text)
	mw.WriteField("language", "en")
	mw.WriteField("contact", "")
	if s.fileName != "" {
		fw, _ := mw.CreateFormFile("files", s.fileName)
		fw.Write(s.file)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, base+"/submit", &buf)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	return resp.StatusCode, page, err
}

// icrashFollowup opens s's receipt over HTTP and checks that its thread page
// shows the text it was sent with.
func icrashFollowup(t *testing.T, base string, s icrashSub) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/followup", url.Values{"receipt": {s.receipt}, "lang": {"en"}})
	if err != nil {
		t.Fatalf("POST /followup: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/followup/thread") {
		t.Fatalf("POST /followup with the receipt of round %d: %s, Location %q; want 303 to /followup/thread", s.round, resp.Status, loc)
	}
	resp, err = client.Get(base + loc)
	if err != nil {
		t.Fatalf("GET %s: %v", loc, err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", loc, resp.Status, err)
	}
	if !strings.Contains(string(page), html.EscapeString(s.text)) {
		t.Fatalf("thread page of round %d's receipt lacks its text %q:\n%.2000s", s.round, s.text, page)
	}
	if s.fileName != "" && !strings.Contains(string(page), s.fileName) {
		t.Fatalf("thread page of round %d's receipt lacks its file %q", s.round, s.fileName)
	}
}

// icrashOpen opens s's receipt in d (server down) and checks the submission
// the source sees: its text and file, whose content decrypts and matches.
func icrashOpen(ctx context.Context, d *datadir.Dir, s icrashSub) error {
	src, err := d.Intake.OpenReceipt(ctx, []byte(s.receipt))
	if err != nil {
		return fmt.Errorf("open receipt: %w", err)
	}
	v, err := d.Intake.SourceView(ctx, src)
	if err != nil {
		return fmt.Errorf("source view: %w", err)
	}
	if v.Text != s.text {
		return fmt.Errorf("text %q", v.Text)
	}
	if s.fileName == "" {
		if len(v.Files) != 0 {
			return fmt.Errorf("%d files, sent none", len(v.Files))
		}
		return nil
	}
	if len(v.Files) != 1 {
		return fmt.Errorf("%d files, sent one", len(v.Files))
	}
	f := v.Files[0]
	sum := sha256.Sum256(s.file)
	if f.Name != s.fileName || f.Size != int64(len(s.file)) || f.SHA256 != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("file %q size %d sha256 %s, sent %q %d %x", f.Name, f.Size, f.SHA256, s.fileName, len(s.file), sum)
	}
	it, err := d.Evidence.Get(ctx, f.ID)
	if err != nil {
		return fmt.Errorf("file %s: %w", f.ID, err)
	}
	rc, err := d.Evidence.Open(ctx, it)
	if err != nil {
		return fmt.Errorf("file %s: %w", f.ID, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc) // checks the SHA-256 at EOF
	if err != nil || !bytes.Equal(b, s.file) {
		return fmt.Errorf("file %s decrypts to %d bytes (%v), not what was sent", f.ID, len(b), err)
	}
	return nil
}

// icrashPick returns the receipts to check after a round whose got
// submissions are the last of all: up to n of the round's and five earlier
// ones, or all of them after the last round.
func icrashPick(rng *rand.Rand, all []icrashSub, got, n int, last bool) []icrashSub {
	if last {
		return all
	}
	var check []icrashSub
	for _, i := range rng.Perm(got)[:min(n, got)] {
		check = append(check, all[len(all)-got+i])
	}
	if prev := all[:len(all)-got]; len(prev) > 0 {
		for range min(5, len(prev)) {
			check = append(check, prev[rng.IntN(len(prev))])
		}
	}
	return check
}

// icrashVerify checks the data directory data after a kill, the server
// down: it opens (the lock died with the server) and unseals with pass,
// every submission in check opens with its receipt (icrashOpen), records
// and log agree (icrashRecords, with acked receipts given so far),
// evlog.Check passes, and a checkpoint signed now extends prev
// (icrashCheckpoint), which it returns.
func icrashVerify(ctx context.Context, data, pass string, check []icrashSub, acked int, verified map[vigil.ID]int64, st *icrashStats, prev evlog.Checkpoint, havePrev bool) (evlog.Checkpoint, error) {
	d, err := datadir.Open(ctx, data)
	if err != nil {
		return evlog.Checkpoint{}, fmt.Errorf("open after the kill: %w", err)
	}
	defer d.Close()
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		return evlog.Checkpoint{}, fmt.Errorf("unseal: %w", err)
	}
	if err := icrashParallel(len(check), func(i int) error {
		if err := icrashOpen(ctx, d, check[i]); err != nil {
			return fmt.Errorf("receipt of round %d (%q): %w", check[i].round, check[i].text, err)
		}
		return nil
	}); err != nil {
		return evlog.Checkpoint{}, err
	}
	st.receiptChecks += len(check)
	n, err := icrashRecords(ctx, d, acked, verified, st)
	if err != nil {
		return evlog.Checkpoint{}, err
	}
	st.committedUnacked = n - acked
	if err := d.Store.View(ctx, func(tx store.ReadTx) error { return evlog.Check(tx) }); err != nil {
		return evlog.Checkpoint{}, fmt.Errorf("evlog.Check: %w", err)
	}
	return icrashCheckpoint(ctx, d, prev, havePrev)
}

// icrashRecords checks every record against the log: records name no leaf
// in plaintext, so each logged record (submission, message, audit event,
// file item) is decrypted with the vault and its sealed statement's
// commitment must be an entry of the log; leaves are used once and cover the
// log, and each submission has exactly one triage record (a submission and
// its triage commit together). It returns the number of submissions, at
// least acked. Records in verified were decrypted and checked after an
// earlier kill (verified holds their leaves) and are not decrypted again
// (records are immutable, and the final receipt checks open every
// acknowledged submission again); the others are added.
func icrashRecords(ctx context.Context, d *datadir.Dir, acked int, verified map[vigil.ID]int64, st *icrashStats) (int, error) {
	var subs, items, triage, other []store.Record
	var entries [][]byte
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
		if n > 0 {
			if entries, err = tx.ReadEntries(0, n); err != nil {
				return err
			}
		}
		for _, k := range []struct {
			kind string
			to   *[]store.Record
		}{{intake.KindSubmission, &subs}, {evidence.Kind, &items}, {intake.KindTriage, &triage}, {intake.KindMessage, &other}, {intake.KindAudit, &other}} {
			if err := store.EachRecord(tx, k.kind, func(r store.Record) error { *k.to = append(*k.to, r); return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read records: %w", err)
	}
	index := make(map[string]int64, len(entries))
	for i, e := range entries {
		index[string(e)] = int64(i)
	}
	// leaf decrypts r and finds its commitment in the log.
	leaf := func(r store.Record) (int64, error) {
		if r.LeafIndex != -1 || r.Blob != "" {
			return 0, fmt.Errorf("%s %s names leaf %d or blob %q in plaintext", r.Kind, r.ID, r.LeafIndex, r.Blob)
		}
		var e [32]byte
		if r.Kind == evidence.Kind {
			it, err := d.Evidence.Get(ctx, r.ID)
			if err != nil {
				return 0, fmt.Errorf("item %s: %w", r.ID, err)
			}
			e = it.Entry()
		} else {
			plain, err := d.Vault.OpenField(vault.Label{Kind: r.Kind, ID: r.ID, Field: "body", Version: r.Version}, r.Body)
			if err != nil {
				return 0, fmt.Errorf("%s %s does not decrypt: %w", r.Kind, r.ID, err)
			}
			var body struct {
				Statement string `json:"statement"`
				Salt      string `json:"salt"`
			}
			if err := json.Unmarshal(plain, &body); err != nil {
				return 0, fmt.Errorf("%s %s: %w", r.Kind, r.ID, err)
			}
			salt, err := hex.DecodeString(body.Salt)
			if err != nil || len(salt) != evlog.SaltSize {
				return 0, fmt.Errorf("%s %s: salt %q", r.Kind, r.ID, body.Salt)
			}
			e = evlog.Commitment([evlog.SaltSize]byte(salt), []byte(body.Statement))
		}
		i, ok := index[string(e[:])]
		if !ok {
			return 0, fmt.Errorf("%s %s: its commitment is not in the log of %d", r.Kind, r.ID, len(entries))
		}
		return i, nil
	}
	var open []store.Record
	logged := append(append(append([]store.Record{}, subs...), items...), other...)
	for _, r := range logged {
		if _, ok := verified[r.ID]; !ok {
			open = append(open, r)
		}
	}
	found := make([]int64, len(open))
	err = icrashParallel(len(open), func(i int) error {
		var err error
		found[i], err = leaf(open[i])
		return err
	})
	if err != nil {
		return 0, err
	}
	for i, r := range open {
		verified[r.ID] = found[i]
	}
	st.recordOpen += len(open)
	leaves := make(map[int64]vigil.ID)
	for _, r := range logged {
		l := verified[r.ID]
		if o, dup := leaves[l]; dup {
			return 0, fmt.Errorf("%s %s and %s share leaf %d", r.Kind, r.ID, o, l)
		}
		leaves[l] = r.ID
	}
	if len(leaves) != len(entries) {
		return 0, fmt.Errorf("%d records with leaves, %d log entries (a leaf without its record?)", len(leaves), len(entries))
	}
	st.items = len(items)
	if len(triage) != len(subs) {
		return 0, fmt.Errorf("%d submissions, %d triage records (half-written submission?)", len(subs), len(triage))
	}
	if len(subs) < acked {
		return 0, fmt.Errorf("%d submissions stored, %d receipts returned", len(subs), acked)
	}
	return len(subs), nil
}

// icrashCheckpoint signs a checkpoint (no fork: the anchor agrees with the
// database) and checks that it covers the whole tree and extends prev.
func icrashCheckpoint(ctx context.Context, d *datadir.Dir, prev evlog.Checkpoint, havePrev bool) (evlog.Checkpoint, error) {
	cp, err := d.SignCheckpoint(ctx)
	if err != nil {
		return evlog.Checkpoint{}, fmt.Errorf("SignCheckpoint: %w", err)
	}
	c, err := evlog.OpenCheckpoint(cp, d.Vault.LogVerifier())
	if err != nil {
		return evlog.Checkpoint{}, fmt.Errorf("open checkpoint: %w", err)
	}
	if anchor, err := d.Log.Anchor(); err != nil || !bytes.Equal(anchor, cp) {
		return evlog.Checkpoint{}, fmt.Errorf("anchor %q (%v) is not the checkpoint just signed %q", anchor, err, cp)
	}
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		tree, err := evlog.Tree(tx)
		if err != nil {
			return err
		}
		if tree != c.Tree {
			return fmt.Errorf("checkpoint %d %s, tree %d %s", c.N, c.Hash, tree.N, tree.Hash)
		}
		if !havePrev || prev.N == 0 {
			return nil
		}
		proof, err := tlog.ProveTree(c.N, prev.N, tlog.HashReaderFunc(tx.ReadHashes))
		if err != nil {
			return fmt.Errorf("prove tree %d -> %d: %w", prev.N, c.N, err)
		}
		if err := tlog.CheckTree(proof, c.N, c.Hash, prev.N, prev.Hash); err != nil {
			return fmt.Errorf("checkpoint %d is not consistent with checkpoint %d: %w", c.N, prev.N, err)
		}
		return nil
	})
	return c, err
}

// icrashParallel runs fn(0..n-1) on a few goroutines and returns the first
// error.
func icrashParallel(n int, fn func(int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
