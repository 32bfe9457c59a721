package vault

// These tests are in package vault so that one of them can check that Seal
// zeroes the key buffers; the others use only the exported API.

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
)

const (
	testPass   = "correct horse battery staple"
	testOrigin = "vigil.test/log"
	testWF     = 10 // fast scrypt for tests
)

// mustCreate creates a key file in a temp dir and opens a sealed vault on it.
func mustCreate(t testing.TB) (*Vault, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.age")
	pub, err := Create(path, []byte(testPass), testOrigin, testWF)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	v, err := Open(path, pub)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return v, path
}

func mustUnseal(t testing.TB, v *Vault) {
	t.Helper()
	if err := v.Unseal([]byte(testPass)); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
}

func encrypt(t *testing.T, v *Vault, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := v.Encrypt(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCreatePublicKeys(t *testing.T) {
	v, path := mustCreate(t)
	pub := v.Public()
	if _, err := age.ParseX25519Recipient(pub.Recipient); err != nil {
		t.Errorf("recipient %q: %v", pub.Recipient, err)
	}
	vk, err := note.NewVerifier(pub.LogVKey)
	if err != nil {
		t.Fatalf("log vkey %q: %v", pub.LogVKey, err)
	}
	if vk.Name() != testOrigin {
		t.Errorf("log key name = %q, want the origin %q", vk.Name(), testOrigin)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if !v.Sealed() {
		t.Error("a freshly opened vault is not sealed")
	}
	if fp := v.Fingerprint(); len(fp) != 8 {
		t.Errorf("Fingerprint = %q", fp)
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	_, path := mustCreate(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, []byte("another passphrase"), testOrigin, testWF); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over an existing key file = %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("Create changed an existing key file")
	}
	// Nothing else was left in the directory (no temporary files).
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after the refused Create, want 1", len(ents))
	}
}

func TestCreateEmptyPassphrase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.age")
	if _, err := Create(path, nil, testOrigin, testWF); !errors.Is(err, vigil.ErrInvalid) {
		t.Errorf("Create with an empty passphrase = %v, want ErrInvalid", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("key file written anyway: %v", err)
	}
}

func TestUnsealSeal(t *testing.T) {
	v, _ := mustCreate(t)
	mustUnseal(t, v)
	if v.Sealed() {
		t.Fatal("Sealed after Unseal")
	}
	ct := encrypt(t, v, []byte("testimony"))
	r, err := v.Decrypt(bytes.NewReader(ct))
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if got, err := io.ReadAll(r); err != nil || string(got) != "testimony" {
		t.Errorf("Decrypt = %q, %v", got, err)
	}
	v.Seal()
	if !v.Sealed() {
		t.Fatal("not Sealed after Seal")
	}
	v.Seal() // idempotent
	if _, err := v.Decrypt(bytes.NewReader(ct)); !errors.Is(err, vigil.ErrSealed) {
		t.Errorf("Decrypt after Seal = %v, want ErrSealed", err)
	}
	// Unseal again, and again while unsealed.
	mustUnseal(t, v)
	mustUnseal(t, v)
	if _, err := v.Decrypt(bytes.NewReader(ct)); err != nil {
		t.Errorf("Decrypt after a second Unseal: %v", err)
	}
}

func TestWrongPassphrase(t *testing.T) {
	v, _ := mustCreate(t)
	for _, p := range []string{"wrong passphrase", testPass + " ", strings.ToUpper(testPass), "x"} {
		if err := v.Unseal([]byte(p)); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("Unseal(%q) = %v, want ErrWrongPassphrase", p, err)
		}
		if !v.Sealed() {
			t.Fatalf("Unseal(%q) failed but unsealed the vault", p)
		}
	}
	// A wrong passphrase on an unsealed vault is refused and keeps it unsealed.
	mustUnseal(t, v)
	if err := v.Unseal([]byte("wrong passphrase")); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Unseal(wrong) while unsealed = %v, want ErrWrongPassphrase", err)
	}
	if _, err := v.LogSigner().Sign([]byte("x")); err != nil {
		t.Errorf("Sign after a refused re-Unseal: %v", err)
	}
}

