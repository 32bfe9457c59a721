package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/vigil-hr/vigil/internal/datadir"
)

// passphrase reads the admin passphrase from the file, else
// $VIGIL_PASSPHRASE, else a terminal prompt (twice when confirm is set).
func passphrase(e *env, file string, confirm bool) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read passphrase file: %w", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, errors.New("passphrase file is empty")
		}
		return b, nil
	}
	if p := e.getenv("VIGIL_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	return promptPassphrase(e, confirm)
}

// havePassphrase reports whether a passphrase is available without a prompt.
func havePassphrase(e *env, file string) bool {
	return file != "" || e.getenv("VIGIL_PASSPHRASE") != ""
}

func promptPassphrase(e *env, confirm bool) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errors.New("no passphrase: use --passphrase-file, VIGIL_PASSPHRASE or a terminal")
	}
	defer tty.Close()
	return readPassphrase(tty, "Admin passphrase: ", confirm)
}

// readPassphrase asks for a passphrase on the terminal tty with prompt,
// without echo, and with confirm asks again and refuses a mismatch. The
// copies it does not return are wiped.
func readPassphrase(tty *os.File, prompt string, confirm bool) ([]byte, error) {
	fmt.Fprint(tty, prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if !confirm {
		return p, nil
	}
	fmt.Fprint(tty, "Repeat passphrase: ")
	q, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	defer clear(q)
	if err != nil {
		clear(p)
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if !bytes.Equal(p, q) {
		clear(p)
		return nil, errors.New("passphrases do not match")
	}
	return p, nil
}

// isTerminal reports whether w is a terminal (for progress output).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// openDataWith reads the passphrase (always if need is set, else only when
// one is given without a prompt), opens the data directory with backends in
// place of vigil.json's, where set, and unseals it with that passphrase. The
// caller closes the directory. (The other commands use open, which goes
// through a running server's staff socket instead.)
func openDataWith(ctx context.Context, e *env, data, pfile string, need bool, be datadir.Backends) (*datadir.Dir, error) {
	var pass []byte
	if need || havePassphrase(e, pfile) {
		var err error
		if pass, err = passphrase(e, pfile, false); err != nil {
			return nil, err
		}
	}
	d, err := datadir.OpenWith(ctx, data, be)
	if err != nil {
		return nil, err
	}
	if pass != nil {
		if err := d.Vault.Unseal(pass); err != nil {
			d.Close()
			return nil, fmt.Errorf("unseal: %w", err)
		}
	}
	return d, nil
}
