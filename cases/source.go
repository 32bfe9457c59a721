package cases

import (
	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/record"
)

// SourceKind declares sources: logged, each version a leaf. A source's
// party must be a party.
var SourceKind = record.Kind{Name: KindSource, Logged: true}

var sourceSpec = spec{
	kind:   SourceKind,
	decode: decodeAs[vigil.Source],
	check: func(c *checker, _ vigil.ID, d Doc) {
		c.ref("party", d.(vigil.Source).Party, KindParty)
	},
}
