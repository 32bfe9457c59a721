// Package cases keeps the investigators' case records (incidents, acts,
// persons, places, parties, sources and claims) and answers questions
// about them: each act's corroboration and the figures.
//
// Use a [Service]: [Service.Create], [Service.Update] and [Service.Apply]
// (a batch, all or nothing, for imports) write; [Service.Get],
// [Service.List], [Service.Versions], [Service.Acts], [Service.Figures] and
// [Service.Search] (full text, package search) read. Every call carries a
// [vigil.Principal]; the service checks its role and the incidents it may
// see, not the handler that calls it.
//
// # Records
//
// Each kind is a small file declaring its [record.Kind] and its reference
// rules (incident.go, act.go, ...). Every version is a logged record: sealed
// outside the transaction, written with its log leaf and an audit event
// (package audit) in one transaction. Versions are never overwritten: a
// change names the version it was made from, and if that is no longer the
// latest the write fails with [vigil.ErrConflict] (HTTP 409), so two editors
// never silently overwrite each other. Version n+1's statement names version
// n's leaf as its previous version.
//
// # References stay sealed
//
// Which claim supports which act is sensitive, so no reference is a
// plaintext column: records carry no lookup key, and the external key an
// importer gives a record (a case file's "key") is sealed in the envelope's
// links. Everything is found in an in-memory model that holds the latest
// version of every case record, decrypted: loaded on the first call after
// the vault unseals, kept current after every committed write, and dropped
// when the vault seals (see docs/cases.md). While the vault is sealed every
// call fails with [vigil.ErrSealed].
//
// # Restriction
//
// An incident may be restricted to named accounts. Incidents, acts and
// claims are incident-scoped: a principal that may not see an incident sees
// neither it, nor its acts, nor their claims, nor their share of the
// figures, and cannot write into it; to it they do not exist
// ([vigil.ErrNotFound], or a reference error naming the field). Persons,
// places, parties and sources are shared.
package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Kind names of the case records, as stored.
const (
	KindIncident = "incident"
	KindAct      = "act"
	KindPerson   = "person"
	KindPlace    = "place"
	KindParty    = "party"
	KindSource   = "source"
	KindClaim    = "claim"
)

// Kinds of records other services keep that claims refer to (evidence.Kind
// and intake.KindSubmission; TestForeignKinds keeps them in step).
const (
	kindItem       = "item"
	kindSubmission = "submission"
)

// Kinds returns the kinds of records cases keeps, for the data directory's
// registry. (Audit events are audit.Kind, which intake registers too.)
func Kinds() record.Registry {
	out := make(record.Registry, len(specs))
	for i, s := range specs {
		out[i] = s.kind
	}
	return out
}

// A Doc is the document of a case record: a vigil.Incident, vigil.Act,
// vigil.Person, vigil.Place, vigil.Party, vigil.Source or vigil.Claim, or a
// pointer to one. Reads return values, never pointers.
type Doc interface{ Validate() error }

// NewDoc returns a pointer to a zero document of the named kind, to decode
// JSON into, or false if there is no such kind.
func NewDoc(kind string) (Doc, bool) {
	switch kind {
	case KindIncident:
		return new(vigil.Incident), true
	case KindAct:
		return new(vigil.Act), true
	case KindPerson:
		return new(vigil.Person), true
	case KindPlace:
		return new(vigil.Place), true
	case KindParty:
		return new(vigil.Party), true
	case KindSource:
		return new(vigil.Source), true
	case KindClaim:
		return new(vigil.Claim), true
	}
	return nil, false
}

// kindOf returns the kind of d and d as a value; ok is false for anything
// that is not a case document (or a nil pointer to one).
func kindOf(d Doc) (kind string, v Doc, ok bool) {
	switch x := d.(type) {
	case vigil.Incident:
		return KindIncident, x, true
	case vigil.Act:
		return KindAct, x, true
	case vigil.Person:
		return KindPerson, x, true
	case vigil.Place:
		return KindPlace, x, true
	case vigil.Party:
		return KindParty, x, true
	case vigil.Source:
		return KindSource, x, true
	case vigil.Claim:
		return KindClaim, x, true
	case *vigil.Incident:
		return deref(KindIncident, x)
	case *vigil.Act:
		return deref(KindAct, x)
	case *vigil.Person:
		return deref(KindPerson, x)
	case *vigil.Place:
		return deref(KindPlace, x)
	case *vigil.Party:
		return deref(KindParty, x)
	case *vigil.Source:
		return deref(KindSource, x)
	case *vigil.Claim:
		return deref(KindClaim, x)
	}
	return "", nil, false
}

