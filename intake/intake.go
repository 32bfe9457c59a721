// Package intake takes testimonies and files from anonymous sources and
// lets them come back with a receipt; staff triage and answer them.
//
// A source's [Service.Submit] works while the vault is sealed: the files are
// already staged as encrypted blobs (evidence.Service.Stage), and the text is
// sealed to the vault's recipient and to an age identity derived from the
// source's receipt, so the source, and only someone holding the receipt, can
// read it back. The submission, each file and each later message get a log
// leaf in the same transaction as their records. The receipt itself is never
// stored: records are found by a lookup key derived from it (see receipt.go).
//
// Staff reads ([Service.List], [Service.Get], [Service.Reply],
// [Service.SetState], [Service.OpenFile]) need the vault unsealed and are each
// recorded as an audit event with its own log leaf.
//
// Times that could be matched to network logs (when a submission or message
// arrived, when staff acted) are stored at coarse precision, an hour by
// default.
//
// # References stay sealed
//
// A seized data directory must not tell which files and messages belong to
// which submission. No record names another in plaintext: a submission's
// sealed body lists its files' IDs, its triage record's ID and a random
// thread key; the n-th message of its thread is found under the lookup key
// HMAC-SHA256(thread key, "vigil message v1" || n), which only the vault or
// the receipt holder can compute (both can open the submission); files and
// audit events carry no lookup key at all. Record bodies are padded
// (internal/padme) so their length does not give away a text's length. See
// docs/intake.md for what a seized directory still shows.
package intake

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/internal/groupcommit"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Record kinds owned by intake.
const (
	KindSubmission = "submission"
	KindMessage    = "message"
	KindTriage     = "triage"
	KindAudit      = "audit"
)

// A State is a submission's triage state.
type State string

// Triage states.
const (
	StateNew      State = "new"
	StateInReview State = "in_review"
	StateLinked   State = "linked"
	StateRejected State = "rejected"
)

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case StateNew, StateInReview, StateLinked, StateRejected:
		return true
	}
	return false
}

// ErrBadReceipt is the one answer to any receipt that does not open a
// submission: malformed, unknown or wrong. It says nothing more on purpose.
var ErrBadReceipt = errors.New("receipt not recognised")

// Config bounds what a source may send. Zero fields take the defaults.
type Config struct {
	MaxText  int   // bytes of UTF-8 text per submission or message; default 1 MiB
	MaxFiles int   // files per submission or message; default 20
	MaxTotal int64 // bytes of all files of one submission or message; default 2 GiB
	// TimePrecision is how coarsely arrival times are stored; default 1h.
	TimePrecision time.Duration
	// ReceiptSalt is this instance's public salt for receipt derivations.
	ReceiptSalt []byte
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxText == 0 {
		c.MaxText = 1 << 20
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = 20
	}
	if c.MaxTotal == 0 {
		c.MaxTotal = 2 << 30
	}
	if c.TimePrecision == 0 {
		c.TimePrecision = time.Hour
	}
	return c
}

// Service is the intake service. Its methods are safe for concurrent use.
type Service struct {
	Store    store.Store
	Vault    *vault.Vault
	Evidence *evidence.Service
	Config   Config
	// Commit batches source writes into shared transactions; nil means one
	// transaction per write.
	Commit *groupcommit.Committer
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// Changed, if set, is called after every committed write to a
	// submission's thread (the submission, a message from its source or
	// staff, a triage state), sealed or not, with the submission's ID; the
	// data directory wires it to the search index (cases.Service
	// SubmissionChanged), which rereads the thread with [Service.Thread].
	// It runs in the writer's goroutine and must not call back into
	// the writing method.
	Changed func(ctx context.Context, sub vigil.ID)

	cpuOnce sync.Once
	cpu     chan struct{} // see acquireCPU

	inbox inboxIndex // see Page
}

// acquireCPU bounds how many callers seal records at once, to fewer than
// the CPUs when there are several: sealing is CPU-bound, and a crowd of
// sealers would starve the one goroutine that runs every group commit. It
// returns the release function.
func (s *Service) acquireCPU() func() {
	s.cpuOnce.Do(func() {
		s.cpu = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))
	})
	s.cpu <- struct{}{}
	return func() { <-s.cpu }
}

