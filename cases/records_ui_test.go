package cases_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
)

// TestIncidentActs: the narrow reads of the incident and act pages give the
// same results as the whole model's Acts, only for the incident asked, and
// hide a restricted incident's acts from a non-member like Get does.
func TestIncidentActs(t *testing.T) {
	_, s := openDir(t)
	f := newFixture(t, s, ivan)
	other := create(t, s, ivan, vigil.Incident{Title: "Other"})
	otherAct := create(t, s, ivan, vigil.Act{Incident: other, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}})
	second := create(t, s, ivan, vigil.Act{Incident: f.incident, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 2}})

	all, err := s.Acts(ctx, ivan)
	must(t, err)
	byID := map[vigil.ID]cases.ActResult{}
	for _, a := range all {
		byID[a.ID] = a
	}
	got, err := s.IncidentActs(ctx, ivan, f.incident)
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("IncidentActs: %d acts, want 2", len(got))
	}
	for _, a := range got {
		if a.ID != f.act && a.ID != second {
			t.Errorf("IncidentActs lists act %s of another incident", a.ID)
		}
		if !reflect.DeepEqual(a, byID[a.ID]) {
			t.Errorf("act %s: IncidentActs %+v, Acts %+v", a.ID, a, byID[a.ID])
		}
	}
	one, err := s.ActResult(ctx, ivan, f.act)
	must(t, err)
	if !reflect.DeepEqual(one, byID[f.act]) {
		t.Errorf("ActResult %+v, Acts %+v", one, byID[f.act])
	}
	if one.Result.Status != "corroborated" || len(one.Result.Flags) != 1 || one.Result.Flags[0] != "denied_by_implicated" {
		t.Errorf("fixture act: %s %v", one.Result.Status, one.Result.Flags)
	}
	if acts, err := s.IncidentActs(ctx, ivan, other); err != nil || len(acts) != 1 || acts[0].ID != otherAct {
		t.Errorf("other incident: %v %v", acts, err)
	}

	// The wrong kind of record is not found.
	if _, err := s.IncidentActs(ctx, ivan, f.act); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("IncidentActs of an act: %v", err)
	}
	if _, err := s.ActResult(ctx, ivan, f.incident); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("ActResult of an incident: %v", err)
	}
	if _, err := s.ActResult(ctx, ivan, vigil.NewID()); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("ActResult of nothing: %v", err)
	}

	// Restricted to ivan: olga sees neither the incident's acts nor an act.
	inc, err := s.Get(ctx, ivan, f.incident)
	must(t, err)
	doc := inc.Doc.(vigil.Incident)
	doc.Restricted = []string{"ivan"}
	_, err = s.Update(ctx, ivan, f.incident, inc.Version, doc)
	must(t, err)
	if _, err := s.IncidentActs(ctx, olga, f.incident); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("non-member IncidentActs: %v", err)
	}
	if _, err := s.ActResult(ctx, olga, f.act); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("non-member ActResult: %v", err)
	}
	for _, p := range []vigil.Principal{ivan, admin} {
		if acts, err := s.IncidentActs(ctx, p, f.incident); err != nil || len(acts) != 2 {
			t.Errorf("%s IncidentActs of the restricted incident: %d %v", p.Account, len(acts), err)
		}
	}
	// The acts naming a person, a party, a place: the restricted
	// incident's act only for its member.
	for _, id := range []vigil.ID{f.person, f.police, f.town} {
		if acts, err := s.ActsNaming(ctx, ivan, id, 0); err != nil || len(acts) != 1 || !reflect.DeepEqual(acts[0], byID[f.act]) {
			t.Errorf("ActsNaming %s for the member: %v %v", id, acts, err)
		}
		if acts, err := s.ActsNaming(ctx, olga, id, 0); err != nil || len(acts) != 0 {
			t.Errorf("ActsNaming %s for a non-member: %v %v", id, acts, err)
		}
	}
	if acts, err := s.ActsNaming(ctx, ivan, f.ministry, 0); err != nil || len(acts) != 0 {
		t.Errorf("ActsNaming of a party above the perpetrator: %v %v", acts, err)
	}
	if _, err := s.ActsNaming(ctx, olga, f.act, 0); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("ActsNaming of a hidden act: %v", err)
	}
	if _, err := s.IncidentActs(ctx, intakeP, other); !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("intake IncidentActs: %v", err)
	}
	if _, err := s.ActResult(ctx, intakeP, otherAct); !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("intake ActResult: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