func deref[T Doc](kind string, p *T) (string, Doc, bool) {
	if p == nil {
		return "", nil, false
	}
	return kind, *p, true
}

// A spec is what the service needs to know of a kind: how it is stored,
// decoded and which references it must satisfy.
type spec struct {
	kind   record.Kind
	decode func(json.RawMessage) (Doc, error)
	// check adds a problem to c for each reference of d (the document of
	// record id) that breaks the kind's rules.
	check func(c *checker, id vigil.ID, d Doc)
}

func decodeAs[T Doc](raw json.RawMessage) (Doc, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// specs lists the kinds in load order.
var specs = []*spec{&placeSpec, &partySpec, &sourceSpec, &personSpec, &incidentSpec, &actSpec, &claimSpec}

func specOf(kind string) *spec {
	for _, s := range specs {
		if s.kind.Name == kind {
			return s
		}
	}
	return nil
}

// Service keeps case records. Its methods are safe for concurrent use.
//
// Writes are serialized within one Service: the reference checks, the
// transaction and the model update of one write happen before the next
// write's checks. Only one Service may write a data directory's case
// records at a time; a second one (another process) is detected by the
// version check in the transaction ([vigil.ErrConflict]), after which the
// Service reloads its model, but references it checked against its own
// model could have changed meanwhile.
type Service struct {
	Store store.Store
	Vault *vault.Vault
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// TimePrecision is how coarsely the records' and audit events'
	// plaintext times are stored; the exact time is sealed. Zero means an
	// hour (intake's default); use intake's configured precision.
	TimePrecision time.Duration
	// Rules are the corroboration rules; a zero CorroboratingOrigins means
	// corroborate.DefaultRules.
	Rules corroborate.Rules
	// Submissions, if set, are searched with the case records by the
	// principals who may read them (intake.Service; see search_intake.go).
	Submissions Submissions

	once    sync.Once
	writeMu sync.Mutex     // serializes writes: checks, transaction, model update
	mu      sync.RWMutex   // guards m
	m       *model         // nil until loaded, and after seal
	changed pendingThreads // SubmissionChanged while a load runs
}

// A Ref names one version of a record.
type Ref struct {
	Kind    string   `json:"kind"`
	ID      vigil.ID `json:"id"`
	Version int64    `json:"version"`
	// Leaf is the version's log leaf index; -1 where it was not looked up
	// (List).
	Leaf int64 `json:"leaf"`
}

// A Record is a version of a case record as a principal may see it.
type Record struct {
	Ref
	// Key is the record's external key (an importer's name for it), or "".
	Key string `json:"key,omitempty"`
	// Author is the actor who wrote the version.
	Author string `json:"author"`
	// Time is when the version was written (to the second).
	Time time.Time `json:"time"`
	// Prev is the previous version's leaf, -1 for the first (Versions
	// only; 0 elsewhere).
	Prev int64 `json:"prev,omitempty"`
	// Doc is the document, a value (vigil.Act, ...). A person's Private
	// part is nil unless the principal may read private fields.
	Doc Doc `json:"document"`
}

// A Change is one write of a batch ([Service.Apply]).
type Change struct {
	// Kind is the record's kind; empty means the kind of Doc. If set, it
	// must be Doc's.
	Kind string
	// ID names the record to update or, for a create, the ID the new
	// record gets (zero: a fresh random one). An importer assigns IDs
	// first, so that changes can refer to records created earlier in the
	// same batch.
	ID vigil.ID
	// Version is the version the change was made from, which must still be
	// the latest; 0 creates the record.
	Version int64
	// Key is the record's external key, unique among records of its kind:
	// a case file's "key", sealed. Empty keeps the current key (none for a
	// create).
	Key string
	Doc Doc
	// Path prefixes the field names of this change's errors, e.g.
	// "acts[3]" for an importer; empty means "[i]", its index in the batch.
	Path string
}

// The maximum length of an external key, in bytes.
const maxKeyLen = vigil.MaxNameLen

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) precision() time.Duration {
	if s.TimePrecision > 0 {
		return s.TimePrecision
	}
	return time.Hour
}

func (s *Service) rules() corroborate.Rules {
	if s.Rules.CorroboratingOrigins == 0 {
		return corroborate.DefaultRules()
	}
	return s.Rules
}

