// Package vault holds vigil's keys and does every private-key operation.
//
// Open a vault with [Open], passing the public keys from the data directory's
// configuration. A freshly opened vault is sealed: it holds only the age
// recipient, which is enough to encrypt ([Vault.Encrypt], [Vault.SealField]),
// so intake and ingest keep working. [Vault.Unseal] decrypts the key file with
// the admin passphrase and keeps the age identity, the Ed25519 log-signing
// key and the publication (advisory) key in memory; only then do [Vault.Decrypt], [Vault.OpenField] and the
// [Vault.LogSigner] work. [Vault.Seal] drops the keys at once. Every read path
// returns [vigil.ErrSealed] while sealed.
//
// # Formats
//
// The key file is an ordinary age file encrypted to the passphrase (age's
// scrypt recipient, c2sp.org/age), so it can be opened with the stock age
// command. Blobs are ordinary age files. An encrypted field is an age file
// whose plaintext starts with a label line binding it to its place (kind, id,
// field, version); age has no associated data, so the label inside the
// plaintext does that job and [Vault.OpenField] checks it.
//
// # Memory
//
// The keys live only in byte slices this package owns: the key file is
// decrypted into one buffer and parsed in place (no strings), the age
// identity is an [X25519Identity] (this package's own X25519 unwrapping, so
// no copy sits inside age's or crypto/ecdh's types) and the log key is
// expanded and used by this package's Ed25519 code, whose locals are
// cleared. The key file is read, and the Ed25519 keys expanded and used, on
// one goroutine locked to an OS thread of its own (see keyThread), whose
// stack never grows or shrinks: registers a signal saves, and frames a stack
// copy leaves, would otherwise hold key bytes. At seal it clears its stack,
// its vector registers and the last frame on its signal stack, and ends.
// X25519 unwrapping keeps the scalar in general registers and on the heap
// (see x25519). Seal zeroes the slices, ends that goroutine, runs the
// [Vault.OnSeal] functions (the web layer forgets every follow-up session's
// key there), then runs the garbage collector and returns free memory to the
// OS (on Linux the freed pages then read as zeroes). TestMemoryAfterSeal in
// cmd/vigil scans a real server's memory after seal for the keys in every
// encoding; TestKeysNotInSignalFrames here scans this process's after it
// signalled every thread thousands of times while the keys were in use.
//
// The key file's payload is decrypted by this package into its own buffer
// (decryptKeyFile), not through age's stream reader, whose chunk buffer
// would keep a plaintext copy nobody wipes (TestMemoryAfterSeal found the
// publication key there once the file grew).
//
// What Go cannot guarantee: a goroutine that opens a field holds that
// field's file key, and the web layer's session keys, on its stack and in
// registers like any other value (a stack copy or a signal frame may keep
// them); the ChaCha20-Poly1305 state that opens the key file keeps its
// (derived) key until its memory is reused; the scrypt passphrase is passed
// to age as a string; hash and HMAC states inside the standard library may
// keep secret-derived (not secret) bytes. Wiping narrows the window; only
// keeping the machine's memory from an attacker closes it.
package vault

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/atomicfile"
)

// ErrWrongPassphrase is returned by [Vault.Unseal] and [ReadIdentity] when the
// passphrase does not decrypt the key file.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// DefaultWorkFactor is the scrypt work factor (log2 N) for new key files, age's
// own default: about a second on a laptop.
const DefaultWorkFactor = 18

// Public holds a vault's public keys. It is stored in plaintext in the data
// directory's configuration and served at /.well-known/vigil.json.
type Public struct {
	// Recipient is the age X25519 recipient ("age1...") everything is encrypted to.
	Recipient string `json:"age_recipient"`
	// LogVKey is the log's Ed25519 verifier key in signed-note form
	// (c2sp.org/signed-note), named after the log's origin.
	LogVKey string `json:"log_vkey"`
	// AdvisoryVKey is the publication key's verifier key in signed-note
	// form: it signs advisories and public statistics (never checkpoints),
	// named [AdvisoryKeyName] of the origin. Empty for a data directory made
	// before it existed; [AddAdvisoryKey] adds one.
	AdvisoryVKey string `json:"advisory_vkey,omitempty"`
}

// AdvisoryKeyName returns the name of the publication key of a log origin:
// the origin's host followed by "/advisories", e.g. "example.org/advisories"
// for "example.org/log". The name differs from the log key's, so a
// verifier never mistakes one key for the other.
func AdvisoryKeyName(origin string) string {
	host, _, _ := strings.Cut(origin, "/")
	return host + "/advisories"
}

