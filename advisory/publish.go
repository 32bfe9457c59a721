package advisory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Kind declares advisory records: logged, one version each. The document
// is [Document]; an advisory is public, but like every record it is sealed
// in the database. The public copy is the signed note in the publication
// directory ([Dir]).
var Kind = record.Kind{Name: "advisory", Logged: true}

// Document is an advisory record's document: the signed note, whole.
type Document struct {
	Note string `json:"note"`
}

// IndexFile is the signed list's file name in a [Dir].
const IndexFile = "index.txt"

// A Dir is the publication directory of advisories (DIR/public/advisories):
// one file ID.txt per signed advisory and the signed list, index.txt. The
// public listener serves from it without any key, so advisories stay
// readable while the vault is sealed; only publishing needs the
// publication key.
type Dir string

// A Published advisory is one read back from a [Dir].
type Published struct {
	Advisory
	Note []byte // the signed note, as published
	// WithdrawnBy is the withdrawal's ID; zero if not withdrawn.
	WithdrawnBy vigil.ID
}

// Publisher publishes advisories of one data directory.
type Publisher struct {
	Dir       Dir
	Store     store.Store
	Vault     *vault.Vault
	Precision time.Duration // of the record's plaintext time
	Now       func() time.Time

	mu sync.Mutex // one publication at a time, so the signed list has them all
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

// Create signs a new advisory with the given texts and validity, logs it
// and publishes it. The vault must be unsealed and hold a publication key.
func (p *Publisher) Create(ctx context.Context, by vigil.Principal, texts []Text, from, until time.Time) (Published, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now().Truncate(time.Second)
	if from.IsZero() {
		from = now
	}
	a := Advisory{ID: vigil.NewID(), Issued: now, ValidFrom: from.UTC().Truncate(time.Second), ValidUntil: until.UTC().Truncate(time.Second), Texts: texts}
	return p.publish(ctx, by, a)
}

// Withdraw signs, logs and publishes a withdrawal of advisory id, with
// texts saying why (a default text in English and Russian if none). The
// withdrawal is valid from now for as long as the withdrawn advisory was
// meant to be (at least a day).
func (p *Publisher) Withdraw(ctx context.Context, by vigil.Principal, id vigil.ID, texts []Text) (Published, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	list, err := p.Dir.List(p.Vault.AdvisoryVerifier())
	if err != nil {
		return Published{}, err
	}
	i := slices.IndexFunc(list, func(x Published) bool { return x.ID == id })
	if i < 0 {
		return Published{}, fmt.Errorf("%w: advisory %s", vigil.ErrNotFound, id)
	}
	old := list[i]
	switch {
	case !old.Withdraws.IsZero():
		return Published{}, fmt.Errorf("%w: %s is a withdrawal; a withdrawal cannot be withdrawn", vigil.ErrInvalid, id)
	case !old.WithdrawnBy.IsZero():
		return Published{}, fmt.Errorf("%w: advisory %s was already withdrawn by %s", vigil.ErrConflict, id, old.WithdrawnBy)
	}
	if len(texts) == 0 {
		texts = []Text{
			{Lang: "en", Body: "Advisory " + id.String() + " is withdrawn: do not act on it."},
			{Lang: "ru", Body: "Предупреждение " + id.String() + " отозвано: не действуйте по нему."},
		}
	}
	now := p.now().Truncate(time.Second)
	until := now.Add(24 * time.Hour)
	if old.ValidUntil.After(until) {
		until = old.ValidUntil
	}
	a := Advisory{ID: vigil.NewID(), Issued: now, ValidFrom: now, ValidUntil: until, Withdraws: id, Texts: texts}
	return p.publish(ctx, by, a)
}

// List returns every published advisory, newest first (see [Dir.List]).
func (p *Publisher) List() ([]Published, error) { return p.Dir.List(p.Vault.AdvisoryVerifier()) }

// publish signs, logs and publishes a; the caller holds p.mu.
func (p *Publisher) publish(ctx context.Context, by vigil.Principal, a Advisory) (Published, error) {
	if err := a.Validate(); err != nil {
		return Published{}, err
	}
	signer, err := p.Vault.AdvisorySigner()
	if err != nil {
		return Published{}, err
	}
	msg, err := Sign(a, signer)
	if err != nil {
		return Published{}, fmt.Errorf("sign advisory: %w", err)
	}
	precision := p.Precision
	if precision <= 0 {
		precision = time.Hour
	}
	pre, err := Kind.Seal(p.Vault, record.Version{ID: a.ID, Version: 1, Time: a.Issued,
		Created: a.Issued.Truncate(precision), Author: by.Actor, Prev: -1}, Document{Note: string(msg)})
	if err != nil {
		return Published{}, err
	}
	action := "publish:advisory"
	if !a.Withdraws.IsZero() {
		action = "withdraw:advisory"
	}
	ev, err := audit.Prepare(p.Vault, by, action, a.ID, a.Issued, precision)
	if err != nil {
		return Published{}, err
	}
	// The public file first (not yet listed: the signed list is what says
	// it is current), then the record and its leaf, then the list. A crash
	// between leaves an unlisted file that the next publication lists.
	if err := os.MkdirAll(string(p.Dir), 0o755); err != nil {
		return Published{}, err
	}
	if err := atomicfile.WriteNew(p.Dir.path(a.ID), msg, 0o644); err != nil {
		return Published{}, fmt.Errorf("write advisory: %w", err)
	}
	err = p.Store.Update(ctx, func(tx store.Tx) error { return record.PutAll(tx, pre, ev) })
	if err != nil {
		os.Remove(p.Dir.path(a.ID))
		return Published{}, err
	}
	if err := p.signIndex(signer); err != nil {
		return Published{}, fmt.Errorf("advisory %s is logged and published, but the signed list is not updated: %w", a.ID, err)
	}
	return Published{Advisory: a, Note: msg}, nil
}

// signIndex signs and writes the list of every published advisory.
func (p *Publisher) signIndex(signer note.Signer) error {
	list, err := p.Dir.List(p.Vault.AdvisoryVerifier())
	if err != nil {
		return err
	}
	x := Index{Time: p.now().Truncate(time.Second)}
	for _, a := range list {
		e := IndexEntry{ID: a.ID, Status: StatusCurrent}
		switch {
		case !a.Withdraws.IsZero():
			e.Status, e.Ref = StatusWithdrawal, a.Withdraws
		case !a.WithdrawnBy.IsZero():
			e.Status, e.Ref = StatusWithdrawn, a.WithdrawnBy
		}
		x.Entries = append(x.Entries, e)
	}
	msg, err := SignIndex(x, signer)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(string(p.Dir), IndexFile), msg, 0o644)
}

