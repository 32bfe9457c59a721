package main

// TestInteropTorchwood checks that a running vigil log, its tiles and its
// evidence bundles verify with code we did not write: filippo.io/torchwood
// (a C2SP tlog-tiles client, checkpoint policy and tlog-proof verifier) and
// golang.org/x/mod/sumdb/tlog. Nothing from vigil's own packages is used to
// verify anything; the vigil binary is only driven through its command line
// and its HTTP listener.

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const interopPassphrase = "interop test passphrase"

func TestInteropTorchwood(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	ctx := t.Context()
	tmp := t.TempDir()
	bin := vigilBin(t)
	env := vigilEnv(interopPassphrase)
	data := filepath.Join(tmp, "data")

	out := vigilRun(t, bin, env, "init", "--data", data, "--origin", "interop.example/log", "--scrypt-work-factor", "10")
	var initVKey string
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, "log key:"); ok {
			initVKey = strings.TrimSpace(v)
		}
	}
	if initVKey == "" {
		t.Fatalf("vigil init printed no log key:\n%s", out)
	}

	// First batch: one full level-0 tile and a partial one (300 = 256 + 44).
	const n1, n2 = 300, 530 // the second batch fills tile 1 and starts tile 2 (530 = 2*256 + 18)
	items := map[int64]interopItem{}
	interopAdd(t, bin, env, data, filepath.Join(tmp, "batch1"), 0, n1, items)

	srv := interopServe(t, bin, env, data)

	// The public keys, fetched from the server, must match what init printed.
	var keys struct {
		Origin  string `json:"origin"`
		LogVKey string `json:"log_vkey"`
		Prefix  string `json:"log_prefix"`
	}
	if err := json.Unmarshal(interopGet(t, srv.pub+".well-known/vigil.json", http.StatusOK), &keys); err != nil {
		t.Fatalf("/.well-known/vigil.json: %v", err)
	}
	if keys.LogVKey != initVKey || keys.Origin != "interop.example/log" || keys.Prefix != "/log/" {
		t.Fatalf("/.well-known/vigil.json = %+v; init printed log key %q", keys, initVKey)
	}
	verifier, err := note.NewVerifier(keys.LogVKey)
	if err != nil {
		t.Fatalf("note.NewVerifier(%q): %v", keys.LogVKey, err)
	}
	// torchwood refuses a policy that does not pin the origin, so combine
	// the key with the origin, as torchwood.ParsePolicy does for a "log" line.
	policy := torchwood.ThresholdPolicy(2, torchwood.OriginPolicy(keys.Origin), torchwood.SingleVerifierPolicy(verifier))

	fetcher, err := torchwood.NewTileFetcher(srv.pub+"log/", torchwood.WithUserAgent("vigil-interop-test"))
	if err != nil {
		t.Fatal(err)
	}
	signed1, cp1 := interopWaitCheckpoint(t, fetcher, policy, n1)
	interopCheckSignature(t, signed1, keys.Origin, keys.LogVKey)
	t.Logf("checkpoint %d verified by torchwood", cp1.N)
	entries1 := interopCheckLog(t, fetcher, cp1)
	t.Logf("torchwood read and proved all %d entries", len(entries1))
	interopCheckTiles(t, srv.pub, cp1.N)
	for idx, it := range items {
		it.entry = entries1[idx]
		items[idx] = it
	}

	// Second batch, with the server stopped (one process per data directory).
	srv.stop(t)
	interopAdd(t, bin, env, data, filepath.Join(tmp, "batch2"), n1, n2-n1, items)
	srv = interopServe(t, bin, env, data)
	fetcher, err = torchwood.NewTileFetcher(srv.pub+"log/", torchwood.WithUserAgent("vigil-interop-test"))
	if err != nil {
		t.Fatal(err)
	}
	_, cp2 := interopWaitCheckpoint(t, fetcher, policy, n2)
	t.Logf("checkpoint %d verified by torchwood", cp2.N)
	entries2 := interopCheckLog(t, fetcher, cp2)
	t.Logf("torchwood read and proved all %d entries", len(entries2))
	interopCheckTiles(t, srv.pub, cp2.N)
	for i, e := range entries1 {
		if !bytes.Equal(e, entries2[i]) {
			t.Fatalf("entry %d changed between the tree of %d and the tree of %d", i, cp1.N, cp2.N)
		}
	}
	for idx, it := range items {
		it.entry = entries2[idx]
		items[idx] = it
	}

	// Consistency of the old checkpoint with the new one, from the served
	// tiles: torchwood's tile hash reader authenticates every tile it reads
	// against the new tree, and x/mod's tlog proves and checks.
	newHR := torchwood.TileHashReaderWithContext(ctx, cp2.Tree, fetcher)
	cproof, err := tlog.ProveTree(cp2.N, cp1.N, newHR)
	if err != nil {
		t.Fatalf("tlog.ProveTree(%d, %d) from served tiles: %v", cp2.N, cp1.N, err)
	}
	if err := tlog.CheckTree(cproof, cp2.N, cp2.Hash, cp1.N, cp1.Hash); err != nil {
		t.Fatalf("checkpoint %d is not consistent with checkpoint %d: %v", cp1.N, cp2.N, err)
	}
	if h, err := tlog.TreeHash(cp1.N, newHR); err != nil || h != cp1.Hash {
		t.Fatalf("tree hash at %d from the new tiles = %v, %v; old checkpoint says %v", cp1.N, h, err, cp1.Hash)
	}
	// The old tree's partial tiles (e.g. tile/0/001.p/44) are still served
	// and authenticate against the old checkpoint.
	if h, err := tlog.TreeHash(cp1.N, torchwood.TileHashReaderWithContext(ctx, cp1.Tree, fetcher)); err != nil || h != cp1.Hash {
		t.Fatalf("tree hash at %d from the old tree's tiles = %v, %v; want %v", cp1.N, h, err, cp1.Hash)
	}
	bad := cp1.Hash
	bad[0] ^= 1
	if err := tlog.CheckTree(cproof, cp2.N, cp2.Hash, cp1.N, bad); err == nil {
		t.Fatal("tlog.CheckTree accepted a consistency proof for a forged old root")
	}
	t.Logf("checkpoint %d is consistent with checkpoint %d (proof from served tiles)", cp1.N, cp2.N)
	srv.stop(t)

	// Bundles, verified with torchwood.VerifyProof.
	var ids []string
	for i := range int64(n2) {
		ids = append(ids, items[i].id)
	}
	all := filepath.Join(tmp, "all.zip")
	vigilRun(t, bin, env, append([]string{"bundle", "--data", data, "--out", all, "--no-content"}, ids...)...)
	interopCheckBundle(t, all, keys.LogVKey, policy, cp2, items, false)
	t.Logf("torchwood.VerifyProof accepted all %d proofs of a bundle", n2)

	var some []string
	for _, i := range []int64{0, 1, 255, 256, 299, 300, 511, 512, n2 - 1} {
		some = append(some, items[i].id)
	}
	withContent := filepath.Join(tmp, "some.zip")
	vigilRun(t, bin, env, append([]string{"bundle", "--data", data, "--out", withContent}, some...)...)
	if got := interopCheckBundle(t, withContent, keys.LogVKey, policy, cp2, items, true); got != len(some) {
		t.Fatalf("bundle with content has %d items, want %d", got, len(some))
	}
	t.Logf("torchwood.VerifyProof accepted %d proofs of a bundle with content and refused altered copies", len(some))
}

