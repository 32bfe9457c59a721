// Package vocab holds vigil's controlled vocabularies, shipped as data.
//
// Use [ActType] to check an act's type and label it, and [ActTypes] to list
// the types in their documented order:
//
//	t, ok := vocab.ActType(act.Type)
//	if !ok { /* unknown type: refuse the record */ }
//	label := t.Label("ru")
//
// # Adding a language or a type
//
// The vocabulary is act_types.json, embedded at build time. To add a
// language, add its tag to "languages" and a label in that language to
// every type; TestLabels fails until every type has one. Codes are stored in
// records, so a code is never renamed or removed, only added.
package vocab

import (
	_ "embed"
	"encoding/json"
	"sync"
)

//go:embed act_types.json
var actTypesJSON []byte

// An Act is one act type: its stored code and its labels.
type Act struct {
	// Code is what records store, e.g. "arbitrary_detention".
	Code string `json:"code"`
	// Labels maps a language tag ("en", "ru") to the label shown.
	Labels map[string]string `json:"labels"`
}

// Label returns the label in lang, or the English one if lang has none.
func (a Act) Label(lang string) string {
	if l, ok := a.Labels[lang]; ok {
		return l
	}
	return a.Labels["en"]
}

type actFile struct {
	Languages []string `json:"languages"`
	ActTypes  []Act    `json:"act_types"`
}

// load parses the embedded file once. A malformed file is a build defect
// that TestLabels catches, so it panics rather than returning an error to
// every caller.
var load = sync.OnceValue(func() actFile {
	var f actFile
	if err := json.Unmarshal(actTypesJSON, &f); err != nil {
		panic("vocab: act_types.json: " + err.Error())
	}
	return f
})

// Languages returns the language tags every label is given in, English first.
func Languages() []string { return append([]string(nil), load().Languages...) }

// ActTypes returns every act type in the documented order. The caller may
// modify the result.
func ActTypes() []Act {
	src := load().ActTypes
	out := make([]Act, len(src))
	for i, a := range src {
		labels := make(map[string]string, len(a.Labels))
		for k, v := range a.Labels {
			labels[k] = v
		}
		out[i] = Act{Code: a.Code, Labels: labels}
	}
	return out
}

// ActType returns the act type with the given code, and whether it exists.
func ActType(code string) (Act, bool) {
	for _, a := range ActTypes() {
		if a.Code == code {
			return a, true
		}
	}
	return Act{}, false
}
