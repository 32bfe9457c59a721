package cases

import (
	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/record"
)

// PartyKind declares parties: logged, each version a leaf. A party's parent
// must be a party, and parents make no cycle.
var PartyKind = record.Kind{Name: KindParty, Logged: true}

var partySpec = spec{
	kind:   PartyKind,
	decode: decodeAs[vigil.Party],
	check: func(c *checker, id vigil.ID, d Doc) {
		v := d.(vigil.Party)
		if c.ref("parent", v.Parent, KindParty) {
			c.acyclic("parent", id)
		}
	},
}
