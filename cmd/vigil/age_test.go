package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hr/vigil/internal/padme"
)

const agePassphrase = "stock age test passphrase"

// TestAgeDecryptsEveryBlob checks the README's promise: with the identity
// from `vigil key export-identity`, the stock age command (built from
// filippo.io/age/cmd/age, code we did not write) decrypts every blob in the
// data directory, and each plaintext is exactly one of the ingested files
// followed by zeros to its padded size (internal/padme), so that
// `age -d ... | head -c SIZE` recovers the file: each blob matches one file.
func TestAgeDecryptsEveryBlob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vigil and age binaries")
	}
	tmp := t.TempDir()
	vigilBin, ageBin := ageBuild(t, tmp)
	data := filepath.Join(tmp, "data")
	src := filepath.Join(tmp, "src")
	os.MkdirAll(filepath.Join(src, "sub"), 0o700)

	large := make([]byte, 2<<20+777) // many 64 KiB age chunks and a partial one
	rand.Read(large)
	chunk := make([]byte, 64<<10) // exactly one full chunk
	rand.Read(chunk)
	files := map[string][]byte{
		"statement.txt":      []byte("I saw it happen.\n"),
		"empty":              nil,
		"large.bin":          large,
		"chunk.bin":          chunk,
		"sub/testimony.txt":  []byte("Я видел это.\n"),
		"sub/duplicate.txt":  []byte("I saw it happen.\n"), // same content, separate blob
		"sub/photo.jpg":      append([]byte{0xff, 0xd8, 0xff, 0xe0}, large[:5000]...),
		"sub/one-byte.bin":   {0},
		"sub/newline-only.x": []byte("\n"),
	}
	want := make(map[[32]byte]int) // plaintext hash -> number of files
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(src, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		want[sha256.Sum256(b)]++
	}

	env := vigilEnv(agePassphrase)
	ageRun(t, vigilBin, env, nil, "init", "--data", data, "--scrypt-work-factor", "10")
	out := ageRun(t, vigilBin, env, nil, "add", "--data", data, src)
	if n := strings.Count(out, "\n"); n != len(files) {
		t.Fatalf("vigil add printed %d lines, want %d:\n%s", n, len(files), out)
	}
	idFile := filepath.Join(tmp, "id.txt") // outside the data directory
	identity := ageRun(t, vigilBin, env, nil, "key", "export-identity", "--data", data)
	if err := os.WriteFile(idFile, []byte(identity), 0o600); err != nil {
		t.Fatal(err)
	}
	// The identity is for the configured recipient.
	var cfg struct {
		Recipient string `json:"age_recipient"`
	}
	b, _ := os.ReadFile(filepath.Join(data, "vigil.json"))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	ids, err := age.ParseIdentities(strings.NewReader(identity))
	if err != nil || len(ids) != 1 {
		t.Fatalf("exported identity: %v\n%s", err, identity)
	}
	if r := ids[0].(*age.X25519Identity).Recipient().String(); r != cfg.Recipient {
		t.Errorf("exported identity's recipient %s, vigil.json says %s", r, cfg.Recipient)
	}

	// Decrypt every blob with stock age. A plaintext may fit more than one
	// file (256 zero bytes are the empty file padded, and the file holding
	// one zero byte padded), so collect each blob's candidates, then match.
	lengths := map[int]bool{}
	for _, b := range files {
		lengths[len(b)] = true
	}
	var candidates [][][32]byte
	var blobs int
	err = filepath.WalkDir(filepath.Join(data, "blobs"), func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() && de.Name() == "tmp" {
			return filepath.SkipDir
		}
		if !de.Type().IsRegular() {
			return nil
		}
		blobs++
		plain := ageRun(t, ageBin, nil, nil, "-d", "-i", idFile, path)
		var cands [][32]byte
		for n := range lengths {
			if int64(len(plain)) != padme.Size(int64(n)) || strings.Trim(plain[n:], "\x00") != "" {
				continue
			}
			if h := sha256.Sum256([]byte(plain[:n])); want[h] > 0 {
				cands = append(cands, h)
			}
		}
		if len(cands) == 0 {
			t.Errorf("age -d %s: %d bytes that are none of the ingested files, padded", path, len(plain))
		}
		candidates = append(candidates, cands)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if blobs != len(files) {
		t.Errorf("%d blobs for %d files", blobs, len(files))
	}
	left := maps.Clone(want)
	var match func(i int) bool
	match = func(i int) bool {
		if i == len(candidates) {
			return true
		}
		for _, h := range candidates[i] {
			if left[h] > 0 {
				left[h]--
				if match(i + 1) {
					return true
				}
				left[h]++
			}
		}
		return false
	}
	if !match(0) {
		t.Errorf("the blobs do not decrypt to the ingested files one to one (candidates per blob: %v)", candidates)
	}

	// Stock age refuses a blob with another vault's identity.
	other := filepath.Join(tmp, "other.txt")
	oid, _ := age.GenerateX25519Identity()
	os.WriteFile(other, []byte(oid.String()+"\n"), 0o600)
	anyBlob, _ := filepath.Glob(filepath.Join(data, "blobs", "??", "*"))
	cmd := exec.Command(ageBin, "-d", "-i", other, anyBlob[0])
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("age -d with an unrelated identity succeeded: %q", out)
	}
}

// ageBuild returns the shared vigil binary and builds the stock age command into dir.
func ageBuild(t *testing.T, dir string) (vigil, ageBin string) {
	t.Helper()
	ageBin = filepath.Join(dir, "age")
	if out, err := exec.Command("go", "build", "-o", ageBin, "filippo.io/age/cmd/age").CombinedOutput(); err != nil {
		t.Fatalf("go build filippo.io/age/cmd/age: %v\n%s", err, out)
	}
	return vigilBin(t), ageBin
}

// ageRun runs bin to completion and returns its standard output; a nil env
// means the test's environment.
func ageRun(t *testing.T, bin string, env []string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.String()
}
