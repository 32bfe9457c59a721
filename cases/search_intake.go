package cases

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/search"
	"github.com/vigil-hr/vigil/store"
)

// Search kinds of intake's records: a submission's text, and each message
// of its thread.
const (
	KindSubmission = intake.KindSubmission
	KindMessage    = intake.KindMessage
)

// Submissions is what the search index needs of intake: every thread,
// decrypted, when the model loads, and one thread again after each of its
// writes. intake.Service implements it; the data directory wires it, and
// intake's Changed hook to [Service.SubmissionChanged].
type Submissions interface {
	Threads(tx store.ReadTx, fn func(intake.View) error) error
	Thread(tx store.ReadTx, sub vigil.ID) (intake.View, error)
}

// SubmissionChanged rereads submission sub's thread (its text, its
// messages, its triage state) into the search index, if the model is
// loaded; intake calls it after every committed write to a thread
// (intake.Service.Changed). If the thread cannot be read, the model is
// dropped, to be reloaded whole by the next call: the index is never left
// behind the store. While a load runs it does not wait for it (a source's
// answer would): it leaves the thread for the load to reread at its end.
func (s *Service) SubmissionChanged(ctx context.Context, sub vigil.ID) {
	if s.Submissions == nil || s.changed.add(sub) {
		return // a load runs: it rereads the thread when done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || s.Vault.Sealed() {
		return
	}
	var v intake.View
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		v, err = s.Submissions.Thread(tx, sub)
		return err
	})
	if err != nil {
		s.drop()
		return
	}
	s.m.indexThread(v)
}

// pendingThreads are the threads written while a load runs, which the
// load rereads when it is done: writes committed after its snapshot.
type pendingThreads struct {
	mu      sync.Mutex
	loading bool
	subs    []vigil.ID
}

// add leaves sub for the running load, if one runs, and reports whether
// it did.
func (p *pendingThreads) add(sub vigil.ID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loading {
		p.subs = append(p.subs, sub)
	}
	return p.loading
}

// start marks a load as running.
func (p *pendingThreads) start() {
	p.mu.Lock()
	p.loading, p.subs = true, nil
	p.mu.Unlock()
}

// stop marks the load as done and returns the threads left for it.
func (p *pendingThreads) stop() []vigil.ID {
	p.mu.Lock()
	defer p.mu.Unlock()
	subs := p.subs
	p.loading, p.subs = false, nil
	return subs
}

// rereadThreads indexes again the threads written while the model loaded;
// s.mu is held.
func (s *Service) rereadThreads(ctx context.Context, m *model) error {
	subs := s.changed.stop()
	if len(subs) == 0 {
		return nil
	}
	return s.Store.View(ctx, func(tx store.ReadTx) error {
		for _, sub := range subs {
			v, err := s.Submissions.Thread(tx, sub)
			if err != nil {
				return fmt.Errorf("load submission %s: %w", sub, err)
			}
			m.indexThread(v)
		}
		return nil
	})
}

// loadThreads reads every thread for the model, in the load's transaction.
func (s *Service) loadThreads(tx store.ReadTx) ([]intake.View, error) {
	if s.Submissions == nil {
		return nil, nil
	}
	var vs []intake.View
	err := s.Submissions.Threads(tx, func(v intake.View) error {
		vs = append(vs, v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load submissions: %w", err)
	}
	return vs, nil
}

// indexThread (re)indexes a submission and the messages of its thread.
// Their documents' Incident is the submission's ID: a thread is its own
// scope, which Search's Visible shows only to principals who may read
// submissions. (Record IDs are unique across kinds, so no incident has it.)
func (m *model) indexThread(v intake.View) {
	for _, id := range m.threads[v.ID] {
		m.ix.Remove(id)
	}
	ids := make([]vigil.ID, 0, 1+len(v.Messages))
	ids = append(ids, v.ID)
	d := search.Document{ID: v.ID, Incident: v.ID, Kind: KindSubmission, Status: string(v.State), From: day(v.Received)}
	d.Fields = textFields(v.Text, v.Files)
	m.ix.Add(d)
	for _, msg := range v.Messages {
		ids = append(ids, msg.ID)
		m.ix.Add(search.Document{ID: msg.ID, Incident: v.ID, Kind: KindMessage, Status: string(v.State),
			From: day(msg.Time), Fields: textFields(msg.Text, msg.Files)})
	}
	m.threads[v.ID] = ids
}

// textFields are the fields of a submission or message: its text and its
// files' names. (A source's contact preference is not indexed.)
func textFields(text string, files []intake.FileInfo) []search.Field {
	var fs []search.Field
	if text != "" {
		fs = append(fs, search.Field{Name: "text", Text: text})
	}
	for _, f := range files {
		if f.Name != "" {
			fs = append(fs, search.Field{Name: "file", Text: f.Name})
		}
	}
	return fs
}

// day is t's UTC day as a vigil.Date.
func day(t time.Time) vigil.Date {
	if t.IsZero() {
		return vigil.Date{}
	}
	t = t.UTC()
	d, err := vigil.NewDate(t.Year(), int(t.Month()), t.Day())
	if err != nil {
		return vigil.Date{}
	}
	return d
}
