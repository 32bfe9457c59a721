package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/staffsock"
)

// The commands that open the data directory work the same while vigil
// serve holds it: they go through its staff socket. Each read is run
// offline, then against the running server, and must print the same.
func TestCLIWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data, ids, vkey := cliInit(t)
	ctx := context.Background()
	d := inboxOpen(t, data)
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0x00, 0x1b}, 30000)
	staged, err := d.Evidence.Stage(ctx, bytes.NewReader(photo), "photo\x1b[2J.jpg", "")
	if err != nil {
		t.Fatal(err)
	}
	_, sub, err := d.Intake.Submit(ctx, intake.Draft{Text: "they came at night\x1b]0;pwned\x07"}, []*evidence.Pending{staged})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Vault.Unseal([]byte(cliPassphrase)); err != nil {
		t.Fatal(err)
	}
	v, err := d.Intake.Get(ctx, staffP, sub)
	if err != nil || len(v.Files) != 1 {
		t.Fatalf("submission: %+v, %v", v, err)
	}
	fileID := v.Files[0].ID.String()
	d.Close()
	env := vigilEnv(cliPassphrase)
	sealedEnv := vigilEnv("")

	// Offline: a bundle (it signs a checkpoint), the reads, and fsck last
	// (the inbox reads add audit leaves).
	reads := [][]string{
		{"inbox", "--data", data},
		{"inbox", "--data", data, sub.String()},
		{"token", "list", "--data", data},
		{"fsck", "--data", data},
	}
	offToken := cliOK(t, sealedEnv, "token", "create", "--data", data, "--name", "offline", "--role", "admin")
	offIdentity := cliOK(t, env, "key", "export-identity", "--data", data)
	if got := cliOK(t, env, "inbox", "--data", data, "file", sub.String(), fileID); got != string(photo) {
		t.Errorf("inbox file offline: %d bytes, want the %d sent", len(got), len(photo))
	}
	offBundle := filepath.Join(t.TempDir(), "off.zip")
	cliOK(t, env, "bundle", "--data", data, "--out", offBundle, ids[0], sub.String())
	offVerify := cliOK(t, env, "verify", offBundle, "--log-key", vkey)
	offline := map[string]string{}
	for _, args := range reads {
		offline[strings.Join(args, " ")] = cliOK(t, env, args...)
	}

	// Online, unsealed at start. fsck first: nothing has changed since.
	s := serveStart(t, bin, env, data)
	startCP, slot := publishedCheckpoint(t, s.pub), time.Now().Truncate(time.Hour)
	if err := staffsock.Check(staffsock.Path(data)); err != nil {
		t.Fatalf("serve's staff socket: %v", err)
	}
	for _, args := range append([][]string{reads[3]}, reads[:3]...) {
		// No passphrase: the server's own state counts.
		got := cliOK(t, sealedEnv, args...)
		if want := offline[strings.Join(args, " ")]; got != want {
			t.Errorf("vigil %s while serving:\n%s\noffline:\n%s", strings.Join(args, " "), got, want)
		}
	}
	// export-identity reads only keys.age, with the passphrase.
	if got := cliOK(t, env, "key", "export-identity", "--data", data); got != offIdentity || !strings.Contains(got, "AGE-SECRET-KEY-") {
		t.Errorf("key export-identity while serving differs from offline")
	}
	// A file a source sent, byte for byte.
	if got := cliOK(t, sealedEnv, "inbox", "--data", data, "file", sub.String(), fileID); got != string(photo) {
		t.Errorf("inbox file while serving: %d bytes, want the %d sent", len(got), len(photo))
	}
	onBundle := filepath.Join(t.TempDir(), "on.zip")
	cliOK(t, sealedEnv, "bundle", "--data", data, "--out", onBundle, ids[0], sub.String())
	onVerify := cliOK(t, env, "verify", onBundle, "--log-key", vkey)
	treeSize := regexp.MustCompile(`in a tree of \d+`)
	if a, b := treeSize.ReplaceAllString(onVerify, ""), treeSize.ReplaceAllString(offVerify, ""); a != b || strings.Count(a, "OK ") != 2 {
		t.Errorf("bundle while serving verifies as\n%s\noffline as\n%s", onVerify, offVerify)
	}

	// The first token can be made while serving, and works on the staff
	// listener at once.
	onToken := cliOK(t, sealedEnv, "token", "create", "--data", data, "--name", "online", "--role", "admin")
	secret := regexp.MustCompile(`^vgl_[A-Za-z0-9_-]+\n$`)
	if !secret.MatchString(onToken) || !secret.MatchString(offToken) {
		t.Fatalf("token create printed %q online, %q offline; want the secret alone", onToken, offToken)
	}
	req, _ := http.NewRequest("GET", s.staff+"api/v1/submissions", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(onToken))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("token made over the socket: GET submissions = %d", resp.StatusCode)
	}
	list := cliOK(t, sealedEnv, "token", "list", "--data", data)
	if !strings.Contains(list, "offline") || !strings.Contains(list, "online") {
		t.Errorf("token list while serving:\n%s", list)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if out := cliOK(t, sealedEnv, "token", "revoke", "--data", data, id); !strings.Contains(out, "revoked "+id) {
		t.Errorf("token revoke while serving: %q", out)
	}
	if out := cliOK(t, sealedEnv, "inbox", "--data", data, "state", sub.String(), "in_review"); !strings.Contains(out, "now in_review") {
		t.Errorf("inbox state while serving: %q", out)
	}
	out := cliOK(t, sealedEnv, "inbox", "--data", data, "reply", sub.String(), "we read you")
	if !strings.Contains(out, "sent to submission") {
		t.Fatalf("inbox reply while serving: %q", out)
	}
	// The reply is newer than the latest checkpoint: a running server
	// signs none off its grid (it would date the tree), so it says when.
	msg := strings.Fields(out)[1]
	servingFail(t, sealedEnv, []string{"newer than the latest checkpoint"}, "bundle", "--data", data, "--out", filepath.Join(t.TempDir(), "m.zip"), msg)
	// (Unless the hour turned: serve signs at each boundary of the default
	// interval.)
	if cp := publishedCheckpoint(t, s.pub); cp != startCP && time.Now().Truncate(time.Hour).Equal(slot) {
		t.Errorf("the commands while serving published a checkpoint:\n%s\nat start:\n%s", cp, startCP)
	}
	// Bad input gets the same kind of answer as offline, and changes nothing.
	servingFail(t, sealedEnv, []string{"not found"}, "inbox", "--data", data, "0000000000000000000000000g")

	// Sealed: reads that need the vault say so and how to unseal; fsck
	// checks what it can, as offline without a passphrase.
	cliOK(t, env, "seal", "--staff", s.staff)
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "inbox", "--data", data)
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "bundle", "--data", data, "--out", filepath.Join(t.TempDir(), "x.zip"), ids[0])
	sealedOnline := cliOK(t, sealedEnv, "fsck", "--data", data)
	if !strings.Contains(sealedOnline, "records: not checked") {
		t.Errorf("fsck against a sealed server:\n%s", sealedOnline)
	}
	servingFail(t, env, []string{"--sweep needs vigil serve stopped"}, "fsck", "--data", data, "--sweep")
	s.stop(t)
	if _, err := os.Lstat(staffsock.Path(data)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("staff socket after serve stopped: %v, want it removed", err)
	}
	if got := cliOK(t, sealedEnv, "fsck", "--data", data); got != sealedOnline {
		t.Errorf("sealed fsck offline:\n%s\nagainst the sealed server:\n%s", got, sealedOnline)
	}
	if got := cliOK(t, env, "inbox", "--data", data); !strings.Contains(got, "in_review") {
		t.Errorf("offline inbox after the online state change:\n%s", got)
	}
}

