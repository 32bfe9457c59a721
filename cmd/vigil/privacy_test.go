package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
)

// TestPrivacyServerLearnsNothing runs a real vigil serve and talks to its
// public listener the way a source's browser would, but with everything a
// server could learn about the source made distinctive: the socket's source
// address (a loopback address of its own), forwarded-for headers naming other
// addresses, the user agent and the referrer. It submits text, a contact
// preference and files whose content and names carry canaries, keeps the
// receipt, follows up with it, reads a staff reply posted through the staff
// API, answers it with a file, tries wrong receipts and loads every page it
// finds. Then, while the server still runs (the WAL open) and again after it
// stopped, it scans every file under the data directory, the server's
// captured stdout and stderr (with the public request log on, if serve has
// one), and the temporary directory the server ran with, and finds none of
// those values in any encoding the canary test knows (raw, upper case, hex,
// base64 at every alignment, UTF-16, URL escapes; addresses also as raw bytes,
// hex and integers; the receipt with and without its spaces). A file upload
// bigger than net/http's in-memory multipart limit is paused mid-body to scan
// the temporary directory while the server holds it.
//
// On the way it checks what reaches the browser: no cookies from / and
// /submit, no receipt in any Location header, the follow-up cookie not
// holding the receipt, Referrer-Policy no-referrer on every page, and no link,
// image, stylesheet, form or script on any page pointing at another host.
func TestPrivacyServerLearnsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vigil binary and runs vigil serve")
	}
	root := t.TempDir()
	bin := vigilBin(t)
	data := filepath.Join(root, "data")
	tmpdir := filepath.Join(root, "tmp")
	if err := os.Mkdir(tmpdir, 0o700); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(root, "serve.log")

	id := privNewIdentity()
	sec := &privSecrets{}
	sec.addIPv4("socket source address", id.sock)
	for _, a := range id.forwarded {
		if a.Is4() {
			sec.addIPv4("forwarded address", a)
		} else {
			sec.addIPv6("forwarded address", a)
		}
	}
	sec.add("user agent", id.userAgent)
	sec.add("referrer", id.referrer)
	sec.add("private language tag", id.langTag)
	canary := map[string]string{}
	for _, k := range []string{"text", "contact", "file content", "file name", "reply text", "reply file content", "reply file name"} {
		canary[k] = canaryString()
		sec.add("canary in the "+k, canary[k])
	}
	t.Logf("socket address %s, forwarded %v, user agent %q, referrer %q, language tag %s", id.sock, id.forwarded, id.userAgent, id.referrer, id.langTag)

	// The scanner finds every secret where it is.
	privScannerControl(t, sec)

	env := vigilEnv(privPassphrase)
	vigilRun(t, bin, env, "init", "--data", data, "--origin", "privacy.test/log", "--scrypt-work-factor", "10")
	token := privToken(t, bin, env, data)

	srv := privServe(t, bin, data, tmpdir, logPath)
	c := privNewClient(t, srv.public, id, sec)

	// 1. Page loads, while the vault is sealed.
	c.crawl("/", "/submit", "/followup", "/?lang=ru", "/submit?lang=ru", "/followup?lang=ru")

	// 2. A submission while sealed: text, contact and two files.
	fileContent := canaryLarge(canary["file content"], 80<<10) // crosses an age chunk boundary
	receipt := c.submit([][2]string{
		{"text", "Testimony: at the checkpoint I saw " + canary["text"] + ". Свидетельство."},
		{"language", "ru"},
		{"contact", "Signal, ask for " + canary["contact"]},
		{"lang", "ru"},
	}, []privFile{
		{name: "photo-" + canary["file name"] + ".jpg", content: fileContent},
		{name: canary["file name"] + ".txt", content: []byte("written down: " + canary["file content"] + "\n")},
	})
	sec.addReceipt("receipt", receipt)
	t.Logf("receipt %s", receipt)

	// 3. A second submission after unsealing, text only.
	vigilRun(t, bin, env, "unseal", "--staff", srv.staff)
	receipt2 := c.submit([][2]string{{"text", "Second testimony " + canary["text"]}, {"lang", "en"}}, nil)
	sec.addReceipt("second receipt", receipt2)

	// 4. Follow up, staff reply, source answers with a file.
	cookie := c.followup(receipt)
	thread := c.thread(cookie)
	if !strings.Contains(thread, canary["text"]) {
		t.Errorf("the follow-up thread does not show the submitted text: is the receipt opening the submission?")
	}
	subID := privStaffFind(t, srv.staff, token, canary)
	staffText := "Staff question " + canaryString()
	privStaff(t, srv.staff, token, http.MethodPost, "/api/v1/submissions/"+subID+"/messages", map[string]string{"text": staffText})
	thread = c.thread(cookie)
	if !strings.Contains(thread, staffText) {
		t.Errorf("the follow-up thread does not show the staff reply")
	}
	c.reply(thread, cookie, "My answer: "+canary["reply text"], []privFile{
		{name: "answer-" + canary["reply file name"] + ".txt", content: []byte("attached " + canary["reply file content"])},
	})
	if got := privStaff(t, srv.staff, token, http.MethodGet, "/api/v1/submissions/"+subID, nil); !strings.Contains(got, canary["reply text"]) {
		t.Errorf("the staff side does not read the source's answer")
	} else if !strings.Contains(got, canary["reply file name"]) {
		t.Errorf("the staff side does not list the source's answer file")
	}
	c.thread(cookie)
	cookie2 := c.followup(receipt2)
	c.thread(cookie2)

	// 5. Wrong receipts: well formed but unknown, and malformed.
	wrong := privNewReceipt()
	sec.addReceipt("wrong receipt", wrong)
	st1, page1 := c.wrongReceipt(wrong)
	malformed := "9" + canaryString()[:12]
	sec.add("malformed receipt", malformed)
	st2, page2 := c.wrongReceipt(malformed)
	if st1 != st2 || page1 != page2 {
		t.Errorf("a wrong and a malformed receipt get different answers: %d and %d", st1, st2)
	}

	// 6. An upload too big for net/http's in-memory multipart form, paused
	// with the whole file sent but not the closing boundary: scan the
	// temporary directory while the server holds the body, then abort.
	c.pausedUpload(canary["file content"], func() {
		privAssertClean(t, "during a large upload", sec, true, root)
	})

	// 7. Every page again, then scan while the server runs.
	c.crawl("/", "/submit", "/followup")
	if st, err := os.Stat(filepath.Join(data, "vigil.db-wal")); err != nil || st.Size() == 0 {
		t.Errorf("expected an unmerged WAL while the server runs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "vigil.db-shm")); err != nil {
		t.Errorf("expected the WAL index while the server runs: %v", err)
	}
	privAssertClean(t, "while vigil serve runs", sec, false, root)
	privCheckLayout(t, "while vigil serve runs", data, logPath, tmpdir)
	srv.stop(t)
	privAssertClean(t, "after vigil serve stopped", sec, false, root)
	privCheckLayout(t, "after vigil serve stopped", data, logPath, tmpdir)
	logb, _ := os.ReadFile(logPath)
	t.Logf("%d pages and assets loaded; the server's output has %d lines, %d of them about /submit or /followup",
		c.loads, bytes.Count(logb, []byte("\n")), bytes.Count(logb, []byte("path=/submit"))+bytes.Count(logb, []byte("path=/followup")))
	t.Logf("the server's output:\n%s", logb)
	if srv.publicLog != "" && !bytes.Contains(logb, []byte("/submit")) {
		// Positive control: the request log was on and logged our requests.
		t.Errorf("ran with %s but the log names no request:\n%s", srv.publicLog, logb)
	}
	if left, _ := os.ReadDir(tmpdir); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Logf("files left in the server's TMPDIR: %v", names)
	}
}

