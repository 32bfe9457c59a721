package bundle_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/bundle"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/store"
)

// btItem is what went into a bundle for one item.
type btItem struct {
	statement []byte
	salt      [32]byte
	content   []byte
	index     int64
}

// btFixture is a real data directory's export: three items in full, and one
// small item alone (for exhaustive byte flips).
type btFixture struct {
	full, small, noContent []byte
	vkey                   string
	v                      note.Verifier
	ids                    []string // sorted, as in the report
	items                  map[string]btItem
	smallID                string
}

var (
	btOnce sync.Once
	btFix  *btFixture
	btErr  error
)

func btSetup(t testing.TB) *btFixture {
	t.Helper()
	btOnce.Do(func() { btFix, btErr = btBuild() })
	if btErr != nil {
		t.Fatal(btErr)
	}
	return btFix
}

// btBuild ingests three files through the real data directory (vault,
// SQLite, blobs, log), signs a checkpoint and exports bundles the way
// `vigil bundle` does.
func btBuild() (*btFixture, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "vigil-bundle-test")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pass := []byte("correct horse battery staple")
	cfg, err := datadir.Init(filepath.Join(dir, "d"), pass, datadir.Options{Origin: "example.org/log", WorkFactor: 10})
	if err != nil {
		return nil, err
	}
	d, err := datadir.Open(ctx, filepath.Join(dir, "d"))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if err := d.Vault.Unseal(pass); err != nil {
		return nil, err
	}
	random := make([]byte, 3000)
	rand.Read(random)
	contents := []struct {
		name string
		data []byte
	}{
		{"testimony.txt", []byte("I saw the soldiers arrive at the school at 6 in the morning.\n")},
		{"photo.jpg", random},
		{"note.txt", []byte("x")},
	}
	fx := &btFixture{vkey: cfg.LogVKey, items: map[string]btItem{}}
	if fx.v, err = bundle.NewVerifier(cfg.LogVKey); err != nil {
		return nil, err
	}
	var added []struct {
		id   string
		name string
	}
	for _, c := range contents {
		it, err := d.Evidence.Add(ctx, bytes.NewReader(c.data), c.name, "")
		if err != nil {
			return nil, err
		}
		fx.items[it.ID.String()] = btItem{statement: it.Statement, salt: it.Salt, content: c.data, index: it.LeafIndex}
		added = append(added, struct{ id, name string }{it.ID.String(), c.name})
	}
	signed, err := d.SignCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := evlog.OpenCheckpoint(signed, d.Vault.LogVerifier())
	if err != nil {
		return nil, err
	}
	var entries, bare []bundle.Entry
	for _, a := range added {
		it := fx.items[a.id]
		var p evlog.Proof
		err := d.Store.View(ctx, func(tx store.ReadTx) error {
			var err error
			p, err = evlog.Prove(tx, it.index, cp.N, signed, append(it.salt[:], it.statement...))
			return err
		})
		if err != nil {
			return nil, err
		}
		e := bundle.Entry{ID: a.id, Name: a.name, Statement: it.statement, Salt: it.salt, Proof: p.Marshal()}
		bare = append(bare, e)
		content := it.content
		e.Content = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }
		entries = append(entries, e)
		fx.ids = append(fx.ids, a.id)
	}
	sort.Strings(fx.ids)
	var b bytes.Buffer
	if err := bundle.Write(&b, cfg.LogVKey, entries); err != nil {
		return nil, err
	}
	fx.full = bytes.Clone(b.Bytes())
	b.Reset()
	if err := bundle.Write(&b, cfg.LogVKey, bare); err != nil {
		return nil, err
	}
	fx.noContent = bytes.Clone(b.Bytes())
	b.Reset()
	if err := bundle.Write(&b, cfg.LogVKey, entries[2:]); err != nil {
		return nil, err
	}
	fx.small = bytes.Clone(b.Bytes())
	fx.smallID = added[2].id
	return fx, nil
}

func btVerify(b []byte, v note.Verifier, lim bundle.Limits) (bundle.Report, error) {
	return bundle.Verify(bytes.NewReader(b), int64(len(b)), v, lim)
}

// btEntry is a zip entry, read back.
type btEntry struct {
	name   string
	method uint16
	data   []byte
}

func btRead(t testing.TB, b []byte) []btEntry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []btEntry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, btEntry{f.Name, f.Method, data})
	}
	return out
}

