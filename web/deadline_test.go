package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/web"
)

// A form body that stalls is given up after BodyTimeout, while an upload
// that keeps sending may take longer than that: it is bounded by
// UploadStall between reads instead.
func TestBodyTimeout(t *testing.T) {
	d := openDir(t)
	srv := server(t, d, web.Options{BodyTimeout: 300 * time.Millisecond, UploadStall: 5 * time.Second})
	addr := strings.TrimPrefix(srv.URL, "http://")
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// A follow-up login that declares 4000 bytes and sends one.
	c := dial()
	fmt.Fprintf(c, "POST /followup HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\nr")
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Errorf("stalled form: the server did not close the connection: %v", err)
	}

	// An upload sent in pieces over three times BodyTimeout.
	c = dial()
	body := "--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n" + strings.Repeat("slow but steady ", 64) + "\r\n--b--\r\n"
	fmt.Fprintf(c, "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n", len(body))
	const pieces = 10
	for i := range pieces {
		time.Sleep(100 * time.Millisecond)
		if _, err := io.WriteString(c, body[i*len(body)/pieces:(i+1)*len(body)/pieces]); err != nil {
			t.Fatalf("upload piece %d: %v", i, err)
		}
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `id="receipt"`) {
		t.Errorf("an upload that kept sending for longer than BodyTimeout got no receipt: %s\n%.500s", resp.Status, page)
	}
}
