package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/vocab"
)

const actsHelp = `--data DIR [--json] [--lang en|ru]

Every act of the case records with what its claims establish: its key, type,
status (unverified, reported, corroborated, confirmed), flags
(denied_by_implicated, disputed) and the explanation, in English or Russian,
naming the sources, their grades and the rule applied (docs/corroboration.md).

--json prints one array, each act an object with the fields
  key, id, type, label, status, flags, explanation
(flags is always an array; key is "" for an act without an external key).

Read-only. Needs the admin passphrase; shows no person's private fields. While
vigil serve runs, acts asks it over its staff socket (docs/cli.md): no
passphrase is read, and the server must be unsealed.`

// An actLine is one act as vigil acts --json prints it. The field names
// are stable: scripts rely on them.
type actLine struct {
	Key         string             `json:"key"`
	ID          vigil.ID           `json:"id"`
	Type        string             `json:"type"`
	Label       string             `json:"label"`
	Status      corroborate.Status `json:"status"`
	Flags       []corroborate.Flag `json:"flags"`
	Explanation string             `json:"explanation"`
}

func runActs(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "acts", actsHelp)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	lang := fs.String("lang", "en", "language of labels and explanations: `en` or ru")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"acts takes no arguments (see vigil acts --help)"}
	}
	if err := checkLang(*lang); err != nil {
		return err
	}
	c, done, err := openCases(ctx, e, *data, *pfile)
	if err != nil {
		return err
	}
	defer done()
	lines, err := actLines(ctx, e, c, *lang)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, lines)
	}
	return writeActs(e.stdout, lines)
}

func checkLang(lang string) error {
	if lang != "en" && lang != "ru" {
		return usageError{fmt.Sprintf("--lang %q: want en or ru", lang)}
	}
	return nil
}

// loadingNote tells a person at a terminal why the first read may take a
// while (it decrypts every case record); scripts see nothing.
func loadingNote(e *env) func() {
	if !isTerminal(e.stderr) {
		return func() {}
	}
	fmt.Fprint(e.stderr, "decrypting case records…")
	return func() { fmt.Fprint(e.stderr, "\r\033[K") }
}

func actLines(ctx context.Context, e *env, c caseReader, lang string) ([]actLine, error) {
	done := loadingNote(e)
	acts, err := c.Acts(ctx)
	done()
	if err != nil {
		return nil, err
	}
	out := make([]actLine, 0, len(acts))
	for _, a := range acts {
		l := actLine{Key: a.Key, ID: a.ID, Type: a.Act.Type, Label: typeLabel(a.Act.Type, lang),
			Status: a.Result.Status, Flags: a.Result.Flags, Explanation: a.Result.Explanation.EN}
		if lang == "ru" {
			l.Explanation = a.Result.Explanation.RU
		}
		if l.Flags == nil {
			l.Flags = []corroborate.Flag{}
		}
		out = append(out, l)
	}
	return out, nil
}

// typeLabel returns the act type's label in lang, or the code itself for a
// type the vocabulary does not know.
func typeLabel(code, lang string) string {
	if t, ok := vocab.ActType(code); ok {
		return t.Label(lang)
	}
	return code
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeActs(w io.Writer, lines []actLine) error {
	if len(lines) == 0 {
		fmt.Fprintln(w, "no acts")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tSTATUS\tFLAGS")
	for _, l := range lines {
		key := l.Key
		if key == "" {
			key = l.ID.String()
		}
		flags := make([]string, len(l.Flags))
		for i, f := range l.Flags {
			flags[i] = string(f)
		}
		fl := strings.Join(flags, ",")
		if fl == "" {
			fl = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", safeLine(key), safeLine(l.Label), l.Status, fl)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, l := range lines {
		key := l.Key
		if key == "" {
			key = l.ID.String()
		}
		fmt.Fprintf(w, "%s (%s):\n%s\n", safeLine(key), l.ID, indent(safeText(l.Explanation), "  "))
	}
	return nil
}

// safeLine is safeText for one table cell: newlines and tabs escaped too.
func safeLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(safeText(s))
}
