package cases

import (
	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/record"
)

// PersonKind declares persons: logged, each version a leaf. A person refers
// to no other record. Its Private part is returned only to principals that
// may read private fields (vigil.ReadPrivate); a writer who may not read
// them keeps the stored Private part unchanged.
var PersonKind = record.Kind{Name: KindPerson, Logged: true}

var personSpec = spec{
	kind:   PersonKind,
	decode: decodeAs[vigil.Person],
	check:  func(*checker, vigil.ID, Doc) {},
}
