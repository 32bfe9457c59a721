package evlog_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evlog"
)

// Fuzz targets for every parser and verifier in evlog. Run one with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzVerifyProof$' -fuzztime 5m -parallel 1 ./evlog/

// fzOrigin is the origin (and key name) of the fuzz test log.
const fzOrigin = "example.com/vigil-fuzz"

// fzTree is a tiny in-memory evlog.Writer: stored hashes in a map, entries in
// a slice.
type fzTree struct {
	hashes  map[int64]tlog.Hash
	entries [][]byte
}

func (t *fzTree) TreeSize() (int64, error) { return int64(len(t.entries)), nil }

func (t *fzTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := t.hashes[x]
		if !ok {
			return nil, fmt.Errorf("stored hash %d not found", x)
		}
		out[i] = h
	}
	return out, nil
}

func (t *fzTree) ReadEntries(start, end int64) ([][]byte, error) {
	if start < 0 || end > int64(len(t.entries)) || start > end {
		return nil, fmt.Errorf("entries [%d, %d) outside the tree", start, end)
	}
	out := make([][]byte, 0, end-start)
	for _, e := range t.entries[start:end] {
		out = append(out, bytes.Clone(e))
	}
	return out, nil
}

func (t *fzTree) WriteLeaf(index int64, entry []byte, hashes []tlog.Hash) error {
	if index != int64(len(t.entries)) {
		return fmt.Errorf("%w: leaf %d, tree size %d", vigil.ErrConflict, index, len(t.entries))
	}
	base := tlog.StoredHashIndex(0, index)
	for i, h := range hashes {
		t.hashes[base+int64(i)] = h
	}
	t.entries = append(t.entries, bytes.Clone(entry))
	return nil
}

// fzFixture is a small real log: statements, salts, entries, a checkpoint
// signed for every tree size, and every inclusion proof.
type fzFixture struct {
	signer      note.Signer
	verifier    note.Verifier
	vkey        string
	tree        *fzTree
	statements  [][]byte
	salts       [][evlog.SaltSize]byte
	entries     [][evlog.EntrySize]byte
	checkpoints map[int64][]byte // signed checkpoint by tree size
	signedTexts map[string]bool  // every note text the test key signed
	// extCheckpoint is the last checkpoint with an extension line, signed.
	extCheckpoint []byte
	proofs        [][]byte // encoded proofs, every (index, size)
}

const fzLeaves = 5

var (
	fzOnce sync.Once
	fzFix  *fzFixture
	fzErr  error
)

// fzKeys returns a fixed test key made by note.GenerateKey from a
// deterministic reader, so signatures are the same in every run.
func fzKeys(tb testing.TB) (note.Signer, note.Verifier, string) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.NewChaCha8([32]byte{'v', 'i', 'g', 'i', 'l'}), fzOrigin)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		tb.Fatal(err)
	}
	return s, v, vkey
}

func fzSetup(tb testing.TB) *fzFixture {
	tb.Helper()
	fzOnce.Do(func() { fzFix, fzErr = buildFixture(tb) })
	if fzErr != nil {
		tb.Fatal(fzErr)
	}
	return fzFix
}

