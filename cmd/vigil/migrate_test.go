package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
)

var rootRE = regexp.MustCompile(`verified: log root (\S+) \((\d+) entries\), latest checkpoint (\d+)`)

// migrateRoot runs a migrate that must succeed, checks its output says every
// item decrypts, and returns the log root it verified.
func migrateRoot(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := cliRun(t, env, append([]string{"migrate", "--verify-items"}, args...)...)
	if r.code != 0 {
		t.Fatalf("vigil migrate %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	out := r.stdout
	// Progress, as lines when stderr is not a terminal.
	for _, w := range []string{"blobs 2/2\n", "log 2/2\n", "records 2/2\n", "checkpoints 2/2\n", "verify target blobs 2/2\n"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("progress on stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	m := rootRE.FindStringSubmatch(out)
	if m == nil || m[2] == "0" || m[3] == "0" {
		t.Fatalf("no log root, or an empty log, in:\n%s", out)
	}
	if !strings.Contains(out, "verified items:") || !strings.Contains(out, " 2 items decrypt to their hashes") {
		t.Fatalf("items not verified:\n%s", out)
	}
	return m[1]
}

// TestMigrateSQLite copies a directory to a new SQLite one: the same log
// root, items that decrypt, fsck clean, the source unchanged; a non-empty
// target is refused.
func TestMigrateSQLite(t *testing.T) {
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	before := cliSnapshot(t, data)
	to := filepath.Join(t.TempDir(), "copy")
	root := migrateRoot(t, env, "--from", data, "--to", to)
	if d := cliDiff(before, cliSnapshot(t, data)); d != "" {
		t.Errorf("the source changed:\n%s", d)
	}
	cliOK(t, env, "fsck", "--data", to)
	again := migrateRoot(t, env, "--from", to, "--to", filepath.Join(t.TempDir(), "back"))
	if again != root {
		t.Errorf("log root %s after the second copy, %s after the first", again, root)
	}
	cliFail(t, to, env, []string{"not empty"}, "migrate", "--from", data, "--to", to)
	r := cliFail(t, data, env, []string{"--to", "postgres://"}, "migrate", "--from", data, "--to", "mysql://u:secret@h/db")
	if strings.Contains(r.stderr, "secret") {
		t.Errorf("the error repeats the URL's password: %s", r.stderr)
	}
	cliFail(t, data, env, []string{"--blobs"}, "migrate", "--from", data, "--to", "postgres://u@h/db")
}

// TestMigratePostgresS3 migrates SQLite → PostgreSQL + S3 → a new SQLite
// directory: the same log root all the way, every item decrypts to its
// hash, fsck clean on each, the source unchanged; a target database that
// is not empty is refused.
func TestMigratePostgresS3(t *testing.T) {
	pg, s3 := pgtest.URL(t), s3test.URL(t)
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	before := cliSnapshot(t, data)
	pgDir := filepath.Join(t.TempDir(), "pg")
	root := migrateRoot(t, env, "--from", data, "--to", pg, "--blobs", s3, "--dir", pgDir)
	if d := cliDiff(before, cliSnapshot(t, data)); d != "" {
		t.Errorf("the source changed:\n%s", d)
	}
	cliOK(t, env, "fsck", "--data", data)
	cliOK(t, env, "fsck", "--data", pgDir)
	// The new directory holds no records or blobs of its own.
	if _, err := os.Stat(filepath.Join(pgDir, "vigil.db")); err == nil {
		t.Errorf("%s/vigil.db exists", pgDir)
	}
	back := filepath.Join(t.TempDir(), "back")
	if got := migrateRoot(t, env, "--from", pgDir, "--to", back); got != root {
		t.Errorf("log root %s back in SQLite, %s in PostgreSQL", got, root)
	}
	cliOK(t, env, "fsck", "--data", back)
	cliFail(t, data, env, []string{"not empty", "log entries"}, "migrate", "--from", data, "--to", pg, "--blobs", s3test.URL(t))
	cliFail(t, data, env, []string{"not empty", "blobs"}, "migrate", "--from", data, "--to", pgtest.URL(t), "--blobs", s3)
	// A non-empty bucket prefix is refused before the new directory is written.
	nd := filepath.Join(t.TempDir(), "new")
	cliFail(t, data, env, []string{"not empty", "2 blobs"}, "migrate", "--from", data, "--to", nd, "--blobs", s3)
	if _, err := os.Stat(nd); err == nil {
		t.Errorf("%s was written by a refused migrate", nd)
	}
}

// TestMigrateTokensAccounts: API tokens and staff accounts, records outside
// the envelope kinds, come along too.
func TestMigrateTokensAccounts(t *testing.T) {
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	cliOK(t, env, "token", "create", "--data", data, "--name", "migrated-token", "--role", "analyst")
	cliOK(t, append(env, "VIGIL_ACCOUNT_PASSPHRASE=a long staff passphrase"), "account", "create", "--data", data, "--name", "migrated-account", "--role", "investigator")
	to := filepath.Join(t.TempDir(), "copy")
	cliOK(t, env, "migrate", "-q", "--from", data, "--to", to)
	if out := cliOK(t, env, "token", "list", "--data", to); !strings.Contains(out, "migrated-token") {
		t.Errorf("the token was not migrated: %s", out)
	}
	if out := cliOK(t, env, "account", "list", "--data", to); !strings.Contains(out, "migrated-account") {
		t.Errorf("the account was not migrated: %s", out)
	}
}
