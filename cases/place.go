package cases

import (
	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/record"
)

// PlaceKind declares places: logged, each version a leaf. A place's parent
// must be a place, and parents make no cycle (a place is not its own
// ancestor, nor its own parent).
var PlaceKind = record.Kind{Name: KindPlace, Logged: true}

var placeSpec = spec{
	kind:   PlaceKind,
	decode: decodeAs[vigil.Place],
	check: func(c *checker, id vigil.ID, d Doc) {
		v := d.(vigil.Place)
		if c.ref("parent", v.Parent, KindPlace) {
			c.acyclic("parent", id)
		}
	},
}