// interopItem is an item added through `vigil add`.
type interopItem struct {
	id    string
	index int64
	path  string
	sum   [32]byte // SHA-256 of the file
	entry []byte   // the log entry at index, as fetched and checked by torchwood
}

// interopAdd writes n small files into dir and adds them; their leaf
// indexes must be first, first+1, ...
func interopAdd(t *testing.T, bin string, env []string, data, dir string, first int64, n int, items map[int64]interopItem) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sums := map[string][32]byte{}
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("f%04d.txt", int(first)+i))
		b := fmt.Appendf(nil, "interop file %d\n", int(first)+i)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sums[p] = sha256.Sum256(b)
	}
	out := vigilRun(t, bin, env, "add", "--data", data, "-q", dir)
	seen := 0
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 3 {
			t.Fatalf("vigil add: unexpected line %q", line)
		}
		idx, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || idx < first || idx >= first+int64(n) {
			t.Fatalf("vigil add: leaf index %q outside [%d, %d)", f[1], first, first+int64(n))
		}
		if _, dup := items[idx]; dup {
			t.Fatalf("vigil add: leaf index %d printed twice", idx)
		}
		sum, ok := sums[f[2]]
		if !ok {
			t.Fatalf("vigil add: unknown path %q", f[2])
		}
		items[idx] = interopItem{id: f[0], index: idx, path: f[2], sum: sum}
		seen++
	}
	if seen != n {
		t.Fatalf("vigil add printed %d items, want %d", seen, n)
	}
}

