package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/internal/datadir"
)

func runInit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "init", "--data DIR [--origin ORIGIN] [--passphrase-file FILE] [--admin-token FILE]")
	data := dataFlag(fs, e)
	origin := fs.String("origin", "vigil.localhost/log", "the log's origin: a scheme-less URL prefix naming it, e.g. example.org/vigil")
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	wf := fs.Int("scrypt-work-factor", 0, "scrypt work factor (log2) for the key file; 0 for age's default (18). Lower only for tests.")
	tokenFile := fs.String("admin-token", "", "also make an admin API token for the staff listener and write it to `FILE` (created with mode 0600, never overwritten; \"-\" prints it on stdout). It is shown only this once; later ones come from vigil token create, which works while serve runs too")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError{"unexpected arguments: " + fmt.Sprint(pos)}
	}
	if f := *tokenFile; f != "" && f != "-" {
		if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--admin-token %s already exists; refusing to overwrite it", f)
		}
	}
	pass, err := passphrase(e, *pfile, true)
	if err != nil {
		return err
	}
	cfg, err := datadir.Init(*data, pass, datadir.Options{Origin: *origin, WorkFactor: *wf})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created %s.\nage recipient: %s\nlog key:       %s\n", *data, cfg.Recipient, cfg.LogVKey)
	fmt.Fprintf(e.stdout, "Keep the passphrase safe: without it the vault cannot be unsealed and nothing can be read.\n")
	if *tokenFile != "" {
		return initAdminToken(ctx, e, *data, *tokenFile)
	}
	return nil
}

// initAdminToken makes the first admin API token and writes it to file, a
// new file of mode 0600 (or stdout for "-"), synced before init reports
// success. The token is an audit event in the log like any other.
func initAdminToken(ctx context.Context, e *env, data, file string) error {
	d, err := datadir.Open(ctx, data)
	if err != nil {
		return err
	}
	defer d.Close()
	var f *os.File
	if file != "-" {
		if f, err = os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fmt.Errorf("admin token file: %w", err)
		}
		defer f.Close()
	}
	secret, t, err := newTokens(d).Create(ctx, cliActor, "admin", auth.RoleAdmin)
	if err != nil {
		if f != nil {
			os.Remove(file)
		}
		return err
	}
	if f == nil {
		fmt.Fprintf(e.stdout, "admin API token (shown only this once): %s\n", secret)
		return nil
	}
	if _, err := fmt.Fprintln(f, secret); err != nil {
		return fmt.Errorf("write admin token (revoke token %s): %w", t.ID, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write admin token (revoke token %s): %w", t.ID, err)
	}
	fmt.Fprintf(e.stdout, "admin API token %s written to %s: keep it like the passphrase, and remove the file once it is stored elsewhere\n", t.ID, file)
	return nil
}
