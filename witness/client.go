package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/evlog"
)

// A Witness is a cosigner a log asks for cosignatures.
type Witness struct {
	Name     string        // for messages and policy; need not equal the key name
	Verifier note.Verifier // its cosignature key; see [NewVerifier]
	URL      string        // submission prefix; add-checkpoint is appended
}

// A ConflictError is the alarm: a witness refused a checkpoint the log
// signed because it cosigned a different tree before. Either the log was
// forked (its history rewritten, or a backup restored) or someone else signs
// with its key. The log must not sign further checkpoints until a person has
// looked.
type ConflictError struct {
	Witness     string // the witness's name
	Size        int64  // the checkpoint size the log submitted
	WitnessSize int64  // the size the witness had cosigned, -1 if unknown
	Reason      string // what the witness said
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("ALARM: witness %s refused checkpoint of size %d as inconsistent with what it cosigned (its size %d): %s (hint: the log may have been forked or its key used elsewhere; stop signing and compare with the witness)",
		e.Witness, e.Size, e.WitnessSize, e.Reason)
}

// A Client gets cosignatures from witnesses (c2sp.org/tlog-witness). It
// remembers, per witness, the size of the latest checkpoint it got cosigned,
// to send the right consistency proof; it learns a witness's size from a 409
// answer, so a new Client starts from zero. Its methods are safe for
// concurrent use, but checkpoints of one log should be submitted in order.
type Client struct {
	HTTP *http.Client // nil means http.DefaultClient

	mu    sync.Mutex
	sizes map[string]int64 // witness URL -> latest size it cosigned for us
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return http.DefaultClient
	}
	return c.HTTP
}

func (c *Client) knownSize(url string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sizes[url]
}

func (c *Client) setSize(url string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sizes == nil {
		c.sizes = map[string]int64{}
	}
	c.sizes[url] = n
}

// AddCheckpoint asks w to cosign the signed checkpoint, with a consistency
// proof read from hr (the log's stored hashes, tlog.StoredHashIndex layout;
// it must hold at least the checkpoint's tree). It returns w's verified
// cosignatures. It returns a *ConflictError if w refuses the checkpoint as
// inconsistent with what it cosigned before.
func (c *Client) AddCheckpoint(ctx context.Context, w Witness, signed []byte, hr tlog.HashReader) ([]note.Signature, error) {
	text, _, ok := bytes.Cut(signed, []byte("\n\n"))
	if !ok {
		return nil, errors.New("checkpoint is not a signed note")
	}
	cp, err := evlog.ParseCheckpoint(string(text) + "\n")
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	old := min(c.knownSize(w.URL), cp.N)
	for range 3 {
		req := AddCheckpoint{OldSize: old, Checkpoint: signed}
		if old > 0 && old < cp.N {
			req.Proof, err = tlog.ProveTree(cp.N, old, hr)
			if err != nil {
				return nil, fmt.Errorf("witness %s: consistency proof %d to %d: %w", w.Name, old, cp.N, err)
			}
		}
		code, body, err := c.post(ctx, w.URL, req.Marshal())
		if err != nil {
			return nil, fmt.Errorf("witness %s: %w", w.Name, err)
		}
		switch code {
		case http.StatusOK:
			sigs, err := verifyCosignatures(w, signed, body)
			if err != nil {
				return nil, fmt.Errorf("witness %s: %w", w.Name, err)
			}
			c.setSize(w.URL, cp.N)
			return sigs, nil
		case http.StatusConflict:
			m, err := parseSize(bytes.TrimSuffix(body, []byte("\n")))
			if err != nil || !bytes.HasSuffix(body, []byte("\n")) {
				return nil, fmt.Errorf("witness %s: 409 with a malformed size %q", w.Name, body)
			}
			if m > cp.N {
				return nil, &ConflictError{Witness: w.Name, Size: cp.N, WitnessSize: m,
					Reason: "the witness cosigned a larger tree than this checkpoint"}
			}
			if m == old {
				return nil, fmt.Errorf("witness %s: 409 naming the size we sent (%d)", w.Name, m)
			}
			c.setSize(w.URL, m)
			old = m
		case http.StatusUnprocessableEntity:
			// Our proof comes from our own tree, so a witness that cannot
			// verify it holds a different tree at its size.
			return nil, &ConflictError{Witness: w.Name, Size: cp.N, WitnessSize: old, Reason: strings.TrimSpace(string(body))}
		default:
			return nil, fmt.Errorf("witness %s: add-checkpoint: %d %s: %s", w.Name, code, http.StatusText(code), strings.TrimSpace(string(body)))
		}
	}
	return nil, fmt.Errorf("witness %s: its size kept changing", w.Name)
}

func (c *Client) post(ctx context.Context, base string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/add-checkpoint", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("add-checkpoint: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, nil, fmt.Errorf("add-checkpoint: read answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

// verifyCosignatures checks a witness's answer (signature lines) against the
// checkpoint and returns the valid signatures by w's key, ignoring others.
func verifyCosignatures(w Witness, signed, answer []byte) ([]note.Signature, error) {
	text, _, _ := bytes.Cut(signed, []byte("\n\n"))
	msg := append(append(bytes.Clone(text), "\n\n"...), answer...)
	n, err := note.Open(msg, note.VerifierList(w.Verifier))
	if err != nil {
		return nil, fmt.Errorf("cosignature does not verify: %w", err)
	}
	for _, s := range n.Sigs {
		if t, err := Timestamp(s); err != nil || t.Unix() == 0 {
			return nil, errors.New("cosignature without a timestamp")
		}
	}
	return n.Sigs, nil
}

// AddSignatures returns the signed note with sigs appended, skipping any it
// already carries.
func AddSignatures(signed []byte, sigs ...note.Signature) []byte {
	out := bytes.Clone(signed)
	for _, s := range sigs {
		line := fmt.Sprintf("— %s %s\n", s.Name, s.Base64)
		if !bytes.Contains(signed, []byte(line)) {
			out = append(out, line...)
		}
	}
	return out
}

// A Result is what each witness said about a checkpoint.
type Result struct {
	Cosigned []byte                      // the checkpoint with every cosignature obtained
	Sigs     map[string][]note.Signature // witness name -> its cosignatures
	Errs     map[string]error            // witness name -> why it did not cosign
}

// Conflict returns the first alarm among the results (by witness name), or
// nil.
func (r Result) Conflict() *ConflictError {
	if cs := r.Conflicts(); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// Conflicts returns every alarm among the results, sorted by witness name.
func (r Result) Conflicts() []*ConflictError {
	var out []*ConflictError
	for _, err := range r.Errs {
		var ce *ConflictError
		if errors.As(err, &ce) {
			out = append(out, ce)
		}
	}
	slices.SortFunc(out, func(a, b *ConflictError) int { return strings.Compare(a.Witness, b.Witness) })
	return out
}

// Cosign submits the signed checkpoint to every witness concurrently and
// returns it with all the cosignatures obtained. Check [Result.Conflict]: a
// conflict is an alarm, even if other witnesses cosigned.
func (c *Client) Cosign(ctx context.Context, ws []Witness, signed []byte, hr tlog.HashReader) Result {
	res := Result{Sigs: map[string][]note.Signature{}, Errs: map[string]error{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			sigs, err := c.AddCheckpoint(ctx, w, signed, hr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Errs[w.Name] = err
			} else {
				res.Sigs[w.Name] = sigs
			}
		})
	}
	wg.Wait()
	res.Cosigned = signed
	for _, w := range ws {
		res.Cosigned = AddSignatures(res.Cosigned, res.Sigs[w.Name]...)
	}
	return res
}
