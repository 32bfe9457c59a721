package vault

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// TestDecryptAll: decryptAll opens what age encrypts, at every chunk
// boundary, and refuses what age's own reader refuses: a changed byte,
// truncation at a chunk boundary, a dropped or swapped chunk, trailing data.
func TestDecryptAll(t *testing.T) {
	id, err := GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	seal := func(plain []byte) []byte {
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, n := range []int{0, 1, 100, chunkSize - 1, chunkSize, chunkSize + 1, 2 * chunkSize, 3*chunkSize + 17} {
		plain := make([]byte, n)
		rand.Read(plain)
		ct := seal(plain)
		got, err := decryptAll(ct, id)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, plain) || cap(got) != n {
			t.Fatalf("%d bytes: got %d bytes (cap %d), not the plaintext", n, len(got), cap(got))
		}
		hdr, err := splitHeader(ct)
		if err != nil {
			t.Fatal(err)
		}
		body := hdr + payloadNonceSize
		bad := map[string][]byte{
			"flipped last byte": append(append([]byte{}, ct[:len(ct)-1]...), ct[len(ct)-1]^1),
			"flipped header":    append(append(append([]byte{}, ct[:hdr-3]...), ct[hdr-3]^1), ct[hdr-2:]...),
			"trailing byte":     append(append([]byte{}, ct...), 0),
			"no payload":        ct[:hdr],
		}
		if n > chunkSize {
			// Cut after the first full chunk: a valid-looking prefix whose
			// last chunk is not flagged last.
			bad["truncated at a chunk boundary"] = ct[:body+encChunkSize]
			if n >= 2*chunkSize+1 {
				swapped := append([]byte{}, ct...)
				copy(swapped[body:], ct[body+encChunkSize:body+2*encChunkSize])
				copy(swapped[body+encChunkSize:], ct[body:body+encChunkSize])
				bad["swapped chunks"] = swapped
			}
		}
		for name, c := range bad {
			if _, err := age.Decrypt(bytes.NewReader(c), id); err == nil {
				// age's reader may fail only on read: check both ways.
				r, _ := age.Decrypt(bytes.NewReader(c), id)
				if _, rerr := new(bytes.Buffer).ReadFrom(r); rerr == nil {
					t.Fatalf("%d bytes, %s: age itself accepts it: the case is wrong", n, name)
				}
			}
			if _, err := decryptAll(c, id); err == nil {
				t.Errorf("%d bytes, %s: accepted", n, name)
			}
		}
	}
}

// TestOpenFieldExactBuffer: OpenField returns the field in a buffer of
// exactly its size (one allocation for the plaintext, no growing copies).
func TestOpenFieldExactBuffer(t *testing.T) {
	v, _ := mustCreate(t)
	mustUnseal(t, v)
	l := Label{Kind: "test", Field: "body", Version: 1}
	want := bytes.Repeat([]byte("x"), 3*chunkSize+5)
	ct, err := v.SealField(l, want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.OpenField(l, ct)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || cap(got) != len(want) {
		t.Fatalf("got %d bytes, cap %d", len(got), cap(got))
	}
	v.Seal()
	if _, err := v.OpenField(l, ct); err == nil {
		t.Fatal("opened while sealed")
	}
}

// FuzzDecryptAll: on any input decryptAll never panics, and whatever it
// accepts age's own reader accepts with the same plaintext.
func FuzzDecryptAll(f *testing.F) {
	id, err := NewX25519Identity(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{0, 5, chunkSize + 3} {
		var buf bytes.Buffer
		w, _ := age.Encrypt(&buf, id.Recipient())
		w.Write(make([]byte, n))
		w.Close()
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, ct []byte) {
		got, err := decryptAll(ct, id)
		if err != nil {
			return
		}
		r, err := age.Decrypt(bytes.NewReader(ct), id)
		if err != nil {
			t.Fatalf("decryptAll accepted what age refuses: %v", err)
		}
		var want bytes.Buffer
		if _, err := want.ReadFrom(r); err != nil {
			t.Fatalf("decryptAll accepted what age's reader refuses: %v", err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatal("decryptAll and age disagree on the plaintext")
		}
	})
}

// TestDecryptAllEmptyLastChunk: a full chunk followed by an empty last
// chunk, correctly encrypted, is not age's encoding (a full last chunk is
// flagged last itself), and both age and decryptAll refuse it.
func TestDecryptAllEmptyLastChunk(t *testing.T) {
	id, err := GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, chunkSize)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ct := buf.Bytes()
	hdr, err := splitHeader(ct)
	if err != nil {
		t.Fatal(err)
	}
	fileKey, err := age.DecryptHeader(ct[:hdr], id)
	if err != nil {
		t.Fatal(err)
	}
	nonce := ct[hdr : hdr+payloadNonceSize]
	key, err := hkdf.Key(sha256.New, fileKey, nonce, "payload", chacha20poly1305.KeySize)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		t.Fatal(err)
	}
	var n0, n1 [chacha20poly1305.NonceSize]byte // chunk 0 not last; chunk 1 last
	n1[10], n1[11] = 1, 1
	forged := append(append([]byte{}, ct[:hdr+payloadNonceSize]...), aead.Seal(nil, n0[:], make([]byte, chunkSize), nil)...)
	forged = aead.Seal(forged, n1[:], nil, nil)
	r, err := age.Decrypt(bytes.NewReader(forged), id)
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil {
		t.Fatal("age accepts the forged encoding: the case is wrong")
	}
	if _, err := decryptAll(forged, id); err == nil {
		t.Error("decryptAll accepts a full chunk followed by an empty last chunk")
	}
}
