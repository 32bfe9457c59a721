package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
)

// TokenAdmin lists and revokes API tokens. auth.Tokens implements it.
type TokenAdmin interface {
	// List returns every token, revoked ones included. Needs the vault unsealed.
	List(ctx context.Context) ([]auth.Token, error)
	// Revoke ends a token at once; actor is recorded in the audit event.
	Revoke(ctx context.Context, actor string, id vigil.ID) error
}

// errForbidden is an authenticated request its token's role does not allow.
var errForbidden = errors.New("this token's role may not do that")

// adminOnly lets only admin tokens through. A token's role is sealed, so
// while the vault is sealed nobody is known to be an admin: the answer is
// "vault sealed".
func adminOnly(h func(http.ResponseWriter, *http.Request, auth.Token)) func(http.ResponseWriter, *http.Request, auth.Token) {
	return func(w http.ResponseWriter, r *http.Request, tok auth.Token) {
		switch {
		case tok.Principal().Can(vigil.Administer):
			h(w, r, tok)
		case tok.Role == "":
			writeError(w, vigil.ErrSealed)
		default:
			writeError(w, errForbidden)
		}
	}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.TokenAdmin == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	list, err := s.TokenAdmin.List(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	if list == nil {
		list = []auth.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
}

// revokeToken ends a token while the server runs, so a leaked token need
// not wait for the server to stop.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.TokenAdmin == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.TokenAdmin.Revoke(r.Context(), tok.Actor(), id); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "revoked": true})
}