const privPassphrase = "privacy test passphrase"

// privDirs are a test's folders: root holds data (a fresh data directory,
// initialised with the given origin), tmp (the server's TMPDIR) and log
// (the server's output).
type privDirs struct{ root, data, tmp, log string }

// privInit builds the binary and initialises a data directory with
// privPassphrase.
func privInit(t *testing.T, origin string) (bin string, env []string, dirs privDirs) {
	t.Helper()
	root := t.TempDir()
	dirs = privDirs{root: root, data: filepath.Join(root, "data"), tmp: filepath.Join(root, "tmp"), log: filepath.Join(root, "serve.log")}
	if err := os.Mkdir(dirs.tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	bin, env = vigilBin(t), vigilEnv(privPassphrase)
	vigilRun(t, bin, env, "init", "--data", dirs.data, "--origin", origin, "--scrypt-work-factor", "10")
	return bin, env, dirs
}

// privIdentity is what a source's connection could give away.
type privIdentity struct {
	sock      netip.Addr   // the socket's source address, a loopback address
	forwarded []netip.Addr // named in X-Forwarded-For, X-Real-IP, Forwarded...
	userAgent string
	referrer  string
	langTag   string // a private-use language tag in Accept-Language
}

func privNewIdentity() privIdentity {
	var r [16]byte
	rand.Read(r[:])
	v6 := [16]byte{0x20, 0x01, 0x0d, 0xb8}
	copy(v6[4:], r[6:])
	h := hex.EncodeToString(r[:6])
	return privIdentity{
		sock: netip.AddrFrom4([4]byte{127, 16 + r[0]%224, 1 + r[1]%254, 2 + r[2]%252}),
		forwarded: []netip.Addr{
			netip.AddrFrom4([4]byte{198, 51, 100, 2 + r[3]%252}),
			netip.AddrFrom4([4]byte{203, 0, 113, 2 + r[4]%252}),
			netip.AddrFrom16(v6),
		},
		userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 PrivacyTest/" + h + " Firefox/128.0",
		referrer:  "https://referrer-" + h + ".example.org/news/" + h + "?q=" + h,
		langTag:   "x-" + h[:8],
	}
}

// privNeedle is one encoding of one secret. Weak needles are short raw
// bytes that random data (ciphertext) holds by chance now and then: they are
// only looked for where that chance is small.
type privNeedle struct {
	what, form string
	b          []byte
	weak       bool
}

type privSecrets struct {
	needles []privNeedle
	names   []privNeedle // forms looked for in file names
	whats   []string
}

func (s *privSecrets) addNeedle(what, form string, b []byte, weak bool) {
	for _, n := range s.needles {
		if n.what == what && bytes.Equal(n.b, b) {
			return
		}
	}
	s.needles = append(s.needles, privNeedle{what, form, b, weak})
}

// add registers v in every form the canary test looks for, plus lower case
// and URL escapes.
func (s *privSecrets) add(what, v string) {
	if !slices.Contains(s.whats, what) {
		s.whats = append(s.whats, what)
	}
	for _, n := range canaryNeedles(v) {
		s.addNeedle(what, n.name, n.b, false)
	}
	s.addNeedle(what, "lower", []byte(strings.ToLower(v)), false)
	s.addNeedle(what, "query-escaped", []byte(url.QueryEscape(v)), false)
	s.addNeedle(what, "path-escaped", []byte(url.PathEscape(v)), false)
	s.names = append(s.names, privNeedle{what: what, form: "name", b: []byte(strings.ToLower(v))})
}

func (s *privSecrets) addIPv4(what string, a netip.Addr) {
	s.add(what, a.String())
	b := a.As4()
	s.addNeedle(what, "raw bytes", b[:], true)
	s.addNeedle(what, "raw IPv4-mapped IPv6", netip.AddrFrom16(a.As16()).AsSlice(), false)
	s.addNeedle(what, "IPv4-mapped text", []byte(netip.AddrFrom16(a.As16()).String()), false)
	s.addNeedle(what, "hex bytes", []byte(hex.EncodeToString(b[:])), false)
	s.addNeedle(what, "HEX bytes", []byte(strings.ToUpper(hex.EncodeToString(b[:]))), false)
	s.addNeedle(what, "uint32", []byte(strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[:])), 10)), false)
}