// interopServer is a running `vigil serve`.
type interopServer struct {
	cmd        *exec.Cmd
	pub, staff string // base URLs, ending in "/"
	out, errb  *interopBuffer
	done       chan struct{}
	err        error // from Wait, once done is closed
}

type interopBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *interopBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *interopBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// interopServe starts `vigil serve` on ephemeral ports, with the passphrase
// so that it unseals at start, and waits for it to print its URLs.
func interopServe(t *testing.T, bin string, env []string, data string) *interopServer {
	t.Helper()
	s := &interopServer{out: &interopBuffer{}, errb: &interopBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0")
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.errb
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start vigil serve: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		for line := range strings.Lines(s.out.String()) {
			if u, ok := strings.CutPrefix(line, "public "); ok {
				s.pub = strings.TrimSpace(u)
			}
			if u, ok := strings.CutPrefix(line, "staff "); ok {
				s.staff = strings.TrimSpace(u)
			}
		}
		if s.pub != "" && s.staff != "" {
			if !strings.HasPrefix(s.pub, "http://127.0.0.1:") || !strings.HasSuffix(s.pub, "/") {
				t.Fatalf("vigil serve: unexpected public URL %q", s.pub)
			}
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("vigil serve exited: %v\nstdout:\n%s\nstderr:\n%s", s.err, s.out, s.errb)
		case <-deadline:
			t.Fatalf("vigil serve printed no URLs in time\nstdout:\n%s\nstderr:\n%s", s.out, s.errb)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop interrupts the server and waits for a clean exit.
func (s *interopServer) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("interrupt vigil serve: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Fatalf("vigil serve did not exit after an interrupt\nstderr:\n%s", s.errb)
	}
	if s.err != nil {
		t.Fatalf("vigil serve: %v\nstderr:\n%s", s.err, s.errb)
	}
}

// interopGet fetches url and checks the status code.
func interopGet(t *testing.T, url string, want int) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s: status %d, want %d: %q", url, resp.StatusCode, want, b)
	}
	return b
}

