package account_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
)

// authenticator is a software WebAuthn authenticator: an ES256 key, a
// credential ID and a user handle, producing the attestation ("none"
// format) and assertion objects a browser would send, in real CBOR, so the
// real go-webauthn verification runs on them.
type authenticator struct {
	key    *ecdsa.PrivateKey
	credID []byte
	user   []byte
	rpID   string
	origin string
	count  uint32
}

func newAuthenticator(t *testing.T) *authenticator {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	id := make([]byte, 32)
	rand.Read(id)
	return &authenticator{key: k, credID: id, rpID: rpID, origin: rpOrigin}
}

var b64 = base64.RawURLEncoding

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagAT = 0x40
)

func (a *authenticator) authData(flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(a.rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.count)
	return append(out, attested...)
}

func clientData(typ string, challenge []byte, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": b64.EncodeToString(challenge), "origin": origin, "crossOrigin": false})
	return b
}

// create answers navigator.credentials.create options.
func (a *authenticator) create(t *testing.T, opts []byte) []byte {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	must(t, json.Unmarshal(opts, &o))
	chal, err := b64.DecodeString(o.PublicKey.Challenge)
	must(t, err)
	if a.user, err = b64.DecodeString(o.PublicKey.User.ID); err != nil {
		t.Fatal(err)
	}
	if o.PublicKey.RP.ID != a.rpID {
		t.Fatalf("rp id %q", o.PublicKey.RP.ID)
	}
	pub, err := a.key.PublicKey.Bytes() // 0x04 || x || y
	must(t, err)
	x, y := pub[1:33], pub[33:65]
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y}) // EC2, ES256, P-256
	must(t, err)
	attested := make([]byte, 16) // AAGUID: zero
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credID)))
	attested = append(append(attested, a.credID...), cose...)
	obj, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(flagUP|flagUV|flagAT, attested)})
	must(t, err)
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", chal, a.origin)),
			"attestationObject": b64.EncodeToString(obj),
		},
	})
	return resp
}

// get answers navigator.credentials.get options.
func (a *authenticator) get(t *testing.T, opts []byte) []byte {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	must(t, json.Unmarshal(opts, &o))
	chal, err := b64.DecodeString(o.PublicKey.Challenge)
	must(t, err)
	a.count++
	ad := a.authData(flagUP|flagUV, nil)
	cd := clientData("webauthn.get", chal, a.origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	must(t, err)
	resp, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.user),
		},
	})
	return resp
}

func registerPasskey(t *testing.T, b *browser, a *authenticator) {
	t.Helper()
	code, opts := b.form("/enrol/passkey/begin")
	if code != 200 {
		t.Fatalf("register begin: %d %s", code, opts)
	}
	if !strings.Contains(opts, `"residentKey":"required"`) {
		t.Fatalf("registration does not ask for a discoverable passkey: %s", opts)
	}
	if code, body := b.do("POST", "/enrol/passkey/finish", bytes.NewReader(a.create(t, []byte(opts))), "application/json"); code != 200 {
		t.Fatalf("register finish: %d %s", code, body)
	}
}

// passkeyLogin runs the passkey step of a pending login and returns the
// finish status.
func passkeyLogin(t *testing.T, b *browser, answer func([]byte) []byte) (int, string) {
	t.Helper()
	code, opts := b.form("/login/passkey/begin")
	if code != 200 {
		t.Fatalf("login begin: %d %s", code, opts)
	}
	return b.do("POST", "/login/passkey/finish", bytes.NewReader(answer([]byte(opts))), "application/json")
}