// changed calls the Changed hook, if any.
func (s *Service) changed(ctx context.Context, sub vigil.ID) {
	s.inbox.touch(sub)
	if s.Changed != nil {
		s.Changed(context.WithoutCancel(ctx), sub)
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) coarseNow() time.Time {
	return s.now().Truncate(s.Config.WithDefaults().TimePrecision)
}

func (s *Service) update(ctx context.Context, fn func(store.Tx) error) error {
	if s.Commit != nil {
		return s.Commit.Do(ctx, fn)
	}
	return s.Store.Update(ctx, fn)
}

// A Draft is what a source typed.
type Draft struct {
	Text     string
	Language string // the language the source wrote in, e.g. "ru"; optional
	Contact  string // how the source would like to be contacted, if at all; optional
}

// FileInfo describes a file of a submission or message.
type FileInfo struct {
	ID        vigil.ID `json:"id"`
	Name      string   `json:"name"`
	Size      int64    `json:"size"`
	MediaType string   `json:"media_type"`
	SHA256    string   `json:"sha256"`
}

// document is what a submission's or message's statement commits to.
type document struct {
	Text     string     `json:"text"`
	Language string     `json:"language,omitempty"`
	Contact  string     `json:"contact,omitempty"`
	From     string     `json:"from,omitempty"` // messages: "source" or "staff"
	Files    []FileInfo `json:"files"`
}

// The kinds of records intake keeps (see package record).
var (
	submissionKind = record.Kind{Name: KindSubmission, Logged: true}
	messageKind    = record.Kind{Name: KindMessage, Logged: true}
	triageKind     = record.Kind{Name: KindTriage}
	auditKind      = audit.Kind // KindAudit
)

// Kinds returns the kinds of records intake keeps.
func Kinds() record.Registry {
	return record.Registry{submissionKind, messageKind, triageKind, auditKind}
}

// links are a submission's sealed references (empty in messages).
type links struct {
	Recipient string   `json:"source_recipient,omitempty"` // the source's age recipient
	Triage    vigil.ID `json:"triage,omitzero"`            // its triage record
	Thread    []byte   `json:"thread,omitempty"`           // key of its messages' lookup keys
}

// threadKeySize is the size of a submission's random thread key.
const threadKeySize = 32

// messageKey returns the lookup key of the n-th message (from 0) of the
// thread whose key is thread.
func messageKey(thread []byte, n int) []byte {
	m := hmac.New(sha256.New, thread)
	m.Write([]byte("vigil message v1"))
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
	return m.Sum(nil)
}

// messages returns the records of a thread's messages in order.
func messages(tx store.ReadTx, thread []byte) ([]store.Record, error) {
	var out []store.Record
	for n := 0; ; n++ {
		recs, err := tx.RecordsByKey(KindMessage, messageKey(thread, n), 2)
		if err != nil {
			return nil, err
		}
		switch len(recs) {
		case 0:
			return out, nil
		case 1:
			out = append(out, recs[0])
		default:
			return nil, fmt.Errorf("%w: two messages under one key", vigil.ErrCorrupt)
		}
	}
}

// checkDraft validates text fields and the number of files.
func (s *Service) checkDraft(d Draft, files int, needText bool) error {
	c := s.Config.WithDefaults()
	switch {
	case !utf8.ValidString(d.Text) || !utf8.ValidString(d.Language) || !utf8.ValidString(d.Contact):
		return fmt.Errorf("%w: text is not valid UTF-8", vigil.ErrInvalid)
	case len(d.Text) > c.MaxText:
		return fmt.Errorf("%w: text longer than %d bytes", vigil.ErrTooLarge, c.MaxText)
	case len(d.Contact) > 1000:
		return fmt.Errorf("%w: contact preference longer than 1000 bytes", vigil.ErrTooLarge)
	case files > c.MaxFiles:
		return fmt.Errorf("%w: more than %d files", vigil.ErrTooLarge, c.MaxFiles)
	case strings.TrimSpace(d.Text) == "" && (needText || files == 0):
		return fmt.Errorf("%w: empty submission", vigil.ErrInvalid)
	}
	if d.Language != "" && !isLangTag(d.Language) {
		return fmt.Errorf("%w: language %q", vigil.ErrInvalid, d.Language)
	}
	return nil
}

func isLangTag(s string) bool {
	if len(s) > 16 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// prepareFiles seals the item records of pending files (outside the
// transaction) and describes them for the document that lists them.
func (s *Service) prepareFiles(files []*evidence.Pending, t time.Time) ([]*evidence.Prepared, []FileInfo, error) {
	var pre []*evidence.Prepared
	var infos []FileInfo
	for _, p := range files {
		it, err := s.Evidence.Prepare(p, evidence.RecordOptions{Time: t})
		if err != nil {
			return nil, nil, err
		}
		pre = append(pre, it)
		infos = append(infos, FileInfo{ID: it.Item.ID, Name: p.Name, Size: p.Size, MediaType: p.MediaType, SHA256: hex.EncodeToString(p.SHA256[:])})
	}
	return pre, infos, nil
}

func putFiles(tx store.Tx, files []*evidence.Prepared) error {
	for _, f := range files {
		if _, err := f.Put(tx); err != nil {
			return err
		}
	}
	return nil
}

// Every record is sealed before its transaction (record.Kind.Seal): JSON,
// statement and age encryption need no transaction, so they run in the
// caller's goroutine, in parallel with other callers, and a group-commit
// transaction, which runs its functions one after another, does only
// database work. A prepared record may be put more than once (groupcommit
// retries), each time in a transaction that rolled the previous attempt back.

// prepareDocument seals a submission or message record to the vault and the
// source, with the commitment of its log leaf.
func (s *Service) prepareDocument(k record.Kind, id vigil.ID, key []byte, doc document, t time.Time, src age.Recipient, l *links) (*record.Prepared, error) {
	v := record.Version{ID: id, Version: 1, Time: t, Created: t, Key: key, Prev: -1}
	if l != nil {
		v.Links = l
	}
	return k.Seal(s.Vault, v, doc, src)
}

// triage is the body of a triage record (vault only).
type triage struct {
	Submission vigil.ID `json:"submission"`
	State      State    `json:"state"`
	By         string   `json:"by,omitempty"`
}

// prepareTriage seals a version of a triage record. It names its
// submission only inside the sealed body; the submission names it likewise.
func (s *Service) prepareTriage(id vigil.ID, version int64, sub vigil.ID, tr triage, t time.Time, author string) (*record.Prepared, error) {
	tr.Submission = sub
	return triageKind.Seal(s.Vault, record.Version{ID: id, Version: version, Time: s.now(), Created: t, Author: author, Prev: -1}, tr)
}

// Submit records a new submission with its staged files and returns the
// receipt, which the source must keep: it is shown once and never stored. It
// works while the vault is sealed. On error the staged files are discarded
// and nothing is recorded.
func (s *Service) Submit(ctx context.Context, d Draft, files []*evidence.Pending) (Receipt, vigil.ID, error) {
	fail := func(err error) (Receipt, vigil.ID, error) {
		for _, p := range files {
			s.Evidence.Discard(ctx, p)
		}
		return nil, vigil.ID{}, err
	}
	if err := s.checkDraft(d, len(files), false); err != nil {
		return fail(err)
	}
	if err := s.checkTotal(files); err != nil {
		return fail(err)
	}
	release := s.acquireCPU()
	receipt := NewReceipt()
	lookup, id, err := receipt.keys(s.Config.ReceiptSalt)
	if err != nil {
		release()
		return fail(err)
	}
	src := id.Recipient()
	id.Wipe() // only the recipient is needed
	sub := vigil.NewID()
	t := s.coarseNow()
	l := links{Recipient: src.String(), Triage: vigil.NewID(), Thread: make([]byte, threadKeySize)}
	rand.Read(l.Thread)
	// Everything is sealed before the transaction: the files' item records
	// get their IDs now, and the submission lists them.
	items, infos, err := s.prepareFiles(files, t)
	if err != nil {
		release()
		return fail(err)
	}
	doc := document{Text: d.Text, Language: d.Language, Contact: d.Contact, Files: infos}
	pre, err := s.prepareDocument(submissionKind, sub, lookup, doc, t, src, &l)
	if err != nil {
		release()
		return fail(err)
	}
	tri, err := s.prepareTriage(l.Triage, 1, sub, triage{State: StateNew}, t, "")
	release()
	if err != nil {
		return fail(err)
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := putFiles(tx, items); err != nil {
			return err
		}
		return record.PutAll(tx, pre, tri)
	})
	if err != nil {
		return fail(fmt.Errorf("record submission: %w", err))
	}
	s.changed(ctx, sub)
	return receipt, sub, nil
}

func (s *Service) checkTotal(files []*evidence.Pending) error {
	var total int64
	for _, p := range files {
		total += p.Size
	}
	if max := s.Config.WithDefaults().MaxTotal; total > max {
		return fmt.Errorf("%w: files total more than %d bytes", vigil.ErrTooLarge, max)
	}
	return nil
}

// A Source is a source who proved they hold a receipt. It holds their
// derived identity in memory; drop it when the session ends.
type Source struct {
	Submission vigil.ID
	identity   *vault.X25519Identity // wiped by Forget
	thread     []byte                // the thread key from the submission's sealed body; wiped by Forget
}

// OpenReceipt finds the submission of a receipt and proves the receipt by
// decrypting it. Any failure is [ErrBadReceipt]. It works sealed.
// It reads the receipt from text, which the caller may wipe afterwards,
// and keeps no copy of it.
func (s *Service) OpenReceipt(ctx context.Context, text []byte) (*Source, error) {
	lookup, id, ok := s.receiptKeys(text)
	if !ok {
		return nil, ErrBadReceipt
	}
	var recs []store.Record
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		recs, err = tx.RecordsByKey(KindSubmission, lookup, 2)
		return err
	})
	if err != nil {
		id.Wipe()
		return nil, fmt.Errorf("look up receipt: %w", err)
	}
	if len(recs) != 1 || subtle.ConstantTimeCompare(recs[0].Key, lookup) != 1 {
		id.Wipe()
		return nil, ErrBadReceipt
	}
	env, err := submissionKind.Open(func(l vault.Label, ct []byte) ([]byte, error) { return vault.OpenFieldWith(id, l, ct) }, recs[0])
	if err != nil {
		id.Wipe()
		return nil, ErrBadReceipt
	}
	var l links
	if err := env.DecodeLinks(&l); err != nil || len(l.Thread) != threadKeySize {
		id.Wipe()
		return nil, fmt.Errorf("%w: submission %s", vigil.ErrCorrupt, recs[0].ID)
	}
	return &Source{Submission: recs[0].ID, identity: id, thread: l.Thread}, nil
}