// interopWaitCheckpoint fetches /log/checkpoint through torchwood until it
// verifies under policy and has size n.
func interopWaitCheckpoint(t *testing.T, f *torchwood.TileFetcher, policy torchwood.Policy, n int64) ([]byte, torchwood.Checkpoint) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		signed, err := f.ReadEndpoint(t.Context(), "checkpoint")
		if err == nil {
			c, _, verr := torchwood.VerifyCheckpoint(signed, policy)
			if verr != nil {
				t.Fatalf("torchwood.VerifyCheckpoint: %v\n%s", verr, signed)
			}
			if c.N == n {
				return signed, c
			}
			if c.N > n {
				t.Fatalf("checkpoint size %d, want %d", c.N, n)
			}
			err = fmt.Errorf("checkpoint size %d", c.N)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size %d in time: %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// interopCheckSignature checks that torchwood refuses the checkpoint with
// the wrong key, the wrong origin, or an altered body.
func interopCheckSignature(t *testing.T, signed []byte, origin, vkey string) {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	_, otherVKey, err := note.GenerateKey(nil, origin)
	if err != nil {
		t.Fatal(err)
	}
	other, err := note.NewVerifier(otherVKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		policy torchwood.Policy
		signed []byte
	}{
		{"other key", torchwood.ThresholdPolicy(2, torchwood.OriginPolicy(origin), torchwood.SingleVerifierPolicy(other)), signed},
		{"other origin", torchwood.ThresholdPolicy(2, torchwood.OriginPolicy("other.example/log"), torchwood.SingleVerifierPolicy(v)), signed},
		{"origin not pinned", torchwood.SingleVerifierPolicy(v), signed},
		{"altered size", torchwood.ThresholdPolicy(2, torchwood.OriginPolicy(origin), torchwood.SingleVerifierPolicy(v)), interopAlterSize(t, signed)},
	} {
		if c, _, err := torchwood.VerifyCheckpoint(tc.signed, tc.policy); err == nil {
			t.Errorf("torchwood.VerifyCheckpoint (%s) accepted %+v", tc.name, c)
		}
	}
}

// interopAlterSize adds one to the size line of a signed checkpoint, keeping
// the signature.
func interopAlterSize(t *testing.T, signed []byte) []byte {
	t.Helper()
	lines := strings.SplitN(string(signed), "\n", 3)
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		t.Fatalf("checkpoint size line %q", lines[1])
	}
	return []byte(lines[0] + "\n" + strconv.FormatInt(n+1, 10) + "\n" + lines[2])
}

