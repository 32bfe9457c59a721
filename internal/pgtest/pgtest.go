// Package pgtest gives tests a real PostgreSQL server: the one named by
// VIGIL_TEST_POSTGRES (a connection URL whose role may create databases), or
// else a throwaway cluster it starts itself when PostgreSQL's initdb and
// postgres binaries are on PATH (or in Debian's /usr/lib/postgresql/*/bin).
// Without either, tests skip with the reason, unless VIGIL_REQUIRE_SCALE=1,
// which turns the skip into a failure (.ci/run sets it).
//
// The throwaway cluster lives in a temporary directory, listens on a unix
// socket in it and on no TCP port, trusts local connections, and runs with
// fsync off (it holds nothing worth keeping). PostgreSQL refuses to run as
// root, so a test process running as root starts it as the user "nobody".
// The server is the test process's child and is told to stop when the
// process exits, even if it is killed; a test package that starts one calls
// [Main] from its TestMain so that the cluster's directory is removed too.
//
// Every [URL] call creates a fresh, empty database and drops it when the
// test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hr/vigil/internal/testneed"
)

// EnvURL names the variable holding a server's connection URL.
const EnvURL = "VIGIL_TEST_POSTGRES"

// EnvRequire names the variable that, set to 1, fails tests that would skip
// for want of a server.
const EnvRequire = "VIGIL_REQUIRE_SCALE"

var (
	once    sync.Once
	admin   string // URL of the server's maintenance database
	skipWhy string // why there is no server, if there is none
	cluster *Cluster
)

// Main runs the tests of m and then stops the cluster they started, if any.
// Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops the server this process started, if any. [Main] calls it; a
// TestMain that uses several such helpers calls each one's Stop after m.Run.
func Stop() {
	if cluster != nil {
		cluster.Stop()
		cluster = nil
	}
}

// Skip skips (or, with VIGIL_REQUIRE_SCALE=1, fails) tb with why.
func Skip(tb testing.TB, why string) {
	tb.Helper()
	testneed.Skip(tb, EnvRequire, why)
}

// URL returns the connection URL of a new, empty database on the test
// server, dropped when tb ends. It skips tb if there is no server.
func URL(tb testing.TB) string {
	tb.Helper()
	once.Do(setup)
	if admin == "" {
		Skip(tb, skipWhy)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("pgtest: connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	var b [8]byte
	rand.Read(b[:])
	name := "vigiltest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func setup() {
	if u := os.Getenv(EnvURL); u != "" {
		admin = u
		return
	}
	bin, err := findBin()
	if err != nil {
		skipWhy = fmt.Sprintf("no PostgreSQL server: set %s to a connection URL, or put initdb and postgres on PATH (%v)", EnvURL, err)
		return
	}
	c, err := Start(bin, false)
	if err != nil {
		skipWhy = fmt.Sprintf("no PostgreSQL server: starting a throwaway cluster with %s failed: %v", bin, err)
		return
	}
	cluster = c
	admin = c.URL
}

// findBin returns the directory holding initdb and postgres.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // the newest version first
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("initdb not found on PATH or in /usr/lib/postgresql/*/bin")
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// A Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	// URL connects to its maintenance database "postgres" as its superuser.
	URL string
	// Dir holds the data directory and the socket.
	Dir string

	bin     string
	cred    *syscall.Credential
	durable bool
	cmd     *exec.Cmd
	done    chan struct{}
}

// Start initializes a cluster in a new temporary directory with the
// PostgreSQL binaries in bin and starts it, as "nobody" when the process is
// root. The server gets SIGTERM (a fast shutdown) if this process dies.
// Unless durable is set (for benchmarks against SQLite, which fsyncs), it
// runs with fsync off.
func Start(bin string, durable bool) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "vigil-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, durable: durable}
	cred, err := credential()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "vigiltest", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, lastLines(out))
	}
	c.bin, c.cred = bin, cred
	c.URL = "postgres://vigiltest@/postgres?host=" + url.QueryEscape(dir) + "&sslmode=disable"
	if err := c.run(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// run starts the server on the cluster's data and waits until it accepts
// connections.
func (c *Cluster) run() error {
	logf, err := os.OpenFile(filepath.Join(c.Dir, "server.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	c.done = make(chan struct{})
	args := []string{"-D", filepath.Join(c.Dir, "data"),
		"-c", "listen_addresses=", "-c", "unix_socket_directories=" + c.Dir,
		"-c", "max_connections=200", "-c", "shared_buffers=16MB"}
	if !c.durable {
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off")
	}
	c.cmd = exec.Command(filepath.Join(c.bin, "postgres"), args...)
	c.cmd.Dir = c.Dir
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := c.done
	go func() { c.cmd.Wait(); close(done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.URL)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(c.Dir, "server.log"))
			return fmt.Errorf("postgres exited: %s", lastLines(log))
		default:
		}
		if time.Now().After(deadline) {
			c.cmd.Process.Kill()
			<-done
			return fmt.Errorf("postgres did not accept connections within a minute: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Crash kills the server and all its processes with SIGKILL, as a power
// cut or the OOM killer would (but the operating system's caches survive:
// with fsync off, this tests PostgreSQL's recovery, not the disk's).
func (c *Cluster) Crash() {
	pgid := c.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-c.done
	// The backends die with the postmaster's group but are reaped by init
	// a little later; until then they hold the old shared memory, and a new
	// postmaster refuses to start ("pre-existing shared memory block is
	// still in use").
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart starts the server again on the same data after [Cluster.Crash],
// which runs crash recovery. A start refused while the killed processes
// are still going away is tried again.
func (c *Cluster) Restart() error {
	var err error
	for range 5 {
		if err = c.run(); err == nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return err
}

// Own starts a cluster for tb alone (one it may crash, or a durable one for
// a benchmark), stopped when tb ends. It skips tb if the PostgreSQL
// binaries are missing.
func Own(tb testing.TB, durable bool) *Cluster {
	tb.Helper()
	bin, err := findBin()
	if err != nil {
		Skip(tb, fmt.Sprintf("no PostgreSQL binaries to start a cluster of the test's own: %v", err))
	}
	c, err := Start(bin, durable)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(c.Stop)
	return c
}

// Stop shuts the server down fast and removes its directory.
func (c *Cluster) Stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-c.done
		}
	}
	os.RemoveAll(c.Dir)
}

// credential returns the user to run PostgreSQL as: nil (this process's
// user) unless this process is root, then "nobody".
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root and no user nobody to run PostgreSQL as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user nobody: uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
