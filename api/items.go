package api

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/evidence"
)

// ItemAdder ingests a file into the evidence log (vigil add);
// *evidence.Service implements it.
type ItemAdder interface {
	Add(ctx context.Context, r io.Reader, name, mediaType string) (evidence.Item, error)
}

var _ ItemAdder = (*evidence.Service)(nil)

// ItemNameHeader carries the added file's base name, percent-encoded
// (url.PathEscape), on POST /api/v1/items: the body is the file itself.
const ItemNameHeader = "Vigil-File-Name"

// AddedItem is the answer to POST /api/v1/items: the item's ID and its leaf
// in the evidence log.
type AddedItem struct {
	ID        vigil.ID `json:"id"`
	LeafIndex int64    `json:"leaf_index"`
}

func itemRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/api/v1/items", Response: typeOf[AddedItem](), Status: 201,
			handler: func(s *Server) http.HandlerFunc { return s.authed(adminOnly(s.addItem)) }},
	}
}

// addItem streams the request body into the evidence service, as vigil add
// does offline: it is encrypted to the vault's recipient as it arrives
// (constant memory), so it works sealed.
func (s *Server) addItem(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Items == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	name, err := url.PathUnescape(r.Header.Get(ItemNameHeader))
	if err != nil || name == "" {
		writeError(w, &vigil.FieldError{Field: ItemNameHeader, Problem: "want the file's base name, percent-encoded", Err: vigil.ErrInvalid})
		return
	}
	mt := r.Header.Get("Content-Type")
	if mt == "application/octet-stream" {
		mt = "" // unknown: the evidence service sniffs it, as offline
	}
	it, err := s.Items.Add(r.Context(), r.Body, name, mt)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, AddedItem{ID: it.ID, LeafIndex: it.LeafIndex})
}
