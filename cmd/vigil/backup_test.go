package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/backup"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// TestBackupRestore runs vigil backup through a running server while
// sources submit, restores into a new directory, and checks: fsck clean,
// every submission acknowledged before the backup opens with its receipt
// and decrypts; a second backup copies only the new blobs; no plaintext
// (a canary in texts and files, raw/hex/base64/UTF-16) in the backup
// directory and no database copy left in the data directory; a changed
// file is refused naming it; an old snapshot is refused when a newer
// checkpoint is known (given, or recorded by the target) unless
// --allow-rollback, which the restored directory records.
func TestBackupRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	const pass = "backup test passphrase"
	env := vigilEnv(pass)
	root := t.TempDir()
	data := filepath.Join(root, "data")
	bk := filepath.Join(root, "bk")
	vigilRun(t, bin, env, "init", "--data", data, "--scrypt-work-factor", "10")
	srv := icrashStart(t, bin, env, data)
	defer func() {
		if srv.cmd.ProcessState == nil {
			srv.cmd.Process.Signal(syscall.SIGTERM)
			srv.cmd.Wait()
		}
	}()
	canary := canaryString()
	client := &http.Client{Timeout: 30 * time.Second}
	var acked []icrashSub
	submit := func(round, i int, withFile bool) icrashSub {
		s := icrashSub{round: round, text: fmt.Sprintf("backup round %d submission %d: %s", round, i, canary)}
		if withFile {
			s.fileName = fmt.Sprintf("r%d-%d.bin", round, i)
			s.file = canaryLarge(canary, 70<<10+i)
		}
		r, err := icrashSubmit(client, srv.url, s)
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		s.receipt = r
		return s
	}
	for i := range 12 {
		acked = append(acked, submit(0, i, i%2 == 0))
	}

	// Backup 1, under load: four sources keep submitting through the
	// public listener while it runs.
	underLoad, out1 := backupUnderLoad(t, client, srv.url, func(c, i int) icrashSub {
		return icrashSub{text: fmt.Sprintf("during backup %d/%d %s", c, i, canary), fileName: "d.bin", file: canaryLarge(canary, 5000+i)}
	}, data, func() string { return vigilRun(t, bin, env, "backup", "--data", data, "--to", bk) })
	if !strings.HasPrefix(out1, "snapshot 000001:") {
		t.Fatalf("backup 1 output %q", out1)
	}

	// Backup 2 copies exactly the blobs the target lacks.
	for i := range 5 {
		acked = append(acked, submit(2, i, true))
	}
	inTarget := countFiles(t, filepath.Join(bk, "blobs"))
	inData := len(globBlobs(t, data))
	out2 := vigilRun(t, bin, env, "backup", "--data", data, "--to", bk)
	t.Logf("backup 2: %s", strings.TrimSpace(out2))
	m := regexp.MustCompile(`blobs (\d+) \((\d+) new, copied\)`).FindStringSubmatch(out2)
	if m == nil {
		t.Fatalf("backup 2 output %q", out2)
	}
	total, copied := atoi(m[1]), atoi(m[2])
	if total != inData || copied != inData-inTarget || copied < 5 {
		t.Errorf("backup 2: %d blobs, %d copied; the data directory has %d, the target had %d (want %d copied)", total, copied, inData, inTarget, inData-inTarget)
	}
	if n := countFiles(t, filepath.Join(bk, "blobs")); n != inData {
		t.Errorf("target holds %d blobs, want %d", n, inData)
	}

	// Nothing in the backup directory is plaintext; times are coarse.
	needles := canaryNeedles(canary)
	for _, h := range canaryScan(t, bk, canary, needles) {
		t.Errorf("canary found in the backup directory: %s", h)
	}
	// The database is sealed: its plaintext metadata (kinds, coarse times,
	// the log) is not in the backup either.
	if b, err := os.ReadFile(filepath.Join(data, "vigil.db")); err != nil || !bytes.HasPrefix(b, []byte("SQLite format 3\x00")) {
		t.Errorf("control: the data directory's vigil.db does not start with the SQLite header (%v)", err)
	}
	filepath.WalkDir(bk, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("SQLite format 3\x00")) {
			t.Errorf("%s: a plaintext SQLite database in the backup directory", p)
		}
		if info, err := de.Info(); err == nil && !info.ModTime().Equal(info.ModTime().Truncate(time.Hour)) {
			t.Errorf("%s: modification time %s is finer than an hour", p, info.ModTime())
		}
		return nil
	})

	// A newer checkpoint than snapshot 1 holds, from the public listener.
	for i := range 3 {
		acked = append(acked, submit(3, i, false))
	}
	time.Sleep(200 * time.Millisecond) // a checkpoint (20ms grid) covers them
	known := filepath.Join(root, "known-checkpoint")
	resp, err := client.Get(srv.url + "/log/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	cp, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(known, cp, 0o600)
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()

	// The old snapshot is refused: given the newer checkpoint, and even
	// without it (the target recorded snapshot 2's checkpoint).
	old := filepath.Join(root, "old")
	res := vigilFail(t, bin, env, "restore", "--from", bk, "--data", old, "--snapshot", "000001", "--known-checkpoint", known)
	if !strings.Contains(res, "refusing to roll the log back: --known-checkpoint "+known) || !regexp.MustCompile(`would lose \d+ log entries`).MatchString(res) {
		t.Errorf("old snapshot with a newer known checkpoint: %s", res)
	}
	t.Logf("refused: %s", res)
	res = vigilFail(t, bin, env, "restore", "--from", bk, "--data", old, "--snapshot", "000001")
	if !strings.Contains(res, "refusing to roll the log back: the backup target's checkpoints/") {
		t.Errorf("old snapshot, target's record: %s", res)
	}
	if ents, _ := os.ReadDir(old); len(ents) != 0 {
		t.Errorf("a refused restore left %d files in %s", len(ents), old)
	}
	out := vigilRun(t, bin, env, "restore", "--from", bk, "--data", old, "--snapshot", "000001", "--known-checkpoint", known, "--allow-rollback")
	if !strings.Contains(out, "ROLLBACK ALLOWED") {
		t.Errorf("--allow-rollback output: %s", out)
	}
	if b, err := os.ReadFile(filepath.Join(old, backup.RollbackNote)); err != nil || !bytes.Contains(b, []byte("would lose")) {
		t.Errorf("%s: %q %v", backup.RollbackNote, b, err)
	}
	// Snapshot 1 was taken under load: fsck is clean and every submission
	// acknowledged before it started opens and decrypts.
	t.Logf("checking snapshot 1: %d submissions of the load acknowledged before it started, and the 12 before the load", len(underLoad))
	checkRestored(t, bin, env, old, pass, append(underLoad, acked[:12]...))

	// The newest snapshot restores: fsck clean, every submission
	// acknowledged before it (backup 2 started after acked[:17]) opens.
	restored := filepath.Join(root, "restored")
	out = vigilRun(t, bin, env, "restore", "--from", bk, "--data", restored)
	t.Logf("restore: %s", out)
	checkRestored(t, bin, env, restored, pass, acked[:17])
	// Restoring over an existing directory is refused.
	res = vigilFail(t, bin, env, "restore", "--from", bk, "--data", restored)
	if !strings.Contains(res, "is not empty") {
		t.Errorf("restore over a directory: %s", res)
	}

	// A sealed server backs up too (only the public recipient is needed).
	// Starting, it removes what a killed backup left in backup-tmp.
	leftover := filepath.Join(data, backup.TmpDir, "vigil.db")
	os.MkdirAll(filepath.Dir(leftover), 0o700)
	os.WriteFile(leftover, []byte("SQLite format 3\x00 left by a killed backup"), 0o600)
	srv = icrashStart(t, bin, vigilEnv(""), data)
	if _, err := os.Stat(filepath.Dir(leftover)); !os.IsNotExist(err) {
		t.Errorf("serve started with %s still there: %v", filepath.Dir(leftover), err)
	}
	out3 := vigilRun(t, bin, vigilEnv(""), "backup", "--data", data, "--to", bk)
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()
	if !strings.HasPrefix(out3, "snapshot 000003:") || !strings.Contains(out3, "(0 new, copied)") {
		t.Errorf("backup 3, sealed server, nothing new: %q", out3)
	}

	// A changed file is refused, naming it, and nothing is left.
	for _, victim := range []string{"blobs/" + filepath.Base(globBlobs(t, data)[0]), "snapshots/000003/vigil.db.age", "snapshots/000003/keys.age"} {
		p := filepath.Join(bk, filepath.FromSlash(victim))
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(orig)
		bad[len(bad)/2] ^= 1
		os.WriteFile(p, bad, 0o600)
		dst := filepath.Join(root, "tampered")
		res := vigilFail(t, bin, env, "restore", "--from", bk, "--data", dst)
		if !strings.Contains(res, victim+" is damaged or was changed") {
			t.Errorf("restore with %s changed: %s", victim, res)
		}
		if ents, _ := os.ReadDir(dst); len(ents) != 0 {
			t.Errorf("a refused restore left %d files", len(ents))
		}
		os.WriteFile(p, orig, 0o600)
	}
}

