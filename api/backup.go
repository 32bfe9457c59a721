package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/backup"
)

// A Snapshotter takes a consistent snapshot of the data directory's
// database (backup.Take); the caller closes it.
type Snapshotter func(ctx context.Context) (*backup.Snapshot, error)

// backupSnapshot answers POST /api/v1/backup: one line of JSON, the
// snapshot's backup.SnapshotMeta (log size and root, checkpoints), then
// the database age-encrypted to the vault recipient, streamed. It works
// sealed: only the public recipient is needed. The plaintext copy lives in
// the data directory's private backup-tmp/ until the answer is sent.
func (s *Server) backupSnapshot(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Backup == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	var req struct{}
	if err := readJSON(w, r, 4096, &req); err != nil {
		writeError(w, err)
		return
	}
	snap, err := s.Backup(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	defer snap.Close()
	meta, err := json.Marshal(snap.Meta)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(append(meta, '\n')); err != nil {
		return
	}
	if err := snap.Seal(w); err != nil {
		panic(http.ErrAbortHandler) // the client sees a cut stream
	}
}
