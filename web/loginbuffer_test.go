package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/web"
)

// readBuffer returns the bytes of a bufio.Reader's internal buffer: the
// test looks where an attacker reading the process's memory would.
func readBuffer(br *bufio.Reader) []byte {
	f := reflect.ValueOf(br).Elem().FieldByName("buf")
	return *(*[]byte)(unsafe.Pointer(f.UnsafeAddr()))
}

// Every answer to a follow-up login, including the refusals that come
// before any receipt work (cross-site, a malformed form, the limiter's
// 429), leaves no receipt in net/http's connection read buffer, which is
// pooled and never wiped: the answer is written past it, the buffer is
// zeroed and the connection closed. The test posts the right receipt, then
// takes the same connection over (if it is still open) and reads the
// buffer, and also checks the pooled reader the next connection gets.
func TestLoginLeavesNoReceiptInConnBuffer(t *testing.T) {
	d := openDir(t)
	receipt, _, err := d.Intake.Submit(context.Background(), intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer receipt.Wipe()
	form := url.Values{"receipt": {string(receipt)}}.Encode()
	h := handler(d, web.Options{ReceiptLimit: ratelimitConfig(1)})
	buffers := make(chan []byte, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/peek" {
			_, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buffers <- bytes.Clone(readBuffer(brw.Reader))
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	// Spend the limiter's one failure so that the right receipt gets 429.
	wrong := url.Values{"receipt": {"1111 2222 3333 4444 5555 6666 7777"}}.Encode()
	send(t, addr, "application/x-www-form-urlencoded", "", wrong)
	for _, c := range []struct{ name, ctype, extra string }{
		{"over the limit (429)", "application/x-www-form-urlencoded", ""},
		{"cross-site (403)", "application/x-www-form-urlencoded", "Sec-Fetch-Site: cross-site\r\n"},
		{"not a form (400)", "text/plain", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, status := send(t, addr, c.ctype, c.extra, form)
			defer conn.Close()
			t.Logf("answer: %s", status)
			// If the connection is still open, read its buffer through it;
			// else a new connection gets a reader from the pool.
			// The write fails, as it should, when the server closed it.
			fmt.Fprintf(conn, "GET /peek HTTP/1.1\r\nHost: x\r\n\r\n")
			peek, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer peek.Close()
			if _, err := fmt.Fprintf(peek, "GET /peek HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			// One buffer from the new connection, and one more from the
			// old one if it was left open.
			seen := 0
			for timeout := time.After(2 * time.Second); seen < 2; {
				select {
				case b := <-buffers:
					seen++
					if i := bytes.Index(b, []byte(form)); i >= 0 {
						t.Errorf("the receipt is still in a connection's read buffer at offset %d", i)
					}
					if seen == 1 {
						timeout = time.After(300 * time.Millisecond)
					}
				case <-timeout:
					seen = 2
				}
			}
		})
	}
}

// send posts body to /followup on a new connection and returns it with the
// answer's status line.
func send(t *testing.T, addr, ctype, extra, body string) (net.Conn, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /followup HTTP/1.1\r\nHost: x\r\n%sContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", extra, ctype, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return conn, resp.Status
}
