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

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[--public ADDR] [--staff ADDR]")
	pub := fs.String("public", "127.0.0.1:8080", "public listener `ADDR`")
	staff := fs.String("staff", "127.0.0.1:8081", "staff listener `ADDR`")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "vigil-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "data")
	var raw [15]byte
	rand.Read(raw[:])
	pass := strings.ToLower(base32.StdEncoding.EncodeToString(raw[:]))
	pass = pass[0:6] + "-" + pass[6:12] + "-" + pass[12:18] + "-" + pass[18:24]
	fmt.Fprintf(e.stdout, "vigil demo: a throwaway instance in %s (removed on Ctrl-C)\n", tmp)
	fmt.Fprintf(e.stdout, "admin passphrase: %s\n", pass)
	cfg, err := datadir.Init(dir, []byte(pass), datadir.Options{Origin: "vigil.localhost/demo"})
	if err != nil {
		return err
	}
	d, err := datadir.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer d.Close()
	ents, _ := demoFiles.ReadDir("demo")
	var ids []vigil.ID
	fmt.Fprintf(e.stdout, "\nIngested sample files (encrypted; each a log leaf):\n")
	for _, en := range ents {
		b, _ := demoFiles.ReadFile("demo/" + en.Name())
		it, err := d.Evidence.Add(ctx, bytes.NewReader(b), en.Name(), "text/plain")
		if err != nil {
			return err
		}
		ids = append(ids, it.ID)
		fmt.Fprintf(e.stdout, "  %s  leaf %d  %s\n", it.ID, it.LeafIndex, en.Name())
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		return err
	}
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
		fmt.Fprintf(e.stdout, "\nThe vault is unsealed. Seal it: go run ./cmd/vigil seal --staff %s\nCtrl-C stops the demo and deletes everything.\n", strings.TrimSuffix(strings.TrimPrefix(staffURL, "http://"), "/"))
	})
}
