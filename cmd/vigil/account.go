package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// newAccounts returns the account service of an open data directory;
// account actions are audit events like the tokens'.
func newAccounts(d *datadir.Dir) *account.Accounts {
	return &account.Accounts{Store: d.Store, Vault: d.Vault, Salt: d.Config.ReceiptSalt, Audit: d.Intake.Audit,
		TimePrecision: d.Intake.Config.WithDefaults().TimePrecision}
}

const accountHelp = `create  --data DIR --name NAME [--role admin|investigator|analyst|intake] [--lang en|ru]
       vigil account list    --data DIR
       vigil account role    --data DIR NAME|ID ROLE
       vigil account disable --data DIR NAME|ID
       vigil account enable  --data DIR ID

Staff accounts of the web UI. create makes an account with a passphrase
(asked twice on the terminal, or read from --account-passphrase-file FILE or
$VIGIL_ACCOUNT_PASSPHRASE); at its first sign-in in the browser the account
enrols a passkey or TOTP app. create needs no admin passphrase: make the
first admin with it right after vigil init. list, role, disable and enable
need the admin passphrase (they read the sealed account details). A disabled
account can no longer sign in, sealed or not.

While vigil serve runs, these commands go through its staff socket
(DIR/staff.sock, docs/cli.md): no admin passphrase is read; list, role,
disable and enable need the server unsealed.`

func runAccount(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "account", accountHelp)
	data := dataFlag(fs, e)
	name := fs.String("name", "", "create: the account's `NAME` (what its owner types to sign in)")
	role := fs.String("role", string(vigil.RoleIntake), "create: the account's `ROLE`: admin, investigator, analyst or intake")
	lang := fs.String("lang", "en", "create: the account's UI `LANGUAGE`: en or ru")
	apfile := fs.String("account-passphrase-file", "", "create: read the new account's passphrase from `FILE`")
	pfile := fs.String("passphrase-file", "", "list, role, disable, enable: read the admin passphrase from `FILE`")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"want a subcommand: create, list, role, disable or enable (see vigil account --help)"}
	}
	sub, rest := pos[0], pos[1:]
	switch sub {
	case "create":
		if len(rest) != 0 {
			return usageError{"create takes no arguments besides its flags"}
		}
		if *name == "" {
			return usageError{"create needs --name NAME"}
		}
		if err := account.CheckName(*name); err != nil {
			return err
		}
		if !vigil.Role(*role).Valid() {
			return usageError{fmt.Sprintf("--role %q: want admin, investigator, analyst or intake", *role)}
		}
		if *lang != "en" && *lang != "ru" {
			return usageError{fmt.Sprintf("--lang %q: want en or ru", *lang)}
		}
		pass, err := accountPassphrase(e, *apfile, *name)
		if err != nil {
			return err
		}
		d, srv, err := open(ctx, e, *data, "", passNever) // making an account needs no passphrase
		if err != nil {
			clear(pass)
			return err
		}
		var a account.Account
		if srv != nil {
			err = srv.do(ctx, "POST", "/api/v1/accounts", api.AccountRequest{Name: *name, Role: vigil.Role(*role), Language: *lang, Passphrase: string(pass)}, &a)
		} else {
			defer d.Close()
			a, err = newAccounts(d).Create(ctx, cliActor, *name, vigil.Role(*role), *lang, pass)
		}
		clear(pass)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", a.ID)
		fmt.Fprintf(e.stderr, "account %s (%s, role %s) created; enrol a passkey or TOTP app at its first sign-in\n", a.ID, a.Name, a.Role)
		return nil
	case "list":
		if len(rest) != 0 {
			return usageError{"list takes no arguments"}
		}
		d, srv, err := open(ctx, e, *data, *pfile, passNeeded)
		if err != nil {
			return err
		}
		var as []account.Account
		if srv != nil {
			var out api.AccountList
			err = srv.do(ctx, "GET", "/api/v1/accounts", nil, &out)
			as = out.Accounts
		} else {
			defer d.Close()
			as, err = newAccounts(d).List(ctx)
		}
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tLANG\tCREATED\tDISABLED\tNAME")
		for _, a := range as {
			disabled := "-"
			if !a.Disabled.IsZero() {
				disabled = a.Disabled.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Role, a.Language, a.Created.Format("2006-01-02 15:04"), disabled, a.Name)
		}
		return tw.Flush()
	case "role", "disable", "enable":
		want := map[string]int{"role": 2, "disable": 1, "enable": 1}[sub]
		if len(rest) != want {
			if sub == "role" {
				return usageError{"role takes an account (name or ID) and a role"}
			}
			return usageError{sub + " takes one account (name or ID)"}
		}
		if sub == "role" && !vigil.Role(rest[1]).Valid() {
			return usageError{fmt.Sprintf("role %q: want admin, investigator, analyst or intake", rest[1])}
		}
		d, srv, err := open(ctx, e, *data, *pfile, passNeeded)
		if err != nil {
			return err
		}
		var id vigil.ID
		if srv != nil {
			req := api.AccountChange{Account: rest[0], Action: sub}
			if sub == "role" {
				req.Role = vigil.Role(rest[1])
			}
			var out api.AccountChanged
			err = srv.do(ctx, "POST", "/api/v1/accounts/change", req, &out)
			id = out.ID
		} else {
			defer d.Close()
			accts := newAccounts(d)
			if id, err = api.FindAccount(ctx, accts, rest[0]); err != nil {
				return err
			}
			switch sub {
			case "role":
				err = accts.SetRole(ctx, cliActor, id, vigil.Role(rest[1]))
			case "disable":
				err = accts.Disable(ctx, cliActor, id)
			case "enable":
				err = accts.Enable(ctx, cliActor, id)
			}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s %s\n", sub, id)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q: want create, list, role, disable or enable", sub)}
	}
}

// accountPassphrase reads a new account's passphrase from the file, else
// $VIGIL_ACCOUNT_PASSPHRASE, else twice from the terminal, and checks it.
func accountPassphrase(e *env, file, name string) ([]byte, error) {
	var p []byte
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read account passphrase file: %w", err)
		}
		p = bytes.TrimRight(b, "\r\n")
	case e.getenv("VIGIL_ACCOUNT_PASSPHRASE") != "":
		p = []byte(e.getenv("VIGIL_ACCOUNT_PASSPHRASE"))
	default:
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return nil, errors.New("no account passphrase: use --account-passphrase-file, VIGIL_ACCOUNT_PASSPHRASE or a terminal")
		}
		defer tty.Close()
		if p, err = readPassphrase(tty, fmt.Sprintf("Passphrase for account %s (at least %d characters): ", name, account.MinPassphrase), true); err != nil {
			return nil, err
		}
	}
	return p, account.CheckPassphrase(p, name)
}
