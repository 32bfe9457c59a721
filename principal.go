package vigil

import "slices"

// A Role says what a principal may do.
type Role string

// Roles. An admin may do everything; an investigator documents cases (reads
// and writes every case record, reads submissions and people's private
// fields); an analyst reads case records, corroboration and figures but not
// people's private fields and writes nothing; intake staff triage and
// answer submissions and see no case records.
const (
	RoleAdmin        Role = "admin"
	RoleInvestigator Role = "investigator"
	RoleAnalyst      Role = "analyst"
	RoleIntake       Role = "intake"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleInvestigator, RoleAnalyst, RoleIntake:
		return true
	}
	return false
}

// A Principal is who acts in a service call: every service method that
// reads or changes records takes one, checks it ([Principal.Can],
// [Principal.SeesIncident]) and names it in the audit event it writes in the
// same transaction as the change. Handlers build it from a token or a
// session; they do not decide what it may do.
type Principal struct {
	// Actor names the principal in audit events, e.g. "token:ID/NAME" or
	// "cli" (the admin at the command line, who holds the passphrase).
	Actor string
	// Account is the account or token name that incidents' restriction
	// lists name.
	Account string
	Role    Role
}

// An Action is something a role may be allowed to do.
type Action string

// Actions checked by the services.
const (
	ReadSubmissions  Action = "read_submissions"  // the intake inbox, threads, files
	WriteSubmissions Action = "write_submissions" // replies, triage
	ReadCases        Action = "read_cases"        // case records, corroboration, figures
	WriteCases       Action = "write_cases"       // create and change case records, import
	ReadPrivate      Action = "read_private"      // people's real names, identifiers, contacts
	Administer       Action = "administer"        // tokens, accounts, keys
)

var grants = map[Role][]Action{
	RoleAdmin:        {ReadSubmissions, WriteSubmissions, ReadCases, WriteCases, ReadPrivate, Administer},
	RoleInvestigator: {ReadSubmissions, WriteSubmissions, ReadCases, WriteCases, ReadPrivate},
	RoleAnalyst:      {ReadCases},
	RoleIntake:       {ReadSubmissions, WriteSubmissions},
}

// Can reports whether the principal's role allows a.
func (p Principal) Can(a Action) bool { return slices.Contains(grants[p.Role], a) }

// SeesIncident reports whether the principal may see an incident restricted
// to the given accounts (none: not restricted). Admins see every incident;
// anyone else sees a restricted one only if it names their account.
func (p Principal) SeesIncident(restricted []string) bool {
	if len(restricted) == 0 || p.Role == RoleAdmin {
		return true
	}
	return p.Account != "" && slices.Contains(restricted, p.Account)
}
