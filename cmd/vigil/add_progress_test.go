package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/internal/datadir"
)

// On a terminal, add's progress line is cleared before the item's ID line
// is printed, so the two never run together (stdout and stderr are the same
// terminal here: one buffer).
func TestAddProgressClearedBeforeIDLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if _, err := datadir.Init(dir, []byte("add progress passphrase"), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	d, err := datadir.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(f, bytes.Repeat([]byte("vigil "), 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	term := newCanaryBuffer() // safe for both writers
	e := &env{stdout: term, stderr: term, getenv: func(string) string { return "" }}
	for round := range 3 {
		before := len(term.String())
		it, err := addFile(t.Context(), e, d, f, time.Millisecond, round, 3)
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%s\t%d\t%s\n", it.ID, it.LeafIndex, f)
		fmt.Fprint(e.stdout, line) // as runAdd does
		out := term.String()[before:]
		if !strings.Contains(out, fmt.Sprintf("[%d/3] big.bin ", round+1)) {
			t.Fatalf("round %d: no progress line drawn: %q", round, out)
		}
		if !strings.HasSuffix(out, "\r\033[K"+line) {
			t.Errorf("round %d: the ID line does not follow a cleared line: ...%q", round, out[max(0, len(out)-200):])
		}
	}
}
