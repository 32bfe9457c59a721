package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/report"
	"github.com/vigil-hr/vigil/store"
)

const reportHelp = `--data DIR --incident ID|KEY --out FILE [--lang en|ru]

Writes an incident's report as a PDF (docs/report.md): its acts with their
status, flags and explanation, the figures with charts, the sources by
grade, and every record's log leaf with one signed checkpoint that contains
them all, so that a reader can ask for evidence bundles and verify them
offline. Persons appear by pseudonym only; evidence items by ID, media type
and leaf.

--incident takes the incident's record ID or its external key (a case
file's "key"). Runs as the admin at the command line, who sees every
incident, restricted ones included (the report says that it is restricted).

Needs the admin passphrase. If the log grew since the last checkpoint, a
new one is signed (as vigil bundle does). Run it while vigil serve is
stopped (serve holds the data directory's lock).`

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", reportHelp)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	incFlag := fs.String("incident", "", "the incident's record `ID` or key")
	out := fs.String("out", "", "write the PDF to `FILE`")
	lang := fs.String("lang", "en", "language of the report: `en` or ru")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"report takes no arguments (see vigil report --help)"}
	}
	if *incFlag == "" || *out == "" {
		return usageError{"need --incident ID and --out FILE (see vigil report --help)"}
	}
	if err := checkLang(*lang); err != nil {
		return err
	}
	d, err := openData(ctx, e, *data, *pfile, true)
	if err != nil {
		return err
	}
	defer d.Close()
	done := loadingNote(e)
	r, err := collectReport(ctx, d, *incFlag)
	done()
	if err != nil {
		return err
	}
	return writeFileAtomic(*out, func(w io.Writer) error { return r.WritePDF(w, *lang) })
}

// collectReport gathers the report of the incident named by its ID or key,
// as the command line's admin.
func collectReport(ctx context.Context, d *datadir.Dir, incident string) (*report.Report, error) {
	id, err := vigil.ParseID(incident)
	if err != nil {
		rec, kerr := d.Cases.GetByKey(ctx, cliPrincipal, cases.KindIncident, incident)
		if kerr != nil {
			if errors.Is(kerr, vigil.ErrNotFound) {
				return nil, fmt.Errorf("no incident with ID or key %q", incident)
			}
			return nil, kerr
		}
		id = rec.ID
	}
	src := report.Sources{
		Cases: d.Cases, Evidence: d.Evidence, LogVerifier: d.Vault.LogVerifier(),
		Organisation: d.Config.Instance.Name,
		Checkpoint:   func(ctx context.Context, size int64) ([]byte, error) { return reportCheckpoint(ctx, d, size) },
	}
	r, err := report.Collect(ctx, src, cliPrincipal, id)
	if errors.Is(err, vigil.ErrNotFound) {
		return nil, fmt.Errorf("no incident with ID or key %q", incident)
	}
	return r, err
}

// reportCheckpoint returns the latest cosigned checkpoint if it has at
// least size leaves, so the report names the checkpoint witnesses saw;
// else the latest signed one, signing a new one if the log grew. Either
// must be consistent with the stored tree.
func reportCheckpoint(ctx context.Context, d *datadir.Dir, size int64) ([]byte, error) {
	check := func(signed []byte) (evlog.Checkpoint, error) {
		cp, err := evlog.OpenCheckpoint(signed, d.Vault.LogVerifier())
		if err != nil {
			return cp, err
		}
		err = d.Store.View(ctx, func(tx store.ReadTx) error { return evlog.CheckConsistent(tx, cp) })
		return cp, err
	}
	if cos, err := os.ReadFile(filepath.Join(d.Path, datadir.CosignedFile)); err == nil {
		if cp, err := check(cos); err == nil && cp.N >= size {
			return cos, nil
		}
	}
	signed, err := d.SignCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	if _, err := check(signed); err != nil {
		return nil, err
	}
	return signed, nil
}