func buildFixture(tb testing.TB) (*fzFixture, error) {
	s, v, vkey := fzKeys(tb)
	fx := &fzFixture{
		signer: s, verifier: v, vkey: vkey,
		tree:        &fzTree{hashes: map[int64]tlog.Hash{}},
		checkpoints: map[int64][]byte{},
		signedTexts: map[string]bool{},
	}
	rng := rand.NewChaCha8([32]byte{'s', 'a', 'l', 't'})
	for i := range fzLeaves {
		st := evlog.Statement{
			Kind: "item", ID: fmt.Sprintf("0k6z4w3m8hq2v5a9c1d7e3f0g%d", i), Version: 1,
			Time:      time.Date(2026, 11, 25, 15, i, 0, 0, time.UTC),
			SHA256:    sha256.Sum256([]byte{byte(i)}),
			Size:      1,
			MediaType: "text/plain",
			Prev:      int64(i) - 1,
		}
		b, err := st.Marshal()
		if err != nil {
			return nil, err
		}
		var salt [evlog.SaltSize]byte
		rng.Read(salt[:])
		e := evlog.Commitment(salt, b)
		idx, err := evlog.Append(fx.tree, e)
		if err != nil {
			return nil, err
		}
		if idx != int64(i) {
			return nil, fmt.Errorf("append: index %d, want %d", idx, i)
		}
		fx.statements = append(fx.statements, b)
		fx.salts = append(fx.salts, salt)
		fx.entries = append(fx.entries, e)

		tree, err := evlog.Tree(fx.tree)
		if err != nil {
			return nil, err
		}
		text := evlog.Checkpoint{Origin: fzOrigin, Tree: tree}.Format()
		signed, err := note.Sign(&note.Note{Text: text}, s)
		if err != nil {
			return nil, err
		}
		fx.checkpoints[tree.N] = signed
		fx.signedTexts[text] = true
	}
	extText := evlog.Checkpoint{Origin: fzOrigin, Tree: tlog.Tree{N: fzLeaves, Hash: must(evlog.TreeHash(fx.tree, fzLeaves))}}.Format() + "extension\n"
	ext, err := note.Sign(&note.Note{Text: extText}, s)
	if err != nil {
		return nil, err
	}
	fx.extCheckpoint = ext
	fx.signedTexts[extText] = true
	if err := evlog.Check(fx.tree); err != nil {
		return nil, err
	}
	for n := int64(1); n <= fzLeaves; n++ {
		for i := int64(0); i < n; i++ {
			extra := append(fx.salts[i][:], fx.statements[i]...)
			p, err := evlog.Prove(fx.tree, i, n, fx.checkpoints[n], extra)
			if err != nil {
				return nil, err
			}
			b := p.Marshal()
			if _, _, err := evlog.VerifyProof(b, v, fx.entries[i]); err != nil {
				return nil, fmt.Errorf("real proof %d in %d does not verify: %v", i, n, err)
			}
			fx.proofs = append(fx.proofs, b)
		}
	}
	return fx, nil
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Spec examples (signatures elided or by unknown keys): format seeds only.
const (
	specProof = `c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

— example.com/fancylog hI2DJw[...]1roloI=
— witness1.example mJirIklj[...]qY9v2B/5bg==
— witness2.example TnKKVHLX[...]xwYwrSjgow==
— witness3.example S4X82uH5[...]3oEcROGLFQ==
`
	specCheckpointText = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	specCheckpoint     = specCheckpointText + "\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
	specStatement      = `vigil.statement/v1
kind item
id 0k6z4w3m8hq2v5a9c1d7e3f0gn
version 1
time 2026-11-25T15:00:00Z
sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
size 4
type text/plain
prev -
`
)

func FuzzParseStatement(f *testing.F) {
	fx := fzSetup(f)
	for _, s := range fx.statements {
		f.Add(s)
	}
	f.Add([]byte(specStatement))
	f.Add([]byte(strings.Replace(specStatement, "prev -", "prev 12", 1)))
	f.Add([]byte(strings.Replace(specStatement, "T15:00:00Z", "T15:00:00+01:00", 1)))
	f.Add([]byte(strings.Replace(specStatement, "version 1", "version 01", 1)))
	f.Add([]byte("vigil.statement/v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := evlog.ParseStatement(b)
		if err != nil {
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("accepted statement does not marshal: %v\n%q", err, b)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("accepted statement is not canonical:\n in: %q\nout: %q", b, out)
		}
		s2, err := evlog.ParseStatement(out)
		if err != nil {
			t.Fatalf("marshaled statement does not parse: %v\n%q", err, out)
		}
		if !s2.Time.Equal(s.Time) || s2.Time.Location() != time.UTC {
			t.Fatalf("time round trip: %v != %v", s2.Time, s.Time)
		}
		s2.Time = s.Time
		if s2 != s {
			t.Fatalf("round trip: %+v != %+v", s2, s)
		}
		if s.Version < 1 || s.Size < 0 || s.Prev < -1 || s.Time.Nanosecond() != 0 {
			t.Fatalf("accepted out-of-range statement %+v", s)
		}
	})
}

func FuzzParseProof(f *testing.F) {
	fx := fzSetup(f)
	for _, p := range fx.proofs {
		f.Add(p)
	}
	f.Add([]byte(specProof))
	noExtra := evlog.Proof{Index: 0, Checkpoint: fx.checkpoints[1]}
	f.Add(noExtra.Marshal())
	emptyExtra := evlog.Proof{Extra: []byte{}, Index: 3, Path: tlog.RecordProof{{1}}, Checkpoint: []byte("x\n")}
	f.Add(emptyExtra.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := evlog.ParseProof(b)
		if err != nil {
			return
		}
		out := p.Marshal()
		if !bytes.Equal(out, b) {
			t.Fatalf("accepted proof does not marshal to its input:\n in: %q\nout: %q", b, out)
		}
		p2, err := evlog.ParseProof(out)
		if err != nil {
			t.Fatalf("marshaled proof does not parse: %v", err)
		}
		if !bytes.Equal(p2.Extra, p.Extra) || (p2.Extra == nil) != (p.Extra == nil) || p2.Index != p.Index ||
			!equalPath(p2.Path, p.Path) || !bytes.Equal(p2.Checkpoint, p.Checkpoint) {
			t.Fatalf("round trip: %+v != %+v", p2, p)
		}
		if p.Index < 0 || len(p.Path) > 63 || len(p.Checkpoint) == 0 {
			t.Fatalf("accepted out-of-range proof %+v", p)
		}
	})
}

