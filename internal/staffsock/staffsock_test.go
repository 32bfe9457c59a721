package staffsock_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/internal/staffsock"
)

// serveLocal serves, on l, a handler answering whether the request was
// marked local.
func serveLocal(t *testing.T, l *staffsock.Listener) {
	t.Helper()
	srv := &http.Server{Handler: staffsock.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if staffsock.IsLocal(r) {
			io.WriteString(w, "local")
		}
	}))}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

func get(t *testing.T, dir string) (string, error) {
	t.Helper()
	c, err := staffsock.NewClient(context.Background(), dir)
	if err != nil {
		return "", err
	}
	resp, err := c.Get(staffsock.BaseURL + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestListenDial(t *testing.T) {
	dir := t.TempDir()
	l, err := staffsock.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(staffsock.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket of mode 0600", fi.Mode())
	}
	serveLocal(t, l)
	if got, err := get(t, dir); err != nil || got != "local" {
		t.Fatalf("GET over the socket = %q, %v; want local", got, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("data directory holds %d entries, want the socket only (no temporary name left)", len(ents))
	}
	l.Close()
	if _, err := os.Lstat(staffsock.Path(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Close: %v, want it removed", err)
	}
	if _, err := get(t, dir); !errors.Is(err, staffsock.ErrNoServer) {
		t.Errorf("dial after Close = %v, want ErrNoServer", err)
	}
}

// A socket whose mode is not 0600 is refused by the client before it
// connects: someone else made or changed it.
func TestClientRefusesMode(t *testing.T) {
	dir := t.TempDir()
	l, err := staffsock.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	serveLocal(t, l)
	for _, mode := range []os.FileMode{0o666, 0o660, 0o644, 0o700, 0o400} {
		os.Chmod(staffsock.Path(dir), mode)
		_, err := get(t, dir)
		if err == nil || !strings.Contains(err.Error(), "not 0600") {
			t.Errorf("mode %04o: %v, want a refusal naming the mode", mode, err)
		}
	}
	os.Chmod(staffsock.Path(dir), 0o600)
	if got, err := get(t, dir); err != nil || got != "local" {
		t.Fatalf("back at 0600: %q, %v", got, err)
	}
}

// A socket owned by another user is refused by the client (needs root to
// give the file away).
func TestClientRefusesOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown the socket to another user")
	}
	dir := t.TempDir()
	l, err := staffsock.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	serveLocal(t, l)
	if err := os.Chown(staffsock.Path(dir), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, dir); err == nil || !strings.Contains(err.Error(), "owned by user 65534") {
		t.Errorf("socket owned by 65534: %v, want a refusal", err)
	}
}

// The server disconnects a peer whose user ID is not its own, before
// reading anything, as the kernel reports it (SO_PEERCRED).
func TestServerRefusesPeer(t *testing.T) {
	dir := t.TempDir()
	l, err := staffsock.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.UID = os.Geteuid() + 1 // the server accepts only another user
	refused := make(chan int, 1)
	l.Refused = func(uid int) { refused <- uid }
	serveLocal(t, l)
	c, err := net.Dial("unix", staffsock.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c); len(b) != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("refused peer read %q, %v; want the connection closed without an answer", b, err)
	}
	select {
	case uid := <-refused:
		if uid != os.Geteuid() {
			t.Errorf("Refused(%d), want the peer's uid %d", uid, os.Geteuid())
		}
	case <-time.After(5 * time.Second):
		t.Error("Refused was not called")
	}
}

// As root: a process of another user (nobody) that can reach the socket
// file (mode and directory opened up on purpose) is still disconnected.
func TestServerRefusesOtherUser(t *testing.T) {
	if os.Getenv("STAFFSOCK_CHILD") != "" {
		c, err := net.Dial("unix", os.Getenv("STAFFSOCK_CHILD"))
		if err != nil {
			os.Stdout.WriteString("dial: " + err.Error())
			return
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		if errors.Is(err, syscall.ECONNRESET) {
			err = nil // closed with our request unread
		}
		os.Stdout.WriteString("read " + strings.ReplaceAll(string(b), "\r\n", " ") + " err " + errString(err))
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	dir := t.TempDir()
	// Open the test's temporary directories to the other user.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := staffsock.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	refused := make(chan int, 1)
	l.Refused = func(uid int) { refused <- uid }
	serveLocal(t, l)
	os.Chmod(staffsock.Path(dir), 0o666) // let nobody reach it; only the peer check is left
	// The test binary, where nobody can run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bindir := t.TempDir()
	os.Chmod(bindir, 0o755)
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(bindir, "child.test")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestServerRefusesOtherUser$")
	cmd.Env = append(os.Environ(), "STAFFSOCK_CHILD="+staffsock.Path(dir))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "read  err <nil>") {
		t.Errorf("client of user 65534 got: %s; want the connection closed without an answer", out)
	}
	select {
	case uid := <-refused:
		if uid != 65534 {
			t.Errorf("Refused(%d), want 65534", uid)
		}
	case <-time.After(5 * time.Second):
		t.Error("Refused was not called")
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// A socket left by a killed server (nobody listens) is ErrNoServer to the
// client, and the next Listen replaces it.
func TestStaleSocket(t *testing.T) {
	dir := t.TempDir()
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: staffsock.Path(dir), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close() // as if killed: the file stays, nobody listens
	os.Chmod(staffsock.Path(dir), 0o600)
	if _, err := staffsock.Dial(context.Background(), dir); !errors.Is(err, staffsock.ErrNoServer) {
		t.Fatalf("dial of a stale socket = %v, want ErrNoServer", err)
	}
	l, err := staffsock.Listen(dir)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	serveLocal(t, l)
	if got, err := get(t, dir); err != nil || got != "local" {
		t.Fatalf("GET after replacing the stale socket = %q, %v", got, err)
	}
}

// Listen never removes a file that is not a socket.
func TestListenRefusesNonSocket(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(staffsock.Path(dir), []byte("precious"), 0o600)
	if _, err := staffsock.Listen(dir); err == nil {
		t.Fatal("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(staffsock.Path(dir)); string(b) != "precious" {
		t.Error("the file was changed")
	}
}