func TestSealedOperations(t *testing.T) {
	v, _ := mustCreate(t)
	label := Label{Kind: "item", ID: vigil.NewID(), Field: "meta", Version: 1}

	// Encrypting needs only the recipient.
	ct := encrypt(t, v, []byte("written while sealed"))
	field, err := v.SealField(label, []byte(`{"name":"a.pdf"}`))
	if err != nil {
		t.Fatalf("SealField while sealed: %v", err)
	}

	check := func(t *testing.T) {
		t.Helper()
		if _, err := v.Decrypt(bytes.NewReader(ct)); !errors.Is(err, vigil.ErrSealed) {
			t.Errorf("Decrypt = %v, want ErrSealed", err)
		}
		if _, err := v.OpenField(label, field); !errors.Is(err, vigil.ErrSealed) {
			t.Errorf("OpenField = %v, want ErrSealed", err)
		}
		if sig, err := v.LogSigner().Sign([]byte("checkpoint")); !errors.Is(err, vigil.ErrSealed) || sig != nil {
			t.Errorf("LogSigner().Sign = %x, %v; want ErrSealed", sig, err)
		}
		if _, err := note.Sign(&note.Note{Text: "checkpoint\n"}, v.LogSigner()); !errors.Is(err, vigil.ErrSealed) {
			t.Errorf("note.Sign = %v, want ErrSealed", err)
		}
		var buf bytes.Buffer
		if err := v.WriteIdentity(&buf); !errors.Is(err, vigil.ErrSealed) {
			t.Errorf("WriteIdentity = %v, want ErrSealed", err)
		}
		if buf.Len() != 0 {
			t.Errorf("WriteIdentity wrote %d bytes while sealed", buf.Len())
		}
	}
	t.Run("never unsealed", check)
	mustUnseal(t, v)
	if got, err := v.OpenField(label, field); err != nil || string(got) != `{"name":"a.pdf"}` {
		t.Errorf("OpenField after Unseal = %q, %v", got, err)
	}
	v.Seal()
	t.Run("after Seal", check)
}

func TestOpenFieldLabels(t *testing.T) {
	v, _ := mustCreate(t)
	mustUnseal(t, v)
	id := vigil.NewID()
	label := Label{Kind: "item", ID: id, Field: "meta", Version: 2}
	plain := []byte("name: statement.pdf\n")
	ct, err := v.SealField(label, plain)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.OpenField(label, ct)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("OpenField = %q, %v", got, err)
	}
	for _, c := range []struct {
		name string
		l    Label
	}{
		{"other kind", Label{Kind: "case", ID: id, Field: "meta", Version: 2}},
		{"other id", Label{Kind: "item", ID: vigil.NewID(), Field: "meta", Version: 2}},
		{"other field", Label{Kind: "item", ID: id, Field: "notes", Version: 2}},
		{"other version", Label{Kind: "item", ID: id, Field: "meta", Version: 1}},
		{"version prefix", Label{Kind: "item", ID: id, Field: "meta", Version: 20}},
		{"zero label", Label{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, err := v.OpenField(c.l, ct); !errors.Is(err, vigil.ErrCorrupt) {
				t.Errorf("OpenField under %+v = %q, %v; want ErrCorrupt", c.l, got, err)
			}
		})
	}
	// An empty plaintext round-trips; a damaged ciphertext is refused.
	ct2, _ := v.SealField(label, nil)
	if got, err := v.OpenField(label, ct2); err != nil || len(got) != 0 {
		t.Errorf("OpenField(empty) = %q, %v", got, err)
	}
	bad := bytes.Clone(ct)
	bad[len(bad)-1] ^= 1
	if _, err := v.OpenField(label, bad); !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("OpenField of a damaged ciphertext = %v, want ErrCorrupt", err)
	}
	if _, err := v.OpenField(label, []byte("not age")); !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("OpenField of garbage = %v, want ErrCorrupt", err)
	}
	// A ciphertext from another vault is refused.
	other, _ := mustCreate(t)
	ct3, _ := other.SealField(label, plain)
	if _, err := v.OpenField(label, ct3); !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("OpenField of another vault's field = %v, want ErrCorrupt", err)
	}
}

func TestDecryptTampered(t *testing.T) {
	v, _ := mustCreate(t)
	mustUnseal(t, v)
	plain := bytes.Repeat([]byte("0123456789abcdef"), 10000) // several age chunks
	ct := encrypt(t, v, plain)
	for _, pos := range []int{len(ct) / 2, len(ct) - 1} {
		bad := bytes.Clone(ct)
		bad[pos] ^= 0x40
		r, err := v.Decrypt(bytes.NewReader(bad))
		if err == nil {
			_, err = io.ReadAll(r)
		}
		if err == nil {
			t.Errorf("flipped byte %d of %d: decrypted without error", pos, len(ct))
		}
	}
	r, err := v.Decrypt(bytes.NewReader(ct[:len(ct)-100]))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil {
		t.Error("truncated ciphertext decrypted without error")
	}
	if _, err := v.Decrypt(strings.NewReader("garbage")); !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("Decrypt(garbage) = %v, want ErrCorrupt", err)
	}
}

