package bundle_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/bundle"
	"github.com/vigil-hr/vigil/evlog"
)

// Fuzz target for bundle.Verify. Run it with:
//
//	go test -run '^$' -fuzz '^FuzzVerify$' -fuzztime 5m -parallel 1 ./bundle/

const fbOrigin = "example.com/vigil-bundle-fuzz"

// fbTree is a tiny in-memory evlog.Writer.
type fbTree struct {
	hashes  map[int64]tlog.Hash
	entries [][]byte
}

func (t *fbTree) TreeSize() (int64, error) { return int64(len(t.entries)), nil }

func (t *fbTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
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

func (t *fbTree) ReadEntries(start, end int64) ([][]byte, error) {
	if start < 0 || end > int64(len(t.entries)) || start > end {
		return nil, fmt.Errorf("entries [%d, %d) outside the tree", start, end)
	}
	return t.entries[start:end], nil
}

func (t *fbTree) WriteLeaf(index int64, entry []byte, hashes []tlog.Hash) error {
	if index != int64(len(t.entries)) {
		return fmt.Errorf("leaf %d, tree size %d", index, len(t.entries))
	}
	base := tlog.StoredHashIndex(0, index)
	for i, h := range hashes {
		t.hashes[base+int64(i)] = h
	}
	t.entries = append(t.entries, bytes.Clone(entry))
	return nil
}

// fbItem is what the seed bundle holds for one item.
type fbItem struct {
	statement []byte
	salt      [evlog.SaltSize]byte
	data      []byte // the item's content
	content   []byte // nil: exported without content
	index     int64
	proof     []byte
}

type fbFixture struct {
	vkey     string
	verifier note.Verifier
	tree     *fbTree
	size     int64  // tree size of the checkpoint
	cpText   string // the signed checkpoint's text
	items    map[string]*fbItem
	bundle   []byte
}

var (
	fbOnce sync.Once
	fbFix  *fbFixture
	fbErr  error
)

func fbSetup(tb testing.TB) *fbFixture {
	tb.Helper()
	fbOnce.Do(func() { fbFix, fbErr = fbBuild() })
	if fbErr != nil {
		tb.Fatal(fbErr)
	}
	return fbFix
}

// fbBuild makes a real log of three items, signs a checkpoint with a fixed
// key (note.GenerateKey from a deterministic reader) and writes a bundle
// with bundle.Write: two items with content, one without.
func fbBuild() (*fbFixture, error) {
	skey, vkey, err := note.GenerateKey(rand.NewChaCha8([32]byte{'b', 'u', 'n', 'd', 'l', 'e'}), fbOrigin)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	verifier, err := bundle.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	fx := &fbFixture{vkey: vkey, verifier: verifier, tree: &fbTree{hashes: map[int64]tlog.Hash{}}, items: map[string]*fbItem{}}
	rng := rand.NewChaCha8([32]byte{'s', 'a', 'l', 't'})
	var ids []string
	for i, content := range []string{"hello\n", "", "third item, no content in the bundle\n"} {
		id := fmt.Sprintf("0k6z4w3m8hq2v5a9c1d7e3f0g%d", i)
		st := evlog.Statement{
			Kind: "item", ID: id, Version: 1,
			Time:      time.Date(2026, 11, 25, 15, 0, i, 0, time.UTC),
			SHA256:    sha256.Sum256([]byte(content)),
			Size:      int64(len(content)),
			MediaType: "text/plain",
			Prev:      -1,
		}
		b, err := st.Marshal()
		if err != nil {
			return nil, err
		}
		it := &fbItem{statement: b, data: []byte(content)}
		rng.Read(it.salt[:])
		if i < 2 {
			it.content = []byte(content)
		}
		if it.index, err = evlog.Append(fx.tree, evlog.Commitment(it.salt, b)); err != nil {
			return nil, err
		}
		fx.items[id] = it
		ids = append(ids, id)
	}
	tree, err := evlog.Tree(fx.tree)
	if err != nil {
		return nil, err
	}
	fx.size = tree.N
	fx.cpText = evlog.Checkpoint{Origin: fbOrigin, Tree: tree}.Format()
	cp, err := note.Sign(&note.Note{Text: fx.cpText}, signer)
	if err != nil {
		return nil, err
	}
	var entries []bundle.Entry
	for _, id := range ids {
		it := fx.items[id]
		p, err := evlog.Prove(fx.tree, it.index, tree.N, cp, append(it.salt[:], it.statement...))
		if err != nil {
			return nil, err
		}
		it.proof = p.Marshal()
		e := bundle.Entry{ID: id, Name: id + ".txt", Statement: it.statement, Salt: it.salt, Proof: it.proof}
		if it.content != nil {
			c := it.content
			e.Content = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(c)), nil }
		}
		entries = append(entries, e)
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, vkey, entries); err != nil {
		return nil, err
	}
	fx.bundle = buf.Bytes()
	rep, err := bundle.Verify(bytes.NewReader(fx.bundle), int64(len(fx.bundle)), verifier, bundle.Limits{})
	if err != nil || !rep.OK() || len(rep.Items) != len(ids) {
		return nil, fmt.Errorf("the seed bundle does not verify: %+v, %v", rep, err)
	}
	return fx, nil
}

