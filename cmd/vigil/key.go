package main

import (
	"context"
	"flag"
	"fmt"
)

func runKey(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(e.stdout, "Usage: vigil key export-identity --data DIR [--passphrase-file FILE] > identity.txt\n\nSubcommands:\n  export-identity  write the age identity to stdout (run vigil key export-identity --help for its flags)\n")
		return flag.ErrHelp
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
