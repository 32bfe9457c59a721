package cases

import (
	"testing"

	"github.com/vigil-hr/vigil"
)

// TestActHistoryTrim: the history keeps its numbering while it forgets
// its oldest changes, so that a cursor from before them is known to be
// too old.
func TestActHistoryTrim(t *testing.T) {
	var h actHistory
	total := 0
	var last vigil.ID
	for i := range 5 {
		n := historyMax/2 + i
		ids := make([]vigil.ID, n)
		last = vigil.NewID()
		ids[n-1] = last
		h.note(ids, false)
		total += n
		if h.next() != uint64(total) || len(h.ids) > historyMax || h.ids[len(h.ids)-1] != last {
			t.Fatalf("after %d changes: base %d, %d kept, next %d", total, h.base, len(h.ids), h.next())
		}
	}
	if h.base == 0 || h.places != 0 {
		t.Errorf("base %d, places %d", h.base, h.places)
	}
	h.note(nil, true)
	if h.places != 1 || h.next() != uint64(total) {
		t.Errorf("a place write: places %d, next %d", h.places, h.next())
	}
}
