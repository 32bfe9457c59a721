package evidence_test

import (
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
)

// TestPage: pages of items in ID order, each decrypted with its leaf and
// the coarse (hour) time; a short page is the last.
func TestPage(t *testing.T) {
	f := mustService(t)
	added := map[vigil.ID]int64{}
	for i, name := range []string{"a.txt", "b.png", "c.pdf"} {
		it := f.add(t, []byte{byte(i), 1, 2, 3}, name, "")
		added[it.ID] = it.LeafIndex
	}
	var got []vigil.ID
	var after vigil.ID
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("more pages than items")
		}
		list, err := f.svc.Page(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range list {
			if leaf, ok := added[l.ID]; !ok || leaf != l.LeafIndex || l.Size != 4 || l.Name == "" {
				t.Errorf("listed %+v", l.Item)
			}
			if want := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC); !l.Created.Equal(want) {
				t.Errorf("created %v, want %v", l.Created, want)
			}
			if len(got) > 0 && l.ID.String() <= got[len(got)-1].String() {
				t.Errorf("not in ID order: %s after %s", l.ID, got[len(got)-1])
			}
			got = append(got, l.ID)
		}
		if len(list) < 2 {
			break
		}
		after = list[len(list)-1].ID
	}
	if len(got) != 3 {
		t.Errorf("paged %d items, want 3", len(got))
	}
}
