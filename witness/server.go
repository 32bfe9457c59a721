package witness

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/evlog"
)

// A Server is a tlog-witness (c2sp.org/tlog-witness) HTTP handler, relative
// to its submission prefix:
//
//	POST add-checkpoint          cosign a checkpoint consistent with the last one
//	GET  <origin hash>/checkpoint the latest cosigned checkpoint of a log
//
// It cosigns a checkpoint only after checking it is signed by a key it trusts
// for the origin and consistent with the latest checkpoint it cosigned for
// that log, and only after the new state is durably in its [DB]: a witness
// that crashes at any point never cosigns two inconsistent checkpoints.
// Statuses are those of the spec: 400 for a malformed request or an old size
// beyond the checkpoint's, 404 for an unknown origin, 403 without a valid
// trusted signature, 409 (with the known size, text/x.tlog.size) for a wrong
// old size, 422 for a bad proof or a root that differs at the same size.
type Server struct {
	DB     *DB
	Signer note.Signer  // the witness key, never the log key; see [NewSigner]
	Log    *slog.Logger // nil discards; refused consistency checks are logged at Warn as possible forks
}

func (s *Server) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// An httpError is a refusal with its tlog-witness status.
type httpError struct {
	code int
	msg  string
	body string // response body if not msg
}

func (e *httpError) Error() string { return e.msg }

func refuse(code int, format string, args ...any) *httpError {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case path == "add-checkpoint":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "add-checkpoint takes POST", http.StatusMethodNotAllowed)
			return
		}
		s.addCheckpoint(w, r)
	case strings.HasSuffix(path, "/checkpoint") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.checkpoint(w, r, strings.TrimSuffix(path, "/checkpoint"))
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) addCheckpoint(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestSize))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusBadRequest)
		return
	}
	cosig, err := s.AddCheckpoint(r, body)
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			s.logger().Error("witness: add-checkpoint failed", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if he.code == http.StatusConflict {
			w.Header().Set("Content-Type", "text/x.tlog.size")
			w.WriteHeader(he.code)
			io.WriteString(w, he.body)
			return
		}
		http.Error(w, he.msg, he.code)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(cosig)
}

// AddCheckpoint processes an add-checkpoint body and returns the cosignature
// line(s) to answer with, after the new state is committed. Refusals are
// *httpError with their status.
func (s *Server) AddCheckpoint(r *http.Request, body []byte) ([]byte, error) {
	ctx := r.Context()
	req, err := ParseAddCheckpoint(body)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "%v", err)
	}
	text, _, ok := bytes.Cut(req.Checkpoint, []byte("\n\n"))
	if !ok {
		return nil, refuse(http.StatusBadRequest, "checkpoint is not a signed note")
	}
	text = append(bytes.Clone(text), '\n')
	c, err := evlog.ParseCheckpoint(string(text))
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "checkpoint: %v", err)
	}
	st, err := s.DB.Log(ctx, c.Origin)
	if errors.Is(err, ErrUnknownLog) {
		return nil, refuse(http.StatusNotFound, "unknown log origin")
	} else if err != nil {
		return nil, err
	}
	vs, err := st.Verifiers()
	if err != nil {
		return nil, err
	}
	n, err := note.Open(req.Checkpoint, vs)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return nil, refuse(http.StatusForbidden, "checkpoint not signed by a trusted key for its origin")
		}
		return nil, refuse(http.StatusBadRequest, "checkpoint note: %v", err)
	}
	if req.OldSize > c.N {
		return nil, refuse(http.StatusBadRequest, "old size %d is larger than the checkpoint size %d", req.OldSize, c.N)
	}
	if c.N == 0 && c.Hash != emptyHash {
		return nil, refuse(http.StatusUnprocessableEntity, "a checkpoint of size 0 must have the empty tree's root hash")
	}
	var cosigned, contradicted []byte
	err = s.DB.Advance(ctx, c.Origin, func(st LogState) (LogState, error) {
		if req.OldSize != st.Size {
			e := refuse(http.StatusConflict, "old size %d, the latest cosigned checkpoint has size %d", req.OldSize, st.Size)
			e.body = fmt.Sprintf("%d\n", st.Size)
			return st, e
		}
		switch {
		case req.OldSize == 0:
			if len(req.Proof) != 0 {
				return st, refuse(http.StatusUnprocessableEntity, "old size 0 takes no consistency proof")
			}
		case req.OldSize == c.N:
			if len(req.Proof) != 0 || c.Hash != st.Hash {
				s.logger().Warn("witness: checkpoint differs from the cosigned one at the same size: possible fork",
					"origin", c.Origin, "size", c.N, "cosigned", st.Hash.String(), "submitted", c.Hash.String())
				contradicted = st.Checkpoint
				return st, refuse(http.StatusUnprocessableEntity, "checkpoint root differs from the cosigned one at size %d", c.N)
			}
		default:
			if err := tlog.CheckTree(req.Proof, c.N, c.Hash, st.Size, st.Hash); err != nil {
				s.logger().Warn("witness: checkpoint not consistent with the cosigned one: possible fork",
					"origin", c.Origin, "size", c.N, "cosigned_size", st.Size, "err", err)
				contradicted = st.Checkpoint
				return st, refuse(http.StatusUnprocessableEntity, "consistency proof from %d to %d does not verify", st.Size, c.N)
			}
		}
		signed, err := note.Sign(&note.Note{Text: string(text)}, s.Signer)
		if err != nil {
			return st, fmt.Errorf("cosign: %w", err)
		}
		cosigned = signed[len(text)+1:]
		// The stored checkpoint keeps the log signatures the witness verified
		// and its own, as the monitoring endpoint must serve.
		var b bytes.Buffer
		b.Write(text)
		b.WriteByte('\n')
		for _, sig := range n.Sigs {
			fmt.Fprintf(&b, "— %s %s\n", sig.Name, sig.Base64)
		}
		b.Write(cosigned)
		return LogState{Origin: st.Origin, VKeys: st.VKeys, Size: c.N, Hash: c.Hash, Checkpoint: b.Bytes()}, nil
	})
	if contradicted != nil {
		// A validly signed checkpoint that contradicts the cosigned one is
		// evidence against the log: keep it (tlog-witness allows logging it).
		// A bad proof alone does not prove a fork, but a court can check.
		if e := s.DB.RecordConflict(ctx, Conflict{Origin: c.Origin, Received: time.Now(), Request: body, Cosigned: contradicted}); e != nil {
			s.logger().Error("witness: conflict evidence not kept", "origin", c.Origin, "err", e)
		}
	}
	if err != nil {
		return nil, err
	}
	s.logger().Info("witness: cosigned", "origin", c.Origin, "size", c.N, "old", req.OldSize)
	return cosigned, nil
}

// checkpoint serves the latest cosigned checkpoint of the log whose origin
// hashes (SHA-256, lowercase hex) to originHash.
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request, originHash string) {
	// The origin is not in the path, only its hash: scan the (few) logs.
	rows, err := s.DB.w.QueryContext(r.Context(), `SELECT origin FROM logs WHERE checkpoint IS NOT NULL`)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var origin string
	for rows.Next() {
		var o string
		if rows.Scan(&o) == nil {
			h := sha256.Sum256([]byte(o))
			if hex.EncodeToString(h[:]) == originHash {
				origin = o
			}
		}
	}
	rows.Close()
	if origin == "" {
		http.NotFound(w, r)
		return
	}
	st, err := s.DB.Log(r.Context(), origin)
	if err != nil || st.Checkpoint == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(st.Checkpoint)
}
