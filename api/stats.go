package api

import (
	"context"
	"net/http"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
)

// StatsPublisher computes, signs, logs and publishes the statistics of the
// case records (vigil stats publish) with k and region level (0: the
// configured ones).
type StatsPublisher func(ctx context.Context, p vigil.Principal, k, regionLevel int) (StatsPublished, error)

// StatsRequest is the body of POST /api/v1/stats; zero fields take
// vigil.json's stats settings.
type StatsRequest struct {
	K           int `json:"k,omitempty"`
	RegionLevel int `json:"region_level,omitempty"`
}

// StatsPublished is the answer to POST /api/v1/stats: the table's ID, how
// many figures it shows and hides, and the parameters used.
type StatsPublished struct {
	ID          vigil.ID `json:"id"`
	Shown       int      `json:"shown"`
	Hidden      int      `json:"hidden"`
	K           int      `json:"k"`
	RegionLevel int      `json:"region_level"`
}

func statsRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/api/v1/stats", Response: typeOf[StatsPublished](), Status: 201,
			handler: func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.publishStats))) }},
	}
}

func (s *Server) publishStats(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Stats == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	var req StatsRequest
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.K < 0 || req.RegionLevel < 0 {
		writeError(w, &vigil.FieldError{Field: "k", Problem: "k and region_level must be positive", Err: vigil.ErrInvalid})
		return
	}
	out, err := s.Stats(r.Context(), tok.Principal(), req.K, req.RegionLevel)
	if err != nil {
		writeError(w, advisoryErr(err))
		return
	}
	writeJSON(w, http.StatusCreated, out)
}
