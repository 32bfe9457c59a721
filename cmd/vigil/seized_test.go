package main

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/vigil-hr/vigil"
)

// TestSeizedDirectory plays the adversary who seizes a powered-off server
// without the passphrase and without any receipt. A real vigil serve takes,
// while sealed, a submission with two files of 100,000 and 100,001 bytes and
// a follow-up answer with a file, then a second submission; staff unseal,
// list, read, reply, change the state and download a file; then the vault is
// sealed and the server stopped. The test then reads the data directory as
// that adversary would (the files, their times, and the database with an
// ordinary SQLite reader) and checks:
//
//   - both files' blobs have the same size (padding), so neither blob gives
//     away its file's exact size;
//   - no record names another record, a blob or its log leaf in plaintext:
//     no record ID or blob name, raw or in any text form, in any record's
//     lookup, blob or body column, no blob name anywhere in the database
//     files, no ID or blob name in any other file, every leaf_index -1 and
//     no lookup key shared by two records;
//   - every plaintext time (every record's created column, the times of every
//     blob file and blob directory) is a multiple of the intake precision.
func TestSeizedDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vigil binary and runs vigil serve")
	}
	const precision = time.Hour // the default intake precision
	bin, env, dirs := privInit(t, "seized.test/log")
	data := dirs.data
	token := privToken(t, bin, env, data)
	srv := privServe(t, bin, data, dirs.tmp, dirs.log)
	c := privNewClient(t, srv.public, privNewIdentity(), &privSecrets{})

	rnd := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	canary := map[string]string{"text": canaryString(), "contact": canaryString(), "file name": canaryString()}
	receipt := c.submit([][2]string{{"text", "Testimony " + canary["text"]}, {"contact", "Signal " + canary["contact"]}}, []privFile{
		{name: "a-" + canary["file name"] + ".bin", content: rnd(100_000)},
		{name: "b-" + canary["file name"] + ".bin", content: rnd(100_001)},
	})
	cookie := c.followup(receipt)
	c.reply(c.thread(cookie), cookie, "An answer with a file", []privFile{{name: "c.txt", content: rnd(3000)}})
	c.submit([][2]string{{"text", "Second testimony, no files"}}, nil)

	vigilRun(t, bin, env, "unseal", "--staff", srv.staff)
	sub := privStaffFind(t, srv.staff, token, canary)
	privStaff(t, srv.staff, token, http.MethodPost, "/api/v1/submissions/"+sub+"/messages", map[string]string{"text": "A question from staff"})
	privStaff(t, srv.staff, token, http.MethodPost, "/api/v1/submissions/"+sub+"/state", map[string]string{"state": "in_review"})
	view := privStaff(t, srv.staff, token, http.MethodGet, "/api/v1/submissions/"+sub, nil)
	var fileID string
	for _, f := range strings.Split(view, `"id":"`)[1:] {
		if id := f[:26]; id != sub {
			if _, err := vigil.ParseID(id); err == nil && strings.Contains(f, `"size":100000`) {
				fileID = id
			}
		}
	}
	if fileID == "" {
		t.Fatalf("no file of 100000 bytes in the staff view:\n%s", view)
	}
	privStaff(t, srv.staff, token, http.MethodGet, "/api/v1/submissions/"+sub+"/files/"+fileID, nil)
	vigilRun(t, bin, env, "seal", "--staff", srv.staff)
	srv.stop(t)

	// What the adversary finds: blobs with their sizes and times.
	var blobNames []string
	blobSizes := map[string]int64{}
	err := filepath.WalkDir(filepath.Join(data, "blobs"), func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			return err
		}
		for what, ts := range map[string]syscall.Timespec{"modification": st.Mtim, "access": st.Atim} {
			if tm := time.Unix(ts.Sec, ts.Nsec); !tm.Equal(tm.Truncate(precision)) {
				t.Errorf("%s: %s time %s is finer than the intake precision", path, what, tm.UTC().Format(time.RFC3339Nano))
			}
		}
		if de.Type().IsRegular() {
			blobNames = append(blobNames, de.Name())
			blobSizes[de.Name()] = st.Size
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(blobNames) != 3 {
		t.Fatalf("%d blobs, want 3 (two files with the submission, one with the answer): %v", len(blobNames), blobSizes)
	}
	large := map[int64]int{}
	for _, n := range blobSizes {
		if n > 50_000 {
			large[n]++
		}
	}
	if len(large) != 1 {
		t.Errorf("the blobs of the 100,000- and 100,001-byte files differ in size: %v", blobSizes)
	}
	t.Logf("blob sizes: %v", blobSizes)

	// The database, read with an ordinary SQLite reader.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "vigil.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type row struct {
		id               []byte
		version, created int64
		kind, blob       string
		leaf             int64
		body, lookup     []byte
	}
	rows, err := db.Query(`SELECT id, version, kind, created, leaf_index, blob, body, lookup FROM records`)
	if err != nil {
		t.Fatal(err)
	}
	var recs []row
	kinds := map[string]int{}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.version, &r.kind, &r.created, &r.leaf, &r.blob, &r.body, &r.lookup); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		kinds[r.kind]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	t.Logf("records by kind: %v", kinds)
	if kinds["submission"] != 2 || kinds["item"] != 3 || kinds["message"] != 2 || kinds["audit"] == 0 || kinds["token"] == 0 {
		t.Fatalf("unexpected records %v: the scenario did not run as planned", kinds)
	}

	// Every ID and blob name in every form an adversary would try.
	type needle struct {
		what, form string
		b          []byte
	}
	var needles []needle
	addForms := func(what string, raw []byte, text string) {
		needles = append(needles,
			needle{what, "raw", raw},
			needle{what, "text", []byte(text)},
			needle{what, "upper text", []byte(strings.ToUpper(text))},
			needle{what, "hex", []byte(hex.EncodeToString(raw))},
			needle{what, "base64", []byte(base64.StdEncoding.EncodeToString(raw))[:20]},
			needle{what, "base64url", []byte(base64.RawURLEncoding.EncodeToString(raw))[:20]})
	}
	for _, r := range recs {
		if len(r.id) != 16 {
			t.Fatalf("record id of %d bytes", len(r.id))
		}
		addForms(r.kind+" ID", r.id, vigil.ID(r.id).String())
	}
	var blobNeedles []needle
	for _, n := range blobNames {
		raw, err := hex.DecodeString(n)
		if err != nil {
			t.Fatalf("blob name %q is not hex", n)
		}
		before := len(needles)
		addForms("blob name", raw, n)
		blobNeedles = append(blobNeedles, needles[before:]...)
	}

	lookups := map[string]string{}
	for _, r := range recs {
		what := r.kind + " " + vigil.ID(r.id).String()
		if r.created%int64(precision/time.Second) != 0 {
			t.Errorf("%s: created %s is finer than the intake precision", what, time.Unix(r.created, 0).UTC())
		}
		if r.blob != "" {
			t.Errorf("%s names blob %s in plaintext", what, r.blob)
		}
		if r.leaf != -1 {
			t.Errorf("%s names its log leaf %d in plaintext", what, r.leaf)
		}
		if r.lookup != nil {
			if other, ok := lookups[string(r.lookup)]; ok && other != vigil.ID(r.id).String() {
				t.Errorf("%s and %s share a lookup key", what, other)
			}
			lookups[string(r.lookup)] = vigil.ID(r.id).String()
		}
		for _, n := range needles {
			for col, v := range map[string][]byte{"lookup": r.lookup, "blob": []byte(r.blob), "body": r.body} {
				if bytes.Contains(v, n.b) {
					t.Errorf("%s: its %s column holds a %s (%s)", what, col, n.what, n.form)
				}
			}
		}
	}

	// Blob names nowhere in the database files; IDs and blob names nowhere
	// in any other file (blob contents included).
	err = filepath.WalkDir(data, func(path string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(data, path)
		check := needles
		if strings.HasPrefix(de.Name(), "vigil.db") {
			check = blobNeedles // IDs are the database's own keys
		}
		for _, n := range check {
			if bytes.Contains(b, n.b) {
				t.Errorf("%s holds a %s (%s)", rel, n.what, n.form)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