// A Message is one message of a submission's thread.
type Message struct {
	ID        vigil.ID   `json:"id"`
	From      string     `json:"from"` // "source" or "staff"
	Text      string     `json:"text"`
	Files     []FileInfo `json:"files"`
	Time      time.Time  `json:"time"` // coarse
	LeafIndex int64      `json:"leaf_index"`
}

// A View is a submission as its source or staff see it.
type View struct {
	ID        vigil.ID   `json:"id"`
	Text      string     `json:"text"`
	Language  string     `json:"language,omitempty"`
	Contact   string     `json:"contact,omitempty"`
	Files     []FileInfo `json:"files"`
	Received  time.Time  `json:"received"` // coarse
	LeafIndex int64      `json:"leaf_index"`
	State     State      `json:"state,omitempty"` // staff only
	Messages  []Message  `json:"messages"`
}

// view reads a submission and its thread with open (the vault's or a
// source's identity), and returns them with the submission's sealed links.
func (s *Service) view(ctx context.Context, sub vigil.ID, open record.Opener) (View, links, error) {
	var v View
	var l links
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		v, l, err = viewIn(tx, sub, open)
		return err
	})
	return v, l, err
}

// viewIn is view in the read transaction tx.
func viewIn(tx store.ReadTx, sub vigil.ID, open record.Opener) (View, links, error) {
	var v View
	var l links
	err := func() error {
		subRec, err := tx.Record(sub, 0)
		if err != nil {
			return err
		}
		var doc document
		env, err := submissionKind.Decode(open, subRec, &doc)
		if err != nil {
			return err
		}
		if err := env.DecodeLinks(&l); err != nil || len(l.Thread) != threadKeySize {
			return fmt.Errorf("%w: submission %s: thread key", vigil.ErrCorrupt, sub)
		}
		v = View{ID: sub, Text: doc.Text, Language: doc.Language, Contact: doc.Contact, Files: doc.Files,
			Received: subRec.Created, Messages: []Message{}}
		if v.LeafIndex, err = env.Leaf(tx); err != nil {
			return fmt.Errorf("submission %s: %w", sub, err)
		}
		if v.Files == nil {
			v.Files = []FileInfo{}
		}
		msgs, err := messages(tx, l.Thread)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			var md document
			menv, err := messageKind.Decode(open, m, &md)
			if err != nil {
				return err
			}
			files := md.Files
			if files == nil {
				files = []FileInfo{}
			}
			leaf, err := menv.Leaf(tx)
			if err != nil {
				return fmt.Errorf("message %s: %w", m.ID, err)
			}
			v.Messages = append(v.Messages, Message{ID: m.ID, From: md.From, Text: md.Text, Files: files, Time: m.Created, LeafIndex: leaf})
		}
		return nil
	}()
	return v, l, err
}

