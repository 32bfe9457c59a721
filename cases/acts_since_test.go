package cases_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
)

// TestActsSince follows a principal's cursor through writes: each call
// names the acts a write may have changed, with their results as Acts
// gives them, drops acts moved out of the principal's sight, and starts
// over (All) after a place write or a reload.
func TestActsSince(t *testing.T) {
	_, s := openDir(t)
	f := newFixture(t, s, ivan)
	other := create(t, s, ivan, vigil.Act{Incident: f.incident, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}})

	// since calls ActsSince for p from *cur, checks it against Acts, and
	// returns the IDs it names.
	since := func(p vigil.Principal, cur *cases.ActsCursor) (all bool, acts, gone []vigil.ID) {
		t.Helper()
		ch, err := s.ActsSince(ctx, p, *cur)
		if err != nil {
			t.Fatal(err)
		}
		*cur = ch.Next
		every, err := s.Acts(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range ch.Acts {
			i := slices.IndexFunc(every, func(b cases.ActResult) bool { return b.ID == a.ID })
			if i < 0 || every[i].Result.Status != a.Result.Status || every[i].Act.Type != a.Act.Type {
				t.Errorf("%s: ActsSince gives act %s as %+v, Acts as %+v", p.Account, a.ID, a, every)
			}
			acts = append(acts, a.ID)
		}
		if ch.All && len(ch.Acts) != len(every) {
			t.Errorf("%s: All with %d acts, Acts has %d", p.Account, len(ch.Acts), len(every))
		}
		slices.SortFunc(acts, compareID)
		return ch.All, acts, ch.Gone
	}
	var ivanCur, adminCur cases.ActsCursor
	want := []vigil.ID{f.act, other}
	slices.SortFunc(want, compareID)
	if all, acts, gone := since(ivan, &ivanCur); !all || !slices.Equal(acts, want) || len(gone) != 0 {
		t.Fatalf("first call: all %v, acts %v, gone %v", all, acts, gone)
	}
	since(admin, &adminCur)
	if all, acts, gone := since(ivan, &ivanCur); all || len(acts) != 0 || len(gone) != 0 {
		t.Errorf("nothing written: all %v, acts %v, gone %v", all, acts, gone)
	}

	// A claim changes its act's result: that act alone.
	create(t, s, ivan, vigil.Claim{Act: other, Source: f.ngo, Stance: vigil.Affirms, Credibility: 2})
	if all, acts, _ := since(ivan, &ivanCur); all || !slices.Equal(acts, []vigil.ID{other}) {
		t.Errorf("after a claim: all %v, acts %v, want [%s]", all, acts, other)
	}
	if st := status(t, s, other); st != corroborate.Reported {
		t.Errorf("other is %s", st)
	}

	// A person changes no act.
	create(t, s, ivan, vigil.Person{Pseudonym: "Witness 2"})
	if all, acts, gone := since(ivan, &ivanCur); all || len(acts) != 0 || len(gone) != 0 {
		t.Errorf("after a person: all %v, acts %v, gone %v", all, acts, gone)
	}

	// Restricting the incident to someone else takes both acts out of
	// Ivan's sight; the admin still sees them, changed.
	rec, err := s.Get(ctx, ivan, f.incident)
	must(t, err)
	inc := rec.Doc.(vigil.Incident)
	inc.Restricted = []string{"olga"}
	_, err = s.Apply(ctx, admin, []cases.Change{{Kind: cases.KindIncident, ID: f.incident, Version: rec.Version, Doc: inc}})
	must(t, err)
	all, acts, gone := since(ivan, &ivanCur)
	slices.SortFunc(gone, compareID)
	if all || len(acts) != 0 || !slices.Equal(gone, want) {
		t.Errorf("after the restriction, for Ivan: all %v, acts %v, gone %v", all, acts, gone)
	}
	if all, acts, gone := since(admin, &adminCur); all || !slices.Equal(acts, want) || len(gone) != 0 {
		t.Errorf("after the restriction, for the admin: all %v, acts %v, gone %v", all, acts, gone)
	}

	// A new place moves no act; a region put under another moves the acts
	// at every place under it.
	placeWrite := func(doc vigil.Place, id vigil.ID) []vigil.ID {
		t.Helper()
		var version int64
		if !id.IsZero() {
			rec, err := s.Get(ctx, admin, id)
			must(t, err)
			version = rec.Version
		}
		_, err := s.Apply(ctx, admin, []cases.Change{{Kind: cases.KindPlace, ID: id, Version: version, Doc: doc}})
		must(t, err)
		ch, err := s.ActsSince(ctx, admin, adminCur)
		must(t, err)
		if ch.All || ch.Places[id].Parent != doc.Parent {
			t.Errorf("after a place write: all %v, the place as given %+v", ch.All, ch.Places[id])
		}
		adminCur = ch.Next
		var ids []vigil.ID
		for _, a := range ch.Acts {
			ids = append(ids, a.ID)
		}
		return ids
	}
	russia := create(t, s, ivan, vigil.Place{Names: map[string]string{"en": "Russia"}})
	if ch, err := s.ActsSince(ctx, admin, adminCur); err != nil || ch.Places[russia].Names["en"] != "Russia" || len(ch.Acts) != 0 {
		t.Errorf("after a new place: %+v, %v", ch, err)
	} else {
		adminCur = ch.Next
	}
	if acts := placeWrite(vigil.Place{Names: map[string]string{"en": "Chechnya", "ru": "Чечня"}, Kind: "region", Parent: russia}, f.region); !slices.Equal(acts, []vigil.ID{f.act}) {
		t.Errorf("after the region moved: acts %v, want the act in its town %s", acts, f.act)
	}
	if ch, err := s.ActsSince(ctx, admin, adminCur); err != nil || ch.Places != nil || len(ch.Acts) != 0 {
		t.Errorf("nothing written since the place: %+v, %v", ch, err)
	}
	// So does a reload, and another model's cursor.
	s.Drop()
	if all, acts, _ := since(admin, &adminCur); !all || !slices.Equal(acts, want) {
		t.Errorf("after a reload: all %v, acts %v", all, acts)
	}
	if all, acts, _ := since(ivan, &cases.ActsCursor{}); !all || len(acts) != 0 {
		t.Errorf("zero cursor for Ivan, who sees no act now: all %v, acts %v", all, acts)
	}
}