// Create creates a record of kind with document doc, written by p, and
// returns its first version. It fails with vigil.ErrForbidden if p may not
// write cases, vigil.ErrSealed while the vault is sealed, and an error
// wrapping vigil.ErrInvalid, joining one *vigil.FieldError per problem, if
// doc is invalid or a reference breaks its kind's rules; then nothing is
// stored.
func (s *Service) Create(ctx context.Context, p vigil.Principal, kind string, doc Doc) (Ref, error) {
	refs, err := s.apply(ctx, p, []Change{{Kind: kind, Doc: doc}}, false)
	if err != nil {
		return Ref{}, err
	}
	return refs[0], nil
}

// Update writes a new version of record id made from version expected,
// which must still be its latest: otherwise it fails with an error wrapping
// vigil.ErrConflict and stores nothing. A record p may not see is
// vigil.ErrNotFound. Other errors are as for [Service.Create].
func (s *Service) Update(ctx context.Context, p vigil.Principal, id vigil.ID, expected int64, doc Doc) (Ref, error) {
	if expected < 1 {
		return Ref{}, &vigil.FieldError{Field: "version", Problem: "missing", Err: vigil.ErrInvalid}
	}
	refs, err := s.apply(ctx, p, []Change{{ID: id, Version: expected, Doc: doc}}, false)
	if err != nil {
		return Ref{}, err
	}
	return refs[0], nil
}

// Apply writes a batch of creates and updates in one transaction: all of
// them, or, on any error, none. Every change is checked first and every
// problem reported (field names prefixed by the change's Path); changes may
// refer to records created by other changes of the batch. A record may
// appear only once in a batch. It returns the new versions in the order of
// changes.
func (s *Service) Apply(ctx context.Context, p vigil.Principal, changes []Change) ([]Ref, error) {
	return s.apply(ctx, p, changes, true)
}

// A write is a change on its way to the store.
type write struct {
	Change
	spec   *spec
	create bool
	prev   *meta // the model's latest version (updates)
	leaf   int64 // prev's leaf
	stored []storedRef
	pre    *record.Prepared
	audit  *record.Prepared
	ref    Ref
}

func (s *Service) apply(ctx context.Context, p vigil.Principal, changes []Change, batch bool) ([]Ref, error) {
	if !p.Can(vigil.WriteCases) {
		return nil, fmt.Errorf("%w: role %q may not write case records", vigil.ErrForbidden, p.Role)
	}
	if p.Actor == "" {
		return nil, fmt.Errorf("%w: a write needs a named actor for its audit event", vigil.ErrForbidden)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	ws, err := prepareChanges(changes, batch)
	if err != nil {
		return nil, err
	}
	// Check against the model before sealing, to fail fast and to learn
	// the versions the updates follow; the checks are repeated below,
	// under writeMu, where they count.
	if err := s.check(ctx, p, ws, false); err != nil {
		return nil, err
	}
	if err := s.prevLeaves(ctx, ws); err != nil {
		return nil, err
	}
	if err := s.seal(p, ws); err != nil {
		return nil, err
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.check(ctx, p, ws, true); err != nil {
		return nil, err
	}
	stale := false
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		stale = false
		var errs []error
		for _, w := range ws {
			switch cur, err := tx.Record(w.ID, 0); {
			case w.create && err == nil:
				stale = true
				return fmt.Errorf("%w: %s: record %s exists", vigil.ErrConflict, w.Path, w.ID)
			case w.create && errors.Is(err, vigil.ErrNotFound):
			case err != nil:
				return err
			case cur.Kind != w.spec.kind.Name || cur.Version != w.Version:
				stale = true
				return fmt.Errorf("%w: %s %s: version %d is not the latest (someone else changed it; reload and edit again)",
					vigil.ErrConflict, w.spec.kind.Name, w.ID, w.Version)
			}
			errs = append(errs, checkStored(tx, w)...)
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		for _, w := range ws {
			leaf, err := w.pre.Put(tx)
			if err != nil {
				return fmt.Errorf("put %s %s: %w", w.spec.kind.Name, w.ID, err)
			}
			w.ref.Leaf = leaf
			if _, err := w.audit.Put(tx); err != nil {
				return fmt.Errorf("put audit event: %w", err)
			}
		}
		return nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if stale {
			// Another writer changed the store behind this model's back:
			// reload on the next call.
			s.drop()
		}
		return nil, err
	}
	if s.m != nil {
		var oldActs []vigil.ID
		for _, w := range ws {
			if c, ok := s.m.claims[w.ID]; ok {
				oldActs = append(oldActs, c.Act)
			}
		}
		s.m.apply(ws)
		s.m.reindex(ws, oldActs, s.rules())
	}
	out := make([]Ref, len(ws))
	for i, w := range ws {
		out[i] = w.ref
	}
	return out, nil
}

// prepareChanges validates each change on its own (document, kind, key)
// and reports every problem.
func prepareChanges(changes []Change, batch bool) ([]*write, error) {
	var errs []error
	ws := make([]*write, len(changes))
	seen := make(map[vigil.ID]bool, len(changes))
	for i, c := range changes {
		if c.Path == "" && batch {
			c.Path = fmt.Sprintf("[%d]", i)
		}
		w := &write{Change: c, create: c.Version == 0}
		ws[i] = w
		prob := func(field, problem string) {
			errs = append(errs, &vigil.FieldError{Field: join(c.Path, field), Problem: problem, Err: vigil.ErrInvalid})
		}
		kind, doc, ok := kindOf(c.Doc)
		switch {
		case !ok:
			prob("", "not a case record")
			continue
		case c.Kind != "" && c.Kind != kind:
			prob("kind", "does not match the document")
			continue
		case c.Version < 0:
			prob("version", "negative")
			continue
		case !w.create && c.ID.IsZero():
			prob("id", "missing")
			continue
		}
		w.Doc, w.spec = doc, specOf(kind)
		if w.create && w.ID.IsZero() {
			w.ID = vigil.NewID()
		}
		if seen[w.ID] {
			prob("id", "changed twice in one batch")
		}
		seen[w.ID] = true
		checkKey(prob, c.Key)
		if err := doc.Validate(); err != nil {
			errs = append(errs, prefixed(c.Path, err)...)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ws, nil
}

func checkKey(prob func(field, problem string), k string) {
	switch {
	case len(k) > maxKeyLen:
		prob("key", fmt.Sprintf("longer than %d bytes", maxKeyLen))
	case !utf8.ValidString(k):
		prob("key", "not valid UTF-8")
	default:
		for _, r := range k {
			if r < 0x20 || 0x7f <= r && r <= 0x9f {
				prob("key", "contains a control character")
				return
			}
		}
	}
}

// join returns the JSON path of field under prefix.
func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case field[0] == '[':
		return prefix + field
	}
	return prefix + "." + field
}

// prefixed returns the problems of a Validate error with their fields
// under prefix.
func prefixed(prefix string, err error) []error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		var fe *vigil.FieldError
		if errors.As(e, &fe) {
			out = append(out, &vigil.FieldError{Field: join(prefix, fe.Field), Problem: fe.Problem, Err: fe.Err})
		} else {
			out = append(out, e)
		}
	}
	return out
}

