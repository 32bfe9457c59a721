package vault

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/vigil-hr/vigil"
)

// failAfter returns the first n bytes of b, then fails with err.
func failAfter(b []byte, n int, err error) io.Reader {
	return io.MultiReader(bytes.NewReader(b[:n]), iotest.ErrReader(err))
}

// TestDecryptReadError checks that a failure to read the ciphertext (a disk
// or network error) is reported as such, not as corruption, whether it
// happens in the header or in the payload, while damage still is corruption.
func TestDecryptReadError(t *testing.T) {
	v, _ := mustCreate(t)
	mustUnseal(t, v)
	ct := encrypt(t, v, bytes.Repeat([]byte("0123456789abcdef"), 10000)) // several age chunks
	eio := errors.New("input/output error")
	for _, n := range []int{0, 20, len(ct) / 2, len(ct) - 1} {
		r, err := v.Decrypt(failAfter(ct, n, eio))
		if err == nil {
			_, err = io.ReadAll(r)
		}
		if !errors.Is(err, vigil.ErrUnavailable) || !errors.Is(err, eio) {
			t.Errorf("read error after %d of %d bytes: %v; want ErrUnavailable wrapping the read error", n, len(ct), err)
		}
		if errors.Is(err, vigil.ErrCorrupt) {
			t.Errorf("read error after %d of %d bytes reported as corruption: %v", n, len(ct), err)
		}
	}
	bad := bytes.Clone(ct)
	bad[len(bad)/2] ^= 1
	r, err := v.Decrypt(bytes.NewReader(bad))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if !errors.Is(err, vigil.ErrCorrupt) || errors.Is(err, vigil.ErrUnavailable) {
		t.Errorf("flipped byte: %v; want ErrCorrupt only", err)
	}
}