func (s *privSecrets) addIPv6(what string, a netip.Addr) {
	s.add(what, a.String())
	s.add(what, a.StringExpanded())
	b := a.As16()
	s.addNeedle(what, "raw bytes", b[:], false)
	s.addNeedle(what, "hex bytes", []byte(hex.EncodeToString(b[:])), false)
}

// addReceipt registers a receipt as shown (groups of four digits), without
// spaces and with dashes.
func (s *privSecrets) addReceipt(what, r string) {
	digits := strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, r)
	s.add(what, r)
	s.add(what, digits)
	s.add(what, strings.ReplaceAll(r, " ", "-"))
}

// privScan walks dirs and returns each file or name holding a needle.
func privScan(t *testing.T, s *privSecrets, skipWeak bool, dirs ...string) []string {
	hits, _ := privScanStats(t, s, skipWeak, dirs...)
	return hits
}

// privScanStats is privScan that also lists the files scanned with their
// sizes.
func privScanStats(t *testing.T, s *privSecrets, skipWeak bool, dirs ...string) (hits, files []string) {
	t.Helper()
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) { // a temporary file renamed away meanwhile
					return nil
				}
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			rel = filepath.Join(filepath.Base(dir), rel)
			for _, n := range s.names {
				if strings.Contains(strings.ToLower(rel), string(n.b)) {
					hits = append(hits, fmt.Sprintf("%s: %s in the name", rel, n.what))
				}
			}
			if !de.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if os.IsNotExist(err) {
				return nil
			}
			if err != nil {
				return err
			}
			// An age file is ciphertext: raw 4-byte addresses appear in
			// random bytes by chance (about one file in 4 GiB/size).
			ciphertext := bytes.HasPrefix(b, []byte("age-encryption.org/v1\n"))
			files = append(files, fmt.Sprintf("%s (%d)", rel, len(b)))
			found := map[string]bool{} // one hit per secret and file
			for _, n := range s.needles {
				if n.weak && (skipWeak || ciphertext) || found[n.what] {
					continue
				}
				if i := bytes.Index(b, n.b); i >= 0 {
					found[n.what] = true
					lo, hi := max(0, i-40), min(len(b), i+len(n.b)+40)
					hits = append(hits, fmt.Sprintf("%s: %s (%s) at offset %d: %q", rel, n.what, n.form, i, b[lo:hi]))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", dir, err)
		}
	}
	return hits, files
}

