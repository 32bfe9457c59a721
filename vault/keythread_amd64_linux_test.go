package vault

import (
	"crypto/rand"
	"testing"

	"github.com/vigil-hr/vigil/internal/procmem"
)

// TestKeyThreadClearsItsSignalFrame puts 32 random bytes in X0 and X1 on
// the key thread (runtime.memmove copies 17 to 32 bytes through them, on
// amd64) and signals the thread, so that the kernel saves them on its signal
// stack, as it would a key caught mid-operation. After stop, the bytes must be
// nowhere in memory: stop overwrites the registers and has them saved again
// over that frame. Without that, the bytes stayed in the frame (the test saw
// them there). Under -race the detector's calls overwrite X0 and X1 before the
// signal, and the test proves nothing; .ci/run runs it without -race too.
func TestKeyThreadClearsItsSignalFrame(t *testing.T) {
	for range 5 {
		k := startKeyThread()
		var n procmem.Needle
		size := 32
		ok := k.do(func() {
			var secret, dst [32]byte
			rand.Read(secret[:])
			n = procmem.NewNeedle("bytes in X0 and X1", secret[:])
			copy(dst[:size], secret[:size]) // a memmove, not an inlined move
			signalSelf()
			clear(secret[:])
			clear(dst[:])
		})
		if !ok {
			t.Fatal("a new key thread refused a request")
		}
		k.stop()
		hits, err := procmem.FindSelf([]procmem.Needle{n})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits[n.Name] {
			t.Errorf("after stop, the %s are in %s", n.Name, h)
		}
	}
}
