// Package record is the one envelope every kind of record is stored in:
// sealing, the log commitment and reading back are done here once, so that
// a kind (a submission, an evidence item, an incident, a claim, an audit
// event) is a name, a body type and a few declarations.
//
// To write a version, describe it with a [Version] and call [Kind.Seal]
// outside any transaction (sealing is CPU work that must not hold the
// database's one writer), then [Prepared.Put] inside it: Put appends the
// log leaf, if the kind is logged, and the record. To read, [Kind.Open]
// decrypts a stored record into its [Envelope]; [Envelope.Leaf] finds its
// log leaf.
//
// # Format
//
// A record's body is age ciphertext (vault.SealFieldTo, whose label binds
// the kind, ID, field and version) of a JSON [Envelope], padded with JSON
// whitespace to its Padmé size (internal/padme) so that its length does not
// give away the length of what it holds. The envelope holds the kind's
// document, the exact time and author of the version, its sealed links (see
// below) and, for logged kinds, the canonical statement and salt whose
// commitment SHA-256(salt || statement) is the version's log leaf. The
// statement commits to the SHA-256 of the document (or, for kinds whose
// content lives elsewhere, such as evidence items, to the content's).
//
// # What stays sealed
//
// A record's plaintext columns are its random ID, version, kind, a time at
// the intake precision and, when the kind needs one, an opaque lookup key.
// Everything else, which other records it refers to, which blob holds its
// content and which log leaf commits to it, is inside the envelope: the
// log leaf is not stored at all, it is found from the commitment
// (store.ReadTx.LeafOf). Links are references a kind must keep but must not
// commit to in the log (a bundle reveals the statement's document, never
// the links): a submission's thread key, for instance.
package record

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"filippo.io/age"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/padme"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// A Kind declares how records of one kind are stored. Kinds are values;
// declare each once, as a package-level variable of the package that owns
// it, and list it in the registry its users share (see [Registry]).
type Kind struct {
	// Name is the plaintext kind column and the statement's kind, e.g.
	// "incident". It must be a short lowercase token.
	Name string
	// Logged kinds get a log leaf for every version.
	Logged bool
	// Field is the vault label's field; empty means "body". (Evidence items
	// keep "meta", the field they were written with.)
	Field string
	// External kinds' statements commit to content kept elsewhere (an
	// evidence item's file, see [Version.Content]), not to the document.
	External bool
}

func (k Kind) field() string {
	if k.Field == "" {
		return "body"
	}
	return k.Field
}

// Label returns the vault label of version of record id.
func (k Kind) Label(id vigil.ID, version int64) vault.Label {
	return vault.Label{Kind: k.Name, ID: id, Field: k.field(), Version: version}
}

// MediaType is the statement's media type of a kind's document.
func (k Kind) MediaType() string { return "application/vnd.vigil." + k.Name + "+json" }

// A Version describes one version of a record to seal.
type Version struct {
	ID      vigil.ID
	Version int64 // from 1
	// Time is when the version was made, sealed; the statement holds it to
	// the second. Zero means now.
	Time time.Time
	// Created is the record's plaintext time. Callers round it to the
	// intake precision; zero means Time rounded down to the hour.
	Created time.Time
	// Author names who made the version (a principal's actor name), sealed.
	Author string
	// Key is the record's optional plaintext lookup key: an opaque value
	// that reveals nothing by itself (a keyed hash), never another record's
	// ID.
	Key []byte
	// Prev is the log leaf of the previous version, or -1 (first version,
	// or a kind that is not logged). Zero value: callers set it.
	Prev int64
	// Links are sealed references the log does not commit to; nil for none.
	Links any
	// Content, if set, is what the statement commits to instead of the
	// document: the SHA-256, size and media type of content kept elsewhere
	// (an evidence item's file).
	Content *Content
}

// Content describes content a statement commits to that is not the document.
type Content struct {
	SHA256    [32]byte
	Size      int64
	MediaType string
}

