package cases_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
)

// TestCanaryScan writes case records whose names, quotes, place names and
// keys are random canaries, and checks that no file of the data directory
// (database, WAL, blobs, while open and after closing) holds a canary in
// raw, hex or base64 form, nor a referenced record's ID in its text forms;
// and that no stored record holds another record's raw ID anywhere (its
// key, blob or ciphertext), which would tie a claim to its act.
func TestCanaryScan(t *testing.T) {
	dir := tempData(t)
	if _, err := datadir.Init(dir, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	d, err := datadir.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	s := &cases.Service{Store: d.Store, Vault: d.Vault}
	canary := func() string { return "cnry" + strings.ToLower(rand.Text()[:16]) }
	var canaries []string
	c := func() string { x := canary(); canaries = append(canaries, x); return x }

	place, party, source, person := vigil.NewID(), vigil.NewID(), vigil.NewID(), vigil.NewID()
	incident, act, claim := vigil.NewID(), vigil.NewID(), vigil.NewID()
	refs := []vigil.ID{place, party, source, person, incident, act}
	_, err = s.Apply(ctx, ivan, []cases.Change{
		{ID: place, Key: c(), Doc: vigil.Place{Names: map[string]string{"en": c(), "ru": c()}}},
		{ID: party, Key: c(), Doc: vigil.Party{Name: c()}},
		{ID: source, Key: c(), Doc: vigil.Source{Name: c(), Type: vigil.SourceWitness, Reliability: "B", Origin: c(), Party: party}},
		{ID: person, Key: c(), Doc: vigil.Person{Pseudonym: c(), Private: &vigil.PersonPrivate{Names: []vigil.PersonName{{Script: "Latn", Name: c()}}}}},
		{ID: incident, Key: c(), Doc: vigil.Incident{Title: c(), Description: c(), Place: place, Restricted: []string{c(), ivan.Account}}},
		{ID: act, Key: c(), Doc: vigil.Act{Incident: incident, Type: "torture", Description: c(), Place: place,
			Victims: vigil.VictimCount{Min: 1, Max: 2}, VictimPersons: []vigil.ID{person}, Perpetrators: []vigil.ID{party}}},
		{ID: claim, Key: c(), Doc: vigil.Claim{Act: act, Source: source, Stance: vigil.Affirms, Credibility: 2, Quote: c()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, ivan, claim, 1, vigil.Claim{Act: act, Source: source, Stance: vigil.Denies, Credibility: 2, Quote: c()}); err != nil {
		t.Fatal(err)
	}
	var needles [][]byte
	for _, x := range canaries {
		needles = append(needles, []byte(x), []byte(strings.ToUpper(x)), []byte(hex.EncodeToString([]byte(x))))
		for off := range 3 {
			e := base64.StdEncoding.EncodeToString(append(make([]byte, off), x...))
			needles = append(needles, []byte(e[4*((off+2)/3):4*((off+len(x))/3)]))
		}
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	for _, id := range append(refs, claim) {
		needles = append(needles, []byte(id.String()), []byte(strings.ToUpper(id.String())),
			[]byte(hex.EncodeToString(id[:])), []byte(strings.ToUpper(hex.EncodeToString(id[:]))), []byte(b32.EncodeToString(id[:])))
	}
	// Positive control: the scan finds a needle where one is.
	ctl := filepath.Join(t.TempDir(), "ctl")
	os.WriteFile(ctl, []byte("x"+act.String()+"x"), 0o600)
	if !scanFile(t, ctl, needles) {
		t.Fatal("the scan does not find an ID where it is")
	}
	scan := func(when string) {
		t.Helper()
		filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			if scanFile(t, path, needles) {
				t.Errorf("%s: %s holds a canary or an ID's text form", when, path)
			}
			return nil
		})
	}
	scan("unsealed, open")

	// No record holds another record's raw ID: references are only inside
	// the ciphertext.
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		for _, k := range registry(d) {
			err := store.EachRecord(tx, k.Name, func(latest store.Record) error {
				for v := int64(1); v <= latest.Version; v++ {
					r, err := tx.Record(latest.ID, v)
					if err != nil {
						return err
					}
					for _, id := range append(refs, claim) {
						if id == r.ID {
							continue
						}
						for _, col := range [][]byte{r.Key, []byte(r.Blob), r.Body} {
							if bytes.Contains(col, id[:]) {
								t.Errorf("%s %s version %d holds the ID of %s", r.Kind, r.ID, v, id)
							}
						}
					}
					if k.Name != "audit" && k.Name != "submission" && k.Name != "message" && r.Key != nil {
						t.Errorf("%s %s has a plaintext lookup key", r.Kind, r.ID)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Vault.Seal()
	scan("sealed, open")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	scan("closed")
}

func scanFile(t *testing.T, path string, needles [][]byte) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range needles {
		if bytes.Contains(b, n) {
			return true
		}
	}
	return false
}
