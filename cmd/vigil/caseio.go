package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/casefile"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/internal/datadir"
)

const importHelp = `Import a vigil-case/1 file (docs/case-format.md): places, parties,
sources, persons, incidents, acts and claims. Everything is validated
first and every problem is reported with its JSON path; then all records
are stored in one transaction, or none. Importing a file again updates the
records with the same keys (a new version of each record that changed)
instead of duplicating them. While vigil serve runs, the file is checked
here, then sent to the server over its staff socket (docs/cli.md), which
checks and imports it the same way: no passphrase is read; the server must
be unsealed.`

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", "--data DIR FILE\n\n"+importHelp)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	quiet := fs.Bool("q", false, "no progress output")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want one case file (see vigil import --help)"}
	}
	progress := func(string) {}
	if !*quiet && isTerminal(e.stderr) {
		progress = func(s string) { fmt.Fprintf(e.stderr, "\r\033[K%s", s) }
		defer fmt.Fprint(e.stderr, "\r\033[K")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	progress("reading and checking " + filepath.Base(pos[0]) + "...")
	cf, err := casefile.Parse(f, casefile.Options{})
	if err != nil {
		return reportProblems(e, err)
	}
	d, srv, err := open(ctx, e, *data, *pfile, passNeeded)
	if err != nil {
		return err
	}
	var rep api.ImportResult
	if srv != nil {
		// The server parses and checks the file again: it trusts no client.
		progress("importing through the running server...")
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		rep, err = srv.importFile(ctx, f)
	} else {
		defer d.Close()
		progress("loading the case records...")
		rep, err = importCase(ctx, d, cliPrincipal, cf)
	}
	if err != nil {
		return reportProblems(e, err)
	}
	progress("")
	fmt.Fprintf(e.stdout, "imported %d records: %d new, %d updated, %d unchanged\n", rep.Records, rep.Created, rep.Updated, rep.Unchanged)
	return nil
}

// importFile parses a case file and imports it (a running server's
// api.Server.Import).
func importFile(ctx context.Context, d *datadir.Dir, p vigil.Principal, file io.Reader) (api.ImportResult, error) {
	cf, err := casefile.Parse(file, casefile.Options{})
	if err != nil {
		return api.ImportResult{}, err
	}
	return importCase(ctx, d, p, cf)
}

// reportProblems prints every problem of a case file or an import, one a
// line on stderr, and returns the one-line error.
func reportProblems(e *env, err error) error {
	var probs *casefile.Problems
	if errors.As(err, &probs) {
		for _, p := range probs.List {
			fmt.Fprintln(e.stderr, p.String())
		}
		if probs.More > 0 {
			fmt.Fprintf(e.stderr, "... and %d more problems\n", probs.More)
		}
		return fmt.Errorf("the case file has %d problems; nothing was imported", len(probs.List)+probs.More)
	}
	fields := vigil.FieldErrors(err)
	for _, fe := range fields {
		fmt.Fprintf(e.stderr, "$.%s: %s\n", fe.Field, fe.Problem)
	}
	if len(fields) > 0 {
		return fmt.Errorf("%d records were refused; nothing was imported", len(fields))
	}
	return err
}

// importCase stores a parsed case file as one batch: records whose key is
// already held get a new version if they changed, the others are created.
func importCase(ctx context.Context, d *datadir.Dir, p vigil.Principal, cf *casefile.File) (api.ImportResult, error) {
	var rep api.ImportResult
	kinds, paths := caseKeys(cf)
	existing := map[string]cases.Record{}
	entries, err := casefile.Resolve(cf, func(key string) vigil.ID {
		r, err := d.Cases.GetByKey(ctx, p, string(kinds[key]), key)
		if err != nil {
			return vigil.NewID()
		}
		existing[key] = r
		return r.ID
	})
	if err != nil {
		return rep, err
	}
	var changes []cases.Change
	for _, en := range entries {
		rep.Records++
		c := cases.Change{Kind: string(en.Kind), ID: en.ID, Key: en.Key, Doc: en.Doc.(cases.Doc), Path: paths[en.Key]}
		if old, ok := existing[en.Key]; ok {
			if reflect.DeepEqual(normalDoc(old.Doc), normalDoc(en.Doc)) {
				rep.Unchanged++
				continue
			}
			c.Version = old.Version
			rep.Updated++
		} else {
			rep.Created++
		}
		changes = append(changes, c)
	}
	if len(changes) == 0 {
		return rep, nil
	}
	_, err = d.Cases.Apply(ctx, p, changes)
	return rep, err
}

