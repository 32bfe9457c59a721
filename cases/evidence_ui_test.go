package cases_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/vigil-hr/vigil"
)

// TestCorroboration: one act's corroboration is the row Acts lists for
// it; an act of a restricted incident is not found for a non-member, nor
// is a record that is not an act, and a role that may not read cases is
// forbidden.
func TestCorroboration(t *testing.T) {
	_, s := openDir(t)
	f := newFixture(t, s, ivan)
	secret := create(t, s, olga, vigil.Incident{Title: "Secret", Restricted: []string{"olga"}})
	secretAct := create(t, s, olga, vigil.Act{Incident: secret, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}})
	all, err := s.Acts(ctx, ivan)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Corroboration(ctx, ivan, f.act)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || !reflect.DeepEqual(got, all[0]) {
		t.Errorf("Corroboration %+v, Acts %+v", got, all)
	}
	if got.Result.Status != "corroborated" {
		t.Errorf("status %s", got.Result.Status)
	}
	for _, c := range []struct {
		p    vigil.Principal
		id   vigil.ID
		want error
	}{
		{ivan, secretAct, vigil.ErrNotFound},
		{ivan, f.claimNGO, vigil.ErrNotFound},
		{ivan, vigil.NewID(), vigil.ErrNotFound},
		{intakeP, f.act, vigil.ErrForbidden},
	} {
		if _, err := s.Corroboration(ctx, c.p, c.id); !errors.Is(err, c.want) {
			t.Errorf("%s, %s: %v, want %v", c.p.Role, c.id, err, c.want)
		}
	}
	if _, err := s.Corroboration(ctx, olga, secretAct); err != nil {
		t.Errorf("member: %v", err)
	}
}
