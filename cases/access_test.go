package cases_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// TestRoles: analysts read but do not write, intake staff see no case
// records, and only roles that may read private fields see a person's.
func TestRoles(t *testing.T) {
	d, s := openDir(t)
	f := newFixture(t, s, ivan)
	before := count(t, d)
	if _, err := s.Create(ctx, analyst, cases.KindParty, vigil.Party{Name: "x"}); !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("analyst create: %v", err)
	}
	if _, err := s.Update(ctx, analyst, f.police, 1, vigil.Party{Name: "x"}); !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("analyst update: %v", err)
	}
	if _, err := s.Apply(ctx, intakeP, []cases.Change{{Doc: vigil.Party{Name: "x"}}}); !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("intake apply: %v", err)
	}
	if _, err := s.Create(ctx, vigil.Principal{Role: vigil.RoleAdmin}, cases.KindParty, vigil.Party{Name: "x"}); !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("a write without an actor: %v", err)
	}
	sameCounts(t, before, count(t, d))
	for name, call := range map[string]func(vigil.Principal) error{
		"get":      func(p vigil.Principal) error { _, err := s.Get(ctx, p, f.act); return err },
		"list":     func(p vigil.Principal) error { _, err := s.List(ctx, p, cases.KindAct, vigil.ID{}, 0); return err },
		"versions": func(p vigil.Principal) error { _, err := s.Versions(ctx, p, f.act); return err },
		"children": func(p vigil.Principal) error { _, err := s.Children(ctx, p, f.act); return err },
		"acts":     func(p vigil.Principal) error { _, err := s.Acts(ctx, p); return err },
		"figures":  func(p vigil.Principal) error { _, err := s.Figures(ctx, p, figures.ByType); return err },
		"by key":   func(p vigil.Principal) error { _, err := s.GetByKey(ctx, p, cases.KindAct, "k"); return err },
	} {
		if err := call(intakeP); !errors.Is(err, vigil.ErrForbidden) {
			t.Errorf("intake %s: %v", name, err)
		}
		if err := call(vigil.Principal{Actor: "nobody"}); !errors.Is(err, vigil.ErrForbidden) {
			t.Errorf("no role %s: %v", name, err)
		}
	}
	for _, p := range []vigil.Principal{analyst, ivan, admin} {
		r, err := s.Get(ctx, p, f.person)
		if err != nil {
			t.Fatal(err)
		}
		got := r.Doc.(vigil.Person)
		if want := p.Can(vigil.ReadPrivate); (got.Private != nil) != want || got.Pseudonym != "Witness 1" {
			t.Errorf("%s sees %+v", p.Role, got)
		}
		list, err := s.List(ctx, p, cases.KindPerson, vigil.ID{}, 0)
		if err != nil || len(list) != 1 || (list[0].Doc.(vigil.Person).Private != nil) != p.Can(vigil.ReadPrivate) {
			t.Errorf("%s lists %+v, %v", p.Role, list, err)
		}
		vs, err := s.Versions(ctx, p, f.person)
		if err != nil || len(vs) != 1 || (vs[0].Doc.(vigil.Person).Private != nil) != p.Can(vigil.ReadPrivate) {
			t.Errorf("%s versions %+v, %v", p.Role, vs, err)
		}
	}
}

