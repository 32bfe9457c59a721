package corroborate_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
)

// world is a random set of parties (a tree with a cycle now and then) and
// sources (random grades, few origins so they repeat, random parties).
type world struct {
	r       *rand.Rand
	parties map[vigil.ID]vigil.Party
	partyID []vigil.ID
	sources map[vigil.ID]vigil.Source
	srcID   []vigil.ID
	perps   []vigil.ID
}

func newWorld(r *rand.Rand) *world {
	w := &world{r: r, parties: map[vigil.ID]vigil.Party{}, sources: map[vigil.ID]vigil.Source{}}
	for i := range 1 + r.IntN(6) {
		id := vigil.NewID()
		p := vigil.Party{Name: fmt.Sprintf("party %d", i)}
		if i > 0 && r.IntN(3) > 0 {
			p.Parent = w.partyID[r.IntN(i)]
		}
		w.parties[id] = p
		w.partyID = append(w.partyID, id)
	}
	if r.IntN(4) == 0 { // close a cycle
		a := w.partyID[r.IntN(len(w.partyID))]
		p := w.parties[a]
		p.Parent = w.partyID[r.IntN(len(w.partyID))]
		w.parties[a] = p
	}
	for i := range 1 + r.IntN(8) {
		id := vigil.NewID()
		s := vigil.Source{
			Name:        fmt.Sprintf("source %d", i),
			Type:        vigil.SourceOther,
			Reliability: vigil.Reliability("ABCDEF"[r.IntN(6)]),
			Origin:      []string{"", "", "hotline", "Hotline", "paper"}[r.IntN(5)],
		}
		if r.IntN(2) == 0 {
			s.Party = w.partyID[r.IntN(len(w.partyID))]
		}
		w.sources[id] = s
		w.srcID = append(w.srcID, id)
	}
	for range r.IntN(3) {
		w.perps = append(w.perps, w.partyID[r.IntN(len(w.partyID))])
	}
	return w
}

func (w *world) claim(src vigil.ID, stance vigil.Stance) corroborate.Claim {
	c := corroborate.Claim{ID: vigil.NewID(), Claim: vigil.Claim{
		Act: act, Source: src, Stance: stance, Credibility: vigil.Credibility(1 + w.r.IntN(6)),
	}}
	if w.r.IntN(4) == 0 {
		c.Evidence = []vigil.ID{vigil.NewID()}
	}
	return c
}

func (w *world) randomClaim() corroborate.Claim {
	stance := []vigil.Stance{vigil.Affirms, vigil.PartiallyAffirms, vigil.Denies}[w.r.IntN(3)]
	return w.claim(w.srcID[w.r.IntN(len(w.srcID))], stance)
}

func (w *world) eval(t *testing.T, cs []corroborate.Claim) corroborate.Result {
	t.Helper()
	res, err := corroborate.Evaluate(corroborate.Input{
		ActID: act, Act: vigil.Act{Perpetrators: w.perps}, Claims: cs, Sources: w.sources, Parties: w.parties,
	}, corroborate.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestProperties checks, over seeded random claim sets, that
//   - an affirming claim from an origin already counted never changes the
//     number of origins, and changes the status only from corroborated to
//     confirmed, when the new claim itself confirms (evidence or top
//     grade); without evidence or top grade it never changes the status;
//   - a denial never changes the status, and never removes a flag;
//   - an affirming claim never lowers the status;
//   - the order of the claims changes neither status nor flags.
func TestProperties(t *testing.T) {
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		w := newWorld(r)
		var cs []corroborate.Claim
		for range r.IntN(7) {
			cs = append(cs, w.randomClaim())
		}
		before := w.eval(t, cs)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("seed %d: "+format+"\nbefore: %s", append([]any{seed}, append(args, before.Explanation.EN)...)...)
		}

		// An affirming claim from a counted origin.
		if len(before.Origins) > 0 {
			o := before.Origins[r.IntN(len(before.Origins))]
			c := w.claim(o.Sources[r.IntN(len(o.Sources))], []vigil.Stance{vigil.Affirms, vigil.PartiallyAffirms}[r.IntN(2)])
			after := w.eval(t, append(slices.Clone(cs), c))
			newConfirms := slices.Contains(after.Confirming, c.ID)
			switch {
			case len(after.Origins) != len(before.Origins):
				fail("same-origin claim changed origins %d to %d", len(before.Origins), len(after.Origins))
			case after.Status != before.Status && !(newConfirms && before.Status == corroborate.Corroborated && after.Status == corroborate.Confirmed):
				fail("same-origin claim changed %s to %s\nafter: %s", before.Status, after.Status, after.Explanation.EN)
			}
			// The same claim without evidence, from a source graded below
			// the confirming grades, must not change the status at all.
			c.Evidence = nil
			c.Credibility = vigil.CredibilityPossible
			if after := w.eval(t, append(slices.Clone(cs), c)); after.Status != before.Status {
				fail("non-confirming same-origin claim changed %s to %s", before.Status, after.Status)
			}
		}

		// A denial.
		d := w.claim(w.srcID[r.IntN(len(w.srcID))], vigil.Denies)
		after := w.eval(t, append(slices.Clone(cs), d))
		if after.Status != before.Status {
			fail("denial changed %s to %s", before.Status, after.Status)
		}
		for _, f := range before.Flags {
			if !slices.Contains(after.Flags, f) {
				fail("denial removed flag %s", f)
			}
		}
		if len(after.Flags) == 0 {
			fail("denial set no flag")
		}

		// Any affirming claim.
		a := w.claim(w.srcID[r.IntN(len(w.srcID))], []vigil.Stance{vigil.Affirms, vigil.PartiallyAffirms}[r.IntN(2)])
		after = w.eval(t, append(slices.Clone(cs), a))
		if after.Status.Rank() < before.Status.Rank() {
			fail("affirming claim lowered %s to %s", before.Status, after.Status)
		}
		if after.Status == corroborate.Unverified {
			fail("affirming claim left it unverified")
		}

		// Order.
		shuffled := slices.Clone(cs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if s := w.eval(t, shuffled); s.Status != before.Status || !slices.Equal(s.Flags, before.Flags) {
			fail("order changed %s %v to %s %v", before.Status, before.Flags, s.Status, s.Flags)
		}
	}
}
