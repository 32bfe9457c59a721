package account

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
)

// Passphrase limits. The maximum bounds the argon2id input (argon2 hashes
// any length, but a megabyte passphrase per attempt is an easy flood).
const (
	MinPassphrase = 12   // characters
	MaxPassphrase = 1024 // bytes
)

//go:embed common.txt
var commonList string

// common holds passphrases of at least MinPassphrase characters from
// public lists of the most used passwords, case-folded.
var common = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// CheckPassphrase reports whether p is acceptable as an account
// passphrase: valid UTF-8, MinPassphrase characters to MaxPassphrase bytes,
// not one character repeated, not on the embedded list of common ones, and
// not containing the account name.
func CheckPassphrase(p []byte, name string) error {
	if !utf8.Valid(p) {
		return fmt.Errorf("%w: passphrase is not valid UTF-8", vigil.ErrInvalid)
	}
	if utf8.RuneCount(p) < MinPassphrase {
		return fmt.Errorf("%w: passphrase must be at least %d characters", vigil.ErrInvalid, MinPassphrase)
	}
	if len(p) > MaxPassphrase {
		return fmt.Errorf("%w: passphrase must be at most %d bytes", vigil.ErrInvalid, MaxPassphrase)
	}
	s := string(p)
	first, _ := utf8.DecodeRuneInString(s)
	if strings.Trim(s, string(first)) == "" {
		return fmt.Errorf("%w: passphrase repeats one character", vigil.ErrInvalid)
	}
	if common[strings.ToLower(s)] {
		return fmt.Errorf("%w: passphrase is on the list of common passwords", vigil.ErrInvalid)
	}
	if n := Canonical(name); utf8.RuneCountInString(n) >= 3 && strings.Contains(Canonical(s), n) {
		return fmt.Errorf("%w: passphrase contains the account name", vigil.ErrInvalid)
	}
	return nil
}

// CheckName reports whether name is usable as an account name: 1 to 64
// printable characters without "/" (it separates ID and name in actors),
// no leading or trailing space.
func CheckName(name string) error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 64 {
		return fmt.Errorf("%w: account name must be 1 to 64 characters", vigil.ErrInvalid)
	}
	if strings.TrimSpace(name) != name {
		return fmt.Errorf("%w: account name %q: no leading or trailing spaces", vigil.ErrInvalid, name)
	}
	for _, c := range name {
		if !unicode.IsPrint(c) || c == '/' {
			return fmt.Errorf("%w: account name %q: use printable characters other than /", vigil.ErrInvalid, name)
		}
	}
	return nil
}

// Languages the staff UI speaks.
var Languages = []string{"en", "ru"}

func checkLanguage(l string) error {
	for _, x := range Languages {
		if l == x {
			return nil
		}
	}
	return fmt.Errorf("%w: language %q: want en or ru", vigil.ErrInvalid, l)
}