func TestLogSigner(t *testing.T) {
	v, _ := mustCreate(t)
	mustUnseal(t, v)
	s := v.LogSigner()
	if s.Name() != testOrigin || s.KeyHash() != v.LogVerifier().KeyHash() {
		t.Errorf("signer %s/%08x, verifier %s/%08x", s.Name(), s.KeyHash(), v.LogVerifier().Name(), v.LogVerifier().KeyHash())
	}
	msg, err := note.Sign(&note.Note{Text: "vigil.test/log\n1\nAAAA\n"}, s)
	if err != nil {
		t.Fatalf("note.Sign: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v.LogVerifier()))
	if err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	if len(n.Sigs) != 1 {
		t.Errorf("%d verified signatures", len(n.Sigs))
	}
	// Verified against the public key in Public, independently.
	vk, _ := note.NewVerifier(v.Public().LogVKey)
	if _, err := note.Open(msg, note.VerifierList(vk)); err != nil {
		t.Errorf("note.Open with the configured vkey: %v", err)
	}
	raw, _ := s.Sign([]byte("m"))
	if !ed25519.Verify(vkeyBytes(v.Public().LogVKey), []byte("m"), raw) {
		t.Error("raw signature does not verify under the configured key")
	}
}

// TestKeyFileIsStockAge decrypts the key file with the age library's own
// passphrase identity, as `age -d` would.
func TestKeyFileIsStockAge(t *testing.T) {
	v, path := mustCreate(t)
	f, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(f, []byte("age-encryption.org/v1\n-> scrypt ")) {
		t.Errorf("key file does not start with an age scrypt stanza: %q", f[:min(len(f), 40)])
	}
	id, err := age.NewScryptIdentity(testPass)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(f), id)
	if err != nil {
		t.Fatalf("age.Decrypt of the key file: %v", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n")
	if lines[0] != "vigil-keys/v1" {
		t.Errorf("first line %q", lines[0])
	}
	var gotID bool
	for _, l := range lines[1:] {
		if s, ok := strings.CutPrefix(l, "age-identity "); ok {
			ids, err := age.ParseIdentities(strings.NewReader(s))
			if err != nil {
				t.Fatalf("identity in key file: %v", err)
			}
			if ids[0].(*age.X25519Identity).Recipient().String() != v.Public().Recipient {
				t.Error("key file identity does not match the recipient")
			}
			gotID = true
		}
	}
	if !gotID {
		t.Error("no age-identity line in the key file")
	}
	bad, _ := age.NewScryptIdentity("wrong")
	if _, err := age.Decrypt(bytes.NewReader(f), bad); err == nil {
		t.Error("key file decrypts with a wrong passphrase")
	}
}

func TestWriteIdentity(t *testing.T) {
	v, _ := mustCreate(t)
	ct := encrypt(t, v, []byte("blob content"))
	mustUnseal(t, v)
	var buf bytes.Buffer
	if err := v.WriteIdentity(&buf); err != nil {
		t.Fatal(err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("identity file does not parse as an age identity file: %v\n%s", err, buf.Bytes())
	}
	r, err := age.Decrypt(bytes.NewReader(ct), ids...)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); string(got) != "blob content" {
		t.Errorf("decrypted %q", got)
	}
}

// TestSealZeroesKeys is white-box: it keeps the vault's own key buffers and
// checks that Seal (and re-Unseal) zeroes them, that Seal runs the OnSeal
// functions, and that a wiped identity refuses to unwrap.
func TestSealZeroesKeys(t *testing.T) {
	v, _ := mustCreate(t)
	sealed := 0
	v.OnSeal(func() { sealed++ })
	mustUnseal(t, v)
	s := v.sec
	id, scalar, logKey := s.identity, s.identity.scalar, s.logKey
	if len(scalar) != 32 || len(logKey) != ed25519.PrivateKeySize {
		t.Fatalf("unexpected secrets: identity %d bytes, log key %d bytes", len(scalar), len(logKey))
	}
	zero := func(b []byte) bool { return len(b) > 0 && bytes.Count(b, []byte{0}) == len(b) }

	// Unsealing again replaces the secrets and wipes the old ones.
	mustUnseal(t, v)
	if v.sec == s {
		t.Fatal("re-Unseal kept the same secrets")
	}
	if !zero(scalar) || !zero(logKey) {
		t.Error("re-Unseal did not zero the previous key buffers")
	}
	if s.identity != nil || id.scalar != nil {
		t.Error("re-Unseal kept a reference to the previous identity")
	}
	if sealed != 0 {
		t.Errorf("OnSeal functions ran %d times before Seal", sealed)
	}

	s = v.sec
	id, scalar, logKey = s.identity, s.identity.scalar, s.logKey
	ct := encryptTo(t, v.Recipient(), "blob content")
	v.Seal()
	if v.sec != nil {
		t.Error("Seal kept the secrets")
	}
	if !zero(scalar) {
		t.Error("Seal did not zero the identity's scalar")
	}
	if !zero(logKey) {
		t.Error("Seal did not zero the Ed25519 key")
	}
	if s.identity != nil {
		t.Error("Seal kept a reference to the age identity")
	}
	if _, err := age.Decrypt(bytes.NewReader(ct), id); !errors.Is(err, ErrWiped) {
		t.Errorf("decrypt with a wiped identity: %v, want ErrWiped", err)
	}
	if sealed != 1 {
		t.Errorf("OnSeal functions ran %d times on Seal, want 1", sealed)
	}
	v.Seal()
	if sealed != 2 {
		t.Errorf("OnSeal functions ran %d times after a second Seal, want 2", sealed)
	}
}

func encryptTo(t *testing.T, r age.Recipient, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, text)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSwappedKeyFile opens a vault whose key file was replaced by another
// vault's (same passphrase): Unseal must refuse it.
func TestSwappedKeyFile(t *testing.T) {
	a, aPath := mustCreate(t)
	_, bPath := mustCreate(t)
	b, err := os.ReadFile(bPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(aPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Unseal([]byte(testPass)); !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("Unseal with another vault's key file = %v, want ErrCorrupt", err)
	}
	if !a.Sealed() {
		t.Error("Unseal with another vault's key file unsealed the vault")
	}

	// Only the log key differs: public config with A's recipient and another log key.
	c, cPath := mustCreate(t)
	d, _ := mustCreate(t)
	mixed, err := Open(cPath, Public{Recipient: c.Public().Recipient, LogVKey: d.Public().LogVKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := mixed.Unseal([]byte(testPass)); !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("Unseal with a mismatched log key = %v, want ErrCorrupt", err)
	}
	if !mixed.Sealed() {
		t.Error("Unseal with a mismatched log key unsealed the vault")
	}
}

func TestDamagedKeyFile(t *testing.T) {
	v, path := mustCreate(t)
	f, _ := os.ReadFile(path)
	f[len(f)-5] ^= 1
	os.WriteFile(path, f, 0o600)
	if err := v.Unseal([]byte(testPass)); err == nil {
		t.Error("Unseal of a damaged key file succeeded")
	}
	if !v.Sealed() {
		t.Error("damaged key file unsealed the vault")
	}
	os.Remove(path)
	if err := v.Unseal([]byte(testPass)); err == nil || !v.Sealed() {
		t.Errorf("Unseal of a missing key file = %v", err)
	}
}

func TestOpenBadPublic(t *testing.T) {
	v, path := mustCreate(t)
	if _, err := Open(path, Public{Recipient: "age1bogus", LogVKey: v.Public().LogVKey}); err == nil {
		t.Error("Open with a bad recipient succeeded")
	}
	if _, err := Open(path, Public{Recipient: v.Public().Recipient, LogVKey: "bogus"}); err == nil {
		t.Error("Open with a bad log vkey succeeded")
	}
}

// TestConcurrentSeal runs decryption and signing while another goroutine
// seals and unseals: every call either works or returns ErrSealed, and the
// race detector sees no data race.
func TestConcurrentSeal(t *testing.T) {
	v, _ := mustCreate(t)
	mustUnseal(t, v)
	label := Label{Kind: "item", ID: vigil.NewID(), Field: "meta", Version: 1}
	field, _ := v.SealField(label, []byte("meta"))
	ct := encrypt(t, v, []byte("content"))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ops := []func() error{
					func() error { _, err := v.OpenField(label, field); return err },
					func() error {
						r, err := v.Decrypt(bytes.NewReader(ct))
						if err != nil {
							return err
						}
						b, err := io.ReadAll(r)
						if err == nil && string(b) != "content" {
							err = errors.New("wrong plaintext")
						}
						return err
					},
					func() error { _, err := v.LogSigner().Sign([]byte("m")); return err },
					func() error { return v.WriteIdentity(io.Discard) },
				}
				for _, op := range ops {
					if err := op(); err != nil && !errors.Is(err, vigil.ErrSealed) {
						select {
						case errs <- err:
						default:
						}
					}
				}
			}
		})
	}
	for range 6 {
		v.Seal()
		if err := v.Unseal([]byte(testPass)); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent operation: %v", err)
	}
}
