package main

import (
	"context"
	"fmt"

	"github.com/vigil-hr/vigil/internal/datadir"
)

func runInit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "init", "--data DIR [--origin ORIGIN] [--passphrase-file FILE]")
	data := dataFlag(fs, e)
	origin := fs.String("origin", "vigil.localhost/log", "the log's origin: a scheme-less URL prefix naming it, e.g. example.org/vigil")
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	wf := fs.Int("scrypt-work-factor", 0, "scrypt work factor (log2) for the key file; 0 for age's default (18). Lower only for tests.")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError{"unexpected arguments: " + fmt.Sprint(pos)}
	}
	pass, err := passphrase(e, *pfile, true)
	if err != nil {
		return err
	}
	cfg, err := datadir.Init(*data, pass, datadir.Options{Origin: *origin, WorkFactor: *wf})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created %s.\nage recipient: %s\nlog key:       %s\nadvisory key:  %s\n", *data, cfg.Recipient, cfg.LogVKey, cfg.AdvisoryVKey)
	fmt.Fprintf(e.stdout, "Keep the passphrase safe: without it the vault cannot be unsealed and nothing can be read.\n")
	return nil
}
