package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// TestCanaryNoPlaintextAtRest ingests files whose content and names carry a
// random canary, drives every path that handles plaintext (add, bundle to a
// path outside the data directory, fsck, key export, unseal/seal/sign, a
// server unsealed and sealed over the staff API, reads), and checks that the
// canary appears in no file of the data directory, raw or hex- or
// base64-encoded, nor in any file name: while an ingest is half written,
// while the database is open with an unmerged WAL, and after everything
// closed.
func TestCanaryNoPlaintextAtRest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vigil binary")
	}
	tmp := t.TempDir()
	bin := vigilBin(t)
	canary := canaryString()
	needles := canaryNeedles(canary)
	t.Logf("canary %s", canary)

	data := filepath.Join(tmp, "data")
	src := filepath.Join(tmp, "src")
	out := filepath.Join(tmp, "out") // bundles go here, outside the data directory
	for _, d := range []string{src, filepath.Join(src, "sub-"+canary), out} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string][]byte{
		"note-" + canary + ".txt":  []byte("testimony: I saw " + canary + " at the checkpoint.\n"),
		"video-" + canary + ".bin": canaryLarge(canary, 3<<20),
		canary:                     []byte("only the name carries the canary"),
		"exact.txt":                []byte(canary),
		canary + ".empty":          nil,
		filepath.Join("sub-"+canary, "in-subdir.txt"):   []byte("deep " + canary),
		filepath.Join("sub-"+canary, canary+"-id.json"): []byte(`{"witness":"` + canary + `"}`),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(src, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Positive control: the scanner finds the canary where it is.
	if hits := canaryScan(t, src, canary, needles); len(hits) == 0 {
		t.Fatal("scanner does not find the canary in the source files")
	}

	env := vigilEnv(canaryPassphrase)
	// 1. The binary: init, add (which unseals and signs), bundle, fsck, export-identity.
	vigilRun(t, bin, env, "init", "--data", data, "--origin", "canary.test/log", "--scrypt-work-factor", "10")
	added := vigilRun(t, bin, env, "add", "--data", data, src)
	var ids []string
	for line := range strings.Lines(added) {
		id, _, _ := strings.Cut(line, "\t")
		ids = append(ids, id)
	}
	if len(ids) != len(files) {
		t.Fatalf("vigil add printed %d items, want %d:\n%s", len(ids), len(files), added)
	}
	bundlePath := filepath.Join(out, "case-"+canary+".zip")
	vigilRun(t, bin, env, append([]string{"bundle", "--data", data, "--out", bundlePath}, ids...)...)
	vigilRun(t, bin, env, append([]string{"bundle", "--data", data, "--no-content", "--out", filepath.Join(out, "nocontent.zip")}, ids...)...)
	vigilRun(t, bin, env, "fsck", "--data", data)
	vigilRun(t, bin, env, "key", "export-identity", "--data", data)
	// Positive control: the bundle outside does carry the names and content.
	if !canaryZipHas(t, bundlePath, canary) {
		t.Error("the bundle does not carry the canary: is the content reaching vigil at all?")
	}
	canaryAssertClean(t, "after the commands", data, canary, needles)

	// 2. In process: ingest with a scan while the blob is half written,
	// bundle, read, seal/unseal/sign, then scan with the database open.
	ctx := context.Background()
	d, err := datadir.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if d != nil {
			d.Close()
		}
	}()
	if err := d.Vault.Unseal([]byte(canaryPassphrase)); err != nil {
		t.Fatal(err)
	}
	scanned := false
	hook := &canaryHookReader{r: bytes.NewReader(canaryLarge(canary, 2<<20)), after: 1 << 20, hook: func() {
		tmps, _ := os.ReadDir(filepath.Join(data, "blobs", "tmp"))
		if len(tmps) == 0 {
			t.Error("no temporary blob during the ingest")
		}
		canaryAssertClean(t, "during an ingest", data, canary, needles)
		scanned = true
	}}
	it, err := d.Evidence.Add(ctx, hook, "hooked-"+canary+".bin", "")
	if err != nil {
		t.Fatal(err)
	}
	if !scanned {
		t.Error("the mid-ingest scan did not run")
	}
	it2, err := d.Evidence.Add(ctx, strings.NewReader("second "+canary), canary+".txt", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exportBundle(ctx, d, []vigil.ID{it.ID, it2.ID}, true, filepath.Join(out, "inproc.zip")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []vigil.ID{it.ID, it2.ID} {
		got, err := d.Evidence.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := d.Evidence.Open(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Contains(b, []byte(canary)) {
			t.Fatalf("read back item: %v", err)
		}
	}
	if _, err := d.Vault.LogSigner().Sign([]byte("checkpoint " + canary)); err != nil {
		t.Fatal(err)
	}
	d.Vault.Seal()
	if err := d.Vault.Unseal([]byte(canaryPassphrase)); err != nil {
		t.Fatal(err)
	}
	if err := d.Vault.WriteIdentity(io.Discard); err != nil {
		t.Fatal(err)
	}
	d.Vault.Seal()
	// One more item while sealed, for the server below to sign.
	if _, err := d.Evidence.Add(ctx, strings.NewReader("sealed intake "+canary), "sealed-"+canary, ""); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(data, "vigil.db-wal")); err != nil || st.Size() == 0 {
		t.Fatalf("expected an unmerged WAL while the database is open: %v", err)
	}
	canaryAssertClean(t, "with the database open", data, canary, needles)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = nil
	canaryAssertClean(t, "after closing", data, canary, needles)

	// 3. A server, unsealed and sealed over the staff API; scan while it runs.
	srv := canaryServe(t, bin, data)
	vigilRun(t, bin, env, "unseal", "--staff", srv.staff)
	want := int64(len(files) + 3)
	canaryWaitCheckpoint(t, srv.pub, want)
	vigilRun(t, bin, env, "seal", "--staff", srv.staff)
	canaryAssertClean(t, "while vigil serve runs", data, canary, needles)
	srv.stop(t)
	canaryAssertClean(t, "at the end", data, canary, needles)
}

const canaryPassphrase = "canary test passphrase"

func canaryString() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// canaryLarge returns n bytes of random data with the canary written every
// few KiB, at varying offsets (so across age's 64 KiB chunk boundaries too).
func canaryLarge(canary string, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	for i, step := 0, 4093; i+len(canary) <= n; i += step {
		copy(b[i:], canary)
	}
	for k := 1; k*65536 < n; k++ {
		copy(b[k*65536-len(canary)/2:], canary)
	}
	return b
}

type canaryNeedle struct {
	name string
	b    []byte
}

// canaryNeedles returns the canary's forms to look for: raw, upper case, hex,
// base64 (standard and URL alphabets, at all three byte alignments), UTF-16.
func canaryNeedles(canary string) []canaryNeedle {
	c := []byte(canary)
	ns := []canaryNeedle{
		{"raw", c},
		{"upper", []byte(strings.ToUpper(canary))},
		{"hex", []byte(hex.EncodeToString(c))},
		{"HEX", []byte(strings.ToUpper(hex.EncodeToString(c)))},
	}
	for _, enc := range []struct {
		name string
		e    *base64.Encoding
	}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}} {
		for off := range 3 {
			// Encode after off filler bytes and keep only the characters that
			// depend on canary bytes alone.
			s := enc.e.EncodeToString(append(make([]byte, off), c...))
			first, last := (off+2)/3, (off+len(c))/3
			ns = append(ns, canaryNeedle{enc.name + "@" + string(rune('0'+off)), []byte(s[4*first : 4*last])})
		}
	}
	var le, be []byte
	for _, u := range utf16.Encode([]rune(canary)) {
		le = append(le, byte(u), byte(u>>8))
		be = append(be, byte(u>>8), byte(u))
	}
	return append(ns, canaryNeedle{"utf16le", le}, canaryNeedle{"utf16be", be})
}

