// Package staffsock is the local staff socket: a unix socket in the data
// directory, DIR/staff.sock, on which vigil serve offers the staff API
// (package api) to the commands of its own user, so that vigil token,
// inbox, bundle, fsck and the rest work while the server holds the data
// directory's lock.
//
// The server side is [Listen] (with the data directory locked) and
// [Listener.Close]; the client side is [Dial] or [NewClient].
//
// # Trust
//
// A connection is trusted as the command-line admin ("cli") when the
// peer's user ID, read from the kernel (SO_PEERCRED), is the server's
// effective user ID; any other peer is disconnected before a byte is read.
// The socket file has mode 0600 and lives in the data directory (0700), so
// the file system already keeps other users out; the peer check holds even
// if the modes are loosened. The client checks the other way round before
// sending anything: the socket file must be a socket of mode 0600 owned by
// the client's own user, and the process that answers must run as that
// user, so a socket planted by someone else is never handed a request.
//
// This grants nothing the data directory's permissions do not already
// grant: whoever can act as the server's user can open the data directory
// offline, make an admin token there without the passphrase (vigil token
// create) and use it on the staff listener. What the socket cannot do is
// unseal: a sealed server stays sealed until someone gives the passphrase
// (vigil unseal).
package staffsock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Name is the socket's file name in the data directory.
const Name = "staff.sock"

// Path returns the socket's path in the data directory dir.
func Path(dir string) string { return filepath.Join(dir, Name) }

// ErrNoServer means no server answers on the data directory's socket: there
// is no socket file, or it is left over from a server that was killed.
var ErrNoServer = errors.New("no server is listening on the staff socket")

// A Listener accepts connections on DIR/staff.sock from one user only.
type Listener struct {
	// UID is the only peer user ID accepted; Listen sets it to the process's
	// effective user ID.
	UID int
	// Refused, if set, is called with the peer's user ID of each refused
	// connection (-1 if unknown), for the server's log.
	Refused func(uid int)

	ul   *net.UnixListener
	path string
}

var _ net.Listener = (*Listener)(nil)

// Listen creates DIR/staff.sock with mode 0600 and listens on it. The caller
// must hold the data directory's lock: any socket file already there is then
// a leftover of a server that died without removing it, and is replaced
// (atomically, by the rename).
// The socket is created under a temporary name, given its mode, then
// renamed into place, so DIR/staff.sock never exists with a wider mode.
func Listen(dir string) (*Listener, error) {
	path := Path(dir)
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d", Name, os.Getpid()))
	if max := len(unix.RawSockaddrUnix{}.Path) - 1; len(tmp) > max {
		return nil, fmt.Errorf("staff socket %s: path longer than the %d bytes a unix socket allows (hint: use a shorter data directory path)", tmp, max)
	}
	// A socket already there is replaced by the rename below; anything else
	// is not ours to remove.
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("staff socket %s exists and is not a socket; refusing to replace it", path)
	}
	os.Remove(tmp) // a leftover of an earlier process with this PID
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("staff socket: %w", err)
	}
	ul.SetUnlinkOnClose(false) // it is renamed: Close removes the final path
	if err := os.Chmod(tmp, 0o600); err != nil {
		ul.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("staff socket: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ul.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("staff socket: %w", err)
	}
	return &Listener{UID: os.Geteuid(), ul: ul, path: path}, nil
}

// Accept waits for the next connection from the allowed user; connections
// from anyone else are closed at once and not returned.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.ul.AcceptUnix()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil && uid == l.UID {
			return c, nil
		}
		c.Close()
		if err != nil {
			uid = -1
		}
		if l.Refused != nil {
			l.Refused(uid)
		}
	}
}

// Close stops listening and removes the socket file.
func (l *Listener) Close() error {
	err := l.ul.Close()
	if e := os.Remove(l.path); e != nil && !errors.Is(e, fs.ErrNotExist) && err == nil {
		err = e
	}
	return err
}

// Addr returns the socket's address.
func (l *Listener) Addr() net.Addr { return l.ul.Addr() }

// peerUID returns the user ID of the process at the other end of c, as the
// kernel recorded it when the connection was made.
func peerUID(c *net.UnixConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if cerr != nil {
		return -1, fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	return int(cred.Uid), nil
}

// Check reports whether the socket file at path may be trusted by this
// process: a socket, mode 0600, owned by the effective user. A missing file
// is ErrNoServer.
func Check(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNoServer
	}
	if err != nil {
		return fmt.Errorf("staff socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("staff socket %s is not a socket: refusing it", path)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		return fmt.Errorf("staff socket %s has mode %04o, not 0600: refusing it (hint: another program made or changed it; stop vigil serve, remove the file and start serve again)", path, perm)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("staff socket %s: cannot read its owner", path)
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("staff socket %s is owned by user %d, not by you (user %d): refusing it (hint: run vigil as the server's user)", path, st.Uid, os.Geteuid())
	}
	return nil
}

// Dial checks the data directory's socket ([Check]), connects to it and
// checks that the process answering runs as this process's user. It
// returns ErrNoServer if there is no socket or nobody listens on it (a
// leftover of a killed server).
func Dial(ctx context.Context, dir string) (net.Conn, error) {
	path := Path(dir)
	if err := Check(path); err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoServer
	}
	if err != nil {
		return nil, fmt.Errorf("staff socket: %w", err)
	}
	uid, err := peerUID(c.(*net.UnixConn))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("staff socket: %w", err)
	}
	if uid != os.Geteuid() {
		c.Close()
		return nil, fmt.Errorf("staff socket %s is served by user %d, not by you (user %d): refusing it", path, uid, os.Geteuid())
	}
	return c, nil
}

// BaseURL is the URL prefix of requests made with a [NewClient] client.
const BaseURL = "http://localhost"

// NewClient returns an HTTP client whose every connection is made by
// [Dial] on dir's socket, after checking once that a server answers there
// (else ErrNoServer or the reason the socket is refused). Requests go to
// BaseURL + "/api/v1/...".
func NewClient(ctx context.Context, dir string) (*http.Client, error) {
	c, err := Dial(ctx, dir)
	if err != nil {
		return nil, err
	}
	c.Close()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return Dial(ctx, dir)
		},
		MaxIdleConns:    1,
		IdleConnTimeout: 30 * time.Second,
	}
	return &http.Client{Transport: tr}, nil
}

// local marks a request's context as arriving on the staff socket.
type localKey struct{}

// Handler marks every request it passes to h as local ([IsLocal]). Serve it
// only on a [Listener].
func Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), localKey{}, true)))
	})
}

// IsLocal reports whether r arrived through [Handler], that is on the staff
// socket from the server's own user.
func IsLocal(r *http.Request) bool {
	v, _ := r.Context().Value(localKey{}).(bool)
	return v
}