// SourceView returns the submission and its thread as the source sees them.
// It works sealed.
func (s *Service) SourceView(ctx context.Context, src *Source) (View, error) {
	v, _, err := s.view(ctx, src.Submission, func(l vault.Label, ct []byte) ([]byte, error) {
		return vault.OpenFieldWith(src.identity, l, ct)
	})
	return v, err
}

// SourceReply adds a source's message (text and staged files) to their
// thread. It works sealed. On error the staged files are discarded.
func (s *Service) SourceReply(ctx context.Context, src *Source, text string, files []*evidence.Pending) (Message, error) {
	m, err := s.addMessage(ctx, src.thread, "source", text, files, src.identity.Recipient(), nil)
	if err == nil {
		s.changed(ctx, src.Submission)
	}
	return m, err
}

// addMessage records a message in the thread whose key is thread; also, if
// set, runs in the same transaction (a staff reply's audit event, so a reply
// is never stored without it).
func (s *Service) addMessage(ctx context.Context, thread []byte, from, text string, files []*evidence.Pending, to age.Recipient, also func(store.Tx) error) (Message, error) {
	discard := func() {
		for _, p := range files {
			s.Evidence.Discard(ctx, p)
		}
	}
	if err := s.checkDraft(Draft{Text: text}, len(files), false); err != nil {
		discard()
		return Message{}, err
	}
	if err := s.checkTotal(files); err != nil {
		discard()
		return Message{}, err
	}
	t := s.coarseNow()
	m := Message{ID: vigil.NewID(), From: from, Text: text, Time: t}
	release := s.acquireCPU()
	items, infos, err := s.prepareFiles(files, t)
	var pre *record.Prepared
	if err == nil {
		m.Files = infos
		pre, err = s.prepareDocument(messageKind, m.ID, nil, document{Text: text, From: from, Files: infos}, t, to, nil)
	}
	release()
	if err != nil {
		discard()
		return Message{}, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := putFiles(tx, items); err != nil {
			return err
		}
		// The message's lookup key is the thread's next free one; the
		// transaction sees every earlier message, so two replies never
		// take the same.
		earlier, err := messages(tx, thread)
		if err != nil {
			return err
		}
		n := len(earlier)
		p := *pre
		p.Record.Key = messageKey(thread, n)
		if m.LeafIndex, err = p.Put(tx); err != nil || also == nil {
			return err
		}
		return also(tx)
	})
	if err != nil {
		discard()
		return Message{}, fmt.Errorf("record message: %w", err)
	}
	if m.Files == nil {
		m.Files = []FileInfo{}
	}
	return m, nil
}

