package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
)

// An Inbox is the staff side of intake. intake.Service implements it. Every
// method needs the vault unsealed (else an error wrapping vigil.ErrSealed)
// and records an audit event naming actor.
type Inbox interface {
	List(ctx context.Context, p vigil.Principal) ([]intake.Summary, error)
	Get(ctx context.Context, p vigil.Principal, sub vigil.ID) (intake.View, error)
	Reply(ctx context.Context, p vigil.Principal, sub vigil.ID, text string) (intake.Message, error)
	SetState(ctx context.Context, p vigil.Principal, sub vigil.ID, st intake.State) error
	OpenFile(ctx context.Context, p vigil.Principal, sub, file vigil.ID) (evidence.Item, io.ReadCloser, error)
}

var _ Inbox = (*intake.Service)(nil)

//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPI)
}

// SubmissionList is the body of GET /api/v1/submissions.
type SubmissionList struct {
	Submissions []intake.Summary `json:"submissions"` // newest first
}

// MessageRequest is the body of POST /api/v1/submissions/{id}/messages.
type MessageRequest struct {
	Text string `json:"text"`
}

// StateRequest is the body (and the answer) of POST
// /api/v1/submissions/{id}/state.
type StateRequest struct {
	State intake.State `json:"state"`
}

// inbox returns the inbox or writes 404 when there is none.
func (s *Server) inbox(w http.ResponseWriter) (Inbox, bool) {
	if s.Inbox == nil {
		writeError(w, vigil.ErrNotFound)
		return nil, false
	}
	return s.Inbox, true
}

// pathID parses a path value as an ID; a malformed one is simply not found.
func pathID(r *http.Request, name string) (vigil.ID, error) {
	id, err := vigil.ParseID(r.PathValue(name))
	if err != nil {
		return id, fmt.Errorf("%s: %w", name, vigil.ErrNotFound)
	}
	return id, nil
}

func (s *Server) listSubmissions(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	in, ok := s.inbox(w)
	if !ok {
		return
	}
	list, err := in.List(r.Context(), tok.Principal())
	if err != nil {
		writeError(w, err)
		return
	}
	if list == nil {
		list = []intake.Summary{}
	}
	writeJSON(w, http.StatusOK, SubmissionList{Submissions: list})
}

func (s *Server) getSubmission(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	in, ok := s.inbox(w)
	if !ok {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := in.Get(r.Context(), tok.Principal(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	in, ok := s.inbox(w)
	if !ok {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	max := s.MaxBody
	if max <= 0 {
		max = 4 << 20
	}
	var req MessageRequest
	if err := readJSON(w, r, max, &req); err != nil {
		writeError(w, err)
		return
	}
	m, err := in.Reply(r.Context(), tok.Principal(), id, req.Text)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

// validStates names the triage states for an error message.
const validStates = "new, in_review, linked or rejected"

func (s *Server) setState(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	in, ok := s.inbox(w)
	if !ok {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	var req StateRequest
	if err := readJSON(w, r, 4096, &req); err != nil {
		writeError(w, err)
		return
	}
	if !req.State.Valid() {
		writeError(w, &vigil.FieldError{Field: "state", Problem: "want " + validStates, Err: vigil.ErrInvalid})
		return
	}
	if err := in.SetState(r.Context(), tok.Principal(), id, req.State); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

// readJSON decodes a body of at most max bytes into v, refusing unknown
// fields and trailing data. An oversized body is vigil.ErrTooLarge, read no
// further than max; anything malformed is vigil.ErrInvalid.
func readJSON(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Errorf("%w: body over %d bytes", vigil.ErrTooLarge, max)
	}
	if err != nil {
		return fmt.Errorf("%w: read body: %v", vigil.ErrInvalid, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", vigil.ErrInvalid, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON value", vigil.ErrInvalid)
	}
	return nil
}

func (s *Server) download(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	in, ok := s.inbox(w)
	if !ok {
		return
	}
	sub, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	file, err := pathID(r, "file")
	if err != nil {
		writeError(w, err)
		return
	}
	it, rc, err := in.OpenFile(r.Context(), tok.Principal(), sub, file)
	if err != nil {
		writeError(w, err)
		return
	}
	defer rc.Close()
	h := w.Header()
	// Never let a browser render what a stranger sent: a download, of no
	// type it may guess, in a sandbox if it is opened anyway.
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", Attachment(it.Name, it.ID))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.FormatInt(it.Size, 10))
	w.WriteHeader(http.StatusOK)
	// The content is decrypted and checked against its hash as it streams;
	// a failure after the headers went out can only cut the response short,
	// which the client sees against Content-Length.
	if _, err := io.Copy(w, rc); err != nil {
		panic(http.ErrAbortHandler)
	}
}

// Attachment returns a Content-Disposition header value for a file a source
// named name: path parts, control and invisible characters (such as bidi
// overrides) and leading dots are removed, non-ASCII names are encoded per
// RFC 2231, and an unusable name becomes "file-ID".
func Attachment(name string, id vigil.ID) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	for _, c := range name {
		if c == utf8.RuneError || (!unicode.IsPrint(c) && c != ' ') || c == '"' || c == '/' {
			c = '_'
		}
		b.WriteRune(c)
	}
	name = strings.TrimLeft(strings.TrimSpace(b.String()), ".")
	for len(name) > 200 {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if strings.Trim(name, "_ ") == "" {
		name = "file-" + id.String()
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return mime.FormatMediaType("attachment", map[string]string{"filename": "file-" + id.String()})
}
