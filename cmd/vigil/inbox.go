package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/intake"
)

const inboxHelp = `--data DIR [ID]
       vigil inbox --data DIR reply ID TEXT     (TEXT "-" reads it from stdin)
       vigil inbox --data DIR state ID STATE    (new, in_review, linked, rejected)
       vigil inbox --data DIR file ID FILE > out

The intake inbox from a terminal. Without ID: every submission, newest first,
with its triage state, when it arrived (coarse), and how many files and
messages it has. With ID: the submission's text, files and thread. reply
sends the source a message they read with their receipt; file writes a file's
content to stdout. Needs the admin passphrase; every call is recorded as an
audit event by "cli". While vigil serve runs, inbox asks it over its staff
socket (DIR/staff.sock, docs/cli.md) instead: no passphrase is read, and the
server must be unsealed (vigil unseal).

What sources send is untrusted: control and invisible characters are shown
escaped (\x1b, \u202e), never passed to the terminal.`

func runInbox(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "inbox", inboxHelp)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	// Check the arguments before asking for a passphrase.
	var run func(in api.Inbox) error
	switch {
	case len(pos) == 0:
		run = func(in api.Inbox) error { return inboxList(ctx, e, in) }
	case pos[0] == "reply":
		if len(pos) != 3 {
			return usageError{"usage: vigil inbox reply ID TEXT"}
		}
		id, err := vigil.ParseID(pos[1])
		if err != nil {
			return err
		}
		text := pos[2]
		run = func(in api.Inbox) error {
			if text == "-" {
				b, err := io.ReadAll(io.LimitReader(e.stdin, 16<<20))
				if err != nil {
					return fmt.Errorf("read reply from stdin: %w", err)
				}
				text = string(b)
			}
			m, err := in.Reply(ctx, cliPrincipal, id, text)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "message %s sent to submission %s (log leaf %d)\n", m.ID, id, m.LeafIndex)
			return nil
		}
	case pos[0] == "state":
		if len(pos) != 3 {
			return usageError{"usage: vigil inbox state ID STATE"}
		}
		id, err := vigil.ParseID(pos[1])
		if err != nil {
			return err
		}
		st := intake.State(pos[2])
		if !st.Valid() {
			return usageError{fmt.Sprintf("state %q: want new, in_review, linked or rejected", pos[2])}
		}
		run = func(in api.Inbox) error {
			if err := in.SetState(ctx, cliPrincipal, id, st); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "submission %s is now %s\n", id, st)
			return nil
		}
	case pos[0] == "file":
		if len(pos) != 3 {
			return usageError{"usage: vigil inbox file ID FILE > out"}
		}
		sub, err := vigil.ParseID(pos[1])
		if err != nil {
			return err
		}
		file, err := vigil.ParseID(pos[2])
		if err != nil {
			return err
		}
		if isTerminal(e.stdout) {
			return usageError{"file writes raw content: redirect stdout to a file"}
		}
		run = func(in api.Inbox) error { return inboxFile(ctx, e, in, sub, file) }
	case len(pos) == 1:
		id, err := vigil.ParseID(pos[0])
		if err != nil {
			return err
		}
		run = func(in api.Inbox) error { return inboxShow(ctx, e, in, id) }
	default:
		return usageError{"too many arguments (see vigil inbox --help)"}
	}
	d, srv, err := open(ctx, e, *data, *pfile, passNeeded)
	if err != nil {
		return err
	}
	if srv != nil {
		return run(srv.Inbox())
	}
	defer d.Close()
	return run(d.Intake)
}

// timeFormat shows coarse arrival times without pretending to precision.
const timeFormat = "2006-01-02 15:04 MST"

func inboxList(ctx context.Context, e *env, in api.Inbox) error {
	list, err := in.List(ctx, cliPrincipal)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no submissions")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tRECEIVED\tFILES\tMESSAGES")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", s.ID, s.State, s.Received.UTC().Format(timeFormat), s.Files, s.Messages)
	}
	return tw.Flush()
}

func inboxShow(ctx context.Context, e *env, in api.Inbox, id vigil.ID) error {
	v, err := in.Get(ctx, cliPrincipal, id)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "Submission  %s\n", v.ID)
	fmt.Fprintf(w, "State       %s\n", v.State)
	fmt.Fprintf(w, "Received    %s\n", v.Received.UTC().Format(timeFormat))
	if v.Language != "" {
		fmt.Fprintf(w, "Language    %s\n", safeText(v.Language))
	}
	if v.Contact != "" {
		fmt.Fprintf(w, "Contact     %s\n", strings.ReplaceAll(safeText(v.Contact), "\n", "\n            "))
	}
	fmt.Fprintf(w, "Log leaf    %d\n", v.LeafIndex)
	fmt.Fprintf(w, "\nText:\n%s\n", indent(safeText(v.Text), "  "))
	writeFiles(w, v.Files, "")
	if len(v.Messages) == 0 {
		fmt.Fprintf(w, "\nNo messages yet.\n")
	}
	for _, m := range v.Messages {
		fmt.Fprintf(w, "\n--- %s, %s (message %s, log leaf %d)\n", m.From, m.Time.UTC().Format(timeFormat), m.ID, m.LeafIndex)
		fmt.Fprintf(w, "%s\n", indent(safeText(m.Text), "  "))
		writeFiles(w, m.Files, "  ")
	}
	return nil
}

func writeFiles(w io.Writer, files []intake.FileInfo, prefix string) {
	if len(files) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%sFiles (vigil inbox file SUBMISSION FILE > out):\n", prefix)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range files {
		fmt.Fprintf(tw, "%s  %s\t%s\t%s\t%s\n", prefix, f.ID, size(f.Size), safeText(f.MediaType), safeText(f.Name))
	}
	tw.Flush()
}

func inboxFile(ctx context.Context, e *env, in api.Inbox, sub, file vigil.ID) error {
	_, rc, err := in.OpenFile(ctx, cliPrincipal, sub, file)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(e.stdout, rc); err != nil {
		return fmt.Errorf("copy file: %w", err)
	}
	return nil
}

func size(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// safeText escapes what a stranger could use to drive or mislead a
// terminal: control characters other than newline and tab (escape
// sequences), and invisible format characters such as bidi overrides.
func safeText(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\n' || c == '\t':
			b.WriteRune(c)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, c)
		case c == unicode.ReplacementChar || unicode.Is(unicode.Cf, c) || unicode.Is(unicode.Co, c):
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