func privAssertClean(t *testing.T, when string, s *privSecrets, skipWeak bool, dirs ...string) {
	t.Helper()
	hits, files := privScanStats(t, s, skipWeak, dirs...)
	for _, h := range hits {
		t.Errorf("%s: found %s", when, h)
	}
	t.Logf("%s: scanned %d files: %s", when, len(files), strings.Join(files, ", "))
}

// privScannerControl checks that the scanner finds each secret, in a file's
// content and in a file name.
func privScannerControl(t *testing.T, s *privSecrets) {
	t.Helper()
	dir := t.TempDir()
	for i, n := range s.needles {
		sub := filepath.Join(dir, strconv.Itoa(i))
		os.Mkdir(sub, 0o700)
		os.WriteFile(filepath.Join(sub, "f"), append(append([]byte("prefix\x00"), n.b...), "\nsuffix"...), 0o600)
		hits := privScan(t, s, false, sub)
		if !slices.ContainsFunc(hits, func(h string) bool { return strings.Contains(h, ": "+n.what+" ") }) {
			t.Errorf("scanner control: %s as %s not found", n.what, n.form)
		}
	}
	for i, n := range s.names {
		if strings.ContainsAny(string(n.b), "/:?") { // cannot be in a name
			continue
		}
		sub := filepath.Join(dir, "n"+strconv.Itoa(i))
		os.Mkdir(sub, 0o700)
		os.WriteFile(filepath.Join(sub, "x"+string(n.b)), nil, 0o600)
		if hits := privScan(t, s, false, sub); !slices.ContainsFunc(hits, func(h string) bool { return strings.Contains(h, n.what+" in the name") }) {
			t.Errorf("scanner control: %s in a file name not found", n.what)
		}
	}
}

// privCheckLayout checks that the scans covered the files they should.
func privCheckLayout(t *testing.T, when, data, logPath, tmpdir string) {
	t.Helper()
	for _, f := range []string{filepath.Join(data, "vigil.json"), filepath.Join(data, "keys.age"), filepath.Join(data, "vigil.db"),
		filepath.Join(data, "lock"), filepath.Join(data, "blobs", "tmp"), logPath, tmpdir} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: expected %s: %v", when, f, err)
		}
	}
	if blobs, _ := filepath.Glob(filepath.Join(data, "blobs", "??", "*")); len(blobs) < 3 {
		t.Errorf("%s: %d blobs scanned, want at least the 3 files sent", when, len(blobs))
	}
}

// privNewReceipt returns a well-formed receipt (seven groups of four digits).
func privNewReceipt() string {
	var b [28]byte
	rand.Read(b[:])
	var s strings.Builder
	for i := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte(' ')
		}
		s.WriteByte('0' + b[i]%10)
	}
	return s.String()
}

// privToken creates a staff API token with vigil token create.
func privToken(t *testing.T, bin string, env []string, data string) string {
	t.Helper()
	out := vigilRun(t, bin, env, "token", "create", "--data", data, "--name", "privacy-test")
	tok := regexp.MustCompile(`vgl_[A-Za-z0-9_-]+`).FindString(out)
	if tok == "" {
		t.Fatalf("vigil token create printed no token:\n%s", out)
	}
	return tok
}

type privServer struct {
	cmd           *exec.Cmd
	public, staff string
	publicLog     string // the flag that turned the public request log on, if any
	done          chan struct{}
	err           error
}

