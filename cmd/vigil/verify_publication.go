package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/advisory"
	"github.com/vigil-hr/vigil/bundle"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/stats"
)

// maxPublication bounds an advisory or statistics file read by verify.
const maxPublication = 64 << 20

// sniff tells a file's type by its first bytes: "bundle" (a zip),
// "advisory", "index" or "stats".
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK")):
		return "bundle", nil
	case bytes.HasPrefix(head, []byte(advisory.IndexHeader+"\n")):
		return "index", nil
	case bytes.HasPrefix(head, []byte(advisory.Header+"\n")):
		return "advisory", nil
	case bytes.HasPrefix(head, []byte(stats.Header+"\n")):
		return "stats", nil
	}
	return "bundle", nil // let the bundle reader say what is wrong
}

type publicationFlags struct {
	key, logKey, index, at, bundles string
}

func readPublication(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPublication+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPublication {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxPublication>>20)
	}
	return b, nil
}

func verifyPublication(e *env, kind string, pos []string, fl publicationFlags) error {
	if fl.key == "" {
		return usageError{"need --key: the publication key (advisory_vkey in /.well-known/vigil.json, got from a channel you trust)"}
	}
	v, err := keyFlag("--key", fl.key)
	if err != nil {
		return err
	}
	if kind != "stats" && len(pos) != 1 {
		return usageError{"need one advisory file"}
	}
	msg, err := readPublication(pos[0])
	if err != nil {
		return err
	}
	switch kind {
	case "index":
		x, err := advisory.OpenIndex(msg, v)
		if err != nil {
			return fmt.Errorf("%s: FAILED: %w", pos[0], err)
		}
		fmt.Fprintf(e.stdout, "OK    signed list of %d advisories of %s, signed by %s\n", len(x.Entries), x.Time.Format(time.RFC3339), v.Name())
		return nil
	case "advisory":
		return verifyAdvisory(e, pos[0], msg, v, fl)
	}
	return verifyStats(e, pos, msg, v, fl)
}

func verifyAdvisory(e *env, path string, msg []byte, v note.Verifier, fl publicationFlags) error {
	a, err := advisory.Open(msg, v)
	if err != nil {
		return fmt.Errorf("%s: FAILED: %w", path, err)
	}
	now := time.Now()
	if fl.at != "" {
		if now, err = time.Parse(time.RFC3339, fl.at); err != nil {
			return usageError{fmt.Sprintf("--at %q: want a time like 2026-12-01T08:00:00Z", fl.at)}
		}
	}
	var idx *advisory.Index
	if fl.index != "" {
		b, err := readPublication(fl.index)
		if err != nil {
			return err
		}
		x, err := advisory.OpenIndex(b, v)
		if err != nil {
			return fmt.Errorf("--index %s: FAILED: %w", fl.index, err)
		}
		idx = &x
	}
	if !a.Withdraws.IsZero() {
		fmt.Fprintf(e.stdout, "OK    %s is a genuine WITHDRAWAL, signed by %s: advisory %s is withdrawn (issued %s)\n", a.ID, v.Name(), a.Withdraws, a.Issued.Format(time.RFC3339))
		return nil
	}
	if err := advisory.Check(a, now, idx); err != nil {
		return fmt.Errorf("%s: the signature is genuine (%s), but the advisory must not be acted on: %w", path, v.Name(), err)
	}
	caveat := ""
	if idx == nil {
		caveat = " (not checked for withdrawal: give --index with a recent /advisories/index.txt)"
	}
	fmt.Fprintf(e.stdout, "OK    advisory %s signed by %s, valid %s .. %s%s\n", a.ID, v.Name(), a.ValidFrom.Format(time.RFC3339), a.ValidUntil.Format(time.RFC3339), caveat)
	return nil
}

func verifyStats(e *env, pos []string, msg []byte, v note.Verifier, fl publicationFlags) error {
	t, err := stats.Open(msg, v)
	if err != nil {
		return fmt.Errorf("%s: FAILED: %w", pos[0], err)
	}
	fmt.Fprintf(e.stdout, "OK    statistics %s of %s signed by %s: %d figures (k = %d)\n", t.ID, t.Published.Format(time.RFC3339), v.Name(), len(t.Figures), t.K)
	files := pos[1:]
	if fl.bundles != "" {
		m, err := filepath.Glob(filepath.Join(fl.bundles, "*.zip"))
		if err != nil {
			return err
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil
	}
	if fl.logKey == "" {
		return usageError{"bundles need --log-key, the log's verifier key, to be verified"}
	}
	lv, err := keyFlag("--log-key", fl.logKey)
	if err != nil {
		return err
	}
	byLeaf := map[int64]stats.Record{}
	for _, path := range files {
		if err := readBundleRecords(path, lv, byLeaf); err != nil {
			return err
		}
	}
	checked, failed, skipped := 0, 0, 0
	for _, f := range t.Figures {
		if f.Suppressed || f.Leaves == nil {
			continue
		}
		have := 0
		for _, l := range f.Leaves {
			if _, ok := byLeaf[l]; ok {
				have++
			}
		}
		if have == 0 {
			skipped++
			continue
		}
		checked++
		if err := stats.Recompute(f, t.RegionLevel, byLeaf); err != nil {
			failed++
			fmt.Fprintf(e.stdout, "FAIL  %s: %s\n", f.Key, oneLine(err.Error()))
			continue
		}
		fmt.Fprintf(e.stdout, "OK    %s: %d acts, reported up to %d, recomputed from the bundles\n", f.Key, f.Acts, f.ReportedUpTo)
	}
	fmt.Fprintf(e.stdout, "%d figures recomputed, %d failed, %d without bundled leaves\n", checked, failed, skipped)
	if failed > 0 {
		return fmt.Errorf("%d of %d figures do not match their bundled records", failed, checked)
	}
	if checked == 0 {
		return errors.New("no figure's records are in the bundles")
	}
	return nil
}

// readBundleRecords verifies a bundle with the log key and adds every
// verified item that carries its content to byLeaf.
func readBundleRecords(path string, lv note.Verifier, byLeaf map[int64]stats.Record) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := bundle.Verify(f, st.Size(), lv, bundle.Limits{})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return err
	}
	files := map[string]*zip.File{}
	for _, zf := range zr.File {
		files[zf.Name] = zf
	}
	var bad []string
	for _, r := range rep.Items {
		if !r.OK() {
			bad = append(bad, r.ID+" ("+r.Part+")")
			continue
		}
		if !r.HasContent {
			continue
		}
		stmt, err := readZip(files["items/"+r.ID+"/statement.txt"], 1<<20)
		if err != nil {
			return fmt.Errorf("%s: item %s: %w", path, r.ID, err)
		}
		s, err := evlog.ParseStatement(stmt)
		if err != nil {
			return fmt.Errorf("%s: item %s: %w", path, r.ID, err)
		}
		doc, err := readZip(files["items/"+r.ID+"/content"], 16<<20)
		if err != nil {
			return fmt.Errorf("%s: item %s: %w", path, r.ID, err)
		}
		id, err := vigil.ParseID(r.ID)
		if err != nil {
			return fmt.Errorf("%s: item %s: %w", path, r.ID, err)
		}
		byLeaf[r.Index] = stats.Record{Kind: s.Kind, ID: id, Document: doc}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("%s: items failed verification: %v", path, bad)
	}
	return nil
}

func readZip(f *zip.File, max int64) ([]byte, error) {
	if f == nil {
		return nil, errors.New("missing from the bundle")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errors.New("too large")
	}
	return b, nil
}
