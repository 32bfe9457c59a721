package evlog_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
)

// utLog is an in-memory evlog.Writer, evlog.CheckpointStore and evlog.Source.
type utLog struct {
	entries     [][]byte
	hashes      []tlog.Hash // tlog.StoredHashIndex layout
	checkpoints [][]byte
}

func (l *utLog) TreeSize() (int64, error) { return int64(len(l.entries)), nil }

func (l *utLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *utLog) ReadEntries(start, end int64) ([][]byte, error) {
	if start < 0 || end > int64(len(l.entries)) || start > end {
		return nil, fmt.Errorf("no entries %d-%d", start, end)
	}
	return l.entries[start:end], nil
}

func (l *utLog) WriteLeaf(index int64, entry []byte, hashes []tlog.Hash) error {
	if index != int64(len(l.entries)) || tlog.StoredHashIndex(0, index) != int64(len(l.hashes)) {
		return fmt.Errorf("%w: leaf %d at size %d", vigil.ErrConflict, index, len(l.entries))
	}
	l.entries = append(l.entries, bytes.Clone(entry))
	l.hashes = append(l.hashes, hashes...)
	return nil
}

func (l *utLog) PutCheckpoint(size int64, signed []byte) error {
	l.checkpoints = append(l.checkpoints, bytes.Clone(signed))
	return nil
}

func (l *utLog) LatestCheckpoint() ([]byte, error) {
	if len(l.checkpoints) == 0 {
		return nil, nil
	}
	return l.checkpoints[len(l.checkpoints)-1], nil
}

// utSource serves a utLog as an evlog.Source.
type utSource struct{ l *utLog }

func (s utSource) ViewLog(ctx context.Context, fn func(evlog.Reader) error) error { return fn(s.l) }
func (s utSource) LatestCheckpoint(context.Context) ([]byte, error)               { return s.l.LatestCheckpoint() }

// utEntry is the deterministic i'th test entry (a commitment to a statement).
func utEntry(i int, variant string) [evlog.EntrySize]byte {
	return sha256.Sum256([]byte(fmt.Sprintf("entry %d %s", i, variant)))
}

// utNewLog returns a log of n entries.
func utNewLog(t testing.TB, n int, variant string) *utLog {
	t.Helper()
	l := &utLog{}
	for i := range n {
		idx, err := evlog.Append(l, utEntry(i, variant))
		if err != nil {
			t.Fatal(err)
		}
		if idx != int64(i) {
			t.Fatalf("Append returned index %d, want %d", idx, i)
		}
	}
	return l
}