// privServe starts vigil serve sealed, on ephemeral loopback ports, with
// TMPDIR set to tmpdir, stdout and stderr going to logPath, and the public
// request log on if serve has a flag for it.
func privServe(t *testing.T, bin, data, tmpdir, logPath string) *privServer {
	t.Helper()
	s := &privServer{done: make(chan struct{})}
	args := []string{"serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0", "--checkpoint-interval", "100ms"}
	help, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	if m := regexp.MustCompile(`(?m)^\s+-(public-log|log-public|public-request-log|access-log|request-log|log-requests)\b(.*)$`).FindSubmatch(help); m != nil {
		s.publicLog = "--" + string(m[1])
		if strings.TrimSpace(string(m[2])) == "" { // a boolean flag
			args = append(args, s.publicLog)
		} else {
			args = append(args, s.publicLog, "-") // FILE; "-" for standard error
		}
		t.Logf("public request log on: %s", strings.Join(args[len(args)-1:], " "))
	} else {
		t.Logf("vigil serve has no public request log flag; its stdout and stderr are scanned")
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s.cmd = exec.Command(bin, args...)
	env := []string{"TMPDIR=" + tmpdir}
	for _, kv := range vigilEnv("") {
		if !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = f, f
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
	for s.public == "" || s.staff == "" {
		out, _ := os.ReadFile(logPath)
		for line := range strings.Lines(string(out)) {
			if u, ok := strings.CutPrefix(line, "public "); ok {
				s.public = strings.TrimSpace(u)
			}
			if u, ok := strings.CutPrefix(line, "staff "); ok {
				s.staff = strings.TrimSpace(u)
			}
		}
		select {
		case <-s.done:
			t.Fatalf("vigil serve exited: %v\n%s", s.err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil serve printed no URLs\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

func (s *privServer) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("vigil serve: %v", s.err)
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Fatal("vigil serve did not stop")
	}
}

// privStaff calls the staff API and returns the response body.
func privStaff(t *testing.T, staff, token, method, path string, body any) string {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(staff, "/")+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("staff %s %s: %s\n%s", method, path, resp.Status, b)
	}
	return string(b)
}

// privStaffFind lists the submissions, reads each, and returns the ID of the
// one that holds the first submission's canaries; it checks that the contact
// and file names reached the vault.
func privStaffFind(t *testing.T, staff, token string, canary map[string]string) string {
	t.Helper()
	list := privStaff(t, staff, token, http.MethodGet, "/api/v1/submissions", nil)
	var v any
	if err := json.Unmarshal([]byte(list), &v); err != nil {
		t.Fatalf("submission list: %v\n%s", err, list)
	}
	var ids []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			switch id := v["id"].(type) {
			case string:
				ids = append(ids, id)
				return
			case []any: // an ID marshalled as its bytes
				var b vigil.ID
				for i, x := range id {
					if f, ok := x.(float64); ok && i < len(b) {
						b[i] = byte(f)
					}
				}
				ids = append(ids, b.String())
				return
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	for _, id := range ids {
		got := privStaff(t, staff, token, http.MethodGet, "/api/v1/submissions/"+id, nil)
		if !strings.Contains(got, canary["text"]) || strings.Contains(got, "Second testimony") {
			continue
		}
		if !strings.Contains(got, canary["contact"]) {
			t.Errorf("the staff view lacks the contact: did it reach the vault?")
		}
		if !strings.Contains(got, canary["file name"]) {
			t.Errorf("the staff view lacks the file names: did they reach the vault?")
		}
		return id
	}
	t.Fatalf("no submission with the canary text among %v\n%s", ids, list)
	return ""
}

type privFile struct {
	name    string
	content []byte
}

// privClient is a source's browser: every connection from id.sock, every
// request with id's headers; it checks every response it gets.
type privClient struct {
	t     *testing.T
	base  *url.URL
	id    privIdentity
	hc    *http.Client
	loads int          // pages and assets crawled
	sec   *privSecrets // no receipt may show in a URL or a cookie

	mu    sync.Mutex
	local []string // local addresses of the connections used
}

func privNewClient(t *testing.T, public string, id privIdentity, sec *privSecrets) *privClient {
	base, err := url.Parse(public)
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: id.sock.AsSlice()}, Timeout: 10 * time.Second}
	c := &privClient{t: t, base: base, id: id, sec: sec}
	c.hc = &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       60 * time.Second,
	}
	t.Cleanup(c.hc.CloseIdleConnections)
	return c
}

// do sends req with the distinctive headers and returns the response with
// its body read.
func (c *privClient) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	h := req.Header
	h.Set("User-Agent", c.id.userAgent)
	h.Set("Referer", c.id.referrer)
	var fwd []string
	var fwdd []string
	for _, a := range c.id.forwarded {
		fwd = append(fwd, a.String())
		if a.Is6() {
			fwdd = append(fwdd, `for="[`+a.String()+`]"`)
		} else {
			fwdd = append(fwdd, "for="+a.String())
		}
	}
	h.Set("X-Forwarded-For", strings.Join(fwd, ", "))
	h.Set("Forwarded", strings.Join(fwdd, ";proto=https, ")+";proto=https")
	for _, k := range []string{"X-Real-IP", "True-Client-IP", "CF-Connecting-IP", "X-Client-IP", "Client-IP", "X-Cluster-Client-IP"} {
		h.Set(k, fwd[0])
	}
	h.Set("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5,"+c.id.langTag+";q=0.1")
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		c.mu.Lock()
		c.local = append(c.local, info.Conn.LocalAddr().String())
		c.mu.Unlock()
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	c.mu.Lock()
	for _, l := range c.local {
		if ap, err := netip.ParseAddrPort(l); err != nil || ap.Addr() != c.id.sock {
			c.t.Errorf("a request went out from %s, not from %s", l, c.id.sock)
		}
	}
	c.local = c.local[:0]
	c.mu.Unlock()
	c.checkResponse(req, resp, string(b))
	return resp, string(b)
}

