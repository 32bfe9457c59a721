package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/advisory"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/vault"
)

// Advisories is what the API needs to publish advisories;
// *advisory.Publisher implements it.
type Advisories interface {
	List() ([]advisory.Published, error)
	Create(ctx context.Context, by vigil.Principal, texts []advisory.Text, from, until time.Time) (advisory.Published, error)
	Withdraw(ctx context.Context, by vigil.Principal, id vigil.ID, texts []advisory.Text) (advisory.Published, error)
}

// AdvisoryList is the body of GET /api/v1/advisories: every published
// advisory, newest first, each with its signed note.
type AdvisoryList struct {
	Advisories []advisory.FeedItem `json:"advisories"`
}

// AdvisoryRequest is the body of POST /api/v1/advisories.
type AdvisoryRequest struct {
	Texts []advisory.Text `json:"texts"`
	// ValidFrom is when the advisory takes effect; zero means now.
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until"`
}

// WithdrawRequest is the body of POST /api/v1/advisories/{id}/withdraw;
// no texts means the default text in English and Russian.
type WithdrawRequest struct {
	Texts []advisory.Text `json:"texts,omitempty"`
}

func advisoryRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/advisories", Response: typeOf[AdvisoryList](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return s.authed(s.listAdvisories) }},
		{Method: "POST", Path: "/api/v1/advisories", Response: typeOf[advisory.FeedItem](), Status: 201,
			handler: func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.createAdvisory))) }},
		{Method: "POST", Path: "/api/v1/advisories/{id}/withdraw", Response: typeOf[advisory.FeedItem](), Status: 201,
			handler: func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.withdrawAdvisory))) }},
	}
}

func (s *Server) advisories(w http.ResponseWriter) (Advisories, bool) {
	if s.Advisories == nil {
		writeError(w, vigil.ErrNotFound)
		return nil, false
	}
	return s.Advisories, true
}

func (s *Server) listAdvisories(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	adv, ok := s.advisories(w)
	if !ok {
		return
	}
	list, err := adv.List()
	if err != nil {
		writeError(w, advisoryErr(err))
		return
	}
	writeJSON(w, http.StatusOK, AdvisoryList{Advisories: advisory.Feed(list, nil, time.Now()).Advisories})
}

func (s *Server) createAdvisory(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	adv, ok := s.advisories(w)
	if !ok {
		return
	}
	var req AdvisoryRequest
	if err := readJSON(w, r, 64<<10, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.ValidUntil.IsZero() {
		writeError(w, &vigil.FieldError{Field: "valid_until", Problem: "missing", Err: vigil.ErrInvalid})
		return
	}
	p, err := adv.Create(r.Context(), tok.Principal(), req.Texts, req.ValidFrom, req.ValidUntil)
	if err != nil {
		writeError(w, advisoryErr(err))
		return
	}
	writeJSON(w, http.StatusCreated, advisory.Feed([]advisory.Published{p}, nil, time.Now()).Advisories[0])
}

func (s *Server) withdrawAdvisory(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	adv, ok := s.advisories(w)
	if !ok {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	var req WithdrawRequest
	if err := readJSON(w, r, 64<<10, &req); err != nil {
		writeError(w, err)
		return
	}
	p, err := adv.Withdraw(r.Context(), tok.Principal(), id, req.Texts)
	if err != nil {
		writeError(w, advisoryErr(err))
		return
	}
	writeJSON(w, http.StatusCreated, advisory.Feed([]advisory.Published{p}, nil, time.Now()).Advisories[0])
}

// advisoryErr gives a missing publication key a status: 409, the data
// directory needs vigil key create-advisory first.
func advisoryErr(err error) error {
	if errors.Is(err, vault.ErrNoAdvisoryKey) {
		return fmt.Errorf("%w: %v", vigil.ErrConflict, err)
	}
	return err
}