// Create generates a new age identity and an Ed25519 log-signing key named
// origin, writes them to path encrypted under passphrase with the given scrypt
// work factor (0 means [DefaultWorkFactor]), and returns the public keys.
// It refuses to overwrite an existing file. The file is durable on return.
func Create(path string, passphrase []byte, origin string, workFactor int) (Public, error) {
	if len(passphrase) == 0 {
		return Public{}, fmt.Errorf("%w: empty passphrase", vigil.ErrInvalid)
	}
	if workFactor == 0 {
		workFactor = DefaultWorkFactor
	}
	id, err := GenerateX25519Identity()
	if err != nil {
		return Public{}, fmt.Errorf("generate age identity: %w", err)
	}
	defer id.Wipe()
	// note.GenerateKey returns the signer key as a string, which cannot be
	// wiped; it lives only in this short-lived process (vigil init).
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return Public{}, fmt.Errorf("generate log key: %w", err)
	}
	plain := append(make([]byte, 0, 512), keysHeader+"\nage-identity "...)
	plain = id.AppendEncode(plain)
	plain = append(append(append(plain, "\nlog-skey "...), skey...), '\n')
	askey, avkey, err := note.GenerateKey(rand.Reader, AdvisoryKeyName(origin))
	if err != nil {
		return Public{}, fmt.Errorf("generate advisory key: %w", err)
	}
	plain = append(append(append(plain, "advisory-skey "...), askey...), '\n')
	defer clear(plain)
	ct, err := encryptKeys(plain, passphrase, workFactor)
	if err != nil {
		return Public{}, err
	}
	if err := atomicfile.WriteNew(path, ct, 0o600); err != nil {
		return Public{}, fmt.Errorf("write key file: %w", err)
	}
	return Public{Recipient: id.RecipientString(), LogVKey: vkey, AdvisoryVKey: avkey}, nil
}

// encryptKeys encrypts the key file's plaintext to the passphrase.
func encryptKeys(plain, passphrase []byte, workFactor int) ([]byte, error) {
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("passphrase recipient: %w", err)
	}
	r.SetWorkFactor(workFactor)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("encrypt key file: %w", err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt key file: %w", err)
	}
	return buf.Bytes(), nil
}

// AddAdvisoryKey adds a new publication key named [AdvisoryKeyName] of
// origin to the key file at path, which must open with passphrase and hold
// no publication key yet, re-encrypting it under the same passphrase with
// the given work factor (0 means [DefaultWorkFactor]). It returns the new
// verifier key, to be stored as [Public.AdvisoryVKey]. The file is replaced
// atomically and is durable on return; the log key and age identity are
// kept byte for byte.
func AddAdvisoryKey(path string, passphrase []byte, origin string, workFactor int) (string, error) {
	if workFactor == 0 {
		workFactor = DefaultWorkFactor
	}
	plain, err := decryptKeyFile(path, passphrase)
	if err != nil {
		return "", err
	}
	defer func() { clear(plain[:cap(plain)]) }()
	s, err := parseSecrets(plain)
	if err != nil {
		return "", fmt.Errorf("%w: key file: %v", vigil.ErrCorrupt, err)
	}
	has := s.advKey != nil
	s.wipe()
	if has {
		return "", fmt.Errorf("%w: the key file already holds a publication (advisory) key", vigil.ErrConflict)
	}
	askey, avkey, err := note.GenerateKey(rand.Reader, AdvisoryKeyName(origin))
	if err != nil {
		return "", fmt.Errorf("generate advisory key: %w", err)
	}
	if len(plain) > 0 && plain[len(plain)-1] != '\n' {
		plain = append(plain, '\n')
	}
	grown := append(append(append(make([]byte, 0, len(plain)+len(askey)+32), plain...), "advisory-skey "...), askey...)
	grown = append(grown, '\n')
	defer clear(grown)
	ct, err := encryptKeys(grown, passphrase, workFactor)
	if err != nil {
		return "", err
	}
	if err := atomicfile.Write(path, ct, 0o600); err != nil {
		return "", fmt.Errorf("write key file: %w", err)
	}
	return avkey, nil
}

const keysHeader = "vigil-keys/v1"

