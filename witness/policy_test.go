package witness_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/vigil-hr/vigil/witness"
)

// TestPolicy checks the quorum offline: a checkpoint cosigned by the
// required witnesses verifies, optional witnesses do not count, and a policy
// naming a witness that did not cosign fails naming it.
func TestPolicy(t *testing.T) {
	log := newMemLog(t, "example.com/log")
	w1 := newTestWitness(t, "w1.example/w", log)
	w2 := newTestWitness(t, "w2.example/w", log)
	opt := newTestWitness(t, "opt.example/w", log)
	absent := newTestWitness(t, "absent.example/w", log)
	pw := func(w *testWitness, name string, optional bool) witness.PolicyWitness {
		return witness.PolicyWitness{Name: name, VKey: w.signer.VerifierKey(), URL: w.srv.URL, Optional: optional}
	}
	asked := witness.Policy{Witnesses: []witness.PolicyWitness{pw(w1, "w1", false), pw(w2, "w2", false), pw(opt, "opt", true)}}
	if err := asked.Valid(true); err != nil {
		t.Fatal(err)
	}
	ws, err := asked.Client()
	if err != nil {
		t.Fatal(err)
	}
	log.add(t, 9, "a")
	res := (&witness.Client{}).Cosign(t.Context(), ws, log.checkpoint(t), log)
	if len(res.Errs) != 0 {
		t.Fatal(res.Errs)
	}
	lv := mustVerifier(t, log.vkey)

	for _, test := range []struct {
		name    string
		policy  witness.Policy
		missing []string // nil: verifies
	}{
		{"all required", asked, nil},
		{"quorum 1 of 2", witness.Policy{Quorum: 1, Witnesses: []witness.PolicyWitness{pw(w1, "w1", false), pw(absent, "absent", false)}}, nil},
		{"missing witness", witness.Policy{Witnesses: []witness.PolicyWitness{pw(w1, "w1", false), pw(absent, "absent", false)}}, []string{"absent"}},
		{"optional does not count", witness.Policy{Quorum: 1, Witnesses: []witness.PolicyWitness{pw(opt, "opt", true), pw(absent, "absent", false)}}, []string{"absent"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			c, have, err := test.policy.Verify(res.Cosigned, lv)
			var qe *witness.QuorumError
			switch {
			case test.missing == nil && err != nil:
				t.Fatalf("Verify: %v", err)
			case test.missing != nil && !errors.As(err, &qe):
				t.Fatalf("Verify: err = %v, want a QuorumError", err)
			case test.missing != nil && !slices.Equal(qe.Missing, test.missing):
				t.Fatalf("missing %v, want %v", qe.Missing, test.missing)
			}
			if c.N != 9 {
				t.Errorf("checkpoint size %d", c.N)
			}
			t.Logf("cosigned by %v; err %v", have, err)
		})
	}
	for _, bad := range []witness.Policy{
		{Quorum: 3, Witnesses: asked.Witnesses},
		{Witnesses: []witness.PolicyWitness{pw(w1, "w1", false), pw(w2, "w1", false)}},
		{Witnesses: []witness.PolicyWitness{{Name: "x", VKey: log.vkey, URL: "http://x"}}},
		{Witnesses: []witness.PolicyWitness{{Name: "x", VKey: w1.signer.VerifierKey(), URL: "ftp://x"}}},
	} {
		if err := bad.Valid(true); err == nil {
			t.Errorf("Valid(%+v) = nil", bad)
		}
	}
}
