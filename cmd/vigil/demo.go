package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base32"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/internal/datadir"
)

//go:embed demo/*.txt
var demoFiles embed.FS

const demoHelp = `[--public ADDR] [--staff ADDR]
       vigil demo --case DIR [--passphrase-file FILE]

A throwaway instance: a fresh data directory in a temporary directory with
three sample files (encrypted, each a log leaf), an evidence bundle of them,
an admin API token, and a worked example of a case (docs/demo-case.md): a
fictional wave of detentions with sources of different grades and origins,
officials' denials and victim ranges, so that every status, flag and figure
shows. It serves the public and staff listeners until Ctrl-C, then deletes
everything.

With --case DIR it creates the data directory at DIR instead (DIR must not
exist or be empty), with the same sample files and case, prints the case's
summary and exits, so that you can try vigil acts and vigil figures on it.
Its passphrase is --passphrase-file or $VIGIL_PASSPHRASE if given, else a
random one, printed.`

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", demoHelp)
	pub := fs.String("public", "127.0.0.1:8080", "public listener `ADDR`")
	staff := fs.String("staff", "127.0.0.1:8081", "staff listener `ADDR`")
	caseDir := fs.String("case", "", "create the data directory at `DIR` with the worked example, and exit")
	pfile := fs.String("passphrase-file", "", "with --case: read the admin passphrase from `FILE`")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"demo takes no arguments (see vigil demo --help)"}
	}
	if *caseDir != "" {
		return demoCaseOnly(ctx, e, *caseDir, *pfile)
	}
	tmp, err := os.MkdirTemp("", "vigil-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "data")
	pass := demoPassphrase()
	fmt.Fprintf(e.stdout, "vigil demo: a throwaway instance in %s (removed on Ctrl-C)\n", tmp)
	fmt.Fprintf(e.stdout, "admin passphrase: %s\n", pass)
	cfg, d, ids, err := demoData(ctx, e, dir, pass)
	if err != nil {
		return err
	}
	defer d.Close()
	bundlePath := filepath.Join(tmp, "case.zip")
	if err := exportBundle(ctx, d, ids, true, bundlePath); err != nil {
		return err
	}
	token, _, err := newTokens(d).Create(ctx, "demo", "demo", auth.RoleAdmin)
	if err != nil {
		return err
	}
	return serve(ctx, e, d, serveConfig{Public: *pub, Staff: *staff, Interval: time.Second}, func(pubURL, staffURL string) {
		fmt.Fprintf(e.stdout, "\nPublic listener: %s\nStaff listener:  %s\n\nTry:\n", pubURL, staffURL)
		fmt.Fprintf(e.stdout, "  curl %s.well-known/vigil.json     # the public keys\n", pubURL)
		fmt.Fprintf(e.stdout, "  curl %slog/checkpoint             # the signed checkpoint (C2SP tlog-checkpoint)\n", pubURL)
		fmt.Fprintf(e.stdout, "  curl -s %slog/tile/entries/000.p/%d | xxd | head   # log entries: hiding commitments, nothing readable\n", pubURL, len(ids))
		fmt.Fprintf(e.stdout, "  curl %sapi/v1/health                 # only {\"status\":\"up\"} without a token\n", staffURL)
		fmt.Fprintf(e.stdout, "\nAs a source (works with JavaScript off): open %ssubmit, send a testimony, keep the receipt,\nthen come back at %sfollowup. As staff, with the demo's API token:\n", pubURL, pubURL)
		fmt.Fprintf(e.stdout, "  curl -H 'Authorization: Bearer %s' %sapi/v1/health   # seal state and log size\n", token, staffURL)
		fmt.Fprintf(e.stdout, "  curl -H 'Authorization: Bearer %s' %sapi/v1/submissions\n", token, staffURL)
		fmt.Fprintf(e.stdout, "  curl -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n       -d '{\"text\":\"Thank you. Where did it happen?\"}' %sapi/v1/submissions/ID/messages\n", token, staffURL)
		fmt.Fprintf(e.stdout, "\nEvidence:\n")
		fmt.Fprintf(e.stdout, "  unzip -l %s                # an evidence bundle of the samples\n", bundlePath)
		fmt.Fprintf(e.stdout, "  go run ./cmd/vigil verify %s --log-key '%s'\n", bundlePath, cfg.LogVKey)
		fmt.Fprintf(e.stdout, "\nThe worked case is in this instance too. vigil acts and vigil figures open a data directory\nno server holds; to try them on a copy of the case:\n")
		fmt.Fprintf(e.stdout, "  go run ./cmd/vigil demo --case /tmp/vigil-case && export VIGIL_DATA=/tmp/vigil-case\n")
		fmt.Fprintf(e.stdout, "\nThe vault is unsealed. Seal it: go run ./cmd/vigil seal --staff %s\nCtrl-C stops the demo and deletes everything.\n", strings.TrimSuffix(strings.TrimPrefix(staffURL, "http://"), "/"))
	})
}

