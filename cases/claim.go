package cases

import (
	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/record"
)

// ClaimKind declares claims: logged, each version a leaf.
//
// A claim's act must be an act the writer may see and its source a source.
// Its evidence must be evidence items and its submissions submissions:
// records other services keep, so they are checked in the store, in the
// write's transaction, by kind alone (their sealed bodies are not read).
var ClaimKind = record.Kind{Name: KindClaim, Logged: true}

var claimSpec = spec{
	kind:   ClaimKind,
	decode: decodeAs[vigil.Claim],
	check: func(c *checker, _ vigil.ID, d Doc) {
		v := d.(vigil.Claim)
		c.ref("act", v.Act, KindAct)
		c.ref("source", v.Source, KindSource)
		c.stored("evidence", v.Evidence, kindItem)
		c.stored("submissions", v.Submissions, kindSubmission)
	},
}
