// Package bundle writes and verifies evidence bundles: zip files that let
// anyone check, offline and without vigil, that items were in a vigil log
// and have not changed since.
//
// A bundle holds, per item, under items/<id>/: content (optional), name.txt
// (the original file name, with the content), statement.txt, salt.hex and
// proof.tlog-proof (C2SP tlog-proof, https://c2sp.org/tlog-proof, whose extra
// line is the salt followed by the statement); at the top, log.vkey (the
// log's signed-note verifier key) and README.txt, which explains how to check
// everything by hand. [Verify] checks every byte of that chain and reports,
// per item, OK or the part that failed.
//
// Zip input is hostile until proven otherwise: [Verify] refuses paths with
// "..", absolute or odd names, unexpected files, too many entries, oversize
// or over-compressed entries (zip bombs), and reads everything streaming, so
// its memory is bounded whatever the input.
package bundle

import (
	"archive/zip"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	_ "embed"
)

//go:embed README.txt
var readme string

// An Entry is one item to put in a bundle.
type Entry struct {
	ID        string
	Name      string // original file name; written only with content
	Statement []byte
	Salt      [32]byte
	Proof     []byte // C2SP tlog-proof
	// Content opens the item's plaintext, or is nil for --no-content.
	Content func() (io.ReadCloser, error)
}

// Write writes a bundle of entries for the log with verifier key vkey to w.
// Content is streamed; nothing is held in memory whole.
func Write(w io.Writer, vkey string, entries []Entry) error {
	zw := zip.NewWriter(w)
	mod := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC) // fixed: the zip reveals no export time
	put := func(name string, method uint16, body []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: mod})
		if err != nil {
			return err
		}
		_, err = f.Write(body)
		return err
	}
	if err := put("README.txt", zip.Deflate, []byte(readme)); err != nil {
		return err
	}
	if err := put("log.vkey", zip.Store, []byte(vkey+"\n")); err != nil {
		return err
	}
	for _, e := range entries {
		dir := "items/" + e.ID + "/"
		if err := put(dir+"statement.txt", zip.Store, e.Statement); err != nil {
			return err
		}
		if err := put(dir+"salt.hex", zip.Store, []byte(hex.EncodeToString(e.Salt[:])+"\n")); err != nil {
			return err
		}
		if err := put(dir+"proof.tlog-proof", zip.Store, e.Proof); err != nil {
			return err
		}
		if e.Content == nil {
			continue
		}
		if err := put(dir+"name.txt", zip.Store, []byte(e.Name+"\n")); err != nil {
			return err
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: dir + "content", Method: zip.Store, Modified: mod})
		if err != nil {
			return err
		}
		rc, err := e.Content()
		if err != nil {
			return fmt.Errorf("item %s: %w", e.ID, err)
		}
		_, err = io.Copy(f, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("item %s: content: %w", e.ID, err)
		}
	}
	return zw.Close()
}
