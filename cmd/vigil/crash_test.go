package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
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
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
)

// crashFile is one file handed to a `vigil add` child.
type crashFile struct {
	path  string
	name  string // base name, which the item keeps (encrypted)
	size  int64
	sum   [32]byte
	round int
}

// crashAck is an item the store must hold: acknowledged on stdout by a child,
// or found complete after a kill that came between commit and output.
type crashAck struct {
	file  crashFile
	leaf  int64
	acked bool // printed by the child (else recovered: committed, never printed)
}

// orphansSeen holds the unreferenced blobs already counted.
var orphansSeen = map[string]bool{}

type crashStats struct {
	rounds, completed, killedMidIngest, killedAfterOutput, killedBeforeFirstLine int
	acked, recovered, verifiedItems, fsckRuns, signedByChild                     int
	partialBlobs, orphanBlobs                                                    int // kills during a blob write; between blob and record commit
	anchorAhead                                                                  int // kills after the anchor was written, before the checkpoint's commit
	inChildren, inChecks, inFsck                                                 time.Duration
}

// TestCrashAdd kills `vigil add` children with SIGKILL at random moments and
// checks after each kill that the data directory opens, that every
// acknowledged item is present and intact, that no item is half visible, and
// that the log still extends every checkpoint signed before.
func TestCrashAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the vigil binary")
	}
	rounds, seed, rng := crashPlan(t, "VIGIL_CRASH_ROUNDS", 50)
	t.Logf("seed %d (VIGIL_CRASH_SEED reproduces the files and kill plan, not the timing), %d rounds", seed, rounds)
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	content := rand.NewChaCha8(key) // file contents

	tmp := t.TempDir()
	bin := vigilBin(t) // built without -race, whatever flags the test runs with

	const pass = "crash test passphrase"
	data := filepath.Join(tmp, "data")
	baseEnv := vigilEnv("")
	withPass := append(append([]string(nil), baseEnv...), "VIGIL_PASSPHRASE="+pass)
	vigilRun(t, bin, withPass, "init", "--data", data, "--scrypt-work-factor", "10")

	ctx := context.Background()
	known := map[vigil.ID]*crashAck{} // every item the store must hold
	var prevCP evlog.Checkpoint       // last checkpoint the test signed
	havePrev := false
	var st crashStats
	start := time.Now()

	for round := 0; round < rounds; round++ {
		st.rounds++
		// Files of random content and sizes, some empty, some up to 1 MiB.
		dir := filepath.Join(tmp, "in", fmt.Sprintf("r%03d", round))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		nfiles := 1 + rng.IntN(5)
		files := make([]crashFile, nfiles)
		args := []string{"add", "--data", data, "-q"}
		for i := range files {
			f := crashFile{name: fmt.Sprintf("r%03d-f%d.bin", round, i), round: round, size: crashSize(rng)}
			f.path = filepath.Join(dir, f.name)
			buf := make([]byte, f.size)
			content.Read(buf)
			f.sum = sha256.Sum256(buf)
			if err := os.WriteFile(f.path, buf, 0o600); err != nil {
				t.Fatal(err)
			}
			files[i] = f
			args = append(args, f.path)
		}

		// The kill plan: after a random delay, or a short while after the
		// k-th line, or just after the last line (while it signs or closes).
		env := baseEnv
		signs := rng.IntN(2) == 0
		if signs {
			env = withPass
		}
		mode := rng.IntN(3)
		delay := time.Duration(rng.Int64N(int64(150 * time.Millisecond)))
		afterLines := 0
		switch mode {
		case 1:
			afterLines = 1 + rng.IntN(nfiles)
			delay = time.Duration(rng.Int64N(int64(3 * time.Millisecond)))
		case 2:
			afterLines = nfiles
			delay = time.Duration(rng.Int64N(int64(10 * time.Millisecond)))
		}

		t0 := time.Now()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		var got []string
		var timer <-chan time.Time
		if afterLines == 0 {
			timer = time.After(delay)
		}
		killed, eof := false, false
		for !killed && !eof {
			select {
			case l, ok := <-lines:
				if !ok {
					eof = true
					break
				}
				got = append(got, l)
				if afterLines > 0 && len(got) == afterLines && timer == nil {
					timer = time.After(delay)
				}
			case <-timer:
				// An error means it exited already; Wait tells.
				killed = cmd.Process.Signal(syscall.SIGKILL) == nil
			}
		}
		// Lines written before the kill are acknowledgements too.
		for l := range lines {
			got = append(got, l)
		}
		werr := cmd.Wait()
		st.inChildren += time.Since(t0)
		t0 = time.Now()
		var ee *exec.ExitError
		switch {
		case werr == nil:
			st.completed++
			if len(got) != nfiles {
				t.Fatalf("round %d: vigil add exited 0 after %d of %d lines", round, len(got), nfiles)
			}
		case errors.As(werr, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
			if len(got) < nfiles {
				st.killedMidIngest++
				if len(got) == 0 {
					st.killedBeforeFirstLine++
				}
			} else {
				st.killedAfterOutput++
			}
		default:
			t.Fatalf("round %d: vigil add: %v\n%s", round, werr, stderr.Bytes())
		}
		if len(got) > nfiles {
			t.Fatalf("round %d: %d lines for %d files: %q", round, len(got), nfiles, got)
		}

		// Parse acknowledgements: ID, leaf index, path, in file order.
		for i, l := range got {
			parts := strings.Split(l, "\t")
			if len(parts) != 3 {
				t.Fatalf("round %d: bad output line %q", round, l)
			}
			id, err := vigil.ParseID(parts[0])
			if err != nil {
				t.Fatalf("round %d: bad ID in %q: %v", round, l, err)
			}
			leaf, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				t.Fatalf("round %d: bad leaf index in %q", round, l)
			}
			if parts[2] != files[i].path {
				t.Fatalf("round %d: line %d names %q, want %q", round, i, parts[2], files[i].path)
			}
			if known[id] != nil {
				t.Fatalf("round %d: ID %s acknowledged twice", round, id)
			}
			known[id] = &crashAck{file: files[i], leaf: leaf, acked: true}
			st.acked++
		}

		// Where did the kill land? A temporary blob means during a blob
		// write (Open removes it); an unreferenced blob, after the blob's
		// commit and before the record's.
		if tmps, _ := filepath.Glob(filepath.Join(data, "blobs", "tmp", "*")); len(tmps) > 0 {
			st.partialBlobs++
		}

		// (a) The directory opens: the kernel released the dead child's lock.
		d, err := datadir.Open(ctx, data)
		if err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		if err := d.Vault.Unseal([]byte(pass)); err != nil {
			d.Close()
			t.Fatalf("round %d: unseal: %v", round, err)
		}
		if anchor, err := d.Log.Anchor(); err != nil {
			d.Close()
			t.Fatalf("round %d: read anchor: %v", round, err)
		} else if anchor != nil {
			a, err := evlog.OpenCheckpoint(anchor, d.Vault.LogVerifier())
			if err != nil {
				d.Close()
				t.Fatalf("round %d: anchor: %v", round, err)
			}
			if !havePrev || a.N > prevCP.N {
				st.signedByChild++ // the child signed before it died or exited
			}
		}
		func() {
			defer d.Close()
			n, err := crashCheck(ctx, d, known, files[len(got):], &st)
			if err != nil {
				t.Fatalf("round %d (mode %d, %d/%d lines, killed=%v): %v", round, mode, len(got), nfiles, killed, err)
			}
			st.recovered += n

			// (d) The log's stored hashes match its entries.
			if err := d.Store.View(ctx, func(tx store.ReadTx) error { return evlog.Check(tx) }); err != nil {
				t.Fatalf("round %d: evlog.Check: %v", round, err)
			}

			// A child killed between writing the anchor and committing the
			// checkpoint leaves the database behind the anchor; signing
			// below must repair that.
			if anchor, _ := d.Log.Anchor(); anchor != nil {
				latest, err := d.LatestCheckpoint(ctx)
				if err != nil {
					t.Fatalf("round %d: latest checkpoint: %v", round, err)
				}
				if !bytes.Equal(latest, anchor) {
					st.anchorAhead++
				}
			}

			// (e) A new checkpoint can be signed (no ErrFork) and extends
			// the previous one.
			cp, err := d.SignCheckpoint(ctx)
			if err != nil {
				t.Fatalf("round %d: SignCheckpoint: %v", round, err)
			}
			c, err := evlog.OpenCheckpoint(cp, d.Vault.LogVerifier())
			if err != nil {
				t.Fatalf("round %d: open checkpoint: %v", round, err)
			}
			// The anchor and the database hold the same latest checkpoint,
			// even if the child died between writing the anchor and
			// committing its transaction.
			if anchor, err := d.Log.Anchor(); err != nil || !bytes.Equal(anchor, cp) {
				t.Fatalf("round %d: anchor %q (%v) is not the checkpoint just signed %q", round, anchor, err, cp)
			}
			err = d.Store.View(ctx, func(tx store.ReadTx) error {
				if latest, err := tx.LatestCheckpoint(); err != nil || !bytes.Equal(latest, cp) {
					return fmt.Errorf("database's latest checkpoint %q (%v) is not the one signed and anchored %q", latest, err, cp)
				}
				tree, err := evlog.Tree(tx)
				if err != nil {
					return err
				}
				if tree != c.Tree {
					return fmt.Errorf("checkpoint %d %s, tree %d %s", c.N, c.Hash, tree.N, tree.Hash)
				}
				if int64(len(known)) != tree.N {
					return fmt.Errorf("tree has %d entries, %d items known", tree.N, len(known))
				}
				if !havePrev || prevCP.N == 0 {
					return nil // nothing to be consistent with (ProveTree wants sizes >= 1)
				}
				hr := tlog.HashReaderFunc(tx.ReadHashes)
				proof, err := tlog.ProveTree(c.N, prevCP.N, hr)
				if err != nil {
					return fmt.Errorf("prove tree %d -> %d: %w", prevCP.N, c.N, err)
				}
				if err := tlog.CheckTree(proof, c.N, c.Hash, prevCP.N, prevCP.Hash); err != nil {
					return fmt.Errorf("checkpoint %d is not consistent with checkpoint %d: %w", c.N, prevCP.N, err)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			prevCP, havePrev = c, true
		}()
		// (f) closed by the deferred Close above.
		st.inChecks += time.Since(t0)

		// Periodically the binary's own fsck.
		if round%10 == 9 || round == rounds-1 {
			fargs := []string{"fsck", "--data", data}
			if round == rounds-1 {
				fargs = append(fargs, "--sweep")
			}
			t0 := time.Now()
			out := vigilRun(t, bin, withPass, fargs...)
			st.inFsck += time.Since(t0)
			want := fmt.Sprintf("items: %d, each decrypts", len(known))
			if !strings.Contains(out, want) {
				t.Fatalf("round %d: fsck output lacks %q:\n%s", round, want, out)
			}
			st.fsckRuns++
		}
		os.RemoveAll(dir)
	}
	t.Logf("%d rounds in %v: %d kills mid-ingest (%d before the first line), %d kills after all output, %d runs completed before the kill",
		st.rounds, time.Since(start).Round(time.Millisecond), st.killedMidIngest, st.killedBeforeFirstLine, st.killedAfterOutput, st.completed)
	t.Logf("time in add children %v, in checks after them %v, in fsck %v", st.inChildren.Round(time.Millisecond), st.inChecks.Round(time.Millisecond), st.inFsck.Round(time.Millisecond))
	t.Logf("kills during a blob write: %d; between blob and record commit (new unreferenced blobs): %d; between anchor write and checkpoint commit: %d",
		st.partialBlobs, st.orphanBlobs, st.anchorAhead)
	t.Logf("items: %d acknowledged, %d committed but killed before their line (found complete), %d item verifications (decrypt + SHA-256 + log entry); %d fsck runs; %d children signed a checkpoint",
		st.acked, st.recovered, st.verifiedItems, st.fsckRuns, st.signedByChild)
}

// crashCheck checks every record in d against what the test knows: each
// known item is present with its leaf index and decrypts to its SHA-256;
// an unknown item may only be the next pending file of the killed round
// (committed before its line was printed), and must be complete; every record
// matches its log entry, and the records cover the log's leaves exactly.
// Such recovered items are added to known. It returns how many it added.
func crashCheck(ctx context.Context, d *datadir.Dir, known map[vigil.ID]*crashAck, pending []crashFile, st *crashStats) (int, error) {
	recs, err := d.Evidence.List(ctx)
	if err != nil {
		return 0, fmt.Errorf("list: %w", err)
	}
	var entries [][]byte
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
		if n > 0 {
			entries, err = tx.ReadEntries(0, n)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read log entries: %w", err)
	}
	if len(recs) != len(entries) {
		return 0, fmt.Errorf("%d item records but %d log entries (half-visible item?)", len(recs), len(entries))
	}
	leaves := make(map[int64]vigil.ID, len(recs))
	seen := make(map[vigil.ID]bool, len(recs))
	var recovered []vigil.ID
	// Get, decrypt and hash every item, in parallel (the bookkeeping below
	// is sequential).
	type opened struct {
		it  evidence.Item
		n   int64
		sum [32]byte
		err error
	}
	res := make([]opened, len(recs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(recs) {
					return
				}
				o := &res[i]
				if o.it, o.err = d.Evidence.Get(ctx, recs[i].ID); o.err != nil {
					o.err = fmt.Errorf("get %s: %w", recs[i].ID, o.err)
					continue
				}
				rc, err := d.Evidence.Open(ctx, o.it)
				if err != nil {
					o.err = fmt.Errorf("open %s: %w", o.it.ID, err)
					continue
				}
				h := sha256.New()
				o.n, err = io.Copy(h, rc) // the reader checks the item's SHA-256 at EOF
				rc.Close()
				if err != nil {
					o.err = fmt.Errorf("read %s (%s): %w", o.it.ID, o.it.Name, err)
				}
				o.sum = [32]byte(h.Sum(nil))
			}
		})
	}
	wg.Wait()
	for i, r := range recs {
		seen[r.ID] = true
		if res[i].err != nil {
			return 0, res[i].err
		}
		it := res[i].it
		if it.LeafIndex < 0 || it.LeafIndex >= int64(len(entries)) {
			return 0, fmt.Errorf("item %s: leaf %d outside the log of %d", it.ID, it.LeafIndex, len(entries))
		}
		if other, dup := leaves[it.LeafIndex]; dup {
			return 0, fmt.Errorf("items %s and %s share leaf %d", other, it.ID, it.LeafIndex)
		}
		leaves[it.LeafIndex] = it.ID
		if e := it.Entry(); !bytes.Equal(entries[it.LeafIndex], e[:]) {
			return 0, fmt.Errorf("item %s: log entry %d is not its commitment", it.ID, it.LeafIndex)
		}
		var want crashFile
		if k := known[it.ID]; k != nil {
			if k.leaf != it.LeafIndex {
				return 0, fmt.Errorf("item %s: leaf %d, acknowledged as %d", it.ID, it.LeafIndex, k.leaf)
			}
			want = k.file
		} else {
			// Only the first pending file can have been committed without
			// its line: add prints right after each commit, in order.
			if len(pending) == 0 || it.Name != pending[0].name || len(recovered) > 0 {
				return 0, fmt.Errorf("item %s (%q, leaf %d) was never acknowledged and is not the killed round's next file", it.ID, it.Name, it.LeafIndex)
			}
			want = pending[0]
			recovered = append(recovered, it.ID)
			known[it.ID] = &crashAck{file: want, leaf: it.LeafIndex}
		}
		if it.Name != want.name || it.Size != want.size || it.SHA256 != want.sum {
			return 0, fmt.Errorf("item %s: name %q size %d sha256 %x, want %q %d %x", it.ID, it.Name, it.Size, it.SHA256, want.name, want.size, want.sum)
		}
		if res[i].n != want.size || res[i].sum != want.sum {
			return 0, fmt.Errorf("item %s (%s) decrypts to %d bytes with another SHA-256", it.ID, it.Name, res[i].n)
		}
		st.verifiedItems++
	}
	for id, k := range known {
		if !seen[id] {
			return 0, fmt.Errorf("acknowledged item %s (%s, leaf %d) is missing", id, k.file.name, k.leaf)
		}
	}
	used := map[string]bool{}
	if err := d.Store.View(ctx, func(tx store.ReadTx) error {
		return tx.Blobs(func(n string) error { used[n] = true; return nil })
	}); err != nil {
		return 0, err
	}
	if err := d.Blobs.List(ctx, func(n string) error {
		if !used[n] && !orphansSeen[n] {
			orphansSeen[n] = true
			st.orphanBlobs++
		}
		return nil
	}); err != nil {
		return 0, err
	}
	return len(recovered), nil
}