// normalDoc dereferences a pointer document, so that stored values and
// resolved ones compare.
func normalDoc(doc any) any {
	v := reflect.ValueOf(doc)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		return v.Elem().Interface()
	}
	return doc
}

// caseKeys maps each key of a case file to its kind and its JSON path.
func caseKeys(f *casefile.File) (map[string]casefile.Kind, map[string]string) {
	kinds, paths := map[string]casefile.Kind{}, map[string]string{}
	add := func(kind casefile.Kind, i int, key string) {
		kinds[key] = kind
		paths[key] = fmt.Sprintf("%s[%d]", kind.Array(), i)
	}
	for i, r := range f.Places {
		add(casefile.KindPlace, i, r.Key)
	}
	for i, r := range f.Parties {
		add(casefile.KindParty, i, r.Key)
	}
	for i, r := range f.Sources {
		add(casefile.KindSource, i, r.Key)
	}
	for i, r := range f.Persons {
		add(casefile.KindPerson, i, r.Key)
	}
	for i, r := range f.Incidents {
		add(casefile.KindIncident, i, r.Key)
	}
	for i, r := range f.Acts {
		add(casefile.KindAct, i, r.Key)
	}
	for i, r := range f.Claims {
		add(casefile.KindClaim, i, r.Key)
	}
	return kinds, paths
}

const exportHelp = `Export every case record as a vigil-case/1 file (--format json, to
--out FILE or standard output) or as CSV tables, one file per kind
(--format csv --out DIR). References are by key; a record imported from a
file keeps its key. Importing the JSON export again changes nothing.
While vigil serve runs, export reads the records from it over its staff
socket (docs/cli.md): no passphrase is read; the server must be unsealed.`

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "--data DIR [--format json|csv] [--out FILE|DIR]\n\n"+exportHelp)
	data := dataFlag(fs, e)
	format := fs.String("format", "json", "`json` (one vigil-case/1 file) or csv (a directory of tables)")
	out := fs.String("out", "", "write to `FILE` (json; default standard output) or into the directory DIR (csv, required)")
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *format != "json" && *format != "csv" {
		return usageError{"--format must be json or csv"}
	}
	if *format == "csv" && *out == "" {
		return usageError{"--format csv needs --out DIR"}
	}
	d, srv, err := open(ctx, e, *data, *pfile, passNeeded)
	if err != nil {
		return err
	}
	var list func(ctx context.Context, kind string, after vigil.ID, limit int) ([]cases.Record, error)
	if srv != nil {
		list = srv.list
	} else {
		defer d.Close()
		list = func(ctx context.Context, kind string, after vigil.ID, limit int) ([]cases.Record, error) {
			return d.Cases.List(ctx, cliPrincipal, kind, after, limit)
		}
	}
	x, err := exportCase(ctx, list)
	if err != nil {
		return err
	}
	if *format == "json" {
		if *out == "" {
			return casefile.Write(e.stdout, x)
		}
		return writeFileAtomic(*out, func(w io.Writer) error { return casefile.Write(w, x) })
	}
	f, err := casefile.FileOf(x)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	// Each table is written whole, then renamed into place.
	tables := map[casefile.Kind]*tableBuffer{}
	err = casefile.WriteCSV(f, func(k casefile.Kind) (io.Writer, error) {
		tables[k] = &tableBuffer{}
		return tables[k], nil
	})
	if err != nil {
		return err
	}
	for k, t := range tables {
		if err := writeFileAtomic(filepath.Join(*out, k.Array()+".csv"), func(w io.Writer) error {
			_, err := w.Write(t.b)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

type tableBuffer struct{ b []byte }

func (t *tableBuffer) Write(p []byte) (int, error) { t.b = append(t.b, p...); return len(p), nil }

// exportCase collects every case record list gives (the admin sees all),
// with keys.
func exportCase(ctx context.Context, list func(ctx context.Context, kind string, after vigil.ID, limit int) ([]cases.Record, error)) (casefile.Export, error) {
	var x casefile.Export
	for _, k := range casefile.Kinds() {
		var after vigil.ID
		for {
			recs, err := list(ctx, string(k), after, cases.MaxLimit)
			if err != nil {
				return x, err
			}
			for _, r := range recs {
				x.Entries = append(x.Entries, casefile.Entry{Kind: k, Key: r.Key, ID: r.ID, Doc: r.Doc})
			}
			if len(recs) < cases.MaxLimit {
				break
			}
			after = recs[len(recs)-1].ID
		}
	}
	return x, nil
}