// TestRestriction: a restricted incident, its acts and claims and their
// share of the figures are invisible to a principal it does not name, who
// also cannot write into it; they are visible to one it names and to admins.
func TestRestriction(t *testing.T) {
	d, s := openDir(t)
	f := newFixture(t, s, ivan) // open: 10..40 victims, corroborated
	secret := create(t, s, olga, vigil.Incident{Title: "Secret wave", Restricted: []string{"olga"}})
	secretAct := create(t, s, olga, vigil.Act{Incident: secret, Type: "torture", Place: f.town, Victims: vigil.VictimCount{Min: 3, Max: 5}})
	secretClaim := create(t, s, olga, vigil.Claim{Act: secretAct, Source: f.ngo, Stance: vigil.Affirms, Credibility: 2})
	create(t, s, olga, vigil.Claim{Act: secretAct, Source: f.paper, Stance: vigil.Affirms, Credibility: 3})

	restrictedAnalyst := vigil.Principal{Actor: "test:ana", Account: "ana", Role: vigil.RoleAnalyst}
	for _, test := range []struct {
		p                vigil.Principal
		sees             bool
		minAtLeast, upTo int
	}{
		{ivan, false, 10, 40},
		{restrictedAnalyst, false, 10, 40},
		{olga, true, 13, 45},
		{admin, true, 13, 45},
	} {
		p := test.p
		for _, id := range []vigil.ID{secret, secretAct, secretClaim} {
			_, err := s.Get(ctx, p, id)
			if test.sees != (err == nil) || !test.sees && !errors.Is(err, vigil.ErrNotFound) {
				t.Errorf("%s gets %s: %v", p.Account, id, err)
			}
			_, err = s.Versions(ctx, p, id)
			if test.sees != (err == nil) {
				t.Errorf("%s versions of %s: %v", p.Account, id, err)
			}
		}
		// Open: one incident, one act, three claims; secret: one, one, two.
		for kind, n := range map[string][2]int{cases.KindIncident: {1, 1}, cases.KindAct: {1, 1}, cases.KindClaim: {3, 2}} {
			list, err := s.List(ctx, p, kind, vigil.ID{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := n[0] + n[1]*boolInt(test.sees); len(list) != want {
				t.Errorf("%s lists %d %ss, want %d", p.Account, len(list), kind, want)
			}
		}
		acts, err := s.Acts(ctx, p)
		if err != nil || len(acts) != 1+boolInt(test.sees) {
			t.Errorf("%s: %d acts, %v", p.Account, len(acts), err)
		}
		kids, err := s.Children(ctx, p, f.town)
		if err != nil || len(kids) != 0 {
			t.Errorf("%s: children of the town: %v, %v", p.Account, kids, err)
		}
		for _, by := range []figures.By{figures.ByType, figures.ByPlace, figures.ByIncident, figures.ByMonth} {
			fig, err := s.Figures(ctx, p, by)
			if err != nil {
				t.Fatal(err)
			}
			sum := figures.Figure{}
			for k, g := range fig {
				if by == figures.ByPlace && k != f.town.String() {
					continue
				}
				sum.ConfirmedAtLeast += g.ConfirmedAtLeast
				sum.ReportedUpTo += g.ReportedUpTo
			}
			if sum.ConfirmedAtLeast != test.minAtLeast || sum.ReportedUpTo != test.upTo {
				t.Errorf("%s: figures by %s: %+v, want %d and %d", p.Account, by, fig, test.minAtLeast, test.upTo)
			}
			if _, ok := fig[secret.String()]; ok && !test.sees {
				t.Errorf("%s sees the secret incident in figures by %s", p.Account, by)
			}
		}
	}
	// Writing into the restricted incident is refused as if it did not exist.
	before := count(t, d)
	_, err := s.Create(ctx, ivan, cases.KindAct, vigil.Act{Incident: secret, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}})
	if fe := fieldErrs(err)["incident"]; fe == nil || fe.Problem != "no such incident" {
		t.Errorf("ivan's act in the secret incident: %v", err)
	}
	_, err = s.Create(ctx, ivan, cases.KindClaim, vigil.Claim{Act: secretAct, Source: f.ngo, Stance: vigil.Denies, Credibility: 6})
	if fe := fieldErrs(err)["act"]; fe == nil || fe.Problem != "no such act" {
		t.Errorf("ivan's claim on the secret act: %v", err)
	}
	for _, u := range []struct {
		id  vigil.ID
		doc cases.Doc
	}{
		{secret, vigil.Incident{Title: "opened"}},
		{secretAct, vigil.Act{Incident: f.incident, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}}},
		{secretClaim, vigil.Claim{Act: f.act, Source: f.ngo, Stance: vigil.Affirms, Credibility: 2}},
	} {
		if _, err := s.Update(ctx, ivan, u.id, 1, u.doc); !errors.Is(err, vigil.ErrNotFound) {
			t.Errorf("ivan updates a secret record: %v", err)
		}
	}
	// Moving an open act into the secret incident, by someone who cannot see it.
	_, err = s.Update(ctx, ivan, f.act, 1, vigil.Act{Incident: secret, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}})
	if fieldErrs(err)["incident"] == nil {
		t.Errorf("ivan moves an act into the secret incident: %v", err)
	}
	// Restricting an incident away from oneself.
	_, err = s.Create(ctx, olga, cases.KindIncident, vigil.Incident{Title: "x", Restricted: []string{"ivan"}})
	if fieldErrs(err)["restricted"] == nil {
		t.Errorf("olga restricts an incident to ivan only: %v", err)
	}
	sameCounts(t, before, count(t, d))
	// Lifting the restriction shows everything to ivan.
	if _, err := s.Update(ctx, olga, secret, 1, vigil.Incident{Title: "Secret wave, public now"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, ivan, secretClaim); err != nil {
		t.Errorf("after lifting: %v", err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// answers is what the model answers, to compare across seals and restarts.
type answers struct {
	Acts    []cases.ActResult
	Figures map[string]figures.Figure
	Claims  []cases.Record
	ByKey   cases.Record
}

func ask(t *testing.T, s *cases.Service, p vigil.Principal) answers {
	t.Helper()
	var a answers
	var err error
	if a.Acts, err = s.Acts(ctx, p); err != nil {
		t.Fatal(err)
	}
	if a.Figures, err = s.Figures(ctx, p, figures.ByPlace); err != nil {
		t.Fatal(err)
	}
	if a.Claims, err = s.List(ctx, p, cases.KindClaim, vigil.ID{}, 0); err != nil {
		t.Fatal(err)
	}
	if a.ByKey, err = s.GetByKey(ctx, p, cases.KindSource, "hotline"); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSealUnsealRestart: sealed, every call fails with ErrSealed; unsealed
// again, and after the process restarts, the model gives the same answers.
func TestSealUnsealRestart(t *testing.T) {
	dir := tempData(t)
	if _, err := datadir.Init(dir, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	d, err := datadir.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	s := &cases.Service{Store: d.Store, Vault: d.Vault}
	f := newFixture(t, s, ivan)
	if _, err := s.Apply(ctx, ivan, []cases.Change{{ID: f.ngo, Version: 1, Key: "hotline",
		Doc: vigil.Source{Name: "NGO hotline", Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB, Origin: "hotline"}}}); err != nil {
		t.Fatal(err)
	}
	want := ask(t, s, olga)

	d.Vault.Seal()
	before := count(t, d)
	for name, call := range map[string]func() error{
		"get":    func() error { _, err := s.Get(ctx, ivan, f.act); return err },
		"list":   func() error { _, err := s.List(ctx, ivan, cases.KindAct, vigil.ID{}, 0); return err },
		"acts":   func() error { _, err := s.Acts(ctx, ivan); return err },
		"create": func() error { _, err := s.Create(ctx, ivan, cases.KindParty, vigil.Party{Name: "x"}); return err },
		"update": func() error { _, err := s.Update(ctx, ivan, f.police, 1, vigil.Party{Name: "x"}); return err },
	} {
		if err := call(); !errors.Is(err, vigil.ErrSealed) {
			t.Errorf("%s while sealed: %v", name, err)
		}
	}
	sameCounts(t, before, count(t, d))
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	if got := ask(t, s, olga); !reflect.DeepEqual(got, want) {
		t.Errorf("after unseal:\n%+v\nwant\n%+v", got, want)
	}
	// A write after unseal, then a restart.
	if _, err := s.Update(ctx, ivan, f.claimPaper, 1, vigil.Claim{Act: f.act, Source: f.paper, Stance: vigil.Affirms, Credibility: 2}); err != nil {
		t.Fatal(err)
	}
	want = ask(t, s, olga)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = datadir.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s = &cases.Service{Store: d.Store, Vault: d.Vault}
	if _, err := s.Acts(ctx, olga); !errors.Is(err, vigil.ErrSealed) {
		t.Errorf("after restart, sealed: %v", err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	got := ask(t, s, olga)
	// Leaves are looked up lazily; after a restart the model has not
	// looked them up, as it had for records it wrote.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after restart:\n%+v\nwant\n%+v", got, want)
	}
	verify(t, d)
}
