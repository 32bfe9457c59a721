package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
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
	fmt.Fprint(tty, "Admin passphrase: ")
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if confirm {
		fmt.Fprint(tty, "Repeat passphrase: ")
		q, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		if !bytes.Equal(p, q) {
			return nil, errors.New("passphrases do not match")
		}
	}
	return p, nil
}

// isTerminal reports whether w is a terminal (for progress output).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
