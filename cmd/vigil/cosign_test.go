package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/witness"
)

// TestServeWitnessed runs serve in-process with a witness policy naming a
// vigil witness: the public /log/checkpoint is the cosigned checkpoint once
// the quorum holds (torchwood verifies it under the policy); when the witness
// knows a different tree for the log, the alarm stops signing, is written to
// DIR/witness-alarm and shows on the staff health.
func TestServeWitnessed(t *testing.T) {
	const pass = "witnessed serve passphrase"
	d := datadirtest.Open(t, pass)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	// A vigil witness for this log.
	wdb, err := witness.OpenDB(ctx, filepath.Join(t.TempDir(), "witness.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer wdb.Close()
	if err := wdb.AddLog(ctx, d.Config.Origin, d.Config.LogVKey); err != nil {
		t.Fatal(err)
	}
	_, wkey, _ := ed25519.GenerateKey(nil)
	ws, err := witness.NewSigner("witness.example/w1", wkey, nil)
	if err != nil {
		t.Fatal(err)
	}
	wsrv := httptest.NewServer(&witness.Server{DB: wdb, Signer: ws})
	defer wsrv.Close()
	d.Config.Witness = &witness.Policy{Witnesses: []witness.PolicyWitness{{Name: "w1", VKey: ws.VerifierKey(), URL: wsrv.URL}}}

	appendEntries(t, d.Store, 0, 30)
	var logOut interopBuffer
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	urls := make(chan [2]string, 1)
	go func() {
		done <- serve(sctx, &env{stdout: io.Discard, stderr: &logOut, getenv: os.Getenv}, d,
			serveConfig{Public: "127.0.0.1:0", Staff: "127.0.0.1:0", Interval: time.Second},
			func(pub, staff string) { urls <- [2]string{pub, staff} })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	u := <-urls
	pub, staff := u[0], u[1]

	tv, err := torchwood.NewCosignatureVerifier(ws.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	policy := torchwood.ThresholdPolicy(3, torchwood.OriginPolicy(d.Config.Origin),
		torchwood.SingleVerifierPolicy(mustNoteVerifier(t, d.Config.LogVKey)), torchwood.SingleVerifierPolicy(tv))
	var cp torchwood.Checkpoint
	waitUntil(t, 15*time.Second, func() bool {
		b, code := getBody(t, pub+"log/checkpoint")
		if code != http.StatusOK {
			return false
		}
		cp, _, err = torchwood.VerifyCheckpoint(b, policy)
		if err != nil {
			t.Fatalf("public checkpoint %q does not verify under the policy: %v", b, err)
		}
		return cp.N == 30
	})

	// The witness now holds another tree at size 30, as if a fork of this
	// log had been cosigned: the next checkpoint raises the alarm.
	err = wdb.Advance(ctx, d.Config.Origin, func(st witness.LogState) (witness.LogState, error) {
		st.Hash = sha256.Sum256([]byte("another tree"))
		return st, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	appendEntries(t, d.Store, 30, 5)
	waitUntil(t, 15*time.Second, func() bool { return strings.Contains(logOut.String(), "WITNESS ALARM") })
	if _, err := os.Stat(filepath.Join(d.Path, "witness-alarm")); err != nil {
		t.Errorf("alarm file not written before the alarm was logged: %v", err)
	}
	signedAt := latestSize(t, d.Store)
	appendEntries(t, d.Store, 35, 5)
	time.Sleep(2500 * time.Millisecond) // two more ticks
	if n := latestSize(t, d.Store); n != signedAt {
		t.Errorf("signed a checkpoint of size %d during the alarm (was %d)", n, signedAt)
	}
	if b, _ := getBody(t, pub+"log/checkpoint"); !strings.Contains(string(b), "\n30\n") {
		t.Errorf("public checkpoint moved past the last cosigned one: %q", b)
	}

	secret, _, err := newTokens(d).Create(ctx, "test", "health", vigil.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", staff+"api/v1/health", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var h api.Health
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if !strings.Contains(h.WitnessAlarm, "ALARM") {
		t.Errorf("health %+v shows no witness alarm", h)
	}
	t.Logf("health: %+v", h)
}

func appendEntries(t *testing.T, s store.Store, from, k int) {
	t.Helper()
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range k {
			if _, err := evlog.Append(tx, sha256.Sum256(fmt.Appendf(nil, "entry %d", from+i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func latestSize(t *testing.T, s store.Store) int64 {
	t.Helper()
	var n int64 = -1
	err := s.View(t.Context(), func(tx store.ReadTx) error {
		cp, err := tx.LatestCheckpoint()
		if err != nil || cp == nil {
			return err
		}
		text, _, _ := strings.Cut(string(cp), "\n\n")
		c, err := evlog.ParseCheckpoint(text + "\n")
		n = c.N
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func getBody(t *testing.T, url string) ([]byte, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b, resp.StatusCode
}

func waitUntil(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustNoteVerifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