// secrets is the decrypted content of the key file: only byte slices this
// package owns, so that wipe can zero every copy it made.
type secrets struct {
	identity *X25519Identity
	logKey   ed25519.PrivateKey
	logName  string
	advKey   ed25519.PrivateKey // nil if the file has no publication key
	advName  string
	thread   *keyThread // where the key file and signing keys are used; nil outside a Vault
}

func (s *secrets) wipe() {
	if s.identity != nil {
		s.identity.Wipe()
	}
	clear(s.logKey)
	clear(s.advKey)
	s.identity = nil
}

// close wipes the keys and ends the thread that used them. It must not run
// on that thread.
func (s *secrets) close() {
	s.wipe()
	if s.thread != nil {
		s.thread.stop()
	}
}

// readSecrets decrypts and parses the key file.
func readSecrets(path string, passphrase []byte) (*secrets, error) {
	plain, err := decryptKeyFile(path, passphrase)
	if err != nil {
		return nil, err
	}
	defer func() { clear(plain[:cap(plain)]) }()
	s, err := parseSecrets(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: key file: %v", vigil.ErrCorrupt, err)
	}
	return s, nil
}

// decryptKeyFile returns the key file's plaintext in one buffer of its own,
// which the caller must clear (to its capacity).
//
// It decrypts the payload itself rather than through age's stream reader,
// whose chunk buffer would keep a copy of the plaintext that nobody wipes:
// age unwraps the file key from the header (scrypt), then the single
// payload is opened with ChaCha20-Poly1305 straight into our buffer by
// decryptAll, as age's STREAM construction does (c2sp.org/age: payload key
// HKDF-SHA-256(file key, nonce, "payload"), chunk nonce an 11-byte counter
// then the last-chunk flag).
func decryptKeyFile(path string, passphrase []byte) ([]byte, error) {
	ct, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open key file: %w", err)
	}
	if len(ct) > 64<<10 {
		return nil, fmt.Errorf("%w: key file: too large", vigil.ErrCorrupt)
	}
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("passphrase: %w", err)
	}
	plain, err := decryptAll(ct, id)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, ErrWrongPassphrase
		}
		return nil, fmt.Errorf("%w: key file: %v", vigil.ErrCorrupt, err)
	}
	return plain, nil
}

// parseSecrets parses the key file's plaintext without copying any of the
// secrets out of it except into the returned buffers.
func parseSecrets(plain []byte) (*secrets, error) {
	s := &secrets{}
	header, rest, _ := bytes.Cut(plain, []byte("\n"))
	if string(header) != keysHeader { // compiled without an allocation
		return nil, errors.New("bad header")
	}
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		k, v, _ := bytes.Cut(line, []byte(" "))
		var err error
		switch string(k) {
		case "age-identity":
			if s.identity != nil {
				s.identity.Wipe()
			}
			s.identity, err = ParseX25519Identity(v)
			if err != nil {
				s.wipe()
				return nil, fmt.Errorf("age identity: %v", err)
			}
		case "log-skey":
			clear(s.logKey)
			s.logName, s.logKey, err = parseSKey(v)
			if err != nil {
				s.wipe()
				return nil, fmt.Errorf("log key: %v", err)
			}
		case "advisory-skey":
			clear(s.advKey)
			s.advName, s.advKey, err = parseSKey(v)
			if err != nil {
				s.wipe()
				return nil, fmt.Errorf("advisory key: %v", err)
			}
		}
	}
	if s.identity == nil || s.logKey == nil {
		s.wipe()
		return nil, errors.New("missing keys")
	}
	return s, nil
}

// parseSKey parses a signed-note Ed25519 signer key
// "PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>" into a new key buffer,
// making a string only of the (public) name.
func parseSKey(skey []byte) (name string, key ed25519.PrivateKey, err error) {
	parts := bytes.SplitN(skey, []byte("+"), 5)
	if len(parts) != 5 || string(parts[0]) != "PRIVATE" || string(parts[1]) != "KEY" {
		return "", nil, errors.New("malformed signer key")
	}
	var raw [64]byte
	defer clear(raw[:])
	if base64.StdEncoding.DecodedLen(len(parts[4])) > len(raw) {
		return "", nil, errors.New("malformed signer key")
	}
	n, err := base64.StdEncoding.Decode(raw[:], parts[4])
	if err != nil || n != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", nil, errors.New("malformed signer key")
	}
	return string(parts[2]), ed25519Key(raw[1 : 1+ed25519.SeedSize]), nil
}

