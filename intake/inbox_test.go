package intake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/store"
)

func pageCounts(t *testing.T, in *intake.Service) map[intake.State]int {
	t.Helper()
	p, err := in.Page(context.Background(), staffP, intake.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Counts
}

// TestInboxPage: pages of the inbox come newest first with a cursor, a
// state filter and counts per state; they follow this process's writes,
// and another server's once heard of (a second Service over the same
// store stands for it); a seal drops the index.
func TestInboxPage(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	in := d.Intake
	var subs []vigil.ID // in arrival order
	for i := range 7 {
		_, id, err := in.Submit(ctx, intake.Draft{Text: "submission " + string(rune('a'+i)), Language: "en"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, id)
	}
	if _, err := in.Page(ctx, staffP, intake.Query{}); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("Page sealed: %v", err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Page(ctx, vigil.Principal{Actor: "t", Role: vigil.RoleAnalyst}, intake.Query{}); !errors.Is(err, vigil.ErrForbidden) {
		t.Fatalf("analyst: %v", err)
	}
	for _, q := range []intake.Query{{State: "bogus"}, {Before: -1}, {Limit: -5}} {
		if _, err := in.Page(ctx, staffP, q); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("Page(%+v): %v, want invalid", q, err)
		}
	}
	walk := func(q intake.Query) (ids []vigil.ID, total int, counts map[intake.State]int) {
		t.Helper()
		for pages := 0; ; pages++ {
			p, err := in.Page(ctx, staffP, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Items {
				ids = append(ids, s.ID)
			}
			total, counts = p.Total, p.Counts
			if p.Next == 0 || pages > 20 {
				return
			}
			q.Before = p.Next
		}
	}
	want := func(ids ...vigil.ID) []vigil.ID { return ids }
	check := func(name string, got, want []vigil.ID) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d submissions, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: position %d is %s, want %s", name, i, got[i], want[i])
			}
		}
	}
	got, total, counts := walk(intake.Query{Limit: 3})
	check("all by 3", got, want(subs[6], subs[5], subs[4], subs[3], subs[2], subs[1], subs[0]))
	if total != 7 || counts[intake.StateNew] != 7 {
		t.Errorf("total %d counts %v", total, counts)
	}

	// A state change here shows at once.
	if err := in.SetState(ctx, staffP, subs[2], intake.StateRejected); err != nil {
		t.Fatal(err)
	}
	got, total, counts = walk(intake.Query{State: intake.StateRejected})
	check("rejected", got, want(subs[2]))
	if total != 1 || counts[intake.StateNew] != 6 || counts[intake.StateRejected] != 1 {
		t.Errorf("after SetState: total %d counts %v", total, counts)
	}

	// Another server writes: unseen until heard of.
	other := &intake.Service{Store: d.Store, Vault: d.Vault, Evidence: d.Evidence, Config: in.Config}
	_, late, err := other.Submit(ctx, intake.Draft{Text: "on the other server", Language: "en"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.SetState(ctx, staffP, subs[6], intake.StateInReview); err != nil {
		t.Fatal(err)
	}
	got, _, _ = walk(intake.Query{})
	if len(got) != 7 {
		t.Fatalf("the index followed a write it was not told of: %d (the test cannot tell otherwise)", len(got))
	}
	in.Heard(intake.KindSubmission, late)
	got, _, _ = walk(intake.Query{})
	check("heard", got, want(late, subs[6], subs[5], subs[4], subs[3], subs[2], subs[1], subs[0]))
	// The state change is heard through its triage record: the cluster
	// announces every triage version; the index maps each to its submission.
	if counts := pageCounts(t, in); counts[intake.StateInReview] != 0 {
		t.Fatalf("an unheard state change showed: %v (the test cannot tell otherwise)", counts)
	}
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		return store.EachRecord(tx, intake.KindTriage, func(r store.Record) error {
			in.Heard(intake.KindTriage, r.ID)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts := pageCounts(t, in); counts[intake.StateInReview] != 1 {
		t.Fatalf("heard state change: %v", counts)
	}
	// A message names no submission: hearing one rebuilds the index.
	p, err := in.Page(ctx, staffP, intake.Query{})
	if err != nil {
		t.Fatal(err)
	}
	before := p.Items[len(p.Items)-1].Messages
	if _, err := other.Reply(ctx, staffP, subs[0], "a reply from the other server"); err != nil {
		t.Fatal(err)
	}
	in.Heard(intake.KindMessage, vigil.NewID())
	if p, err = in.Page(ctx, staffP, intake.Query{}); err != nil {
		t.Fatal(err)
	}
	if last := p.Items[len(p.Items)-1]; last.ID != subs[0] || last.Messages != before+1 {
		t.Fatalf("after a heard message: %+v", last)
	}
	// A seal forgets; after unsealing the index is built again with
	// everything the store holds.
	d.Vault.Seal()
	if _, err := in.Page(ctx, staffP, intake.Query{}); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("Page after seal: %v", err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	_, _, counts = walk(intake.Query{})
	if counts[intake.StateInReview] != 1 || counts[intake.StateRejected] != 1 || counts[intake.StateNew] != 6 {
		t.Errorf("after seal and unseal: counts %v", counts)
	}
}
