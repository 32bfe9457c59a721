package vocab_test

import (
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/vocab"
)

// TestLabels checks the shipped vocabulary: every type has a label in every
// language, codes are unique and valid as an Act's type, and the types the
// design names are all there.
func TestLabels(t *testing.T) {
	langs := vocab.Languages()
	if len(langs) < 2 || langs[0] != "en" {
		t.Fatalf("languages %v: want en first, then at least one more", langs)
	}
	seen := map[string]bool{}
	for _, a := range vocab.ActTypes() {
		t.Run(a.Code, func(t *testing.T) {
			if seen[a.Code] {
				t.Errorf("code listed twice")
			}
			seen[a.Code] = true
			for _, l := range langs {
				if a.Labels[l] == "" {
					t.Errorf("no %s label", l)
				}
			}
			if len(a.Labels) != len(langs) {
				t.Errorf("%d labels for %d languages", len(a.Labels), len(langs))
			}
			act := vigil.Act{Incident: vigil.NewID(), Type: a.Code}
			if err := act.Validate(); err != nil {
				t.Errorf("not valid as an act type: %v", err)
			}
		})
	}
	for _, code := range []string{
		"arbitrary_detention", "torture", "killing", "enforced_disappearance", "threat",
		"document_confiscation", "forced_outing", "sexual_violence", "threats_to_family",
		"extortion", "incitement_by_officials", "ill_treatment",
	} {
		if !seen[code] {
			t.Errorf("%s missing", code)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, test := range []struct {
		desc, code, lang, want string
		ok                     bool
	}{
		{"known type, English", "arbitrary_detention", "en", "Arbitrary detention", true},
		{"known type, Russian", "arbitrary_detention", "ru", "Произвольное задержание", true},
		{"unknown language falls back to English", "torture", "ce", "Torture", true},
		{"unknown type", "parking_offence", "en", "", false},
		{"codes are case-sensitive", "Torture", "en", "", false},
		{"empty code", "", "en", "", false},
	} {
		t.Run(test.desc, func(t *testing.T) {
			a, ok := vocab.ActType(test.code)
			if ok != test.ok || a.Label(test.lang) != test.want {
				t.Errorf("ActType(%q).Label(%q) = %q, %v; want %q, %v", test.code, test.lang, a.Label(test.lang), ok, test.want, test.ok)
			}
		})
	}
	// Callers may not change the shipped vocabulary.
	all := vocab.ActTypes()
	all[0].Labels["en"] = "changed"
	if a, _ := vocab.ActType(all[0].Code); a.Labels["en"] == "changed" {
		t.Error("ActTypes shares its maps with the vocabulary")
	}
}
