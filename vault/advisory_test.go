package vault

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
)

// TestAdvisoryKey: a new vault has a publication key, distinct from the
// log key, that signs only while unsealed; the log signer's signatures do
// not verify under it.
func TestAdvisoryKey(t *testing.T) {
	v, _ := mustCreate(t)
	pub := v.Public()
	if pub.AdvisoryVKey == "" || pub.AdvisoryVKey == pub.LogVKey {
		t.Fatalf("advisory key %q (log key %q)", pub.AdvisoryVKey, pub.LogVKey)
	}
	s, err := v.AdvisorySigner()
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != AdvisoryKeyName(testOrigin) || s.Name() == v.LogVerifier().Name() {
		t.Fatalf("name %q", s.Name())
	}
	if _, err := note.Sign(&note.Note{Text: "x\n"}, s); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("sealed: %v", err)
	}
	mustUnseal(t, v)
	msg, err := note.Sign(&note.Note{Text: "warning\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v.AdvisoryVerifier())); err != nil {
		t.Fatal(err)
	}
	logSigned, _ := note.Sign(&note.Note{Text: "warning\n"}, v.LogSigner())
	if _, err := note.Open(logSigned, note.VerifierList(v.AdvisoryVerifier())); err == nil {
		t.Fatal("a log signature verified as an advisory")
	}
}

// TestAddAdvisoryKey: a key file written before publication keys existed
// (age identity and log key only) gets one; the other keys stay, a wrong
// passphrase changes nothing, and a second add is refused.
func TestAddAdvisoryKey(t *testing.T) {
	v, path := mustCreate(t)
	old := v.Public()
	// Rewrite the file in the old format: without the advisory-skey line.
	plain, err := decryptKeyFile(path, []byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(plain, []byte("advisory-skey "))
	oldPlain := append([]byte(nil), plain[:i]...)
	ct, err := encryptKeys(oldPlain, []byte(testPass), testWF)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, ct, 0o600)
	legacy := old
	legacy.AdvisoryVKey = ""
	lv, err := Open(path, legacy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lv.AdvisorySigner(); !errors.Is(err, ErrNoAdvisoryKey) {
		t.Fatalf("legacy vault signer: %v", err)
	}
	if err := lv.Unseal([]byte(testPass)); err != nil {
		t.Fatalf("legacy file: %v", err)
	}

	before, _ := os.ReadFile(path)
	if _, err := AddAdvisoryKey(path, []byte("wrong passphrase"), testOrigin, testWF); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a wrong passphrase changed the key file")
	}
	vkey, err := AddAdvisoryKey(path, []byte(testPass), testOrigin, testWF)
	if err != nil {
		t.Fatal(err)
	}
	withKey := old
	withKey.AdvisoryVKey = vkey
	nv, err := Open(path, withKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := nv.Unseal([]byte(testPass)); err != nil {
		t.Fatalf("unseal after add (log key and identity must be kept): %v", err)
	}
	s, _ := nv.AdvisorySigner()
	msg, err := note.Sign(&note.Note{Text: "x\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(nv.AdvisoryVerifier())); err != nil {
		t.Fatal(err)
	}
	if _, err := AddAdvisoryKey(path, []byte(testPass), testOrigin, testWF); !errors.Is(err, vigil.ErrConflict) {
		t.Fatalf("second add: %v", err)
	}
	// A configuration naming another advisory key is refused at unseal.
	other := withKey
	other.AdvisoryVKey = old.AdvisoryVKey
	ov, _ := Open(path, other)
	if err := ov.Unseal([]byte(testPass)); !errors.Is(err, vigil.ErrCorrupt) {
		t.Fatalf("mismatched advisory key: %v", err)
	}
}
