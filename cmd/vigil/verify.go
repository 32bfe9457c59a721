package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/bundle"
	"github.com/vigil-hr/vigil/witness"
)

const verifyHelp = `FILE [flags]

FILE is told by its content:
  an evidence bundle (zip)      --log-key VKEY|FILE [--policy FILE]
  an advisory (signed note)     --key VKEY|FILE [--index FILE] [--at TIME]
      checks the signature with the publication key (advisory_vkey), the
      validity period at TIME (default now) and, with --index (the signed
      list, /advisories/index.txt), that it was not withdrawn.
  a signed advisory list        --key VKEY|FILE
  a statistics file (/stats.txt) --key VKEY|FILE [--bundles DIR|ZIP...] [--log-key VKEY|FILE]
      checks the signature and, with bundles (verified with --log-key),
      recomputes each figure that lists leaves from the bundled records.`

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify", verifyHelp)
	key := fs.String("log-key", "", "the log's signed-note verifier key, or a `FILE` holding it (get it from a channel you trust, not from the bundle)")
	pfile := fs.String("policy", "", "also require each item's checkpoint to be cosigned by the witness quorum of the policy in `FILE` (JSON: {\"quorum\": N, \"witnesses\": [{\"name\", \"vkey\", \"optional\"}]}, as vigil.json's \"witness\" section)")
	pubKey := fs.String("key", "", "the publication key (advisory_vkey of /.well-known/vigil.json), or a `FILE` holding it, for advisories and statistics")
	index := fs.String("index", "", "the signed list of advisories (`FILE`, /advisories/index.txt): refuse an advisory it marks withdrawn")
	at := fs.String("at", "", "check an advisory's validity at `TIME` (RFC 3339) instead of now")
	bundles := fs.String("bundles", "", "a `DIR` of evidence bundles (*.zip) to recompute statistics from (more bundles may follow FILE)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) >= 1 {
		// A file that cannot be read is left to the bundle path, which
		// reports usage first, then the file.
		if kind, err := sniff(pos[0]); err == nil && kind != "bundle" {
			return verifyPublication(e, kind, pos, publicationFlags{key: *pubKey, logKey: *key, index: *index, at: *at, bundles: *bundles})
		}
	}
	if len(pos) != 1 || *key == "" {
		return usageError{"need one bundle file and --log-key"}
	}
	var policy *witness.Policy
	if *pfile != "" {
		b, err := os.ReadFile(*pfile)
		if err != nil {
			return fmt.Errorf("--policy: %w", unwrapPath(err))
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		policy = new(witness.Policy)
		if err := dec.Decode(policy); err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
		if err := policy.Valid(false); err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
	}
	v, err := keyFlag("--log-key", *key)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", pos[0], unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("cannot read %s: not a regular file", pos[0])
	}
	rep, err := bundle.Verify(f, st.Size(), v, bundle.Limits{})
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range rep.Items {
		cosigned := ""
		if r.OK() && policy != nil {
			_, have, err := policy.Verify(r.Checkpoint, v)
			if err != nil {
				failed++
				fmt.Fprintf(e.stdout, "FAIL  %s  witness quorum: %s\n", r.ID, oneLine(err.Error()))
				continue
			}
			cosigned = ", cosigned by " + strings.Join(have, ", ")
		}
		if r.OK() {
			what := "statement and proof"
			if r.HasContent {
				what = "content, statement and proof"
			}
			fmt.Fprintf(e.stdout, "OK    %s  leaf %d in a tree of %d signed by %s (%s)%s\n", r.ID, r.Index, r.TreeSize, v.Name(), what, cosigned)
		} else {
			failed++
			fmt.Fprintf(e.stdout, "FAIL  %s  %s: %s\n", r.ID, r.Part, oneLine(r.Err.Error()))
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d items failed verification", failed, len(rep.Items))
	}
	return nil
}

// keyFlag reads a verifier key given as itself or as a file holding it.
func keyFlag(name, vkey string) (note.Verifier, error) {
	if !strings.Contains(vkey, "+") {
		b, err := os.ReadFile(vkey)
		if err != nil {
			return nil, fmt.Errorf("%s: not a key, and cannot read it as a file: %w", name, unwrapPath(err))
		}
		vkey = strings.TrimSpace(string(b))
	}
	v, err := bundle.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}