// interopCheckLog reads every entry of the tree c through torchwood, which
// checks each against the tree, and returns them. It also checks every
// entry's inclusion proof, built from the served hash tiles, and recomputes
// the root from the entries alone.
func interopCheckLog(t *testing.T, f *torchwood.TileFetcher, c torchwood.Checkpoint) [][]byte {
	t.Helper()
	ctx := t.Context()
	client, err := torchwood.NewClient(f, torchwood.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var entries [][]byte
	for i, e := range client.AllEntries(ctx, c.Tree, 0) {
		if i != int64(len(entries)) {
			t.Fatalf("AllEntries yielded index %d after %d entries", i, len(entries))
		}
		if len(e) != sha256.Size {
			t.Fatalf("entry %d is %d bytes, want %d", i, len(e), sha256.Size)
		}
		entries = append(entries, bytes.Clone(e))
	}
	if err := client.Err(); err != nil {
		t.Fatalf("torchwood AllEntries: %v", err)
	}
	if int64(len(entries)) != c.N {
		t.Fatalf("torchwood AllEntries read %d entries, checkpoint has %d", len(entries), c.N)
	}
	seen := map[string]int{}
	for i, e := range entries {
		if j, dup := seen[string(e)]; dup {
			t.Fatalf("entries %d and %d are equal: commitments must be unique", j, i)
		}
		seen[string(e)] = i
	}

	// Every leaf: torchwood's Entry reads the entry and proves it from the
	// hash tiles; check the proof again against the checkpoint.
	for i := range c.N {
		e, proof, err := client.Entry(ctx, c.Tree, i)
		if err != nil {
			t.Fatalf("torchwood Entry(%d): %v", i, err)
		}
		if !bytes.Equal(e, entries[i]) {
			t.Fatalf("Entry(%d) differs from AllEntries", i)
		}
		if err := tlog.CheckRecord(proof, c.N, c.Hash, i, tlog.RecordHash(e)); err != nil {
			t.Fatalf("leaf %d: tlog.CheckRecord: %v", i, err)
		}
	}

	// The root from the entries alone (RFC 6962, computed by x/mod's tlog),
	// and from the served hash tiles.
	var stored []tlog.Hash
	mem := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for k, x := range idx {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("hash %d not stored", x)
			}
			out[k] = stored[x]
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, mem)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	if h, err := tlog.TreeHash(c.N, mem); err != nil || h != c.Hash {
		t.Fatalf("root recomputed from the entries = %v, %v; checkpoint says %v", h, err, c.Hash)
	}
	if h, err := tlog.TreeHash(c.N, torchwood.TileHashReaderWithContext(ctx, c.Tree, f)); err != nil || h != c.Hash {
		t.Fatalf("root from the served tiles = %v, %v; checkpoint says %v", h, err, c.Hash)
	}

	// torchwood really checks: a corrupted entry bundle is refused.
	bad, err := torchwood.NewClient(interopCorrupt{f}, torchwood.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range bad.AllEntries(ctx, c.Tree, 0) {
		n++
	}
	if bad.Err() == nil {
		t.Fatalf("torchwood accepted a corrupted entry bundle (%d entries read)", n)
	}
	if n >= torchwood.TileWidth+1 {
		t.Fatalf("torchwood yielded %d entries before refusing the corrupted bundle 1", n)
	}
	if _, _, err := bad.Entry(ctx, c.Tree, torchwood.TileWidth); err == nil {
		t.Fatal("torchwood Entry accepted a corrupted entry")
	}
	return entries
}

// interopCorrupt flips a bit of the first entry of entry bundle 1.
type interopCorrupt struct{ torchwood.TileReader }

func (c interopCorrupt) ReadTiles(ctx context.Context, tiles []tlog.Tile) ([][]byte, error) {
	data, err := c.TileReader.ReadTiles(ctx, tiles)
	if err != nil {
		return nil, err
	}
	for i, tl := range tiles {
		if tl.L == -1 && tl.N == 1 && len(data[i]) > 2 {
			data[i] = bytes.Clone(data[i])
			data[i][2] ^= 1
		}
	}
	return data, nil
}

// interopCheckTiles checks tile paths and shapes directly: full tiles,
// partial tiles, the level-1 tile, and 404 for tiles outside the tree.
func interopCheckTiles(t *testing.T, pub string, n int64) {
	t.Helper()
	get := func(tl tlog.Tile, want int) []byte {
		return interopGet(t, pub+"log/"+torchwood.TilePath(tl), want)
	}
	full := n / 256
	for k := range full {
		if b := get(tlog.Tile{H: 8, L: 0, N: k, W: 256}, http.StatusOK); len(b) != 256*tlog.HashSize {
			t.Errorf("level-0 tile %d is %d bytes", k, len(b))
		}
		if b := get(tlog.Tile{H: 8, L: -1, N: k, W: 256}, http.StatusOK); len(b) != 256*(2+sha256.Size) {
			t.Errorf("entry bundle %d is %d bytes", k, len(b))
		}
	}
	if w := int(n % 256); w > 0 {
		if b := get(tlog.Tile{H: 8, L: 0, N: full, W: w}, http.StatusOK); len(b) != w*tlog.HashSize {
			t.Errorf("partial level-0 tile %d.p/%d is %d bytes", full, w, len(b))
		}
		b := get(tlog.Tile{H: 8, L: -1, N: full, W: w}, http.StatusOK)
		for k := range w {
			e, rest, err := torchwood.ReadTileEntry(b)
			if err != nil || len(e) != sha256.Size {
				t.Fatalf("partial entry bundle %d.p/%d, entry %d: %d bytes, %v", full, w, k, len(e), err)
			}
			b = rest
		}
		if len(b) != 0 {
			t.Errorf("partial entry bundle %d.p/%d has %d trailing bytes", full, w, len(b))
		}
		get(tlog.Tile{H: 8, L: 0, N: full, W: w + 1}, http.StatusNotFound)
		get(tlog.Tile{H: 8, L: -1, N: full, W: w + 1}, http.StatusNotFound)
	}
	if b := get(tlog.Tile{H: 8, L: 1, N: 0, W: int(full)}, http.StatusOK); len(b) != int(full)*tlog.HashSize {
		t.Errorf("level-1 tile 000.p/%d is %d bytes", full, len(b))
	}
	get(tlog.Tile{H: 8, L: 0, N: full + 1, W: 256}, http.StatusNotFound)
	get(tlog.Tile{H: 8, L: -1, N: full + 1, W: 256}, http.StatusNotFound)
	get(tlog.Tile{H: 8, L: 1, N: 0, W: int(full) + 1}, http.StatusNotFound)
	get(tlog.Tile{H: 8, L: 2, N: 0, W: 1}, http.StatusNotFound)
}

// interopCheckBundle verifies every item of a bundle with torchwood and
// returns how many there were.
func interopCheckBundle(t *testing.T, path, vkey string, policy torchwood.Policy, cp torchwood.Checkpoint, items map[int64]interopItem, withContent bool) int {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("open bundle: %v", err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("bundle %s: %v", f.Name, err)
		}
		files[f.Name] = b
	}
	if got := strings.TrimSpace(string(files["log.vkey"])); got != vkey {
		t.Fatalf("bundle log.vkey = %q, want %q", got, vkey)
	}
	byID := map[string]interopItem{}
	for _, it := range items {
		byID[it.id] = it
	}
	count := 0
	for name, proof := range files {
		dir, ok := strings.CutSuffix(name, "/proof.tlog-proof")
		if !ok {
			continue
		}
		count++
		id := strings.TrimPrefix(dir, "items/")
		it, ok := byID[id]
		if !ok {
			t.Fatalf("bundle has unknown item %q", id)
		}
		statement := files[dir+"/statement.txt"]
		salt, err := hex.DecodeString(strings.TrimSpace(string(files[dir+"/salt.hex"])))
		if err != nil || len(salt) != 32 {
			t.Fatalf("item %s: salt.hex: %v (%d bytes)", id, err, len(salt))
		}
		extra := append(bytes.Clone(salt), statement...)
		entry := sha256.Sum256(extra)
		if !bytes.Equal(entry[:], it.entry) {
			t.Fatalf("item %s: SHA-256(salt || statement) is not log entry %d as torchwood read it", id, it.index)
		}
		if got, err := torchwood.ProofExtraData(proof); err != nil || !bytes.Equal(got, extra) {
			t.Fatalf("item %s: proof extra line is not salt || statement (%v)", id, err)
		}
		if err := torchwood.VerifyProof(policy, tlog.RecordHash(entry[:]), proof); err != nil {
			t.Fatalf("item %s: torchwood.VerifyProof: %v", id, err)
		}
		idx, pcp := interopProofIndexAndCheckpoint(t, proof)
		if idx != it.index {
			t.Fatalf("item %s: proof index %d, vigil add said %d", id, idx, it.index)
		}
		c, _, err := torchwood.VerifyCheckpoint(pcp, policy)
		if err != nil || c.Tree != cp.Tree {
			t.Fatalf("item %s: proof checkpoint %+v (%v); the server served %+v", id, c.Tree, err, cp.Tree)
		}
		if !strings.Contains(string(statement), "\nid "+id+"\n") {
			t.Errorf("item %s: statement does not name the item:\n%s", id, statement)
		}
		if withContent {
			content, ok := files[dir+"/content"]
			if !ok {
				t.Fatalf("item %s: no content", id)
			}
			sum := sha256.Sum256(content)
			if sum != it.sum {
				t.Fatalf("item %s: content differs from the file added", id)
			}
			if want := fmt.Sprintf("\nsha256 %x\nsize %d\n", sum, len(content)); !strings.Contains(string(statement), want) {
				t.Fatalf("item %s: statement does not commit to the content (want %q):\n%s", id, want, statement)
			}
		} else if _, ok := files[dir+"/content"]; ok {
			t.Fatalf("item %s: content in a --no-content bundle", id)
		}
		if withContent { // a sample: the items of the small bundle
			interopCheckTampered(t, policy, entry, proof, idx)
		}
	}
	if !withContent && count != len(items) {
		t.Fatalf("bundle has %d items, want %d", count, len(items))
	}
	return count
}

