package witness_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// memLog is a test log in memory: stored hashes and a signing key.
type memLog struct {
	origin string
	signer note.Signer
	vkey   string
	hashes []tlog.Hash
	n      int64
}

func newMemLog(tb testing.TB, origin string) *memLog {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(nil, origin)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	return &memLog{origin: origin, signer: s, vkey: vkey}
}

// fork returns a log with the same key and the first n entries of l.
func (l *memLog) fork(n int64) *memLog {
	f := &memLog{origin: l.origin, signer: l.signer, vkey: l.vkey}
	f.hashes = append(f.hashes, l.hashes[:tlog.StoredHashCount(n)]...)
	f.n = n
	return f
}

func (l *memLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

// add appends k entries whose content is tag and their index.
func (l *memLog) add(tb testing.TB, k int, tag string) {
	tb.Helper()
	for range k {
		e := sha256.Sum256(fmt.Appendf(nil, "%s %d", tag, l.n))
		hs, err := tlog.StoredHashes(l.n, e[:], l)
		if err != nil {
			tb.Fatal(err)
		}
		l.hashes = append(l.hashes, hs...)
		l.n++
	}
}

// checkpoint signs a checkpoint of the whole tree.
func (l *memLog) checkpoint(tb testing.TB) []byte {
	tb.Helper()
	h, err := tlog.TreeHash(l.n, l)
	if err != nil {
		tb.Fatal(err)
	}
	text := fmt.Sprintf("%s\n%d\n%s\n", l.origin, l.n, h)
	signed, err := note.Sign(&note.Note{Text: text}, l.signer)
	if err != nil {
		tb.Fatal(err)
	}
	return signed
}

func sha256Hex(s string) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))
}