// An Envelope is the sealed plaintext of a record version.
type Envelope struct {
	Document  json.RawMessage `json:"document"`
	Statement string          `json:"statement,omitempty"`
	Salt      string          `json:"salt,omitempty"`
	Time      time.Time       `json:"time"`
	Author    string          `json:"author,omitempty"`
	Links     json.RawMessage `json:"links,omitempty"`
}

// Entry returns the log entry committing to the version:
// SHA-256(salt || statement). It fails for a version that is not logged.
func (e Envelope) Entry() ([evlog.EntrySize]byte, error) {
	salt, err := e.SaltBytes()
	if err != nil || e.Statement == "" {
		return [evlog.EntrySize]byte{}, errors.New("no statement and salt")
	}
	return evlog.Commitment(salt, []byte(e.Statement)), nil
}

// CheckDocument checks that the statement commits to the document: its
// SHA-256 and size, for kinds whose statements commit to the document
// (not to content kept elsewhere, see [Version.Content]). It returns an
// error wrapping vigil.ErrCorrupt if they differ.
func (e Envelope) CheckDocument() error {
	st, err := evlog.ParseStatement([]byte(e.Statement))
	if err != nil {
		return fmt.Errorf("%w: statement: %v", vigil.ErrCorrupt, err)
	}
	if st.SHA256 != sha256.Sum256(e.Document) || st.Size != int64(len(e.Document)) {
		return fmt.Errorf("%w: %s %s: the document is not what its statement commits to", vigil.ErrCorrupt, st.Kind, st.ID)
	}
	return nil
}

// SaltBytes returns the envelope's salt.
func (e Envelope) SaltBytes() ([evlog.SaltSize]byte, error) {
	var salt [evlog.SaltSize]byte
	raw, err := hex.DecodeString(e.Salt)
	if err != nil || len(raw) != len(salt) {
		return salt, errors.New("bad salt")
	}
	copy(salt[:], raw)
	return salt, nil
}

// Leaf finds the version's log leaf in tx by its commitment. It returns an
// error wrapping vigil.ErrCorrupt if the commitment is not in the log.
func (e Envelope) Leaf(tx store.ReadTx) (int64, error) {
	entry, err := e.Entry()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", vigil.ErrCorrupt, err)
	}
	leaf, err := tx.LeafOf(entry[:])
	if errors.Is(err, vigil.ErrNotFound) {
		return 0, fmt.Errorf("%w: its commitment is not in the log", vigil.ErrCorrupt)
	}
	return leaf, err
}

// A Prepared version is sealed and ready for [Prepared.Put].
type Prepared struct {
	// Record is the record as it will be stored.
	Record store.Record
	// Envelope is what Record's body seals.
	Envelope Envelope
	// Entry is the version's log entry (logged kinds only).
	Entry  [evlog.EntrySize]byte
	logged bool
}

// Seal seals a version of a record whose document is doc (marshalled to
// JSON) to the vault and to the extra readers. It does no I/O.
func (k Kind) Seal(v *vault.Vault, ver Version, doc any, readers ...age.Recipient) (*Prepared, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: marshal document: %w", k.Name, err)
	}
	if ver.Version < 1 {
		return nil, fmt.Errorf("%w: %s %s: version %d", vigil.ErrInvalid, k.Name, ver.ID, ver.Version)
	}
	if k.Logged && k.External != (ver.Content != nil) {
		return nil, fmt.Errorf("%w: %s: content given for a kind whose statements commit to its document, or missing for one that commits to external content", vigil.ErrInvalid, k.Name)
	}
	t := ver.Time.UTC()
	if ver.Time.IsZero() {
		t = time.Now().UTC()
	}
	created := ver.Created
	if created.IsZero() {
		created = t.Truncate(time.Hour)
	}
	env := Envelope{Document: raw, Time: t, Author: ver.Author}
	if ver.Links != nil {
		if env.Links, err = json.Marshal(ver.Links); err != nil {
			return nil, fmt.Errorf("%s: marshal links: %w", k.Name, err)
		}
	}
	p := &Prepared{logged: k.Logged}
	if k.Logged {
		var salt [evlog.SaltSize]byte
		if _, err := rand.Read(salt[:]); err != nil {
			return nil, err
		}
		st := evlog.Statement{Kind: k.Name, ID: ver.ID.String(), Version: ver.Version, Time: t.Truncate(time.Second),
			SHA256: sha256.Sum256(raw), Size: int64(len(raw)), MediaType: k.MediaType(), Prev: ver.Prev}
		if c := ver.Content; c != nil {
			st.SHA256, st.Size, st.MediaType = c.SHA256, c.Size, c.MediaType
		}
		stmt, err := st.Marshal()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.Name, err)
		}
		env.Statement, env.Salt = string(stmt), hex.EncodeToString(salt[:])
		p.Entry = evlog.Commitment(salt, stmt)
	}
	p.Envelope = env
	body, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	ct, err := v.SealFieldTo(k.Label(ver.ID, ver.Version), padme.JSON(body), readers...)
	clear(body)
	if err != nil {
		return nil, err
	}
	p.Record = store.Record{ID: ver.ID, Version: ver.Version, Kind: k.Name, Created: created, LeafIndex: -1, Body: ct, Key: ver.Key}
	return p, nil
}

