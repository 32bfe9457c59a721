package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil/evlog"
)

// Limits bound what [Verify] accepts. Zero fields take the defaults.
type Limits struct {
	MaxEntries      int   // zip entries; default 100,000
	MaxContentSize  int64 // bytes of one item's content; default 64 GiB
	MaxTotalSize    int64 // uncompressed bytes of the whole bundle; default 256 GiB
	MaxCompressRate int64 // uncompressed/compressed size for entries over 1 MiB; default 100
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries == 0 {
		l.MaxEntries = 100_000
	}
	if l.MaxContentSize == 0 {
		l.MaxContentSize = 64 << 30
	}
	if l.MaxTotalSize == 0 {
		l.MaxTotalSize = 256 << 30
	}
	if l.MaxCompressRate == 0 {
		l.MaxCompressRate = 100
	}
	return l
}

// smallFileMax bounds every file but content.
const smallFileMax = 1 << 20

// A Result is the verdict on one item.
type Result struct {
	ID         string
	Part       string // "" if OK; else the failing part: content, statement, salt, proof, extra, checkpoint signature, checkpoint, inclusion proof, name, log key
	Err        error  // nil if OK
	HasContent bool
	Index      int64  // leaf index, when the proof parsed
	TreeSize   int64  // size of the checkpoint that proves it, when verified
	Checkpoint []byte // that signed checkpoint, verbatim (with any cosignatures), when verified
}

// OK reports whether the item verified.
func (r Result) OK() bool { return r.Err == nil }

// A Report is the outcome of [Verify]: one result per item, sorted by ID.
type Report struct {
	Items []Result
}

// OK reports whether every item verified and there was at least one.
func (r Report) OK() bool {
	for _, it := range r.Items {
		if !it.OK() {
			return false
		}
	}
	return len(r.Items) > 0
}

// A FormatError means the bundle as a whole is unusable: not a zip, hostile
// paths, a zip bomb, unexpected files. No item is reported.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "bundle: " + e.Msg }

func formatErr(f string, a ...any) error { return &FormatError{fmt.Sprintf(f, a...)} }

type itemFiles struct {
	statement, salt, proof, content, name *zip.File
}

