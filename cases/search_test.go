package cases_test

import (
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/search"
)

// searchIDs returns the IDs of the hits of text for p, of every kind.
func searchIDs(t *testing.T, s *cases.Service, p vigil.Principal, text string) []vigil.ID {
	t.Helper()
	res, err := s.Search(ctx, p, text, search.Filter{}, 0, 100)
	if err != nil {
		t.Fatalf("search %q: %v", text, err)
	}
	var ids []vigil.ID
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

// grozny is a small case in Russian: an act of torture in Grozny, with an
// incident title and a claim's quote of its own.
type grozny struct {
	place, incident, act, claim, person vigil.ID
}

func newGrozny(t *testing.T, s *cases.Service) grozny {
	t.Helper()
	var g grozny
	g.place = create(t, s, ivan, vigil.Place{Names: map[string]string{"ru": "Грозный"}})
	src := create(t, s, ivan, vigil.Source{Name: "Правозащитный центр", Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB})
	g.person = create(t, s, ivan, vigil.Person{Pseudonym: "Свидетель 7", Private: &vigil.PersonPrivate{
		Names: []vigil.PersonName{{Script: "Cyrl", Name: "Кадыров"}}}})
	g.incident = create(t, s, ivan, vigil.Incident{Title: "Облава на рынке"})
	g.act = create(t, s, ivan, vigil.Act{Incident: g.incident, Type: "torture", Place: g.place,
		Victims: vigil.VictimCount{Min: 1, Max: 1}, Description: "Задержанного били в отделе"})
	g.claim = create(t, s, ivan, vigil.Claim{Act: g.act, Source: src, Stance: vigil.Affirms, Credibility: 2,
		Quote: "его увезли на белой машине"})
	return g
}

// TestSearchAct: an act is found by its place's names (a Russian name
// typed in Latin), its incident's title, its claims' quotes and its type's
// labels in every language, and its status is its corroboration's.
func TestSearchAct(t *testing.T) {
	_, s := openDir(t)
	g := newGrozny(t, s)
	for _, q := range []string{"Grozny", "Грозном", "облава", "машине", "пытки", "torture", "отделе"} {
		if ids := searchIDs(t, s, ivan, q); !slices.Contains(ids, g.act) {
			t.Errorf("%q: hits %v, want the act %s", q, ids, g.act)
		}
	}
	if ids := searchIDs(t, s, ivan, "машине"); !slices.Contains(ids, g.claim) {
		t.Errorf("машине: hits %v, want the claim too", ids)
	}
	res, err := s.Search(ctx, ivan, "", search.Filter{Kinds: []string{cases.KindAct}}, 0, 10)
	if err != nil || res.Total != 1 || res.Hits[0].Incident != g.incident {
		t.Fatalf("acts: %+v, %v", res, err)
	}
	acts, err := s.Acts(ctx, ivan)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(acts[0].Result.Status); len(res.Facets.Statuses) != 1 || res.Facets.Statuses[0].Value != want {
		t.Errorf("status facet %+v, want %q", res.Facets.Statuses, want)
	}
}

// TestSearchPrivate: a person's private names are found only by principals
// that may read private fields.
func TestSearchPrivate(t *testing.T) {
	_, s := openDir(t)
	g := newGrozny(t, s)
	if ids := searchIDs(t, s, ivan, "Kadyrov"); !slices.Contains(ids, g.person) {
		t.Errorf("investigator: %v, want the person", ids)
	}
	if ids := searchIDs(t, s, analyst, "Kadyrov"); len(ids) != 0 {
		t.Errorf("analyst finds a private name: %v", ids)
	}
	if ids := searchIDs(t, s, analyst, "Свидетель"); !slices.Contains(ids, g.person) {
		t.Errorf("analyst by pseudonym: %v", ids)
	}
	// Intake staff search submissions only (TestSearchSubmissionsRestricted).
	if ids := searchIDs(t, s, intakeP, "Свидетель"); len(ids) != 0 {
		t.Errorf("intake finds case records: %v", ids)
	}
}

// TestSearchRestriction: the acts, claims and incident of a restricted
// incident count in no hit and no facet for a principal it does not name.
func TestSearchRestriction(t *testing.T) {
	_, s := openDir(t)
	g := newGrozny(t, s)
	secret := create(t, s, olga, vigil.Incident{Title: "Тайная облава", Restricted: []string{"olga"}})
	secretAct := create(t, s, olga, vigil.Act{Incident: secret, Type: "killing", Place: g.place,
		Victims: vigil.VictimCount{Min: 1, Max: 1}})
	for _, q := range []string{"Grozny", "облава", "killing", ""} {
		res, err := s.Search(ctx, ivan, q, search.Filter{}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if h.ID == secret || h.ID == secretAct || h.Incident == secret {
				t.Errorf("%q: ivan sees %s %s", q, h.Kind, h.ID)
			}
		}
		for _, c := range res.Facets.ActTypes {
			if c.Value == "killing" {
				t.Errorf("%q: ivan's facets count the secret act: %+v", q, res.Facets.ActTypes)
			}
		}
		for _, c := range res.Facets.Kinds {
			if c.Value == cases.KindAct && c.N != 1 {
				t.Errorf("%q: ivan's facets count %d acts", q, c.N)
			}
		}
	}
	if ids := searchIDs(t, s, olga, "Grozny"); !slices.Contains(ids, secretAct) {
		t.Errorf("olga: %v, want her act", ids)
	}
	if ids := searchIDs(t, s, admin, "killing"); !slices.Contains(ids, secretAct) {
		t.Errorf("admin: %v, want the act", ids)
	}
}

// TestSearchUpdates: writes show up at once: a renamed place, a retitled
// incident, a changed quote and a claim moved to another act.
func TestSearchUpdates(t *testing.T) {
	_, s := openDir(t)
	g := newGrozny(t, s)
	if _, err := s.Update(ctx, ivan, g.place, 1, vigil.Place{Names: map[string]string{"ru": "Гудермес"}}); err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, s, ivan, "Gudermes"); !slices.Contains(ids, g.act) || !slices.Contains(ids, g.place) {
		t.Errorf("Gudermes: %v, want the act and the place", ids)
	}
	if ids := searchIDs(t, s, ivan, "Grozny"); len(ids) != 0 {
		t.Errorf("Grozny after the rename: %v", ids)
	}
	if _, err := s.Update(ctx, ivan, g.incident, 1, vigil.Incident{Title: "Зачистка"}); err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, s, ivan, "зачистка"); !slices.Contains(ids, g.act) || !slices.Contains(ids, g.incident) {
		t.Errorf("new title: %v", ids)
	}
	if ids := searchIDs(t, s, ivan, "облава"); len(ids) != 0 {
		t.Errorf("old title: %v", ids)
	}
	other := create(t, s, ivan, vigil.Act{Incident: g.incident, Type: "killing", Victims: vigil.VictimCount{Min: 1, Max: 1}})
	r, err := s.Get(ctx, ivan, g.claim)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Doc.(vigil.Claim)
	c.Act, c.Quote = other, "его увезли на чёрной машине"
	if _, err := s.Update(ctx, ivan, g.claim, r.Version, c); err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, s, ivan, "черной"); !slices.Contains(ids, other) || slices.Contains(ids, g.act) || !slices.Contains(ids, g.claim) {
		t.Errorf("moved claim: %v, want act %s and the claim, not %s", ids, other, g.act)
	}
	if ids := searchIDs(t, s, ivan, "белой"); len(ids) != 0 {
		t.Errorf("old quote: %v", ids)
	}
}

