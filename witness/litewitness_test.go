package witness_test

import (
	"strings"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/internal/witnesstest"
	"github.com/vigil-hr/vigil/witness"
)

// TestLitewitness checks vigil's client against litewitness, a tlog-witness
// we did not write (filippo.io/torchwood/cmd/litewitness@v0.9.0): the test
// starts it on loopback with a throwaway Ed25519 key in a throwaway ssh-agent,
// adds the test log with witnessctl, and checks that the client gets
// cosignatures as the log grows (learning litewitness's size from its 409),
// that torchwood's cosignature verifier accepts them, and that a forked log
// raises the alarm.
//
// It needs litewitness and witnessctl (on PATH, in $GOBIN or buildable with
// go install) and ssh-agent, ssh-add and ssh-keygen (Debian: openssh-client).
// Without them it skips, unless VIGIL_REQUIRE_WITNESS=1.
func TestLitewitness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs litewitness")
	}
	ctx := t.Context()
	log := newMemLog(t, "vigil.example/interop-log")
	const name = "litewitness.example/w1"
	lw := witnesstest.StartLitewitness(t, name, log.vkey)
	vkey, addr := lw.VKey, strings.TrimPrefix(lw.URL, "http://")
	// Our own computation of its vkey, from the SSH public key, must agree.
	if want, err := witness.VerifierKey(name, lw.Key); err != nil || vkey != want || vkey != witnesstest.VKeyOf(name, lw.Key) {
		t.Fatalf("litewitness vkey %q; computed from the SSH key %q (%v)", vkey, want, err)
	}

	v, err := witness.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	tv, err := torchwood.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	ws := []witness.Witness{{Name: "litewitness", Verifier: v, URL: "http://" + addr}}
	policy := torchwood.ThresholdPolicy(3,
		torchwood.OriginPolicy(log.origin),
		torchwood.SingleVerifierPolicy(mustVerifier(t, log.vkey)),
		torchwood.SingleVerifierPolicy(tv))

	var c witness.Client
	for i, k := range []int{5, 0, 250, 3} {
		if i == 2 {
			c = witness.Client{} // learns litewitness's size from a 409
		}
		log.add(t, k, "entry")
		res := c.Cosign(ctx, ws, log.checkpoint(t), log)
		if len(res.Errs) != 0 {
			t.Fatalf("size %d: %v", log.n, res.Errs)
		}
		cp, _, err := torchwood.VerifyCheckpoint(res.Cosigned, policy)
		if err != nil || cp.N != log.n {
			t.Fatalf("size %d: torchwood does not verify %q: %v", log.n, res.Cosigned, err)
		}
		t.Logf("size %d cosigned by litewitness:\n%s", log.n, res.Cosigned)
	}

	// A fork: the same key signs a rewritten history.
	for _, f := range []*memLog{forkAt(t, log, 100, 0), forkAt(t, log, 100, 400)} {
		res := (&witness.Client{}).Cosign(ctx, ws, f.checkpoint(t), f)
		if res.Conflict() == nil {
			t.Fatalf("fork of size %d: no alarm (errors %v)", f.n, res.Errs)
		}
		t.Logf("fork of size %d: %v", f.n, res.Conflict())
	}
	// litewitness still has the true log.
	log.add(t, 1, "entry")
	if res := c.Cosign(ctx, ws, log.checkpoint(t), log); len(res.Errs) != 0 {
		t.Fatalf("after the fork attempts: %v", res.Errs)
	}
}

// forkAt returns a log with l's key and first n entries, then entries that
// differ from l's up to l's size plus extra.
func forkAt(t *testing.T, l *memLog, n int64, extra int) *memLog {
	f := l.fork(n)
	f.add(t, int(l.n-n)+extra, "fork")
	return f
}

var _ tlog.HashReader = (*memLog)(nil)
