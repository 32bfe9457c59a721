package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hr/vigil/internal/datadir"
)

// export-identity --out creates the file 0600 whatever the umask, refuses
// an existing file, and `> id.txt` under umask 022 ends up 0600 with a
// warning.
func TestExportIdentityPrivate(t *testing.T) {
	const pass = "export identity passphrase"
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	cfg, err := datadir.Init(dir, []byte(pass), datadir.Options{WorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_PASSPHRASE", pass)
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	check := func(path string) {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(path), st.Mode().Perm())
		}
		b, _ := os.ReadFile(path)
		ids, err := age.ParseIdentities(bytes.NewReader(b))
		if err != nil || len(ids) != 1 || ids[0].(*age.X25519Identity).Recipient().String() != cfg.Recipient {
			t.Errorf("%s: not the identity of %s: %v", filepath.Base(path), cfg.Recipient, err)
		}
	}

	out := filepath.Join(tmp, "id.txt")
	var stdout, stderr bytes.Buffer
	if code := Main(t.Context(), []string{"key", "export-identity", "--data", dir, "--out", out}, nil, &stdout, &stderr); code != 0 || stdout.Len() != 0 {
		t.Fatalf("--out: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	check(out)
	os.WriteFile(out, []byte("keep me"), 0o600)
	if code := Main(t.Context(), []string{"key", "export-identity", "--data", dir, "--out", out}, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "refusing to overwrite") {
		t.Errorf("--out over an existing file: exit %d, stderr %q", code, stderr.String())
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Errorf("the existing file was changed")
	}

	// The shell's `> id2.txt` under umask 022: a 0644 file.
	redirect := filepath.Join(tmp, "id2.txt")
	f, err := os.OpenFile(redirect, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	code := Main(t.Context(), []string{"key", "export-identity", "--data", dir}, nil, f, &stderr)
	f.Close()
	if code != 0 || !strings.Contains(stderr.String(), "warning: standard output was a file others could read (mode 0644); made it 0600") {
		t.Errorf("stdout redirected to a 0644 file: exit %d, stderr %q", code, stderr.String())
	}
	check(redirect)
}