// canaryScan walks dir and returns every file or name holding a needle.
func canaryScan(t *testing.T, dir, canary string, needles []canaryNeedle) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) { // a temporary file renamed away meanwhile
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.Contains(strings.ToLower(rel), canary) {
			hits = append(hits, rel+": name")
		}
		if !de.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n.b) {
				hits = append(hits, rel+": "+n.name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", dir, err)
	}
	return hits
}

// canaryAssertClean fails the test if the canary is anywhere in the data
// directory, and checks that the scan covered the files it should.
func canaryAssertClean(t *testing.T, when, data, canary string, needles []canaryNeedle) {
	t.Helper()
	for _, h := range canaryScan(t, data, canary, needles) {
		t.Errorf("%s: canary found in %s", when, h)
	}
	for _, f := range []string{"vigil.json", "keys.age", "vigil.db", "lock", "blobs/tmp"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("%s: expected %s in the data directory: %v", when, f, err)
		}
	}
	blobs, _ := filepath.Glob(filepath.Join(data, "blobs", "??", "*"))
	if len(blobs) == 0 {
		t.Errorf("%s: no blobs scanned", when)
	}
}

// canaryHookReader calls hook once, after more than after bytes were read.
type canaryHookReader struct {
	r     io.Reader
	after int64
	n     int64
	hook  func()
}

