package account

import "testing"

// BenchmarkLoginKDF times one login key derivation with
// DefaultLoginParams: the cost of every sign-in and of every guess at a
// seized login box. BenchmarkNameKDF is the per-attempt name lookup, the
// cost of each guessed name on a seized disk.
func BenchmarkLoginKDF(b *testing.B) {
	salt := make([]byte, 16)
	for b.Loop() {
		deriveKey([]byte("correct horse battery staple"), salt, DefaultLoginParams)
	}
}

func BenchmarkNameKDF(b *testing.B) {
	salt := make([]byte, 32)
	for b.Loop() {
		nameKey(salt, DefaultNameParams, "Marina Petrova")
	}
}