// A Summary is one line of the staff inbox.
type Summary struct {
	ID        vigil.ID  `json:"id"`
	State     State     `json:"state"`
	Received  time.Time `json:"received"` // coarse
	Files     int       `json:"files"`
	Messages  int       `json:"messages"`
	LeafIndex int64     `json:"leaf_index"`
}

// state returns a submission's triage record and state; l are the
// submission's links.
func (s *Service) state(tx store.ReadTx, sub vigil.ID, l links) (store.Record, State, error) {
	r, err := tx.Record(l.Triage, 0)
	if errors.Is(err, vigil.ErrNotFound) {
		return store.Record{}, "", fmt.Errorf("%w: submission %s has no triage record", vigil.ErrCorrupt, sub)
	}
	if err != nil {
		return store.Record{}, "", err
	}
	var tr triage
	if _, err := triageKind.Decode(s.Vault.OpenField, r, &tr); err != nil {
		return store.Record{}, "", err
	}
	if tr.Submission != sub || !tr.State.Valid() {
		return store.Record{}, "", fmt.Errorf("%w: triage of %s", vigil.ErrCorrupt, sub)
	}
	return r, tr.State, nil
}

// allowed checks that p may do a; ErrForbidden if not.
func allowed(p vigil.Principal, a vigil.Action) error {
	if !p.Can(a) {
		return fmt.Errorf("%s may not %s: %w", p.Role, a, vigil.ErrForbidden)
	}
	return nil
}

