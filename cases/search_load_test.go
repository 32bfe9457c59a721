package cases_test

import (
	"runtime/debug"
	"testing"

	"github.com/vigil-hr/vigil/cases"
)

// TestLoadRestoresGC: the load doubles GOGC only while it runs (model.go,
// loadGC); afterwards the process's setting is what it was.
func TestLoadRestoresGC(t *testing.T) {
	d, s := openDir(t)
	newGrozny(t, s)
	old := debug.SetGCPercent(150)
	defer debug.SetGCPercent(old)
	fresh := &cases.Service{Store: d.Store, Vault: d.Vault}
	if err := fresh.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GOGC after a load: %d, want 150", got)
	}
}
