package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
)

const inboxPass = "inbox cli test passphrase"

// inboxInit makes a data directory in-process (fast scrypt) and returns its path.
func inboxInit(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if _, err := datadir.Init(data, []byte(inboxPass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	return data
}

// inboxOpen opens the data directory in-process; close it before running
// the binary.
func inboxOpen(t *testing.T, data string) *datadir.Dir {
	t.Helper()
	d, err := datadir.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// inboxFail runs the binary, wants exit status code, and returns stderr.
func inboxFail(t *testing.T, env []string, code int, args ...string) string {
	t.Helper()
	cmd := exec.Command(vigilBin(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != code {
		t.Fatalf("vigil %s: %v, want exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, code, stdout.Bytes(), stderr.Bytes())
	}
	if n := strings.Count(strings.TrimSpace(stderr.String()), "\n"); n != 0 {
		t.Errorf("vigil %s: stderr has %d lines, want one:\n%s", strings.Join(args, " "), n+1, stderr.Bytes())
	}
	return stderr.String()
}

func inboxAudits(t *testing.T, d *datadir.Dir) int64 {
	t.Helper()
	var n int64
	err := d.Store.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		n, err = tx.CountRecords(intake.KindAudit)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTokenCLI(t *testing.T) {
	bin := vigilBin(t)
	data := inboxInit(t)
	sealedEnv := vigilEnv("")
	env := vigilEnv(inboxPass)

	// create needs no passphrase; the secret is the only line on stdout.
	out := vigilRun(t, bin, sealedEnv, "token", "create", "--data", data, "--name", "Marina laptop", "--role", "admin")
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, "vgl_") || strings.Contains(secret, "\n") || len(secret) != 47 {
		t.Fatalf("token create printed %q", out)
	}
	out = vigilRun(t, bin, sealedEnv, "token", "create", "--data", data, "--name", "intake desk")
	other := strings.TrimSpace(out)

	out = vigilRun(t, bin, env, "token", "list", "--data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "ROLE") || strings.Contains(out, "vgl_") {
		t.Fatalf("token list:\n%s", out)
	}
	var id string
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		switch {
		case strings.HasSuffix(l, "Marina laptop"):
			id = f[0]
			if f[1] != "admin" || f[4] != "-" {
				t.Errorf("list line %q", l)
			}
		case strings.HasSuffix(l, "intake desk"):
			if f[1] != "intake" {
				t.Errorf("default role: %q", l)
			}
		default:
			t.Errorf("list line %q", l)
		}
	}

	d := inboxOpen(t, data)
	ts := newTokens(d)
	if tok, err := ts.Authenticate(context.Background(), secret); err != nil || tok.ID.String() != id {
		t.Fatalf("created token does not authenticate: %+v %v", tok, err)
	}
	audits := inboxAudits(t, d)
	d.Close()
	if audits != 2 {
		t.Errorf("%d audit records after two creates, want 2", audits)
	}

	if out := vigilRun(t, bin, env, "token", "revoke", "--data", data, id); strings.TrimSpace(out) != "revoked "+id {
		t.Errorf("revoke: %q", out)
	}
	out = vigilRun(t, bin, env, "token", "list", "--data", data)
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, id) && strings.Fields(l)[4] == "-" {
			t.Errorf("revoked token listed as not revoked: %q", l)
		}
	}
	d = inboxOpen(t, data)
	ts = newTokens(d)
	if _, err := ts.Authenticate(context.Background(), secret); err != auth.ErrUnauthorized {
		t.Errorf("revoked token: %v", err)
	}
	if _, err := ts.Authenticate(context.Background(), other); err != nil {
		t.Errorf("other token after revoke: %v", err)
	}
	d.Close()

	// Refusals: one line on stderr.
	inboxFail(t, sealedEnv, 2, "token", "create", "--data", data)
	inboxFail(t, sealedEnv, 2, "token", "create", "--data", data, "--name", "x", "--role", "root")
	inboxFail(t, sealedEnv, 1, "token", "create", "--data", data, "--name", "a/b")
	inboxFail(t, sealedEnv, 2, "token", "frobnicate", "--data", data)
	inboxFail(t, sealedEnv, 2, "token", "--data", data)
	inboxFail(t, sealedEnv, 1, "token", "list", "--data", data) // no passphrase, no terminal
	inboxFail(t, vigilEnv("wrong passphrase"), 1, "token", "list", "--data", data)
	if msg := inboxFail(t, env, 1, "token", "revoke", "--data", data, vigil.NewID().String()); !strings.Contains(msg, "not found") {
		t.Errorf("revoke unknown: %q", msg)
	}
	help := vigilRun(t, bin, env, "token", "--help")
	if !strings.Contains(help, "vigil serve") || !strings.Contains(help, "shown") && !strings.Contains(help, "once") {
		t.Errorf("token --help does not say when to run it or that the token shows once:\n%s", help)
	}
}

func TestInboxCLI(t *testing.T) {
	ctx := context.Background()
	bin := vigilBin(t)
	data := inboxInit(t)
	env := vigilEnv(inboxPass)

	if out := vigilRun(t, bin, env, "inbox", "--data", data); strings.TrimSpace(out) != "no submissions" {
		t.Errorf("empty inbox: %q", out)
	}

	// A submission through the Go API, while sealed, as the public side makes it.
	d := inboxOpen(t, data)
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0x00, 0x1b}, 50000)
	var files []*evidence.Pending
	for _, f := range []struct {
		name    string
		content []byte
	}{{"фото.jpg", photo}, {"list\x1b[2J.txt", []byte("names")}} {
		p, err := d.Evidence.Stage(ctx, bytes.NewReader(f.content), f.name, "")
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	text := "Меня задержали 3 марта.\nВторая строка.\x1b]0;pwned\x07 \u202eevil"
	receipt, sub, err := d.Intake.Submit(ctx, intake.Draft{Text: text, Language: "ru", Contact: "Signal"}, files)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()

	out := vigilRun(t, bin, env, "inbox", "--data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("inbox list:\n%s", out)
	}
	f := strings.Fields(lines[1])
	if f[0] != sub.String() || f[1] != "new" || f[len(f)-2] != "2" || f[len(f)-1] != "0" {
		t.Errorf("inbox list line %q", lines[1])
	}

	out = vigilRun(t, bin, env, "inbox", "--data", data, sub.String())
	for _, want := range []string{"Submission  " + sub.String(), "State       new", "Language    ru", "Contact     Signal",
		"  Меня задержали 3 марта.\n  Вторая строка.", `\x1b]0;pwned\x07`, `\u202eevil`, "фото.jpg", `list\x1b[2J.txt`,
		"195.3 KiB", "No messages yet."} {
		if !strings.Contains(out, want) {
			t.Errorf("inbox show lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("inbox show passed control characters to the terminal:\n%q", out)
	}

	if out := vigilRun(t, bin, env, "inbox", "--data", data, "reply", sub.String(), "Где вас держали?"); !strings.Contains(out, "sent to submission "+sub.String()) {
		t.Errorf("reply: %q", out)
	}
	if out := vigilRun(t, bin, env, "inbox", "--data", data, "state", sub.String(), "in_review"); strings.TrimSpace(out) != "submission "+sub.String()+" is now in_review" {
		t.Errorf("state: %q", out)
	}
	out = vigilRun(t, bin, env, "inbox", "--data", data)
	if f := strings.Fields(strings.Split(out, "\n")[1]); f[1] != "in_review" || f[len(f)-1] != "1" {
		t.Errorf("list after reply and state:\n%s", out)
	}
	out = vigilRun(t, bin, env, "inbox", "--data", data, sub.String())
	if !strings.Contains(out, "--- staff, ") || !strings.Contains(out, "  Где вас держали?") || !strings.Contains(out, "State       in_review") {
		t.Errorf("thread not shown:\n%s", out)
	}

	// file writes the exact bytes.
	d = inboxOpen(t, data)
	d.Vault.Unseal([]byte(inboxPass))
	v, err := d.Intake.Get(ctx, staffP, sub)
	if err != nil {
		t.Fatal(err)
	}
	auditsBefore := inboxAudits(t, d)
	d.Close()
	var photoID vigil.ID
	for _, fi := range v.Files {
		if fi.Name == "фото.jpg" {
			photoID = fi.ID
		}
	}
	if got := vigilRun(t, bin, env, "inbox", "--data", data, "file", sub.String(), photoID.String()); got != string(photo) {
		t.Errorf("inbox file: %d bytes, want %d", len(got), len(photo))
	}

	// The source reads the reply with the receipt, sealed; every CLI call
	// was an audit event by "cli".
	d = inboxOpen(t, data)
	defer d.Close()
	src, err := d.Intake.OpenReceipt(ctx, []byte(receipt))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := d.Intake.SourceView(ctx, src)
	if err != nil || len(sv.Messages) != 1 || sv.Messages[0].Text != "Где вас держали?" {
		t.Fatalf("source view: %+v %v", sv, err)
	}
	// empty list, list, show, reply, state, list, show; then Get (test), file.
	if n := inboxAudits(t, d); auditsBefore != 8 || n != 9 {
		t.Errorf("audit records: %d before the download, %d after, want 8 and 9", auditsBefore, n)
	}
	d.Close()

	// Refusals.
	if msg := inboxFail(t, env, 1, "inbox", "--data", data, vigil.NewID().String()); !strings.Contains(msg, "not found") {
		t.Errorf("unknown ID: %q", msg)
	}
	if msg := inboxFail(t, vigilEnv("wrong passphrase"), 1, "inbox", "--data", data); !strings.Contains(msg, "wrong passphrase") {
		t.Errorf("wrong passphrase: %q", msg)
	}
	inboxFail(t, env, 2, "inbox", "--data", data, "state", sub.String(), "deleted")
	inboxFail(t, env, 2, "inbox", "--data", data, "reply", sub.String())
	inboxFail(t, env, 1, "inbox", "--data", data, "reply", sub.String(), "   ")
	inboxFail(t, env, 1, "inbox", "--data", data, "not-an-id")
	inboxFail(t, env, 2, "inbox", "--data", data, "a", "b", "c", "d")
}

// TestInboxServe: vigil serve wires the inbox and the tokens into the staff
// listener, and token create works beside it.
func TestInboxServe(t *testing.T) {
	bin := vigilBin(t)
	data := inboxInit(t)
	secret := strings.TrimSpace(vigilRun(t, bin, vigilEnv(""), "token", "create", "--data", data, "--name", "api"))
	d := inboxOpen(t, data)
	if _, _, err := d.Intake.Submit(context.Background(), intake.Draft{Text: "via serve"}, nil); err != nil {
		t.Fatal(err)
	}
	d.Close()

	s := canaryServe(t, bin, data)
	get := func(token string) (int, []byte) {
		req, _ := http.NewRequest("GET", strings.TrimSuffix(s.staff, "/")+"/api/v1/submissions", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := get(""); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code, b := get(secret); code != 503 || !strings.Contains(string(b), "vault sealed") {
		t.Errorf("sealed: %d %s", code, b)
	}
	body, _ := json.Marshal(map[string]string{"passphrase": inboxPass})
	resp, err := http.Post(strings.TrimSuffix(s.staff, "/")+"/api/v1/unseal", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, b := get(secret)
	var list struct{ Submissions []intake.Summary }
	if json.Unmarshal(b, &list); code != 200 || len(list.Submissions) != 1 {
		t.Errorf("unsealed list: %d %s", code, b)
	}
	// token create beside serve goes through its staff socket
	// (socket_test.go), and the token works at once.
	x := strings.TrimSpace(vigilRun(t, bin, vigilEnv(""), "token", "create", "--data", data, "--name", "x"))
	if code, b := get(x); code != 200 {
		t.Errorf("token made beside serve: %d %s", code, b)
	}
	s.stop(t)
	if _, err := os.Stat(data); err != nil {
		t.Fatal(err)
	}
}

// staffP is the investigator the tests act as.
var staffP = vigil.Principal{Actor: "staff", Account: "staff", Role: vigil.RoleInvestigator}