// List returns the staff inbox, newest first. It needs the vault unsealed
// and a principal who may read submissions.
func (s *Service) List(ctx context.Context, p vigil.Principal) ([]Summary, error) {
	if s.Vault.Sealed() {
		return nil, vigil.ErrSealed
	}
	if err := allowed(p, vigil.ReadSubmissions); err != nil {
		return nil, err
	}
	// The inbox index (see Page) holds every summary, newest first.
	sorted, err := s.sortedLocked(ctx)
	out := slices.Clone(sorted)
	s.inbox.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return out, s.audit(ctx, p.Actor, "list", vigil.ID{})
}

// Get returns a submission with its files and thread. It needs the vault
// unsealed.
func (s *Service) Get(ctx context.Context, p vigil.Principal, sub vigil.ID) (View, error) {
	if s.Vault.Sealed() {
		return View{}, vigil.ErrSealed
	}
	if err := allowed(p, vigil.ReadSubmissions); err != nil {
		return View{}, err
	}
	v, l, err := s.view(ctx, sub, s.Vault.OpenField)
	if err != nil {
		return View{}, err
	}
	err = s.Store.View(ctx, func(tx store.ReadTx) error {
		_, v.State, err = s.state(tx, sub, l)
		return err
	})
	if err != nil {
		return View{}, err
	}
	return v, s.audit(ctx, p.Actor, "read", sub)
}

// Reply adds a staff message to a submission's thread, readable by the
// source with their receipt. It needs the vault unsealed.
func (s *Service) Reply(ctx context.Context, p vigil.Principal, sub vigil.ID, text string) (Message, error) {
	if s.Vault.Sealed() {
		return Message{}, vigil.ErrSealed
	}
	if err := allowed(p, vigil.WriteSubmissions); err != nil {
		return Message{}, err
	}
	if strings.TrimSpace(text) == "" {
		return Message{}, fmt.Errorf("%w: empty reply", vigil.ErrInvalid)
	}
	_, l, err := s.view(ctx, sub, s.Vault.OpenField)
	if err != nil {
		return Message{}, err
	}
	to, err := age.ParseX25519Recipient(l.Recipient)
	if err != nil {
		return Message{}, fmt.Errorf("%w: submission %s: source recipient", vigil.ErrCorrupt, sub)
	}
	ev, err := s.prepareAudit(p.Actor, "reply", sub)
	if err != nil {
		return Message{}, err
	}
	m, err := s.addMessage(ctx, l.Thread, "staff", text, nil, to, func(tx store.Tx) error {
		_, err := ev.Put(tx)
		return err
	})
	if err == nil {
		s.changed(ctx, sub)
	}
	return m, err
}

// SetState changes a submission's triage state. It needs the vault unsealed.
func (s *Service) SetState(ctx context.Context, p vigil.Principal, sub vigil.ID, st State) error {
	if !st.Valid() {
		return fmt.Errorf("%w: state %q", vigil.ErrInvalid, st)
	}
	if s.Vault.Sealed() {
		return vigil.ErrSealed
	}
	if err := allowed(p, vigil.WriteSubmissions); err != nil {
		return err
	}
	actor := p.Actor
	_, l, err := s.view(ctx, sub, s.Vault.OpenField)
	if err != nil {
		return err
	}
	var tr store.Record
	err = s.Store.View(ctx, func(tx store.ReadTx) error {
		tr, _, err = s.state(tx, sub, l)
		return err
	})
	if err != nil {
		return err
	}
	// Sealed before the transaction; a concurrent change took the version
	// and makes PutRecord fail with vigil.ErrConflict.
	pre, err := s.prepareTriage(tr.ID, tr.Version+1, sub, triage{State: st, By: actor}, s.coarseNow(), actor)
	if err != nil {
		return err
	}
	ev, err := s.prepareAudit(actor, "state:"+string(st), sub)
	if err != nil {
		return err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error { return record.PutAll(tx, pre, ev) })
	if err == nil {
		s.changed(ctx, sub)
	}
	return err
}

