// Package s3test gives tests a real S3 server: the one at VIGIL_TEST_S3 (an
// endpoint URL with credentials, e.g. http://KEY:SECRET@127.0.0.1:8333), or
// else a SeaweedFS server (`weed server -s3`) it starts itself when weed is
// on PATH. Without either, tests skip with the reason, unless
// VIGIL_REQUIRE_SCALE=1, which turns the skip into a failure (.ci/run sets
// it).
//
// The server it starts listens on 127.0.0.1 only, on free ports, keeps its
// data in a temporary directory, sends no telemetry, and takes a random key
// pair. It is the test process's child and is killed when the process
// exits; a test package that starts one calls [Main] from its TestMain so
// that its directory is removed too.
//
// Each test process uses one new bucket; every [URL] call returns a store
// URL with a fresh prefix in it, so each test sees an empty store.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vigil-hr/vigil/internal/testneed"
)

// EnvURL names the variable holding an S3 endpoint URL with credentials.
const EnvURL = "VIGIL_TEST_S3"

// EnvRequire names the variable that, set to 1, fails tests that would skip
// for want of a server.
const EnvRequire = "VIGIL_REQUIRE_SCALE"

var (
	once     sync.Once
	endpoint *url.URL // http[s]://KEY:SECRET@host:port
	bucket   string
	skipWhy  string
	server   *Server
)

// Main runs the tests of m and then stops the server they started, if any.
// Call it from TestMain: os.Exit(s3test.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops the server this process started, if any. [Main] calls it; a
// TestMain that uses several such helpers calls each one's Stop after m.Run.
func Stop() {
	if server != nil {
		server.Stop()
		server = nil
	}
}

// Skip skips (or, with VIGIL_REQUIRE_SCALE=1, fails) tb with why.
func Skip(tb testing.TB, why string) {
	tb.Helper()
	testneed.Skip(tb, EnvRequire, why)
}

// URL returns a blob store URL (s3+http://KEY:SECRET@host:port/bucket/prefix)
// naming an empty store of its own. It skips tb if there is no server.
func URL(tb testing.TB) string {
	tb.Helper()
	once.Do(setup)
	if endpoint == nil {
		Skip(tb, skipWhy)
	}
	scheme := "s3+http"
	if endpoint.Scheme == "https" {
		scheme = "s3"
	}
	u := url.URL{Scheme: scheme, User: endpoint.User, Host: endpoint.Host, Path: "/" + bucket + "/" + randHex(8)}
	return u.String()
}

// Client returns a client of the test server, for checks that look at the
// bucket directly, and the bucket's name.
func Client(tb testing.TB) (*minio.Client, string) {
	tb.Helper()
	once.Do(setup)
	if endpoint == nil {
		Skip(tb, skipWhy)
	}
	c, err := client(endpoint)
	if err != nil {
		tb.Fatal(err)
	}
	return c, bucket
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func client(u *url.URL) (*minio.Client, error) {
	secret, _ := u.User.Password()
	return minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(u.User.Username(), secret, ""),
		Secure: u.Scheme == "https", BucketLookup: minio.BucketLookupPath})
}

func setup() {
	if raw := os.Getenv(EnvURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User == nil {
			skipWhy = fmt.Sprintf("%s must be an endpoint URL with credentials, http[s]://KEY:SECRET@host:port", EnvURL)
			return
		}
		if err := makeBucket(u, 30*time.Second); err != nil {
			skipWhy = fmt.Sprintf("S3 server at %s: %v", u.Host, err)
			return
		}
		endpoint = u
		return
	}
	bin, err := exec.LookPath("weed")
	if err != nil {
		skipWhy = fmt.Sprintf("no S3 server: set %s to an endpoint URL, or put SeaweedFS's weed on PATH (.ci/run builds it)", EnvURL)
		return
	}
	s, err := Start(bin)
	if err != nil {
		skipWhy = fmt.Sprintf("no S3 server: starting %s failed: %v", bin, err)
		return
	}
	server = s
	endpoint = s.Endpoint
}

// makeBucket creates this process's bucket, retrying while the server
// starts up.
func makeBucket(u *url.URL, wait time.Duration) error {
	c, err := client(u)
	if err != nil {
		return err
	}
	bucket = "vigiltest-" + randHex(6)
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{})
		if minio.ToErrorResponse(err).Code == "BucketAlreadyOwnedByYou" { // made by an earlier try
			err = nil
		}
		if err == nil {
			// A first write proves the storage behind the API is up.
			_, err = c.PutObject(ctx, bucket, "probe", strings.NewReader("probe"), 5, minio.PutObjectOptions{})
			if err == nil {
				err = c.RemoveObject(ctx, bucket, "probe", minio.RemoveObjectOptions{})
			}
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %v: %w", wait, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// A Server is a running SeaweedFS server with its S3 gateway.
type Server struct {
	// Endpoint is http://KEY:SECRET@127.0.0.1:PORT.
	Endpoint *url.URL
	// Dir holds its data, configuration and log.
	Dir string

	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts `weed server -s3` from bin on free loopback ports with a
// fresh key pair, in a new temporary directory, and waits until it stores
// objects (creating this process's bucket).
func Start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "vigil-s3test-")
	if err != nil {
		return nil, err
	}
	key, secret := "vigil"+randHex(8), randHex(20)
	cfg := fmt.Sprintf(`{"identities":[{"name":"vigil","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, key, secret)
	if err := os.WriteFile(filepath.Join(dir, "s3.json"), []byte(cfg), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ports, err := freePorts(8)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	args := []string{"server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + dir,
		"-master.telemetry=false", "-master.port=" + p(0), "-master.port.grpc=" + p(1),
		"-master.volumeSizeLimitMB=64", "-volume.max=0",
		"-volume.port=" + p(2), "-volume.port.grpc=" + p(3),
		"-filer.port=" + p(4), "-filer.port.grpc=" + p(5), "-filer.localSocket=" + filepath.Join(dir, "filer.sock"),
		"-s3", "-s3.port=" + p(6), "-s3.port.grpc=" + p(7), "-s3.config=" + filepath.Join(dir, "s3.json"),
		"-s3.localSocket=" + filepath.Join(dir, "s3.sock"), "-s3.port.iceberg=0", "-s3.port.lance=0"}
	logf, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logf.Close()
	s := &Server{Dir: dir, done: make(chan struct{}),
		Endpoint: &url.URL{Scheme: "http", User: url.UserPassword(key, secret), Host: "127.0.0.1:" + p(6)}}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start weed: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	ready := make(chan error, 1)
	go func() { ready <- makeBucket(s.Endpoint, 90*time.Second) }()
	select {
	case err = <-ready:
	case <-s.done:
		err = errors.New("weed exited")
	}
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "weed.log"))
		s.Stop()
		return nil, fmt.Errorf("%v: %s", err, lastLines(log))
	}
	return s, nil
}

// freePorts returns n distinct loopback TCP ports free at the moment.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		port := l.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 { // weed derives some ports by adding 10000
			continue
		}
		ports = append(ports, port)
	}
	return ports, nil
}

// Stop stops the server (SIGTERM, then SIGKILL after a few seconds: weed's
// graceful shutdown can hang) and removes its directory.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	}
	os.RemoveAll(s.Dir)
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
