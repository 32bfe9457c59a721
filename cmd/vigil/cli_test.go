package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real vigil binary the way an operator would, and
// check the promise of the README: exit status 0 on success; otherwise one
// line on stderr, a non-zero status, and (here) no change to the data
// directory.

const cliPassphrase = "cli test passphrase"

// cliBuild returns the vigil binary shared by all tests.
func cliBuild(t *testing.T) string { return vigilBin(t) }

type cliResult struct {
	stdout, stderr string
	code           int
}

func cliRun(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(cliBuild(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run vigil %s: %v", args[0], err)
	}
	return cliResult{stdout.String(), stderr.String(), code}
}

// cliOK runs a command that must succeed and returns its stdout.
func cliOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := cliRun(t, env, args...)
	if r.code != 0 {
		t.Fatalf("vigil %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// cliSnapshot hashes every file under dir; the lock file counts only by
// its presence, since each process writes its PID there.
func cliSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			snap[rel] = "dir"
		case rel == "lock":
			snap[rel] = "lock"
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			snap[rel] = fmt.Sprintf("%x", sha256.Sum256(b))
		default:
			snap[rel] = d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func cliDiff(before, after map[string]string) string {
	var diffs []string
	for k, v := range before {
		if after[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: %s -> %q", k, v, after[k]))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diffs = append(diffs, k+": new")
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

// cliFail runs a command that must fail: non-zero status, exactly one line
// on stderr containing every want, and no change under data.
func cliFail(t *testing.T, data string, env []string, want []string, args ...string) cliResult {
	t.Helper()
	before := cliSnapshot(t, data)
	r := cliRun(t, env, args...)
	after := cliSnapshot(t, data)
	cmdline := "vigil " + strings.Join(args, " ")
	if r.code == 0 {
		t.Errorf("%s: exit 0, want failure\nstdout: %s", cmdline, r.stdout)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("%s: stderr is not one line:\n%s", cmdline, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%s: stderr %q does not say %q", cmdline, strings.TrimSpace(r.stderr), w)
		}
	}
	if d := cliDiff(before, after); d != "" {
		t.Errorf("%s changed the data directory: %s", cmdline, d)
	}
	t.Logf("%s -> exit %d: %s", cmdline, r.code, strings.TrimSpace(r.stderr))
	return r
}

// cliInit creates a data directory with two items and a signed checkpoint.
func cliInit(t *testing.T) (data string, ids []string, vkey string) {
	t.Helper()
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	env := vigilEnv(cliPassphrase)
	cliOK(t, env, "init", "--data", data, "--origin", "example.org/log", "--scrypt-work-factor", "10")
	for i, body := range []string{"first testimony\n", "second testimony\n"} {
		f := filepath.Join(dir, fmt.Sprintf("file%d.txt", i))
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out := cliOK(t, env, "add", "--data", data, "-q", f)
		id, _, _ := strings.Cut(out, "\t")
		ids = append(ids, id)
	}
	var cfg struct {
		LogVKey string `json:"log_vkey"`
	}
	b, err := os.ReadFile(filepath.Join(data, "vigil.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.LogVKey == "" {
		t.Fatalf("vigil.json: %v", err)
	}
	return data, ids, cfg.LogVKey
}

func TestCLIHappyPath(t *testing.T) {
	data, ids, vkey := cliInit(t)
	env := vigilEnv(cliPassphrase)
	out := filepath.Join(t.TempDir(), "case.zip")
	cliOK(t, env, "bundle", "--data", data, "--out", out, ids[0], ids[1])
	r := cliRun(t, vigilEnv(""), "verify", out, "--log-key", vkey)
	if r.code != 0 || r.stderr != "" || strings.Count(r.stdout, "OK    ") != 2 {
		t.Fatalf("verify: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, id := range ids {
		if !strings.Contains(r.stdout, "OK    "+id+"  leaf ") {
			t.Errorf("verify does not report %s OK:\n%s", id, r.stdout)
		}
	}
	fsck := cliOK(t, env, "fsck", "--data", data)
	if !strings.Contains(fsck, "items: 2, each decrypts to its SHA-256") {
		t.Errorf("fsck:\n%s", fsck)
	}
	id := cliOK(t, env, "key", "export-identity", "--data", data)
	if !strings.Contains(id, "AGE-SECRET-KEY-1") {
		t.Errorf("export-identity printed no age identity")
	}
}

func TestCLIHelp(t *testing.T) {
	env := vigilEnv("")
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"init", "--help"}, {"add", "--help"}, {"serve", "--help"}, {"unseal", "--help"}, {"seal", "--help"},
		{"bundle", "--help"}, {"verify", "--help"}, {"fsck", "--help"}, {"key", "--help"},
		{"key", "export-identity", "--help"}, {"demo", "--help"}, {"init", "-h"},
	} {
		r := cliRun(t, env, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage") && !strings.Contains(r.stdout, "usage") {
			t.Errorf("vigil %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	// Usage errors: status 2, one line.
	for _, args := range [][]string{{}, {"frobnicate"}, {"add", "--data", t.TempDir()}, {"verify", "x.zip"}, {"init", "--bogus"}} {
		r := cliRun(t, env, args...)
		if r.code != 2 {
			t.Errorf("vigil %s: exit %d, want 2", strings.Join(args, " "), r.code)
		}
		if len(args) > 0 && strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("vigil %s: stderr not one line:\n%s", strings.Join(args, " "), r.stderr)
		}
	}
}

func TestCLIWrongPassphrase(t *testing.T) {
	data, ids, _ := cliInit(t)
	dir := t.TempDir()
	wrong := vigilEnv("not the passphrase")
	out := filepath.Join(dir, "case.zip")
	cliFail(t, data, wrong, []string{"wrong passphrase"}, "bundle", "--data", data, "--out", out, ids[0])
	if _, err := os.Stat(out); err == nil {
		t.Error("bundle with a wrong passphrase wrote its output")
	}
	r := cliFail(t, data, wrong, []string{"wrong passphrase"}, "key", "export-identity", "--data", data)
	if r.stdout != "" {
		t.Errorf("export-identity with a wrong passphrase printed %q", r.stdout)
	}
	cliFail(t, data, wrong, []string{"wrong passphrase"}, "fsck", "--data", data)
	f := filepath.Join(dir, "new.txt")
	os.WriteFile(f, []byte("new"), 0o644)
	cliFail(t, data, wrong, []string{"wrong passphrase"}, "add", "--data", data, f)
	// The same through --passphrase-file.
	pf := filepath.Join(dir, "pass")
	os.WriteFile(pf, []byte("still not it\n"), 0o600)
	cliFail(t, data, vigilEnv(""), []string{"wrong passphrase"}, "fsck", "--data", data, "--passphrase-file", pf)
	cliFail(t, data, vigilEnv(""), []string{"passphrase file", "missing"}, "fsck", "--data", data, "--passphrase-file", filepath.Join(dir, "missing"))
}

func TestCLIAddBadInput(t *testing.T) {
	data, _, _ := cliInit(t)
	dir := t.TempDir()
	env := vigilEnv(cliPassphrase)
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("fine"), 0o644)
	gooddir := filepath.Join(dir, "gooddir")
	os.Mkdir(gooddir, 0o755)
	os.WriteFile(filepath.Join(gooddir, "a.txt"), []byte("a"), 0o644)

	missing := filepath.Join(dir, "missing.txt")
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// As root (the usual CI container) permissions do not stop reading, so
	// "unreadable" is also exercised with a file that opens but cannot be
	// read: /proc/self/mem reads fail with EIO at offset 0.
	cases := []struct {
		name string
		bad  string
		want []string
	}{
		{"missing", missing, []string{"cannot read", "missing.txt", "no such file", "nothing was added"}},
		{"dangling symlink", dangling, []string{"cannot read", "dangling", "nothing was added"}},
		{"symlink loop", loop, []string{"cannot read", "loop", "nothing was added"}},
		{"FIFO", fifo, []string{"fifo", "not a regular file", "nothing was added"}},
		{"opens but cannot be read", "/proc/self/mem", []string{"cannot read", "/proc/self/mem", "nothing was added"}},
	}
	if os.Geteuid() != 0 {
		unreadable := filepath.Join(dir, "unreadable.txt")
		os.WriteFile(unreadable, []byte("secret"), 0o000)
		cases = append(cases, struct {
			name string
			bad  string
			want []string
		}{"unreadable (chmod 000)", unreadable, []string{"cannot read", "permission denied", "nothing was added"}})
	} else {
		t.Log("running as root: chmod 000 does not make a file unreadable; using /proc/self/mem, FIFOs and broken symlinks instead")
	}
	for _, c := range cases {
		// The bad file last, after files that are fine: still nothing is added.
		cliFail(t, data, env, c.want, "add", "--data", data, good, gooddir, c.bad)
		cliFail(t, data, env, c.want, "add", "--data", data, c.bad, good)
	}
	// A bad entry inside a directory: an unreadable subdirectory (non-root only).
	if os.Geteuid() != 0 {
		sub := filepath.Join(dir, "locked")
		os.Mkdir(sub, 0o000)
		defer os.Chmod(sub, 0o755)
		cliFail(t, data, env, []string{"cannot read", "locked", "nothing was added"}, "add", "--data", data, good, dir)
	}
	cliFail(t, data, env, []string{"not a vigil data directory", "vigil init"}, "add", "--data", filepath.Join(dir, "nodata"), good)
}

func TestCLISecondProcess(t *testing.T) {
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	cmd := exec.Command(cliBuild(t), "serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0")
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	var mu sync.Mutex
	cmd.Stdout = &cliLockedWriter{&mu, &stdout}
	cmd.Stderr = &cliLockedWriter{&mu, &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ready := strings.Contains(stdout.String(), "staff ")
		mu.Unlock()
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil serve did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	f := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(f, []byte("x"), 0o644)
	want := []string{"in use by another vigil process", fmt.Sprintf("pid %d", cmd.Process.Pid)}
	// add, fsck and bundle go through serve's staff socket (socket_test.go,
	// sock2_test.go); a holder without one (another command, an older
	// vigil) is named.
	if err := os.Remove(filepath.Join(data, "staff.sock")); err != nil {
		t.Fatal(err)
	}
	cliFail(t, data, env, want, "add", "--data", data, f)
	cliFail(t, data, env, want, "fsck", "--data", data)
	cliFail(t, data, env, want, "bundle", "--data", data, "--out", filepath.Join(t.TempDir(), "b.zip"), "0000000000000000000000000g")
}

type cliLockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *cliLockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestCLICorruptDatabase(t *testing.T) {
	data, ids, _ := cliInit(t)
	db := filepath.Join(data, "vigil.db")
	st, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(db + suffix); err == nil {
			t.Logf("note: %s exists after a clean close", filepath.Base(db+suffix))
		}
	}
	// Overwrite a page in the middle of the database with garbage.
	const page = 4096
	off := (st.Size() / page / 2) * page
	if off < page {
		off = page
	}
	garbage := bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x00}, page/4)
	f, err := os.OpenFile(db, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(garbage, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Logf("overwrote bytes %d-%d of a %d-byte vigil.db", off, off+page, st.Size())
	env := vigilEnv(cliPassphrase)
	want := []string{"integrity check failed", "restore"}
	cliFail(t, data, env, want, "fsck", "--data", data)
	cliFail(t, data, vigilEnv(""), want, "fsck", "--data", data)
	cliFail(t, data, env, want, "bundle", "--data", data, "--out", filepath.Join(t.TempDir(), "b.zip"), ids[0])
	g := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(g, []byte("x"), 0o644)
	cliFail(t, data, env, want, "add", "--data", data, g)
}

func TestCLIInitExisting(t *testing.T) {
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	cliFail(t, data, env, []string{"already exists", "refusing"}, "init", "--data", data, "--scrypt-work-factor", "10")
	// Any non-empty directory, not only a vigil one.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "thesis.pdf"), []byte("%PDF"), 0o644)
	cliFail(t, other, env, []string{"already exists", "refusing"}, "init", "--data", other, "--scrypt-work-factor", "10")
	// A short passphrase is refused before anything is created.
	fresh := filepath.Join(t.TempDir(), "fresh")
	r := cliRun(t, vigilEnv("short"), "init", "--data", fresh)
	if r.code == 0 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "passphrase") {
		t.Errorf("init with a short passphrase: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Errorf("init with a short passphrase created %s", fresh)
	}
}

func TestCLIVerifyBad(t *testing.T) {
	data, ids, vkey := cliInit(t)
	env := vigilEnv(cliPassphrase)
	dir := t.TempDir()
	out := filepath.Join(dir, "case.zip")
	cliOK(t, env, append([]string{"bundle", "--data", data, "--out", out}, ids...)...)

	// Another log's key (same origin, different key).
	other := t.TempDir()
	cliOK(t, env, "init", "--data", filepath.Join(other, "d"), "--origin", "example.org/log", "--scrypt-work-factor", "10")
	b, _ := os.ReadFile(filepath.Join(other, "d", "vigil.json"))
	var cfg struct {
		LogVKey string `json:"log_vkey"`
	}
	json.Unmarshal(b, &cfg)
	r := cliFail(t, data, vigilEnv(""), []string{"2 of 2 items failed verification"}, "verify", out, "--log-key", cfg.LogVKey)
	if strings.Count(r.stdout, "FAIL  ") != 2 || !strings.Contains(r.stdout, "checkpoint signature") {
		t.Errorf("verify with the wrong key, stdout:\n%s", r.stdout)
	}
	// The key as a file works; a key file that is not a key does not.
	kf := filepath.Join(dir, "vkey")
	os.WriteFile(kf, []byte(vkey+"\n"), 0o644)
	cliOK(t, vigilEnv(""), "verify", out, "--log-key", kf)
	os.WriteFile(kf, []byte("not a key\n"), 0o644)
	cliFail(t, data, vigilEnv(""), []string{"--log-key"}, "verify", out, "--log-key", kf)
	cliFail(t, data, vigilEnv(""), []string{"--log-key", "cannot read"}, "verify", out, "--log-key", filepath.Join(dir, "nokey"))
	cliFail(t, data, vigilEnv(""), []string{"--log-key"}, "verify", out, "--log-key", "garbage+key")

	// Not a zip.
	txt := filepath.Join(dir, "notes.zip")
	os.WriteFile(txt, []byte("these are not the bundles you are looking for\n"), 0o644)
	cliFail(t, data, vigilEnv(""), []string{"not a readable zip file"}, "verify", txt, "--log-key", vkey)
	cliFail(t, data, vigilEnv(""), []string{"cannot read", "no such file"}, "verify", filepath.Join(dir, "none.zip"), "--log-key", vkey)
	cliFail(t, data, vigilEnv(""), []string{"cannot read", "not a regular file"}, "verify", dir, "--log-key", vkey)
}
