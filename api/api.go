// Package api serves the staff listener's JSON API under /api/v1: health,
// unseal and seal for now.
//
// Errors are JSON {"error": "..."} with a status from one table ([statusOf]);
// internal details never reach the response.
package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/vault"
)

// A Vault is what the API needs of the vault.
type Vault interface {
	Unseal(passphrase []byte) error
	Seal()
	Sealed() bool
}

// Health is the body of GET /api/v1/health.
type Health struct {
	Status   string `json:"status"` // "ok"
	Sealed   bool   `json:"sealed"`
	TreeSize int64  `json:"tree_size"`
	// Checkpoint is the size of the latest signed checkpoint, -1 if none.
	Checkpoint int64 `json:"checkpoint"`
}

// Server is the staff API.
type Server struct {
	Vault Vault
	// Health fills the health report's log fields.
	Health func(r *http.Request) (Health, error)
	// OnUnseal, if set, runs after a successful unseal (e.g. to sign a checkpoint).
	OnUnseal func()

	unsealMu sync.Mutex // one passphrase attempt at a time: scrypt paces guessing
}

// Handler returns the /api/v1 handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/health", s.health)
	mux.HandleFunc("POST /api/v1/unseal", s.unseal)
	mux.HandleFunc("POST /api/v1/seal", s.seal)
	return mux
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	h, err := s.Health(r)
	if err != nil {
		writeError(w, err)
		return
	}
	h.Status = "ok"
	h.Sealed = s.Vault.Sealed()
	writeJSON(w, http.StatusOK, h)
}

// UnsealRequest is the body of POST /api/v1/unseal.
type UnsealRequest struct {
	Passphrase string `json:"passphrase"`
}

func (s *Server) unseal(w http.ResponseWriter, r *http.Request) {
	var req UnsealRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err != nil || json.Unmarshal(body, &req) != nil || req.Passphrase == "" {
		writeError(w, vigil.ErrInvalid)
		return
	}
	s.unsealMu.Lock()
	err = s.Vault.Unseal([]byte(req.Passphrase))
	s.unsealMu.Unlock()
	if err != nil {
		writeError(w, err)
		return
	}
	if s.OnUnseal != nil {
		s.OnUnseal()
	}
	writeJSON(w, http.StatusOK, map[string]bool{"sealed": false})
}

func (s *Server) seal(w http.ResponseWriter, r *http.Request) {
	s.Vault.Seal()
	writeJSON(w, http.StatusOK, map[string]bool{"sealed": true})
}

// statusOf maps error kinds to HTTP statuses and user-safe messages.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, vault.ErrWrongPassphrase):
		return http.StatusForbidden, "wrong passphrase"
	case errors.Is(err, vigil.ErrSealed):
		return http.StatusServiceUnavailable, "vault sealed"
	case errors.Is(err, vigil.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, vigil.ErrInvalid):
		return http.StatusBadRequest, "invalid request"
	case errors.Is(err, vigil.ErrConflict):
		return http.StatusConflict, "conflict"
	}
	return http.StatusInternalServerError, "internal error"
}

func writeError(w http.ResponseWriter, err error) {
	code, msg := statusOf(err)
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
