// Package audit records who did what to which record, as a logged record
// of its own: every service that changes records seals an audit event with
// [Prepare] before its transaction and Puts it in the same transaction as
// the change, so a change is never stored without its audit event, nor an
// audit event without its change.
//
// # Format
//
// An audit event is a record of kind "audit" (see [Kind]) whose document is
// [Event]: {"actor", "action", "target", "time"}, the format intake wrote
// before this package existed, so older events stay readable. The exact
// time (to the second), the actor and the target are sealed; the record's
// plaintext time is coarse (the intake precision), so the order of leaves
// cannot bracket a source's arrival between two staff actions, and the
// record has no lookup key: nothing on disk ties an event to its target.
package audit

import (
	"fmt"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Kind declares audit events: logged, one version each.
var Kind = record.Kind{Name: "audit", Logged: true}

// An Event is the sealed document of an audit event.
type Event struct {
	// Actor is the principal's actor name, e.g. "token:ID/NAME" or "cli".
	Actor string `json:"actor"`
	// Action says what was done, e.g. "create:act", "update:claim", "read".
	Action string `json:"action"`
	// Target is the ID of the record acted on; empty for none.
	Target string    `json:"target,omitempty"`
	Time   time.Time `json:"time"`
}

// Prepare seals an audit event saying that p did action to target (zero
// for none) at now, ready for [record.Prepared.Put] in the transaction of
// the change it records. The event's exact time is sealed to the second;
// its plaintext time is now truncated to precision (one hour if precision
// is not positive). It does no I/O and works while the vault is sealed.
func Prepare(v *vault.Vault, p vigil.Principal, action string, target vigil.ID, now time.Time, precision time.Duration) (*record.Prepared, error) {
	if action == "" {
		return nil, fmt.Errorf("%w: audit event without an action", vigil.ErrInvalid)
	}
	if precision <= 0 {
		precision = time.Hour
	}
	now = now.UTC()
	ev := Event{Actor: p.Actor, Action: action, Time: now.Truncate(time.Second)}
	if !target.IsZero() {
		ev.Target = target.String()
	}
	id := vigil.NewID()
	prep, err := Kind.Seal(v, record.Version{ID: id, Version: 1, Time: ev.Time,
		Created: now.Truncate(precision), Author: p.Actor, Prev: -1}, ev)
	if err == nil {
		note(v, id, ev)
	}
	return prep, err
}

// Decode opens a stored audit record into its event.
func Decode(open record.Opener, r store.Record) (Event, error) {
	var ev Event
	_, err := Kind.Decode(open, r, &ev)
	return ev, err
}