// Thread returns a submission with its thread and triage state, decrypted
// with the vault, read in tx. It is for the in-memory search index (see
// [Service.Changed]): it checks no principal and records no audit event,
// since the index shows submissions only to principals who may read them.
func (s *Service) Thread(tx store.ReadTx, sub vigil.ID) (View, error) {
	if s.Vault.Sealed() {
		return View{}, vigil.ErrSealed
	}
	v, l, err := viewIn(tx, sub, s.Vault.OpenField)
	if err != nil {
		return View{}, err
	}
	_, v.State, err = s.state(tx, sub, l)
	return v, err
}

// Threads calls fn with every submission as [Service.Thread] returns it,
// read in tx, for the search index built at unseal.
func (s *Service) Threads(tx store.ReadTx, fn func(View) error) error {
	var subs []vigil.ID
	err := store.EachRecord(tx, KindSubmission, func(r store.Record) error {
		subs = append(subs, r.ID)
		return nil
	})
	if err != nil {
		return err
	}
	for _, sub := range subs {
		v, err := s.Thread(tx, sub)
		if err != nil {
			return fmt.Errorf("submission %s: %w", sub, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// OpenFile returns a file of a submission (or of its thread) and its
// decrypted content, checked against its hash as it is read. It needs the
// vault unsealed.
func (s *Service) OpenFile(ctx context.Context, p vigil.Principal, sub, file vigil.ID) (evidence.Item, io.ReadCloser, error) {
	if s.Vault.Sealed() {
		return evidence.Item{}, nil, vigil.ErrSealed
	}
	if err := allowed(p, vigil.ReadSubmissions); err != nil {
		return evidence.Item{}, nil, err
	}
	v, _, err := s.view(ctx, sub, s.Vault.OpenField)
	if err != nil {
		return evidence.Item{}, nil, err
	}
	listed := false
	for _, f := range v.Files {
		listed = listed || f.ID == file
	}
	for _, m := range v.Messages {
		for _, f := range m.Files {
			listed = listed || f.ID == file
		}
	}
	if !listed {
		return evidence.Item{}, nil, fmt.Errorf("file %s of submission %s: %w", file, sub, vigil.ErrNotFound)
	}
	it, err := s.Evidence.Get(ctx, file)
	if err != nil {
		return evidence.Item{}, nil, err
	}
	rc, err := s.Evidence.Open(ctx, it)
	if err != nil {
		return evidence.Item{}, nil, err
	}
	if err := s.audit(ctx, p.Actor, "download:"+file.String(), sub); err != nil {
		rc.Close()
		return evidence.Item{}, nil, err
	}
	return it, rc, nil
}

// An AuditEvent records a staff action (vault only), with its own log leaf.
type AuditEvent struct {
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Time   time.Time `json:"time"`
}

// Audit records a staff action that happened outside this service (such as
// creating an API token) as an audit event with its own log leaf. It works
// sealed.
func (s *Service) Audit(ctx context.Context, actor, action string, target vigil.ID) error {
	return s.audit(ctx, actor, action, target)
}

func (s *Service) audit(ctx context.Context, actor, action string, target vigil.ID) error {
	p, err := s.prepareAudit(actor, action, target)
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := p.Put(tx)
		return err
	})
}

// prepareAudit seals an audit event. Its exact time (to the second) is
// sealed; the record's plaintext time is coarse like every other, so the
// order of leaves cannot bracket a source's arrival between two staff
// actions. The target is named only inside the sealed body.
func (s *Service) prepareAudit(actor, action string, target vigil.ID) (*record.Prepared, error) {
	return audit.Prepare(s.Vault, vigil.Principal{Actor: actor}, action, target, s.now(), s.Config.WithDefaults().TimePrecision)
}
