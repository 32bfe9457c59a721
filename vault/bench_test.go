package vault_test

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hr/vigil/vault"
)

// BenchmarkOpenField opens a small field with the vault (whose key
// operations run on its key threads) and, as the baseline in the same
// process, decrypts the same ciphertext with stock age's identity for the
// same key.
func BenchmarkOpenField(b *testing.B) {
	path := filepath.Join(b.TempDir(), "keys.age")
	pub, err := vault.Create(path, []byte("pass"), "example.org/log", 10)
	if err != nil {
		b.Fatal(err)
	}
	v, err := vault.Open(path, pub)
	if err != nil {
		b.Fatal(err)
	}
	if err := v.Unseal([]byte("pass")); err != nil {
		b.Fatal(err)
	}
	defer v.Seal()
	stock, err := age.ParseX25519Identity(keyFileLine(b, path, "pass", "age-identity "))
	if err != nil {
		b.Fatal(err)
	}
	l := vault.Label{Kind: "act", Field: "doc", Version: 1}
	ct, err := v.SealField(l, bytes.Repeat([]byte("x"), 300))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("vault", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.OpenField(l, ct); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("stock-age", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r, err := age.Decrypt(bytes.NewReader(ct), stock)
				if err == nil {
					_, err = io.ReadAll(r)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