// checkResponse checks what every public response may give the browser.
func (c *privClient) checkResponse(req *http.Request, resp *http.Response, body string) {
	c.t.Helper()
	where := req.Method + " " + req.URL.RequestURI()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if rp := resp.Header.Get("Referrer-Policy"); rp != "no-referrer" {
			c.t.Errorf("%s: Referrer-Policy %q, want no-referrer", where, rp)
		}
		for _, l := range privLinks(body) {
			if err := c.sameOrigin(l); err != nil {
				c.t.Errorf("%s: the page links to %q: %v", where, l, err)
			}
			c.noReceiptIn(where+": a link", l)
		}
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if err := c.sameOrigin(loc); err != nil {
			c.t.Errorf("%s: redirects to %q: %v", where, loc, err)
		}
		c.noReceiptIn(where+": Location", loc)
	}
	for _, k := range resp.Header.Values("Set-Cookie") {
		c.noReceiptIn(where+": Set-Cookie", k)
	}
	p := req.URL.Path
	if (p == "/submit" && req.Method == http.MethodPost || strings.HasPrefix(p, "/followup")) && !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		c.t.Errorf("%s: Cache-Control %q, want no-store (a receipt or a thread must not sit in a cache)", where, resp.Header.Get("Cache-Control"))
	}
	if (p == "/" || p == "/submit") && len(resp.Header.Values("Set-Cookie")) > 0 {
		c.t.Errorf("%s sets a cookie: %q", where, resp.Header.Values("Set-Cookie"))
	}
}

