package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/staffsock"
	"github.com/vigil-hr/vigil/vault"
)

// runKey runs vigil key export-identity: the age identity, which decrypts
// everything, in the stock age format, to --out FILE (created 0600, never
// over an existing file) or to stdout. When stdout is a regular file that
// the group or others may read (`> id.txt` under the usual umask 022), it
// is made 0600 before the identity is written, with a warning: a process
// that opened the empty file before that could still read it, which --out
// avoids.
func runKey(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(e.stdout, "Usage: vigil key export-identity --data DIR [--passphrase-file FILE] [--out FILE]\n       vigil key create-advisory --data DIR [--passphrase-file FILE]\n\nSubcommands:\n  export-identity  write the age identity to FILE (mode 0600) or stdout (run vigil key export-identity --help for its flags)\n  create-advisory  add the publication key that signs advisories and statistics to a data directory made without one\n")
		return flag.ErrHelp
	}
	if len(args) > 0 && args[0] == "create-advisory" {
		return runKeyCreateAdvisory(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "export-identity" {
		return usageError{"usage: vigil key export-identity --data DIR [--out FILE]"}
	}
	fs := newFlags(e, "key export-identity", "--data DIR [--out FILE]\n\nNeeds the admin passphrase. It reads only vigil.json and keys.age, never the\ndatabase, so it works while vigil serve runs (without asking the server).")
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	out := fs.String("out", "", "write the identity to `FILE`, created with mode 0600 (an existing file is refused); default stdout")
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
	if *out != "" {
		return writeSecretFile(*out, v.WriteIdentity)
	}
	if err := privateStdout(e); err != nil {
		return err
	}
	return v.WriteIdentity(e.stdout)
}

// openVault opens the data directory's key file, sealed, without taking
// the directory's lock: keys.age is written once, by init, and read only
// here and at unseal.
func openVault(dir string) (*vault.Vault, error) {
	cfg, err := datadir.ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(filepath.Join(dir, "keys.age"), cfg.Public)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", vigil.ErrCorrupt, err)
	}
	return v, nil
}

// writeSecretFile creates path with mode 0600, refusing an existing file,
// writes it with write, and syncs it; on failure it removes it.
func writeSecretFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists; refusing to overwrite it (nothing was written)", path)
	}
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// privateStdout makes stdout mode 0600 if it is a regular file the group or
// others may read or write, warning on stderr.
func privateStdout(e *env) error {
	f, ok := e.stdout.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("standard output is a file others may read (mode %04o) and cannot be made private: %v (hint: use --out FILE; nothing was written)", st.Mode().Perm(), err)
	}
	fmt.Fprintf(e.stderr, "vigil key: warning: standard output was a file others could read (mode %04o); made it 0600. Use --out FILE to create it private from the start.\n", st.Mode().Perm())
	return nil
}

func runKeyCreateAdvisory(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "key create-advisory", "--data DIR")
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"key create-advisory takes no arguments"}
	}
	pass, err := passphrase(e, *pfile, false)
	if err != nil {
		return err
	}
	defer clear(pass)
	vkey, err := datadir.AddAdvisoryKey(*data, pass)
	if errors.Is(err, vigil.ErrLocked) {
		// A running server holds keys.age's vault in memory and loads the
		// publication key only at start: adding it under a running server
		// would leave the server without it. Say what to do instead.
		if c, cerr := staffsock.NewClient(ctx, *data); cerr == nil {
			c.CloseIdleConnections()
			return fmt.Errorf("%w: vigil serve holds %s; stop it, run vigil key create-advisory, then start it again (the server loads the publication key at start)", vigil.ErrConflict, *data)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Added the publication key. advisory key: %s\nIt is served as advisory_vkey in /.well-known/vigil.json once vigil serve restarts.\n", vkey)
	return nil
}