func (d Dir) path(id vigil.ID) string { return filepath.Join(string(d), id.String()+".txt") }

// Note returns the signed note of advisory id as published.
func (d Dir) Note(id vigil.ID) ([]byte, error) {
	b, err := os.ReadFile(d.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: advisory %s", vigil.ErrNotFound, id)
	}
	return b, err
}

// Index returns the signed list as published; nil if none was written.
func (d Dir) Index() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(string(d), IndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// List reads every published advisory, newest first, verifying each with v
// (the publication key) and marking the withdrawn ones. A file that does
// not verify is an error: the directory was tampered with.
func (d Dir) List(v note.Verifier) ([]Published, error) {
	if v == nil {
		return nil, vault.ErrNoAdvisoryKey
	}
	ents, err := os.ReadDir(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Published
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".txt")
		if !ok || e.Name() == IndexFile {
			continue
		}
		id, err := vigil.ParseID(name)
		if err != nil {
			continue
		}
		b, err := os.ReadFile(d.path(id))
		if err != nil {
			return nil, err
		}
		a, err := Open(b, v)
		if err != nil || a.ID != id {
			return nil, fmt.Errorf("%w: published advisory %s does not verify: %v", vigil.ErrCorrupt, id, err)
		}
		out = append(out, Published{Advisory: a, Note: b})
	}
	for _, w := range out {
		if w.Withdraws.IsZero() {
			continue
		}
		for i := range out {
			if out[i].ID == w.Withdraws && out[i].WithdrawnBy.IsZero() {
				out[i].WithdrawnBy = w.ID
			}
		}
	}
	slices.SortFunc(out, func(a, b Published) int {
		if c := b.Issued.Compare(a.Issued); c != 0 {
			return c
		}
		return strings.Compare(b.ID.String(), a.ID.String())
	})
	return out, nil
}
