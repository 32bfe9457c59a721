package cases_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/search"
	"github.com/vigil-hr/vigil/store"
)

// TestSearchSubmissions: submissions and their messages are searchable,
// by a word and by a name typed in another script, whether written before
// the model loaded (built at load) or after (intake's Changed hook): a new
// submission, a staff reply, a source reply and a triage change.
func TestSearchSubmissions(t *testing.T) {
	d, _ := openDir(t)
	s := d.Cases // wired to intake by the data directory
	// Before the model loads: built at load.
	_, early, err := d.Intake.Submit(ctx, intake.Draft{Text: "Моего брата Кадырова увезли из Шали ночью.", Language: "ru"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, s, ivan, "Kadyrov"); !slices.Equal(ids, []vigil.ID{early}) {
		t.Fatalf("Kadyrov: %v, want the submission %s", ids, early)
	}
	// After: the hook keeps the index current.
	receipt, late, err := d.Intake.Submit(ctx, intake.Draft{Text: "They took my neighbour Maskhadov to the filtration camp."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	staff, err := d.Intake.Reply(ctx, ivan, late, "Когда именно забрали соседа?")
	if err != nil {
		t.Fatal(err)
	}
	src, err := d.Intake.OpenReceipt(ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := d.Intake.SourceReply(ctx, src, "Во вторник, на рассвете, у блокпоста.", nil)
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]vigil.ID{
		"Масхадова":  late,     // a Latin name in the submission, found in Cyrillic
		"filtration": late,     // a word
		"соседей":    staff.ID, // a staff message, by another form of its word
		"блокпоста":  reply.ID, // a source's message
		"blokpost":   reply.ID, // …by the word typed in Latin letters
	} {
		if ids := searchIDs(t, s, ivan, q); !slices.Equal(ids, []vigil.ID{want}) {
			t.Errorf("%q: %v, want %s", q, ids, want)
		}
	}
	res, err := s.Search(ctx, ivan, "рассвете", search.Filter{}, 0, 10)
	if err != nil || res.Total != 1 {
		t.Fatalf("рассвете: %+v, %v", res, err)
	}
	h := res.Hits[0]
	if h.Kind != cases.KindMessage || h.Incident != late || h.Field != "text" || !slices.ContainsFunc(h.Snippet, func(f search.Fragment) bool { return f.Match && f.Text == "рассвете" }) {
		t.Errorf("hit %+v: want a message of %s with рассвете marked", h, late)
	}
	if got := res.Facets.Statuses; len(got) != 1 || got[0].Value != string(intake.StateNew) {
		t.Errorf("statuses %+v, want new", got)
	}
	// A triage change moves the submission's and its messages' status.
	if err := d.Intake.SetState(ctx, ivan, late, intake.StateInReview); err != nil {
		t.Fatal(err)
	}
	res, err = s.Search(ctx, ivan, "", search.Filter{Statuses: []string{string(intake.StateInReview)}}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []vigil.ID
	for _, h := range res.Hits {
		got = append(got, h.ID)
	}
	slices.SortFunc(got, cmpID)
	want := []vigil.ID{late, staff.ID, reply.ID}
	slices.SortFunc(want, cmpID)
	if !slices.Equal(got, want) {
		t.Errorf("in review: %v, want %v", got, want)
	}
	// The kinds are filters and facets like the others.
	res, err = s.Search(ctx, ivan, "", search.Filter{Kinds: []string{cases.KindSubmission}}, 0, 10)
	if err != nil || res.Total != 2 {
		t.Errorf("submissions: %+v, %v", res, err)
	}
}

func cmpID(a, b vigil.ID) int { return slices.Compare(a[:], b[:]) }

// TestSearchSubmissionsRestricted: a principal who may not read submissions
// (an analyst) sees no hit, snippet, total or facet count from them, and
// its scores do not move when one is added; an intake principal, who reads
// submissions but not cases, sees them and no case record.
func TestSearchSubmissionsRestricted(t *testing.T) {
	d, _ := openDir(t)
	s := d.Cases
	g := newGrozny(t, s)
	before, err := s.Search(ctx, analyst, "Грозный", search.Filter{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	_, sub, err := d.Intake.Submit(ctx, intake.Draft{Text: "В Грозном, в Grozny, задержанного били. Кадыров."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"Грозный", "Кадыров", "задержанного", ""} {
		res, err := s.Search(ctx, analyst, q, search.Filter{}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if h.ID == sub || h.Incident == sub {
				t.Errorf("%q: the analyst sees the submission: %+v", q, h)
			}
		}
		for _, c := range res.Facets.Kinds {
			if c.Value == cases.KindSubmission || c.Value == cases.KindMessage {
				t.Errorf("%q: the analyst's facets count a submission: %+v", q, res.Facets.Kinds)
			}
		}
		for _, c := range res.Facets.Statuses {
			if c.Value == string(intake.StateNew) {
				t.Errorf("%q: the analyst's facets count a triage state: %+v", q, res.Facets.Statuses)
			}
		}
	}
	after, err := s.Search(ctx, analyst, "Грозный", search.Filter{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if after.Total != before.Total || !slices.EqualFunc(after.Hits, before.Hits, func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) {
		t.Errorf("the analyst's hits moved with a submission:\nbefore %+v\nafter  %+v", before.Hits, after.Hits)
	}
	if ids := searchIDs(t, s, ivan, "Кадыров"); !slices.Contains(ids, sub) {
		t.Errorf("investigator: %v, want the submission", ids)
	}
	res, err := s.Search(ctx, intakeP, "Грозный", search.Filter{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Hits[0].ID != sub {
		t.Errorf("intake: %+v, want only the submission (not the act %s)", res, g.act)
	}
	kinds := map[string]int{}
	for _, c := range res.Facets.Kinds {
		kinds[c.Value] = c.N
	}
	if !maps.Equal(kinds, map[string]int{cases.KindSubmission: 1}) {
		t.Errorf("intake facets %v", kinds)
	}
	if _, err := s.Search(ctx, vigil.Principal{Actor: "x", Role: "nobody"}, "x", search.Filter{}, 0, 0); !errors.Is(err, vigil.ErrForbidden) {
		t.Errorf("no role: %v, want ErrForbidden", err)
	}
}

// TestSearchSubmissionsSeal: after seal the submissions' index is gone, and
// loading it (decrypting submissions and messages), searching and sealing
// wrote no file, in the data directory or in TMPDIR; a message a source
// writes while sealed is found after the next unseal.
func TestSearchSubmissionsSeal(t *testing.T) {
	tmp := t.TempDir()
	d, _ := openDir(t)
	receipt, sub, err := d.Intake.Submit(ctx, intake.Draft{Text: "Кадырова видели у блокпоста."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := d.Intake.OpenReceipt(ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	before := files(t, d.Path, tmp)
	s := d.Cases
	if ids := searchIDs(t, s, ivan, "Kadyrova"); !slices.Equal(ids, []vigil.ID{sub}) {
		t.Fatalf("Kadyrova: %v", ids)
	}
	d.Vault.Seal()
	if _, err := s.Search(ctx, ivan, "Kadyrova", search.Filter{}, 0, 0); !errors.Is(err, vigil.ErrSealed) {
		t.Errorf("after seal: %v, want ErrSealed", err)
	}
	if after := files(t, d.Path, tmp); !maps.Equal(before, after) {
		t.Errorf("files changed:\nbefore %v\nafter  %v", before, after)
	}
	// A source writes while sealed: the hook has no model to update, and
	// the next load indexes the message.
	msg, err := d.Intake.SourceReply(ctx, src, "Ещё: его звали Шамиль.", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, s, ivan, "Шамиля"); !slices.Equal(ids, []vigil.ID{msg.ID}) {
		t.Errorf("after unseal: %v, want the message written while sealed", ids)
	}
}

// TestSearchSubmissionsConcurrent: staff replies committed while others
// search neither deadlock nor race (go test -race), and every reply is
// found once they are done.
func TestSearchSubmissionsConcurrent(t *testing.T) {
	d, _ := openDir(t)
	s := d.Cases
	_, sub, err := d.Intake.Submit(ctx, intake.Draft{Text: "Задержали у блокпоста."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	type reply struct {
		i   int
		msg intake.Message
		err error
	}
	replies := make(chan reply, n)
	for i := range n {
		go func() {
			m, err := d.Intake.Reply(ctx, ivan, sub, fmt.Sprintf("Вопрос номер%d: где именно?", i))
			replies <- reply{i, m, err}
		}()
	}
	msgs := make([]vigil.ID, n)
	for done := 0; done < n; {
		select {
		case r := <-replies:
			if r.err != nil {
				t.Fatal(r.err)
			}
			msgs[r.i] = r.msg.ID
			done++
		default:
			searchIDs(t, s, ivan, "блокпост")
		}
	}
	for i := range n {
		// The other replies are near misses (номер1 is one letter from
		// номер0), ranked below.
		if ids := searchIDs(t, s, ivan, fmt.Sprintf("номер%d", i)); len(ids) != n || ids[0] != msgs[i] {
			t.Errorf("reply %d: %v, want %s first", i, ids, msgs[i])
		}
	}
}

// pausingStore is the real store, whose first View, once it has read its
// first page of records (its snapshot taken), waits for release after
// signalling entered: a load held in progress.
type pausingStore struct {
	store.Store
	once             sync.Once
	entered, release chan struct{}
}

func (p *pausingStore) View(ctx context.Context, fn func(store.ReadTx) error) error {
	return p.Store.View(ctx, func(tx store.ReadTx) error { return fn(pausingTx{tx, p}) })
}

type pausingTx struct {
	store.ReadTx
	p *pausingStore
}

func (t pausingTx) Records(kind string, after vigil.ID, limit int) ([]store.Record, error) {
	recs, err := t.ReadTx.Records(kind, after, limit)
	t.p.once.Do(func() {
		close(t.p.entered)
		<-t.p.release
	})
	return recs, err
}

// TestSearchSubmissionsDuringLoad: a source's submission made while the
// model loads, after the load's snapshot, is answered without waiting for
// the load, and is found once the load is done (the load rereads it).
func TestSearchSubmissionsDuringLoad(t *testing.T) {
	d, _ := openDir(t)
	ps := &pausingStore{Store: d.Store, entered: make(chan struct{}), release: make(chan struct{})}
	s := &cases.Service{Store: ps, Vault: d.Vault, Submissions: d.Intake}
	d.Intake.Changed = s.SubmissionChanged
	loaded := make(chan error, 1)
	go func() { loaded <- s.Load(ctx) }()
	<-ps.entered
	type submitted struct {
		id  vigil.ID
		err error
	}
	done := make(chan submitted, 1)
	go func() {
		_, id, err := d.Intake.Submit(ctx, intake.Draft{Text: "Кадырова видели у блокпоста."}, nil)
		done <- submitted{id, err}
	}()
	var sub vigil.ID
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		sub = r.id
	case <-time.After(20 * time.Second):
		close(ps.release)
		t.Fatal("the submission waited for the load")
	}
	close(ps.release)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if ids := searchIDs(t, s, ivan, "Kadyrova"); !slices.Equal(ids, []vigil.ID{sub}) {
		t.Errorf("Kadyrova after the load: %v, want %s", ids, sub)
	}
}
