package cases

import (
	"sync"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/vocab"
)

// ActKind declares acts: logged, each version a leaf.
//
// An act's incident must be an incident the writer may see, its type a code
// of the act-type vocabulary (package vocab), its place a place, its victim
// persons persons and its perpetrators parties.
var ActKind = record.Kind{Name: KindAct, Logged: true}

var actSpec = spec{
	kind:   ActKind,
	decode: decodeAs[vigil.Act],
	check: func(c *checker, _ vigil.ID, d Doc) {
		v := d.(vigil.Act)
		if !actTypes()[v.Type] {
			c.add("type", "not a known act type")
		}
		c.ref("incident", v.Incident, KindIncident)
		c.ref("place", v.Place, KindPlace)
		c.refs("victim_persons", v.VictimPersons, KindPerson)
		c.refs("perpetrators", v.Perpetrators, KindParty)
	},
}

// actTypes is the set of known act-type codes (vocab.ActType copies the
// whole vocabulary on every call, too slow for an import of many acts).
var actTypes = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, a := range vocab.ActTypes() {
		m[a.Code] = true
	}
	return m
})