// sameOrigin reports whether a link stays on the server: relative, or
// absolute on the same scheme and host. Links without a host that make no
// request (mailto:, tel:, fragments) pass; javascript: does not.
func (c *privClient) sameOrigin(link string) error {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil {
		return fmt.Errorf("unparsable: %v", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "", "http", "https":
	case "mailto", "tel":
		return nil
	default:
		return fmt.Errorf("scheme %q", u.Scheme)
	}
	if u.Host != "" && (u.Host != c.base.Host || u.Scheme != c.base.Scheme) {
		return fmt.Errorf("another origin than %s://%s", c.base.Scheme, c.base.Host)
	}
	return nil
}

var (
	privAttrRe  = regexp.MustCompile(`(?is)\s(href|src|action|formaction|poster|data|cite|background|manifest|icon|srcset|imagesrcset|ping|content)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	privURLRe   = regexp.MustCompile(`(?i)url\(\s*['"]?([^'")]+)`)
	privImpRe   = regexp.MustCompile(`(?i)@import\s+['"]([^'"]+)`)
	privTagRe   = regexp.MustCompile(`(?s)<[a-zA-Z][^>]*>`)
	privRefresh = regexp.MustCompile(`(?i)^\s*\d+\s*[;,]\s*url\s*=\s*(.+)$`)
)

// privLinks returns every URL an HTML page refers to: attributes that load
// or link (srcset split), meta refresh targets, and CSS url() and @import.
func privLinks(page string) []string {
	var links []string
	for _, tag := range privTagRe.FindAllString(page, -1) {
		for _, m := range privAttrRe.FindAllStringSubmatch(tag, -1) {
			name := strings.ToLower(m[1])
			v := html.UnescapeString(strings.Trim(m[2], `"'`))
			switch name {
			case "content":
				if mm := privRefresh.FindStringSubmatch(v); mm != nil {
					links = append(links, strings.Trim(mm[1], `"' `))
				}
			case "srcset", "imagesrcset":
				for _, part := range strings.Split(v, ",") {
					if f := strings.Fields(part); len(f) > 0 {
						links = append(links, f[0])
					}
				}
			case "ping":
				links = append(links, strings.Fields(v)...)
			default:
				links = append(links, v)
			}
		}
	}
	for _, m := range privURLRe.FindAllStringSubmatch(page, -1) {
		links = append(links, html.UnescapeString(strings.TrimSpace(m[1])))
	}
	for _, m := range privImpRe.FindAllStringSubmatch(page, -1) {
		links = append(links, m[1])
	}
	return links
}

func (c *privClient) url(path string) string {
	u, err := c.base.Parse(path)
	if err != nil {
		c.t.Fatal(err)
	}
	return u.String()
}

// crawl loads paths and every same-origin page or asset they link to
// (GET only; not the log tiles), checking each response.
func (c *privClient) crawl(paths ...string) {
	c.t.Helper()
	queue := slices.Clone(paths)
	seen := map[string]bool{}
	for len(queue) > 0 && len(seen) < 60 {
		p := queue[0]
		queue = queue[1:]
		u, err := c.base.Parse(p)
		if err != nil || u.Host != c.base.Host {
			continue
		}
		u.Fragment = ""
		key := u.RequestURI()
		if seen[key] {
			continue
		}
		seen[key] = true
		c.loads++
		req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		resp, body := c.do(req)
		if resp.StatusCode >= 500 {
			c.t.Errorf("GET %s: %s", key, resp.Status)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			continue
		}
		for _, l := range privLinks(body) {
			lu, err := u.Parse(l)
			if err != nil || lu.Host != c.base.Host || strings.HasPrefix(lu.Path, "/log/") {
				continue
			}
			queue = append(queue, lu.String())
		}
	}
}

// privMultipart encodes fields (in order) and files as multipart/form-data.
func privMultipart(fields [][2]string, files []privFile) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile("files", f.name)
		w.Write(f.content)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

var privReceiptRe = regexp.MustCompile(`(?s)<strong[^>]*\sid="receipt"[^>]*>(.*?)</strong>`)

// submit posts a submission and returns the receipt its reply page shows.
func (c *privClient) submit(fields [][2]string, files []privFile) string {
	c.t.Helper()
	c.crawl("/submit")
	body, ct := privMultipart(fields, files)
	req, _ := http.NewRequest(http.MethodPost, c.url("/submit"), bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	resp, page := c.do(req)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("POST /submit: %s\n%s", resp.Status, page)
	}
	m := privReceiptRe.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("POST /submit: no receipt on the reply page:\n%s", page)
	}
	digits := strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, html.UnescapeString(m[1]))
	if len(digits) < 20 {
		c.t.Fatalf("POST /submit: receipt %q", m[1])
	}
	var r strings.Builder
	for i := 0; i < len(digits); i += 4 {
		if i > 0 {
			r.WriteByte(' ')
		}
		r.WriteString(digits[i:min(i+4, len(digits))])
	}
	return r.String()
}

// followup opens a receipt and returns the follow-up cookie.
func (c *privClient) followup(receipt string) *http.Cookie {
	c.t.Helper()
	c.crawl("/followup")
	req, _ := http.NewRequest(http.MethodPost, c.url("/followup"), strings.NewReader(url.Values{"receipt": {receipt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, page := c.do(req)
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST /followup with the receipt: %s, want 303\n%s", resp.Status, page)
	}
	loc := resp.Header.Get("Location")
	if u, err := c.base.Parse(loc); err != nil || u.Path != "/followup/thread" {
		c.t.Errorf("POST /followup: Location %q, want /followup/thread", loc)
	}
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "vigil_followup" {
			ck = k
		}
	}
	if ck == nil {
		c.t.Fatalf("POST /followup: no vigil_followup cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	if !ck.HttpOnly {
		c.t.Errorf("POST /followup: the vigil_followup cookie is not HttpOnly")
	}
	if !ck.Expires.IsZero() || ck.MaxAge > 0 {
		c.t.Logf("note: the vigil_followup cookie persists (Expires %v, Max-Age %d)", ck.Expires, ck.MaxAge)
	}
	return &http.Cookie{Name: ck.Name, Value: ck.Value}
}

// noReceiptIn fails if s holds any receipt in any form the scanner knows.
func (c *privClient) noReceiptIn(where, s string) {
	c.t.Helper()
	for _, n := range c.sec.needles {
		if strings.Contains(n.what, "receipt") && strings.Contains(s, string(n.b)) {
			c.t.Errorf("%s holds the %s (%s): %q", where, n.what, n.form, s)
		}
	}
}

// thread loads the follow-up thread with the cookie.
func (c *privClient) thread(ck *http.Cookie) string {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url("/followup/thread"), nil)
	req.AddCookie(ck)
	resp, page := c.do(req)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET /followup/thread: %s\n%s", resp.Status, page)
	}
	return page
}

var (
	privFormRe  = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*followup/reply[^"]*)"[^>]*>(.*?)</form>`)
	privInputRe = regexp.MustCompile(`(?is)<input[^>]*>`)
	privNameRe  = regexp.MustCompile(`(?is)\sname\s*=\s*"([^"]*)"`)
	privValueRe = regexp.MustCompile(`(?is)\svalue\s*=\s*"([^"]*)"`)
	privTypeRe  = regexp.MustCompile(`(?is)\stype\s*=\s*"?hidden"?`)
)

// reply answers in the thread through its form, with its hidden fields.
func (c *privClient) reply(thread string, ck *http.Cookie, text string, files []privFile) {
	c.t.Helper()
	m := privFormRe.FindStringSubmatch(thread)
	if m == nil {
		c.t.Fatalf("no reply form in the thread:\n%s", thread)
	}
	fields := [][2]string{{"text", text}}
	for _, in := range privInputRe.FindAllString(m[2], -1) {
		if !privTypeRe.MatchString(in) {
			continue
		}
		n, v := privNameRe.FindStringSubmatch(in), privValueRe.FindStringSubmatch(in)
		if n != nil {
			val := ""
			if v != nil {
				val = html.UnescapeString(v[1])
			}
			fields = append(fields, [2]string{html.UnescapeString(n[1]), val})
		}
	}
	body, ct := privMultipart(fields, files)
	req, _ := http.NewRequest(http.MethodPost, c.url(html.UnescapeString(m[1])), bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.AddCookie(ck)
	resp, page := c.do(req)
	if resp.StatusCode/100 != 2 && resp.StatusCode/100 != 3 {
		c.t.Fatalf("POST %s: %s\n%s", m[1], resp.Status, page)
	}
}

// wrongReceipt tries a receipt that opens nothing and returns the answer.
func (c *privClient) wrongReceipt(r string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url("/followup"), strings.NewReader(url.Values{"receipt": {r}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, page := c.do(req)
	if resp.StatusCode == http.StatusSeeOther || resp.StatusCode/100 == 2 && len(resp.Cookies()) > 0 {
		c.t.Errorf("POST /followup with a wrong receipt: %s, cookies %q", resp.Status, resp.Header.Values("Set-Cookie"))
	}
	if loc := resp.Header.Get("Location"); strings.Contains(loc, r) || strings.Contains(loc, url.QueryEscape(r)) {
		c.t.Errorf("POST /followup with a wrong receipt: Location %q echoes it", loc)
	}
	return resp.StatusCode, page
}

// pausedUpload streams a submission with a 48 MiB file (above the 32 MiB
// that net/http keeps of a multipart form in memory), calls during once the
// whole file is sent but not the closing boundary, and then aborts the
// request, so nothing is stored.
func (c *privClient) pausedUpload(canary string, during func()) {
	c.t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	req, _ := http.NewRequest(http.MethodPost, c.url("/submit"), pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req = req.WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Not c.do: the response is an error, or none.
		h := req.Header
		h.Set("User-Agent", c.id.userAgent)
		h.Set("Referer", c.id.referrer)
		h.Set("X-Forwarded-For", c.id.forwarded[0].String())
		if resp, err := c.hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	write := func() error {
		mw.WriteField("text", "large upload "+canary)
		mw.WriteField("lang", "en")
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="large-`+canary+`.bin"`)
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		chunk := canaryLarge(canary, 1<<20)
		for range 48 {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(); err != nil {
		c.t.Logf("the server stopped reading the large upload early: %v", err)
	} else {
		time.Sleep(500 * time.Millisecond) // let the server take in what is buffered
		during()
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	cancel()
	<-done
}
