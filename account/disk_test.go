package account_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
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
	for _, s := range ss {
		b := []byte(s)
		out[s+" raw"] = b
		out[s+" lower"] = []byte(strings.ToLower(s))
		out[s+" upper"] = []byte(strings.ToUpper(s))
		out[s+" hex"] = []byte(hex.EncodeToString(b))
		out[s+" HEX"] = []byte(strings.ToUpper(hex.EncodeToString(b)))
		out[s+" base64"] = []byte(base64.RawStdEncoding.EncodeToString(b))
		out[s+" base64url"] = []byte(base64.RawURLEncoding.EncodeToString(b))
		out[s+" base32"] = []byte(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
		u := utf16.Encode([]rune(s))
		w := make([]byte, 2*len(u))
		for i, c := range u {
			w[2*i], w[2*i+1] = byte(c), byte(c>>8)
		}
		out[s+" utf16"] = w
	}
	return out
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
		for name, c := range cs {
			if bytes.Contains(b, c) {
				hits = append(hits, filepath.Base(p)+": "+name)
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
	cs := canaries(append(append(names, passes...), secrets...)...)
	for _, n := range names {
		cs[n+" canonical"] = []byte(account.Canonical(n))
	}
	cs["passkey credential ID"] = auth.credID
	if hits := scanDir(t, r.d.Path, cs); len(hits) > 0 {
		t.Fatalf("found on disk:\n%s", strings.Join(hits, "\n"))
	}
}