// btZip writes entries as a new, internally consistent zip (right CRCs and
// sizes): what a forger with a zip tool would produce.
func btZip(t testing.TB, entries []btEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// btRewrite rewrites the zip with the data of the entry name changed by fn.
func btRewrite(t testing.TB, b []byte, name string, fn func([]byte) []byte) []byte {
	t.Helper()
	entries := btRead(t, b)
	found := false
	for i := range entries {
		if entries[i].name == name {
			entries[i].data = fn(bytes.Clone(entries[i].data))
			found = true
		}
	}
	if !found {
		t.Fatalf("no entry %s", name)
	}
	return btZip(t, entries)
}

// btProofEdit parses a proof, lets fn change it and encodes it again.
func btProofEdit(t testing.TB, fn func(*evlog.Proof)) func([]byte) []byte {
	return func(b []byte) []byte {
		p, err := evlog.ParseProof(b)
		if err != nil {
			t.Fatal(err)
		}
		fn(&p)
		return p.Marshal()
	}
}

// btCheckpointEdit changes the checkpoint inside a proof, leaving the rest verbatim.
func btCheckpointEdit(t testing.TB, fn func(cp []byte) []byte) func([]byte) []byte {
	return btProofEdit(t, func(p *evlog.Proof) { p.Checkpoint = fn(bytes.Clone(p.Checkpoint)) })
}

// btSwapCase flips the case of the first ASCII letter at or after i (a
// one-bit change that keeps base64 valid).
func btSwapCase(b []byte, i int) []byte {
	for ; i < len(b); i++ {
		if c := b[i] | 0x20; c >= 'a' && c <= 'z' {
			b[i] ^= 0x20
			return b
		}
	}
	panic("no letter")
}

func TestVerifyGood(t *testing.T) {
	fx := btSetup(t)
	rep, err := btVerify(fx.full, fx.v, bundle.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Items) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for i, r := range rep.Items {
		it := fx.items[r.ID]
		if r.ID != fx.ids[i] || !r.HasContent || r.Index != it.index || r.TreeSize != 3 || r.Part != "" {
			t.Errorf("item %d: %+v", i, r)
		}
	}
	rep, err = btVerify(fx.noContent, fx.v, bundle.Limits{})
	if err != nil || !rep.OK() || len(rep.Items) != 3 || rep.Items[0].HasContent {
		t.Fatalf("bundle without content: %+v, %v", rep, err)
	}
	// The bundle's files are what the README says, byte for byte.
	for _, e := range btRead(t, fx.full) {
		parts := strings.Split(e.name, "/")
		switch {
		case e.name == "log.vkey":
			if string(e.data) != fx.vkey+"\n" {
				t.Errorf("log.vkey = %q", e.data)
			}
		case e.name == "README.txt":
		case len(parts) == 3 && parts[2] == "salt.hex":
			s := fx.items[parts[1]].salt
			if string(e.data) != hex.EncodeToString(s[:])+"\n" {
				t.Errorf("%s = %q", e.name, e.data)
			}
		case len(parts) == 3 && parts[2] == "statement.txt":
			if !bytes.Equal(e.data, fx.items[parts[1]].statement) {
				t.Errorf("%s = %q", e.name, e.data)
			}
		case len(parts) == 3 && parts[2] == "content":
			if !bytes.Equal(e.data, fx.items[parts[1]].content) {
				t.Errorf("%s differs", e.name)
			}
		}
	}
}

func TestVerifyWrongKey(t *testing.T) {
	fx := btSetup(t)
	_, vkey, _ := note.GenerateKey(rand.Reader, "example.org/log")
	other, _ := bundle.NewVerifier(vkey)
	rep, err := btVerify(fx.full, other, bundle.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Items {
		if r.OK() || r.Part != "checkpoint signature" {
			t.Errorf("%s: %q %v, want checkpoint signature", r.ID, r.Part, r.Err)
		}
	}
	if rep.OK() {
		t.Fatal("verified with the wrong key")
	}
}

// TestTamper changes one part of one item the way a forger would (a
// consistent zip with correct CRCs) and checks that exactly that item fails,
// naming the part.
func TestTamper(t *testing.T) {
	fx := btSetup(t)
	victim := fx.ids[1]
	dir := "items/" + victim + "/"
	cases := []struct {
		name, entry string
		fn          func([]byte) []byte
		part        string
	}{
		{"content byte", dir + "content", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, "content"},
		{"content truncated", dir + "content", func(b []byte) []byte { return b[:len(b)-1] }, "content"},
		{"content extended", dir + "content", func(b []byte) []byte { return append(b, 0) }, "content"},
		{"salt digit", dir + "salt.hex", func(b []byte) []byte {
			b[10] = "1032547698badcfe"[strings.IndexByte("0123456789abcdef", b[10])]
			return b
		}, "salt"},
		{"salt not hex", dir + "salt.hex", func(b []byte) []byte { b[3] ^= 0x40; return b }, "salt"},
		{"salt uppercase", dir + "salt.hex", func(b []byte) []byte { return bytes.ToUpper(b) }, "salt"},
		{"statement unparseable", dir + "statement.txt", func(b []byte) []byte { b[2] ^= 1; return b }, "statement"},
		{"statement size", dir + "statement.txt", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\nsize ")) + 6
			b[i] ^= 1 // still a digit: the statement parses, says another size
			return b
		}, "statement"},
		{"statement hash", dir + "statement.txt", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\nsha256 ")) + 8
			b[i] = "1032547698badcfe"[strings.IndexByte("0123456789abcdef", b[i])]
			return b
		}, "statement"},
		{"proof path hash", dir + "proof.tlog-proof", btProofEdit(t, func(p *evlog.Proof) { p.Path[0][9] ^= 1 }), "inclusion proof"},
		{"proof index", dir + "proof.tlog-proof", btProofEdit(t, func(p *evlog.Proof) { p.Index ^= 1 }), "inclusion proof"},
		{"proof index digit", dir + "proof.tlog-proof", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\nindex ")) + 7
			b[i] ^= 1
			return b
		}, "inclusion proof"},
		{"proof extra", dir + "proof.tlog-proof", btProofEdit(t, func(p *evlog.Proof) { p.Extra[40] ^= 1 }), "extra"},
		{"proof extra salt", dir + "proof.tlog-proof", btProofEdit(t, func(p *evlog.Proof) { p.Extra[0] ^= 1 }), "extra"},
		{"proof without extra", dir + "proof.tlog-proof", btProofEdit(t, func(p *evlog.Proof) { p.Extra = nil }), "extra"},
		{"proof header", dir + "proof.tlog-proof", func(b []byte) []byte { b[0] ^= 1; return b }, "proof"},
		{"checkpoint size", dir + "proof.tlog-proof", btCheckpointEdit(t, func(cp []byte) []byte {
			i := bytes.IndexByte(cp, '\n') + 1
			cp[i] ^= 1
			return cp
		}), "checkpoint signature"},
		{"checkpoint root", dir + "proof.tlog-proof", btCheckpointEdit(t, func(cp []byte) []byte {
			lines := bytes.SplitN(cp, []byte("\n"), 4)
			return btSwapCase(cp, len(lines[0])+1+len(lines[1])+1+5)
		}), "checkpoint signature"},
		{"checkpoint origin", dir + "proof.tlog-proof", btCheckpointEdit(t, func(cp []byte) []byte { cp[0] ^= 1; return cp }), "checkpoint signature"},
		{"checkpoint signature", dir + "proof.tlog-proof", btCheckpointEdit(t, func(cp []byte) []byte {
			return btSwapCase(cp, bytes.LastIndexByte(cp[:len(cp)-1], ' ')+10)
		}), "checkpoint signature"},
		{"checkpoint signature removed", dir + "proof.tlog-proof", btCheckpointEdit(t, func(cp []byte) []byte {
			return cp[:bytes.Index(cp, []byte("\n\n"))+2]
		}), "checkpoint signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := btRewrite(t, fx.full, c.entry, c.fn)
			rep, err := btVerify(b, fx.v, bundle.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || len(rep.Items) != 3 {
				t.Fatalf("tampered bundle verified: %+v", rep)
			}
			for _, r := range rep.Items {
				if r.ID != victim {
					if !r.OK() {
						t.Errorf("untouched item %s failed: %s: %v", r.ID, r.Part, r.Err)
					}
					continue
				}
				if r.OK() || r.Part != c.part {
					t.Errorf("part %q (%v), want %q", r.Part, r.Err, c.part)
				}
			}
		})
	}

	// log.vkey concerns every item.
	for name, fn := range map[string]func([]byte) []byte{
		// name+hash+key: the key's base64 may itself hold '+', so find the
		// key by the first two separators, not the last one.
		"log.vkey key": func(b []byte) []byte {
			first := bytes.IndexByte(b, '+')
			return btSwapCase(b, first+1+bytes.IndexByte(b[first+1:], '+')+5)
		},
		"log.vkey name":    func(b []byte) []byte { b[0] ^= 1; return b },
		"log.vkey garbage": func(b []byte) []byte { return []byte("nonsense\n") },
	} {
		b := btRewrite(t, fx.full, "log.vkey", fn)
		rep, err := btVerify(b, fx.v, bundle.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Items {
			if r.OK() || r.Part != "log key" {
				t.Errorf("%s: item %s: %q %v, want log key", name, r.ID, r.Part, r.Err)
			}
		}
	}

	// Missing parts.
	for file, part := range map[string]string{"statement.txt": "statement", "salt.hex": "salt", "proof.tlog-proof": "proof", "../../log.vkey": "log key"} {
		var kept []btEntry
		for _, e := range btRead(t, fx.full) {
			if path.Clean(dir+file) != e.name {
				kept = append(kept, e)
			}
		}
		rep, err := btVerify(btZip(t, kept), fx.v, bundle.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Items {
			if r.ID == victim || part == "log key" {
				if r.OK() || r.Part != part {
					t.Errorf("without %s: %q %v, want %s", file, r.Part, r.Err, part)
				}
			} else if !r.OK() {
				t.Errorf("without %s: item %s failed: %v", file, r.ID, r.Err)
			}
		}
	}

	// An item's files under another item's ID.
	var moved []btEntry
	for _, e := range btRead(t, fx.small) {
		moved = append(moved, btEntry{strings.Replace(e.name, fx.smallID, "0"+fx.smallID[1:], 1), e.method, e.data})
	}
	if rep, err := btVerify(btZip(t, moved), fx.v, bundle.Limits{}); err != nil || len(rep.Items) != 1 || rep.Items[0].Part != "statement" {
		t.Errorf("item moved to another ID: %+v, %v", rep, err)
	}
}

// TestName documents that name.txt is not authenticated: the log commits to
// content, not to file names (which stay private), so a changed name.txt
// still verifies. `vigil verify` does not print names.
func TestNameIsNotAuthenticated(t *testing.T) {
	fx := btSetup(t)
	b := btRewrite(t, fx.small, "items/"+fx.smallID+"/name.txt", func([]byte) []byte { return []byte("renamed.txt\n") })
	if rep, err := btVerify(b, fx.v, bundle.Limits{}); err != nil || !rep.OK() {
		t.Fatalf("%+v, %v", rep, err)
	}
}

// TestRawFlip flips a byte inside each entry's data in the zip file without
// fixing its CRC: it must fail, as a format error or at a part.
func TestRawFlip(t *testing.T) {
	fx := btSetup(t)
	zr, err := zip.NewReader(bytes.NewReader(fx.full), int64(len(fx.full)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []int64{0, int64(f.CompressedSize64) / 2, int64(f.CompressedSize64) - 1} {
			b := bytes.Clone(fx.full)
			b[off+at] ^= 0x01
			rep, err := btVerify(b, fx.v, bundle.Limits{})
			if err == nil && rep.OK() {
				// Only a deflated entry can absorb a flip (say, of a block's
				// final bit) and still inflate to the same bytes.
				if f.Method == zip.Store || !btSameData(t, fx.full, b) {
					t.Errorf("%s: byte %d flipped, still verifies", f.Name, at)
				}
			}
			parts := strings.Split(f.Name, "/")
			if err == nil && len(parts) == 3 {
				for _, r := range rep.Items {
					if r.ID == parts[1] && r.OK() {
						t.Errorf("%s: byte %d flipped, the item verifies", f.Name, at)
					}
				}
			}
		}
	}
}

// TestFlipEveryByte flips every byte of a small bundle, one at a time, with
// several bit patterns: Verify must never panic, and whenever it says OK the
// bundle must still say exactly what the original said.
func TestFlipEveryByte(t *testing.T) {
	fx := btSetup(t)
	orig := fx.items[fx.smallID]
	oks := 0
	for i := range fx.small {
		for _, x := range []byte{0x01, 0x10, 0x80} {
			b := bytes.Clone(fx.small)
			b[i] ^= x
			rep, err := btVerify(b, fx.v, bundle.Limits{})
			if err != nil {
				var fe *bundle.FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("byte %d ^ %#x: error %T %v, want *FormatError", i, x, err, err)
				}
				continue
			}
			if !rep.OK() {
				continue
			}
			oks++
			if len(rep.Items) != 1 || rep.Items[0].ID != fx.smallID || !rep.Items[0].HasContent || rep.Items[0].Index != orig.index {
				t.Fatalf("byte %d ^ %#x: verifies as %+v", i, x, rep)
			}
			for _, e := range btRead(t, b) {
				var want []byte
				switch strings.TrimPrefix(e.name, "items/"+fx.smallID+"/") {
				case "statement.txt":
					want = orig.statement
				case "content":
					want = orig.content
				case "salt.hex":
					want = []byte(hex.EncodeToString(orig.salt[:]) + "\n")
				default:
					continue
				}
				if !bytes.Equal(e.data, want) {
					t.Fatalf("byte %d ^ %#x: verifies with a changed %s", i, x, e.name)
				}
			}
		}
	}
	t.Logf("%d bytes × 3 flips; %d still verified (bytes the format ignores: times, versions, local names)", len(fx.small), oks)
}

// btSameData reports whether two zips hold the same names and data.
func btSameData(t testing.TB, a, b []byte) bool {
	ea, eb := btRead(t, a), btRead(t, b)
	if len(ea) != len(eb) {
		return false
	}
	for i := range ea {
		if ea[i].name != eb[i].name || !bytes.Equal(ea[i].data, eb[i].data) {
			return false
		}
	}
	return true
}

func btWithExtra(t testing.TB, base []byte, extra ...btEntry) []byte {
	return btZip(t, append(btRead(t, base), extra...))
}

func btWantFormatError(t *testing.T, name string, b []byte, lim bundle.Limits) {
	t.Helper()
	fx := btSetup(t)
	rep, err := btVerify(b, fx.v, lim)
	var fe *bundle.FormatError
	if !errors.As(err, &fe) {
		t.Errorf("%s: got %+v, %v; want *bundle.FormatError", name, rep, err)
	}
}

func TestHostileZips(t *testing.T) {
	fx := btSetup(t)
	id := fx.smallID
	for _, name := range []string{
		"../x", "/abs", "items/../../x", "items/" + id + "/../../x", "a\\b", "items\\" + id + "\\content",
		"C:/x", "items/" + id + "/./content", "items//content", "./log.vkey", "items/" + id + "/content/",
		"x\x00y", "items/\x1b[2J/content", "..", ".", "", strings.Repeat("a/", 200) + "x",
		"evil.sh", "items/" + id + "/extra", "items/" + id + "/sub/content", "items/content", "items//",
		"README.txt/x", "LOG.VKEY",
	} {
		if strings.HasSuffix(name, "/") && !strings.Contains(name, "//") && !strings.Contains(name, "/./") {
			continue // a plain directory entry is fine
		}
		btWantFormatError(t, fmt.Sprintf("entry %q", name), btWithExtra(t, fx.small, btEntry{name: name, data: []byte("x")}), bundle.Limits{})
	}
	// Duplicate names, for each file.
	for _, e := range btRead(t, fx.small) {
		btWantFormatError(t, "duplicate "+e.name, btWithExtra(t, fx.small, e), bundle.Limits{})
	}
	// Symbolic links and other non-regular modes.
	for _, mode := range []fs.FileMode{fs.ModeSymlink | 0o777, fs.ModeNamedPipe | 0o644, fs.ModeDevice | 0o644, fs.ModeSocket | 0o644, fs.ModeSetuid | 0o755, fs.ModeDir | 0o755} {
		for _, target := range []string{"items/" + id + "/content", "items/" + id + "/name.txt", "README.txt"} {
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			for _, e := range btRead(t, fx.small) {
				h := &zip.FileHeader{Name: e.name, Method: e.method}
				if e.name == target {
					h.SetMode(mode)
				}
				w, _ := zw.CreateHeader(h)
				if e.name == target && mode&fs.ModeSymlink != 0 {
					w.Write([]byte("/etc/passwd"))
					continue
				}
				w.Write(e.data)
			}
			zw.Close()
			btWantFormatError(t, fmt.Sprintf("%s with mode %v", target, mode), b.Bytes(), bundle.Limits{})
		}
	}
	// Not a zip at all, or a broken one.
	btWantFormatError(t, "empty file", nil, bundle.Limits{})
	btWantFormatError(t, "text", []byte("hello, court\n"), bundle.Limits{})
	btWantFormatError(t, "truncated", fx.small[:len(fx.small)-10], bundle.Limits{})
	btWantFormatError(t, "central directory cut off", fx.small[:len(fx.small)/2], bundle.Limits{})
	btWantFormatError(t, "no items", btZip(t, []btEntry{{name: "README.txt", data: []byte("hi")}, {name: "log.vkey", data: []byte(fx.vkey + "\n")}}), bundle.Limits{})
	var empty bytes.Buffer
	zip.NewWriter(&empty).Close()
	btWantFormatError(t, "empty zip", empty.Bytes(), bundle.Limits{})
	// A small file over its limit.
	big := btRewrite(t, fx.small, "items/"+id+"/statement.txt", func(b []byte) []byte { return append(b, make([]byte, 1<<20)...) })
	btWantFormatError(t, "statement over 1 MiB", big, bundle.Limits{})
	btWantFormatError(t, "content over MaxContentSize", fx.full, bundle.Limits{MaxContentSize: 2999})
	btWantFormatError(t, "over MaxTotalSize", fx.small, bundle.Limits{MaxTotalSize: 100})
}

func TestEntryCountLimit(t *testing.T) {
	fx := btSetup(t)
	n := len(btRead(t, fx.small))
	btWantFormatError(t, "one entry over MaxEntries", fx.small, bundle.Limits{MaxEntries: n - 1})
	if rep, err := btVerify(fx.small, fx.v, bundle.Limits{MaxEntries: n}); err != nil || !rep.OK() {
		t.Fatalf("at MaxEntries: %+v, %v", rep, err)
	}
	// The default limit, 100,000, with a real zip of 100,001 empty entries.
	f, err := os.Create(filepath.Join(t.TempDir(), "many.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for i := range 100_001 {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("items/i%06d/salt.hex", i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	_, err = bundle.Verify(f, st.Size(), fx.v, bundle.Limits{})
	var fe *bundle.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "entries") {
		t.Fatalf("100,001 entries: %v", err)
	}
}

// btBombStream writes a deflate stream of size bytes of zeros (size a
// multiple of 1 MiB) without compressing them all: compress/flate emits the
// same bytes for every 1 MiB of zeros after the first, between sync flushes,
// so the stream is the first chunk, that repeated chunk, and the final block.
// It returns the number of bytes written.
func btBombStream(t testing.TB, w io.Writer, size int64) int64 {
	t.Helper()
	const chunk = 1 << 20
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	zeros := make([]byte, chunk)
	var parts [][]byte
	for range 4 {
		fw.Write(zeros)
		fw.Flush()
		parts = append(parts, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	fw.Close()
	tail := bytes.Clone(buf.Bytes())
	if !bytes.Equal(parts[1], parts[2]) || !bytes.Equal(parts[2], parts[3]) {
		t.Fatal("compress/flate does not repeat itself on zeros; cannot build the bomb cheaply")
	}
	n, _ := w.Write(parts[0])
	total := int64(n)
	for range size/chunk - 1 {
		n, err := w.Write(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		total += int64(n)
	}
	n, _ = w.Write(tail)
	return total + int64(n)
}

func TestBombStreamIsRight(t *testing.T) {
	var b bytes.Buffer
	btBombStream(t, &b, 8<<20)
	n, err := io.Copy(io.Discard, flate.NewReader(&b))
	if err != nil || n != 8<<20 {
		t.Fatalf("inflates to %d bytes, %v", n, err)
	}
	var nz int
	b.Reset()
	btBombStream(t, &b, 3<<20)
	out, _ := io.ReadAll(flate.NewReader(&b))
	for _, c := range out {
		if c != 0 {
			nz++
		}
	}
	if len(out) != 3<<20 || nz != 0 {
		t.Fatalf("%d bytes, %d non-zero", len(out), nz)
	}
}

// btBombZip writes fx.small with its content replaced by 10 GiB of zeros,
// deflated, to a file; the header declares size and crc.
func btBombZip(t *testing.T, declare func(h *zip.FileHeader, realSize int64, realCRC uint32)) string {
	fx := btSetup(t)
	const bomb = 10 << 30
	crc := uint32(0)
	zeros := make([]byte, 1<<20)
	for range bomb / len(zeros) {
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	p := filepath.Join(t.TempDir(), "bomb.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// First the stream alone, to learn its compressed size.
	sf, err := os.Create(p + ".deflate")
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	csize := btBombStream(t, sf, bomb)
	zw := zip.NewWriter(f)
	for _, e := range btRead(t, fx.small) {
		if !strings.HasSuffix(e.name, "/content") {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
			w.Write(e.data)
			continue
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, CompressedSize64: uint64(csize)}
		declare(h, bomb, crc)
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		sf.Seek(0, 0)
		if _, err := io.Copy(w, sf); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// btMeasure runs fn and returns the bytes it allocated (an upper bound on
// its heap growth) and how long it took.
func btMeasure(fn func()) (uint64, time.Duration) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	fn()
	d := time.Since(start)
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc, d
}

func btVerifyFile(t *testing.T, p string, lim bundle.Limits) (bundle.Report, error) {
	fx := btSetup(t)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	return bundle.Verify(f, st.Size(), fx.v, lim)
}

func TestZipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10 MB zip")
	}
	fx := btSetup(t)
	const maxAlloc = 64 << 20

	// 1. Declared honestly: 10 GiB in ~10 MB. Refused from the header alone.
	honest := btBombZip(t, func(h *zip.FileHeader, size int64, crc uint32) {
		h.UncompressedSize64, h.CRC32 = uint64(size), crc
	})
	st, _ := os.Stat(honest)
	t.Logf("bomb: 10 GiB of zeros in a %d-byte zip", st.Size())
	var err error
	alloc, d := btMeasure(func() { _, err = btVerifyFile(t, honest, bundle.Limits{}) })
	var fe *bundle.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "zip bomb") {
		t.Errorf("honest bomb: %v, want a zip bomb FormatError", err)
	}
	t.Logf("honest bomb: %v, allocated %d bytes in %v", err, alloc, d)
	if alloc > maxAlloc {
		t.Errorf("honest bomb: allocated %d bytes", alloc)
	}

	// 1b. Even with the expansion check off, the size disagrees with the
	// statement before a byte is inflated.
	var rep bundle.Report
	alloc, d = btMeasure(func() { rep, err = btVerifyFile(t, honest, bundle.Limits{MaxCompressRate: 1 << 40}) })
	if err != nil || rep.OK() || rep.Items[0].Part != "content" {
		t.Errorf("honest bomb without the rate limit: %+v, %v", rep, err)
	}
	t.Logf("honest bomb without the rate limit: allocated %d bytes in %v", alloc, d)
	if alloc > maxAlloc || d > 30*time.Second {
		t.Errorf("honest bomb without the rate limit: allocated %d bytes in %v", alloc, d)
	}

	// 2. The header lies: it declares the real content's size and CRC.
	content := fx.items[fx.smallID].content
	liar := btBombZip(t, func(h *zip.FileHeader, _ int64, _ uint32) {
		h.UncompressedSize64, h.CRC32 = uint64(len(content)), crc32.ChecksumIEEE(content)
	})
	alloc, d = btMeasure(func() { rep, err = btVerifyFile(t, liar, bundle.Limits{}) })
	if err != nil || rep.OK() || len(rep.Items) != 1 || rep.Items[0].Part != "content" {
		t.Errorf("lying bomb: %+v, %v; want the item to fail at content", rep, err)
	}
	t.Logf("lying bomb: %+v, allocated %d bytes in %v", rep.Items, alloc, d)
	if alloc > maxAlloc || d > 30*time.Second {
		t.Errorf("lying bomb: allocated %d bytes in %v", alloc, d)
	}

	// 3. Lying about a size just over 1 MiB, under the rate check.
	liar2 := btBombZip(t, func(h *zip.FileHeader, _ int64, _ uint32) {
		h.UncompressedSize64 = 2 << 20
	})
	alloc, d = btMeasure(func() { rep, err = btVerifyFile(t, liar2, bundle.Limits{}) })
	if err == nil && rep.OK() {
		t.Error("lying bomb of 2 MiB verified")
	}
	if alloc > maxAlloc || d > 30*time.Second {
		t.Errorf("lying 2 MiB bomb: allocated %d bytes in %v", alloc, d)
	}
}