// Put writes the prepared version in tx: first its log leaf, if the kind is
// logged, then the record. It returns the leaf index (-1 if not logged). It
// may be called again in a new transaction after the previous one rolled
// back (group commits retry). A lookup key that depends on what the
// transaction sees (the next free message key of a thread) is set on a copy:
// q := *p; q.Record.Key = key; q.Put(tx).
func (p *Prepared) Put(tx store.Tx) (int64, error) {
	leaf := int64(-1)
	if p.logged {
		var err error
		if leaf, err = evlog.Append(tx, p.Entry); err != nil {
			return 0, err
		}
	}
	return leaf, tx.PutRecord(p.Record)
}

// PutAll writes every prepared version in ps in tx, in order (a change
// and its audit event, say), and stops at the first error.
func PutAll(tx store.Tx, ps ...*Prepared) error {
	for _, p := range ps {
		if _, err := p.Put(tx); err != nil {
			return err
		}
	}
	return nil
}

// An Opener decrypts a record body sealed under a label: the vault's
// OpenField, or vault.OpenFieldWith a source's identity.
type Opener func(l vault.Label, ciphertext []byte) ([]byte, error)

// Open decrypts a stored record of kind k into its envelope. It fails with
// vigil.ErrNotFound if r is of another kind (a record ID of the wrong kind
// must not be readable as this one), vigil.ErrSealed if open needs the
// vault and it is sealed, and vigil.ErrCorrupt if the body does not decode.
func (k Kind) Open(open Opener, r store.Record) (Envelope, error) {
	var e Envelope
	if r.Kind != k.Name {
		return e, fmt.Errorf("record %s is a %s, not a %s: %w", r.ID, r.Kind, k.Name, vigil.ErrNotFound)
	}
	plain, err := open(k.Label(r.ID, r.Version), r.Body)
	if err != nil {
		return e, err
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, &e); err != nil {
		return e, fmt.Errorf("%w: %s %s: %v", vigil.ErrCorrupt, k.Name, r.ID, err)
	}
	return e, nil
}

// Decode opens r and decodes its document into doc (a pointer).
func (k Kind) Decode(open Opener, r store.Record, doc any) (Envelope, error) {
	e, err := k.Open(open, r)
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(e.Document, doc); err != nil {
		return e, fmt.Errorf("%w: %s %s: document: %v", vigil.ErrCorrupt, k.Name, r.ID, err)
	}
	return e, nil
}

// DecodeLinks decodes the envelope's links into links (a pointer); no
// links leaves it unchanged.
func (e Envelope) DecodeLinks(links any) error {
	if len(e.Links) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Links, links); err != nil {
		return fmt.Errorf("%w: links: %v", vigil.ErrCorrupt, err)
	}
	return nil
}

// A Registry lists the kinds a data directory holds, so that checks and
// exports (fsck, bundles, loading the in-memory model) work for every kind.
type Registry []Kind