// demoPassphrase returns a random passphrase of four groups of six
// letters and digits.
func demoPassphrase() string {
	var raw [15]byte
	rand.Read(raw[:])
	pass := strings.ToLower(base32.StdEncoding.EncodeToString(raw[:]))
	return pass[0:6] + "-" + pass[6:12] + "-" + pass[12:18] + "-" + pass[18:24]
}

// demoData creates the data directory at dir, ingests the sample files,
// unseals it and writes the worked case, printing what it did. The caller
// closes the directory.
func demoData(ctx context.Context, e *env, dir, pass string) (datadir.Config, *datadir.Dir, []vigil.ID, error) {
	cfg, err := datadir.Init(dir, []byte(pass), datadir.Options{Origin: "vigil.localhost/demo"})
	if err != nil {
		return cfg, nil, nil, err
	}
	d, err := datadir.Open(ctx, dir)
	if err != nil {
		return cfg, nil, nil, err
	}
	ents, _ := demoFiles.ReadDir("demo")
	var ids []vigil.ID
	var testimony vigil.ID
	fmt.Fprintf(e.stdout, "\nIngested sample files (encrypted; each a log leaf):\n")
	for _, en := range ents {
		b, _ := demoFiles.ReadFile("demo/" + en.Name())
		it, err := d.Evidence.Add(ctx, bytes.NewReader(b), en.Name(), "text/plain")
		if err != nil {
			d.Close()
			return cfg, nil, nil, err
		}
		ids = append(ids, it.ID)
		if en.Name() == "testimony-en.txt" {
			testimony = it.ID
		}
		fmt.Fprintf(e.stdout, "  %s  leaf %d  %s\n", it.ID, it.LeafIndex, en.Name())
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		d.Close()
		return cfg, nil, nil, err
	}
	acts, err := buildDemoCase(ctx, d, testimony)
	if err != nil {
		d.Close()
		return cfg, nil, nil, err
	}
	fmt.Fprintf(e.stdout, "\nA worked case (fictional; docs/demo-case.md): a wave of detentions, spring 2017.\nIts acts (testimony-en.txt is linked as evidence to V-1's account):\n")
	if err := writeDemoSummary(ctx, e.stdout, d, acts); err != nil {
		d.Close()
		return cfg, nil, nil, err
	}
	return cfg, d, ids, nil
}

// demoCaseOnly is vigil demo --case DIR.
func demoCaseOnly(ctx context.Context, e *env, dir, pfile string) error {
	var pass string
	if havePassphrase(e, pfile) {
		p, err := passphrase(e, pfile, false)
		if err != nil {
			return err
		}
		pass = string(p)
	} else {
		pass = demoPassphrase()
		fmt.Fprintf(e.stdout, "admin passphrase: %s\n", pass)
	}
	fmt.Fprintf(e.stdout, "vigil demo: the worked case in %s\n", dir)
	_, d, _, err := demoData(ctx, e, dir, pass)
	if err != nil {
		return err
	}
	if err := d.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nTry (the passphrase above, or VIGIL_PASSPHRASE):\n")
	fmt.Fprintf(e.stdout, "  vigil acts --data %s\n", dir)
	fmt.Fprintf(e.stdout, "  vigil acts --data %s --lang ru --json\n", dir)
	fmt.Fprintf(e.stdout, "  vigil figures --data %s\n", dir)
	fmt.Fprintf(e.stdout, "  vigil figures --data %s --by month\n", dir)
	fmt.Fprintf(e.stdout, "  vigil figures --data %s --by place --json\n", dir)
	return nil
}