// prevLeaves finds the log leaf of each update's previous version.
func (s *Service) prevLeaves(ctx context.Context, ws []*write) error {
	var need []*write
	for _, w := range ws {
		w.leaf = -1
		if w.create {
			continue
		}
		if w.prev.leaf >= 0 {
			w.leaf = w.prev.leaf
		} else {
			need = append(need, w)
		}
	}
	if len(need) == 0 {
		return nil
	}
	return s.Store.View(ctx, func(tx store.ReadTx) error {
		for _, w := range need {
			leaf, err := tx.LeafOf(w.prev.entry[:])
			if err != nil {
				return fmt.Errorf("%s %s version %d: find its leaf: %w", w.spec.kind.Name, w.ID, w.Version, err)
			}
			w.leaf = leaf
		}
		return nil
	})
}

// links are a case record's sealed references that its statement does not
// commit to: a bundle that reveals the document does not reveal them.
type links struct {
	Key string `json:"key,omitempty"`
}

// seal seals every write's version and audit event; no lock is held.
func (s *Service) seal(p vigil.Principal, ws []*write) error {
	now := s.now()
	// Sealing (an X25519 wrap per record and per audit event) is the cost
	// of a write: a batch seals on every CPU.
	return parallel(len(ws), func(i int) error {
		w := ws[i]
		version, action := int64(1), "create:"+w.spec.kind.Name
		if !w.create {
			version, action = w.Version+1, "update:"+w.spec.kind.Name
		}
		ver := record.Version{ID: w.ID, Version: version, Time: now, Created: now.Truncate(s.precision()),
			Author: p.Actor, Prev: w.leaf}
		if w.Key != "" {
			ver.Links = links{Key: w.Key}
		}
		var err error
		if w.pre, err = w.spec.kind.Seal(s.Vault, ver, w.Doc); err != nil {
			return fmt.Errorf("seal %s: %w", w.spec.kind.Name, err)
		}
		if w.audit, err = audit.Prepare(s.Vault, p, action, w.ID, now, s.precision()); err != nil {
			return fmt.Errorf("seal audit event: %w", err)
		}
		w.ref = Ref{Kind: w.spec.kind.Name, ID: w.ID, Version: version}
		return nil
	})
}