// A Vault holds the recipient always and the private keys while unsealed.
// All its methods are safe for concurrent use.
type Vault struct {
	path      string
	pub       Public
	recipient *age.X25519Recipient
	verifier  note.Verifier
	advisory  note.Verifier // nil without a publication key

	mu     sync.RWMutex
	sec    *secrets // nil while sealed
	onSeal []func()
}

// Open returns a sealed vault for the key file at path with the given public
// keys. It does not read the key file until [Vault.Unseal].
func Open(path string, pub Public) (*Vault, error) {
	r, err := age.ParseX25519Recipient(pub.Recipient)
	if err != nil {
		return nil, fmt.Errorf("age recipient: %w", err)
	}
	v, err := note.NewVerifier(pub.LogVKey)
	if err != nil {
		return nil, fmt.Errorf("log verifier key: %w", err)
	}
	vault := &Vault{path: path, pub: pub, recipient: r, verifier: v}
	if pub.AdvisoryVKey != "" {
		if vault.advisory, err = note.NewVerifier(pub.AdvisoryVKey); err != nil {
			return nil, fmt.Errorf("advisory verifier key: %w", err)
		}
	}
	return vault, nil
}

// Public returns the vault's public keys.
func (v *Vault) Public() Public { return v.pub }

// Recipient returns the age recipient that everything is encrypted to.
func (v *Vault) Recipient() age.Recipient { return v.recipient }

// LogVerifier returns the verifier of the log's checkpoints.
func (v *Vault) LogVerifier() note.Verifier { return v.verifier }

// Unseal decrypts the key file with passphrase and keeps the private keys in
// memory. It returns [ErrWrongPassphrase] for a wrong passphrase and an error
// wrapping [vigil.ErrCorrupt] if the keys do not match the configured public
// keys. Unsealing an unsealed vault checks the passphrase again.
func (v *Vault) Unseal(passphrase []byte) error {
	thread := startKeyThread()
	var s *secrets
	var err error
	thread.do(func() { s, err = readSecrets(v.path, passphrase) })
	if err != nil {
		thread.stop()
		return err
	}
	s.thread = thread
	if s.identity.RecipientString() != v.pub.Recipient {
		s.close()
		return fmt.Errorf("%w: key file does not match the configured age recipient", vigil.ErrCorrupt)
	}
	if s.logName != v.verifier.Name() || !bytes.Equal(s.logKey.Public().(ed25519.PublicKey), vkeyBytes(v.pub.LogVKey)) {
		s.close()
		return fmt.Errorf("%w: key file does not match the configured log key", vigil.ErrCorrupt)
	}
	if v.advisory != nil && (s.advKey == nil || s.advName != v.advisory.Name() || !bytes.Equal(s.advKey.Public().(ed25519.PublicKey), vkeyBytes(v.pub.AdvisoryVKey))) {
		s.close()
		return fmt.Errorf("%w: key file does not match the configured advisory key", vigil.ErrCorrupt)
	}
	v.mu.Lock()
	old := v.sec
	v.sec = s
	v.mu.Unlock()
	if old != nil {
		old.close()
	}
	// A vault dropped unsealed (by a test, a command that returns early) must
	// not keep its keys and its locked thread for the life of the process.
	runtime.AddCleanup(v, (*secrets).close, s)
	return nil
}

// vkeyBytes returns the raw Ed25519 public key of a signed-note verifier key.
func vkeyBytes(vkey string) []byte {
	parts := strings.SplitN(vkey, "+", 3) // name+hash+key; the key's base64 may hold '+'
	if len(parts) != 3 {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize {
		return nil
	}
	return raw[1:]
}

// Seal wipes the private keys from memory, runs the functions registered
// with [Vault.OnSeal], and then forces a garbage collection and returns the
// freed memory to the operating system (see # Memory). It is idempotent:
// every call runs the functions, sealed or not.
func (v *Vault) Seal() {
	v.mu.Lock()
	s := v.sec
	v.sec = nil
	hooks := slices.Clone(v.onSeal)
	v.mu.Unlock()
	if s != nil {
		s.close()
	}
	for _, f := range hooks {
		f()
	}
	// Drop what is now garbage (the key file's decrypted chunk buffer, the
	// sessions the hooks dropped, ...) and give its pages back: on Linux
	// that is madvise(MADV_DONTNEED), after which the pages read as zeroes.
	runtime.GC()
	debug.FreeOSMemory()
}

// OnSeal registers f to run on every [Vault.Seal], after the keys are wiped:
// for example to forget the keys that sources' sessions derived from their
// receipts. f must not call Seal.
func (v *Vault) OnSeal(f func()) {
	v.mu.Lock()
	v.onSeal = append(v.onSeal, f)
	v.mu.Unlock()
}

// Sealed reports whether the vault is sealed.
func (v *Vault) Sealed() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.sec == nil
}

