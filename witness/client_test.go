package witness_test

import (
	"errors"
	"testing"

	"filippo.io/torchwood"

	"github.com/vigil-hr/vigil/witness"
)

// TestClient checks that the client gets cosignatures as the log grows,
// learns a witness's size from a 409 (a new client, as after a restart), and
// that the cosigned checkpoint verifies with torchwood under a policy
// requiring both witnesses.
func TestClient(t *testing.T) {
	log := newMemLog(t, "example.com/log")
	w1 := newTestWitness(t, "witness.example/w1", log)
	w2 := newTestWitness(t, "witness.example/w2", log)
	ws := []witness.Witness{w1.witness(t), w2.witness(t)}
	policy := torchwood.ThresholdPolicy(3,
		torchwood.OriginPolicy(log.origin),
		torchwood.SingleVerifierPolicy(mustVerifier(t, log.vkey)),
		torchwood.ThresholdPolicy(2, cosignerPolicy(t, w1), cosignerPolicy(t, w2)))

	var c witness.Client
	for i, k := range []int{0, 3, 1, 300, 0, 17} {
		if i == 3 {
			c = witness.Client{} // forgets the witnesses' sizes
		}
		log.add(t, k, "a")
		res := c.Cosign(t.Context(), ws, log.checkpoint(t), log)
		if len(res.Errs) != 0 {
			t.Fatalf("round %d (size %d): %v", i, log.n, res.Errs)
		}
		cp, _, err := torchwood.VerifyCheckpoint(res.Cosigned, policy)
		if err != nil || cp.N != log.n {
			t.Fatalf("round %d: cosigned checkpoint %q: %v", i, res.Cosigned, err)
		}
	}
}

// TestClientFork checks that a forked log (same key, history rewritten) is
// refused by the witness and that the client raises the alarm, while the
// witness keeps its state.
func TestClientFork(t *testing.T) {
	log := newMemLog(t, "example.com/log")
	w := newTestWitness(t, "witness.example/w1", log)
	ws := []witness.Witness{w.witness(t)}
	var c witness.Client
	log.add(t, 20, "a")
	if res := c.Cosign(t.Context(), ws, log.checkpoint(t), log); len(res.Errs) != 0 {
		t.Fatal(res.Errs)
	}

	for _, test := range []struct {
		name string
		fork func() *memLog
	}{
		{"same size, other root", func() *memLog { f := log.fork(12); f.add(t, 8, "fork"); return f }},
		{"larger, rewritten", func() *memLog { f := log.fork(12); f.add(t, 30, "fork"); return f }},
		{"smaller (rolled back)", func() *memLog { return log.fork(12) }},
	} {
		t.Run(test.name, func(t *testing.T) {
			f := test.fork()
			for _, c := range []*witness.Client{&c, {}} { // knowing the witness's size, and not
				res := c.Cosign(t.Context(), ws, f.checkpoint(t), f)
				ce := res.Conflict()
				if ce == nil {
					t.Fatalf("no alarm; errors %v", res.Errs)
				}
				var target *witness.ConflictError
				if !errors.As(res.Errs[ws[0].Name], &target) || ce.Witness != ws[0].Name {
					t.Fatalf("alarm %v not from the witness", ce)
				}
				t.Logf("alarm: %v", ce)
			}
			st, err := w.db.Log(t.Context(), log.origin)
			if err != nil || st.Size != 20 {
				t.Fatalf("witness state %d, %v; want 20", st.Size, err)
			}
		})
	}
}

func cosignerPolicy(tb testing.TB, w *testWitness) torchwood.Policy {
	tb.Helper()
	v, err := torchwood.NewCosignatureVerifier(w.signer.VerifierKey())
	if err != nil {
		tb.Fatal(err)
	}
	return torchwood.SingleVerifierPolicy(v)
}
