package staffweb_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
)

// pattern is an endless reader of a repeated 64 KiB block: a large file
// made on the fly, never held whole.
type pattern struct {
	block []byte
	off   int
}

func (p *pattern) Read(b []byte) (int, error) {
	n := copy(b, p.block[p.off:])
	p.off = (p.off + n) % len(p.block)
	return n, nil
}

// TestUploadMemory: a 200 MiB upload through the browser form's route
// (multipart, CSRF token in its first part) is streamed into the vault:
// the heap in use, sampled while it runs, never grows by more than a small
// fraction of the file (the limit, 32 MiB, is a sixth of it).
func TestUploadMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MiB")
	}
	const size = 200 << 20
	e := newEnv(t, true, true)
	e.account(t, "Ivan", vigil.RoleInvestigator, "en", "investigator passphrase")
	c := newClient(t, e.serve(t))
	e.signIn(t, c, "Ivan", "investigator passphrase", nil)

	block := make([]byte, 64<<10)
	for i := range block {
		block[i] = byte(i*7 + i>>8)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var (
		mu   sync.Mutex
		peak uint64
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse)
			mu.Unlock()
		}
	})
	start := time.Now()
	r := c.upload("/evidence/upload", [][2]string{{"csrf", c.csrf}}, "big.bin", io.LimitReader(&pattern{block: block}, size))
	took := time.Since(start)
	close(done)
	wg.Wait()
	if r.status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	it, err := e.d.Evidence.Get(context.Background(), locID(t, r))
	must(t, err)
	if it.Size != size {
		t.Fatalf("stored %d bytes, want %d", it.Size, size)
	}
	growth := int64(peak) - int64(base)
	t.Logf("200 MiB upload in %v: heap in use %d MiB before, peak %d MiB (growth %d MiB)", took.Round(time.Millisecond), base>>20, peak>>20, growth>>20)
	if growth > 32<<20 {
		t.Errorf("the heap grew by %d MiB during a 200 MiB upload", growth>>20)
	}
}