// Encrypt returns a writer that age-encrypts to the vault's recipient into w.
// It works sealed or not. The caller must Close the writer.
func (v *Vault) Encrypt(w io.Writer) (io.WriteCloser, error) {
	return age.Encrypt(w, v.recipient)
}

// Decrypt returns a reader of the plaintext of the age file r. It returns
// [vigil.ErrSealed] while sealed.
//
// Errors say which side failed. If reading r itself fails (a disk or network
// error), Decrypt and the returned reader return an error wrapping both
// [vigil.ErrUnavailable] and r's error: the ciphertext may be intact, so it
// is not called corrupt. If the ciphertext is tampered with, truncated or not
// for this vault's key, they return an error wrapping [vigil.ErrCorrupt].
func (v *Vault) Decrypt(r io.Reader) (io.Reader, error) {
	// Take the identity under the lock: Seal wipes the secrets (and nils
	// s.identity) after releasing it.
	var id *X25519Identity
	v.mu.RLock()
	if v.sec != nil {
		id = v.sec.identity
	}
	v.mu.RUnlock()
	if id == nil {
		return nil, vigil.ErrSealed
	}
	src := &sourceReader{r: r}
	pr, err := age.Decrypt(src, id)
	if errors.Is(err, ErrWiped) { // sealed since we took id
		return nil, vigil.ErrSealed
	}
	if err != nil {
		return nil, src.classify(err)
	}
	return &plainReader{r: pr, src: src}, nil
}

// A sourceReader remembers the first error, other than io.EOF, that reading
// the ciphertext returned, so that a failure of age can be told apart from a
// failure of the storage under it.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// classify maps an error of age to an I/O error if reading the ciphertext
// failed, else to an integrity failure.
func (s *sourceReader) classify(err error) error {
	if s.err != nil {
		return fmt.Errorf("%w: read ciphertext: %w", vigil.ErrUnavailable, s.err)
	}
	return fmt.Errorf("%w: decrypt: %v", vigil.ErrCorrupt, err)
}

// A plainReader is the plaintext reader Decrypt returns: age's, with its
// errors classified.
type plainReader struct {
	r   io.Reader
	src *sourceReader
}

func (p *plainReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		err = p.src.classify(err)
	}
	return n, err
}

// A Label binds an encrypted field to its place in the store.
type Label struct {
	Kind    string // record kind, e.g. "item"
	ID      vigil.ID
	Field   string // e.g. "meta"
	Version int64
}

func (l Label) line() string {
	return fmt.Sprintf("vigil-field/v1 %s %s %s %d\n", l.Kind, l.ID, l.Field, l.Version)
}

// SealField encrypts plaintext for the field named by l. It works sealed or not.
func (v *Vault) SealField(l Label, plaintext []byte) ([]byte, error) {
	return v.SealFieldTo(l, plaintext)
}

// SealFieldTo is like [Vault.SealField] but also encrypts to the extra
// recipients, e.g. a source's receipt-derived key, so they can read the
// field with [OpenFieldWith] while the vault stays sealed.
func (v *Vault) SealFieldTo(l Label, plaintext []byte, extra ...age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, append([]age.Recipient{v.recipient}, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", l.Field, err)
	}
	io.WriteString(w, l.line())
	w.Write(plaintext)
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", l.Field, err)
	}
	return buf.Bytes(), nil
}

// OpenField decrypts a field sealed by [Vault.SealField] and checks that it
// was sealed for l, so a ciphertext moved to another record or field is
// refused with an error wrapping [vigil.ErrCorrupt].
func (v *Vault) OpenField(l Label, ciphertext []byte) ([]byte, error) {
	var id *X25519Identity
	v.mu.RLock()
	if v.sec != nil {
		id = v.sec.identity
	}
	v.mu.RUnlock()
	if id == nil {
		return nil, vigil.ErrSealed
	}
	plain, err := decryptAll(ciphertext, id)
	if errors.Is(err, ErrWiped) { // sealed since we took id
		return nil, vigil.ErrSealed
	}
	if err != nil {
		return nil, fmt.Errorf("%w: decrypt %s: %v", vigil.ErrCorrupt, l.Field, err)
	}
	return labelled(l, plain)
}

