package cases

import (
	"testing"

	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
)

// TestForeignKinds keeps the names of other services' kinds that claims
// refer to, and the audit kind, in step with their owners.
func TestForeignKinds(t *testing.T) {
	if kindItem != evidence.ItemKind.Name {
		t.Errorf("item kind %q, evidence says %q", kindItem, evidence.ItemKind.Name)
	}
	if kindSubmission != intake.KindSubmission {
		t.Errorf("submission kind %q, intake says %q", kindSubmission, intake.KindSubmission)
	}
	if audit.Kind.Name != intake.KindAudit {
		t.Errorf("audit kind %q, intake says %q", audit.Kind.Name, intake.KindAudit)
	}
	for _, s := range specs {
		if !s.kind.Logged {
			t.Errorf("%s is not logged", s.kind.Name)
		}
	}
}
