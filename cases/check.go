package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store"
)

// A checker checks the references of a batch's documents against the
// model and the batch itself (a change may refer to a record another
// change of the batch creates or changes).
type checker struct {
	m     *model
	p     vigil.Principal
	batch map[vigil.ID]*write
	w     *write // the write being checked
	errs  []error
}

// A storedRef is a reference to a record another service keeps, checked in
// the write's transaction.
type storedRef struct {
	field string
	id    vigil.ID
	kind  string
}

func (c *checker) add(field, problem string) {
	c.errs = append(c.errs, &vigil.FieldError{Field: join(c.w.Path, field), Problem: problem, Err: vigil.ErrInvalid})
}

// lookup returns the kind and document of id as the batch would leave it.
func (c *checker) lookup(id vigil.ID) (string, Doc, bool) {
	if w, ok := c.batch[id]; ok {
		return w.spec.kind.Name, w.Doc, true
	}
	return c.m.lookup(id)
}

// ref checks that id, if not zero, is a record of kind that c.p may see. It
// reports whether id is such a record. A record c.p may not see is reported
// as missing: its existence is not revealed.
func (c *checker) ref(field string, id vigil.ID, kind string) bool {
	if id.IsZero() {
		return false
	}
	k, _, ok := c.lookup(id)
	switch {
	case !ok || !visible(c.p, id, c.lookup):
		c.add(field, "no such "+kind)
		return false
	case k != kind:
		c.add(field, "not "+article(kind))
		return false
	}
	return true
}

func (c *checker) refs(field string, ids []vigil.ID, kind string) {
	for i, id := range ids {
		c.ref(fmt.Sprintf("%s[%d]", field, i), id, kind)
	}
}

// acyclic checks that following parents from id does not come back to id
// or loop elsewhere.
func (c *checker) acyclic(field string, id vigil.ID) {
	parent := func(x vigil.ID) (vigil.ID, bool) {
		_, d, ok := c.lookup(x)
		if !ok {
			return vigil.ID{}, false
		}
		switch v := d.(type) {
		case vigil.Place:
			return v.Parent, true
		case vigil.Party:
			return v.Parent, true
		}
		return vigil.ID{}, false
	}
	if _, cycle := vigil.Lineage(id, parent); cycle {
		c.add(field, "makes a cycle of parents")
	}
}

// stored notes references to records of another service, checked in the
// transaction by checkStored.
func (c *checker) stored(field string, ids []vigil.ID, kind string) {
	for i, id := range ids {
		c.w.stored = append(c.w.stored, storedRef{field: join(c.w.Path, fmt.Sprintf("%s[%d]", field, i)), id: id, kind: kind})
	}
}

var storedNames = map[string]string{kindItem: "evidence item", kindSubmission: "submission"}

// checkStored checks w's references to other services' records in tx. It
// reads only their plaintext kind.
func checkStored(tx store.ReadTx, w *write) []error {
	var errs []error
	for _, r := range w.stored {
		rec, err := tx.Record(r.id, 0)
		switch {
		case errors.Is(err, vigil.ErrNotFound):
			errs = append(errs, &vigil.FieldError{Field: r.field, Problem: "no such " + storedNames[r.kind], Err: vigil.ErrInvalid})
		case err != nil:
			return []error{err}
		case rec.Kind != r.kind:
			errs = append(errs, &vigil.FieldError{Field: r.field, Problem: "not " + article(storedNames[r.kind]), Err: vigil.ErrInvalid})
		}
	}
	return errs
}

// visible reports whether p may see record id, looked up with look:
// incidents by their restriction, acts by their incident's, claims by
// their act's; other kinds are shared.
func visible(p vigil.Principal, id vigil.ID, look func(vigil.ID) (string, Doc, bool)) bool {
	for range 3 { // claim → act → incident
		kind, d, ok := look(id)
		if !ok {
			return false
		}
		switch kind {
		case KindIncident:
			return p.SeesIncident(d.(vigil.Incident).Restricted)
		case KindAct:
			id = d.(vigil.Act).Incident
		case KindClaim:
			id = d.(vigil.Claim).Act
		default:
			return true
		}
	}
	return false
}

// check checks every write of a batch against the model: updates name the
// latest version of a record p may see, keys are unique, references follow
// the kinds' rules. The first pass (final false) also completes the writes:
// it notes the version each update follows, keeps its key if none is given,
// and keeps a person's private fields from a writer who may not read them.
// The final pass, under writeMu, repeats the checks just before the
// transaction.
func (s *Service) check(ctx context.Context, p vigil.Principal, ws []*write, final bool) error {
	m, unlock, err := s.model(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	c := &checker{m: m, p: p, batch: make(map[vigil.ID]*write, len(ws))}
	for _, w := range ws {
		c.batch[w.ID] = w
	}
	keys := map[[2]string]vigil.ID{}
	for _, w := range ws {
		c.w = w
		kind := w.spec.kind.Name
		cur := m.meta[w.ID]
		switch {
		case w.create && cur != nil:
			return fmt.Errorf("%w: %s: record %s exists", vigil.ErrConflict, join(w.Path, "id"), w.ID)
		case w.create:
		case cur == nil || !m.visible(p, w.ID):
			return fmt.Errorf("%w: %s %s", vigil.ErrNotFound, kind, w.ID)
		case cur.kind != kind:
			c.add("kind", "not the kind of the record")
			continue
		case cur.version != w.Version:
			return fmt.Errorf("%w: %s %s: version %d is not the latest, %d is (someone else changed it; reload and edit again)",
				vigil.ErrConflict, kind, w.ID, w.Version, cur.version)
		case !final:
			w.prev = cur
			if w.Key == "" {
				w.Key = cur.key
			}
			if pd, ok := w.Doc.(vigil.Person); ok && !p.Can(vigil.ReadPrivate) {
				pd.Private = m.persons[w.ID].Private
				w.Doc = pd
			}
		}
		if w.Key != "" {
			k := [2]string{kind, w.Key}
			if id, ok := m.keys[k]; ok && id != w.ID {
				c.errs = append(c.errs, &vigil.FieldError{Field: join(w.Path, "key"), Problem: "names another record", Err: vigil.ErrConflict})
			} else if id, ok := keys[k]; ok && id != w.ID {
				c.errs = append(c.errs, &vigil.FieldError{Field: join(w.Path, "key"), Problem: "given twice in one batch", Err: vigil.ErrInvalid})
			}
			keys[k] = w.ID
		}
		w.stored = w.stored[:0]
		w.spec.check(c, w.ID, w.Doc)
	}
	return errors.Join(c.errs...)
}

// article returns noun with its indefinite article: "an act", "a place".
func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
