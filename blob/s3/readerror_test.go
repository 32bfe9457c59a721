package s3_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/blob/s3"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/internal/s3test"
	"github.com/vigil-hr/vigil/store/sqlite"
	"github.com/vigil-hr/vigil/vault"
)

// cutProxy forwards TCP connections to upstream; while cut is set, it
// closes each connection once it has passed limit bytes of the server's
// replies, as a dropped network link would.
type cutProxy struct {
	ln       net.Listener
	upstream string
	limit    int64
	cut      atomic.Bool
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

// track remembers c, to close it when the test ends (kept-alive
// connections would otherwise idle on until the server's timeout).
func (p *cutProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *cutProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func newCutProxy(t *testing.T, upstream string, limit int64) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, upstream: upstream, limit: limit}
	p.wg.Go(p.serve)
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(c)
		p.wg.Go(func() {
			defer c.Close()
			u, err := net.Dial("tcp", p.upstream)
			if err != nil {
				return
			}
			p.track(u)
			defer u.Close()
			go io.Copy(u, c)
			// Count the reply bytes passed while cut is set (a kept-alive
			// connection may predate it) and drop the link past limit.
			buf := make([]byte, 32<<10)
			var n int64
			for {
				k, err := u.Read(buf)
				if p.cut.Load() {
					if n += int64(k); n > p.limit {
						return
					}
				}
				if _, werr := c.Write(buf[:k]); werr != nil || err != nil {
					return
				}
			}
		})
	}
}

// TestReadErrorOverTheNetwork reads an item whose blob's connection drops
// part-way: evidence reports the failure as unavailable, not as
// corruption, and a read over a sound connection still succeeds.
func TestReadErrorOverTheNetwork(t *testing.T) {
	raw := s3test.URL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host, 300<<10)
	u.Host = proxy.ln.Addr().String()
	blobs, err := s3.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.age")
	pub, err := vault.Create(keys, []byte("read error passphrase"), "vigil.test/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(keys, pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unseal([]byte("read error passphrase")); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := &evidence.Service{Store: db, Blobs: blobs, Vault: v}
	content := make([]byte, 2<<20)
	io.ReadFull(newStream(3), content)
	it, err := svc.Add(ctx, bytes.NewReader(content), "video.bin", "")
	if err != nil {
		t.Fatal(err)
	}

	proxy.cut.Store(true)
	rc, err := svc.Open(ctx, it)
	if err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
	}
	if !errors.Is(err, vigil.ErrUnavailable) || errors.Is(err, vigil.ErrCorrupt) {
		t.Errorf("read over a dropped connection: %v; want ErrUnavailable, not ErrCorrupt", err)
	}
	t.Logf("read over a dropped connection: %v", err)

	proxy.cut.Store(false)
	rc, err = svc.Open(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("read over a sound connection: %d bytes, %v", len(got), err)
	}
}
