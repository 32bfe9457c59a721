package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
)

// Reporter writes an incident's report as a PDF (vigil report): incident
// is its record ID or key, lang en or ru.
type Reporter func(ctx context.Context, p vigil.Principal, incident, lang string, w io.Writer) error

// ReportRequest is the body of POST /api/v1/report. The incident is in the
// body, not the URL: an incident's key may name a place or a person.
type ReportRequest struct {
	Incident string `json:"incident"`
	Lang     string `json:"lang,omitempty"`
}

func reportRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/api/v1/report",
			handler: func(s *Server) http.HandlerFunc { return jsonBody(s.authed(s.incidentReport)) }},
	}
}

// incidentReport renders the whole PDF before answering, so that a failure
// is an error answer, never a truncated file taken for a report.
func (s *Server) incidentReport(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Report == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	var req ReportRequest
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Lang == "" {
		req.Lang = "en"
	}
	if req.Lang != "en" && req.Lang != "ru" {
		writeError(w, &vigil.FieldError{Field: "lang", Problem: "want en or ru", Err: vigil.ErrInvalid})
		return
	}
	if req.Incident == "" {
		writeError(w, &vigil.FieldError{Field: "incident", Problem: "missing", Err: vigil.ErrInvalid})
		return
	}
	var buf bytes.Buffer
	if err := s.Report(r.Context(), tok.Principal(), req.Incident, req.Lang, &buf); err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
