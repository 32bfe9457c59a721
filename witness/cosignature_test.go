package witness_test

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/witness"
)

func newSigner(tb testing.TB, name string) *witness.Signer {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := witness.NewSigner(name, key, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestCosignatureTorchwood cross-checks cosignature/v1 against torchwood:
// vkeys and key IDs agree, and each side verifies the other's cosignatures.
func TestCosignatureTorchwood(t *testing.T) {
	log := newMemLog(t, "example.com/log")
	log.add(t, 5, "a")
	signed := log.checkpoint(t)

	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	ours, err := witness.NewSigner("witness.example/w1", key, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := torchwood.NewCosignatureSigner("witness.example/w1", key)
	if err != nil {
		t.Fatal(err)
	}
	if ours.KeyHash() != theirs.KeyHash() {
		t.Fatalf("key ID %08x, torchwood %08x", ours.KeyHash(), theirs.KeyHash())
	}
	if got, want := ours.VerifierKey(), theirs.Verifier().String(); got != want {
		t.Fatalf("vkey %q, torchwood %q", got, want)
	}
	tv, err := torchwood.NewCosignatureVerifier(ours.VerifierKey())
	if err != nil {
		t.Fatalf("torchwood.NewCosignatureVerifier(our vkey): %v", err)
	}
	ov, err := witness.NewVerifier(theirs.Verifier().String())
	if err != nil {
		t.Fatalf("NewVerifier(torchwood vkey): %v", err)
	}

	n, err := note.Open(signed, note.VerifierList(mustVerifier(t, log.vkey)))
	if err != nil {
		t.Fatal(err)
	}
	oursSigned, err := note.Sign(n, ours)
	if err != nil {
		t.Fatal(err)
	}
	theirsSigned, err := note.Sign(n, theirs)
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name   string
		signed []byte
		v      note.Verifier
	}{
		{"ours verified by torchwood", oursSigned, tv},
		{"torchwood's verified by ours", theirsSigned, ov},
		{"ours verified by ours", oursSigned, ov},
	} {
		t.Run(test.name, func(t *testing.T) {
			got, err := note.Open(test.signed, note.VerifierList(test.v))
			if err != nil {
				t.Fatalf("note.Open: %v", err)
			}
			ts, err := torchwood.CosignatureTimestamp(got.Sigs[0])
			if err != nil || ts == 0 {
				t.Fatalf("CosignatureTimestamp = %d, %v", ts, err)
			}
			ots, err := witness.Timestamp(got.Sigs[0])
			if err != nil || ots.Unix() != ts {
				t.Fatalf("Timestamp = %v, %v; torchwood %d", ots, err, ts)
			}
		})
	}
	if ts, _ := witness.Timestamp(mustOpen(t, oursSigned, ov).Sigs[0]); !ts.Equal(now) {
		t.Errorf("our cosignature time %v, want the clock's %v", ts, now)
	}

	// A cosignature does not verify over another checkpoint.
	log.add(t, 1, "b")
	other := log.checkpoint(t)
	body, _, _ := strings.Cut(string(other), "\n\n")
	_, sig, _ := strings.Cut(string(oursSigned), "\n\n")
	forged := body + "\n\n" + sig
	if _, err := note.Open([]byte(forged), note.VerifierList(tv)); err == nil {
		t.Errorf("cosignature moved to another checkpoint verified")
	}

	// A log key is not a cosigner key.
	if _, err := witness.NewVerifier(log.vkey); err == nil {
		t.Errorf("NewVerifier accepted a log (Ed25519 note) key")
	}
	// A cosigner only signs checkpoints.
	if _, err := ours.Sign([]byte("not a checkpoint\n")); err == nil {
		t.Errorf("Sign accepted a non-checkpoint")
	}
}

func mustVerifier(tb testing.TB, vkey string) note.Verifier {
	tb.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func mustOpen(tb testing.TB, signed []byte, v note.Verifier) *note.Note {
	tb.Helper()
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