// Verify checks the bundle in r (size bytes) against the log key v, offline.
// It returns a *[FormatError] if the zip itself is refused; otherwise a
// Report whose items each say OK or which part failed. A bundle whose
// log.vkey differs from v fails every item at "log key".
func Verify(r io.ReaderAt, size int64, v note.Verifier, lim Limits) (Report, error) {
	lim = lim.withDefaults()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Report{}, formatErr("not a readable zip file: %v", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return Report{}, formatErr("%d entries, more than the limit of %d", len(zr.File), lim.MaxEntries)
	}
	items := map[string]*itemFiles{}
	var vkeyFile, readmeFile *zip.File
	var total uint64
	seen := map[string]bool{}
	for _, f := range zr.File {
		name := f.Name
		if err := checkName(name); err != nil {
			return Report{}, err
		}
		if seen[name] {
			return Report{}, formatErr("duplicate entry %q", name)
		}
		seen[name] = true
		if f.FileInfo().IsDir() {
			// A directory entry is only "name/": one marked as a directory by
			// its attributes alone would hide a file from the checks below.
			if !strings.HasSuffix(name, "/") {
				return Report{}, formatErr("entry %q is not a regular file", name)
			}
			continue
		}
		if f.Mode()&^0o777 != 0 {
			return Report{}, formatErr("entry %q is not a regular file", name)
		}
		total += f.UncompressedSize64
		if total > uint64(lim.MaxTotalSize) {
			return Report{}, formatErr("uncompressed size over the limit of %d bytes", lim.MaxTotalSize)
		}
		if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64 > uint64(lim.MaxCompressRate)*max(f.CompressedSize64, 1) {
			return Report{}, formatErr("entry %q expands %d times (a zip bomb?)", name, f.UncompressedSize64/max(f.CompressedSize64, 1))
		}
		switch {
		case name == "log.vkey":
			vkeyFile = f
			continue
		case name == "README.txt":
			readmeFile = f
			continue
		}
		parts := strings.Split(name, "/")
		if len(parts) != 3 || parts[0] != "items" || parts[1] == "" {
			return Report{}, formatErr("unexpected entry %q", name)
		}
		it := items[parts[1]]
		if it == nil {
			it = &itemFiles{}
			items[parts[1]] = it
		}
		max := uint64(smallFileMax)
		switch parts[2] {
		case "statement.txt":
			it.statement = f
		case "salt.hex":
			it.salt = f
		case "proof.tlog-proof":
			it.proof = f
		case "name.txt":
			it.name = f
		case "content":
			it.content = f
			max = uint64(lim.MaxContentSize)
		default:
			return Report{}, formatErr("unexpected entry %q", name)
		}
		if f.UncompressedSize64 > max {
			return Report{}, formatErr("entry %q is %d bytes, over the limit of %d", name, f.UncompressedSize64, max)
		}
	}
	if len(items) == 0 {
		return Report{}, formatErr("no items")
	}
	// Read README too, so its CRC is checked: any changed byte is noticed.
	if readmeFile != nil {
		if _, err := readSmall(readmeFile); err != nil {
			return Report{}, formatErr("README.txt: %v", err)
		}
	}
	var keyErr error
	if vkeyFile == nil {
		keyErr = errors.New("the bundle has no log.vkey")
	} else if b, err := readSmall(vkeyFile); err != nil {
		keyErr = fmt.Errorf("log.vkey: %v", err)
	} else if nv, err := note.NewVerifier(strings.TrimSpace(string(b))); err != nil {
		keyErr = fmt.Errorf("log.vkey: %v", err)
	} else if nv.Name() != v.Name() || nv.KeyHash() != v.KeyHash() || strings.TrimSpace(string(b)) != vkeyString(v) && vkeyString(v) != "" {
		keyErr = fmt.Errorf("log.vkey in the bundle (%s) is not the key you gave", nv.Name())
	}
	ids := make([]string, 0, len(items))
	for id := range items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var rep Report
	for _, id := range ids {
		res := verifyItem(id, items[id], v)
		if res.Err == nil && keyErr != nil {
			res.Part, res.Err = "log key", keyErr
		}
		rep.Items = append(rep.Items, res)
	}
	return rep, nil
}

// vkeyString returns the verifier key text if v was made by [NewVerifier].
func vkeyString(v note.Verifier) string {
	if k, ok := v.(*keyVerifier); ok {
		return k.vkey
	}
	return ""
}

type keyVerifier struct {
	note.Verifier
	vkey string
}

// NewVerifier parses a signed-note verifier key for [Verify], keeping its text
// so Verify can compare it byte for byte with the bundle's log.vkey.
func NewVerifier(vkey string) (note.Verifier, error) {
	vkey = strings.TrimSpace(vkey)
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &keyVerifier{v, vkey}, nil
}

func checkName(name string) error {
	switch {
	case name == "" || len(name) > 255:
		return formatErr("entry with an empty or overlong name")
	case strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.Contains(name, ":"):
		return formatErr("entry %q has an absolute or non-portable path", name)
	case strings.Contains(name, "\x00"):
		return formatErr("entry name with a NUL byte")
	}
	for _, el := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if el == ".." || el == "." || el == "" {
			return formatErr("entry %q has a path that leaves or loops the bundle", name)
		}
	}
	if path.Clean(name) != strings.TrimSuffix(name, "/") {
		return formatErr("entry %q is not a clean path", name)
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return formatErr("entry name with control characters")
		}
	}
	return nil
}

// readSmall reads a small entry fully (checking its CRC-32).
func readSmall(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, smallFileMax+1))
	if err != nil {
		return nil, err
	}
	if len(b) > smallFileMax {
		return nil, errors.New("too large")
	}
	return b, nil
}

