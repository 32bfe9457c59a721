// Package evidence keeps evidence items: files ingested into the vault, each
// an age-encrypted blob with a statement committed to the evidence log.
//
// [Service.Add] streams a file in constant memory: it hashes the plaintext
// and age-encrypts it in one pass into a temporary blob, fsyncs and renames
// it, and only then commits, in one database transaction, the item record and
// its log leaf (the hiding commitment SHA-256(salt || statement)). A crash at
// any point leaves the item either fully present or absent (an orphan blob
// without a record is never visible and is swept by [Service.Sweep]).
//
// # What the disk shows
//
// A seized data directory must not tie a blob to its item, nor a file to
// what it came with, nor match a file on a seized phone by its size or
// date. So the blob's name is only inside the item's sealed body (the
// record's plaintext blob column stays empty), the record names no other
// record and not its log leaf (readers find the leaf from the sealed
// commitment with store.ReadTx.LeafOf), and the plaintext is padded with
// zeros to its Padmé length (internal/padme: at most 12 % more) before it is
// encrypted, so a blob's size tells only its size class. Its true size is in
// the sealed body; stock age decrypts a blob to the content followed by the
// padding, so `age -d -i key.txt BLOB | head -c SIZE` recovers the file
// (SIZE from the item, e.g. its bundle statement). Blob times are coarse
// (blob/localdisk).
package evidence

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/internal/padme"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Kind is the record kind of evidence items.
const Kind = "item"

// ItemKind declares how items are stored: logged, each statement committing
// to the file's content (not to the sealed metadata), sealed under the
// label field "meta".
var ItemKind = record.Kind{Name: Kind, Logged: true, Field: "meta", External: true}

// A Service adds and reads evidence items.
type Service struct {
	Store store.Store
	Blobs blob.Store
	Vault *vault.Vault
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// CoarseTime is the precision of the plaintext time column of records.
	// Defaults to one hour.
	CoarseTime time.Duration
}

// An Item is an evidence item with its decrypted metadata.
type Item struct {
	ID        vigil.ID
	Version   int64
	LeafIndex int64
	Blob      string
	Name      string // the original file name, as given
	MediaType string
	SHA256    [32]byte
	Size      int64
	Statement []byte // canonical statement text (evlog.Statement)
	Salt      [evlog.SaltSize]byte
}

// Entry returns the item's log entry: SHA-256(salt || statement).
func (it Item) Entry() [32]byte { return evlog.Commitment(it.Salt, it.Statement) }

// meta is the document of an item record.
type meta struct {
	Blob      string `json:"blob"`
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Add ingests r as a new item named name (kept encrypted). An empty
// mediaType is guessed from the name and the first bytes. It returns once the
// item is durable. It is [Service.Stage] followed by [Service.Record] in its
// own transaction.
func (s *Service) Add(ctx context.Context, r io.Reader, name, mediaType string) (Item, error) {
	p, err := s.Stage(ctx, r, name, mediaType)
	if err != nil {
		return Item{}, err
	}
	pre, err := s.Prepare(p, RecordOptions{})
	if err != nil {
		s.Discard(ctx, p)
		return Item{}, err
	}
	var it Item
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		it, err = pre.Put(tx)
		return err
	})
	if err != nil {
		s.Discard(ctx, p)
		return Item{}, fmt.Errorf("commit item: %w", err)
	}
	return it, nil
}

// A Pending is content stored durably in an encrypted blob but not yet
// recorded: [Service.Record] records it, [Service.Discard] drops it.
type Pending struct {
	Blob      string
	Name      string
	MediaType string
	SHA256    [32]byte
	Size      int64
}

// Stage streams r into a new encrypted blob in one pass (hashing the
// plaintext as it goes), pads it with zeros to its Padmé size, makes the blob
// durable and returns it, pending. An empty mediaType is guessed from the
// name and the first bytes.
func (s *Service) Stage(ctx context.Context, r io.Reader, name, mediaType string) (*Pending, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if mediaType == "" {
		mediaType = guessType(name, br)
	}
	w, err := s.Blobs.Create(ctx)
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			w.Abort()
		}
	}()
	enc, err := s.Vault.Encrypt(w)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	h := sha256.New()
	n, err := copyCtx(ctx, io.MultiWriter(enc, h), br)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if err := writeZeros(enc, padme.Size(n)-n); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Commit(ctx); err != nil {
		return nil, err
	}
	committed = true
	p := &Pending{Blob: w.Name(), Name: name, MediaType: cleanType(mediaType), Size: n}
	copy(p.SHA256[:], h.Sum(nil))
	return p, nil
}

// Discard removes a pending blob that will not be recorded. Sweep catches it
// if this fails.
func (s *Service) Discard(ctx context.Context, p *Pending) {
	s.Blobs.Remove(context.WithoutCancel(ctx), p.Blob)
}

