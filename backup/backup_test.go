package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
)

const pass = "backup unit passphrase"

func newDir(t testing.TB, path string) *datadir.Dir {
	t.Helper()
	if _, err := datadir.Init(path, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	return openDir(t, path)
}

func openDir(t testing.TB, path string) *datadir.Dir {
	t.Helper()
	d, err := datadir.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	return d
}

func submit(t testing.TB, d *datadir.Dir, n int, tag string) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		p, err := d.Evidence.Stage(ctx, strings.NewReader(fmt.Sprintf("file %s %d", tag, i)), "f.txt", "text/plain")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.Intake.Submit(ctx, intake.Draft{Text: fmt.Sprintf("text %s %d", tag, i)}, []*evidence.Pending{p}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
}

func backupDir(t testing.TB, d *datadir.Dir, tg Target) (Result, error) {
	t.Helper()
	snap, err := Take(context.Background(), d.Path, d.Vault.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	return Write(context.Background(), tg, Source{Dir: d.Path, Meta: snap.Meta, Seal: snap.Seal}, ConfigVerifier)
}

// TestOffline backs up and restores in process: the restored directory's
// log and fsck are clean, a second backup copies nothing old.
func TestOffline(t *testing.T) {
	root := t.TempDir()
	d := newDir(t, filepath.Join(root, "data"))
	defer d.Close()
	submit(t, d, 4, "a")
	tg, err := OpenTarget(context.Background(), filepath.Join(root, "bk"), true)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := backupDir(t, d, tg)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, d, 2, "b")
	r2, err := backupDir(t, d, tg)
	if err != nil {
		t.Fatal(err)
	}
	if r1.BlobsCopied != 4 || r2.BlobsCopied != 2 || r2.Blobs != 6 {
		t.Errorf("blobs copied %d then %d of %d; want 4, 2 of 6", r1.BlobsCopied, r2.BlobsCopied, r2.Blobs)
	}
	res, err := Restore(context.Background(), tg, filepath.Join(root, "r"), RestoreOptions{Passphrase: []byte(pass)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot != "000002" || !res.Fsck.OK("") || res.Fsck.Items != 6 {
		t.Errorf("restore: %+v", res)
	}
	// A wrong passphrase changes nothing.
	dst := filepath.Join(root, "r2")
	if _, err := Restore(context.Background(), tg, dst, RestoreOptions{Passphrase: []byte("wrong passphrase")}); err == nil {
		t.Error("restore with a wrong passphrase succeeded")
	}
	if ents, _ := os.ReadDir(dst); len(ents) != 0 {
		t.Errorf("a failed restore left %d files", len(ents))
	}
}

// TestManifestChecked changes the manifest itself: a hash, a blob name
// outside blobs/, a file not in a snapshot. Each is refused and nothing is
// written outside NEWDIR.
func TestManifestChecked(t *testing.T) {
	root := t.TempDir()
	d := newDir(t, filepath.Join(root, "data"))
	defer d.Close()
	submit(t, d, 2, "a")
	bk := filepath.Join(root, "bk")
	tg, _ := OpenTarget(context.Background(), bk, true)
	if _, err := backupDir(t, d, tg); err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(bk, "snapshots", "000001", "manifest.json")
	orig, _ := os.ReadFile(mpath)
	var m Manifest
	json.Unmarshal(orig, &m)
	for name, change := range map[string]func(m *Manifest){
		"keys.age hash": func(m *Manifest) {
			s := m.Files["keys.age"]
			s.SHA256 = strings.Repeat("0", 64)
			m.Files["keys.age"] = s
		},
		"blob name":  func(m *Manifest) { m.Blobs["../../../escape"] = FileSum{} },
		"extra file": func(m *Manifest) { m.Files["lock"] = FileSum{} },
		"tree size":  func(m *Manifest) { m.TreeSize++ },
	} {
		mm := m
		mm.Files, mm.Blobs = clone(m.Files), clone(m.Blobs)
		change(&mm)
		b, _ := json.Marshal(mm)
		os.WriteFile(mpath, b, 0o600)
		dst := filepath.Join(root, "r")
		_, err := Restore(context.Background(), tg, dst, RestoreOptions{Passphrase: []byte(pass)})
		if !errors.Is(err, vigil.ErrCorrupt) {
			t.Errorf("%s changed: %v, want ErrCorrupt", name, err)
		}
		if ents, _ := os.ReadDir(dst); len(ents) != 0 {
			t.Errorf("%s changed: a refused restore left %d files", name, len(ents))
		}
		if _, err := os.Stat(filepath.Join(root, "escape")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: a file was written outside NEWDIR", name)
		}
	}
	os.WriteFile(mpath, orig, 0o600)
}

func clone(m map[string]FileSum) map[string]FileSum {
	out := map[string]FileSum{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestFork: a known checkpoint of the same log that the snapshot's tree
// contradicts (a fork: the directory was copied and both copies went on)
// is refused even with AllowRollback; a data directory behind the
// target's record is not backed up.
func TestFork(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	d := newDir(t, data)
	submit(t, d, 2, "a")
	d.Close()
	copyDir := filepath.Join(root, "copy")
	if out, err := exec.Command("cp", "-a", data, copyDir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	d = openDir(t, data)
	defer d.Close()
	submit(t, d, 3, "original")
	c := openDir(t, copyDir)
	submit(t, c, 1, "copy")
	forked, err := os.ReadFile(filepath.Join(copyDir, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := OpenTarget(context.Background(), filepath.Join(root, "bk"), true)
	if _, err := backupDir(t, d, tg); err != nil {
		t.Fatal(err)
	}
	_, err = Restore(context.Background(), tg, filepath.Join(root, "r"), RestoreOptions{Passphrase: []byte(pass), AllowRollback: true,
		Known: []Known{{From: "the copy", Signed: forked}}})
	if !errors.Is(err, vigil.ErrCorrupt) || !strings.Contains(err.Error(), "a fork") {
		t.Errorf("restore against a forked checkpoint: %v", err)
	}
	// The target saw a larger log than the copy holds.
	c.Close()
	c = openDir(t, copyDir)
	defer c.Close()
	_, err = backupDir(t, c, tg)
	if !errors.Is(err, vigil.ErrConflict) || !strings.Contains(err.Error(), "rolled back") {
		t.Errorf("backup of a directory behind the target: %v", err)
	}
}

// TestTargetNames refuses names that would leave the target directory.
func TestTargetNames(t *testing.T) {
	l := &Local{Root: t.TempDir()}
	for _, n := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", ".tmp/x", "a\\b", "snapshots/./x"} {
		if err := l.Put(context.Background(), n, bytes.NewReader(nil)); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("Put(%q): %v, want ErrInvalid", n, err)
		}
	}
}

// TestS3TargetURLErrors refuses malformed S3 target URLs before any
// request, saying what is wrong and never repeating the secret.
func TestS3TargetURLErrors(t *testing.T) {
	const secret = "sEcReT-never-shown"
	for _, c := range []struct{ url, want string }{
		{"ftp://host/bucket", `scheme "ftp"`},
		{"s3://host", "names no bucket"},
		{"s3:///bucket", "names no host"},
		{"s3://KEY:" + secret + "@host/Bad_Bucket", `bucket "Bad_Bucket"`},
		{"s3://KEY:" + secret + "@host:99999/bucket", "bad port"},
		{"s3://KEY:" + secret + "@host/bucket?regoin=x", `unknown parameter "regoin"`},
		{"s3://KEY@host/bucket", "KEY:SECRET"},
		{"s3://host/bucket/a/../b", "prefix"},
		{"s3+http://KEY:" + secret + "@host:port/bucket", "not a URL"},
	} {
		_, err := OpenTarget(context.Background(), c.url, true)
		if !errors.Is(err, vigil.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OpenTarget(%q): %v, want ErrInvalid saying %q", c.url, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("OpenTarget(%q): the error repeats the secret: %v", c.url, err)
		}
	}
}

// FuzzManifest restores a real backup whose manifest is replaced by the
// fuzzer's bytes: never a panic, never a file outside NEWDIR, and a
// refused restore leaves NEWDIR empty.
func FuzzManifest(f *testing.F) {
	root := f.TempDir()
	d := newDir(f, filepath.Join(root, "data"))
	submit(f, d, 1, "a")
	bk := filepath.Join(root, "bk")
	tg, _ := OpenTarget(context.Background(), bk, true)
	if _, err := backupDir(f, d, tg); err != nil {
		f.Fatal(err)
	}
	d.Close()
	mpath := filepath.Join(bk, "snapshots", "000001", "manifest.json")
	orig, _ := os.ReadFile(mpath)
	f.Add(orig)
	f.Add(bytes.Replace(orig, []byte(`"blobs": {`), []byte(`"blobs": {"../x": {"size": 1, "sha256": ""},`), 1))
	f.Add([]byte(`{"format":"vigil-backup/1","snapshot":"000001","files":{"vigil.json":{}}}`))
	n := 0
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(mpath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		n++
		dst := filepath.Join(root, fmt.Sprintf("r%d", n))
		_, err := Restore(context.Background(), tg, dst, RestoreOptions{Passphrase: []byte(pass), AskWitnesses: false})
		if err != nil {
			if ents, _ := os.ReadDir(dst); len(ents) != 0 {
				t.Fatalf("refused restore (%v) left %d files", err, len(ents))
			}
		}
		os.RemoveAll(dst)
		for _, p := range []string{filepath.Join(root, "x"), filepath.Join(bk, "x")} {
			if _, err := os.Stat(p); err == nil {
				t.Fatalf("%s written", p)
			}
		}
	})
}