// crashSize returns a random file size: some empty, most small, some up to 1 MiB.
func crashSize(rng *rand.Rand) int64 {
	switch p := rng.IntN(100); {
	case p < 15:
		return 0
	case p < 55:
		return rng.Int64N(4 << 10)
	case p < 85:
		return rng.Int64N(128 << 10)
	default:
		return rng.Int64N(1<<20) + 1
	}
}

// TestCrashCheckpointAnchorWindow is the checkpoint window of TestCrashAdd
// made deterministic: the process dies after Sign wrote the anchor file but
// before the transaction holding the checkpoint committed. Signing again
// must leave the database with the anchored checkpoint (else the public
// /log/checkpoint stays behind the anchor until the log grows).
func TestCrashCheckpointAnchorWindow(t *testing.T) {
	ctx := context.Background()
	pass := []byte("crash test passphrase")
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := datadir.Init(dir, pass, datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	d, err := datadir.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Vault.Unseal(pass); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := d.Evidence.Add(ctx, strings.NewReader(fmt.Sprint("item ", i)), "item.txt", ""); err != nil {
			t.Fatal(err)
		}
		errDied := errors.New("died before commit")
		err = d.Store.Update(ctx, func(tx store.Tx) error {
			if _, err := d.Log.Sign(tx); err != nil {
				return err
			}
			return errDied
		})
		if !errors.Is(err, errDied) {
			t.Fatalf("sign: %v", err)
		}
		anchor, err := d.Log.Anchor()
		if err != nil || anchor == nil {
			t.Fatalf("anchor = %q, %v; want the checkpoint of the dead transaction", anchor, err)
		}
		cp, err := d.SignCheckpoint(ctx)
		if err != nil {
			t.Fatalf("SignCheckpoint: %v", err)
		}
		if !bytes.Equal(cp, anchor) {
			t.Fatalf("SignCheckpoint = %q, want the anchor %q", cp, anchor)
		}
		latest, err := d.LatestCheckpoint(ctx)
		if err != nil || !bytes.Equal(latest, anchor) {
			t.Fatalf("after SignCheckpoint the database's latest checkpoint is %q (%v), the anchor %q", latest, err, anchor)
		}
	}
}

// crashPlan reads a crash test's round count (roundsVar, else def) and seed
// (VIGIL_CRASH_SEED, else the clock) and returns a generator seeded with it.
func crashPlan(t *testing.T, roundsVar string, def int) (rounds int, seed uint64, rng *rand.Rand) {
	t.Helper()
	rounds = def
	if s := os.Getenv(roundsVar); s != "" {
		var err error
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 1 {
			t.Fatalf("%s=%q: want a positive integer", roundsVar, s)
		}
	}
	seed = uint64(time.Now().UnixNano())
	if s := os.Getenv("VIGIL_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("VIGIL_CRASH_SEED=%q: %v", s, err)
		}
	}
	return rounds, seed, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