// fsck lists every bad item, offline and through a running server, then
// exits 1; a server killed with SIGKILL leaves its socket, which neither
// the offline commands nor the next serve mind.
func TestFsckEveryProblemAndStaleSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data, ids, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	// Damage both items' blobs.
	n := 0
	filepath.WalkDir(filepath.Join(data, "blobs"), func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			b[len(b)-20] ^= 0xff
			os.WriteFile(p, b, 0o600)
			n++
		}
		return nil
	})
	if n != len(ids) {
		t.Fatalf("damaged %d blobs, want %d", n, len(ids))
	}
	fsck := func(when string) string {
		t.Helper()
		r := servingFail(t, env, []string{"2 problems"}, "fsck", "--data", data)
		for _, id := range ids {
			if !strings.Contains(r.stdout, "PROBLEM items: item "+id) {
				t.Errorf("fsck %s does not list item %s:\n%s", when, id, r.stdout)
			}
		}
		return r.stdout
	}
	offline := fsck("offline")
	s := serveStart(t, bin, env, data)
	if got := fsck("while serving"); got != offline {
		t.Errorf("fsck while serving:\n%s\noffline:\n%s", got, offline)
	}
	s.cmd.Process.Kill()
	<-s.done
	if err := staffsock.Check(staffsock.Path(data)); err != nil {
		t.Fatalf("after SIGKILL the socket should be left behind: %v", err)
	}
	if got := fsck("after SIGKILL"); got != offline {
		t.Errorf("fsck after SIGKILL:\n%s\nbefore:\n%s", got, offline)
	}
	s = serveStart(t, bin, env, data)
	if got := fsck("served again"); got != offline {
		t.Errorf("fsck on the next serve:\n%s\nbefore:\n%s", got, offline)
	}
	s.stop(t)
}

