package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// defaultOrigin names the log when init is given no --origin and cannot ask.
const defaultOrigin = "vigil.localhost/log"

func runInit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "init", `--data DIR [--name NAME] [--origin ORIGIN] [--passphrase-file FILE] [--admin-token FILE]

Creates the data directory with fresh keys under the admin passphrase.
On a terminal, init asks for the organisation's name and the log's origin
unless they are given; without a terminal a missing --origin is
`+defaultOrigin+` (with a warning: the origin names the log in every
checkpoint and bundle and cannot be changed later).`)
	data := dataFlag(fs, e)
	name := fs.String("name", "", "the organisation's `NAME`, shown to sources on the public pages (vigil.json: instance.name)")
	origin := fs.String("origin", "", "the log's `ORIGIN`: a scheme-less URL prefix naming it for good, e.g. example.org/log")
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
	who, err := initIdentity(e, *name, *origin)
	if err != nil {
		return err
	}
	pass, err := passphrase(e, *pfile, true)
	if err != nil {
		return err
	}
	opt := datadir.Options{Origin: who.origin, WorkFactor: *wf}
	if who.name != "" {
		opt.Instance.Name = map[string]string{"en": who.name}
	}
	cfg, err := datadir.Init(*data, pass, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created %s.\nage recipient: %s\nlog key:       %s\nadvisory key:  %s\n", *data, cfg.Recipient, cfg.LogVKey, cfg.AdvisoryVKey)
	fmt.Fprintf(e.stdout, "Keep the passphrase safe: without it the vault cannot be unsealed and nothing can be read.\n")
	for _, w := range who.warnings {
		fmt.Fprintf(e.stderr, "vigil init: %s\n", w)
	}
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

// initWho is who an instance is: the organisation's name (may be empty)
// and the log's origin.
type initWho struct {
	name, origin string
	warnings     []string // for stderr once the directory is created
}

// initIdentity checks the --name and --origin given, asks on the terminal
// for those not given (when stdin is one), and otherwise falls back to no
// name and defaultOrigin, with a warning on stderr.
func initIdentity(e *env, name, origin string) (initWho, error) {
	who := initWho{name: strings.TrimSpace(name), origin: origin}
	if name != "" {
		if err := checkOrgName(who.name); err != nil {
			return initWho{}, usageError{"--name: " + err.Error()}
		}
	}
	if origin != "" {
		if err := datadir.CheckOrigin(origin); err != nil {
			return initWho{}, usageError{"--origin: " + err.Error()}
		}
	}
	if name != "" && origin != "" {
		return who, nil
	}
	if isTerminal(e.stdin) {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err == nil {
			defer tty.Close()
			return askIdentity(tty, who, name == "", origin == "")
		}
	}
	if origin == "" {
		who.origin = defaultOrigin
		who.warnings = append(who.warnings, "warning: no --origin, so the log is named "+defaultOrigin+" for good: the origin is in every checkpoint, the log key and every evidence bundle; for a real instance start again in an empty directory with --origin HOST/PATH, the address the log will be published at (e.g. example.org/log)")
	}
	if name == "" {
		who.warnings = append(who.warnings, "note: no --name: sources see a neutral default name until instance.name is set in vigil.json")
	}
	return who, nil
}

// askIdentity asks on the terminal for the name and the origin, again
// until each is valid.
func askIdentity(tty io.ReadWriter, who initWho, askName, askOrigin bool) (initWho, error) {
	if askName {
		fmt.Fprintf(tty, "The organisation's name, shown to sources (empty for a neutral default): ")
		for {
			s, err := readLine(tty)
			if err != nil {
				return initWho{}, fmt.Errorf("read the name: %w", err)
			}
			s = strings.TrimSpace(s)
			if s == "" {
				break
			}
			if err := checkOrgName(s); err != nil {
				fmt.Fprintf(tty, "%v. The name: ", err)
				continue
			}
			who.name = s
			break
		}
	}
	if askOrigin {
		fmt.Fprintf(tty, "The log's origin, its public name for good: the address it will be published at\nwithout https://, e.g. example.org/log [%s]: ", defaultOrigin)
		for {
			s, err := readLine(tty)
			if err != nil {
				return initWho{}, fmt.Errorf("read the origin: %w", err)
			}
			if s = strings.TrimSpace(s); s == "" {
				s = defaultOrigin
			}
			if err := datadir.CheckOrigin(s); err != nil {
				fmt.Fprintf(tty, "Want a scheme-less URL prefix like example.org/log. The origin: ")
				continue
			}
			who.origin = s
			break
		}
	}
	return who, nil
}

// checkOrgName refuses names that are too long or hold control or
// invisible characters.
func checkOrgName(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100 {
		return errors.New("want at most 100 characters of text")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return fmt.Errorf("the name holds the character %U", r)
		}
	}
	return nil
}

// readLine reads one line from the terminal a byte at a time (so nothing
// after it is consumed), without its end.
func readLine(r io.Reader) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for len(line) < 4096 {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				return strings.TrimSuffix(string(line), "\r"), nil
			}
			line = append(line, b[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return string(line), nil
			}
			return "", err
		}
	}
	return "", errors.New("line too long")
}
