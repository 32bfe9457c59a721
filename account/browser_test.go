package account_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/internal/browsertest"
)

// TestSecureCookieOverLocalHTTP checks, in a real Chromium, that the
// session cookie (__Host- prefix, Secure) set by a plain-http staff
// listener on 127.0.0.1 or localhost is kept and sent back: browsers treat
// those hosts as secure contexts, so no insecure-cookie switch is needed
// for the default staff listener (docs/accounts.md).
func TestSecureCookieOverLocalHTTP(t *testing.T) {
	ctx, cancel := browsertest.Start(t)
	defer cancel()
	d := openDir(t)
	s := &account.Sessions{Accounts: newAccounts(d, newClock())}
	m := http.NewServeMux()
	m.HandleFunc("GET /set", func(w http.ResponseWriter, r *http.Request) {
		_, err := s.LoginPassphrase(w, r, "nobody", []byte("nothing at all"))
		fmt.Fprint(w, "set ", err)
	})
	m.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		_, err := r.Cookie(account.CookieName)
		fmt.Fprintf(w, "cookie sent: %v", err == nil)
	})
	serve := func(addr string) int {
		ln, err := net.Listen("tcp", addr)
		must(t, err)
		srv := &http.Server{Handler: m}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().(*net.TCPAddr).Port
	}
	kept := func(base string) bool {
		browsertest.Do(t, ctx, chromedp.Navigate(base+"/set"))
		if set := browsertest.Run(t, ctx, chromedp.Text("body")); !strings.HasPrefix(set, "set") {
			t.Fatalf("%s/set: %q", base, set)
		}
		browsertest.Do(t, ctx, chromedp.Navigate(base+"/echo"))
		return browsertest.Run(t, ctx, chromedp.Text("body")) == "cookie sent: true"
	}
	port := serve("127.0.0.1:0")
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if base := fmt.Sprintf("http://%s:%d", host, port); !kept(base) {
			t.Errorf("%s: Chromium did not keep the Secure __Host- cookie", base)
		}
	}
	// The control: on a plain-http origin that is not loopback, Chromium
	// drops the cookie, so the check above can fail.
	if ip := nonLoopback(); ip != "" {
		if base := fmt.Sprintf("http://%s:%d", ip, serve(ip+":0")); kept(base) {
			t.Errorf("%s: Chromium kept a Secure cookie from plain http; the control failed", base)
		}
	} else {
		t.Log("no non-loopback address: control skipped")
	}
}

// nonLoopback returns an IPv4 address of this machine that is not
// loopback, or "".
func nonLoopback() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}
