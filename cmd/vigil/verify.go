package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-hr/vigil/bundle"
	"github.com/vigil-hr/vigil/witness"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify", "BUNDLE.zip --log-key VKEY|FILE [--policy FILE]")
	key := fs.String("log-key", "", "the log's signed-note verifier key, or a `FILE` holding it (get it from a channel you trust, not from the bundle)")
	pfile := fs.String("policy", "", "also require each item's checkpoint to be cosigned by the witness quorum of the policy in `FILE` (JSON: {\"quorum\": N, \"witnesses\": [{\"name\", \"vkey\", \"optional\"}]}, as vigil.json's \"witness\" section)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
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
	vkey := *key
	if !strings.Contains(vkey, "+") {
		b, err := os.ReadFile(vkey)
		if err != nil {
			return fmt.Errorf("--log-key: not a key, and cannot read it as a file: %w", unwrapPath(err))
		}
		vkey = string(b)
	}
	v, err := bundle.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("--log-key: %w", err)
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
