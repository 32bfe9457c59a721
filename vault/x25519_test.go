package vault_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/vault"
)

// TestX25519Identity checks the wipeable identity against filippo.io/age in
// both directions: files age encrypts to an age identity's recipient open
// with ours parsed from the same key, files age encrypts to our recipient
// open with age's identity, and the encodings and public points agree.
func TestX25519Identity(t *testing.T) {
	for range 20 {
		ref, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		id, err := vault.ParseX25519Identity([]byte(ref.String()))
		if err != nil {
			t.Fatalf("parse %s...: %v", ref.String()[:20], err)
		}
		if got, want := id.RecipientString(), ref.Recipient().String(); got != want {
			t.Fatalf("recipient %s, age says %s", got, want)
		}
		if got := string(id.AppendEncode(nil)); got != ref.String() {
			t.Fatalf("encoding differs from age's")
		}
		lower, err := vault.ParseX25519Identity([]byte(strings.ToLower(ref.String())))
		if err != nil || lower.RecipientString() != id.RecipientString() {
			t.Fatalf("lower-case identity: %v", err)
		}

		// age encrypts (to two recipients, ours second), we decrypt.
		other, _ := age.GenerateX25519Identity()
		ct := ageEncrypt(t, "to age's recipient", other.Recipient(), ref.Recipient())
		if got := ageDecrypt(t, ct, id); got != "to age's recipient" {
			t.Fatalf("decrypted %q", got)
		}
		// We give the recipient, age decrypts with its identity.
		ct = ageEncrypt(t, "to our recipient", id.Recipient())
		if got := ageDecrypt(t, ct, ref); got != "to our recipient" {
			t.Fatalf("decrypted %q", got)
		}
		// Not ours: age's no-match error, not another one.
		ct = ageEncrypt(t, "x", other.Recipient())
		var noMatch *age.NoIdentityMatchError
		if _, err := age.Decrypt(bytes.NewReader(ct), id); !errors.As(err, &noMatch) {
			t.Fatalf("decrypt a file for another identity: %v", err)
		}
	}
}

// TestX25519Scalars checks the Montgomery ladder against
// golang.org/x/crypto/curve25519 (crypto/ecdh) on random scalars, and RFC
// the age library's encoding.
func TestX25519Scalars(t *testing.T) {
	for range 200 {
		var s [32]byte
		rand.Read(s[:])
		id, err := vault.NewX25519Identity(s[:])
		if err != nil {
			t.Fatal(err)
		}
		pub, err := curve25519.X25519(s[:], curve25519.Basepoint)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := age.ParseX25519Identity(string(id.AppendEncode(nil)))
		if err != nil {
			t.Fatal(err)
		}
		if id.RecipientString() != ref.Recipient().String() {
			t.Fatalf("scalar %x: public point differs from age's", s)
		}
		if !bytes.Equal(pub, ageRecipientPoint(t, id.RecipientString())) {
			t.Fatalf("scalar %x: public point differs from crypto/ecdh's", s)
		}
	}
	if _, err := vault.NewX25519Identity(make([]byte, 31)); err == nil {
		t.Error("a 31-byte scalar was accepted")
	}
	for _, bad := range []string{"", "AGE-SECRET-KEY-1", "age1qqqq", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"} {
		if _, err := vault.ParseX25519Identity([]byte(bad)); err == nil {
			t.Errorf("ParseX25519Identity(%q) succeeded", bad)
		}
	}
	// A flipped character breaks the checksum.
	ref, _ := age.GenerateX25519Identity()
	b := []byte(ref.String())
	b[20] ^= 'Q' ^ 'P'
	if _, err := vault.ParseX25519Identity(b); err == nil {
		t.Error("an identity with a bad checksum was accepted")
	}
}

// TestX25519Wipe checks that a wiped identity opens nothing and keeps its
// recipient.
func TestX25519Wipe(t *testing.T) {
	id, err := vault.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	r := id.RecipientString()
	ct := ageEncrypt(t, "x", id.Recipient())
	if got := ageDecrypt(t, ct, id); got != "x" {
		t.Fatalf("decrypted %q", got)
	}
	id.Wipe()
	id.Wipe()
	if _, err := age.Decrypt(bytes.NewReader(ct), id); !errors.Is(err, vault.ErrWiped) {
		t.Errorf("decrypt after Wipe: %v, want ErrWiped", err)
	}
	if id.RecipientString() != r {
		t.Error("Wipe changed the recipient")
	}
	if b := id.AppendEncode(nil); len(b) != 0 {
		t.Errorf("a wiped identity encodes as %q", b)
	}
}

// TestLogSignerMatchesNote checks the vault's signer against the signed-note
// library's own signer made from the key file's signer key: same name, same
// key hash (the first four bytes of SHA-256(name || 0x0A || 0x01 || public
// key), c2sp.org/signed-note) and byte-identical signed notes (Ed25519 is
// deterministic).
func TestLogSignerMatchesNote(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/keys.age"
	pub, err := vault.Create(path, []byte("pass"), "example.org/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(path, pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unseal([]byte("pass")); err != nil {
		t.Fatal(err)
	}
	skey := keyFileLine(t, path, "pass", "log-skey ")
	ref, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	s := v.LogSigner()
	if s.Name() != ref.Name() || s.KeyHash() != ref.KeyHash() {
		t.Errorf("signer %s/%08x, note.NewSigner %s/%08x", s.Name(), s.KeyHash(), ref.Name(), ref.KeyHash())
	}
	vk, err := note.NewVerifier(pub.LogVKey)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(append(append([]byte(vk.Name()), '\n', 1), rawVKey(t, pub.LogVKey)...))
	if want := binary.BigEndian.Uint32(h[:4]); s.KeyHash() != want {
		t.Errorf("key hash %08x, the spec's formula gives %08x", s.KeyHash(), want)
	}
	n := &note.Note{Text: "example.org/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}
	got, err := note.Sign(n, s)
	if err != nil {
		t.Fatal(err)
	}
	want, err := note.Sign(n, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("signed notes differ:\n%s\n%s", got, want)
	}
	if _, err := note.Open(got, note.VerifierList(vk)); err != nil {
		t.Errorf("note.Open: %v", err)
	}
}

func rawVKey(t *testing.T, vkey string) []byte {
	t.Helper()
	parts := strings.SplitN(vkey, "+", 3) // the base64 may hold '+'
	b, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(b) != 33 || b[0] != 1 {
		t.Fatalf("vkey %q: %v", vkey, err)
	}
	return b[1:]
}

// keyFileLine decrypts the key file with stock age and returns the value of
// the line starting with prefix.
func keyFileLine(t *testing.T, path, pass, prefix string) string {
	t.Helper()
	f, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.NewScryptIdentity(pass)
	plain := ageDecrypt(t, f, id)
	for line := range strings.Lines(plain) {
		if v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), prefix); ok {
			return v
		}
	}
	t.Fatalf("no %q line in the key file", prefix)
	return ""
}

func ageEncrypt(t *testing.T, text string, rs ...age.Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, text)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ageDecrypt(t *testing.T, ct []byte, id age.Identity) string {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(ct), id)
	if err != nil {
		t.Fatalf("age.Decrypt: %v", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ageRecipientPoint decodes an "age1..." recipient's point.
func ageRecipientPoint(t *testing.T, r string) []byte {
	t.Helper()
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	var out []byte
	acc, bits := 0, 0
	for _, c := range r[len("age1") : len(r)-6] {
		acc = acc<<5 | strings.IndexRune(charset, c)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out
}
