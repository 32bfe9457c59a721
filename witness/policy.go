package witness

import (
	"errors"
	"fmt"
	"net/url"
	"slices"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/evlog"
)

// A Policy says which witnesses a log asks to cosign its checkpoints and
// how many must have cosigned before a checkpoint is published. It is the
// "witness" section of vigil.json:
//
//	"witness": {
//	  "quorum": 1,
//	  "witnesses": [
//	    {"name": "ngo-b", "vkey": "witness.ngo-b.example/w1+1234abcd+BD…", "url": "https://ngo-b.example/witness"},
//	    {"name": "lw", "vkey": "…", "url": "…", "optional": true}
//	  ]
//	}
type Policy struct {
	// Quorum is how many of the required (not optional) witnesses must
	// cosign. Zero means all of them.
	Quorum    int             `json:"quorum,omitempty"`
	Witnesses []PolicyWitness `json:"witnesses"`
}

// A PolicyWitness is a witness named in a [Policy].
type PolicyWitness struct {
	Name string `json:"name"` // unique in the policy; for messages
	VKey string `json:"vkey"` // its cosignature/v1 verifier key
	URL  string `json:"url"`  // its submission prefix (http or https); empty for a policy used only to verify
	// Optional witnesses are asked and their cosignatures kept, but they
	// do not count towards the quorum.
	Optional bool `json:"optional,omitempty"`
}

// Need returns how many required witnesses must cosign.
func (p Policy) Need() int {
	if p.Quorum > 0 {
		return p.Quorum
	}
	n := 0
	for _, w := range p.Witnesses {
		if !w.Optional {
			n++
		}
	}
	return n
}

// Valid checks the policy once: names unique, keys parse, URLs are http(s)
// when needed (needURL), and the quorum can be met.
func (p Policy) Valid(needURL bool) error {
	var names []string
	required := 0
	for i, w := range p.Witnesses {
		if w.Name == "" || slices.Contains(names, w.Name) {
			return fmt.Errorf("witness policy: witness %d: missing or repeated name %q", i+1, w.Name)
		}
		names = append(names, w.Name)
		if _, err := NewVerifier(w.VKey); err != nil {
			return fmt.Errorf("witness policy: witness %s: %w", w.Name, err)
		}
		if needURL {
			u, err := url.Parse(w.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("witness policy: witness %s: url %q is not http(s)", w.Name, w.URL)
			}
		}
		if !w.Optional {
			required++
		}
	}
	if p.Quorum < 0 || p.Quorum > required {
		return fmt.Errorf("witness policy: quorum %d, but %d required witnesses", p.Quorum, required)
	}
	return nil
}

// Client returns the witnesses of the policy for [Client.Cosign].
func (p Policy) Client() ([]Witness, error) {
	var ws []Witness
	for _, w := range p.Witnesses {
		v, err := NewVerifier(w.VKey)
		if err != nil {
			return nil, fmt.Errorf("witness policy: witness %s: %w", w.Name, err)
		}
		ws = append(ws, Witness{Name: w.Name, Verifier: v, URL: w.URL})
	}
	return ws, nil
}

// A QuorumError says a checkpoint lacks cosignatures the policy requires.
type QuorumError struct {
	Need    int
	Have    []string // required witnesses whose cosignature verified
	Missing []string // required witnesses without one
}

func (e *QuorumError) Error() string {
	return fmt.Sprintf("witness quorum not met: %d of %d required cosignatures (missing: %v)", len(e.Have), e.Need, e.Missing)
}

// Verify checks a cosigned checkpoint offline: the log's signature by
// logKey, and valid cosignatures of at least [Policy.Need] required
// witnesses. It returns the checkpoint and the names of every witness
// (required or optional) whose cosignature verified, or a *QuorumError.
func (p Policy) Verify(cosigned []byte, logKey note.Verifier) (evlog.Checkpoint, []string, error) {
	c, err := evlog.OpenCheckpoint(cosigned, logKey)
	if err != nil {
		return c, nil, err
	}
	ws, err := p.Client()
	if err != nil {
		return c, nil, err
	}
	var have []string
	qe := &QuorumError{Need: p.Need()}
	for i, w := range ws {
		ok := false
		if n, err := note.Open(cosigned, note.VerifierList(w.Verifier)); err == nil {
			ok = len(n.Sigs) > 0
			for _, s := range n.Sigs {
				if t, err := Timestamp(s); err != nil || t.Unix() == 0 {
					ok = false
				}
			}
		} else if !isUnverified(err) {
			return c, nil, fmt.Errorf("witness %s: %w", w.Name, err)
		}
		if ok {
			have = append(have, w.Name)
		}
		if !p.Witnesses[i].Optional {
			if ok {
				qe.Have = append(qe.Have, w.Name)
			} else {
				qe.Missing = append(qe.Missing, w.Name)
			}
		}
	}
	if len(qe.Have) < qe.Need {
		return c, have, qe
	}
	return c, have, nil
}

func isUnverified(err error) bool {
	var u *note.UnverifiedNoteError
	return errors.As(err, &u)
}