// servingFail runs a command that must fail with exit 1 and a one-line
// error saying each of want. (cliFail's check that the data directory did
// not change cannot hold beside a running server, or after a SIGKILL,
// whose SQLite files the next opener tidies.)
func servingFail(t *testing.T, env []string, want []string, args ...string) cliResult {
	t.Helper()
	r := cliRun(t, env, args...)
	cmdline := "vigil " + strings.Join(args, " ")
	if r.code != 1 {
		t.Errorf("%s: exit %d, want 1\nstdout: %s", cmdline, r.code, r.stdout)
	}
	if strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("%s: stderr is not one line:\n%s", cmdline, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%s: stderr %q does not say %q", cmdline, strings.TrimSpace(r.stderr), w)
		}
	}
	t.Logf("%s -> exit %d: %s", cmdline, r.code, strings.TrimSpace(r.stderr))
	return r
}

// vigil init --admin-token FILE writes the first admin token to a new 0600
// file; it works on the staff listener at once. An existing FILE is refused
// before anything is created.
func TestInitAdminToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	dir := t.TempDir()
	env := vigilEnv(cliPassphrase)
	data, tokFile := filepath.Join(dir, "data"), filepath.Join(dir, "admin-token")
	os.WriteFile(tokFile, []byte("keep"), 0o600)
	r := cliRun(t, env, "init", "--data", data, "--scrypt-work-factor", "10", "--admin-token", tokFile)
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("init over an existing token file: exit %d, %s", r.code, r.stderr)
	}
	if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused init created the data directory: %v", err)
	}
	os.Remove(tokFile)
	out := cliOK(t, env, "init", "--data", data, "--scrypt-work-factor", "10", "--admin-token", tokFile)
	if strings.Contains(out, "vgl_") {
		t.Errorf("init printed the token it wrote to a file:\n%s", out)
	}
	fi, err := os.Stat(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode())
	}
	b, _ := os.ReadFile(tokFile)
	secret := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^vgl_[A-Za-z0-9_-]+$`).MatchString(secret) {
		t.Fatalf("token file holds %q", b)
	}
	s := serveStart(t, bin, env, data)
	req, _ := http.NewRequest("GET", s.staff+"api/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("init's admin token: GET /api/v1/tokens = %d, want 200", resp.StatusCode)
	}
	s.stop(t)
	// "-" prints it instead.
	out = cliOK(t, env, "init", "--data", filepath.Join(dir, "data2"), "--scrypt-work-factor", "10", "--admin-token", "-")
	if !regexp.MustCompile(`admin API token \(shown only this once\): vgl_[A-Za-z0-9_-]+\n`).MatchString(out) {
		t.Errorf("init --admin-token - printed:\n%s", out)
	}
}

// acts, figures, search and export print the same against a running
// server as offline, and import works through it.
func TestCaseReadsWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	dir := t.TempDir()
	env := vigilEnv(cliPassphrase)
	data := filepath.Join(dir, "data")
	vigilRun(t, bin, env, "init", "--data", data, "--scrypt-work-factor", "10")
	canary := map[string]string{}
	for _, k := range []string{"place", "party", "person", "title", "quote"} {
		canary[k] = canaryString()
	}
	file := filepath.Join(dir, "case.json")
	writeFile(t, file, caseFile(t, canary))
	vigilRun(t, bin, env, "import", "--data", data, file)
	reads := [][]string{
		{"acts", "--data", data}, {"acts", "--data", data, "--json", "--lang", "ru"},
		{"figures", "--data", data}, {"figures", "--data", data, "--by", "place", "--json"},
		{"figures", "--data", data, "--by", "incident"}, {"figures", "--data", data, "--by", "month"},
		{"search", "--data", data, "region"}, {"search", "--data", data, "--json", canary["quote"]},
		{"search", "--data", data, "--kind", "place,incident", "--limit", "5", "wave"},
		{"export", "--data", data},
	}
	offline := make([]string, len(reads))
	for i, args := range reads {
		offline[i] = vigilRun(t, bin, env, args...)
	}
	s := serveStart(t, bin, env, data)
	for i, args := range reads {
		got := vigilRun(t, bin, vigilEnv(""), args...)
		if got != offline[i] {
			t.Errorf("vigil %s while serving:\n%s\noffline:\n%s", strings.Join(args, " "), got, offline[i])
		}
		if strings.Count(got, "\n") < 2 {
			t.Errorf("vigil %s printed little:\n%s", strings.Join(args, " "), got)
		}
	}
	if r := cliRun(t, vigilEnv(""), "search", "--data", data, "--limit", "500", "wave"); r.code != 2 || !strings.Contains(r.stderr, "at most 100") {
		t.Errorf("search --limit 500 while serving: exit %d, %s", r.code, r.stderr)
	}
	// import: the same file again changes nothing; a changed title is one
	// new version, and the export shows it.
	if out := vigilRun(t, bin, vigilEnv(""), "import", "--data", data, file); out != "imported 13 records: 0 new, 0 updated, 13 unchanged\n" {
		t.Errorf("import again while serving: %q", out)
	}
	changed := filepath.Join(dir, "changed.json")
	writeFile(t, changed, bytes.Replace(caseFile(t, canary), []byte("Wave of detentions"), []byte("Second wave of detentions"), 1))
	if out := vigilRun(t, bin, vigilEnv(""), "import", "--data", data, changed); out != "imported 13 records: 0 new, 1 updated, 12 unchanged\n" {
		t.Errorf("import of a change while serving: %q", out)
	}
	if out := vigilRun(t, bin, vigilEnv(""), "export", "--data", data); !strings.Contains(out, "Second wave of detentions") {
		t.Errorf("export after the import while serving lacks the change")
	}
	// A file with problems is refused before the server is asked, as
	// offline, and stores nothing.
	writeFile(t, changed, []byte(`{"format": "vigil-case/1", "places": [{"key": 1}]}`))
	r := cliRun(t, vigilEnv(""), "import", "--data", data, changed)
	if off := cliRun(t, env, "import", "--data", filepath.Join(dir, "nodata"), changed); r.code != 1 || r.stderr != off.stderr {
		t.Errorf("bad import while serving: exit %d\n%s\noffline:\n%s", r.code, r.stderr, off.stderr)
	}
	s.stop(t)
}
