package bech32_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hr/vigil/internal/bech32"
)

// TestVectors runs BIP 173's valid and invalid test vectors that fit the
// package (it decodes under an expected human-readable part).
func TestVectors(t *testing.T) {
	for _, v := range []struct {
		s, hrp, data string
	}{
		{"A12UEL5L", "a", ""},
		{"a12uel5l", "a", ""},
		{"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "abcdef", "00443214c74254b635cf84653a56d7c675be77df"},
	} {
		t.Run(v.s, func(t *testing.T) {
			got, err := bech32.Decode([]byte(v.s), v.hrp)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != v.data {
				t.Errorf("data %x, want %s", got, v.data)
			}
			want, _ := hex.DecodeString(v.data)
			up := strings.ToUpper(v.s) == v.s
			if enc := bech32.AppendEncode(nil, v.hrp, want, up); string(enc) != v.s {
				t.Errorf("encode: %s, want %s", enc, v.s)
			}
		})
	}
	for _, s := range []string{
		"A1G7SGD8",   // checksum over the upper-case hrp
		"a12UEL5L",   // mixed case
		"a12uel5m",   // bad checksum
		"a12ue l5l",  // space
		"a12uel5",    // too short
		"b12uel5l",   // other hrp
		"a1b2uel5l",  // 'b' is not in the charset
		"a12uel5l\n", // control character
	} {
		if _, err := bech32.Decode([]byte(s), "a"); err == nil {
			t.Errorf("Decode(%q) succeeded", s)
		}
	}
}

// TestAgeKeys round-trips age's own keys through the package.
func TestAgeKeys(t *testing.T) {
	for range 20 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		sk, err := bech32.Decode([]byte(id.String()), "AGE-SECRET-KEY-")
		if err != nil || len(sk) != 32 {
			t.Fatalf("decode %d bytes: %v", len(sk), err)
		}
		if got := bech32.AppendEncode(nil, "AGE-SECRET-KEY-", sk, true); !bytes.Equal(got, []byte(id.String())) {
			t.Fatal("re-encoded identity differs")
		}
		r := id.Recipient().String()
		pk, err := bech32.Decode([]byte(r), "age")
		if err != nil {
			t.Fatal(err)
		}
		if got := bech32.AppendEncode(nil, "age", pk, false); string(got) != r {
			t.Fatalf("re-encoded recipient %s, want %s", got, r)
		}
	}
}
