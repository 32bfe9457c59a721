package witness_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/witness"
)

// specRequest is the example add-checkpoint body of c2sp.org/tlog-witness.
const specRequest = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`

const specCheckpoint = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/behind-the-sofa x\n"

func TestParseAddCheckpoint(t *testing.T) {
	r, err := witness.ParseAddCheckpoint([]byte(specRequest))
	if err != nil {
		t.Fatalf("spec example: %v", err)
	}
	if r.OldSize != 20852014 || len(r.Proof) != 4 || !strings.HasPrefix(string(r.Checkpoint), "example.com/behind-the-sofa\n") {
		t.Fatalf("spec example parsed as %+v", r)
	}
	if got := r.Marshal(); string(got) != specRequest {
		t.Fatalf("Marshal = %q, want the input", got)
	}
	hash := "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
	for _, test := range []struct {
		name, body string
		ok         bool
	}{
		{"no proof", "old 0\n\n" + specCheckpoint, true},
		{"63 proof lines", "old 1\n" + strings.Repeat(hash, 63) + "\n" + specCheckpoint, true},
		{"64 proof lines", "old 1\n" + strings.Repeat(hash, 64) + "\n" + specCheckpoint, false},
		{"empty", "", false},
		{"no newline", "old 0", false},
		{"leading zero", "old 01\n\n" + specCheckpoint, false},
		{"negative", "old -1\n\n" + specCheckpoint, false},
		{"plus sign", "old +1\n\n" + specCheckpoint, false},
		{"overflow", "old 9223372036854775808\n\n" + specCheckpoint, false},
		{"max int64", "old 9223372036854775807\n\n" + specCheckpoint, true},
		{"two spaces", "old  1\n\n" + specCheckpoint, false},
		{"capital", "Old 1\n\n" + specCheckpoint, false},
		{"CRLF", "old 1\r\n\r\n" + specCheckpoint, false},
		{"unpadded hash", "old 1\n" + strings.TrimSuffix(hash, "=\n") + "\n\n" + specCheckpoint, false},
		{"non-canonical hash", "old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaz=\n\n" + specCheckpoint, false},
		{"url-safe hash", "old 1\n5-pKlUdi2LeF_BcMHBn-Ku6yhPGNCswZZD1X_6QgPd8=\n\n" + specCheckpoint, false},
		{"short hash", "old 1\nAAAA\n\n" + specCheckpoint, false},
		{"no empty line", "old 1\n" + hash + specCheckpoint, false},
		{"no checkpoint", "old 1\n\n", false},
		{"checkpoint without final newline", "old 1\n\n" + strings.TrimSuffix(specCheckpoint, "\n"), false},
		{"too large", "old 1\n\n" + strings.Repeat("x", witness.MaxRequestSize) + "\n", false},
	} {
		t.Run(test.name, func(t *testing.T) {
			r, err := witness.ParseAddCheckpoint([]byte(test.body))
			if test.ok != (err == nil) {
				t.Fatalf("ParseAddCheckpoint: err = %v, want ok = %v", err, test.ok)
			}
			if err != nil {
				if !errors.Is(err, witness.ErrMalformed) {
					t.Errorf("error %v does not wrap ErrMalformed", err)
				}
				return
			}
			if got := r.Marshal(); string(got) != test.body {
				t.Errorf("Marshal = %q, want the input", got)
			}
		})
	}
}

// FuzzParseAddCheckpoint checks that the parser never panics and that every
// accepted body has one encoding: Marshal gives back the input.
func FuzzParseAddCheckpoint(f *testing.F) {
	f.Add([]byte(specRequest))
	f.Add([]byte("old 0\n\n" + specCheckpoint))
	f.Add([]byte("old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\nx\n"))
	f.Add([]byte("old 01\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := witness.ParseAddCheckpoint(b)
		if err != nil {
			return
		}
		if len(r.Proof) > witness.MaxProofLines || r.OldSize < 0 {
			t.Fatalf("accepted %q as %+v", b, r)
		}
		if got := r.Marshal(); !bytes.Equal(got, b) {
			t.Fatalf("Marshal(Parse(%q)) = %q", b, got)
		}
	})
}
