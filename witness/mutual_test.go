package witness_test

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/sqlite"
	"github.com/vigil-hr/vigil/witness"
)

// vigilLog is a vigil evidence log as serve runs it: a SQLite store, evlog
// appends and a Checkpointer with its anchor file.
type vigilLog struct {
	origin string
	vkey   string
	db     *sqlite.DB
	cp     *evlog.Checkpointer
	n      int64
}

func newVigilLog(t *testing.T, origin, skey, vkey string) *vigilLog {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &vigilLog{origin: origin, vkey: vkey, db: db,
		cp: &evlog.Checkpointer{Signer: s, Verifier: mustVerifier(t, vkey), AnchorPath: filepath.Join(dir, "checkpoint")}}
}

func (l *vigilLog) add(t *testing.T, k int, tag string) {
	t.Helper()
	err := l.db.Update(t.Context(), func(tx store.Tx) error {
		for range k {
			if _, err := evlog.Append(tx, sha256.Sum256(fmt.Appendf(nil, "%s %d", tag, l.n))); err != nil {
				return err
			}
			l.n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (l *vigilLog) sign(t *testing.T) []byte {
	t.Helper()
	var signed []byte
	err := l.db.Update(t.Context(), func(tx store.Tx) error {
		var err error
		signed, err = l.cp.Sign(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// hashes reads the log's stored hashes, one read transaction per call.
func (l *vigilLog) hashes(t *testing.T) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		var hs []tlog.Hash
		err := l.db.View(t.Context(), func(tx store.ReadTx) error {
			var err error
			hs, err = tx.ReadHashes(idx)
			return err
		})
		return hs, err
	})
}

// TestMutualWitnessing runs two vigil logs, each with a vigil witness, each
// witness cosigning the other's log; then a fork of one log (same key, a
// second database whose history differs, a fresh anchor) is refused by the
// other's witness and the client raises the alarm.
func TestMutualWitnessing(t *testing.T) {
	skeyA, vkeyA, _ := note.GenerateKey(nil, "ngo-a.example/log")
	skeyB, vkeyB, _ := note.GenerateKey(nil, "ngo-b.example/log")
	a := newVigilLog(t, "ngo-a.example/log", skeyA, vkeyA)
	b := newVigilLog(t, "ngo-b.example/log", skeyB, vkeyB)
	// A's witness witnesses B, and B's witnesses A.
	witA := newTestWitness(t, "ngo-a.example/witness", &memLog{origin: b.origin, vkey: b.vkey})
	witB := newTestWitness(t, "ngo-b.example/witness", &memLog{origin: a.origin, vkey: a.vkey})
	var clientA, clientB witness.Client

	policy := func(l *vigilLog, w *testWitness) torchwood.Policy {
		return torchwood.ThresholdPolicy(3, torchwood.OriginPolicy(l.origin),
			torchwood.SingleVerifierPolicy(mustVerifier(t, l.vkey)), cosignerPolicy(t, w))
	}
	for round, k := range []int{1, 40, 0, 300} {
		a.add(t, k, "a")
		b.add(t, k+round, "b")
		resA := clientA.Cosign(t.Context(), []witness.Witness{witB.witness(t)}, a.sign(t), a.hashes(t))
		resB := clientB.Cosign(t.Context(), []witness.Witness{witA.witness(t)}, b.sign(t), b.hashes(t))
		if len(resA.Errs)+len(resB.Errs) != 0 {
			t.Fatalf("round %d: %v %v", round, resA.Errs, resB.Errs)
		}
		if c, _, err := torchwood.VerifyCheckpoint(resA.Cosigned, policy(a, witB)); err != nil || c.N != a.n {
			t.Fatalf("round %d: A's checkpoint cosigned by B: %v", round, err)
		}
		if c, _, err := torchwood.VerifyCheckpoint(resB.Cosigned, policy(b, witA)); err != nil || c.N != b.n {
			t.Fatalf("round %d: B's checkpoint cosigned by A: %v", round, err)
		}
	}

	// Whoever holds A's key rewrites its history: a second database with
	// other entries and no anchor, so A's own fork check cannot see it.
	for _, extra := range []int{0, 25} {
		fork := newVigilLog(t, a.origin, skeyA, vkeyA)
		fork.add(t, int(a.n)-100, "a") // the same first entries...
		fork.add(t, 100+extra, "rewritten")
		signed := fork.sign(t)
		for _, c := range []*witness.Client{&clientA, {}} {
			res := c.Cosign(t.Context(), []witness.Witness{witB.witness(t)}, signed, fork.hashes(t))
			if res.Conflict() == nil {
				t.Fatalf("fork of size %d cosigned: errors %v", fork.n, res.Errs)
			}
			t.Logf("fork of size %d: %v", fork.n, res.Conflict())
		}
		st, err := witB.db.Log(t.Context(), a.origin)
		if err != nil || st.Size != a.n {
			t.Fatalf("B's witness state for A: size %d, %v; want %d", st.Size, err, a.n)
		}
	}

	// The true log goes on being witnessed.
	a.add(t, 2, "a")
	if res := clientA.Cosign(t.Context(), []witness.Witness{witB.witness(t)}, a.sign(t), a.hashes(t)); len(res.Errs) != 0 {
		t.Fatalf("true log after the fork: %v", res.Errs)
	}
}