func verifyItem(id string, f *itemFiles, v note.Verifier) Result {
	res := Result{ID: id, Index: -1, HasContent: f.content != nil}
	fail := func(part string, err error) Result {
		res.Part, res.Err = part, err
		return res
	}
	if f.statement == nil {
		return fail("statement", errors.New("missing statement.txt"))
	}
	if f.salt == nil {
		return fail("salt", errors.New("missing salt.hex"))
	}
	if f.proof == nil {
		return fail("proof", errors.New("missing proof.tlog-proof"))
	}
	stmtBytes, err := readSmall(f.statement)
	if err != nil {
		return fail("statement", err)
	}
	stmt, err := evlog.ParseStatement(stmtBytes)
	if err != nil {
		return fail("statement", err)
	}
	if stmt.ID != id {
		return fail("statement", fmt.Errorf("statement is about %q, not %q", stmt.ID, id))
	}
	saltText, err := readSmall(f.salt)
	if err != nil {
		return fail("salt", err)
	}
	var salt [evlog.SaltSize]byte
	sb, err := hex.DecodeString(strings.TrimSuffix(string(saltText), "\n"))
	if err != nil || len(sb) != len(salt) || string(saltText) != hex.EncodeToString(sb)+"\n" {
		return fail("salt", errors.New("salt.hex is not 64 lowercase hex digits"))
	}
	copy(salt[:], sb)
	proofBytes, err := readSmall(f.proof)
	if err != nil {
		return fail("proof", err)
	}
	entry := evlog.Commitment(salt, stmtBytes)
	want := append(salt[:len(salt):len(salt)], stmtBytes...)
	p, c, err := evlog.VerifyProof(proofBytes, v, entry)
	if err == nil && !bytes.Equal(p.Extra, want) {
		return fail("extra", errors.New("the proof's extra line is not this salt and statement"))
	}
	if err != nil {
		var pe *evlog.ProofError
		if errors.As(err, &pe) {
			part := pe.Part
			if part == "format" {
				part = "proof"
			}
			// The path does not lead from this salt and statement to the
			// checkpoint. If it leads there from the proof's extra line, the
			// log committed to that salt and statement: name the file that
			// differs from it rather than the proof.
			if part == "inclusion proof" && len(p.Extra) >= len(salt) && !bytes.Equal(p.Extra, want) {
				if _, _, err := evlog.VerifyProof(proofBytes, v, sha256.Sum256(p.Extra)); err == nil {
					if !bytes.Equal(p.Extra[:len(salt)], salt[:]) {
						return fail("salt", errors.New("salt.hex is not the salt the log committed to"))
					}
					return fail("statement", errors.New("statement.txt is not the statement the log committed to"))
				}
			}
			return fail(part, pe.Err)
		}
		return fail("proof", err)
	}
	res.Index, res.TreeSize, res.Checkpoint = p.Index, c.N, p.Checkpoint
	if f.content != nil {
		if err := checkContent(f.content, stmt); err != nil {
			return fail("content", err)
		}
		if f.name != nil {
			if _, err := readSmall(f.name); err != nil {
				return fail("name", err)
			}
		}
	}
	return res
}

func checkContent(f *zip.File, stmt evlog.Statement) error {
	if int64(f.UncompressedSize64) != stmt.Size {
		return fmt.Errorf("size %d, statement says %d", f.UncompressedSize64, stmt.Size)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rc, stmt.Size+1))
	if err != nil {
		return err
	}
	if n != stmt.Size {
		return fmt.Errorf("size %d, statement says %d", n, stmt.Size)
	}
	if [32]byte(h.Sum(nil)) != stmt.SHA256 {
		return fmt.Errorf("sha256 %x, statement says %x", h.Sum(nil), stmt.SHA256)
	}
	return nil
}
