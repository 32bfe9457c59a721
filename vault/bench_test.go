package vault

import (
	"bytes"
	"io"
	"testing"

	"filippo.io/age"
)

// BenchmarkOpenField opens a small field with the vault and, as the
// baseline in the same process, decrypts the same ciphertext with stock
// age's identity for the same key (as WriteIdentity exports it).
func BenchmarkOpenField(b *testing.B) {
	v, _ := mustCreate(b)
	mustUnseal(b, v)
	defer v.Seal()
	var id bytes.Buffer
	if err := v.WriteIdentity(&id); err != nil {
		b.Fatal(err)
	}
	ids, err := age.ParseIdentities(&id)
	if err != nil || len(ids) != 1 {
		b.Fatalf("the exported identity: %d, %v", len(ids), err)
	}
	stock := ids[0]
	l := Label{Kind: "act", Field: "doc", Version: 1}
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