func writeZeros(w io.Writer, n int64) error {
	var zeros [16 << 10]byte
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// RecordOptions tune [Service.Prepare].
type RecordOptions struct {
	// Time is the statement's time. Zero means now, to the second; intake
	// passes a coarse time so it cannot be matched to network logs.
	Time time.Time
}

// A Prepared item is sealed and ready to be written by [Prepared.Put].
type Prepared struct {
	// Item is the item as it will be recorded; its LeafIndex is set by Put.
	Item Item
	rec  *record.Prepared
}

// Prepare seals the item record for p, outside any transaction: sealing is
// CPU work that must not hold the database's one writer. The item gets a
// fresh ID, which callers may reference (sealed) before the item is put.
func (s *Service) Prepare(p *Pending, opt RecordOptions) (*Prepared, error) {
	now := s.now().UTC()
	t := opt.Time.UTC()
	if opt.Time.IsZero() {
		t = now.Truncate(time.Second)
	}
	it := Item{ID: vigil.NewID(), Version: 1, Blob: p.Blob, Name: p.Name, MediaType: p.MediaType, SHA256: p.SHA256, Size: p.Size, LeafIndex: -1}
	pre, err := ItemKind.Seal(s.Vault, record.Version{ID: it.ID, Version: 1, Time: t, Created: s.coarse(now), Prev: -1,
		Content: &record.Content{SHA256: it.SHA256, Size: it.Size, MediaType: it.MediaType}},
		meta{Blob: it.Blob, Name: it.Name, MediaType: it.MediaType, SHA256: hex.EncodeToString(it.SHA256[:]), Size: it.Size})
	if err != nil {
		return nil, err
	}
	it.Statement = []byte(pre.Envelope.Statement)
	if it.Salt, err = pre.Envelope.SaltBytes(); err != nil {
		return nil, err
	}
	return &Prepared{Item: it, rec: pre}, nil
}

// Put writes the prepared item record and its log leaf in tx and returns the
// item with its leaf index. It may be called again in a new transaction
// after the previous one rolled back (group commits retry).
func (p *Prepared) Put(tx store.Tx) (Item, error) {
	it := p.Item
	var err error
	it.LeafIndex, err = p.rec.Put(tx)
	return it, err
}

// Record prepares and puts the item record for p in tx. Prefer
// [Service.Prepare] before the transaction and [Prepared.Put] in it.
func (s *Service) Record(tx store.Tx, p *Pending, opt RecordOptions) (Item, error) {
	pre, err := s.Prepare(p, opt)
	if err != nil {
		return Item{}, err
	}
	return pre.Put(tx)
}

func (s *Service) coarse(t time.Time) time.Time {
	d := s.CoarseTime
	if d <= 0 {
		d = time.Hour
	}
	return t.Truncate(d)
}

func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := src.Read(buf)
		if m > 0 {
			if _, err := dst.Write(buf[:m]); err != nil {
				return n, err
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

func guessType(name string, br *bufio.Reader) string {
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(name))); t != "" {
		return t
	}
	head, _ := br.Peek(512)
	return http.DetectContentType(head)
}

// cleanType reduces a media type to "type/subtype" in lowercase, or
// application/octet-stream if it is not one.
func cleanType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil || !strings.Contains(mt, "/") || len(mt) > 127 {
		return "application/octet-stream"
	}
	for _, c := range mt {
		if c <= ' ' || c >= 0x7f {
			return "application/octet-stream"
		}
	}
	return mt
}

// Get returns the item with its decrypted metadata. It needs the vault
// unsealed (else vigil.ErrSealed).
func (s *Service) Get(ctx context.Context, id vigil.ID) (Item, error) {
	var it Item
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		rec, err := tx.Record(id, 0)
		if err != nil {
			return err
		}
		it, err = s.Decode(tx, rec)
		return err
	})
	return it, err
}

// Decode decrypts an item record read in tx and finds its log leaf. It needs
// the vault unsealed.
func (s *Service) Decode(tx store.ReadTx, rec store.Record) (Item, error) {
	it, env, err := s.decode(rec)
	if err != nil {
		return Item{}, err
	}
	if it.LeafIndex, err = env.Leaf(tx); err != nil {
		return Item{}, fmt.Errorf("item %s: %w", rec.ID, err)
	}
	return it, nil
}

func (s *Service) decode(rec store.Record) (Item, record.Envelope, error) {
	var m meta
	env, err := ItemKind.Decode(s.Vault.OpenField, rec, &m)
	if err != nil {
		return Item{}, env, err
	}
	it := Item{ID: rec.ID, Version: rec.Version, LeafIndex: -1, Blob: m.Blob, Name: m.Name,
		MediaType: m.MediaType, Size: m.Size, Statement: []byte(env.Statement)}
	if err := decodeHex(it.SHA256[:], m.SHA256); err != nil {
		return Item{}, env, fmt.Errorf("%w: item %s sha256", vigil.ErrCorrupt, rec.ID)
	}
	if it.Salt, err = env.SaltBytes(); err != nil {
		return Item{}, env, fmt.Errorf("%w: item %s salt", vigil.ErrCorrupt, rec.ID)
	}
	return it, env, nil
}

