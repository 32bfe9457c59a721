package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vigil-hr/vigil/backup"
	s3blob "github.com/vigil-hr/vigil/blob/s3"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
)

// TestBackupRestorePostgresS3 backs up a data directory whose records are
// in PostgreSQL and blobs in S3 (a real server of each), through a running
// server while sources submit, into an S3 bucket prefix; then restores it
// into a new SQLite directory and into a new PostgreSQL database and
// bucket prefix: fsck clean (every item decrypted), every submission
// acknowledged before the backup opens with its receipt. The second backup
// uploads only the new blobs; an old snapshot over a newer log is refused
// saying how many entries would be lost; an offline backup works too, to
// S3 and to a local directory.
func TestBackupRestorePostgresS3(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	pg, blobs, bk := pgtest.URL(t), s3test.URL(t), s3test.URL(t)
	bin := vigilBin(t)
	const pass = "backup test passphrase"
	env := vigilEnv(pass)
	root := t.TempDir()
	data := filepath.Join(root, "data")
	vigilRun(t, bin, env, "init", "--data", data, "--scrypt-work-factor", "10")
	if err := backup.SetBackends(filepath.Join(data, "vigil.json"), datadir.Backends{Store: pg, Blobs: blobs}); err != nil {
		t.Fatal(err)
	}
	srv := icrashStart(t, bin, env, data)
	defer func() {
		if srv.cmd.ProcessState == nil {
			srv.cmd.Process.Signal(syscall.SIGTERM)
			srv.cmd.Wait()
		}
	}()
	client := &http.Client{Timeout: 30 * time.Second}
	var acked []icrashSub
	submit := func(tag string, i int, withFile bool) {
		s := icrashSub{text: fmt.Sprintf("pg+s3 backup %s %d", tag, i)}
		if withFile {
			s.fileName, s.file = tag+".bin", bytes.Repeat([]byte(tag), 9000+i)
		}
		r, err := icrashSubmit(client, srv.url, s)
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		s.receipt = r
		acked = append(acked, s)
	}
	for i := range 6 {
		submit("before", i, i%2 == 0)
	}

	// Backup 1 under load: four sources submit while it runs.
	underLoad, out1 := backupUnderLoad(t, client, srv.url, func(c, i int) icrashSub {
		return icrashSub{text: fmt.Sprintf("during %d/%d", c, i), fileName: "d.bin", file: bytes.Repeat([]byte{byte(c)}, 3000+i)}
	}, data, func() string { return vigilRun(t, bin, env, "backup", "--data", data, "--to", bk) })
	if !strings.HasPrefix(out1, "snapshot 000001:") {
		t.Fatalf("backup 1 output %q", out1)
	}

	// Backup 2 uploads exactly the blobs the target lacks.
	for i := range 3 {
		submit("second", i, true)
	}
	inTarget := countObjects(t, bk, "blobs/")
	inStore := countObjects(t, blobs, "")
	out2 := vigilRun(t, bin, env, "backup", "--data", data, "--to", bk)
	t.Logf("backup 2: %s", strings.TrimSpace(out2))
	m := regexp.MustCompile(`blobs (\d+) \((\d+) new, copied\)`).FindStringSubmatch(out2)
	if m == nil {
		t.Fatalf("backup 2 output %q", out2)
	}
	if total, copied := atoi(m[1]), atoi(m[2]); total != inStore || copied != inStore-inTarget || copied < 3 {
		t.Errorf("backup 2: %d blobs, %d copied; the store has %d, the target had %d", total, copied, inStore, inTarget)
	}
	if n := countObjects(t, bk, "blobs/"); n != inStore {
		t.Errorf("the target holds %d blobs, want %d", n, inStore)
	}

	// A backup that would copy other blobs than the server's is refused.
	res := vigilFail(t, bin, env, "backup", "--data", data, "--to", bk, "--blobs", s3test.URL(t))
	if !strings.Contains(res, "the snapshot's blobs are in s3+http://") {
		t.Errorf("backup with another --blobs than the server's: %s", res)
	}

	// The log grows past snapshot 2; keep its checkpoint.
	for i := range 2 {
		submit("third", i, false)
	}
	time.Sleep(200 * time.Millisecond) // a checkpoint (20ms grid) covers them
	resp, err := client.Get(srv.url + "/log/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(root, "known-checkpoint")
	if err := os.WriteFile(known, cp, 0o600); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()

	// Offline (no server): the same, from one read-only transaction.
	out3 := vigilRun(t, bin, env, "backup", "--data", data, "--to", bk)
	if !strings.HasPrefix(out3, "snapshot 000003:") || !strings.Contains(out3, "(0 new, copied)") {
		t.Errorf("backup 3, offline, nothing new: %q", out3)
	}

	// The same directory to a local disk, and back.
	local := filepath.Join(root, "local-bk")
	if out := vigilRun(t, bin, env, "backup", "--data", data, "--to", local); !strings.Contains(out, fmt.Sprintf("(%d new, copied)", inStore)) {
		t.Errorf("backup of PostgreSQL + S3 to a local directory: %q", out)
	}
	fromLocal := filepath.Join(root, "from-local")
	vigilRun(t, bin, env, "restore", "--from", local, "--data", fromLocal)
	checkRestored(t, bin, env, fromLocal, pass, acked)

	// Snapshot 1 into a new SQLite directory: refused over the newer log
	// (the target's record of snapshot 3), saying what would be lost.
	old := filepath.Join(root, "old")
	res = vigilFail(t, bin, env, "restore", "--from", bk, "--data", old, "--snapshot", "000001")
	if !strings.Contains(res, "refusing to roll the log back: the backup target's checkpoints/") || !regexp.MustCompile(`would lose \d+ log entries`).MatchString(res) {
		t.Errorf("old snapshot, the target's record: %s", res)
	}
	t.Logf("refused: %s", strings.TrimSpace(res))
	res = vigilFail(t, bin, env, "restore", "--from", bk, "--data", old, "--snapshot", "000002", "--known-checkpoint", known)
	if !regexp.MustCompile(`refusing to roll the log back: .* has a checkpoint of \d+ entries, snapshot 000002 holds \d+: restoring it would lose \d+ log entries`).MatchString(res) {
		t.Errorf("snapshot 2 with a newer known checkpoint: %s", res)
	}
	if ents, _ := os.ReadDir(old); len(ents) != 0 {
		t.Errorf("a refused restore left %d files in %s", len(ents), old)
	}
	vigilRun(t, bin, env, "restore", "--from", bk, "--data", old, "--snapshot", "000001", "--allow-rollback")
	checkRestored(t, bin, env, old, pass, append(underLoad, acked[:6]...))

	// The newest snapshot into a new SQLite directory: it names no
	// PostgreSQL or S3 (not the backed-up server's).
	restored := filepath.Join(root, "restored")
	out := vigilRun(t, bin, env, "restore", "--from", bk, "--data", restored, "--known-checkpoint", known)
	t.Logf("restore: %s", out)
	checkRestored(t, bin, env, restored, pass, acked)
	if cfg, err := datadir.ReadConfig(restored); err != nil || cfg.Backends != (datadir.Backends{}) {
		t.Errorf("restored vigil.json names backends %+v (%v)", cfg.Backends, err)
	}

	// Into a new PostgreSQL database and bucket prefix.
	pg2, blobs2 := pgtest.URL(t), s3test.URL(t)
	intoPG := filepath.Join(root, "into-pg")
	out = vigilRun(t, bin, env, "restore", "--from", bk, "--data", intoPG, "--store", pg2, "--blobs", blobs2)
	t.Logf("restore into PostgreSQL + S3: %s", out)
	if !strings.Contains(out, "moved to the new backends and verified") {
		t.Errorf("restore --store --blobs output:\n%s", out)
	}
	if cfg, err := datadir.ReadConfig(intoPG); err != nil || cfg.Backends != (datadir.Backends{Store: pg2, Blobs: blobs2}) {
		t.Errorf("restored vigil.json names backends %+v (%v)", cfg.Backends, err)
	}
	for _, f := range []string{"vigil.db", "blobs"} {
		if _, err := os.Stat(filepath.Join(intoPG, f)); err == nil {
			t.Errorf("%s left in a directory restored into PostgreSQL + S3", f)
		}
	}
	if n := countObjects(t, blobs2, ""); n != inStore {
		t.Errorf("the new bucket prefix holds %d blobs, want %d", n, inStore)
	}
	checkRestored(t, bin, env, intoPG, pass, acked)
	// Not into a database that is not empty.
	res = vigilFail(t, bin, env, "restore", "--from", bk, "--data", filepath.Join(root, "again"), "--store", pg2)
	if !strings.Contains(res, "not empty") {
		t.Errorf("restore into a non-empty database: %s", res)
	}
}

// TestBackupS3Tampered backs up to S3, changes objects in the bucket one at
// a time (a blob, the sealed database, the keys, the manifest's
// checkpoint), and wants each restore refused naming the changed object,
// leaving nothing behind.
func TestBackupS3Tampered(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bk := s3test.URL(t)
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	out := cliOK(t, env, "backup", "--data", data, "--to", bk)
	if !strings.HasPrefix(out, "snapshot 000001:") {
		t.Fatalf("backup: %s", out)
	}
	c, loc := s3Client(t, bk)
	ctx := context.Background()
	blobs := listObjects(t, bk, "blobs/")
	if len(blobs) == 0 {
		t.Fatal("no blob in the backup")
	}
	dst := filepath.Join(t.TempDir(), "restored")
	for _, victim := range []string{blobs[0], "snapshots/000001/vigil.db.age", "snapshots/000001/keys.age"} {
		key := loc.Prefix + victim
		obj, err := c.GetObject(ctx, loc.Bucket, key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		orig, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(orig)
		bad[len(bad)/2] ^= 1
		putObject(t, c, loc.Bucket, key, bad)
		r := cliRun(t, env, "restore", "--from", bk, "--data", dst)
		if r.code == 0 || !strings.Contains(r.stderr, victim+" is damaged or was changed") {
			t.Errorf("restore with %s changed: exit %d: %s", victim, r.code, r.stderr)
		}
		if ents, _ := os.ReadDir(dst); len(ents) != 0 {
			t.Errorf("a refused restore left %d files", len(ents))
		}
		putObject(t, c, loc.Bucket, key, orig)
	}
	// A missing blob is refused by name too.
	if err := c.RemoveObject(ctx, loc.Bucket, loc.Prefix+blobs[0], minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := cliRun(t, env, "restore", "--from", bk, "--data", dst); r.code == 0 || !strings.Contains(r.stderr, blobs[0]) {
		t.Errorf("restore with %s removed: exit %d: %s", blobs[0], r.code, r.stderr)
	}
	// The next backup puts the missing blob back (it is not in the target
	// with its size), and the restore works.
	out = cliOK(t, env, "backup", "--data", data, "--to", bk)
	if !strings.Contains(out, "(1 new, copied)") {
		t.Errorf("backup after a blob was removed from the target: %s", out)
	}
	cliOK(t, env, "restore", "--from", bk, "--data", dst)
	cliOK(t, env, "fsck", "--data", dst)
}

// TestBackupS3URLErrors: bad S3 URLs for --to and --from are refused by
// the setting's name, before anything is written, without repeating the
// secret; so are an unreachable endpoint and a missing bucket.
func TestBackupS3URLErrors(t *testing.T) {
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	const secret = "sEcReT-never-shown"
	nd := filepath.Join(t.TempDir(), "new")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"backup", "--data", data, "--to", "ftp://KEY:" + secret + "@host/bucket"}, []string{"--to", `scheme "ftp"`}},
		{[]string{"backup", "--data", data, "--to", "s3://KEY:" + secret + "@host"}, []string{"--to", "names no bucket"}},
		{[]string{"backup", "--data", data, "--to", "s3://KEY:" + secret + "@host/No_Such"}, []string{"--to", `bucket "No_Such"`}},
		{[]string{"backup", "--data", data, "--to", "s3+http://KEY:" + secret + "@127.0.0.1:1/bucket"}, []string{"--to", "cannot reach the endpoint"}},
		{[]string{"restore", "--data", nd, "--from", "s3://KEY:" + secret + "@host/bucket?x=1"}, []string{"--from", `unknown parameter "x"`}},
		{[]string{"restore", "--data", nd, "--from", "s3://KEY@host/bucket"}, []string{"--from", "KEY:SECRET"}},
		{[]string{"restore", "--data", nd, "--from", "s3+http://KEY:" + secret + "@127.0.0.1:1/bucket"}, []string{"--from", "cannot reach the endpoint"}},
		{[]string{"restore", "--data", nd, "--from", "x", "--store", "mysql://u:" + secret + "@h/db"}, []string{"--store", "postgres://"}},
		{[]string{"restore", "--data", nd, "--from", "x", "--blobs", "http://u:" + secret + "@h/b"}, []string{"--blobs", "s3://"}},
	} {
		r := cliFail(t, data, env, c.want, c.args...)
		if strings.Contains(r.stderr, secret) {
			t.Errorf("vigil %s: the error repeats the secret: %s", strings.Join(c.args, " "), r.stderr)
		}
		if _, err := os.Stat(nd); err == nil {
			t.Errorf("vigil %s wrote %s", strings.Join(c.args, " "), nd)
		}
	}
	// A real server without the bucket.
	u := s3test.URL(t)
	loc, err := s3blob.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	missing := strings.Replace(u, "/"+loc.Bucket+"/", "/no-such-bucket-here/", 1)
	r := cliFail(t, data, env, []string{"--to", `bucket "no-such-bucket-here" does not exist`}, "backup", "--data", data, "--to", missing)
	if pu, err := url.Parse(u); err != nil {
		t.Fatal(err)
	} else if sec, _ := pu.User.Password(); sec == "" || strings.Contains(r.stderr, sec) {
		t.Errorf("the error repeats the secret: %s", r.stderr)
	}
}

// s3Client returns a client of the test server and the parsed URL u.
func s3Client(t *testing.T, u string) (*minio.Client, s3blob.Location) {
	t.Helper()
	loc, err := s3blob.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s3test.Client(t)
	return c, loc
}

// listObjects lists the objects under the store URL u's prefix and then
// sub, as names relative to u's prefix.
func listObjects(t *testing.T, u, sub string) []string {
	t.Helper()
	c, loc := s3Client(t, u)
	var names []string
	for obj := range c.ListObjects(context.Background(), loc.Bucket, minio.ListObjectsOptions{Prefix: loc.Prefix + sub, Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		names = append(names, strings.TrimPrefix(obj.Key, loc.Prefix))
	}
	return names
}

func countObjects(t *testing.T, u, sub string) int { return len(listObjects(t, u, sub)) }

func putObject(t *testing.T, c *minio.Client, bucket, key string, b []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}