// utKeys returns a fresh signer and verifier named origin.
func utKeys(t testing.TB, origin string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// utFastKey is a note.Signer and note.Verifier whose "signature" is a
// SHA-256 MAC: cheap, so the exhaustive proof test stays fast under -race.
// (Ed25519 signatures are tested everywhere else.)
type utFastKey struct{ name string }

func (k utFastKey) Name() string    { return k.name }
func (k utFastKey) KeyHash() uint32 { return 0x76696731 }
func (k utFastKey) Sign(msg []byte) ([]byte, error) {
	h := sha256.Sum256(append([]byte("utFastKey "+k.name+"\n"), msg...))
	return h[:], nil
}
func (k utFastKey) Verify(msg, sig []byte) bool {
	h, _ := k.Sign(msg)
	return bytes.Equal(h, sig)
}

// utSign signs a checkpoint body text with s.
func utSign(t testing.TB, text string, s note.Signer) []byte {
	t.Helper()
	b, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The reference: RFC 6962 section 2.1, written from the RFC, not from tlog.

func utLeafHash(entry []byte) [32]byte {
	return sha256.Sum256(append([]byte{0}, entry...))
}

func utNodeHash(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// utSplit returns the largest power of two smaller than n (n > 1).
func utSplit(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// utRef computes MTH and PATH over a fixed list of entries, memoizing MTH of ranges.
type utRef struct {
	entries [][]byte
	memo    map[[2]int][32]byte
}

// mth is MTH(D[lo:hi]).
func (r *utRef) mth(lo, hi int) [32]byte {
	if h, ok := r.memo[[2]int{lo, hi}]; ok {
		return h
	}
	var h [32]byte
	switch n := hi - lo; {
	case n == 0:
		h = sha256.Sum256(nil)
	case n == 1:
		h = utLeafHash(r.entries[lo])
	default:
		k := utSplit(n)
		h = utNodeHash(r.mth(lo, lo+k), r.mth(lo+k, hi))
	}
	r.memo[[2]int{lo, hi}] = h
	return h
}

// path is PATH(m, D[lo:hi]), leaf sibling first.
func (r *utRef) path(m, lo, hi int) [][32]byte {
	n := hi - lo
	if n <= 1 {
		return nil
	}
	k := utSplit(n)
	if m < k {
		return append(r.path(m, lo, lo+k), r.mth(lo+k, hi))
	}
	return append(r.path(m-k, lo+k, hi), r.mth(lo, lo+k))
}

func TestStatementRoundTrip(t *testing.T) {
	st := evlog.Statement{
		Kind: "item", ID: "0k6z4w3m8hq2v5a9c1d7e3f0gn", Version: 3,
		Time:   time.Date(2026, 11, 25, 15, 0, 7, 0, time.UTC),
		SHA256: sha256.Sum256([]byte("test")), Size: 4, MediaType: "text/plain", Prev: 17,
	}
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "vigil.statement/v1\nkind item\nid 0k6z4w3m8hq2v5a9c1d7e3f0gn\nversion 3\ntime 2026-11-25T15:00:07Z\n" +
		"sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\nsize 4\ntype text/plain\nprev 17\n"
	if string(b) != want {
		t.Fatalf("Marshal:\n%s\nwant:\n%s", b, want)
	}
	got, err := evlog.ParseStatement(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(st.Time) {
		t.Fatalf("time %v, want %v", got.Time, st.Time)
	}
	got.Time = st.Time
	if got != st {
		t.Fatalf("ParseStatement = %+v, want %+v", got, st)
	}
	// prev -1 is "-", and a non-UTC time is written in UTC.
	st.Prev = -1
	st.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	b, err = st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\nprev -\n")) || !bytes.Contains(b, []byte("\ntime 2026-01-02T02:04:05Z\n")) {
		t.Fatalf("Marshal:\n%s", b)
	}
	got, err = evlog.ParseStatement(b)
	if err != nil || got.Prev != -1 || !got.Time.Equal(st.Time) {
		t.Fatalf("ParseStatement = %+v, %v", got, err)
	}
	if again, _ := got.Marshal(); !bytes.Equal(again, b) {
		t.Fatal("Parse then Marshal changed the bytes")
	}
}

func TestStatementMarshalRejects(t *testing.T) {
	good := evlog.Statement{Kind: "item", ID: "abc", Version: 1, Time: time.Unix(0, 0), MediaType: "text/plain", Prev: -1}
	if _, err := good.Marshal(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*evlog.Statement){
		"empty kind":      func(s *evlog.Statement) { s.Kind = "" },
		"space in id":     func(s *evlog.Statement) { s.ID = "a b" },
		"newline in id":   func(s *evlog.Statement) { s.ID = "a\nkind x" },
		"control in type": func(s *evlog.Statement) { s.MediaType = "text/\x01" },
		"non-ASCII type":  func(s *evlog.Statement) { s.MediaType = "text/é" },
		"long id":         func(s *evlog.Statement) { s.ID = strings.Repeat("a", 256) },
		"version 0":       func(s *evlog.Statement) { s.Version = 0 },
		"negative size":   func(s *evlog.Statement) { s.Size = -1 },
		"prev -2":         func(s *evlog.Statement) { s.Prev = -2 },
	} {
		s := good
		mod(&s)
		if b, err := s.Marshal(); err == nil {
			t.Errorf("%s: Marshal accepted it:\n%s", name, b)
		}
	}
}

func TestParseStatementRejects(t *testing.T) {
	good := "vigil.statement/v1\nkind item\nid abc\nversion 1\ntime 2026-11-25T15:00:00Z\n" +
		"sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\nsize 4\ntype text/plain\nprev -\n"
	if _, err := evlog.ParseStatement([]byte(good)); err != nil {
		t.Fatal(err)
	}
	rep := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("test bug: %q not in statement", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	bad := map[string]string{
		"empty":                "",
		"no final newline":     strings.TrimSuffix(good, "\n"),
		"extra final newline":  good + "\n",
		"extra line":           good + "note x\n",
		"CRLF":                 strings.ReplaceAll(good, "\n", "\r\n"),
		"wrong header":         rep("vigil.statement/v1", "vigil.statement/v2"),
		"missing line":         rep("size 4\n", ""),
		"swapped lines":        rep("size 4\ntype text/plain", "type text/plain\nsize 4"),
		"double space":         rep("kind item", "kind  item"),
		"empty kind":           rep("kind item", "kind "),
		"version 0":            rep("version 1", "version 0"),
		"version 01":           rep("version 1", "version 01"),
		"version +1":           rep("version 1", "version +1"),
		"size -1":              rep("size 4", "size -1"),
		"size 04":              rep("size 4", "size 04"),
		"size overflow":        rep("size 4", "size 9223372036854775808"),
		"prev -1":              rep("prev -", "prev -1"),
		"prev 007":             rep("prev -", "prev 007"),
		"uppercase sha256":     rep("9f86d0", "9F86D0"),
		"short sha256":         rep("0f00a08\n", "0f00a0\n"),
		"time with zone":       rep("15:00:00Z", "16:00:00+01:00"),
		"time with fraction":   rep("15:00:00Z", "15:00:00.5Z"),
		"time not RFC 3339":    rep("2026-11-25T15:00:00Z", "2026-11-25 15:00:00"),
		"trailing space":       rep("type text/plain", "type text/plain "),
		"too long":             good + strings.Repeat("x", evlog.MaxStatementSize),
		"NUL":                  rep("id abc", "id a\x00c"),
		"non-ASCII media type": rep("text/plain", "text/plaïn"),
	}
	for name, s := range bad {
		if st, err := evlog.ParseStatement([]byte(s)); err == nil {
			t.Errorf("%s: accepted as %+v", name, st)
		}
	}
}

func TestCheckpointFormatParse(t *testing.T) {
	c := evlog.Checkpoint{Origin: "example.org/log", Tree: tlog.Tree{N: 12345, Hash: tlog.Hash(sha256.Sum256([]byte("root")))}}
	text := c.Format()
	want := "example.org/log\n12345\n" + base64.StdEncoding.EncodeToString(c.Hash[:]) + "\n"
	if text != want {
		t.Fatalf("Format = %q, want %q", text, want)
	}
	got, err := evlog.ParseCheckpoint(text)
	if err != nil || got != c {
		t.Fatalf("ParseCheckpoint = %+v, %v", got, err)
	}
	// Extension lines are allowed (c2sp.org/tlog-checkpoint) and ignored.
	if got, err := evlog.ParseCheckpoint(text + "ext one\next two\n"); err != nil || got != c {
		t.Fatalf("with extensions: %+v, %v", got, err)
	}
	h := base64.StdEncoding.EncodeToString(c.Hash[:])
	for name, s := range map[string]string{
		"empty":                "",
		"no final newline":     strings.TrimSuffix(text, "\n"),
		"empty origin":         "\n12345\n" + h + "\n",
		"missing hash":         "example.org/log\n12345\n",
		"size with plus":       "example.org/log\n+12345\n" + h + "\n",
		"negative size":        "example.org/log\n-1\n" + h + "\n",
		"size leading zero":    "example.org/log\n012345\n" + h + "\n",
		"size not a number":    "example.org/log\nmany\n" + h + "\n",
		"short hash":           "example.org/log\n12345\n" + base64.StdEncoding.EncodeToString(c.Hash[:31]) + "\n",
		"hash not base64":      "example.org/log\n12345\n" + strings.Repeat("!", 44) + "\n",
		"empty extension line": text + "\n",
		"too large":            text + strings.Repeat("x", evlog.MaxCheckpointSize) + "\n",
	} {
		if c, err := evlog.ParseCheckpoint(s); err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
	}
}

func TestOpenCheckpoint(t *testing.T) {
	s, v := utKeys(t, "example.org/log")
	_, other := utKeys(t, "example.org/log")
	c := evlog.Checkpoint{Origin: "example.org/log", Tree: tlog.Tree{N: 7, Hash: tlog.Hash(sha256.Sum256([]byte("root")))}}
	signed := utSign(t, c.Format(), s)
	got, err := evlog.OpenCheckpoint(signed, v)
	if err != nil || got != c {
		t.Fatalf("OpenCheckpoint = %+v, %v", got, err)
	}
	// Another key with the same name: a signature error.
	if _, err := evlog.OpenCheckpoint(signed, other); !errors.Is(err, evlog.ErrSignature) {
		t.Errorf("wrong key: err = %v, want ErrSignature", err)
	}
	// A flipped signature byte.
	bad := bytes.Clone(signed)
	bad[len(bad)-10] ^= 1
	if _, err := evlog.OpenCheckpoint(bad, v); !errors.Is(err, evlog.ErrSignature) {
		t.Errorf("bad signature: err = %v, want ErrSignature", err)
	}
	// A flipped body byte.
	bad = bytes.Replace(signed, []byte("\n7\n"), []byte("\n8\n"), 1)
	if _, err := evlog.OpenCheckpoint(bad, v); !errors.Is(err, evlog.ErrSignature) {
		t.Errorf("changed size: err = %v, want ErrSignature", err)
	}
	// Validly signed by the log's key, but the body names another origin.
	wrong := evlog.Checkpoint{Origin: "evil.example/log", Tree: c.Tree}
	signedWrong := utSign(t, wrong.Format(), s)
	if _, err := evlog.OpenCheckpoint(signedWrong, v); err == nil || errors.Is(err, evlog.ErrSignature) || !strings.Contains(err.Error(), "origin") {
		t.Errorf("wrong origin: err = %v, want an origin error", err)
	}
	// Validly signed, but the body is not a checkpoint.
	if _, err := evlog.OpenCheckpoint(utSign(t, "example.org/log\nx\ny\n", s), v); err == nil || errors.Is(err, evlog.ErrSignature) {
		t.Errorf("malformed body: err = %v", err)
	}
	if _, err := evlog.OpenCheckpoint(append(bytes.Clone(signed), make([]byte, evlog.MaxCheckpointSize)...), v); err == nil {
		t.Error("oversize checkpoint accepted")
	}
}

// TestTreeMatchesRFC6962 checks the root hash and every inclusion proof of
// trees of sizes 1 to 300 against a direct transcription of RFC 6962 2.1.
func TestTreeMatchesRFC6962(t *testing.T) {
	const max = 300
	s, v := utFastKey{"example.org/log"}, utFastKey{"example.org/log"}
	l := &utLog{}
	ref := &utRef{memo: map[[2]int][32]byte{}}
	if h, err := evlog.TreeHash(l, 0); err != nil || h != tlog.Hash(sha256.Sum256(nil)) {
		t.Fatalf("empty tree hash = %v, %v; want SHA-256 of nothing", h, err)
	}
	for n := 1; n <= max; n++ {
		e := utEntry(n-1, "")
		if _, err := evlog.Append(l, e); err != nil {
			t.Fatal(err)
		}
		ref.entries = append(ref.entries, e[:])
		tree, err := evlog.Tree(l)
		if err != nil {
			t.Fatal(err)
		}
		if tree.N != int64(n) || tree.Hash != tlog.Hash(ref.mth(0, n)) {
			t.Fatalf("size %d: tree %d %v, RFC 6962 MTH %x", n, tree.N, tree.Hash, ref.mth(0, n))
		}
		signed := utSign(t, evlog.Checkpoint{Origin: "example.org/log", Tree: tree}.Format(), s)
		for i := range n {
			extra := []byte(fmt.Sprintf("extra %d", i))
			p, err := evlog.Prove(l, int64(i), int64(n), signed, extra)
			if err != nil {
				t.Fatalf("Prove(%d, %d): %v", i, n, err)
			}
			want := ref.path(i, 0, n)
			if len(p.Path) != len(want) {
				t.Fatalf("size %d index %d: path of %d hashes, RFC 6962 PATH has %d", n, i, len(p.Path), len(want))
			}
			for j := range want {
				if p.Path[j] != tlog.Hash(want[j]) {
					t.Fatalf("size %d index %d: path hash %d differs from RFC 6962 PATH", n, i, j)
				}
			}
			b := p.Marshal()
			got, c, err := evlog.VerifyProof(b, v, utEntry(i, ""))
			if err != nil {
				t.Fatalf("VerifyProof(%d in %d): %v", i, n, err)
			}
			if c.N != int64(n) || got.Index != int64(i) || !bytes.Equal(got.Extra, extra) {
				t.Fatalf("VerifyProof(%d in %d) = %+v, %+v", i, n, got, c)
			}
			// The entry must be exactly this one.
			if i%5 != 0 {
				continue
			}
			if _, _, err := evlog.VerifyProof(b, v, utEntry(i+1, "")); utPart(err) != "inclusion proof" {
				t.Fatalf("VerifyProof of another entry at %d in %d: %v", i, n, err)
			}
		}
	}
}

func utPart(err error) string {
	var pe *evlog.ProofError
	if errors.As(err, &pe) {
		return pe.Part
	}
	if err == nil {
		return "<nil>"
	}
	return "not a ProofError: " + err.Error()
}

func TestVerifyProofParts(t *testing.T) {
	const n, index = 21, 13
	s, v := utKeys(t, "example.org/log")
	otherSigner, other := utKeys(t, "example.org/log")
	l := utNewLog(t, n, "")
	tree, err := evlog.Tree(l)
	if err != nil {
		t.Fatal(err)
	}
	cp := evlog.Checkpoint{Origin: "example.org/log", Tree: tree}
	signed := utSign(t, cp.Format(), s)
	entry := utEntry(index, "")
	prove := func(signed []byte) evlog.Proof {
		p, err := evlog.Prove(l, index, n, signed, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := prove(signed)
	if _, _, err := evlog.VerifyProof(good.Marshal(), v, entry); err != nil {
		t.Fatal(err)
	}

	flippedRoot := cp
	flippedRoot.Hash[5] ^= 0x40
	badSig := bytes.Clone(signed)
	i := bytes.LastIndexByte(badSig[:len(badSig)-1], ' ') + 5 // inside the signature's base64
	badSig[i] ^= 1
	wrongOrigin := evlog.Checkpoint{Origin: "other.example/log", Tree: tree}

	cases := []struct {
		name  string
		proof []byte
		v     note.Verifier
		part  string
	}{
		{"bad signature", prove(badSig).Marshal(), v, "checkpoint signature"},
		{"wrong key", good.Marshal(), other, "checkpoint signature"},
		{"signed by another key", prove(utSign(t, cp.Format(), otherSigner)).Marshal(), v, "checkpoint signature"},
		{"body changed after signing", bytes.Replace(good.Marshal(), []byte("\n21\n"), []byte("\n22\n"), 1), v, "checkpoint signature"},
		{"wrong origin", prove(utSign(t, wrongOrigin.Format(), s)).Marshal(), v, "checkpoint"},
		{"flipped root (re-signed)", prove(utSign(t, flippedRoot.Format(), s)).Marshal(), v, "inclusion proof"},
		{"flipped path hash", func() []byte {
			p := prove(signed)
			p.Path[2][7] ^= 0x01
			return p.Marshal()
		}(), v, "inclusion proof"},
		{"missing path hash", func() []byte {
			p := prove(signed)
			p.Path = p.Path[:len(p.Path)-1]
			return p.Marshal()
		}(), v, "inclusion proof"},
		{"wrong index", func() []byte {
			p := prove(signed)
			p.Index++
			return p.Marshal()
		}(), v, "inclusion proof"},
		{"index beyond the tree", func() []byte {
			p := prove(signed)
			p.Index = n
			return p.Marshal()
		}(), v, "inclusion proof"},
		{"malformed", []byte("c2sp.org/tlog-proof@v1\nindex 01\n\n"), v, "format"},
		{"no header", good.Marshal()[1:], v, "format"},
	}
	for _, c := range cases {
		_, _, err := evlog.VerifyProof(c.proof, c.v, entry)
		if got := utPart(err); got != c.part {
			t.Errorf("%s: part %q (%v), want %q", c.name, got, err, c.part)
		}
	}
}

func TestParseProof(t *testing.T) {
	s, _ := utKeys(t, "example.org/log")
	l := utNewLog(t, 9, "")
	tree, _ := evlog.Tree(l)
	signed := utSign(t, evlog.Checkpoint{Origin: "example.org/log", Tree: tree}.Format(), s)
	p, err := evlog.Prove(l, 4, 9, signed, []byte("salt and statement"))
	if err != nil {
		t.Fatal(err)
	}
	b := p.Marshal()
	// The format of c2sp.org/tlog-proof@v1, line by line.
	lines := strings.Split(string(b), "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" || lines[1] != "extra "+base64.StdEncoding.EncodeToString([]byte("salt and statement")) ||
		lines[2] != "index 4" || lines[3+len(p.Path)] != "" || !strings.HasSuffix(string(b), "\n\n"+string(signed)) {
		t.Fatalf("proof:\n%s", b)
	}
	q, err := evlog.ParseProof(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(q.Marshal(), b) {
		t.Fatal("ParseProof then Marshal changed the proof")
	}
	p.Extra = nil
	if q, err := evlog.ParseProof(p.Marshal()); err != nil || q.Extra != nil || q.Index != 4 {
		t.Fatalf("proof without extra: %+v, %v", q, err)
	}
	b64 := base64.StdEncoding.EncodeToString
	h := b64(make([]byte, 32))
	for name, s := range map[string]string{
		"empty":                "",
		"wrong header":         "c2sp.org/tlog-proof@v2\nindex 0\n\n" + string(signed),
		"index leading zero":   "c2sp.org/tlog-proof@v1\nindex 04\n\n" + string(signed),
		"negative index":       "c2sp.org/tlog-proof@v1\nindex -4\n\n" + string(signed),
		"no index":             "c2sp.org/tlog-proof@v1\n" + h + "\n\n" + string(signed),
		"extra after index":    "c2sp.org/tlog-proof@v1\nindex 4\nextra AA==\n\n" + string(signed),
		"short hash":           "c2sp.org/tlog-proof@v1\nindex 4\n" + b64(make([]byte, 31)) + "\n\n" + string(signed),
		"unpadded hash":        "c2sp.org/tlog-proof@v1\nindex 4\n" + strings.TrimRight(h, "=") + "\n\n" + string(signed),
		"non-canonical extra":  "c2sp.org/tlog-proof@v1\nextra AB==\nindex 4\n\n" + string(signed),
		"no checkpoint":        "c2sp.org/tlog-proof@v1\nindex 4\n" + h + "\n\n",
		"truncated":            "c2sp.org/tlog-proof@v1\nindex 4\n" + h,
		"64 path hashes":       "c2sp.org/tlog-proof@v1\nindex 4\n" + strings.Repeat(h+"\n", 64) + "\n" + string(signed),
		"too large":            "c2sp.org/tlog-proof@v1\nextra " + b64(make([]byte, evlog.MaxProofSize)) + "\nindex 4\n\n" + string(signed),
		"CRLF":                 strings.ReplaceAll(string(b), "\n", "\r\n"),
		"space in index line":  "c2sp.org/tlog-proof@v1\nindex  4\n\n" + string(signed),
		"index over int64 max": "c2sp.org/tlog-proof@v1\nindex 9223372036854775808\n\n" + string(signed),
	} {
		if p, err := evlog.ParseProof([]byte(s)); err == nil {
			t.Errorf("%s: accepted as %+v", name, p)
		}
	}
}

func TestCheckpointer(t *testing.T) {
	s, v := utKeys(t, "example.org/log")
	dir := t.TempDir()
	newCP := func() *evlog.Checkpointer {
		return &evlog.Checkpointer{Signer: s, Verifier: v, AnchorPath: filepath.Join(dir, "checkpoint")}
	}
	c := newCP()
	if a, err := c.Anchor(); a != nil || err != nil {
		t.Fatalf("Anchor before any = %q, %v", a, err)
	}
	l := utNewLog(t, 5, "")
	first, err := c.Sign(l)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := evlog.OpenCheckpoint(first, v)
	if err != nil || cp.N != 5 {
		t.Fatalf("signed %+v, %v", cp, err)
	}
	if a, _ := c.Anchor(); !bytes.Equal(a, first) {
		t.Fatal("the anchor file does not hold the signed checkpoint")
	}
	if len(l.checkpoints) != 1 || !bytes.Equal(l.checkpoints[0], first) {
		t.Fatal("the checkpoint was not stored through the CheckpointStore")
	}

	// No growth: the anchor comes back unchanged, nothing is stored.
	again, err := newCP().Sign(l)
	if err != nil || !bytes.Equal(again, first) || len(l.checkpoints) != 1 {
		t.Fatalf("Sign without growth: %v, same=%v, stored %d", err, bytes.Equal(again, first), len(l.checkpoints))
	}

	// (a) A tree smaller than the anchor, e.g. an old backup: refused.
	small := utNewLog(t, 3, "")
	if _, err := newCP().Sign(small); !errors.Is(err, evlog.ErrFork) {
		t.Errorf("smaller tree: err = %v, want ErrFork", err)
	}
	// (b) The same size with a different entry: refused.
	forked := utNewLog(t, 4, "")
	evlog.Append(forked, utEntry(4, "forged"))
	if _, err := newCP().Sign(forked); !errors.Is(err, evlog.ErrFork) {
		t.Errorf("same size, different entries: err = %v, want ErrFork", err)
	}
	// A larger tree whose first 5 entries differ: refused too.
	grownFork := utNewLog(t, 9, "other")
	if _, err := newCP().Sign(grownFork); !errors.Is(err, evlog.ErrFork) {
		t.Errorf("larger tree with another history: err = %v, want ErrFork", err)
	}
	for _, f := range []*utLog{small, forked, grownFork} {
		if len(f.checkpoints) != 0 {
			t.Error("a forking checkpoint was stored")
		}
	}
	if a, _ := c.Anchor(); !bytes.Equal(a, first) {
		t.Fatal("a refused Sign changed the anchor")
	}
	if err := evlog.CheckConsistent(forked, cp); !errors.Is(err, evlog.ErrFork) {
		t.Errorf("CheckConsistent(forked) = %v", err)
	}

	// Growth: a new checkpoint that extends the anchor.
	for i := 5; i < 8; i++ {
		evlog.Append(l, utEntry(i, ""))
	}
	next, err := newCP().Sign(l)
	if err != nil {
		t.Fatal(err)
	}
	cp2, err := evlog.OpenCheckpoint(next, v)
	if err != nil || cp2.N != 8 {
		t.Fatalf("after growth: %+v, %v", cp2, err)
	}
	if err := evlog.CheckConsistent(l, cp); err != nil {
		t.Fatal(err)
	}

	// A tampered anchor is not trusted.
	bad := bytes.Replace(next, []byte("\n8\n"), []byte("\n2\n"), 1)
	if err := os.WriteFile(c.AnchorPath, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	evlog.Append(l, utEntry(8, ""))
	if _, err := newCP().Sign(l); !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("tampered anchor: err = %v, want ErrCorrupt", err)
	}
}

func TestCheck(t *testing.T) {
	l := utNewLog(t, 40, "")
	if err := evlog.Check(l); err != nil {
		t.Fatal(err)
	}
	l.entries[17] = bytes.Clone(l.entries[17])
	l.entries[17][0] ^= 1
	if err := evlog.Check(l); !errors.Is(err, vigil.ErrCorrupt) || !strings.Contains(err.Error(), "entry 17") {
		t.Fatalf("Check after changing entry 17: %v", err)
	}
}

func TestTilePaths(t *testing.T) {
	for _, tc := range []struct {
		path string
		l    int
		n    int64
		w    int
	}{
		{"tile/0/000", 0, 0, 256},
		{"tile/0/001", 0, 1, 256},
		{"tile/0/000.p/1", 0, 0, 1},
		{"tile/0/x001/x234/067", 0, 1234067, 256},
		{"tile/0/x001/x234/067.p/8", 0, 1234067, 8},
		{"tile/3/999.p/255", 3, 999, 255},
		{"tile/63/x001/000", 63, 1000, 256},
		{"tile/entries/000", -1, 0, 256},
		{"tile/entries/x001/234.p/200", -1, 1234, 200},
		{"tile/0/x009/x223/x372/x036/x854/775", 0, 9223372036854775, 256},
	} {
		tile, err := evlog.ParseTilePath(tc.path)
		if err != nil {
			t.Errorf("ParseTilePath(%q): %v", tc.path, err)
			continue
		}
		if tile.H != 8 || tile.L != tc.l || tile.N != tc.n || tile.W != tc.w {
			t.Errorf("ParseTilePath(%q) = %+v", tc.path, tile)
		}
		if p := evlog.TilePath(tile); p != tc.path {
			t.Errorf("TilePath(%+v) = %q, want %q", tile, p, tc.path)
		}
	}
	// Round trip over many indexes.
	for _, n := range []int64{0, 1, 9, 10, 999, 1000, 1001, 65535, 999999, 1000000, 123456789012, 1 << 55} {
		for _, l := range []int{-1, 0, 1, 7, 63} {
			for _, w := range []int{1, 100, 255, 256} {
				tile := tlog.Tile{H: 8, L: l, N: n, W: w}
				got, err := evlog.ParseTilePath(evlog.TilePath(tile))
				if err != nil || got != tile {
					t.Errorf("round trip of %+v via %q: %+v, %v", tile, evlog.TilePath(tile), got, err)
				}
			}
		}
	}
	for _, p := range []string{
		"", "tile", "tile/", "tile/0", "tile/0/", "tiles/0/000", "/tile/0/000", "tile/0/000/",
		"tile/00/000",         // leading zero in the level
		"tile/01/000",         // leading zero in the level
		"tile/64/000",         // level over 63
		"tile/-1/000",         // negative level
		"tile/+1/000",         // sign
		"tile/data/000",       // sumdb's name, not tlog-tiles'
		"tile/0/0",            // not 3 digits
		"tile/0/0000",         // not 3 digits
		"tile/0/x000",         // x on the last element
		"tile/0/x001/x002",    // x on the last element
		"tile/0/001/002",      // no x on a non-last element
		"tile/0/x000/001",     // a leading zero element: not canonical
		"tile/0/x000/x001/00", // and short
		"tile/0/-01",
		"tile/0/+01",
		"tile/0/ 01",
		"tile/0/0a1",
		"tile/0/000.p/0",   // W = 0
		"tile/0/000.p/256", // W = 256 is a full tile, never .p
		"tile/0/000.p/01",  // leading zero in W
		"tile/0/000.p/",    // empty W
		"tile/0/000.p/-1",
		"tile/0/000.p/1/2",
		"tile/0/000.p/1.p/2",
		"tile/0/000.q/1",
		"tile/entries/x000/001",
		"tile/entries/000.p/256",
		"tile/0/x999/x999/x999/x999/x999/x999/999",      // overflows int64
		"tile/0/x001/x001/x001/x001/x001/x001/x001/001", // too many elements
	} {
		if tile, err := evlog.ParseTilePath(p); err == nil {
			t.Errorf("ParseTilePath(%q) accepted it as %+v", p, tile)
		}
	}
}

func TestReadTile(t *testing.T) {
	const n = 300
	l := utNewLog(t, n, "")
	ref := &utRef{entries: l.entries, memo: map[[2]int][32]byte{}}
	served := func(path string) ([]byte, bool) {
		t.Helper()
		tile, err := evlog.ParseTilePath(path)
		if err != nil {
			t.Fatalf("ParseTilePath(%q): %v", path, err)
		}
		b, err := evlog.ReadTile(l, tile)
		return b, err == nil
	}
	// Level 0: leaf hashes.
	b, ok := served("tile/0/000")
	if !ok || len(b) != 256*32 {
		t.Fatalf("tile/0/000: %d bytes, %v", len(b), ok)
	}
	for i := range 256 {
		if h := utLeafHash(l.entries[i]); !bytes.Equal(b[i*32:i*32+32], h[:]) {
			t.Fatalf("tile/0/000 hash %d is not the RFC 6962 leaf hash", i)
		}
	}
	b, ok = served("tile/0/001.p/44")
	if !ok || len(b) != 44*32 {
		t.Fatalf("tile/0/001.p/44: %d bytes, %v", len(b), ok)
	}
	if h := utLeafHash(l.entries[299]); !bytes.Equal(b[43*32:], h[:]) {
		t.Fatal("tile/0/001.p/44: last hash is not leaf 299")
	}
	// Level 1: the hash of the full level-0 tile is MTH of its 256 leaves.
	b, ok = served("tile/1/000.p/1")
	if h := ref.mth(0, 256); !ok || !bytes.Equal(b, h[:]) {
		t.Fatalf("tile/1/000.p/1 = %x, %v; want MTH(D[0:256]) %x", b, ok, h)
	}
	// Entry bundles: each entry with a big-endian uint16 length.
	b, ok = served("tile/entries/001.p/44")
	if !ok || len(b) != 44*34 {
		t.Fatalf("tile/entries/001.p/44: %d bytes, %v", len(b), ok)
	}
	for i := range 44 {
		rec := b[i*34 : i*34+34]
		if binary.BigEndian.Uint16(rec) != 32 || rec[0] != 0 || !bytes.Equal(rec[2:], l.entries[256+i]) {
			t.Fatalf("entry bundle record %d = %x", i, rec)
		}
	}
	if b, ok := served("tile/entries/000"); !ok || len(b) != 256*34 {
		t.Fatalf("tile/entries/000: %d bytes, %v", len(b), ok)
	}
	// Beyond the tree: not served.
	for _, p := range []string{
		"tile/0/001", "tile/0/001.p/45", "tile/0/002.p/1", "tile/0/x001/000",
		"tile/1/000", "tile/1/000.p/2", "tile/1/001.p/1", "tile/2/000.p/1", "tile/63/000.p/1",
		"tile/entries/001", "tile/entries/001.p/45", "tile/entries/002.p/1",
		"tile/0/x009/x223/x372/x036/x854/775", "tile/entries/x009/x223/x372/x036/x854/775.p/255",
	} {
		if b, ok := served(p); ok {
			t.Errorf("%s: served %d bytes of a tile outside a tree of %d", p, len(b), n)
		}
	}
	if b, err := evlog.ReadTile(l, tlog.Tile{H: 8, L: 0, N: -1, W: 1}); err == nil {
		t.Errorf("negative N: served %d bytes", len(b))
	}
	if b, err := evlog.ReadTile(&utLog{}, tlog.Tile{H: 8, L: -1, N: 0, W: 1}); err == nil {
		t.Errorf("empty tree: served %d bytes", len(b))
	}
}

func TestHandler(t *testing.T) {
	s, v := utKeys(t, "example.org/log")
	l := utNewLog(t, 3, "")
	srv := httptest.NewServer(http.StripPrefix("/log/", evlog.Handler(utSource{l})))
	defer srv.Close()
	get := func(path string) (int, http.Header, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/log/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, b
	}
	if code, _, _ := get("checkpoint"); code != http.StatusNotFound {
		t.Fatalf("checkpoint before any was signed: %d, want 404", code)
	}
	c := &evlog.Checkpointer{Signer: s, Verifier: v, AnchorPath: filepath.Join(t.TempDir(), "checkpoint")}
	signed, err := c.Sign(l)
	if err != nil {
		t.Fatal(err)
	}
	code, _, body := get("checkpoint")
	if code != http.StatusOK || !bytes.Equal(body, signed) {
		t.Fatalf("checkpoint: %d %q", code, body)
	}
	if cp, err := evlog.OpenCheckpoint(body, v); err != nil || cp.N != 3 {
		t.Fatalf("served checkpoint: %+v, %v", cp, err)
	}
	code, hdr, body := get("tile/0/000.p/3")
	if code != http.StatusOK || hdr.Get("Content-Type") != "application/octet-stream" || len(body) != 3*32 {
		t.Fatalf("tile/0/000.p/3: %d %s %d bytes", code, hdr.Get("Content-Type"), len(body))
	}
	if !strings.Contains(hdr.Get("Cache-Control"), "immutable") {
		t.Errorf("tile Cache-Control %q, want long-lived", hdr.Get("Cache-Control"))
	}
	if h := utLeafHash(l.entries[2]); !bytes.Equal(body[64:], h[:]) {
		t.Fatal("tile/0/000.p/3: wrong leaf hash")
	}
	code, _, body = get("tile/entries/000.p/3")
	if code != http.StatusOK || len(body) != 3*34 || !bytes.Equal(body[34+2:34+34], l.entries[1]) {
		t.Fatalf("tile/entries/000.p/3: %d, %x", code, body)
	}
	for _, p := range []string{"tile/0/000.p/4", "tile/0/000", "tile/0/x000/000.p/3", "tile/00/000.p/3", "nothing", "tile/1/000.p/1"} {
		if code, _, _ := get(p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	resp, err := http.Post(srv.URL+"/log/checkpoint", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}
