package account_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
)

// canaries returns s in the encodings a careless format might store it
// in: raw, upper and lower case, hex, base64 (std and URL, padded or not),
// base32 and UTF-16.
func canaries(ss ...string) map[string][]byte {
	out := map[string][]byte{}
	for i, s := range ss {
		addCanary(out, fmt.Sprintf("canary %d %.12q", i, s), s)
	}
	return out
}

// addCanary adds s in every encoding, named label.
func addCanary(out map[string][]byte, label, s string) {
	b := []byte(s)
	out[label+" raw"] = b
	out[label+" lower"] = []byte(strings.ToLower(s))
	out[label+" upper"] = []byte(strings.ToUpper(s))
	out[label+" hex"] = []byte(hex.EncodeToString(b))
	out[label+" HEX"] = []byte(strings.ToUpper(hex.EncodeToString(b)))
	out[label+" base64"] = []byte(base64.RawStdEncoding.EncodeToString(b))
	out[label+" base64url"] = []byte(base64.RawURLEncoding.EncodeToString(b))
	out[label+" base32"] = []byte(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	u := utf16.Encode([]rune(s))
	w := make([]byte, 2*len(u))
	for i, c := range u {
		w[2*i], w[2*i+1] = byte(c), byte(c>>8)
	}
	out[label+" utf16"] = w
}

// scanDir returns "file: canary" for every canary found in a file under
// dir (the database, its WAL and journal included).
func scanDir(t *testing.T, dir string, cs map[string][]byte) []string {
	t.Helper()
	var hits []string
	n := 0
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, layer := range layers(b, 3) {
			for name, c := range cs {
				if bytes.Contains(layer, c) {
					hits = append(hits, filepath.Base(p)+": "+name)
				}
			}
		}
		return nil
	})
	must(t, err)
	if n < 2 {
		t.Fatalf("scanned %d files in %s: nothing to scan", n, dir)
	}
	return hits
}

var b64run = regexp.MustCompile(`[A-Za-z0-9+/_-]{16,}={0,2}`)

// layers returns b and, up to depth levels down, the decodings of every
// base64 run in it: what an attacker would unwrap (a JSON []byte field
// holding JSON with another []byte field is base64 of base64).
func layers(b []byte, depth int) [][]byte {
	out := [][]byte{b}
	if depth == 0 {
		return out
	}
	for _, run := range b64run.FindAll(b, -1) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if d, err := enc.DecodeString(string(run)); err == nil {
				out = append(out, layers(d, depth-1)...)
				break
			}
		}
	}
	return out
}

// TestSeizedDisk creates accounts with a TOTP secret and a passkey, signs
// in, and scans every file of the data directory for the names,
// passphrases and TOTP secret in every encoding: a seized disk must show
// none of them.
func TestSeizedDisk(t *testing.T) {
	r := newRig(t)
	unseal(t, r.d)
	names := []string{"Zoya Kosmodemyanskaya", "Зоя Космодемьянская", "Leonid Volkov"}
	passes := []string{"canary passphrase one", "canary пароль два", "canary passphrase three"}
	var secrets []string
	for i, n := range names[:2] {
		_, _, secret := r.enrolTOTP(n, passes[i], vigil.RoleInvestigator)
		secrets = append(secrets, string(secret))
		r.login(n, passes[i], secret)
	}
	// The third enrols a passkey.
	_, err := r.accts.Create(context.Background(), "cli", names[2], vigil.RoleAdmin, "ru", []byte(passes[2]))
	must(t, err)
	b := r.browser()
	b.form("/login", "name", names[2], "pass", passes[2])
	auth := newAuthenticator(t)
	registerPasskey(t, b, auth)
	must(t, r.d.Store.Close()) // flush the WAL into the database file too
	cs := canaries(append(names, passes...)...)
	for i, sec := range secrets {
		addCanary(cs, fmt.Sprintf("TOTP secret %d", i), sec)
	}
	for _, n := range names {
		cs[n+" canonical"] = []byte(account.Canonical(n))
	}
	cs["passkey credential ID"] = auth.credID
	if hits := scanDir(t, r.d.Path, cs); len(hits) > 0 {
		t.Fatalf("found on disk:\n%s", strings.Join(hits, "\n"))
	}
}
