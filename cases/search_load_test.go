package cases_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"testing"

	_ "modernc.org/sqlite" // to spoil a record in place

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/search"
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

// TestLoadCorrupt: a record that does not decrypt, on the first or a later
// page, fails the load with vigil.ErrCorrupt (the page reader stops and
// the transaction ends: no hang, no race under -race), and nothing is
// loaded; once the record is good again the load succeeds.
func TestLoadCorrupt(t *testing.T) {
	d, s := openDir(t)
	changes := make([]cases.Change, 1100) // two pages of places (1,024 a page)
	for i := range changes {
		changes[i] = cases.Change{Doc: vigil.Place{Names: map[string]string{"ru": fmt.Sprintf("Село %d", i)}}}
	}
	refs, err := s.Apply(ctx, ivan, changes)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]vigil.ID, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	slices.SortFunc(ids, cmpID)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(d.Path, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// As one who holds the disk could: the store's guard against updates
	// goes first.
	if _, err := db.Exec(`DROP TRIGGER records_no_update`); err != nil {
		t.Fatal(err)
	}
	for _, id := range []vigil.ID{ids[10], ids[1050]} { // page 1, page 2
		var body []byte
		if err := db.QueryRow(`SELECT body FROM records WHERE id = ?`, id[:]).Scan(&body); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE records SET body = x'00' WHERE id = ?`, id[:]); err != nil {
			t.Fatal(err)
		}
		fresh := &cases.Service{Store: d.Store, Vault: d.Vault}
		if err := fresh.Load(ctx); !errors.Is(err, vigil.ErrCorrupt) {
			t.Errorf("load with %s corrupt: %v, want ErrCorrupt", id, err)
		}
		if _, err := fresh.Search(ctx, ivan, "Село", search.Filter{}, 0, 1); !errors.Is(err, vigil.ErrCorrupt) {
			t.Errorf("search with %s corrupt: %v, want ErrCorrupt", id, err)
		}
		if _, err := db.Exec(`UPDATE records SET body = ? WHERE id = ?`, body, id[:]); err != nil {
			t.Fatal(err)
		}
	}
	fresh := &cases.Service{Store: d.Store, Vault: d.Vault}
	if res, err := fresh.Search(ctx, ivan, "Село", search.Filter{}, 0, 1); err != nil || res.Total != len(changes) {
		t.Errorf("after repair: %d hits, %v", res.Total, err)
	}
}
