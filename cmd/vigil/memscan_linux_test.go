package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-hr/vigil/internal/procmem"
)

// TestMemoryAfterSeal runs a real vigil serve, unseals it, lets a source
// submit, follow up with the receipt and leave, seals it, and then reads the
// whole address space of the server (every readable region of
// /proc/PID/maps, through /proc/PID/mem, with the process stopped) looking
// for the vault's age identity (as text in upper and lower case, and as its
// raw 32-byte scalar), the log-signing key (the signed-note "PRIVATE+KEY+..."
// text, its base64 and its raw 32-byte Ed25519 seed) and the receipt (with
// and without spaces, with dashes, URL-escaped as a browser posts it, and in
// the other encodings of [privSecrets.add]).
//
// As a control, the same scan while the vault is unsealed must find the raw
// identity scalar and the signing seed, which the vault holds then.
//
// It also checks that the server runs with a core-file limit of zero
// (/proc/PID/limits) and is not dumpable: reading /proc/PID/mem of a
// non-dumpable process needs CAP_SYS_PTRACE, so without it the scan is
// refused, which the test takes as proof of the flag and then skips the scan.
func TestMemoryAfterSeal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vigil binary and runs vigil serve")
	}
	bin, env, dirs := privInit(t, "memscan.test/log")
	data := dirs.data

	sec := &privSecrets{}
	memKeySecrets(t, sec, filepath.Join(data, "keys.age"))

	srv := privServe(t, bin, data, dirs.tmp, dirs.log)
	pid := srv.cmd.Process.Pid
	memCheckLimits(t, pid)

	c := privNewClient(t, srv.public, privNewIdentity(), &privSecrets{})
	receipt := c.submit([][2]string{{"text", "Testimony for the memory scan"}, {"lang", "en"}}, nil)
	sec.addReceipt("receipt", receipt)

	// While the keys are in use, signal every thread of the server as fast
	// as possible, as the runtime itself does now and then to preempt: each
	// signal saves the thread's registers on its signal stack, where a key
	// in a vector register would stay (CI found the identity scalar so once).
	stopSignals := procmem.SignalThreads(pid)
	vigilRun(t, bin, env, "unseal", "--staff", srv.staff)
	// Let the checkpoint loop sign with the key (--checkpoint-interval 100ms).
	time.Sleep(500 * time.Millisecond)
	cookie := c.followup(receipt)
	thread := c.thread(cookie)
	if !strings.Contains(thread, "Testimony for the memory scan") {
		t.Fatalf("the follow-up thread does not show the submission:\n%s", thread)
	}
	for range 20 {
		c.thread(cookie)
	}
	if n := stopSignals(); n < 1000 {
		t.Errorf("only %d signals sent to the server's threads", n)
	} else {
		t.Logf("sent %d signals to the server's threads", n)
	}

	// Control: while unsealed the vault holds the raw keys.
	hits, n, err := memScan(pid, sec)
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("cannot read /proc/%d/mem (the server is not dumpable and this test lacks CAP_SYS_PTRACE): %v", pid, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("while unsealed: scanned %d MiB", n>>20)
	for _, want := range []string{"vault identity (raw scalar)", "log signing key (raw seed)"} {
		if !memFound(hits, want) {
			t.Errorf("control: the scan while unsealed did not find the %s; found %v", want, hits)
		}
	}

	memLogout(t, c, thread, cookie)
	vigilRun(t, bin, env, "seal", "--staff", srv.staff)
	time.Sleep(200 * time.Millisecond)

	hits, n, err = memScan(pid, sec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after seal: scanned %d MiB", n>>20)
	for _, h := range hits {
		t.Errorf("after logout and seal: found %s", h)
	}
	srv.stop(t)
}

// memKeySecrets decrypts the key file with the passphrase, as stock age
// would, and registers its keys in every form the scan looks for.
func memKeySecrets(t *testing.T, sec *privSecrets, keyFile string) {
	t.Helper()
	f, err := os.Open(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id, err := age.NewScryptIdentity(privPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(f, id)
	if err != nil {
		t.Fatalf("decrypt the key file: %v", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var ident, skey, askey string
	for line := range strings.Lines(string(plain)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "age-identity "); ok {
			ident = v
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "log-skey "); ok {
			skey = v
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "advisory-skey "); ok {
			askey = v
		}
	}
	if ident == "" || skey == "" || askey == "" {
		t.Fatalf("key file without an identity or a signing key")
	}
	scalar, err := memBech32(ident)
	if err != nil || len(scalar) != 32 {
		t.Fatalf("identity %d bytes: %v", len(scalar), err)
	}
	parts := strings.SplitN(skey, "+", 5) // the key's base64 may hold '+'
	if len(parts) != 5 {
		t.Fatalf("signing key with %d parts", len(parts))
	}
	seed, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(seed) != 33 {
		t.Fatalf("signing key: %v", err)
	}
	sec.add("vault identity", ident)
	sec.addNeedle("vault identity (raw scalar)", "raw", scalar, false)
	sec.addNeedle("vault identity (raw scalar)", "hex", []byte(hex.EncodeToString(scalar)), false)
	// The forms the operations derive: X25519 clamps the scalar; Ed25519
	// signs with the clamped first half of SHA-512(seed) and takes its nonce
	// from the second half, either of which gives the key away.
	clamped := bytes.Clone(scalar)
	clamped[0] &= 248
	clamped[31] = clamped[31]&127 | 64
	sec.addNeedle("vault identity (clamped scalar)", "raw", clamped, false)
	sec.add("log signing key", skey)
	sec.add("log signing key (base64)", parts[len(parts)-1])
	sec.addNeedle("log signing key (raw seed)", "raw", seed[1:], false)
	sec.addNeedle("log signing key (raw seed)", "hex", []byte(hex.EncodeToString(seed[1:])), false)
	memEd25519Derived(sec, "log signing key", seed[1:])
	// The publication (advisory) key is held and wiped like the log key.
	aparts := strings.SplitN(askey, "+", 5)
	if len(aparts) != 5 {
		t.Fatalf("advisory key with %d parts", len(aparts))
	}
	aseed, err := base64.StdEncoding.DecodeString(aparts[len(aparts)-1])
	if err != nil || len(aseed) != 33 {
		t.Fatalf("advisory key: %v", err)
	}
	sec.add("advisory signing key", askey)
	sec.add("advisory signing key (base64)", aparts[len(aparts)-1])
	sec.addNeedle("advisory signing key (raw seed)", "raw", aseed[1:], false)
	sec.addNeedle("advisory signing key (raw seed)", "hex", []byte(hex.EncodeToString(aseed[1:])), false)
	memEd25519Derived(sec, "advisory signing key", aseed[1:])
}

// memEd25519Derived registers the secret scalar and the nonce prefix an
// Ed25519 seed expands to (RFC 8032, 5.1.5).
func memEd25519Derived(sec *privSecrets, name string, seed []byte) {
	h := sha512.Sum512(seed)
	h[0] &= 248
	h[31] = h[31]&127 | 64
	sec.addNeedle(name+" (secret scalar)", "raw", h[:32], false)
	sec.addNeedle(name+" (nonce prefix)", "raw", h[32:], false)
}

// memBech32 decodes a Bech32 string's data part (no checksum check: the key
// file's own reader checked it).
func memBech32(s string) ([]byte, error) {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	s = strings.ToLower(s)
	i := strings.LastIndexByte(s, '1')
	if i < 0 || len(s)-i-1 < 6 {
		return nil, errors.New("not bech32")
	}
	var out []byte
	acc, bits := 0, 0
	for _, c := range s[i+1 : len(s)-6] {
		v := strings.IndexRune(charset, c)
		if v < 0 {
			return nil, errors.New("not bech32")
		}
		acc = acc<<5 | v
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out, nil
}

// memCheckLimits checks that the server may write no core file.
func memCheckLimits(t *testing.T, pid int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Max core file size\s+(\S+)\s+(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no core file size in /proc/%d/limits:\n%s", pid, b)
	}
	if string(m[1]) != "0" || string(m[2]) != "0" {
		t.Errorf("core file size limit %s (hard %s), want 0 0", m[1], m[2])
	}
}

var memCSRFRe = regexp.MustCompile(`(?is)<form[^>]*action="[^"]*followup/logout[^"]*"[^>]*>.*?name="csrf"\s+value="([^"]*)"`)

// memLogout leaves the follow-up session through the thread's leave form.
func memLogout(t *testing.T, c *privClient, thread string, cookie *http.Cookie) {
	t.Helper()
	m := memCSRFRe.FindStringSubmatch(thread)
	if m == nil {
		t.Fatalf("no leave form in the thread:\n%s", thread)
	}
	req, _ := http.NewRequest(http.MethodPost, c.url("/followup/logout"), strings.NewReader(url.Values{"csrf": {html.UnescapeString(m[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookie)
	resp, page := c.do(req)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "m=left") {
		t.Fatalf("POST /followup/logout: %s, Location %q\n%s", resp.Status, resp.Header.Get("Location"), page)
	}
	// The session is gone.
	req, _ = http.NewRequest(http.MethodGet, c.url("/followup/thread"), nil)
	req.AddCookie(cookie)
	if resp, _ := c.do(req); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /followup/thread after leaving: %s, want a redirect", resp.Status)
	}
}

func memFound(hits []string, what string) bool {
	for _, h := range hits {
		if strings.HasPrefix(h, what+" (") {
			return true
		}
	}
	return false
}

// memScan stops the process, reads every readable mapping of it and returns
// each needle found, with the number of copies and where, and the bytes read.
func memScan(pid int, sec *privSecrets) (hits []string, scanned int64, err error) {
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil, 0, err
	}
	defer mem.Close()
	regions, err := procmem.Regions(strconv.Itoa(pid))
	if err != nil {
		return nil, 0, err
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return nil, 0, err
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	type hit struct {
		n       int
		regions map[string]bool
		near    []byte // around the first copy
	}
	found := map[[2]string]*hit{}
	var order [][2]string
	for _, r := range regions {
		start, end, name := r.Start, r.End, r.Name
		buf := make([]byte, end-start)
		n, err := mem.ReadAt(buf, int64(start))
		if n == 0 && err != nil {
			if errors.Is(err, os.ErrPermission) {
				return nil, scanned, err
			}
			continue // e.g. EIO on a guard page
		}
		buf = buf[:n]
		scanned += int64(n)
		for _, nd := range sec.needles {
			if c := bytes.Count(buf, nd.b); c > 0 {
				k := [2]string{nd.what, nd.form}
				if found[k] == nil {
					i := bytes.Index(buf, nd.b)
					found[k] = &hit{regions: map[string]bool{}, near: bytes.Clone(buf[max(0, i-48):min(len(buf), i+len(nd.b)+48)])}
					order = append(order, k)
				}
				found[k].n += c
				found[k].regions[name] = true
			}
		}
	}
	for _, k := range order {
		var rs []string
		for r := range found[k].regions {
			rs = append(rs, r)
		}
		hits = append(hits, fmt.Sprintf("%s (%s): %d copies in %s, the first in %q", k[0], k[1], found[k].n, strings.Join(rs, ", "), found[k].near))
	}
	return hits, scanned, nil
}