// backupUnderLoad starts four sources submitting to base (sub makes
// source c's i-th submission), lets them run, then runs backup while they
// go on, and stops them. It returns the submissions acknowledged before
// backup started and backup's output. It fails t if no submission was
// acknowledged while backup ran (not a backup under load), if one
// failed, or if the database copy is left in the data directory.
func backupUnderLoad(t *testing.T, client *http.Client, base string, sub func(c, i int) icrashSub, data string, run func() string) (before []icrashSub, out string) {
	t.Helper()
	var stop, started atomic.Bool
	var mu sync.Mutex
	var n atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for c := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				s := sub(c, i)
				r, err := icrashSubmit(client, base, s)
				if err != nil {
					errs <- err
					return
				}
				s.receipt = r
				if !started.Load() { // acknowledged before the backup started
					mu.Lock()
					before = append(before, s)
					mu.Unlock()
				}
				n.Add(1)
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // let the load start
	started.Store(true)
	n0 := n.Load()
	out = run()
	during := n.Load() - n0
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("submission during the backup: %v", err)
	}
	if during == 0 {
		t.Errorf("no submission was acknowledged while the backup ran: not a backup under load")
	}
	if len(before) == 0 {
		t.Error("no submission of the load was acknowledged before the backup started")
	}
	t.Logf("backup under load (%d submissions acknowledged during it): %s", during, strings.TrimSpace(out))
	if _, err := os.Stat(filepath.Join(data, backup.TmpDir)); !os.IsNotExist(err) {
		t.Errorf("%s left in the data directory after the backup: %v", backup.TmpDir, err)
	}
	return before, out
}