// TestSearchSeal: after seal the index is gone (ErrSealed), and loading the
// model, searching and sealing wrote no file, neither in the data
// directory nor in TMPDIR.
func TestSearchSeal(t *testing.T) {
	tmp := t.TempDir()
	d, s := openDir(t)
	newGrozny(t, s)
	t.Setenv("TMPDIR", tmp)
	fresh := &cases.Service{Store: d.Store, Vault: d.Vault} // model not loaded yet
	before := files(t, d.Path, tmp)
	if ids := searchIDs(t, fresh, ivan, "Grozny"); len(ids) == 0 {
		t.Fatal("nothing found")
	}
	d.Vault.Seal()
	if _, err := fresh.Search(ctx, ivan, "Grozny", search.Filter{}, 0, 0); !errors.Is(err, vigil.ErrSealed) {
		t.Errorf("after seal: %v, want ErrSealed", err)
	}
	if after := files(t, d.Path, tmp); !maps.Equal(before, after) {
		t.Errorf("files changed:\nbefore %v\nafter  %v", before, after)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, fresh, ivan, "Grozny"); len(ids) == 0 {
		t.Error("nothing found after unseal")
	}
}

// files returns the size of every file under the directories.
func files(t *testing.T, dirs ...string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			out[path] = info.Size()
			if e.IsDir() {
				out[path] = -1
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestSearchConcurrent: searches while writes commit and the vault seals
// neither deadlock (docs/search.md, Locks) nor race (go test -race).
func TestSearchConcurrent(t *testing.T) {
	d, s := openDir(t)
	g := newGrozny(t, s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			names := map[string]string{"ru": "Грозный", "en": "Grozny " + strconv.Itoa(i)}
			if _, err := s.Update(ctx, ivan, g.place, int64(i+1), vigil.Place{Names: names}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			d.Vault.Seal()
			if _, err := s.Search(ctx, ivan, "Grozny", search.Filter{}, 0, 0); !errors.Is(err, vigil.ErrSealed) {
				t.Errorf("after seal: %v", err)
			}
			return
		default:
		}
		if ids := searchIDs(t, s, ivan, "Grozny"); !slices.Contains(ids, g.act) {
			t.Fatalf("Grozny: %v", ids)
		}
	}
}
