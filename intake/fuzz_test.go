package intake_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/intake"
)

// FuzzParseReceipt checks that whatever a person types, ParseReceipt never
// panics, and that what it accepts is exactly 28 digits in canonical groups,
// a fixed point of ParseReceipt.
func FuzzParseReceipt(f *testing.F) {
	f.Add(string(intake.NewReceipt()))
	f.Add("0834-6193-1106-0915-1868-8376-7915")
	f.Add("0834619311060915186883767915")
	f.Add("٠١٢٣ 4567 8901 2345 6789 0123 4567")
	f.Add("1234")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := intake.ParseReceipt(s)
		if err != nil {
			return
		}
		digits := strings.ReplaceAll(string(r), " ", "")
		if len(digits) != 28 || strings.Trim(digits, "0123456789") != "" || len(r) != 34 {
			t.Fatalf("ParseReceipt(%q) = %q", s, r)
		}
		if again, err := intake.ParseReceipt(string(r)); err != nil || !bytes.Equal(again, r) {
			t.Fatalf("not a fixed point: %q -> %q, %v", r, again, err)
		}
	})
}
