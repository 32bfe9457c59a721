// Package blobtest is the conformance suite for [blob.Store] adapters:
// call [Run] from each adapter's tests.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"sort"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob"
)

// Run tests the store returned by open, which must be empty.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	ctx := context.Background()
	put := func(t *testing.T, s blob.Store, data []byte) string {
		t.Helper()
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := blob.CheckName(w.Name()); err != nil {
			t.Fatalf("Create gave a bad name: %v", err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return w.Name()
	}
	get := func(t *testing.T, s blob.Store, name string) []byte {
		t.Helper()
		r, err := s.Open(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	list := func(t *testing.T, s blob.Store) []string {
		t.Helper()
		var names []string
		if err := s.List(ctx, func(n string) error { names = append(names, n); return nil }); err != nil {
			t.Fatal(err)
		}
		sort.Strings(names)
		return names
	}

	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		for _, size := range []int{0, 1, 4096, 1<<20 + 3} {
			data := make([]byte, size)
			rand.Read(data)
			name := put(t, s, data)
			if got := get(t, s, name); !bytes.Equal(got, data) {
				t.Fatalf("size %d: read back %d bytes that differ", size, len(got))
			}
		}
		if n := len(list(t, s)); n != 4 {
			t.Fatalf("List: %d blobs, want 4", n)
		}
	})
	t.Run("NamesAreRandom", func(t *testing.T) {
		s := open(t)
		a, b := put(t, s, []byte("same")), put(t, s, []byte("same"))
		if a == b {
			t.Fatal("two blobs with the same content got the same name")
		}
	})
	t.Run("AbortLeavesNothing", func(t *testing.T) {
		s := open(t)
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("partial"))
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if names := list(t, s); len(names) != 0 {
			t.Fatalf("aborted blob is listed: %v", names)
		}
		if _, err := s.Open(ctx, w.Name()); !errors.Is(err, vigil.ErrNotFound) {
			t.Fatalf("Open aborted blob: %v, want ErrNotFound", err)
		}
	})
	t.Run("UncommittedIsInvisible", func(t *testing.T) {
		s := open(t)
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		w.Write([]byte("not yet"))
		if _, err := s.Open(ctx, w.Name()); !errors.Is(err, vigil.ErrNotFound) {
			t.Fatalf("Open before Commit: %v, want ErrNotFound", err)
		}
		if names := list(t, s); len(names) != 0 {
			t.Fatalf("uncommitted blob is listed: %v", names)
		}
	})
	t.Run("CommitTwice", func(t *testing.T) {
		s := open(t)
		w, _ := s.Create(ctx)
		w.Write([]byte("x"))
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err == nil {
			t.Fatal("second Commit succeeded")
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort after Commit: %v", err)
		}
		if got := get(t, s, w.Name()); string(got) != "x" {
			t.Fatalf("blob changed after Abort: %q", got)
		}
	})
	t.Run("CommitCanceled", func(t *testing.T) {
		s := open(t)
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("never committed")); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := w.Commit(cctx); err == nil {
			t.Fatal("Commit with a canceled context succeeded")
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort after a failed Commit: %v", err)
		}
		if _, err := s.Open(ctx, w.Name()); !errors.Is(err, vigil.ErrNotFound) {
			t.Fatalf("Open of a blob whose Commit was canceled: %v, want ErrNotFound", err)
		}
		if names := list(t, s); len(names) != 0 {
			t.Fatalf("blob whose Commit was canceled is listed: %v", names)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		s := open(t)
		name := put(t, s, []byte("gone"))
		if err := s.Remove(ctx, name); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(ctx, name); err != nil {
			t.Fatalf("Remove of a missing blob: %v", err)
		}
		if _, err := s.Open(ctx, name); !errors.Is(err, vigil.ErrNotFound) {
			t.Fatalf("Open removed blob: %v", err)
		}
	})
	t.Run("HostileNames", func(t *testing.T) {
		s := open(t)
		for _, name := range []string{"", "../../etc/passwd", "/etc/passwd", "ab/../../x", "ABCDEF0123456789ABCDEF0123456789", "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcdef/"} {
			if _, err := s.Open(ctx, name); !errors.Is(err, vigil.ErrInvalid) {
				t.Errorf("Open(%q): %v, want ErrInvalid", name, err)
			}
			if err := s.Remove(ctx, name); !errors.Is(err, vigil.ErrInvalid) {
				t.Errorf("Remove(%q): %v, want ErrInvalid", name, err)
			}
		}
	})
}