// interopProofIndexAndCheckpoint splits a tlog-proof into its index and its
// signed checkpoint (parsed here so as not to trust vigil's parser).
func interopProofIndexAndCheckpoint(t *testing.T, proof []byte) (int64, []byte) {
	t.Helper()
	head, cp, ok := strings.Cut(string(proof), "\n\n")
	if !ok {
		t.Fatalf("proof has no blank line:\n%s", proof)
	}
	for line := range strings.Lines(head) {
		if s, ok := strings.CutPrefix(line, "index "); ok {
			idx, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				t.Fatalf("proof index line %q", line)
			}
			return idx, []byte(cp)
		}
	}
	t.Fatalf("proof has no index line:\n%s", proof)
	return 0, nil
}

// interopCheckTampered checks that torchwood refuses altered copies of a
// valid proof.
func interopCheckTampered(t *testing.T, policy torchwood.Policy, entry [32]byte, proof []byte, idx int64) {
	t.Helper()
	rh := tlog.RecordHash(entry[:])
	lines := strings.Split(string(proof), "\n")
	// lines: header, extra, index, path hashes..., "", checkpoint lines...
	var hashLines []int
	for i := 3; i < len(lines) && lines[i] != ""; i++ {
		hashLines = append(hashLines, i)
	}
	alter := func(f func(l []string)) []byte {
		l := append([]string(nil), lines...)
		f(l)
		return []byte(strings.Join(l, "\n"))
	}
	var recordErr *torchwood.VerifyRecordError
	if len(hashLines) > 0 {
		for _, k := range []int{hashLines[0], hashLines[len(hashLines)-1]} {
			p := alter(func(l []string) {
				h, _ := base64.StdEncoding.DecodeString(l[k])
				h[len(h)-1] ^= 1
				l[k] = base64.StdEncoding.EncodeToString(h)
			})
			if err := torchwood.VerifyProof(policy, rh, p); !errors.As(err, &recordErr) {
				t.Fatalf("index %d: torchwood.VerifyProof with an altered path hash: %v, want a VerifyRecordError", idx, err)
			}
		}
		p := alter(func(l []string) { l[hashLines[0]] = "" })
		if err := torchwood.VerifyProof(policy, rh, p); err == nil {
			t.Fatalf("index %d: torchwood.VerifyProof accepted a proof without its checkpoint", idx)
		}
	}
	p := alter(func(l []string) { l[2] = "index " + strconv.FormatInt(idx^1, 10) })
	if err := torchwood.VerifyProof(policy, rh, p); !errors.As(err, &recordErr) {
		t.Fatalf("index %d: torchwood.VerifyProof with index %d: %v, want a VerifyRecordError", idx, idx^1, err)
	}
	other := entry
	other[0] ^= 1
	if err := torchwood.VerifyProof(policy, tlog.RecordHash(other[:]), proof); !errors.As(err, &recordErr) {
		t.Fatalf("index %d: torchwood.VerifyProof with another entry: %v, want a VerifyRecordError", idx, err)
	}
	// The checkpoint's root hash line, just after origin and size.
	root := len(hashLines) + 3 + 1 + 2
	p = alter(func(l []string) {
		h, _ := base64.StdEncoding.DecodeString(l[root])
		h[0] ^= 1
		l[root] = base64.StdEncoding.EncodeToString(h)
	})
	if err := torchwood.VerifyProof(policy, rh, p); err == nil || errors.As(err, &recordErr) {
		t.Fatalf("index %d: torchwood.VerifyProof with an altered checkpoint: %v, want a signature error", idx, err)
	}
}
