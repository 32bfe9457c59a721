package cases

import (
	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/record"
)

// IncidentKind declares incidents: logged, each version a leaf.
//
// An incident's place must be a place. Its restriction, if any, must name
// the writer's account (unless the writer is an admin): nobody restricts an
// incident away from themselves by mistake.
var IncidentKind = record.Kind{Name: KindIncident, Logged: true}

var incidentSpec = spec{
	kind:   IncidentKind,
	decode: decodeAs[vigil.Incident],
	check: func(c *checker, _ vigil.ID, d Doc) {
		v := d.(vigil.Incident)
		c.ref("place", v.Place, KindPlace)
		if !c.p.SeesIncident(v.Restricted) {
			c.add("restricted", "does not name your account")
		}
	},
}
