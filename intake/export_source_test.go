package intake_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/vault"
)

// A source exported and imported (a follow-up session kept by another
// server) reads and answers its thread like the original; the export holds
// the identity, the import is independent of the original's Forget, and a
// forgotten source or a malformed export is refused.
func TestSourceExportImport(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	in := d.Intake
	receipt, sub, err := in.Submit(ctx, intake.Draft{Text: "exported source"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := in.OpenReceipt(ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.AppendExport([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("prefix")) {
		t.Fatal("AppendExport did not append")
	}
	exp := b[len("prefix"):]
	if bytes.Contains(exp, receipt) {
		t.Fatal("the export holds the receipt")
	}
	imp, err := intake.ImportSource(exp)
	if err != nil {
		t.Fatal(err)
	}
	clear(b) // the caller wipes the export; the import keeps its own copy
	src.Forget()
	if imp.Submission != sub {
		t.Fatalf("imported submission %s, want %s", imp.Submission, sub)
	}
	if _, err := in.SourceReply(ctx, imp, "answer from the imported source", nil); err != nil {
		t.Fatal(err)
	}
	v, err := in.SourceView(ctx, imp)
	if err != nil || v.Text != "exported source" || len(v.Messages) != 1 || v.Messages[0].Text != "answer from the imported source" {
		t.Fatalf("imported source's view: %+v %v", v, err)
	}
	if _, err := src.AppendExport(nil); !errors.Is(err, vigil.ErrInvalid) {
		t.Fatalf("export of a forgotten source: %v, want ErrInvalid", err)
	}
	imp.Forget()
	if _, err := in.SourceView(ctx, imp); err == nil {
		t.Fatal("a forgotten import still reads the thread")
	}

	src2, err := in.OpenReceipt(ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	good, err := src2.AppendExport(nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{nil, {}, good[:1], good[:len(good)-1], append([]byte{2}, good[1:]...), good[:1+16+32]}
	for i, b := range bad {
		if _, err := intake.ImportSource(b); !errors.Is(err, vigil.ErrInvalid) {
			t.Errorf("malformed export %d: %v, want ErrInvalid", i, err)
		}
	}
}

// FuzzImportSource: any bytes either import or are refused with ErrInvalid,
// never a panic; an imported source exports to bytes that import to the
// same source.
func FuzzImportSource(f *testing.F) {
	id, err := vault.GenerateX25519Identity()
	if err != nil {
		f.Fatal(err)
	}
	good := id.AppendEncode(append([]byte{1}, make([]byte, 16+32)...))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		src, err := intake.ImportSource(b)
		if err != nil {
			if !errors.Is(err, vigil.ErrInvalid) {
				t.Fatalf("refused without ErrInvalid: %v", err)
			}
			return
		}
		exp, err := src.AppendExport(nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := intake.ImportSource(exp)
		if err != nil {
			t.Fatalf("an export does not import: %v", err)
		}
		exp2, _ := again.AppendExport(nil)
		if again.Submission != src.Submission || !bytes.Equal(exp, exp2) {
			t.Fatal("export and import disagree")
		}
	})
}
