package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/blob/localdisk"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/store/sqlite"
	"github.com/vigil-hr/vigil/vault"
)

const testPass = "evidence test passphrase"

type fixture struct {
	svc      *evidence.Service
	blobRoot string
}

// mustService returns an evidence service on a fresh vault (unsealed),
// SQLite store and blob directory in a temp dir.
func mustService(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.age")
	pub, err := vault.Create(keys, []byte(testPass), "vigil.test/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(keys, pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unseal([]byte(testPass)); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	root := filepath.Join(dir, "blobs")
	blobs, err := localdisk.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 15, 42, 17, 500, time.UTC)
	return fixture{
		svc:      &evidence.Service{Store: db, Blobs: blobs, Vault: v, Now: func() time.Time { return now }},
		blobRoot: root,
	}
}

var ctx = context.Background()

func (f fixture) add(t *testing.T, content []byte, name, mediaType string) evidence.Item {
	t.Helper()
	it, err := f.svc.Add(ctx, bytes.NewReader(content), name, mediaType)
	if err != nil {
		t.Fatalf("Add(%s): %v", name, err)
	}
	return it
}

func (f fixture) blobPath(name string) string { return filepath.Join(f.blobRoot, name[:2], name) }

// readAll opens the item's content and reads it to the end.
func (f fixture) readAll(it evidence.Item) ([]byte, error) {
	rc, err := f.svc.Open(ctx, it)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func randBytes(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

func TestRoundTrip(t *testing.T) {
	f := mustService(t)
	pdf := append([]byte("%PDF-1.7\n"), randBytes(3000, 1)...)
	png := append([]byte("\x89PNG\r\n\x1a\n"), randBytes(100, 2)...)
	for i, c := range []struct {
		name, mediaType string
		content         []byte
		wantType        string
	}{
		{"statement.txt", "", []byte("I saw it happen.\n"), "text/plain"},
		{"testimony-ru.txt", "", []byte("Я видел это.\n"), "text/plain"},
		{"scan", "", pdf, "application/pdf"},
		{"photo.PNG", "", png, "image/png"},
		{"photo", "", png, "image/png"},
		{"explicit.bin", "Image/JPEG; quality=9", []byte{0xff, 0xd8, 0xff}, "image/jpeg"},
		{"weird", "not a media type", []byte{0, 1, 2, 3}, "application/octet-stream"},
		{"control", "text/pl\x01ain", []byte("x"), "application/octet-stream"},
		{"unknown.zzzq", "", []byte{0, 0xfe, 0, 0xff, 1, 2}, "application/octet-stream"},
		{"empty", "", nil, "text/plain"},
		{"empty.bin", "application/octet-stream", []byte{}, "application/octet-stream"},
		{"large.bin", "", randBytes(3<<20+12345, 3), "application/octet-stream"},
		{"dir/../../etc/passwd name with spaces", "", []byte("name kept as given"), "text/plain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			it := f.add(t, c.content, c.name, c.mediaType)
			if it.Version != 1 || it.Name != c.name || it.Size != int64(len(c.content)) ||
				it.SHA256 != sha256.Sum256(c.content) || it.MediaType != c.wantType {
				t.Errorf("Add = version %d name %q size %d type %q, want 1 %q %d %q (sha256 ok: %v)",
					it.Version, it.Name, it.Size, it.MediaType, c.name, len(c.content), c.wantType,
					it.SHA256 == sha256.Sum256(c.content))
			}
			if it.LeafIndex != int64(i) {
				t.Errorf("LeafIndex = %d, want %d", it.LeafIndex, i)
			}
			got, err := f.svc.Get(ctx, it.ID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.ID != it.ID || got.Name != it.Name || got.MediaType != it.MediaType || got.SHA256 != it.SHA256 ||
				got.Size != it.Size || got.Salt != it.Salt || !bytes.Equal(got.Statement, it.Statement) ||
				got.LeafIndex != it.LeafIndex || got.Blob != it.Blob || got.Version != 1 {
				t.Errorf("Get = %+v\nAdd  = %+v", got, it)
			}
			content, err := f.readAll(got)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !bytes.Equal(content, c.content) {
				t.Errorf("content differs: %d bytes, want %d", len(content), len(c.content))
			}

			// The statement is canonical and describes the content; the
			// log entry at the leaf index is its commitment.
			st, err := evlog.ParseStatement(it.Statement)
			if err != nil {
				t.Fatalf("statement: %v\n%s", err, it.Statement)
			}
			if st.Kind != evidence.Kind || st.ID != it.ID.String() || st.Version != 1 || st.SHA256 != it.SHA256 ||
				st.Size != it.Size || st.MediaType != it.MediaType || st.Prev != -1 ||
				!st.Time.Equal(time.Date(2026, 11, 25, 15, 42, 17, 0, time.UTC)) {
				t.Errorf("statement %+v does not describe the item", st)
			}
			err = f.svc.Store.View(ctx, func(tx store.ReadTx) error {
				e, err := tx.ReadEntries(it.LeafIndex, it.LeafIndex+1)
				if err != nil {
					return err
				}
				want := it.Entry()
				if !bytes.Equal(e[0], want[:]) {
					t.Error("log entry is not the item's commitment")
				}
				rec, err := tx.Record(it.ID, 0)
				if err != nil {
					return err
				}
				if !rec.Created.Equal(time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)) {
					t.Errorf("record time %v is not rounded to the hour", rec.Created)
				}
				if bytes.Contains(rec.Body, []byte(c.name)) {
					t.Error("record body holds the file name in plaintext")
				}
				return evlog.Check(tx)
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	recs, err := f.svc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 13 {
		t.Errorf("List = %d items, want 13", len(recs))
	}
}

// TestSaltHides checks that the same file added twice gets different salts,
// so equal content cannot be linked through the public log.
func TestSaltHides(t *testing.T) {
	f := mustService(t)
	a := f.add(t, []byte("same"), "a.txt", "")
	b := f.add(t, []byte("same"), "a.txt", "")
	if a.Salt == b.Salt || a.Entry() == b.Entry() || a.Blob == b.Blob || a.ID == b.ID {
		t.Error("two adds of the same file share salt, entry, blob or ID")
	}
}

func TestSealed(t *testing.T) {
	f := mustService(t)
	f.svc.Vault.Seal()
	it := f.add(t, []byte("intake works sealed"), "a.txt", "") // Add works sealed
	if _, err := f.svc.Get(ctx, it.ID); !errors.Is(err, vigil.ErrSealed) {
		t.Errorf("Get while sealed = %v, want ErrSealed", err)
	}
	if _, err := f.svc.Open(ctx, it); !errors.Is(err, vigil.ErrSealed) {
		t.Errorf("Open while sealed = %v, want ErrSealed", err)
	}
	if err := f.svc.Vault.Unseal([]byte(testPass)); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Get(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := f.readAll(got); err != nil || string(b) != "intake works sealed" {
		t.Errorf("read = %q, %v", b, err)
	}
}

func TestGetNotFound(t *testing.T) {
	f := mustService(t)
	if _, err := f.svc.Get(ctx, vigil.NewID()); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
	// A record of another kind is not an item.
	id := vigil.NewID()
	err := f.svc.Store.Update(ctx, func(tx store.Tx) error {
		return tx.PutRecord(store.Record{ID: id, Version: 1, Kind: "case", LeafIndex: -1, Body: []byte("x")})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, id); !errors.Is(err, vigil.ErrNotFound) {
		t.Errorf("Get(case record) = %v, want ErrNotFound", err)
	}
}

// TestTamperedBlob damages the blob file on disk in several ways; reading
// must fail with ErrCorrupt, never return wrong bytes silently.
func TestTamperedBlob(t *testing.T) {
	content := randBytes(200<<10, 4) // several 64 KiB age chunks
	for _, c := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"flip header byte", func(b []byte) []byte { b[40] ^= 1; return b }},
		{"flip middle byte", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"flip last byte", func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }},
		{"truncate chunk", func(b []byte) []byte { return b[:len(b)-70000] }},
		{"truncate tail", func(b []byte) []byte { return b[:len(b)-1] }},
		{"append", func(b []byte) []byte { return append(b, 0) }},
		{"empty", func(b []byte) []byte { return nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := mustService(t)
			it := f.add(t, content, "video.bin", "")
			p := f.blobPath(it.Blob)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, c.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := f.readAll(it)
			if !errors.Is(err, vigil.ErrCorrupt) {
				t.Errorf("read of a damaged blob = %d bytes, %v; want ErrCorrupt", len(got), err)
			}
		})
	}

	// A valid blob of another item in its place: age decrypts it, the
	// hash check catches it.
	t.Run("swapped blob", func(t *testing.T) {
		f := mustService(t)
		a := f.add(t, []byte("item a"), "a.txt", "")
		b := f.add(t, []byte("item b"), "b.txt", "")
		other, err := os.ReadFile(f.blobPath(b.Blob))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.blobPath(a.Blob), other, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := f.readAll(a); !errors.Is(err, vigil.ErrCorrupt) {
			t.Errorf("read of a swapped blob = %q, %v; want ErrCorrupt", got, err)
		}
	})

	t.Run("missing blob", func(t *testing.T) {
		f := mustService(t)
		it := f.add(t, []byte("x"), "a.txt", "")
		os.Remove(f.blobPath(it.Blob))
		if _, err := f.svc.Open(ctx, it); !errors.Is(err, vigil.ErrNotFound) {
			t.Errorf("Open of a missing blob = %v, want ErrNotFound", err)
		}
	})
}

// TestAddFailure checks that a failed ingest leaves nothing: no record, no
// log entry, no blob.
func TestAddFailure(t *testing.T) {
	f := mustService(t)
	keep := f.add(t, []byte("kept"), "kept.txt", "")
	boom := errors.New("disk unplugged")
	r := io.MultiReader(bytes.NewReader(randBytes(300<<10, 5)), iotest.ErrReader(boom))
	if _, err := f.svc.Add(ctx, r, "broken.bin", ""); !errors.Is(err, boom) {
		t.Errorf("Add with a failing reader = %v, want its error", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.svc.Add(cctx, bytes.NewReader([]byte("late")), "late.txt", ""); err == nil {
		t.Error("Add with a cancelled context succeeded")
	}
	var blobs []string
	f.svc.Blobs.List(ctx, func(n string) error { blobs = append(blobs, n); return nil })
	if len(blobs) != 1 || blobs[0] != keep.Blob {
		t.Errorf("blobs after failed adds = %q, want only %s", blobs, keep.Blob)
	}
	tmp, _ := os.ReadDir(filepath.Join(f.blobRoot, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("%d temporary files left", len(tmp))
	}
	err := f.svc.Store.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("tree size %d after failed adds, want 1", n)
		}
		if n, err = tx.CountRecords(evidence.Kind); err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("%d items after failed adds, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("Sweep = %d, %v; want nothing to sweep", n, err)
	}
}

func TestSweep(t *testing.T) {
	f := mustService(t)
	items := []evidence.Item{
		f.add(t, []byte("one"), "1.txt", ""),
		f.add(t, []byte("two"), "2.txt", ""),
	}
	// Orphans: committed blobs without records (an ingest cut short).
	var orphans []string
	for range 3 {
		w, err := f.svc.Blobs.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "orphan")
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		orphans = append(orphans, w.Name())
	}
	// A blob referenced by a record of another kind is not an orphan.
	w, _ := f.svc.Blobs.Create(ctx)
	io.WriteString(w, "attachment")
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	other := w.Name()
	err := f.svc.Store.Update(ctx, func(tx store.Tx) error {
		return tx.PutRecord(store.Record{ID: vigil.NewID(), Version: 1, Kind: "case", LeafIndex: -1, Blob: other, Body: []byte("x")})
	})
	if err != nil {
		t.Fatal(err)
	}

	n, err := f.svc.Sweep(ctx)
	if err != nil || n != len(orphans) {
		t.Fatalf("Sweep = %d, %v; want %d", n, err, len(orphans))
	}
	for _, o := range orphans {
		if _, err := os.Stat(f.blobPath(o)); !os.IsNotExist(err) {
			t.Errorf("orphan %s still there: %v", o, err)
		}
	}
	if _, err := os.Stat(f.blobPath(other)); err != nil {
		t.Errorf("Sweep removed a blob another kind of record references: %v", err)
	}
	for _, it := range items {
		if b, err := f.readAll(it); err != nil || !strings.HasSuffix(it.Name, ".txt") || len(b) == 0 {
			t.Errorf("item %s after Sweep: %q, %v", it.Name, b, err)
		}
	}
	if n, err := f.svc.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("second Sweep = %d, %v; want 0", n, err)
	}
}

// TestPadding: a blob's size tells only its content's size class. Items of
// 100,000 and 100,001 bytes get blobs of one size, read back exactly, and
// their records name neither their blob nor their leaf in plaintext.
func TestPadding(t *testing.T) {
	f := mustService(t)
	a := f.add(t, randBytes(100_000, 5), "a.bin", "")
	b := f.add(t, randBytes(100_001, 6), "b.bin", "")
	sa, err := os.Stat(f.blobPath(a.Blob))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := os.Stat(f.blobPath(b.Blob))
	if err != nil {
		t.Fatal(err)
	}
	if sa.Size() != sb.Size() {
		t.Errorf("blobs of 100,000 and 100,001 bytes are %d and %d bytes", sa.Size(), sb.Size())
	}
	for i, it := range []evidence.Item{a, b} {
		got, err := f.readAll(it)
		if err != nil || !bytes.Equal(got, randBytes(100_000+i, uint64(5+i))) {
			t.Errorf("item %d reads back %d bytes, %v", i, len(got), err)
		}
		err = f.svc.Store.View(ctx, func(tx store.ReadTx) error {
			r, err := tx.Record(it.ID, 0)
			if err != nil {
				return err
			}
			if r.Blob != "" || r.LeafIndex != -1 || r.Key != nil {
				t.Errorf("item record names blob %q, leaf %d, key %x in plaintext", r.Blob, r.LeafIndex, r.Key)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got2, err := f.svc.Get(ctx, it.ID)
		if err != nil || got2.LeafIndex != it.LeafIndex || got2.Blob != it.Blob {
			t.Errorf("Get = leaf %d, blob %s, %v; want leaf %d, blob %s", got2.LeafIndex, got2.Blob, err, it.LeafIndex, it.Blob)
		}
	}
	if a.LeafIndex != 0 || b.LeafIndex != 1 {
		t.Errorf("leaves %d and %d, want 0 and 1", a.LeafIndex, b.LeafIndex)
	}
}

// TestPaddingChecked: the bytes after an item's content must be zeros. A
// blob that decrypts to the content followed by anything else is refused.
func TestPaddingChecked(t *testing.T) {
	f := mustService(t)
	content := []byte("the content")
	it := f.add(t, content, "a.txt", "")
	w, err := os.Create(f.blobPath(it.Blob))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := f.svc.Vault.Encrypt(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{content, {0, 0, 1, 0}} {
		if _, err := enc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := f.readAll(it); !errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("read of content with a non-zero tail = %q, %v; want ErrCorrupt", got, err)
	}
}

// failingBlobs is a real blob store whose blobs fail to read after a given
// number of bytes, as a disk with a bad sector or a dropped connection would.
type failingBlobs struct {
	blob.Store
	after int64
	err   error
}

func (s failingBlobs) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := s.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, s.after), iotest.ErrReader(s.err)), rc}, nil
}

// TestReadErrorIsNotCorruption checks that an I/O error while reading an
// item's blob wraps vigil.ErrUnavailable and the error itself, not
// vigil.ErrCorrupt: the blob may be intact, and fsck or an operator must not
// be told otherwise.
func TestReadErrorIsNotCorruption(t *testing.T) {
	f := mustService(t)
	it := f.add(t, randBytes(200<<10, 9), "video.bin", "")
	eio := errors.New("input/output error")
	for _, after := range []int64{0, 30, 100 << 10, it.Size} {
		svc := *f.svc
		svc.Blobs = failingBlobs{Store: f.svc.Blobs, after: after, err: eio}
		var err error
		rc, err := svc.Open(ctx, it)
		if err == nil {
			_, err = io.ReadAll(rc)
			rc.Close()
		}
		if !errors.Is(err, vigil.ErrUnavailable) || !errors.Is(err, eio) || errors.Is(err, vigil.ErrCorrupt) {
			t.Errorf("read failing after %d bytes: %v; want ErrUnavailable wrapping the read error, not ErrCorrupt", after, err)
		}
	}
}
