package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/backup"
)

// POST /api/v1/backup: admin only; it answers a JSON line then age
// ciphertext of a SQLite database, also sealed on the local socket (only
// the public recipient is needed), and leaves no plaintext copy behind.
func TestBackupRoute(t *testing.T) {
	e := inboxSetup(t)
	e.unseal(t)
	id := identity(t, e)
	e.api.Backup = func(ctx context.Context) (*backup.Snapshot, error) {
		return backup.Take(ctx, e.d.Path, e.d.Vault.Recipient())
	}
	analyst, _, err := e.tokens.Create(context.Background(), "test", "analyst", auth.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "POST", "/api/v1/backup", analyst, `{}`); r.code != http.StatusForbidden {
		t.Errorf("analyst: %d %s, want 403", r.code, r.body)
	}
	if r := e.do(t, "POST", "/api/v1/backup", "", `{}`); r.code != http.StatusUnauthorized {
		t.Errorf("no token: %d %s, want 401", r.code, r.body)
	}
	r := e.do(t, "POST", "/api/v1/backup", e.token, `{}`)
	if r.code != http.StatusOK {
		t.Fatalf("admin: %d %s", r.code, r.body)
	}
	// Sealed, as the command line over the staff socket (auth.Local).
	e.d.Vault.Seal()
	e.api.Local = func(*http.Request) bool { return true }
	r = e.do(t, "POST", "/api/v1/backup", "", `{}`)
	if r.code != http.StatusOK {
		t.Fatalf("sealed, local: %d %s", r.code, r.body)
	}
	line, rest, ok := bytes.Cut(r.body, []byte("\n"))
	var meta backup.SnapshotMeta
	if !ok || json.Unmarshal(line, &meta) != nil || meta.TreeSize < 1 || meta.Root == "" {
		t.Fatalf("header line %q", line)
	}
	if bytes.Contains(rest, []byte("SQLite format 3")) || !bytes.HasPrefix(rest, []byte("age-encryption.org/v1\n")) {
		t.Fatalf("body is not age ciphertext: %.40q", rest)
	}
	pr, err := age.Decrypt(bytes.NewReader(rest), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(pr)
	if err != nil || !bytes.HasPrefix(plain, []byte("SQLite format 3\x00")) {
		t.Fatalf("decrypted snapshot: %v %.20q", err, plain)
	}
	if _, err := os.Stat(filepath.Join(e.d.Path, backup.TmpDir)); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", backup.TmpDir, err)
	}
}

func identity(t *testing.T, e *inboxEnv) age.Identity {
	t.Helper()
	var buf bytes.Buffer
	if err := e.d.Vault.WriteIdentity(&buf); err != nil {
		t.Fatal(err)
	}
	ids, err := age.ParseIdentities(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return ids[0]
}
