package witness_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/witness"
)

// testWitness is a vigil witness on an httptest server with a fresh DB.
type testWitness struct {
	db     *witness.DB
	signer *witness.Signer
	srv    *httptest.Server
	dbPath string
}

func newTestWitness(tb testing.TB, name string, logs ...*memLog) *testWitness {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "witness.db")
	db, err := witness.OpenDB(tb.Context(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	for _, l := range logs {
		if err := db.AddLog(tb.Context(), l.origin, l.vkey); err != nil {
			tb.Fatal(err)
		}
	}
	s := newSigner(tb, name)
	srv := httptest.NewServer(&witness.Server{DB: db, Signer: s})
	tb.Cleanup(srv.Close)
	return &testWitness{db: db, signer: s, srv: srv, dbPath: path}
}

func (w *testWitness) witness(tb testing.TB) witness.Witness {
	tb.Helper()
	v, err := witness.NewVerifier(w.signer.VerifierKey())
	if err != nil {
		tb.Fatal(err)
	}
	return witness.Witness{Name: w.signer.Name(), Verifier: v, URL: w.srv.URL}
}

func post(tb testing.TB, url string, body []byte) (int, string, string) {
	tb.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func request(old int64, proof tlog.TreeProof, signed []byte) []byte {
	return witness.AddCheckpoint{OldSize: old, Proof: proof, Checkpoint: signed}.Marshal()
}

// TestServer checks each status c2sp.org/tlog-witness prescribes for
// add-checkpoint, and that a refused request leaves the state unchanged.
func TestServer(t *testing.T) {
	log := newMemLog(t, "example.com/log")
	unknown := newMemLog(t, "example.com/unknown")
	impostor := newMemLog(t, "example.com/log") // same origin, another key
	w := newTestWitness(t, "witness.example/w1", log)

	log.add(t, 10, "a")
	cp10 := log.checkpoint(t)
	code, _, body := post(t, w.srv.URL, request(0, nil, cp10))
	if code != http.StatusOK {
		t.Fatalf("first checkpoint: %d %s", code, body)
	}
	if !strings.HasPrefix(body, "— witness.example/w1 ") || !strings.HasSuffix(body, "\n") {
		t.Fatalf("answer %q is not a cosignature line", body)
	}
	tv, err := torchwood.NewCosignatureVerifier(w.signer.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(append(bytes.Clone(cp10), body...), note.VerifierList(tv)); err != nil {
		t.Fatalf("torchwood does not verify the cosignature: %v", err)
	}

	log.add(t, 7, "b")
	cp17 := log.checkpoint(t)
	proof, err := tlog.ProveTree(17, 10, log)
	if err != nil {
		t.Fatal(err)
	}
	badProof := append(tlog.TreeProof(nil), proof...)
	badProof[0][0] ^= 1
	impostor.add(t, 17, "x")
	fork := log.fork(5) // rewrites entries 5-9, which the witness cosigned
	fork.add(t, 12, "forked")
	forkProof, _ := tlog.ProveTree(17, 10, fork)
	sameSizeFork := newMemLog(t, "x").fork(0)
	sameSizeFork.origin, sameSizeFork.signer, sameSizeFork.vkey = log.origin, log.signer, log.vkey
	sameSizeFork.add(t, 10, "other")
	tampered := bytes.Replace(cp17, []byte("\n17\n"), []byte("\n18\n"), 1)

	for _, test := range []struct {
		name string
		body []byte
		code int
	}{
		{"malformed", []byte("old x\n\n"), http.StatusBadRequest},
		{"not a checkpoint", request(10, proof, []byte("hello\n\n— a b\n")), http.StatusBadRequest},
		{"unknown origin", request(0, nil, unknown.checkpoint(t)), http.StatusNotFound},
		{"untrusted key", request(10, proof, impostor.checkpoint(t)), http.StatusForbidden},
		{"bad signature", request(10, proof, tampered), http.StatusForbidden},
		{"old size beyond checkpoint", request(18, nil, cp17), http.StatusBadRequest},
		{"wrong old size", request(5, proof, cp17), http.StatusConflict},
		{"old size zero while known", request(0, nil, cp17), http.StatusConflict},
		{"bad proof", request(10, badProof, cp17), http.StatusUnprocessableEntity},
		{"no proof", request(10, nil, cp17), http.StatusUnprocessableEntity},
		{"forked tree", request(10, forkProof, fork.checkpoint(t)), http.StatusUnprocessableEntity},
		{"other root at the same size", request(10, nil, sameSizeFork.checkpoint(t)), http.StatusUnprocessableEntity},
	} {
		t.Run(test.name, func(t *testing.T) {
			code, ctype, body := post(t, w.srv.URL, test.body)
			if code != test.code {
				t.Fatalf("status %d (%s), want %d", code, strings.TrimSpace(body), test.code)
			}
			if code == http.StatusConflict && (body != "10\n" || ctype != "text/x.tlog.size") {
				t.Errorf("409 body %q, type %q; want \"10\\n\", text/x.tlog.size", body, ctype)
			}
			st, err := w.db.Log(t.Context(), log.origin)
			if err != nil || st.Size != 10 {
				t.Fatalf("state after refusal: size %d, %v; want 10", st.Size, err)
			}
		})
	}

	// The refused forks were kept as evidence: each request's checkpoint is
	// signed by the log, as is the cosigned checkpoint it contradicts.
	cs, err := w.db.Conflicts(t.Context(), log.origin)
	if err != nil || len(cs) < 3 {
		t.Fatalf("conflicts: %d, %v; want the 3 forks and bad proofs", len(cs), err)
	}
	for _, c := range cs {
		r, err := witness.ParseAddCheckpoint(c.Request)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := note.Open(r.Checkpoint, note.VerifierList(mustVerifier(t, log.vkey))); err != nil {
			t.Errorf("kept request not signed by the log: %v", err)
		}
		if _, err := note.Open(c.Cosigned, note.VerifierList(mustVerifier(t, log.vkey))); err != nil {
			t.Errorf("kept cosigned checkpoint not signed by the log: %v", err)
		}
	}

	// The same checkpoint again is cosigned again; then the extension.
	if code, _, body := post(t, w.srv.URL, request(10, nil, cp10)); code != http.StatusOK {
		t.Fatalf("same checkpoint again: %d %s", code, body)
	}
	if code, _, body := post(t, w.srv.URL, request(10, proof, cp17)); code != http.StatusOK {
		t.Fatalf("consistent checkpoint: %d %s", code, body)
	}
	st, err := w.db.Log(t.Context(), log.origin)
	if err != nil || st.Size != 17 {
		t.Fatalf("state: size %d, %v; want 17", st.Size, err)
	}

	// The monitoring endpoint serves it with both signatures.
	h := sha256Hex(log.origin)
	resp, err := http.Get(w.srv.URL + "/" + h + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET checkpoint: %d", resp.StatusCode)
	}
	policy := torchwood.ThresholdPolicy(3, torchwood.OriginPolicy(log.origin), torchwood.SingleVerifierPolicy(mustVerifier(t, log.vkey)), torchwood.SingleVerifierPolicy(tv))
	if c, _, err := torchwood.VerifyCheckpoint(served, policy); err != nil || c.N != 17 {
		t.Fatalf("served checkpoint %q: %v", served, err)
	}
}

// TestServerEmptyTree checks the size-zero rule: the root must be the empty
// tree's.
func TestServerEmptyTree(t *testing.T) {
	log := newMemLog(t, "example.com/log")
	w := newTestWitness(t, "witness.example/w1", log)
	bad := fmt.Sprintf("%s\n0\n%s\n", log.origin, base64.StdEncoding.EncodeToString(make([]byte, 32)))
	signed, err := note.Sign(&note.Note{Text: bad}, log.signer)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := post(t, w.srv.URL, request(0, nil, signed)); code != http.StatusUnprocessableEntity {
		t.Fatalf("size 0 with a wrong root: %d %s", code, body)
	}
	if code, _, body := post(t, w.srv.URL, request(0, nil, log.checkpoint(t))); code != http.StatusOK {
		t.Fatalf("empty tree: %d %s", code, body)
	}
}

// TestServerRace submits many checkpoints with the same old size at once:
// checking the old size and recording the new checkpoint are atomic, so
// exactly one is cosigned and the others get 409 with its size (the race the
// tlog-witness spec warns about would roll the state back).
func TestServerRace(t *testing.T) {
	log := newMemLog(t, "example.com/log")
	w := newTestWitness(t, "witness.example/w1", log)
	log.add(t, 10, "a")
	if code, _, body := post(t, w.srv.URL, request(0, nil, log.checkpoint(t))); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	type sub struct {
		n    int64
		body []byte
	}
	var subs []sub
	for range 16 {
		log.add(t, 1, "a")
		proof, err := tlog.ProveTree(log.n, 10, log)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub{log.n, request(10, proof, log.checkpoint(t))})
	}
	codes := make([]int, len(subs))
	bodies := make([]string, len(subs))
	var wg sync.WaitGroup
	for i, s := range subs {
		wg.Go(func() {
			resp, err := http.Post(w.srv.URL+"/add-checkpoint", "text/plain", bytes.NewReader(s.body))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			codes[i], bodies[i] = resp.StatusCode, string(b)
		})
	}
	wg.Wait()
	var won int64 = -1
	for i, c := range codes {
		switch c {
		case http.StatusOK:
			if won != -1 {
				t.Fatalf("two checkpoints cosigned from old size 10: %d and %d", won, subs[i].n)
			}
			won = subs[i].n
		case http.StatusConflict:
		default:
			t.Fatalf("status %d %s", c, bodies[i])
		}
	}
	for i, c := range codes {
		if c == http.StatusConflict && bodies[i] != fmt.Sprintf("%d\n", won) {
			t.Errorf("409 body %q, want the winner's size %d", bodies[i], won)
		}
	}
	if st, err := w.db.Log(t.Context(), log.origin); err != nil || st.Size != won {
		t.Fatalf("state %d, %v; want %d", st.Size, err, won)
	}
}
