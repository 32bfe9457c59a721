// Package testneed decides what a test does when something it needs from
// outside the module (a browser, a database server, a system tool) is
// missing: it skips with the reason, unless the variable naming that need
// is set to 1, as .ci/run sets them, which turns the skip into a failure.
package testneed

import (
	"os"
	"testing"
)

// Skip skips tb with why, or fails it if the environment variable env is
// "1" (e.g. VIGIL_REQUIRE_BROWSER), so that CI cannot pass by skipping.
func Skip(tb testing.TB, env, why string) {
	tb.Helper()
	if os.Getenv(env) == "1" {
		tb.Fatalf("%s (%s=1 makes this a failure)", why, env)
	}
	tb.Skipf("%s; set %s=1 to make this a failure", why, env)
}
