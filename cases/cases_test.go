package cases_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
)

// TestRoundTrip creates and updates a record and reads it back: versions,
// authors, leaves, and each version's statement naming the previous
// version's leaf.
func TestRoundTrip(t *testing.T) {
	d, s := openDir(t)
	id := create(t, s, ivan, vigil.Place{Names: map[string]string{"en": "Grozny"}})
	r1, err := s.Get(ctx, ivan, id)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Version != 1 || r1.Author != ivan.Actor || r1.Kind != cases.KindPlace || r1.Leaf < 0 || r1.Time.IsZero() {
		t.Fatalf("first version: %+v", r1)
	}
	ref, err := s.Update(ctx, olga, id, 1, vigil.Place{Names: map[string]string{"en": "Grozny", "ru": "Грозный"}})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Version != 2 || ref.Leaf <= r1.Leaf {
		t.Fatalf("update: %+v", ref)
	}
	ref3, err := s.Update(ctx, ivan, id, 2, &vigil.Place{Names: map[string]string{"en": "Grozny", "ru": "Грозный", "ce": "Соьлжа-ГӀала"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, analyst, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 3 || got.Author != ivan.Actor || got.Doc.(vigil.Place).Names["ce"] != "Соьлжа-ГӀала" || got.Leaf != ref3.Leaf {
		t.Fatalf("latest: %+v", got)
	}
	vs, err := s.Versions(ctx, analyst, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 {
		t.Fatalf("%d versions, want 3", len(vs))
	}
	authors := []string{ivan.Actor, olga.Actor, ivan.Actor}
	for i, v := range vs {
		wantPrev := int64(-1)
		if i > 0 {
			wantPrev = vs[i-1].Leaf
		}
		if v.Version != int64(i+1) || v.Prev != wantPrev || v.Author != authors[i] || len(v.Doc.(vigil.Place).Names) != i+1 {
			t.Errorf("version %d: %+v (want prev %d)", i+1, v, wantPrev)
		}
	}
	if vs[1].Leaf != ref.Leaf || vs[2].Leaf != ref3.Leaf {
		t.Errorf("leaves %d, %d; the writes said %d, %d", vs[1].Leaf, vs[2].Leaf, ref.Leaf, ref3.Leaf)
	}
	// The statements themselves, read from the store, chain the same way.
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		for v := int64(1); v <= 3; v++ {
			rec, err := tx.Record(id, v)
			if err != nil {
				return err
			}
			if rec.Key != nil || rec.LeafIndex != -1 || rec.Blob != "" {
				t.Errorf("version %d has plaintext key %x, leaf %d, blob %q", v, rec.Key, rec.LeafIndex, rec.Blob)
			}
			env, err := cases.PlaceKind.Open(d.Vault.OpenField, rec)
			if err != nil {
				return err
			}
			st, err := evlog.ParseStatement([]byte(env.Statement))
			if err != nil {
				return err
			}
			if st.Prev != vs[v-1].Prev || st.Kind != "place" || st.Version != v || st.ID != id.String() {
				t.Errorf("statement of version %d: %+v", v, st)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep := verify(t, d); rep.Leaves != 3+3 { // three versions, three audit events
		t.Errorf("verify: %+v", rep)
	}
}

// TestKeys: an importer's external key is kept, found, unique per kind,
// and kept by an update that does not give one.
func TestKeys(t *testing.T) {
	d, s := openDir(t)
	refs, err := s.Apply(ctx, ivan, []cases.Change{
		{Key: "argun", Doc: vigil.Place{Names: map[string]string{"en": "Argun"}}},
		{Key: "argun", Doc: vigil.Party{Name: "Argun police"}}, // another kind: fine
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.GetByKey(ctx, analyst, cases.KindPlace, "argun")
	if err != nil || r.ID != refs[0].ID || r.Key != "argun" {
		t.Fatalf("by key: %+v, %v", r, err)
	}
	if _, err := s.Update(ctx, ivan, refs[0].ID, 1, vigil.Place{Names: map[string]string{"en": "Argun town"}}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.GetByKey(ctx, analyst, cases.KindPlace, "argun"); err != nil || r.Version != 2 || r.Key != "argun" {
		t.Fatalf("after update: %+v, %v", r, err)
	}
	before := count(t, d)
	_, err = s.Apply(ctx, ivan, []cases.Change{{Key: "argun", Doc: vigil.Place{Names: map[string]string{"en": "Another"}}}})
	if fe := fieldErrs(err)["[0].key"]; fe == nil || !errors.Is(err, vigil.ErrConflict) {
		t.Fatalf("second record under one key: %v", err)
	}
	sameCounts(t, before, count(t, d))
	if _, err := s.GetByKey(ctx, analyst, cases.KindPlace, "nope"); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
}

// TestAuditPerWrite: every write puts one audit event, in its transaction,
// naming the actor, the action and the target only inside its sealed body.
func TestAuditPerWrite(t *testing.T) {
	d, s := openDir(t)
	before := count(t, d)
	f := newFixture(t, s, ivan)
	if _, err := s.Update(ctx, olga, f.act, 1, vigil.Act{Incident: f.incident, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 2}}); err != nil {
		t.Fatal(err)
	}
	after := count(t, d)
	const writes = 14 // the fixture's 13 creates and one update
	if got := after[audit.Kind.Name] - before[audit.Kind.Name]; got != writes {
		t.Errorf("%d audit events for %d writes", got, writes)
	}
	if got := after["tree"] - before["tree"]; got != 2*writes {
		t.Errorf("%d leaves for %d writes and their audit events", got, writes)
	}
	var last audit.Event
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		found := false
		return store.EachRecord(tx, audit.Kind.Name, func(r store.Record) error {
			if r.Key != nil || r.Created.Minute() != 0 || r.Created.Second() != 0 {
				t.Errorf("audit record has a key %x or a fine time %v", r.Key, r.Created)
			}
			ev, err := audit.Decode(d.Vault.OpenField, r)
			if err != nil {
				return err
			}
			if ev.Action == "update:act" {
				if found {
					t.Error("two update events")
				}
				found, last = true, ev
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if last.Actor != olga.Actor || last.Target != f.act.String() {
		t.Errorf("update's audit event: %+v", last)
	}
}

// TestConcurrentEdits: two clients edit one record from the same version;
// exactly one wins, the other gets ErrConflict, and the record holds the
// winner's text. Many rounds, so that every interleaving gets a chance.
func TestConcurrentEdits(t *testing.T) {
	d, s := openDir(t)
	f := newFixture(t, s, ivan)
	for round := range 40 {
		r, err := s.Get(ctx, ivan, f.incident)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for c := range 2 {
			wg.Go(func() {
				<-start
				_, errs[c] = s.Update(ctx, []vigil.Principal{ivan, olga}[c], f.incident, r.Version,
					vigil.Incident{Title: fmt.Sprintf("round %d client %d", round, c)})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for c, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = c
			case err == nil:
				t.Fatalf("round %d: both edits of version %d won", round, r.Version)
			case !errors.Is(err, vigil.ErrConflict):
				t.Fatalf("round %d: client %d: %v", round, c, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody won", round)
		}
		got, err := s.Get(ctx, ivan, f.incident)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("round %d client %d", round, winner); got.Version != r.Version+1 || got.Doc.(vigil.Incident).Title != want {
			t.Fatalf("round %d: %+v, want version %d titled %q", round, got, r.Version+1, want)
		}
	}
	if vs, err := s.Versions(ctx, ivan, f.incident); err != nil || len(vs) != 41 {
		t.Fatalf("%d versions, %v", len(vs), err)
	}
	_ = d
}

// TestConcurrentEditsNothingLost: clients that reload and retry on
// conflict, as the API's users will, lose no edit.
func TestConcurrentEditsNothingLost(t *testing.T) {
	_, s := openDir(t)
	id := create(t, s, ivan, vigil.Party{Name: "start"})
	const clients, edits = 4, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts := 0
	for c := range clients {
		wg.Go(func() {
			for e := range edits {
				for {
					r, err := s.Get(ctx, ivan, id)
					if err != nil {
						t.Error(err)
						return
					}
					name := r.Doc.(vigil.Party).Name + fmt.Sprintf(" %d.%d", c, e)
					_, err = s.Update(ctx, ivan, id, r.Version, vigil.Party{Name: name})
					if errors.Is(err, vigil.ErrConflict) {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	r, err := s.Get(ctx, ivan, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 1+clients*edits {
		t.Errorf("version %d, want %d", r.Version, 1+clients*edits)
	}
	for c := range clients {
		for e := range edits {
			if !strings.Contains(r.Doc.(vigil.Party).Name, fmt.Sprintf(" %d.%d", c, e)) {
				t.Errorf("edit %d.%d lost", c, e)
			}
		}
	}
	t.Logf("%d conflicts retried", conflicts)
}

// TestConflictAcrossServices: a second service (another process) on the
// same store, with a stale model, is stopped by the transaction's version
// check, and reloads.
func TestConflictAcrossServices(t *testing.T) {
	d, a := openDir(t)
	b := &cases.Service{Store: d.Store, Vault: d.Vault}
	id := create(t, a, ivan, vigil.Party{Name: "v1"})
	if _, err := b.Get(ctx, ivan, id); err != nil { // b loads its model
		t.Fatal(err)
	}
	if _, err := a.Update(ctx, ivan, id, 1, vigil.Party{Name: "a's edit"}); err != nil {
		t.Fatal(err)
	}
	before := count(t, d)
	if _, err := b.Update(ctx, olga, id, 1, vigil.Party{Name: "b's edit"}); !errors.Is(err, vigil.ErrConflict) {
		t.Fatalf("stale edit through a second service: %v", err)
	}
	sameCounts(t, before, count(t, d))
	r, err := b.Get(ctx, ivan, id)
	if err != nil || r.Version != 2 || r.Doc.(vigil.Party).Name != "a's edit" {
		t.Fatalf("b after the conflict: %+v, %v", r, err)
	}
}

// TestEvidence: a claim links evidence items and submissions that exist;
// linked evidence confirms a corroborated act.
func TestEvidence(t *testing.T) {
	d, s := openDir(t)
	f := newFixture(t, s, ivan)
	status := func() corroborate.Status {
		acts, err := s.Acts(ctx, analyst)
		if err != nil || len(acts) != 1 {
			t.Fatalf("acts: %v, %v", acts, err)
		}
		return acts[0].Result.Status
	}
	if got := status(); got != corroborate.Corroborated {
		t.Fatalf("before evidence: %s", got)
	}
	it, err := d.Evidence.Add(ctx, strings.NewReader("photo"), "photo.jpg", "")
	if err != nil {
		t.Fatal(err)
	}
	_, sub, err := d.Intake.Submit(ctx, intakeDraft("I saw them taken"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, ivan, f.claimNGO, 1, vigil.Claim{Act: f.act, Source: f.ngo, Stance: vigil.Affirms, Credibility: 3,
		Evidence: []vigil.ID{it.ID}, Submissions: []vigil.ID{sub}})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(); got != corroborate.Confirmed {
		t.Fatalf("with evidence: %s", got)
	}
	acts, _ := s.Acts(ctx, analyst)
	res := acts[0].Result
	if !slices.Equal(res.Flags, []corroborate.Flag{corroborate.DeniedByImplicated}) || res.Explanation.EN == "" {
		t.Errorf("result: %+v", res)
	}
	fig, err := s.Figures(ctx, analyst, figures.ByPlace)
	if err != nil {
		t.Fatal(err)
	}
	if got := fig[f.region.String()]; got.ConfirmedAtLeast != 10 || got.ReportedUpTo != 40 {
		t.Errorf("region's figure (with its town): %+v", got)
	}
}

// TestMissingEvidence: a claim naming an evidence item that does not
// exist (written by hand, as an older or foreign writer might) links no
// evidence: it does not confirm its act.
func TestMissingEvidence(t *testing.T) {
	d, s := openDir(t)
	f := newFixture(t, s, ivan)
	missing := vigil.NewID()
	doc := vigil.Claim{Act: f.act, Source: f.ngo, Stance: vigil.Affirms, Credibility: 3, Evidence: []vigil.ID{missing}}
	pre, err := cases.ClaimKind.Seal(d.Vault, record.Version{ID: vigil.NewID(), Version: 1, Author: "by hand", Prev: -1}, doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Store.Update(ctx, func(tx store.Tx) error { _, err := pre.Put(tx); return err }); err != nil {
		t.Fatal(err)
	}
	fresh := &cases.Service{Store: d.Store, Vault: d.Vault}
	acts, err := fresh.Acts(ctx, analyst)
	if err != nil || len(acts) != 1 {
		t.Fatalf("%v, %v", acts, err)
	}
	if got := acts[0].Result.Status; got != corroborate.Corroborated {
		t.Errorf("status %s: a missing item confirmed the act", got)
	}
}

// TestConcurrentCycle: two writers who each make one place the other's
// parent at the same time cannot both succeed: the references are checked
// again, under the write lock, just before the transaction.
func TestConcurrentCycle(t *testing.T) {
	_, s := openDir(t)
	for round := range 30 {
		a := create(t, s, ivan, vigil.Place{Names: map[string]string{"en": "a"}})
		b := create(t, s, ivan, vigil.Place{Names: map[string]string{"en": "b"}})
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i, pair := range [][2]vigil.ID{{a, b}, {b, a}} {
			wg.Go(func() {
				<-start
				_, errs[i] = s.Update(ctx, ivan, pair[0], 1, vigil.Place{Names: map[string]string{"en": "x"}, Parent: pair[1]})
			})
		}
		close(start)
		wg.Wait()
		if errs[0] == nil && errs[1] == nil {
			t.Fatalf("round %d: both parents set: a cycle", round)
		}
	}
}
