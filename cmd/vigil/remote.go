package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/auth"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/staffsock"
)

// A server is a running vigil serve reached over its data directory's
// staff socket (internal/staffsock): the commands that would open the data
// directory use it instead while serve holds the lock. Its requests act as
// the admin "cli", as the offline commands do; the server's vault stays as
// it is (a sealed server answers errServerSealed).
type server struct {
	c   *http.Client
	dir string
}

// How open uses the passphrase offline.
type passMode int

const (
	passNever  passMode = iota // leave the vault sealed
	passGiven                  // unseal if a passphrase is given without a prompt
	passNeeded                 // unseal, prompting if need be
)

// open opens the data directory, or, when a running server holds it,
// connects to that server's staff socket. Offline, it unseals the vault
// with the passphrase as mode says. Online, no passphrase is read: the
// server's own seal state holds. Exactly one of the results is non-nil on
// success; the caller closes the directory.
func open(ctx context.Context, e *env, data, pfile string, mode passMode) (*datadir.Dir, *server, error) {
	d, err := datadir.Open(ctx, data)
	if errors.Is(err, vigil.ErrLocked) {
		c, cerr := staffsock.NewClient(ctx, data)
		if errors.Is(cerr, staffsock.ErrNoServer) {
			return nil, nil, err // held by a command, or a server without the socket
		}
		if cerr != nil {
			return nil, nil, fmt.Errorf("%w (and its staff socket: %v)", err, cerr)
		}
		return nil, &server{c: c, dir: data}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if mode == passNeeded || mode == passGiven && havePassphrase(e, pfile) {
		pass, err := passphrase(e, pfile, false)
		if err != nil {
			d.Close()
			return nil, nil, err
		}
		if err := d.Vault.Unseal(pass); err != nil {
			d.Close()
			return nil, nil, fmt.Errorf("unseal: %w", err)
		}
	}
	return d, nil, nil
}

// errServerSealed is a running server's answer while its vault is sealed.
// The command line does not unseal it: unsealing is the operator's
// decision, and it would leave the server unsealed for every staff member
// after this one command.
func errServerSealed(dir string) error {
	return fmt.Errorf("%w: vigil serve holds %s and is sealed (hint: unseal it with vigil unseal, then run this again)", vigil.ErrSealed, dir)
}

// do sends a JSON request (body nil: none) and decodes a JSON answer into
// out (nil: ignore it). Error answers become errors carrying the API's
// message and field problems.
func (s *server) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := s.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(out); err != nil {
		return fmt.Errorf("read the server's answer: %w", err)
	}
	return nil
}

// send makes a request and returns a successful (2xx) response, whose body
// the caller closes.
func (s *server) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	if body == nil {
		return s.sendBody(ctx, method, path, nil)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return s.sendBody(ctx, method, path, bytes.NewReader(b))
}

// sendBody is send with a body that is JSON already (nil: none).
func (s *server) sendBody(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, staffsock.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the running server (staff socket %s): %w", staffsock.Path(s.dir), err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var eb api.ErrorBody
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb)
	return nil, s.apiError(resp.StatusCode, eb)
}

// apiError turns an error answer into an error of the kind the offline
// command would return, so that messages and exit codes match.
func (s *server) apiError(code int, eb api.ErrorBody) error {
	msg := eb.Error
	if msg == "" {
		msg = http.StatusText(code)
	}
	var kind error
	switch code {
	case http.StatusServiceUnavailable:
		return errServerSealed(s.dir)
	case http.StatusNotFound:
		kind = vigil.ErrNotFound
	case http.StatusBadRequest:
		kind = vigil.ErrInvalid
	case http.StatusRequestEntityTooLarge:
		kind = vigil.ErrTooLarge
	case http.StatusConflict:
		kind = vigil.ErrConflict
	case http.StatusForbidden:
		kind = vigil.ErrForbidden
	default:
		return fmt.Errorf("the running server answered %d: %s", code, msg)
	}
	// The field problems come back as the *vigil.FieldError values the
	// service returned, so commands report them as they do offline.
	var fields []error
	for _, f := range eb.Fields {
		fields = append(fields, &vigil.FieldError{Field: f.Field, Problem: f.Problem, Err: kind})
	}
	if len(fields) > 0 {
		return errors.Join(fields...)
	}
	return kind
}

