package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/witness"
)

// witnessKeyHeader is the first line of DIR/witness.key's plaintext.
const witnessKeyHeader = "vigil-witness-key/v1"

// runWitness runs a tlog-witness (c2sp.org/tlog-witness) cosigning other
// logs' checkpoints: POST /add-checkpoint, GET /<origin hash>/checkpoint. Its
// state is DIR/witness.db (SQLite, the latest cosigned checkpoint of each
// log) and its key DIR/witness.key, made on first use and never the log key,
// stored only encrypted under the witness's passphrase (an age scrypt file,
// like keys.age): a seized witness does not hand out its signing key.
func runWitness(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "witness", "--data DIR [--name NAME] [--add-log VKEY] [--listen ADDR] [--passphrase-file FILE]")
	data := dataFlag(fs, e)
	name := fs.String("name", "", "the witness's `NAME`, a schema-less URL such as witness.ngo.example/w1; needed the first time, when the key is made (the key ID depends on it)")
	addLog := fs.String("add-log", "", "witness the log whose verifier key is `VKEY` (its name is the log origin), then exit")
	listen := fs.String("listen", "127.0.0.1:7380", "listener `ADDR`")
	pfile := fs.String("passphrase-file", "", "read the witness key's passphrase from `FILE` (or VIGIL_PASSPHRASE, else a prompt)")
	workFactor := fs.Int("scrypt-work-factor", 18, "scrypt work factor (log2 N) when the key is made; lower only for tests")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	pass, err := passphrase(e, *pfile, false)
	if err != nil {
		return err
	}
	defer clear(pass)
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("witness directory: %w", err)
	}
	signer, err := loadWitnessKey(filepath.Join(*data, "witness.key"), *name, pass, *workFactor)
	if err != nil {
		return err
	}
	db, err := witness.OpenDB(ctx, filepath.Join(*data, "witness.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(e.stdout, "witness key: %s\n", signer.VerifierKey())
	if *addLog != "" {
		v, err := note.NewVerifier(*addLog)
		if err != nil {
			return usageError{fmt.Sprintf("--add-log: %v", err)}
		}
		if err := db.AddLog(ctx, v.Name(), *addLog); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "witnessing %s\n", v.Name())
		return nil
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	srv := &http.Server{
		Handler:           http.MaxBytesHandler(&witness.Server{DB: db, Signer: signer, Log: logger}, witness.MaxRequestSize),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	fmt.Fprintf(e.stdout, "witness http://%s/\n", l.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// loadWitnessKey decrypts the witness key file with pass, or makes one named
// name if there is none. The file is an age scrypt file (stock age decrypts
// it with the passphrase) holding the header, the name and the Ed25519 seed:
// whoever holds the file and the passphrase can cosign in the witness's name.
func loadWitnessKey(path, name string, pass []byte, workFactor int) (*witness.Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if name == "" {
			return nil, usageError{"no witness key yet: give --name NAME to make one"}
		}
		_, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		s, err := witness.NewSigner(name, key, nil)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		text := []byte(fmt.Sprintf("%s\n%s\n%s\n", witnessKeyHeader, name, base64.StdEncoding.EncodeToString(key.Seed())))
		defer clear(text)
		r, err := age.NewScryptRecipient(string(pass))
		if err != nil {
			return nil, err
		}
		r.SetWorkFactor(workFactor)
		var ct bytes.Buffer
		w, err := age.Encrypt(&ct, r)
		if err != nil {
			return nil, fmt.Errorf("encrypt witness key: %w", err)
		}
		if _, err := w.Write(text); err != nil {
			return nil, fmt.Errorf("encrypt witness key: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("encrypt witness key: %w", err)
		}
		if err := atomicfile.WriteNew(path, ct.Bytes(), 0o600); err != nil {
			return nil, fmt.Errorf("write witness key: %w", err)
		}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read witness key: %w", err)
	}
	id, err := age.NewScryptIdentity(string(pass))
	if err != nil {
		return nil, err
	}
	dr, err := age.Decrypt(bytes.NewReader(b), id)
	if err != nil {
		return nil, fmt.Errorf("decrypt witness key %s (wrong passphrase?): %w", path, err)
	}
	plain, err := io.ReadAll(io.LimitReader(dr, 4096))
	if err != nil {
		return nil, fmt.Errorf("decrypt witness key %s: %w", path, err)
	}
	defer clear(plain)
	lines := strings.Split(string(bytes.TrimSuffix(plain, []byte("\n"))), "\n")
	if len(lines) != 3 || lines[0] != witnessKeyHeader {
		return nil, fmt.Errorf("witness key %s is malformed", path)
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("witness key %s is malformed", path)
	}
	if name != "" && name != lines[1] {
		return nil, usageError{fmt.Sprintf("--name %q differs from the key's name %q (the name is part of the key ID)", name, lines[1])}
	}
	return witness.NewSigner(lines[1], ed25519.NewKeyFromSeed(seed), nil)
}
