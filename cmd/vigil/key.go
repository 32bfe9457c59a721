package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/vault"
)

func runKey(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(e.stdout, "Usage: vigil key export-identity --data DIR [--passphrase-file FILE] > identity.txt\n\nSubcommands:\n  export-identity  write the age identity to stdout (run vigil key export-identity --help for its flags)\n")
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "export-identity" {
		return usageError{"usage: vigil key export-identity --data DIR > identity.txt"}
	}
	fs := newFlags(e, "key export-identity", "--data DIR > identity.txt\n\nNeeds the admin passphrase. It reads only vigil.json and keys.age, never the\ndatabase, so it works while vigil serve runs (without asking the server).")
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	v, err := openVault(*data)
	if err != nil {
		return err
	}
	pass, err := passphrase(e, *pfile, false)
	if err != nil {
		return err
	}
	if err := v.Unseal(pass); err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	defer v.Seal()
	return v.WriteIdentity(e.stdout)
}

// openVault opens the data directory's key file, sealed, without taking
// the directory's lock: keys.age is written once, by init, and read only
// here and at unseal.
func openVault(dir string) (*vault.Vault, error) {
	b, err := os.ReadFile(filepath.Join(dir, "vigil.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a vigil data directory (hint: create one with vigil init --data %s)", dir, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var cfg datadir.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", vigil.ErrCorrupt, filepath.Join(dir, "vigil.json"), err)
	}
	if cfg.Format != 1 {
		return nil, fmt.Errorf("data directory format %d is not supported by this vigil", cfg.Format)
	}
	v, err := vault.Open(filepath.Join(dir, "keys.age"), cfg.Public)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", vigil.ErrCorrupt, err)
	}
	return v, nil
}
