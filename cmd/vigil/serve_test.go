package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/intake"
)

// serveStart starts `vigil serve` on ephemeral loopback ports with env and
// the extra flags, and waits for both URLs. It is stopped at the end of the
// test if the test does not stop it.
func serveStart(t *testing.T, bin string, env []string, data string, extra ...string) *canaryServer {
	t.Helper()
	s := &canaryServer{out: newCanaryBuffer(), done: make(chan struct{})}
	args := append([]string{"serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0"}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = env
	errb := newCanaryBuffer()
	s.cmd.Stdout, s.cmd.Stderr = s.out, errb
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for s.staff == "" {
		for line := range strings.Lines(s.out.String()) {
			if u, ok := strings.CutPrefix(line, "public "); ok {
				s.pub = strings.TrimSpace(u)
			}
			if u, ok := strings.CutPrefix(line, "staff "); ok {
				s.staff = strings.TrimSpace(u)
			}
		}
		select {
		case <-s.done:
			t.Fatalf("vigil serve exited: %v\n%s\n%s", s.err, s.out, errb)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil serve printed no URLs\n%s\n%s", s.out, errb)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// publishedCheckpoint returns the body of the server's /log/checkpoint, or
// "" while there is none.
func publishedCheckpoint(t *testing.T, pub string) string {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(pub, "/") + "/log/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// checkpointStays watches /log/checkpoint for a while and fails the test if
// it changes from want. It reports false if a boundary of interval passed
// meanwhile (a checkpoint would then be right, and the check proves nothing).
func checkpointStays(t *testing.T, when, pub, want string, interval time.Duration) bool {
	t.Helper()
	slot := time.Now().Truncate(interval)
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		if got := publishedCheckpoint(t, pub); got != want {
			if !time.Now().Truncate(interval).Equal(slot) {
				return false
			}
			t.Fatalf("%s: a checkpoint was signed off the %v grid:\n%s\nbefore:\n%s", when, interval, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Now().Truncate(interval).Equal(slot)
}

// Checkpoints are signed only at the boundaries of the checkpoint interval:
// not at start and not at unseal, where the tree size would date the
// submissions since the last boundary to the moment.
func TestCheckpointOnlyOnGrid(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data := inboxInit(t)
	d := inboxOpen(t, data)
	if _, _, err := d.Intake.Submit(context.Background(), intake.Draft{Text: "arrived while sealed"}, nil); err != nil {
		t.Fatal(err)
	}
	d.Close()
	const long = 24 * time.Hour // no boundary during the test (else it says so)

	// Started sealed, then unsealed over the API: no checkpoint.
	s := serveStart(t, bin, vigilEnv(""), data, "--checkpoint-interval", long.String())
	before := publishedCheckpoint(t, s.pub)
	body, _ := json.Marshal(map[string]string{"passphrase": inboxPass})
	resp, err := http.Post(strings.TrimSuffix(s.staff, "/")+"/api/v1/unseal", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("unseal: %s", resp.Status)
	}
	if !checkpointStays(t, "after unseal", s.pub, before, long) {
		t.Skip("a checkpoint boundary passed during the test")
	}
	s.stop(t)

	// Started unsealed: no checkpoint either.
	s = serveStart(t, bin, vigilEnv(inboxPass), data, "--checkpoint-interval", long.String())
	if !checkpointStays(t, "at start", s.pub, before, long) {
		t.Skip("a checkpoint boundary passed during the test")
	}
	s.stop(t)

	// With a short interval the log's growth is published at the next
	// boundary.
	s = serveStart(t, bin, vigilEnv(inboxPass), data, "--checkpoint-interval", "1s")
	deadline := time.Now().Add(30 * time.Second)
	for publishedCheckpoint(t, s.pub) == before {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint at the boundaries of a 1s interval")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop(t)
}

// stalledConn opens a connection to the public listener and sends req, then
// nothing more.
func stalledConn(t *testing.T, pub, req string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(pub, "http://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	return c
}

// getIndex fetches / on a fresh connection and returns how long it took.
func getIndex(t *testing.T, pub string, limit time.Duration) time.Duration {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: limit}
	start := time.Now()
	resp, err := client.Get(pub)
	if err != nil {
		t.Fatalf("GET / with four stalled connections open: %v after %v", err, time.Since(start))
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<html") {
		t.Fatalf("GET /: %s %.200s", resp.Status, b)
	}
	return took
}

// With --public-max-conns 4, four clients that declare a body and stall
// must not lock every source out: each body has --public-body-timeout to
// arrive (2s here, to keep the test quick; 30s by default), and a request
// whose handler does not read its body is answered at once.
func TestStalledBodiesReleaseConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data := inboxInit(t)
	const timeout = 2 * time.Second
	s := serveStart(t, bin, vigilEnv(""), data, "--public-max-conns", "4", "--public-body-timeout", timeout.String())
	const limit = 45 * time.Second

	// Four follow-up logins that declare 4000 bytes and send one.
	var conns []net.Conn
	for range 4 {
		conns = append(conns, stalledConn(t, s.pub, "POST /followup HTTP/1.1\r\nHost: 127.0.0.1\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\nr"))
	}
	took := getIndex(t, s.pub, limit)
	t.Logf("GET / answered in %v with four stalled form posts (body timeout %v)", took, timeout)
	// The stalled connections are closed by the server, not left open.
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(limit))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("stalled post %d still open: %v", i, err)
		}
	}

	// Four GETs that declare a body and send none: each is answered at
	// once, and its connection closed rather than kept reading the body.
	conns = conns[:0]
	for range 4 {
		conns = append(conns, stalledConn(t, s.pub, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n\r\n"))
	}
	for i, c := range conns {
		start := time.Now()
		c.SetReadDeadline(time.Now().Add(limit))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("GET / with a declared body %d: %v", i, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil {
			t.Errorf("GET / with a declared body %d: %s, %v", i, resp.Status, err)
		}
		if took := time.Since(start); took >= timeout {
			t.Errorf("GET / with a declared body %d answered after %v: the server waited for the body", i, took)
		}
	}
	took = getIndex(t, s.pub, limit)
	t.Logf("GET / answered in %v after four GETs with declared bodies", took)
	s.stop(t)
}
