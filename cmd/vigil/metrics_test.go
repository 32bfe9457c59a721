package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/witness"
)

// Two submissions (one with a file) within one precision window change
// nothing in /metrics until the next boundary's snapshot: not the
// submission and message counts, not the blob bytes, nothing else. Before
// the first boundary the intake counts are absent.
func TestMetricsIntakeWindow(t *testing.T) {
	const pass = "metrics window passphrase"
	dir := filepath.Join(t.TempDir(), "d")
	if _, err := datadir.Init(dir, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := datadir.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tokens := newTokens(d)
	secret, _, err := tokens.Create(ctx, "test", "metrics", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	m := &serveMetrics{d: d, precision: d.Intake.Config.WithDefaults().TimePrecision}
	s := &api.Server{Vault: d.Vault, Tokens: tokens, Metrics: &api.Metrics{Collect: m.collect}}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	scrape := func() string {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET /metrics: %s %s", resp.Status, b)
		}
		// The staff listener's own request counts change with every scrape.
		var keep []string
		for line := range strings.Lines(string(b)) {
			if !strings.Contains(line, "vigil_staff_") {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "")
	}
	submit := func(text string, file []byte) {
		t.Helper()
		var pend []*evidence.Pending
		if file != nil {
			p, err := d.Evidence.Stage(ctx, bytes.NewReader(file), "f.jpg", "")
			if err != nil {
				t.Fatal(err)
			}
			pend = append(pend, p)
		}
		if _, _, err := d.Intake.Submit(ctx, intake.Draft{Text: text}, pend); err != nil {
			t.Fatal(err)
		}
	}

	before := scrape()
	if strings.Contains(before, "vigil_intake_submissions_total") || strings.Contains(before, "vigil_blob_bytes") {
		t.Fatalf("intake counts before the first boundary:\n%s", before)
	}
	submit("one", nil)
	if got := scrape(); got != before {
		t.Errorf("a submission before the first boundary changed /metrics:\n%s\nthen:\n%s", before, got)
	}
	if n, err := m.snapshot(ctx); err != nil || n != 0 { // a boundary
		t.Fatal(n, err)
	}
	window := scrape()
	if !strings.Contains(window, "\nvigil_intake_submissions_total 1\n") || !strings.Contains(window, "\nvigil_blob_bytes 0\n") || !strings.Contains(window, "\nvigil_public_internal_errors_total 0\n") {
		t.Fatalf("after the boundary:\n%s", window)
	}
	submit("two", bytes.Repeat([]byte("x"), 5000))
	submit("three", nil)
	m.intakeFailed() // a submission that failed on our side
	if got := scrape(); got != window {
		t.Errorf("two submissions and a failure within the window changed /metrics:\n%s\nthen:\n%s", window, got)
	}
	if n, err := m.snapshot(ctx); err != nil || n != 1 {
		t.Fatalf("snapshot: %d failures since the last, %v; want 1", n, err)
	}
	next := scrape()
	if !strings.Contains(next, "\nvigil_intake_submissions_total 3\n") || strings.Contains(next, "\nvigil_blob_bytes 0\n") || !strings.Contains(next, "\nvigil_public_internal_errors_total 1\n") {
		t.Errorf("after the next boundary:\n%s", next)
	}
}

// With a witness policy, /metrics says the quorum and whether an alarm
// stands (read from DIR/witness-alarm at start, as serve does).
func TestMetricsWitness(t *testing.T) {
	const pass = "metrics witness passphrase"
	dir := filepath.Join(t.TempDir(), "d")
	if _, err := datadir.Init(dir, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	vkey, err := witness.VerifierKey("w.example/w", pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, alarm := range []bool{false, true} {
		if alarm {
			if err := os.WriteFile(filepath.Join(dir, datadir.AlarmFile), []byte("conflicting checkpoint\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, err := datadir.Open(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		d.Config.Witness = &witness.Policy{Witnesses: []witness.PolicyWitness{
			{Name: "a", VKey: vkey, URL: "http://127.0.0.1:1/"},
			{Name: "b", VKey: vkey, URL: "http://127.0.0.1:1/", Optional: true},
		}}
		cs, err := newCosigner(d, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		m := &serveMetrics{d: d, cs: cs, precision: time.Hour}
		got := map[string]float64{}
		for _, x := range m.collect(t.Context()) {
			got[x.Name] = x.Value
		}
		want := map[string]float64{"vigil_sealed": 1, "vigil_witness_required": 1, "vigil_witness_alarm": b2f(alarm), "vigil_intake_time_precision_seconds": 3600}
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("alarm %t: %s = %v (present %t), want %v", alarm, k, g, ok, v)
			}
		}
		if _, ok := got["vigil_witness_cosigned_size"]; ok {
			t.Errorf("a cosigned size before any cosignature")
		}
		d.Close()
	}
}