// fbZip writes a zip of the given name/body pairs, unchecked.
func fbZip(tb testing.TB, method uint16, files ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(files[i+1])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// fbReadZip returns the body of the named entry of the zip z, reading at
// most limit+1 bytes.
func fbReadZip(z *zip.Reader, name string, limit int64) ([]byte, error) {
	for _, f := range z.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, limit+1))
	}
	return nil, errors.New("not in the zip")
}

func FuzzVerify(f *testing.F) {
	fx := fbSetup(f)
	f.Add(fx.bundle)
	it := fx.items["0k6z4w3m8hq2v5a9c1d7e3f0g0"]
	files := []string{
		"log.vkey", fx.vkey + "\n",
		"items/0k6z4w3m8hq2v5a9c1d7e3f0g0/statement.txt", string(it.statement),
		"items/0k6z4w3m8hq2v5a9c1d7e3f0g0/salt.hex", fmt.Sprintf("%x\n", it.salt),
		"items/0k6z4w3m8hq2v5a9c1d7e3f0g0/proof.tlog-proof", string(it.proof),
		"items/0k6z4w3m8hq2v5a9c1d7e3f0g0/content", string(it.content),
	}
	f.Add(fbZip(f, zip.Store, files...))   // one item, stored
	f.Add(fbZip(f, zip.Deflate, files...)) // one item, deflated
	f.Add(fbZip(f, zip.Store, append([]string{"../evil", "x"}, files...)...))
	f.Add(fbZip(f, zip.Store, append(files, "items/../../etc/passwd", "root:x:0:0\n")...))
	f.Add(fbZip(f, zip.Store, append(files, "items/0k6z4w3m8hq2v5a9c1d7e3f0g0/../statement.txt", "x")...))
	f.Add(fbZip(f, zip.Store, append(files, "/abs", "x", `items\win`, "x")...))
	f.Add(fbZip(f, zip.Store, append(files, files[2], files[3])...)) // duplicate entry
	f.Add(fbZip(f, zip.Store, "README.txt", "no items\n"))
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	// The real bundle with every CRC-32 set to 0, which archive/zip does not
	// check: byte mutations of the files then reach the verifier.
	f.Add(fbZeroCRC(f, fx.bundle))

	f.Fuzz(func(t *testing.T, b []byte) { fbCheck(t, fx, b) })
}

