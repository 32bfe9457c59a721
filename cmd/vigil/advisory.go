package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/advisory"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/internal/datadir"
)

const advisoryHelp = `create|list|withdraw [flags]

Signed public warnings (see docs/publication.md).

  vigil advisory create --data DIR --text en="Leave ..." [--text ru="..."]
        [--text-file ru=FILE] [--from TIME] (--for 72h | --until TIME)
      signs a new advisory with the publication key, logs it and publishes
      it on the public listener (/advisories); prints its ID and the signed
      note. TIME is UTC like 2026-12-01T08:00:00Z.
  vigil advisory list --data DIR [--json]
      every published advisory, newest first, with its status. Needs no
      passphrase.
  vigil advisory withdraw --data DIR [--text en="..."] ID
      signs and publishes a withdrawal of advisory ID (itself an advisory).

create and withdraw need the admin passphrase. While vigil serve runs, all
three go through its staff socket (DIR/staff.sock, docs/cli.md): no
passphrase is read; create and withdraw need the server unsealed.`

// textFlags collects --text LANG=TEXT and --text-file LANG=FILE.
type textFlags struct {
	texts []advisory.Text
	files bool
}

func (t *textFlags) String() string { return "" }

func (t *textFlags) Set(s string) error {
	lang, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want LANG=TEXT, e.g. en=\"Leave the district\"")
	}
	if t.files {
		b, err := os.ReadFile(v)
		if err != nil {
			return fmt.Errorf("read %s: %w", v, unwrapPath(err))
		}
		v = strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	}
	t.texts = append(t.texts, advisory.Text{Lang: lang, Body: v})
	return nil
}

func runAdvisory(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintf(e.stdout, "Usage: vigil advisory %s\n", advisoryHelp)
		if len(args) == 0 {
			return usageError{"advisory needs a subcommand: create, list or withdraw"}
		}
		return flag.ErrHelp
	}
	sub, args := args[0], args[1:]
	usageLine := map[string]string{
		"create":   "--data DIR --text LANG=TEXT... (--for DURATION | --until TIME) [--from TIME]",
		"list":     "--data DIR [--json]",
		"withdraw": "--data DIR [--text LANG=TEXT...] ID",
	}[sub]
	fs := newFlags(e, "advisory "+sub, usageLine)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	texts := &textFlags{}
	files := &textFlags{texts: nil, files: true}
	var from, until *string
	var valid *time.Duration
	var asJSON *bool
	switch sub {
	case "create", "withdraw":
		fs.Var(texts, "text", "the advisory in one language, `LANG=TEXT` (repeat for more languages)")
		fs.Var(files, "text-file", "the advisory in one language from a file, `LANG=FILE`")
		if sub == "create" {
			from = fs.String("from", "", "valid from `TIME` (UTC, RFC 3339); default now")
			until = fs.String("until", "", "valid until `TIME` (UTC, RFC 3339)")
			valid = fs.Duration("for", 0, "valid for `DURATION` from --from, e.g. 72h")
		}
	case "list":
		asJSON = fs.Bool("json", false, "print JSON")
	default:
		return usageError{fmt.Sprintf("unknown advisory subcommand %q: want create, list or withdraw", sub)}
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	all := append(texts.texts, files.texts...)
	switch sub {
	case "list":
		if len(pos) != 0 {
			return usageError{"advisory list takes no arguments"}
		}
		d, srv, err := open(ctx, e, *data, *pfile, passGiven)
		if err != nil {
			return err
		}
		var feed advisory.FeedJSON
		if srv != nil {
			var out api.AdvisoryList
			if err := srv.do(ctx, "GET", "/api/v1/advisories", nil, &out); err != nil {
				return err
			}
			feed.Advisories = out.Advisories
		} else {
			defer d.Close()
			list, err := d.AdvisoryDir.List(d.Vault.AdvisoryVerifier())
			if err != nil {
				return err
			}
			feed = advisory.Feed(list, nil, time.Now())
		}
		if *asJSON {
			return writeJSON(e.stdout, feed)
		}
		if len(feed.Advisories) == 0 {
			fmt.Fprintln(e.stdout, "no advisories")
		}
		for _, a := range feed.Advisories {
			first := ""
			if len(a.Texts) > 0 {
				first = a.Texts[0].Body
			}
			fmt.Fprintf(e.stdout, "%s  %-10s  %s .. %s  %s\n", a.ID, a.Status, a.ValidFrom.Format(time.RFC3339), a.ValidUntil.Format(time.RFC3339), safeLine(firstLine(first)))
		}
		return nil
	case "create":
		if len(pos) != 0 {
			return usageError{"advisory create takes no arguments (give the text with --text LANG=TEXT)"}
		}
		if len(all) == 0 {
			return usageError{"advisory create needs --text LANG=TEXT or --text-file LANG=FILE"}
		}
		var f, u time.Time
		if *from != "" {
			if f, err = time.Parse(time.RFC3339, *from); err != nil {
				return usageError{fmt.Sprintf("--from %q: want a time like 2026-12-01T08:00:00Z", *from)}
			}
		}
		switch {
		case *until != "" && *valid != 0:
			return usageError{"give --until or --for, not both"}
		case *until != "":
			if u, err = time.Parse(time.RFC3339, *until); err != nil {
				return usageError{fmt.Sprintf("--until %q: want a time like 2026-12-08T08:00:00Z", *until)}
			}
		case *valid > 0:
			start := f
			if start.IsZero() {
				start = time.Now()
			}
			u = start.Add(*valid)
		default:
			return usageError{"advisory create needs a validity: --for DURATION or --until TIME"}
		}
		req := api.AdvisoryRequest{Texts: all, ValidFrom: f, ValidUntil: u}
		return publishAdvisory(ctx, e, *data, *pfile, "/api/v1/advisories", req, func(d *datadir.Dir) (advisory.Published, error) {
			return d.Advisories.Create(ctx, cliPrincipal, all, f, u)
		})
	default: // withdraw
		if len(pos) != 1 {
			return usageError{"advisory withdraw needs the ID of the advisory to withdraw"}
		}
		id, err := vigil.ParseID(pos[0])
		if err != nil {
			return usageError{fmt.Sprintf("%q is not an advisory ID", pos[0])}
		}
		req := api.WithdrawRequest{Texts: all}
		return publishAdvisory(ctx, e, *data, *pfile, "/api/v1/advisories/"+id.String()+"/withdraw", req, func(d *datadir.Dir) (advisory.Published, error) {
			return d.Advisories.Withdraw(ctx, cliPrincipal, id, all)
		})
	}
}

// publishAdvisory signs and publishes an advisory: offline with do, or,
// while vigil serve runs, by sending req to the server's route path.
func publishAdvisory(ctx context.Context, e *env, data, pfile, path string, req any, do func(*datadir.Dir) (advisory.Published, error)) error {
	d, srv, err := open(ctx, e, data, pfile, passNeeded)
	if err != nil {
		return err
	}
	var id, note string
	if srv != nil {
		var out advisory.FeedItem
		if err := srv.do(ctx, "POST", path, req, &out); err != nil {
			return err
		}
		id, note = out.ID, out.Note
	} else {
		defer d.Close()
		p, err := do(d)
		if err != nil {
			return err
		}
		id, note = p.ID.String(), string(p.Note)
	}
	fmt.Fprintf(e.stdout, "Published advisory %s (public at /advisories/%s.txt):\n\n%s", id, id, note)
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	if r := []rune(l); len(r) > 80 {
		l = string(r[:77]) + "..."
	}
	return l
}