func equalPath(a, b tlog.RecordProof) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkParsedCheckpoint checks what every accepted checkpoint body must
// satisfy: it starts with its canonical form and then has only non-empty
// extension lines.
func checkParsedCheckpoint(t *testing.T, text string, c evlog.Checkpoint) {
	t.Helper()
	body := c.Format()
	ext, ok := strings.CutPrefix(text, body)
	if !ok {
		t.Fatalf("accepted checkpoint is not canonical:\n in: %q\nout: %q", text, body)
	}
	if ext != "" {
		if !strings.HasSuffix(ext, "\n") {
			t.Fatalf("extension lines %q do not end in a newline", ext)
		}
		for _, l := range strings.Split(strings.TrimSuffix(ext, "\n"), "\n") {
			if l == "" {
				t.Fatalf("accepted empty extension line in %q", text)
			}
		}
	}
	if c.Origin == "" || strings.Contains(c.Origin, "\n") || c.N < 0 {
		t.Fatalf("accepted bad checkpoint %+v", c)
	}
	c2, err := evlog.ParseCheckpoint(body)
	if err != nil || c2 != c {
		t.Fatalf("canonical form does not round trip: %+v, %v", c2, err)
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	fx := fzSetup(f)
	for n := int64(1); n <= fzLeaves; n++ {
		text, _, _ := strings.Cut(string(fx.checkpoints[n]), "\n\n")
		f.Add(text + "\n")
	}
	f.Add(specCheckpointText)
	f.Add(specCheckpointText + "ext line\nanother\n")
	f.Add(fzOrigin + "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := evlog.ParseCheckpoint(text)
		if err == nil {
			checkParsedCheckpoint(t, text, c)
		}
		// Whatever the parser says, signing the text with the log key and
		// opening it must agree with it.
		signed, serr := note.Sign(&note.Note{Text: text}, fx.signer)
		if serr != nil {
			return
		}
		oc, oerr := evlog.OpenCheckpoint(signed, fx.verifier)
		switch {
		case err != nil && oerr == nil:
			t.Fatalf("OpenCheckpoint accepts a body ParseCheckpoint refuses (%v): %q", err, text)
		case err == nil && c.Origin == fzOrigin && len(signed) <= evlog.MaxCheckpointSize && oerr != nil:
			t.Fatalf("OpenCheckpoint refuses a signed valid checkpoint: %v\n%q", oerr, signed)
		case err == nil && c.Origin != fzOrigin && oerr == nil:
			t.Fatalf("OpenCheckpoint accepts origin %q for log %q", c.Origin, fzOrigin)
		case oerr == nil && oc != c:
			t.Fatalf("OpenCheckpoint %+v, ParseCheckpoint %+v", oc, c)
		}
	})
}

