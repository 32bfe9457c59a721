// Package axe runs axe-core, the accessibility checker (npm package
// axe-core, not vendored here), against the page a Chromium test has open,
// and fails the test on every violation of impact "serious" or "critical".
//
// The script comes from the file named by VIGIL_AXE (axe.min.js from the
// npm package; .ci/run fetches it with npm pack and checks its SHA-256).
// Without it the checks skip with the reason, unless VIGIL_REQUIRE_AXE=1.
// The script is evaluated through the DevTools protocol, so the page's
// Content-Security-Policy, which forbids inline and foreign scripts, does
// not have to be loosened for the check.
package axe

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil/internal/testneed"
)

var (
	once   sync.Once
	source string
	err    error
)

// Source returns axe.min.js, or skips tb (fails under VIGIL_REQUIRE_AXE=1)
// when VIGIL_AXE does not name a readable copy.
func Source(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		p := os.Getenv("VIGIL_AXE")
		if p == "" {
			err = fmt.Errorf("VIGIL_AXE does not name axe.min.js (npm pack axe-core; .ci/run does)")
			return
		}
		var b []byte
		b, err = os.ReadFile(p)
		if err == nil && !strings.Contains(string(b[:min(len(b), 4096)]), "axe") {
			err = fmt.Errorf("%s does not look like axe.min.js", p)
		}
		source = string(b)
	})
	if err != nil {
		testneed.Skip(tb, "VIGIL_REQUIRE_AXE", err.Error())
	}
	return source
}

// A Violation is one rule axe-core found broken, with the elements.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// String describes v with up to three of its elements.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 3 {
			fmt.Fprintf(&b, "\n    ... %d more", len(v.Nodes)-3)
			break
		}
		fmt.Fprintf(&b, "\n    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// Run runs axe-core on the page open in ctx (WCAG 2.x A and AA rules and
// axe's best practices) and returns every violation.
func Run(tb testing.TB, ctx context.Context) ([]Violation, error) {
	tb.Helper()
	src := Source(tb)
	script := src + `
;(async () => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}, resultTypes: ["violations"]});
  return JSON.stringify(r.violations);
})()`
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe-core: %w", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		return nil, fmt.Errorf("axe-core answer: %w", err)
	}
	return vs, nil
}

// Check fails tb for every serious or critical violation on the page open
// in ctx, naming the page; lesser ones are logged.
func Check(tb testing.TB, ctx context.Context, page string) {
	tb.Helper()
	vs, err := Run(tb, ctx)
	if err != nil {
		tb.Fatalf("%s: %v", page, err)
	}
	for _, v := range vs {
		switch v.Impact {
		case "serious", "critical":
			tb.Errorf("%s: %s", page, v)
		default:
			tb.Logf("%s (not failing): %s", page, v)
		}
	}
}
