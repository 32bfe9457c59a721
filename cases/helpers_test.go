package cases_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
)

const pass = "correct horse battery staple"

var (
	admin    = vigil.Principal{Actor: "test:admin", Account: "admin", Role: vigil.RoleAdmin}
	ivan     = vigil.Principal{Actor: "test:ivan", Account: "ivan", Role: vigil.RoleInvestigator}
	olga     = vigil.Principal{Actor: "test:olga", Account: "olga", Role: vigil.RoleInvestigator}
	analyst  = vigil.Principal{Actor: "test:ana", Account: "ana", Role: vigil.RoleAnalyst}
	intakeP  = vigil.Principal{Actor: "test:iris", Account: "iris", Role: vigil.RoleIntake}
	ctx      = context.Background()
	registry = func(d *datadir.Dir) record.Registry { return d.Kinds } // datadir lists cases.Kinds()
)

// openDir gives a test an unsealed data directory and a cases service on
// it. When the test ends, record.Verify must pass: every version of every
// kind decrypts and each log leaf commits to exactly one version.
func openDir(t *testing.T) (*datadir.Dir, *cases.Service) {
	t.Helper()
	d := datadirtest.Open(t, pass)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { verify(t, d) })
	return d, &cases.Service{Store: d.Store, Vault: d.Vault}
}

func verify(t *testing.T, d *datadir.Dir) record.Report {
	t.Helper()
	if d.Vault.Sealed() {
		if err := d.Vault.Unseal([]byte(pass)); err != nil {
			t.Fatal(err)
		}
	}
	var rep record.Report
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		rep, err = record.Verify(tx, d.Vault.OpenField, registry(d))
		return err
	})
	if err != nil {
		t.Errorf("record.Verify: %v", err)
	}
	return rep
}

// counts is what a write changes on disk: the log's size and the number
// of records of each kind.
type counts map[string]int64

func count(t *testing.T, d *datadir.Dir) counts {
	t.Helper()
	c := counts{}
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
		c["tree"] = n
		for _, k := range registry(d) {
			if c[k.Name], err = tx.CountRecords(k.Name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sameCounts(t *testing.T, before, after counts) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d before, %d after: something was stored", k, v, after[k])
		}
	}
}

func create(t *testing.T, s *cases.Service, p vigil.Principal, doc cases.Doc) vigil.ID {
	t.Helper()
	kind, _ := kindName(doc)
	ref, err := s.Create(ctx, p, kind, doc)
	if err != nil {
		t.Fatalf("create %s: %v", kind, err)
	}
	return ref.ID
}

func kindName(doc cases.Doc) (string, bool) {
	switch doc.(type) {
	case vigil.Incident:
		return cases.KindIncident, true
	case vigil.Act:
		return cases.KindAct, true
	case vigil.Person:
		return cases.KindPerson, true
	case vigil.Place:
		return cases.KindPlace, true
	case vigil.Party:
		return cases.KindParty, true
	case vigil.Source:
		return cases.KindSource, true
	case vigil.Claim:
		return cases.KindClaim, true
	}
	return "", false
}

// fieldErr returns the FieldErrors of err by field.
func fieldErrs(err error) map[string]*vigil.FieldError {
	out := map[string]*vigil.FieldError{}
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *vigil.FieldError
		if errors.As(e, &fe) {
			out[fe.Field] = fe
		}
	}
	walk(err)
	return out
}

// fixture is a small case: a wave of detentions in a town, with the police
// as perpetrators, an NGO and a newspaper affirming, the ministry denying.
type fixture struct {
	region, town         vigil.ID
	ministry, police     vigil.ID
	ngo, paper, official vigil.ID
	person               vigil.ID
	incident, act        vigil.ID
	claimNGO, claimPaper vigil.ID
	claimDenial          vigil.ID
}

func newFixture(t *testing.T, s *cases.Service, p vigil.Principal) fixture {
	t.Helper()
	var f fixture
	f.region = create(t, s, p, vigil.Place{Names: map[string]string{"en": "Chechnya", "ru": "Чечня"}, Kind: "region"})
	f.town = create(t, s, p, vigil.Place{Names: map[string]string{"en": "Argun"}, Parent: f.region})
	f.ministry = create(t, s, p, vigil.Party{Name: "Ministry of Internal Affairs"})
	f.police = create(t, s, p, vigil.Party{Name: "Argun police", Parent: f.ministry})
	f.ngo = create(t, s, p, vigil.Source{Name: "NGO hotline", Type: vigil.SourceNGO, Reliability: vigil.ReliabilityB, Origin: "hotline"})
	f.paper = create(t, s, p, vigil.Source{Name: "Newspaper", Type: vigil.SourceMedia, Reliability: vigil.ReliabilityC})
	f.official = create(t, s, p, vigil.Source{Name: "Ministry statement", Type: vigil.SourceOfficial, Reliability: vigil.ReliabilityF, Party: f.ministry})
	f.person = create(t, s, p, vigil.Person{Pseudonym: "Witness 1", Private: &vigil.PersonPrivate{
		Names: []vigil.PersonName{{Script: "Latn", Name: "Private Name"}}}})
	f.incident = create(t, s, p, vigil.Incident{Title: "Wave of detentions", Place: f.region})
	f.act = create(t, s, p, vigil.Act{Incident: f.incident, Type: "arbitrary_detention", Place: f.town,
		Victims: vigil.VictimCount{Min: 10, Max: 40}, VictimPersons: []vigil.ID{f.person}, Perpetrators: []vigil.ID{f.police}})
	f.claimNGO = create(t, s, p, vigil.Claim{Act: f.act, Source: f.ngo, Stance: vigil.Affirms, Credibility: 3, Quote: "at least ten"})
	f.claimPaper = create(t, s, p, vigil.Claim{Act: f.act, Source: f.paper, Stance: vigil.PartiallyAffirms, Credibility: 3})
	f.claimDenial = create(t, s, p, vigil.Claim{Act: f.act, Source: f.official, Stance: vigil.Denies, Credibility: 6, Quote: "complete lies"})
	return f
}

func tempData(t *testing.T) string { return filepath.Join(t.TempDir(), "data") }

func intakeDraft(text string) intake.Draft { return intake.Draft{Text: text} }