// TestVisibility: principals let into the same restricted incidents share
// a visibility, and ActsSince reports the one it read the acts under.
func TestVisibility(t *testing.T) {
	_, s := openDir(t)
	petr := vigil.Principal{Actor: "test:petr", Account: "petr", Role: vigil.RoleAnalyst}
	vis := func(p vigil.Principal) string {
		t.Helper()
		v, err := s.Visibility(ctx, p)
		must(t, err)
		ch, err := s.ActsSince(ctx, p, cases.ActsCursor{})
		must(t, err)
		if ch.Visibility != v {
			t.Errorf("%s: ActsSince under %q, Visibility %q", p.Account, ch.Visibility, v)
		}
		return v
	}
	if v := vis(admin); v != "all" {
		t.Errorf("admin: %q", v)
	}
	if a, b := vis(ivan), vis(petr); a != "open" || b != "open" {
		t.Errorf("no restricted incident: %q, %q", a, b)
	}
	secret := create(t, s, olga, vigil.Incident{Title: "Secret wave", Restricted: []string{"olga"}})
	create(t, s, olga, vigil.Incident{Title: "Another", Restricted: []string{"olga", "petr"}})
	o, iv, pe := vis(olga), vis(ivan), vis(petr)
	if o == "open" || o == pe || iv != "open" || pe == "open" {
		t.Errorf("olga %q, ivan %q, petr %q", o, iv, pe)
	}
	rec, err := s.Get(ctx, olga, secret)
	must(t, err)
	inc := rec.Doc.(vigil.Incident)
	inc.Restricted = []string{"olga", "ivan"}
	_, err = s.Apply(ctx, olga, []cases.Change{{Kind: cases.KindIncident, ID: secret, Version: rec.Version, Doc: inc}})
	must(t, err)
	if iv := vis(ivan); iv == "open" || iv == o || iv == pe {
		t.Errorf("ivan, let into one of olga's two: %q (olga %q, petr %q)", iv, o, pe)
	}
	if _, err := s.Visibility(ctx, intakeP); !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("intake: %v", err)
	}
}

func status(t *testing.T, s *cases.Service, act vigil.ID) corroborate.Status {
	t.Helper()
	r, err := s.Corroboration(ctx, admin, act)
	must(t, err)
	return r.Result.Status
}

func compareID(a, b vigil.ID) int { return bytes.Compare(a[:], b[:]) }