func decodeHex(dst []byte, s string) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return errors.New("bad hex")
	}
	copy(dst, b)
	return nil
}

// List returns all items' records (latest versions), without decrypting.
func (s *Service) List(ctx context.Context) ([]store.Record, error) {
	var out []store.Record
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		return store.EachRecord(tx, Kind, func(r store.Record) error { out = append(out, r); return nil })
	})
	return out, err
}

// Open returns the item's decrypted content. The reader checks the content's
// size and SHA-256 against the item as it goes and fails at the end (an error
// wrapping vigil.ErrCorrupt) if they differ; it fails earlier if the age
// ciphertext is damaged. A failure to read the blob itself (a disk or
// network error) wraps vigil.ErrUnavailable instead: the blob may be intact.
// It needs the vault unsealed.
func (s *Service) Open(ctx context.Context, it Item) (io.ReadCloser, error) {
	f, err := s.Blobs.Open(ctx, it.Blob)
	if err != nil {
		return nil, err
	}
	r, err := s.Vault.Decrypt(f)
	if err != nil {
		f.Close()
		if errors.Is(err, vigil.ErrSealed) {
			return nil, err
		}
		return nil, fmt.Errorf("item %s: blob %s: %w", it.ID, it.Blob, err)
	}
	return &checkedReader{r: r, c: f, h: sha256.New(), it: it}, nil
}

type checkedReader struct {
	r    io.Reader
	c    io.Closer
	h    hash.Hash
	n    int64
	it   Item
	done error // set once the content and the padding have been checked
}

// Read returns the item's content: Size bytes. After them, it reads the
// blob's padding to its end, which must be zeros and authentic (age
// authenticates every chunk, the last one included), and checks the
// content's hash.
func (c *checkedReader) Read(p []byte) (int, error) {
	if c.done != nil {
		return 0, c.done
	}
	if c.n == c.it.Size {
		c.done = c.finish()
		return 0, c.done
	}
	if rem := c.it.Size - c.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	switch {
	case err == io.EOF:
		c.done = fmt.Errorf("%w: item %s: content does not match its statement (%d of %d bytes)", vigil.ErrCorrupt, c.it.ID, c.n, c.it.Size)
		return n, c.done
	case err != nil:
		c.done = c.readErr(err)
		return n, c.done
	}
	return n, nil
}

func (c *checkedReader) finish() error {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return fmt.Errorf("%w: item %s: content does not match its statement (longer than %d bytes)", vigil.ErrCorrupt, c.it.ID, c.it.Size)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return c.readErr(err)
		}
	}
	if [32]byte(c.h.Sum(nil)) != c.it.SHA256 {
		return fmt.Errorf("%w: item %s: content does not match its statement", vigil.ErrCorrupt, c.it.ID)
	}
	return io.EOF
}

// readErr describes a failed read of the decrypted blob. The vault tells a
// failure to read the blob (vigil.ErrUnavailable: a disk or network error,
// the ciphertext may be intact) from a failure to authenticate it
// (vigil.ErrCorrupt); anything else is taken as corruption.
func (c *checkedReader) readErr(err error) error {
	if errors.Is(err, vigil.ErrUnavailable) || errors.Is(err, vigil.ErrCorrupt) {
		return fmt.Errorf("item %s: blob %s: %w", c.it.ID, c.it.Blob, err)
	}
	return fmt.Errorf("%w: item %s: blob %s: %v", vigil.ErrCorrupt, c.it.ID, c.it.Blob, err)
}

func (c *checkedReader) Close() error { return c.c.Close() }

// Sweep removes blobs that no item references: leftovers of ingests
// interrupted between the blob's commit and the record's. It returns how
// many it removed. Blob names are sealed in the items, so it needs the vault
// unsealed. Call it only while no ingest runs.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	if s.Vault.Sealed() {
		return 0, vigil.ErrSealed
	}
	used := make(map[string]bool)
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		if err := tx.Blobs(func(name string) error { used[name] = true; return nil }); err != nil {
			return err
		}
		return store.EachRecord(tx, Kind, func(r store.Record) error {
			it, _, err := s.decode(r)
			if err != nil {
				return err
			}
			used[it.Blob] = true
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	var orphans []string
	err = s.Blobs.List(ctx, func(name string) error {
		if !used[name] {
			orphans = append(orphans, name)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, o := range orphans {
		if err := s.Blobs.Remove(ctx, o); err != nil {
			return 0, err
		}
	}
	return len(orphans), nil
}
