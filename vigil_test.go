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