// fbZeroCRC rewrites the zip b with the same entries, raw, with CRC-32 0.
func fbZeroCRC(tb testing.TB, b []byte) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		h := f.FileHeader
		h.CRC32 = 0
		h.Flags &^= 0x8 // no data descriptor
		w, err := zw.CreateRaw(&h)
		if err != nil {
			tb.Fatal(err)
		}
		r, err := f.OpenRaw()
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzVerifyFiles fuzzes the files of a one-item bundle rather than the zip
// bytes, so every input is a well-formed zip that reaches the item checks.
func FuzzVerifyFiles(f *testing.F) {
	fx := fbSetup(f)
	for _, id := range []string{"0k6z4w3m8hq2v5a9c1d7e3f0g0", "0k6z4w3m8hq2v5a9c1d7e3f0g1", "0k6z4w3m8hq2v5a9c1d7e3f0g2"} {
		it := fx.items[id]
		f.Add(id, it.statement, []byte(fmt.Sprintf("%x\n", it.salt)), it.proof, it.content, true, fx.vkey+"\n")
		f.Add(id, it.statement, []byte(fmt.Sprintf("%x\n", it.salt)), it.proof, it.data, false, fx.vkey)
	}
	f.Fuzz(func(t *testing.T, id string, stmt, salt, proof, content []byte, deflate bool, vkey string) {
		if len(id) > 64 || len(content) > 1<<16 {
			return
		}
		method := zip.Store
		if deflate {
			method = zip.Deflate
		}
		dir := "items/" + id + "/"
		files := []string{"log.vkey", vkey, dir + "statement.txt", string(stmt), dir + "salt.hex", string(salt), dir + "proof.tlog-proof", string(proof)}
		if content != nil {
			files = append(files, dir+"content", string(content))
		}
		fbCheck(t, fx, fbZip(t, method, files...))
	})
}

// fbCheck verifies the bundle b and checks that every item reported OK is
// exactly one of the seed's items, untouched.
func fbCheck(t *testing.T, fx *fbFixture, b []byte) {
	t.Helper()
	rep, err := bundle.Verify(bytes.NewReader(b), int64(len(b)), fx.verifier, bundle.Limits{})
	if err != nil {
		var fe *bundle.FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("error is not a *bundle.FormatError: %v", err)
		}
		if len(rep.Items) != 0 {
			t.Fatalf("format error %v with items reported", err)
		}
		return
	}
	if len(rep.Items) == 0 {
		t.Fatal("no error and no items")
	}
	var z *zip.Reader
	for _, res := range rep.Items {
		if (res.Err == nil) != (res.Part == "") {
			t.Fatalf("item %q: part %q with error %v", res.ID, res.Part, res.Err)
		}
		if !res.OK() {
			continue
		}
		// An item that verified must be exactly one of the seed's items.
		want := fx.items[res.ID]
		if want == nil {
			t.Fatalf("item %q verified, but the log has no such item", res.ID)
		}
		if res.Index != want.index || res.TreeSize != fx.size {
			t.Fatalf("item %q verified at %d in %d, want %d in %d", res.ID, res.Index, res.TreeSize, want.index, fx.size)
		}
		if z == nil {
			if z, err = zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatalf("Verify read a zip that archive/zip refuses: %v", err)
			}
		}
		dir := "items/" + res.ID + "/"
		stmt, err := fbReadZip(z, dir+"statement.txt", 1<<20)
		if err != nil || !bytes.Equal(stmt, want.statement) {
			t.Fatalf("item %q verified with statement %q (%v), want %q", res.ID, stmt, err, want.statement)
		}
		salt, err := fbReadZip(z, dir+"salt.hex", 1<<20)
		if err != nil || string(salt) != fmt.Sprintf("%x\n", want.salt) {
			t.Fatalf("item %q verified with salt %q (%v)", res.ID, salt, err)
		}
		proof, err := fbReadZip(z, dir+"proof.tlog-proof", 1<<20)
		if err != nil {
			t.Fatalf("item %q verified with an unreadable proof: %v", res.ID, err)
		}
		if !bytes.Equal(proof, want.proof) {
			// Only the checkpoint's unverified parts (other signers'
			// lines) may differ; everything the proof proves must not.
			p, perr := evlog.ParseProof(proof)
			wp, _ := evlog.ParseProof(want.proof)
			text, _, _ := bytes.Cut(p.Checkpoint, []byte("\n\n"))
			if perr != nil || !bytes.Equal(p.Extra, wp.Extra) || p.Index != wp.Index ||
				fmt.Sprint(p.Path) != fmt.Sprint(wp.Path) || string(text)+"\n" != fx.cpText {
				t.Fatalf("item %q verified with another proof:\n%q\nwant\n%q", res.ID, proof, want.proof)
			}
		}
		if res.HasContent {
			content, err := fbReadZip(z, dir+"content", int64(len(want.data)))
			if err != nil || !bytes.Equal(content, want.data) {
				t.Fatalf("item %q verified with content %q (%v), want %q", res.ID, content, err, want.data)
			}
		}
	}
}
