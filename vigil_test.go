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

// Every row is a question an auditor could ask: may this role do that?
func TestPrincipal(t *testing.T) {
	for _, c := range []struct {
		role vigil.Role
		can  []vigil.Action
	}{
		{vigil.RoleAdmin, []vigil.Action{vigil.ReadSubmissions, vigil.WriteSubmissions, vigil.ReadCases, vigil.WriteCases, vigil.ReadPrivate, vigil.Administer}},
		{vigil.RoleInvestigator, []vigil.Action{vigil.ReadSubmissions, vigil.WriteSubmissions, vigil.ReadCases, vigil.WriteCases, vigil.ReadPrivate}},
		{vigil.RoleAnalyst, []vigil.Action{vigil.ReadCases}},
		{vigil.RoleIntake, []vigil.Action{vigil.ReadSubmissions, vigil.WriteSubmissions}},
		{"", nil},
		{"root", nil},
	} {
		t.Run(string(c.role), func(t *testing.T) {
			p := vigil.Principal{Actor: "test", Account: "alice", Role: c.role}
			for _, a := range []vigil.Action{vigil.ReadSubmissions, vigil.WriteSubmissions, vigil.ReadCases, vigil.WriteCases, vigil.ReadPrivate, vigil.Administer} {
				want := false
				for _, x := range c.can {
					want = want || x == a
				}
				if got := p.Can(a); got != want {
					t.Errorf("%s may %s: %v, want %v", c.role, a, got, want)
				}
			}
			if c.role.Valid() != (c.can != nil) {
				t.Errorf("Valid() = %v", c.role.Valid())
			}
		})
	}
	for _, c := range []struct {
		name       string
		p          vigil.Principal
		restricted []string
		want       bool
	}{
		{"unrestricted", vigil.Principal{Account: "bob", Role: vigil.RoleAnalyst}, nil, true},
		{"named", vigil.Principal{Account: "bob", Role: vigil.RoleAnalyst}, []string{"alice", "bob"}, true},
		{"not named", vigil.Principal{Account: "carol", Role: vigil.RoleInvestigator}, []string{"alice", "bob"}, false},
		{"no account", vigil.Principal{Role: vigil.RoleInvestigator}, []string{""}, false},
		{"admin", vigil.Principal{Account: "root", Role: vigil.RoleAdmin}, []string{"alice"}, true},
	} {
		if got := c.p.SeesIncident(c.restricted); got != c.want {
			t.Errorf("%s: SeesIncident = %v, want %v", c.name, got, c.want)
		}
	}
}