// verifySignedNote independently checks that msg is a signed note whose text
// carries a valid Ed25519 signature by the verifier key vkey, and returns
// the text.
func verifySignedNote(msg []byte, vkey string) (string, bool) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return "", false
	}
	name := parts[0]
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != 1 {
		return "", false
	}
	kh := sha256.Sum256(append([]byte(name+"\n"), key...))
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return "", false
	}
	text, sigs := msg[:i+1], msg[i+2:]
	for _, line := range strings.SplitAfter(string(sigs), "\n") {
		rest, ok := strings.CutPrefix(line, "— "+name+" ")
		if !ok {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(rest, "\n"))
		if err != nil || len(sig) != 4+ed25519.SignatureSize || !bytes.Equal(sig[:4], kh[:4]) {
			continue
		}
		if ed25519.Verify(key[1:], text, sig[4:]) {
			return string(text), true
		}
	}
	return "", false
}

func FuzzOpenCheckpoint(f *testing.F) {
	fx := fzSetup(f)
	for n := int64(1); n <= fzLeaves; n++ {
		f.Add(fx.checkpoints[n])
	}
	cp := fx.checkpoints[fzLeaves]
	f.Add([]byte(specCheckpoint))
	// An extra signature by an unknown key, and a signature line with our
	// name but another key hash.
	f.Add(append(bytes.Clone(cp), []byte("— witness.example Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n")...))
	f.Add(append(bytes.Clone(cp), []byte("— "+fzOrigin+" Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n")...))
	f.Add(fx.extCheckpoint)
	text, sigs, _ := strings.Cut(string(cp), "\n\n")
	f.Add([]byte(text + "\n\n\n" + sigs))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := evlog.OpenCheckpoint(b, fx.verifier)
		if err != nil {
			return
		}
		text, ok := verifySignedNote(b, fx.vkey)
		if !ok {
			t.Fatalf("accepted checkpoint without a valid signature by the log key:\n%q", b)
		}
		if !fx.signedTexts[text] {
			t.Fatalf("accepted a checkpoint the test key never signed:\n%q", text)
		}
		if c.Origin != fzOrigin {
			t.Fatalf("accepted origin %q", c.Origin)
		}
		pc, err := evlog.ParseCheckpoint(text)
		if err != nil || pc != c {
			t.Fatalf("signed text parses to %+v, %v; OpenCheckpoint returned %+v", pc, err, c)
		}
		checkParsedCheckpoint(t, text, c)
	})
}

