package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// cliActor names the command line in audit events.
const cliActor = "cli"

// cliPrincipal is the admin at the command line: whoever holds the
// passphrase holds every key.
var cliPrincipal = vigil.Principal{Actor: cliActor, Account: cliActor, Role: vigil.RoleAdmin}

// newTokens returns the token service of an open data directory; token
// actions are audit events like the inbox's.
func newTokens(d *datadir.Dir) *auth.Tokens {
	return &auth.Tokens{Store: d.Store, Vault: d.Vault, Audit: d.Intake.Audit, TimePrecision: d.Intake.Config.WithDefaults().TimePrecision}
}

const tokenHelp = `create --data DIR --name NAME [--role intake|admin]
       vigil token list   --data DIR
       vigil token revoke --data DIR ID

API tokens for the staff listener's /api/v1 ("Authorization: Bearer vgl_...").
create prints the new token once on stdout: store it now, vigil keeps only its
SHA-256. It needs no passphrase. list and revoke need the admin passphrase.
A revoked token stops working at once.

While vigil serve runs, these commands ask it over its staff socket
(DIR/staff.sock, docs/cli.md) instead: no passphrase is read, and list and
revoke need the server unsealed.`

func runToken(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token", tokenHelp)
	data := dataFlag(fs, e)
	name := fs.String("name", "", "create: the token's `NAME`, e.g. who or what uses it (shown in audit events)")
	role := fs.String("role", string(auth.RoleIntake), "create: the token's `ROLE`: intake, analyst, investigator or admin")
	pfile := fs.String("passphrase-file", "", "list, revoke: read the admin passphrase from `FILE`")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"want a subcommand: create, list or revoke (see vigil token --help)"}
	}
	switch sub, rest := pos[0], pos[1:]; sub {
	case "create":
		if len(rest) != 0 {
			return usageError{"create takes no arguments besides its flags"}
		}
		if *name == "" {
			return usageError{"create needs --name NAME"}
		}
		if err := auth.CheckName(*name); err != nil {
			return err
		}
		if !auth.Role(*role).Valid() {
			return usageError{fmt.Sprintf("--role %q: want intake or admin", *role)}
		}
		ts, done, err := openTokens(ctx, e, *data, *pfile, false)
		if err != nil {
			return err
		}
		defer done()
		secret, t, err := ts.Create(ctx, cliActor, *name, auth.Role(*role))
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, secret)
		fmt.Fprintf(e.stderr, "token %s (%s, role %s) created; it is shown only this once\n", t.ID, t.Name, t.Role)
		return nil
	case "list":
		if len(rest) != 0 {
			return usageError{"list takes no arguments"}
		}
		svc, done, err := openTokens(ctx, e, *data, *pfile, true)
		if err != nil {
			return err
		}
		defer done()
		ts, err := svc.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tCREATED\tREVOKED\tNAME")
		for _, t := range ts {
			revoked := "-"
			if !t.Revoked.IsZero() {
				revoked = t.Revoked.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Created.Format("2006-01-02 15:04"), revoked, t.Name)
		}
		return tw.Flush()
	case "revoke":
		if len(rest) != 1 {
			return usageError{"revoke takes one token ID (see vigil token list)"}
		}
		id, err := vigil.ParseID(rest[0])
		if err != nil {
			return err
		}
		ts, done, err := openTokens(ctx, e, *data, *pfile, true)
		if err != nil {
			return err
		}
		defer done()
		if err := ts.Revoke(ctx, cliActor, id); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s\n", id)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q: want create, list or revoke", sub)}
	}
}

// openTokens returns the token service of the data directory, or of the
// server running on it, and a function that closes it. create passes need
// false: making a token needs no passphrase (only the public recipient).
func openTokens(ctx context.Context, e *env, data, pfile string, need bool) (tokens, func(), error) {
	mode := passNever // never unseal just to make a token
	if need {
		mode = passNeeded
	}
	d, srv, err := open(ctx, e, data, pfile, mode)
	if err != nil {
		return nil, nil, err
	}
	if srv != nil {
		return srv.Tokens(), func() {}, nil
	}
	return newTokens(d), func() { d.Close() }, nil
}
