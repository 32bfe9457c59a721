package datadir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/internal/dirlock"
	"github.com/vigil-hr/vigil/vault"
)

// AddAdvisoryKey gives a data directory made before publication keys
// existed its publication (advisory) key: it adds the key to DIR/keys.age
// under passphrase, with the file's own scrypt work factor, and its
// verifier key to vigil.json as advisory_vkey (every other field of
// vigil.json is kept as it is). It refuses a directory that has one, and
// needs the directory unlocked (vigil serve stopped).
func AddAdvisoryKey(dir string, passphrase []byte) (string, error) {
	cfgPath := filepath.Join(dir, "vigil.json")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return "", fmt.Errorf("read config: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", fmt.Errorf("%w: %s: %v", vigil.ErrCorrupt, cfgPath, err)
	}
	if cfg.AdvisoryVKey != "" {
		return "", fmt.Errorf("%w: %s already has an advisory key: %s", vigil.ErrConflict, dir, cfg.AdvisoryVKey)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return "", fmt.Errorf("%w: %s: %v", vigil.ErrCorrupt, cfgPath, err)
	}
	lock, err := dirlock.Acquire(dir)
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	keys := filepath.Join(dir, "keys.age")
	vkey, err := vault.AddAdvisoryKey(keys, passphrase, cfg.Origin, scryptWorkFactor(keys))
	if err != nil {
		return "", err
	}
	raw["advisory_vkey"], _ = json.Marshal(vkey)
	out, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return "", err
	}
	if err := atomicfile.Write(cfgPath, append(out, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("the key file holds the new key, but vigil.json could not be written (add \"advisory_vkey\": %q to it by hand): %w", vkey, err)
	}
	return vkey, nil
}

// scryptWorkFactor returns the work factor of an age file encrypted to a
// passphrase (its "-> scrypt SALT N" stanza), or 0 if it cannot tell.
func scryptWorkFactor(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 0; i < 4 && sc.Scan(); i++ {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("-> scrypt ")); ok {
			fs := strings.Fields(string(rest))
			if len(fs) == 2 {
				if n, err := strconv.Atoi(fs[1]); err == nil && n > 0 && n < 31 {
					return n
				}
			}
		}
	}
	return 0
}