func (h *canaryHookReader) Read(p []byte) (int, error) {
	if h.hook != nil && h.n > h.after {
		h.hook()
		h.hook = nil
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	return n, err
}

func canaryZipHas(t *testing.T, path, canary string) bool {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.Contains(f.Name, canary) {
			return true
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte(canary)) {
			return true
		}
	}
	return false
}

type canaryServer struct {
	cmd   *exec.Cmd
	out   *canaryBuffer
	pub   string
	staff string
	done  chan struct{} // closed when the process exited
	err   error         // its exit error, once done
}

// canaryBuffer is a bytes.Buffer safe for one writer and one reader.
type canaryBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func newCanaryBuffer() *canaryBuffer { return &canaryBuffer{mu: make(chan struct{}, 1)} }

func (b *canaryBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.b.Write(p)
}

func (b *canaryBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.b.String()
}

// canaryServe starts vigil serve sealed (no passphrase in its environment)
// on ephemeral ports.
func canaryServe(t *testing.T, bin, data string) *canaryServer {
	t.Helper()
	return serveStart(t, bin, vigilEnv(""), data, "--checkpoint-interval", "50ms")
}

func (s *canaryServer) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("vigil serve: %v", s.err)
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Fatal("vigil serve did not stop")
	}
}

// canaryWaitCheckpoint waits until the server at the public URL pub
// publishes a checkpoint of n entries (signed at the next boundary of its
// checkpoint interval).
func canaryWaitCheckpoint(t *testing.T, pub string, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got string
		resp, err := http.Get(strings.TrimSuffix(pub, "/") + "/log/checkpoint")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// origin, size, root hash, blank line, signatures
			if lines := strings.Split(string(b), "\n"); resp.StatusCode == 200 && len(lines) > 1 {
				got = lines[1]
			}
		}
		if got == fmt.Sprint(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of %d entries published: size %q, %v", n, got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCanaryScanner checks the scanner itself: each encoding of the canary,
// embedded at any offset in a file or in a name, is found.
func TestCanaryScanner(t *testing.T) {
	canary := canaryString()
	needles := canaryNeedles(canary)
	c := []byte(canary)
	var forms [][]byte
	for off := range 3 {
		pre := bytes.Repeat([]byte{0xee}, off)
		forms = append(forms,
			[]byte(base64.StdEncoding.EncodeToString(append(pre, c...))),
			[]byte(base64.URLEncoding.EncodeToString(append(append(pre, c...), 0xff))),
			[]byte(base64.RawStdEncoding.EncodeToString(append(pre, c...))))
	}
	forms = append(forms, []byte(hex.EncodeToString(c)), []byte(strings.ToUpper(hex.EncodeToString(c))), c)
	for i, f := range forms {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "f"), append(append([]byte("prefix "), f...), " suffix"...), 0o600)
		if len(canaryScan(t, dir, canary, needles)) == 0 {
			t.Errorf("form %d (%q) not found", i, f)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"+canary), nil, 0o600)
	if len(canaryScan(t, dir, canary, needles)) == 0 {
		t.Error("canary in a file name not found")
	}
	dir = t.TempDir()
	var u16 []byte
	for _, r := range canary {
		u16 = append(u16, byte(r), 0)
	}
	os.WriteFile(filepath.Join(dir, "f"), u16, 0o600)
	if len(canaryScan(t, dir, canary, needles)) == 0 {
		t.Error("UTF-16 canary not found")
	}
}
