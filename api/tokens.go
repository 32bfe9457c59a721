package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/auth"
)

// TokenAdmin makes, lists and revokes API tokens. auth.Tokens implements it.
type TokenAdmin interface {
	// Create makes a token and returns its secret, which is never stored;
	// actor is recorded in the audit event. It works while sealed.
	Create(ctx context.Context, actor, name string, role auth.Role) (string, auth.Token, error)
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

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
}

// NewToken is the answer to POST /api/v1/tokens: the token and its secret,
// shown this once (vigil keeps only its SHA-256).
type NewToken struct {
	Secret string     `json:"secret"`
	Token  auth.Token `json:"token"`
}

// createToken makes a token. Only an admin may, and a token's role is
// sealed, so over TCP it needs the vault unsealed; on the local staff
// socket (the server's own user) it works sealed too, as the offline
// command does.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.TokenAdmin == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	var req TokenRequest
	if err := readJSON(w, r, 4096, &req); err != nil {
		writeError(w, err)
		return
	}
	secret, t, err := s.TokenAdmin.Create(r.Context(), tok.Actor(), req.Name, req.Role)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, NewToken{Secret: secret, Token: t})
}
