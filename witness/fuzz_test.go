package witness_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/witness"
)

// FuzzServer posts arbitrary bodies to add-checkpoint of a witness that has
// cosigned size 10 of a log: it never panics, answers only with the statuses
// of the spec, and its state only moves forward along the true log (the
// fuzzer cannot sign, so it can only replay or recombine valid parts).
func FuzzServer(f *testing.F) {
	log := newMemLog(f, "example.com/log")
	log.add(f, 10, "a")
	cp10 := log.checkpoint(f)
	log.add(f, 5, "a")
	cp15 := log.checkpoint(f)
	proof, err := tlog.ProveTree(15, 10, log)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(witness.AddCheckpoint{OldSize: 10, Proof: proof, Checkpoint: cp15}.Marshal())
	f.Add(witness.AddCheckpoint{OldSize: 10, Checkpoint: cp10}.Marshal())
	f.Add(witness.AddCheckpoint{OldSize: 0, Checkpoint: cp15}.Marshal())
	f.Add([]byte(specRequest))

	db, err := witness.OpenDB(f.Context(), filepath.Join(f.TempDir(), "w.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if err := db.AddLog(f.Context(), log.origin, log.vkey); err != nil {
		f.Fatal(err)
	}
	srv := &witness.Server{DB: db, Signer: newSigner(f, "witness.example/w1")}
	first := httptest.NewRecorder()
	srv.ServeHTTP(first, httptest.NewRequest("POST", "/add-checkpoint", bytes.NewReader(witness.AddCheckpoint{Checkpoint: cp10}.Marshal())))
	if first.Code != http.StatusOK {
		f.Fatalf("first checkpoint: %d %s", first.Code, first.Body)
	}
	h15, _ := tlog.TreeHash(15, log)
	h10, _ := tlog.TreeHash(10, log)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("POST", "/add-checkpoint", bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		st, err := db.Log(t.Context(), log.origin)
		if err != nil {
			t.Fatal(err)
		}
		if !(st.Size == 10 && st.Hash == h10) && !(st.Size == 15 && st.Hash == h15) {
			t.Fatalf("state moved to size %d %v after %q", st.Size, st.Hash, body)
		}
	})
}