// labelled checks that plain starts with l's label line and returns the
// rest.
func labelled(l Label, plain []byte) ([]byte, error) {
	want := l.line()
	if !bytes.HasPrefix(plain, []byte(want)) {
		return nil, fmt.Errorf("%w: field %s of %s %s: label mismatch", vigil.ErrCorrupt, l.Field, l.Kind, l.ID)
	}
	return plain[len(want):], nil
}

// OpenFieldWith decrypts a field sealed by [Vault.SealFieldTo] with one of
// its extra recipients' identity, checking the label like [Vault.OpenField].
func OpenFieldWith(id age.Identity, l Label, ciphertext []byte) ([]byte, error) {
	plain, err := decryptAll(ciphertext, id)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypt %s: %v", vigil.ErrCorrupt, l.Field, err)
	}
	return labelled(l, plain)
}

// LogSigner returns a signed-note signer for checkpoints. Its Sign method
// returns [vigil.ErrSealed] while the vault is sealed.
func (v *Vault) LogSigner() note.Signer {
	return keySigner{v, v.verifier, func(s *secrets) ed25519.PrivateKey { return s.logKey }}
}

// A keySigner signs with one of the vault's Ed25519 keys, taken from its
// secrets under the lock at each signature, so that Seal's wipe is never
// raced and a sealed vault signs nothing.
type keySigner struct {
	v        *Vault
	verifier note.Verifier
	key      func(*secrets) ed25519.PrivateKey
}

func (s keySigner) Name() string    { return s.verifier.Name() }
func (s keySigner) KeyHash() uint32 { return s.verifier.KeyHash() }
func (s keySigner) Sign(msg []byte) ([]byte, error) {
	s.v.mu.RLock()
	defer s.v.mu.RUnlock()
	if s.v.sec == nil {
		return nil, vigil.ErrSealed
	}
	k := s.key(s.v.sec)
	if k == nil {
		return nil, ErrNoAdvisoryKey // only the publication key is optional
	}
	var sig []byte
	if !s.v.sec.thread.do(func() { sig = ed25519Sign(k, msg) }) {
		return nil, vigil.ErrSealed
	}
	return sig, nil
}

// ErrNoAdvisoryKey is returned when signing with the publication key of a
// vault that has none configured.
var ErrNoAdvisoryKey = errors.New("this data directory has no advisory (publication) key (hint: add one with vigil key create-advisory)")

// AdvisoryVerifier returns the verifier of the publication key, or nil if
// the vault has none.
func (v *Vault) AdvisoryVerifier() note.Verifier { return v.advisory }

// AdvisorySigner returns a signed-note signer with the publication key,
// which signs advisories and statistics. It returns [ErrNoAdvisoryKey] if
// the vault has none configured; its Sign method returns
// [vigil.ErrSealed] while the vault is sealed.
func (v *Vault) AdvisorySigner() (note.Signer, error) {
	if v.advisory == nil {
		return nil, ErrNoAdvisoryKey
	}
	return keySigner{v, v.advisory, func(s *secrets) ed25519.PrivateKey { return s.advKey }}, nil
}

// WriteIdentity writes the age identity in the stock age key-file format, so
// that `age -d -i FILE` decrypts any blob or field. It returns
// [vigil.ErrSealed] while sealed.
func (v *Vault) WriteIdentity(w io.Writer) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.sec == nil {
		return vigil.ErrSealed
	}
	b := fmt.Appendf(make([]byte, 0, 256), "# vigil vault identity: decrypts every blob and field of this vault\n# public key: %s\n", v.pub.Recipient)
	defer func() { clear(b) }()
	if !v.sec.thread.do(func() { b = append(v.sec.identity.AppendEncode(b), '\n') }) {
		return vigil.ErrSealed
	}
	_, err := w.Write(b)
	return err
}

// keyID is a short public fingerprint of the recipient, for messages.
func keyID(recipient string) string {
	h := sha256.Sum256([]byte(recipient))
	return fmt.Sprintf("%08x", binary.BigEndian.Uint32(h[:]))
}

// Fingerprint returns a short fingerprint of the vault's age recipient.
func (v *Vault) Fingerprint() string { return keyID(v.pub.Recipient) }
