package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIAccount runs vigil account as an operator would: create the first
// admin right after init (no admin passphrase needed), refuse bad input
// without changing anything, list, change the role, disable and enable;
// and the account's name and passphrase are nowhere on disk.
func TestCLIAccount(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := vigilEnv(cliPassphrase)
	cliOK(t, env, "init", "--data", data, "--origin", "example.org/log", "--scrypt-work-factor", "10")

	noAdmin := append(vigilEnv(""), "VIGIL_ACCOUNT_PASSPHRASE=first admin passphrase")
	id := strings.TrimSpace(cliOK(t, noAdmin, "account", "create", "--data", data, "--name", "Olga Romanova", "--role", "admin", "--lang", "ru"))
	if len(id) == 0 || strings.Contains(id, " ") {
		t.Fatalf("create printed %q, want the ID", id)
	}

	cliFail(t, data, noAdmin, []string{"exists"}, "account", "create", "--data", data, "--name", "OLGA ROMANOVA")
	cliFail(t, data, append(vigilEnv(""), "VIGIL_ACCOUNT_PASSPHRASE=short"), []string{"at least 12 characters"}, "account", "create", "--data", data, "--name", "Ivan")
	cliFail(t, data, noAdmin, []string{"--role"}, "account", "create", "--data", data, "--name", "Ivan", "--role", "root")
	cliFail(t, data, noAdmin, []string{"--name"}, "account", "create", "--data", data)
	cliFail(t, data, env, []string{"not found"}, "account", "role", "--data", data, "Nobody", "analyst")
	cliFail(t, data, vigilEnv("wrong passphrase"), []string{"passphrase"}, "account", "list", "--data", data)

	list := cliOK(t, env, "account", "list", "--data", data)
	if !strings.Contains(list, id) || !strings.Contains(list, "admin") || !strings.Contains(list, "Olga Romanova") || !strings.Contains(list, "ru") {
		t.Fatalf("list:\n%s", list)
	}
	cliOK(t, env, "account", "role", "--data", data, "olga romanova", "investigator")
	cliOK(t, env, "account", "disable", "--data", data, "Olga Romanova")
	list = cliOK(t, env, "account", "list", "--data", data)
	if !strings.Contains(list, "investigator") || strings.Contains(list, "\t-\t") {
		t.Fatalf("list after role and disable:\n%s", list)
	}
	line := strings.Split(strings.TrimSpace(list), "\n")[1]
	if strings.Fields(line)[5] == "-" {
		t.Fatalf("account not shown disabled: %q", line)
	}
	// Disabled: not found by name any more, only by ID.
	cliFail(t, data, env, []string{"not found"}, "account", "disable", "--data", data, "Olga Romanova")
	cliOK(t, env, "account", "enable", "--data", data, id)

	// Seized disk: neither name nor passphrase in any file.
	err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, c := range []string{"Olga Romanova", "olga romanova", "first admin passphrase"} {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("%s holds %q", p, c)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
