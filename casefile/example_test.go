package casefile_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/casefile"
)

// Parse reports every problem of a file at once, each with its JSON path.
func ExampleParse() {
	in := `{
	  "format": "vigil-case/1",
	  "sources": [{"key": "hotline", "name": "NGO hotline", "type": "ngo", "reliability": "G"}],
	  "incidents": [{"key": "wave", "title": "Wave of detentions"}],
	  "acts": [{"key": "a-1", "incident": "wave", "type": "arbitrary_detention", "victims": {"min": 40, "max": 12}}],
	  "claims": [{"key": "c-1", "act": "a-17", "source": "hotline", "stance": "affirms", "credibility": 2, "note": "x"}]
	}`
	_, err := casefile.Parse(strings.NewReader(in), casefile.Options{})
	var probs *casefile.Problems
	if errors.As(err, &probs) {
		for _, p := range probs.List {
			fmt.Println(p)
		}
	}
	fmt.Println(errors.Is(err, vigil.ErrInvalid))
	// Output:
	// $.claims[0].note: unknown member
	// $.sources[0].reliability: not one of A to F
	// $.acts[0].victims.min: greater than max
	// $.claims[0].act: no act with key "a-17"
	// true
}

// Resolve gives the records in dependency order with the importer's IDs.
func ExampleResolve() {
	in := `{"format": "vigil-case/1",
	  "parties": [{"key": "police", "name": "District police", "parent": "ministry"},
	              {"key": "ministry", "name": "Interior Ministry"}]}`
	f, err := casefile.Parse(strings.NewReader(in), casefile.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := map[string]vigil.ID{"ministry": {1}, "police": {2}}
	entries, err := casefile.Resolve(f, func(key string) vigil.ID { return ids[key] })
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		p := e.Doc.(vigil.Party)
		fmt.Println(e.Kind, e.Key, p.Parent == ids["ministry"])
	}
	// Output:
	// party ministry false
	// party police true
}
