package casefile_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/casefile"
)

// FuzzParse checks that Parse never panics, that it refuses with
// *Problems wrapping ErrInvalid, and that any file it accepts round-trips:
// written and parsed again it is the same file in key order, written
// again the same bytes, and resolved and written the same bytes too. The
// seeds are the doc example, the minimal file and hostile variants.
func FuzzParse(f *testing.F) {
	f.Add(docExample(f))
	f.Add([]byte(minimal))
	for _, s := range []string{
		`{"format": "vigil-case/1"}`,
		`{"format": "vigil-case/1", "places": [], "acts": []}`,
		with(`"credibility": 2`, `"credibility": "2"`),
		with(`"act": "act"`, `"act": "a-17"`),
		with(`"names": {"en": "Town"}`, `"names": {"en": "Town"}, "parent": "region"`, `"names": {"en": "Region"}`, `"names": {"en": "Region"}, "parent": "town"`),
		with(`"key": "ministry"`, `"key": "town"`),
		with(`"key": "act",`, `"key": "act", "key": "act2",`),
		with(`"title": "Wave"`, `"title": "Wave", "period": {"from": "2017-05", "to": "2017-04"}`),
		with(`"title": "Wave"`, `"title": "<script>alert(1)</script>\u2028\ud800"`),
		with(`"pseudonym": "A"`, "\"pseudonym\": \"A\xff\""),
		with(`"pseudonym": "A"`, `"pseudonym": "A", "private": {"names": [{"script": "Cyrl", "name": "Имя"}], "contacts": [{"kind": "x", "value": "y"}]}`),
		with(`"names": {"en": "Town"}`, `"names": {"en": "Town", "ru": "Город"}, "coordinates": {"lat": -0.5, "lon": 1e2}`),
		with(`"min": 1`, `"min": 3`),
		with(`"credibility": 2`, `"credibility": 2, "evidence": ["at5f1wgxp2pac9xk7wn4teccc0"], "date": "2017-02"`),
		with(`"format": "vigil-case/1",`, `"format": "vigil-case/1", "deep": `+strings.Repeat("[", 70)),
		minimal + " {}",
		`[`, `{`, `null`, `"x"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := casefile.Parse(bytes.NewReader(in), casefile.Options{MaxSize: 1 << 20})
		if err != nil {
			var probs *casefile.Problems
			if !errors.As(err, &probs) || !errors.Is(err, vigil.ErrInvalid) || len(probs.List) == 0 {
				t.Fatalf("Parse refused with %v; want *Problems wrapping ErrInvalid", err)
			}
			if file != nil {
				t.Fatal("Parse returned a file with its error")
			}
			return
		}
		checkRoundTrip(t, file)
	})
}