// checkRestored runs fsck on a restored directory (it must be clean) and
// opens every submission of subs with its receipt: text and file decrypt.
func checkRestored(t *testing.T, bin string, env []string, dir, pass string, subs []icrashSub) {
	t.Helper()
	fsck := vigilRun(t, bin, env, "fsck", "--data", dir)
	if strings.Contains(fsck, "PROBLEM") || !strings.Contains(fsck, "items:") {
		t.Errorf("fsck of %s:\n%s", dir, fsck)
	}
	d, err := datadir.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if err := icrashOpen(context.Background(), d, s); err != nil {
			t.Errorf("submission %q in %s: %v", s.text, dir, err)
		}
	}
}

// vigilFail runs bin, wants exit status 1 and returns its stderr.
func vigilFail(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("vigil %s: %v, want exit status 1\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stderr.String()
}

func globBlobs(t *testing.T, data string) []string {
	t.Helper()
	b, err := filepath.Glob(filepath.Join(data, "blobs", "??", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestRestoreAsksWitnesses backs up a witnessed log offline, lets it grow
// and get cosigned, then restores the old snapshot: the witness (vigil's
// own, over the network) answers that it cosigned a larger tree, and the
// restore is refused saying how many entries would be lost. With
// --no-witnesses (nothing else known) it restores, and fsck is clean.
func TestRestoreAsksWitnesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	tmp := t.TempDir()
	env := vigilEnv(interopPassphrase)
	data := filepath.Join(tmp, "data")
	out := vigilRun(t, bin, env, "init", "--data", data, "--origin", "restore.example/log", "--scrypt-work-factor", "10")
	logKey := regexp.MustCompile(`log key:\s+(\S+)`).FindStringSubmatch(out)[1]
	vkey, url := startVigilWitness(t, bin, filepath.Join(tmp, "wit"), "vigil.example/w", logKey)
	setWitnessPolicy(t, data, map[string]any{"witnesses": []map[string]any{{"name": "vigil-w", "vkey": vkey, "url": url}}})
	items := map[int64]interopItem{}
	interopAdd(t, bin, env, data, filepath.Join(tmp, "f1"), 0, 3, items)
	pub, stop := serveWitnessed(t, bin, env, data)
	waitCosigned(t, pub, 3, "vigil.example/w")
	stop()
	bk := filepath.Join(tmp, "bk")
	vigilRun(t, bin, env, "backup", "--data", data, "--to", bk) // offline
	interopAdd(t, bin, env, data, filepath.Join(tmp, "f2"), 3, 2, items)
	pub, stop = serveWitnessed(t, bin, env, data)
	waitCosigned(t, pub, 5, "vigil.example/w")
	stop()

	res := vigilFail(t, bin, env, "restore", "--from", bk, "--data", filepath.Join(tmp, "r1"))
	if !strings.Contains(res, "refusing to roll the log back: witness vigil-w has a checkpoint of 5 entries, snapshot 000001 holds 3: restoring it would lose 2 log entries") {
		t.Errorf("restore of the old snapshot: %s", res)
	}
	out = vigilRun(t, bin, env, "restore", "--from", bk, "--data", filepath.Join(tmp, "r2"), "--no-witnesses")
	if !strings.Contains(out, "cosigned checkpoint: 3 entries") || strings.Contains(out, "PROBLEM") {
		t.Errorf("restore --no-witnesses:\n%s", out)
	}
}
