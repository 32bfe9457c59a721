package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/vigil-hr/vigil/internal/datadir"
)

func runKey(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(e.stdout, "Usage: vigil key export-identity --data DIR [--passphrase-file FILE] > identity.txt\n       vigil key create-advisory --data DIR [--passphrase-file FILE]\n\nSubcommands:\n  export-identity  write the age identity to stdout (run vigil key export-identity --help for its flags)\n  create-advisory  add the publication key that signs advisories and statistics to a data directory made without one\n")
		return flag.ErrHelp
	}
	if len(args) > 0 && args[0] == "create-advisory" {
		return runKeyCreateAdvisory(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "export-identity" {
		return usageError{"usage: vigil key export-identity --data DIR > identity.txt"}
	}
	fs := newFlags(e, "key export-identity", "--data DIR > identity.txt")
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	d, err := openData(ctx, e, *data, *pfile, true)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Vault.WriteIdentity(e.stdout)
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
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Added the publication key. advisory key: %s\nIt is served as advisory_vkey in /.well-known/vigil.json once vigil serve restarts.\n", vkey)
	return nil
}