// Lookup returns the kind named name.
func (r Registry) Lookup(name string) (Kind, bool) {
	for _, k := range r {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Logged returns the logged kinds.
func (r Registry) Logged() []Kind {
	var out []Kind
	for _, k := range r {
		if k.Logged {
			out = append(out, k)
		}
	}
	return out
}

// A Report says what [Verify] checked.
type Report struct {
	Records  int // records (latest versions) of the registry's kinds
	Versions int // versions decrypted
	Leaves   int // log entries, each the commitment of exactly one version
}

// Verify checks, in one snapshot, that every version of every record of
// the registry's kinds decrypts with open, that the log holds the
// commitment of each version of a logged kind exactly once, and that every
// log entry is such a commitment: no record without its leaf, no leaf
// without its record. For kinds that commit to their document, the
// statement must commit to the sealed document. It needs the vault (open)
// and reads every record. It goes on past a bad version: every problem
// found is returned, each an error wrapping vigil.ErrCorrupt (or the
// vault's error), joined with errors.Join (whose Unwrap() []error lists
// them). A failure to read the store stops it at once.
func Verify(tx store.ReadTx, open Opener, kinds Registry) (Report, error) {
	var rep Report
	var problems []error
	size, err := tx.TreeSize()
	if err != nil {
		return rep, err
	}
	index := make(map[[evlog.EntrySize]byte]int64, size)
	const page = 4096
	for start := int64(0); start < size; start += page {
		es, err := tx.ReadEntries(start, min(start+page, size))
		if err != nil {
			return rep, err
		}
		for i, e := range es {
			if len(e) != evlog.EntrySize {
				return rep, fmt.Errorf("%w: log entry %d is %d bytes", vigil.ErrCorrupt, start+int64(i), len(e))
			}
			if _, dup := index[[evlog.EntrySize]byte(e)]; dup {
				return rep, fmt.Errorf("%w: log entry %d repeats an earlier one", vigil.ErrCorrupt, start+int64(i))
			}
			index[[evlog.EntrySize]byte(e)] = start + int64(i)
		}
	}
	used := make(map[int64]bool, size)
	for _, k := range kinds {
		err := store.EachRecord(tx, k.Name, func(latest store.Record) error {
			rep.Records++
			for v := int64(1); v <= latest.Version; v++ {
				r := latest
				if v != latest.Version {
					var err error
					if r, err = tx.Record(latest.ID, v); err != nil {
						return fmt.Errorf("%s %s version %d: %w", k.Name, latest.ID, v, err)
					}
				}
				env, err := k.Open(open, r)
				if err != nil {
					problems = append(problems, fmt.Errorf("%s %s version %d: %w", k.Name, r.ID, v, err))
					continue
				}
				rep.Versions++
				if !k.Logged {
					continue
				}
				e, err := env.Entry()
				if err != nil {
					problems = append(problems, fmt.Errorf("%w: %s %s version %d: %v", vigil.ErrCorrupt, k.Name, r.ID, v, err))
					continue
				}
				if !k.External {
					if err := env.CheckDocument(); err != nil {
						problems = append(problems, fmt.Errorf("version %d: %w", v, err))
						continue
					}
				}
				leaf, ok := index[e]
				if !ok {
					problems = append(problems, fmt.Errorf("%w: %s %s version %d: its commitment is not in the log", vigil.ErrCorrupt, k.Name, r.ID, v))
					continue
				}
				if used[leaf] {
					problems = append(problems, fmt.Errorf("%w: %s %s version %d: leaf %d commits to two versions", vigil.ErrCorrupt, k.Name, r.ID, v, leaf))
					continue
				}
				used[leaf] = true
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	rep.Leaves = len(used)
	if int64(len(used)) != size {
		for i := int64(0); i < size; i++ {
			if !used[i] {
				problems = append(problems, fmt.Errorf("%w: log entry %d commits to no record of a known kind", vigil.ErrCorrupt, i))
			}
		}
	}
	return rep, errors.Join(problems...)
}