func TestPasskey(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	a, err := r.accts.Create(t.Context(), "cli", "Marina", vigil.RoleInvestigator, "en", []byte("a red passphrase!!"))
	must(t, err)
	auth := newAuthenticator(t)

	// First sign-in: enrol a passkey, which signs in.
	b := r.browser()
	if code, step := b.form("/login", "name", "Marina", "pass", "a red passphrase!!"); step != fmt.Sprint(account.StepEnrol) {
		t.Fatalf("first login: %d %s", code, step)
	}
	registerPasskey(t, b, auth)
	if got := b.whoami(); got != "account:"+a.ID.String()+"/Marina investigator" {
		t.Fatalf("after registration: %q", got)
	}
	if !bytes.Equal(auth.user, a.ID[:]) {
		t.Fatalf("user handle %x, want the account ID", auth.user)
	}

	// Sign in with passphrase and passkey.
	login := func(pass string, answer func([]byte) []byte) (int, string, *browser) {
		r.c.Add(time.Hour) // past the back-off of the forgeries
		b := r.browser()
		if code, step := b.form("/login", "name", "marina", "pass", pass); code != 200 || step != fmt.Sprint(account.StepSecondFactor) {
			t.Fatalf("login step 1: %d %s", code, step)
		}
		code, body := passkeyLogin(t, b, answer)
		return code, body, b
	}
	good := func(o []byte) []byte { return auth.get(t, o) }
	code, body, b2 := login("a red passphrase!!", good)
	if code != 200 || b2.whoami() == "" {
		t.Fatalf("passkey login: %d %s", code, body)
	}

	// Every forgery is the one refusal.
	stranger := newAuthenticator(t)
	stranger.user = a.ID[:]
	stranger.credID = auth.credID // same ID, another key: bad signature
	phished := *auth
	phished.origin = "https://vigil-login.example" // a look-alike site relaying the challenge
	otherRP := *auth
	otherRP.rpID = "evil.example"
	for _, c := range []struct {
		desc   string
		pass   string
		answer func([]byte) []byte
	}{
		{"wrong passphrase, right passkey", "not the red passphrase", good},
		{"another key", "a red passphrase!!", func(o []byte) []byte { return stranger.get(t, o) }},
		{"phishing origin", "a red passphrase!!", func(o []byte) []byte { return phished.get(t, o) }},
		{"other RP ID", "a red passphrase!!", func(o []byte) []byte { return otherRP.get(t, o) }},
		{"stale challenge", "a red passphrase!!", func([]byte) []byte {
			return auth.get(t, []byte(`{"publicKey":{"challenge":"`+b64.EncodeToString(make([]byte, 32))+`"}}`))
		}},
		{"garbage", "a red passphrase!!", func([]byte) []byte { return []byte(`{"id":"x"}`) }},
	} {
		code, body, b := login(c.pass, c.answer)
		if code != 401 || b.whoami() != "" {
			t.Errorf("%s: %d %s, want 401", c.desc, code, body)
		}
	}
	// A valid assertion is single use: replaying it fails.
	r.c.Add(time.Hour)
	b3 := r.browser()
	b3.form("/login", "name", "marina", "pass", "a red passphrase!!")
	_, opts := b3.form("/login/passkey/begin")
	resp := auth.get(t, []byte(opts))
	if code, _ := b3.do("POST", "/login/passkey/finish", bytes.NewReader(resp), "application/json"); code != 200 {
		t.Fatal("passkey login refused")
	}
	b4 := r.browser()
	b4.form("/login", "name", "marina", "pass", "a red passphrase!!")
	b4.form("/login/passkey/begin")
	if code, _ := b4.do("POST", "/login/passkey/finish", bytes.NewReader(resp), "application/json"); code != 401 {
		t.Fatalf("replayed assertion: %d", code)
	}

	// Works sealed too: the passkeys are in the login box, not the vault.
	r.d.Vault.Seal()
	code, body, b5 := login("a red passphrase!!", good)
	if code != 200 {
		t.Fatalf("sealed passkey login: %d %s", code, body)
	}
	if c, _ := b5.do("GET", "/unseal", nil, ""); c != 200 {
		t.Fatal("sealed passkey session cannot reach the unseal page")
	}
}
