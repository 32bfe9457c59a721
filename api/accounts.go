package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/auth"
)

// AccountAdmin makes and changes staff accounts (vigil account);
// *account.Accounts implements it.
type AccountAdmin interface {
	Create(ctx context.Context, actor, name string, role account.Role, lang string, pass []byte) (account.Account, error)
	List(ctx context.Context) ([]account.Account, error)
	Get(ctx context.Context, id vigil.ID) (account.Account, error)
	Lookup(ctx context.Context, name string) (vigil.ID, error)
	SetRole(ctx context.Context, actor string, id vigil.ID, role account.Role) error
	Disable(ctx context.Context, actor string, id vigil.ID) error
	Enable(ctx context.Context, actor string, id vigil.ID) error
}

var _ AccountAdmin = (*account.Accounts)(nil)

// AccountList is the body of GET /api/v1/accounts: every account, disabled
// ones included, oldest first.
type AccountList struct {
	Accounts []account.Account `json:"accounts"`
}

// AccountRequest is the body of POST /api/v1/accounts. The passphrase
// travels in the body only, never in a URL; the account must enrol a second
// factor at its first sign-in.
type AccountRequest struct {
	Name       string       `json:"name"`
	Role       account.Role `json:"role"`
	Language   string       `json:"language"`
	Passphrase string       `json:"passphrase"`
}

// AccountChange is the body of POST /api/v1/accounts/change: Action is
// "role" (with Role), "disable" or "enable"; Account is an account's ID or
// an enabled account's name (in the body, so that no name is in a URL).
type AccountChange struct {
	Account string       `json:"account"`
	Action  string       `json:"action"`
	Role    account.Role `json:"role,omitempty"`
}

// AccountChanged is the answer to POST /api/v1/accounts/change.
type AccountChanged struct {
	ID vigil.ID `json:"id"`
}

func accountRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/accounts", Response: typeOf[AccountList](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return s.authed(adminOnly(s.listAccounts)) }},
		{Method: "POST", Path: "/api/v1/accounts", Response: typeOf[account.Account](), Status: 201,
			handler: func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.createAccount))) }},
		{Method: "POST", Path: "/api/v1/accounts/change", Response: typeOf[AccountChanged](), Status: 200,
			handler: func(s *Server) http.HandlerFunc { return jsonBody(s.authed(adminOnly(s.changeAccount))) }},
	}
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Accounts == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	list, err := s.Accounts.List(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	if list == nil {
		list = []account.Account{}
	}
	writeJSON(w, http.StatusOK, AccountList{Accounts: list})
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Accounts == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	var req AccountRequest
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		writeError(w, err)
		return
	}
	pass := []byte(req.Passphrase)
	defer clear(pass)
	if err := account.CheckPassphrase(pass, req.Name); err != nil {
		writeError(w, err)
		return
	}
	a, err := s.Accounts.Create(r.Context(), tok.Actor(), req.Name, req.Role, req.Language, pass)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) changeAccount(w http.ResponseWriter, r *http.Request, tok auth.Token) {
	if s.Accounts == nil {
		writeError(w, vigil.ErrNotFound)
		return
	}
	var req AccountChange
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		writeError(w, err)
		return
	}
	// An account's details are sealed: while sealed no account is found
	// by ID or changed, and the answer must say sealed, not "not found".
	if s.Vault != nil && s.Vault.Sealed() {
		writeError(w, vigil.ErrSealed)
		return
	}
	if req.Action == "role" && !req.Role.Valid() {
		writeError(w, &vigil.FieldError{Field: "role", Problem: fmt.Sprintf("%q: want admin, investigator, analyst or intake", req.Role), Err: vigil.ErrInvalid})
		return
	}
	if req.Action != "role" && req.Action != "disable" && req.Action != "enable" {
		writeError(w, &vigil.FieldError{Field: "action", Problem: "want role, disable or enable", Err: vigil.ErrInvalid})
		return
	}
	id, err := FindAccount(r.Context(), s.Accounts, req.Account)
	if err != nil {
		writeError(w, err)
		return
	}
	switch req.Action {
	case "role":
		err = s.Accounts.SetRole(r.Context(), tok.Actor(), id, req.Role)
	case "disable":
		err = s.Accounts.Disable(r.Context(), tok.Actor(), id)
	default:
		err = s.Accounts.Enable(r.Context(), tok.Actor(), id)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, AccountChanged{ID: id})
}

// FindAccount resolves an account's ID, or else an enabled account's name
// (vigil account role|disable|enable ACCOUNT).
func FindAccount(ctx context.Context, accts AccountAdmin, arg string) (vigil.ID, error) {
	if id, err := vigil.ParseID(arg); err == nil {
		if _, err := accts.Get(ctx, id); err == nil {
			return id, nil
		}
	}
	return accts.Lookup(ctx, arg)
}
