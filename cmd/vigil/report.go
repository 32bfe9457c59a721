package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
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
	d, srv, err := open(ctx, e, *data, *pfile, passNeeded)
	if err != nil {
		return err
	}
	if srv != nil {
		// The server renders the whole PDF before it answers; the file is
		// written only if it did.
		resp, err := srv.send(ctx, "POST", "/api/v1/report", api.ReportRequest{Incident: *incFlag, Lang: *lang})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return writeFileAtomic(*out, func(w io.Writer) error {
			_, err := io.Copy(w, resp.Body)
			return err
		})
	}
	defer d.Close()
	done := loadingNote(e)
	r, err := collectReport(ctx, d, cliPrincipal, *incFlag, false)
	done()
	if err != nil {
		return err
	}
	return writeFileAtomic(*out, func(w io.Writer) error { return r.WritePDF(w, *lang) })
}

// reporter is a running server's api.Server.Report: it never signs a
// checkpoint off the server's grid (see datadir.Dir.BundlePublished).
func reporter(d *datadir.Dir) api.Reporter {
	return func(ctx context.Context, p vigil.Principal, incident, lang string, w io.Writer) error {
		r, err := collectReport(ctx, d, p, incident, true)
		if err != nil {
			return err
		}
		return r.WritePDF(w, lang)
	}
}

// collectReport gathers the report of the incident named by its ID or key,
// as p. published: prove against published checkpoints only (a running
// server), never signing one.
func collectReport(ctx context.Context, d *datadir.Dir, p vigil.Principal, incident string, published bool) (*report.Report, error) {
	id, err := vigil.ParseID(incident)
	if err != nil {
		rec, kerr := d.Cases.GetByKey(ctx, p, cases.KindIncident, incident)
		if kerr != nil {
			if errors.Is(kerr, vigil.ErrNotFound) {
				return nil, fmt.Errorf("no incident with ID or key %q: %w", incident, vigil.ErrNotFound)
			}
			return nil, kerr
		}
		id = rec.ID
	}
	src := report.Sources{
		Cases: d.Cases, Evidence: d.Evidence, LogVerifier: d.Vault.LogVerifier(),
		Organisation: d.Config.Instance.Name,
		Checkpoint: func(ctx context.Context, size int64) ([]byte, error) {
			return reportCheckpoint(ctx, d, size, published)
		},
	}
	r, err := report.Collect(ctx, src, p, id)
	if errors.Is(err, vigil.ErrNotFound) {
		return nil, fmt.Errorf("no incident with ID or key %q: %w", incident, vigil.ErrNotFound)
	}
	return r, err
}

// reportCheckpoint returns the latest cosigned checkpoint if it has at
// least size leaves, so the report names the checkpoint witnesses saw;
// else the latest signed one, signing a new one if the log grew (unless
// published: a running server answers a conflict then, as for bundles).
// Either must be consistent with the stored tree.
func reportCheckpoint(ctx context.Context, d *datadir.Dir, size int64, published bool) ([]byte, error) {
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
	var signed []byte
	var err error
	if published {
		if signed, err = d.LatestCheckpoint(ctx); err != nil {
			return nil, err
		}
		if cp, err := check(signed); err != nil {
			return nil, err
		} else if cp.N < size {
			return nil, fmt.Errorf("%w: a record of the report is newer than the latest checkpoint: make the report once the next checkpoint is signed (at the next boundary of the checkpoint interval)", vigil.ErrConflict)
		}
		return signed, nil
	}
	signed, err = d.SignCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	if _, err := check(signed); err != nil {
		return nil, err
	}
	return signed, nil
}