func FuzzVerifyProof(f *testing.F) {
	fx := fzSetup(f)
	k := 0
	for n := int64(1); n <= fzLeaves; n++ {
		for i := int64(0); i < n; i++ {
			f.Add(fx.proofs[k], uint8(i))
			f.Add(fx.proofs[k], uint8(i+1)) // the wrong entry
			k++
		}
	}
	// Variants: no extra, index pointing elsewhere, extra signature line.
	last := fx.proofs[len(fx.proofs)-1]
	p, err := evlog.ParseProof(last)
	if err != nil {
		f.Fatal(err)
	}
	p.Extra = nil
	f.Add(p.Marshal(), uint8(fzLeaves-1))
	p.Index = 0
	f.Add(p.Marshal(), uint8(fzLeaves-1))
	f.Add(append(bytes.Clone(last), []byte("— witness.example Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n")...), uint8(fzLeaves-1))
	f.Add([]byte(specProof), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, pick uint8) {
		// Low bits pick the entry to prove; the top bit flips one of its
		// bits, making an entry that is not in the log.
		entry := fx.entries[int(pick&0x7f)%fzLeaves]
		if pick&0x80 != 0 {
			entry[pick%32] ^= 1 << (pick % 8)
		}
		p, c, err := evlog.VerifyProof(b, fx.verifier, entry)
		if err != nil {
			var pe *evlog.ProofError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ProofError: %v", err)
			}
			return
		}
		if !bytes.Equal(p.Marshal(), b) {
			t.Fatalf("verified proof is not canonical:\n%q", b)
		}
		if c.Origin != fzOrigin || c.N < 1 || c.N > fzLeaves {
			t.Fatalf("verified against checkpoint %+v, which the test never signed", c)
		}
		text, ok := verifySignedNote(p.Checkpoint, fx.vkey)
		if !ok || !fx.signedTexts[text] {
			t.Fatalf("verified with a checkpoint the test key did not sign:\n%q", p.Checkpoint)
		}
		root, err := evlog.TreeHash(fx.tree, c.N)
		if err != nil {
			t.Fatal(err)
		}
		if c.Hash != root {
			t.Fatalf("verified against root %v, the tree of %d has %v", c.Hash, c.N, root)
		}
		if p.Index < 0 || p.Index >= c.N {
			t.Fatalf("verified index %d outside tree %d", p.Index, c.N)
		}
		if fx.entries[p.Index] != entry {
			t.Fatalf("forged proof: entry %x verified at index %d, which holds %x", entry, p.Index, fx.entries[p.Index])
		}
		want, err := tlog.ProveRecord(c.N, p.Index, tlog.HashReaderFunc(fx.tree.ReadHashes))
		if err != nil {
			t.Fatal(err)
		}
		if !equalPath(p.Path, want) {
			t.Fatalf("verified a path that is not the real one for %d in %d", p.Index, c.N)
		}
	})
}

func FuzzParseTilePath(f *testing.F) {
	for _, t := range []tlog.Tile{
		{H: 8, L: 0, N: 0, W: 256},
		{H: 8, L: 0, N: 1234067, W: 256},
		{H: 8, L: 1, N: 999, W: 17},
		{H: 8, L: -1, N: 1000, W: 1},
		{H: 8, L: -1, N: 0, W: 255},
		{H: 8, L: 63, N: 1<<63 - 1, W: 256},
	} {
		f.Add(evlog.TilePath(t))
	}
	for _, s := range []string{
		"tile/0/x001/x234/067", "tile/entries/x001/x234/067.p/8", "tile/1/000.p/0", "tile/00/000",
		"tile/0/-01", "tile/0/+01", "tile/0/001.p/256", "tile/data/000", "checkpoint",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := evlog.ParseTilePath(path)
		if err != nil {
			return
		}
		if tile.H != evlog.TileHeight || tile.L < -1 || tile.L > 63 || tile.N < 0 || tile.W < 1 || tile.W > 256 {
			t.Fatalf("accepted out-of-range tile %+v from %q", tile, path)
		}
		if got := evlog.TilePath(tile); got != path {
			t.Fatalf("ParseTilePath(%q) = %+v, whose path is %q", path, tile, got)
		}
		tile2, err := evlog.ParseTilePath(evlog.TilePath(tile))
		if err != nil || tile2 != tile {
			t.Fatalf("round trip: %+v, %v; want %+v", tile2, err, tile)
		}
		// The tile must also be readable as a plain tile by the reference
		// implementation (its "data" is our "entries").
		ref := tile
		ref.L = max(ref.L, 0)
		if _, err := tlog.ParseTilePath(ref.Path()); err != nil {
			t.Fatalf("x/mod/sumdb/tlog refuses %+v: %v", ref, err)
		}
	})
}
