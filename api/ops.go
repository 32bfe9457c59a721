package api

import (
	"context"
	"io"
	"net/http"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
)

// BundleRequest is the body of POST /api/v1/bundle.
type BundleRequest struct {
	// IDs are the records to bundle: items, submissions, claims...
	IDs []vigil.ID `json:"ids"`
	// Content puts each record's content (a file, a document) in the
	// bundle; without it only statements and proofs.
	Content bool `json:"content"`
}

// maxBundleIDs bounds the records of one bundle request.
const maxBundleIDs = 10000

// bundle streams an evidence bundle (a zip). An error found before the
// first byte (a record not found, the vault sealed) gets the usual JSON
// error; one after it can only cut the zip short, which its reader sees.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Bundle == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	var req BundleRequest
	if err := readJSON(w, r, 1<<20, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.IDs) == 0 || len(req.IDs) > maxBundleIDs {
		writeError(w, &vigil.FieldError{Field: "ids", Problem: "want 1 to 10000 record IDs", Err: vigil.ErrInvalid})
		return
	}
	zw := &lazyWriter{w: w}
	if err := s.Bundle(r.Context(), zw, req.IDs, req.Content); err != nil {
		if !zw.started {
			writeError(w, err)
			return
		}
		panic(http.ErrAbortHandler)
	}
	if !zw.started {
		zw.start()
	}
}

// lazyWriter sends the zip's headers with its first byte, so that an error
// before it can still be answered as JSON.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (z *lazyWriter) start() {
	z.started = true
	h := z.w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="bundle.zip"`)
	z.w.WriteHeader(http.StatusOK)
}

func (z *lazyWriter) Write(p []byte) (int, error) {
	if !z.started {
		z.start()
	}
	return z.w.Write(p)
}

// fsck runs the data directory's checks inside the server and answers the
// report, problems included (200 either way: the checks ran).
func (s *Server) fsck(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Fsck == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	var req struct{}
	if err := readJSON(w, r, 4096, &req); err != nil {
		writeError(w, err)
		return
	}
	rep, err := s.Fsck(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// ImportResult is the answer to POST /api/v1/import: how many records the
// case file holds, and how many were new, changed (a new version each)
// and unchanged.
type ImportResult struct {
	Records   int `json:"records"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// An Importer stores a vigil-case/1 file (docs/case-format.md) as one
// batch, all or nothing, as p: records whose key is held get a new version
// if they changed. Problems are *vigil.FieldError values wrapping
// vigil.ErrInvalid (or vigil.ErrConflict), as the case services report.
type Importer func(ctx context.Context, p vigil.Principal, file io.Reader) (ImportResult, error)

// importCase runs s.Import. A token checked while sealed has no known
// role: 503, as for the other case routes.
func (s *Server) importCase(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Import == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	if tok.Role == "" {
		writeError(w, vigil.ErrSealed)
		return
	}
	res, err := s.Import(r.Context(), tok.Principal(), r.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
