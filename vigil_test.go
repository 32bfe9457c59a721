package vigil_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
)

func TestIDForms(t *testing.T) {
	id := vigil.NewID()
	s := id.String()
	if len(s) != 26 {
		t.Fatalf("%q: %d characters", s, len(s))
	}
	back, err := vigil.ParseID(s)
	if err != nil || back != id {
		t.Fatalf("ParseID(%q) = %v, %v", s, back, err)
	}
	b, err := json.Marshal(struct{ ID vigil.ID }{id})
	if err != nil || string(b) != `{"ID":"`+s+`"}` {
		t.Fatalf("JSON %s, %v", b, err)
	}
	var v struct{ ID vigil.ID }
	if err := json.Unmarshal(b, &v); err != nil || v.ID != id {
		t.Fatalf("unmarshal: %v %v", v.ID, err)
	}
	for _, bad := range []string{"", "abc", s + "0", s[:25] + "!", s[:25] + "u"} {
		if _, err := vigil.ParseID(bad); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("ParseID(%q): %v", bad, err)
		}
	}
	// The last character carries 3 bits; other trailing bits must be zero.
	last := s[:25] + string("0123456789abcdefghjkmnpqrstvwxyz"[(strings.IndexByte("0123456789abcdefghjkmnpqrstvwxyz", s[25])^1)])
	if _, err := vigil.ParseID(last); err == nil {
		t.Errorf("non-canonical %q accepted for %q", last, s)
	}
	if err := json.Unmarshal([]byte(`{"ID":[1,2]}`), &v); err == nil {
		t.Error("array accepted as ID")
	}
}

// FuzzParseID checks that ParseID never panics, accepts only the canonical
// form (what it accepts prints back as itself, lower-cased), and that every
// ID's canonical form parses back to it.
func FuzzParseID(f *testing.F) {
	f.Add(vigil.NewID().String())
	f.Add(vigil.ID{}.String())
	f.Add("0000000000000000000000000z")
	f.Add("ZZZZZZZZZZZZZZZZZZZZZZZZZZ")
	f.Add("")
	f.Add("iloiloiloiloiloiloiloilo01")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := vigil.ParseID(s)
		if err != nil {
			if !errors.Is(err, vigil.ErrInvalid) {
				t.Fatalf("ParseID(%q): %v does not wrap ErrInvalid", s, err)
			}
			if !id.IsZero() {
				t.Fatalf("ParseID(%q) failed but returned %v", s, id)
			}
			return
		}
		if id.String() != strings.ToLower(s) {
			t.Fatalf("ParseID(%q) = %s: not canonical", s, id)
		}
		var raw vigil.ID
		copy(raw[:], s)
		back, err := vigil.ParseID(raw.String())
		if err != nil || back != raw {
			t.Fatalf("ParseID(%s) = %v, %v", raw, back, err)
		}
	})
}