// importFile sends a case file to the server's import.
func (s *server) importFile(ctx context.Context, file io.Reader) (api.ImportResult, error) {
	var out api.ImportResult
	resp, err := s.sendBody(ctx, "POST", "/api/v1/import", file)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return out, fmt.Errorf("read the server's answer: %w", err)
	}
	return out, nil
}

// Inbox is the server's inbox as an api.Inbox: the inbox commands run the
// same code on it as on the offline intake service. The principal is the
// socket's ("cli"), whatever p says.
func (s *server) Inbox() api.Inbox { return remoteInbox{s} }

type remoteInbox struct{ s *server }

func (r remoteInbox) List(ctx context.Context, _ vigil.Principal) ([]intake.Summary, error) {
	var out api.SubmissionList
	err := r.s.do(ctx, "GET", "/api/v1/submissions", nil, &out)
	return out.Submissions, err
}

func (r remoteInbox) Get(ctx context.Context, _ vigil.Principal, sub vigil.ID) (intake.View, error) {
	var out intake.View
	err := r.s.do(ctx, "GET", "/api/v1/submissions/"+sub.String(), nil, &out)
	return out, err
}

func (r remoteInbox) Reply(ctx context.Context, _ vigil.Principal, sub vigil.ID, text string) (intake.Message, error) {
	var out intake.Message
	err := r.s.do(ctx, "POST", "/api/v1/submissions/"+sub.String()+"/messages", api.MessageRequest{Text: text}, &out)
	return out, err
}

func (r remoteInbox) SetState(ctx context.Context, _ vigil.Principal, sub vigil.ID, st intake.State) error {
	return r.s.do(ctx, "POST", "/api/v1/submissions/"+sub.String()+"/state", api.StateRequest{State: st}, nil)
}

// OpenFile streams the file; the item has only its ID and size.
func (r remoteInbox) OpenFile(ctx context.Context, _ vigil.Principal, sub, file vigil.ID) (evidence.Item, io.ReadCloser, error) {
	resp, err := r.s.send(ctx, "GET", "/api/v1/submissions/"+sub.String()+"/files/"+file.String(), nil)
	if err != nil {
		return evidence.Item{}, nil, err
	}
	n, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	return evidence.Item{ID: file, Size: n}, resp.Body, nil
}

var _ api.Inbox = remoteInbox{}

// tokens is the token service of a directory or a server.
type tokens interface {
	Create(ctx context.Context, actor, name string, role auth.Role) (string, auth.Token, error)
	List(ctx context.Context) ([]auth.Token, error)
	Revoke(ctx context.Context, actor string, id vigil.ID) error
}

var _ tokens = (*auth.Tokens)(nil)

// Tokens is the server's token service; actor is the socket's ("cli").
func (s *server) Tokens() tokens { return remoteTokens{s} }

type remoteTokens struct{ s *server }

func (r remoteTokens) Create(ctx context.Context, _, name string, role auth.Role) (string, auth.Token, error) {
	var out api.NewToken
	err := r.s.do(ctx, "POST", "/api/v1/tokens", api.TokenRequest{Name: name, Role: role}, &out)
	return out.Secret, out.Token, err
}

func (r remoteTokens) List(ctx context.Context) ([]auth.Token, error) {
	var out struct {
		Tokens []auth.Token `json:"tokens"`
	}
	err := r.s.do(ctx, "GET", "/api/v1/tokens", nil, &out)
	return out.Tokens, err
}

func (r remoteTokens) Revoke(ctx context.Context, _ string, id vigil.ID) error {
	return r.s.do(ctx, "DELETE", "/api/v1/tokens/"+id.String(), nil, nil)
}

// Bundle streams the server's evidence bundle of ids to w.
func (s *server) Bundle(ctx context.Context, w io.Writer, ids []vigil.ID, withContent bool) error {
	resp, err := s.send(ctx, "POST", "/api/v1/bundle", api.BundleRequest{IDs: ids, Content: withContent})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("read the bundle from the server: %w", err)
	}
	return nil
}

// Fsck runs the checks inside the server.
func (s *server) Fsck(ctx context.Context) (datadir.FsckReport, error) {
	var rep datadir.FsckReport
	err := s.do(ctx, "POST", "/api/v1/fsck", struct{}{}, &rep)
	return rep, err
}
