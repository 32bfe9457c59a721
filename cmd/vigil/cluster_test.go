package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
)

// clusterNode is a vigil serve process of TestTwoServers.
type clusterNode struct {
	cmd        *exec.Cmd
	out, errb  *canaryBuffer
	pub, staff string
	done       chan struct{}
}

func clusterStart(t *testing.T, bin string, env []string, data string, extra ...string) *clusterNode {
	t.Helper()
	n := &clusterNode{out: newCanaryBuffer(), errb: newCanaryBuffer(), done: make(chan struct{})}
	args := append([]string{"serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0"}, extra...)
	n.cmd = exec.Command(bin, args...)
	n.cmd.Env = env
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.errb
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.cmd.Process.Signal(os.Interrupt)
		select {
		case <-n.done:
		case <-time.After(20 * time.Second):
			n.cmd.Process.Kill()
			<-n.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for n.staff == "" {
		for line := range strings.Lines(n.out.String()) {
			if u, ok := strings.CutPrefix(line, "public "); ok {
				n.pub = strings.TrimSuffix(strings.TrimSpace(u), "/")
			}
			if u, ok := strings.CutPrefix(line, "staff "); ok {
				n.staff = strings.TrimSuffix(strings.TrimSpace(u), "/")
			}
		}
		select {
		case <-n.done:
			t.Fatalf("vigil serve exited:\n%s\n%s", n.out, n.errb)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil serve printed no URLs\n%s\n%s", n.out, n.errb)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// clusterAPI calls the staff API of n with token and returns the body; it
// fails the test unless the status is want.
func clusterAPI(t *testing.T, n *clusterNode, token, method, path, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, n.staff+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s, want %d: %s", method, path, resp.Status, want, b)
	}
	return b
}

func clusterSealed(t *testing.T, n *clusterNode, token string) bool {
	t.Helper()
	var h struct {
		Status string `json:"status"`
		Sealed *bool  `json:"sealed"`
	}
	if err := json.Unmarshal(clusterAPI(t, n, token, "GET", "/api/v1/health", "", 200), &h); err != nil || h.Sealed == nil {
		t.Fatalf("health without the seal state: %+v %v", h, err)
	}
	return *h.Sealed
}

// clusterLogin logs in with receipt on base and returns a client holding
// the session and the thread page's path.
func clusterLogin(t *testing.T, base, receipt string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/followup", url.Values{"receipt": {receipt}, "lang": {"en"}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/followup/thread") {
		t.Fatalf("POST %s/followup with the receipt: %s, Location %q", base, resp.Status, loc)
	}
	return client, loc
}

func clusterGet(t *testing.T, client *http.Client, u string) string {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return string(b)
}

var clusterSignedRE = regexp.MustCompile(`checkpoint signed.* size=(\d+)`)

// TestTwoServers runs two vigil serve processes, each with a data directory
// of its own holding the same vigil.json and keys.age, on one PostgreSQL
// database and one S3 bucket (docs/scale.md, "Several servers").
func TestTwoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	pg := pgtest.URL(t)
	s3 := s3test.URL(t)
	bin := vigilBin(t)
	env := vigilEnv(inboxPass)

	dataA := inboxInit(t)
	cfgPath := filepath.Join(dataA, "vigil.json")
	var cfg map[string]any
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["store"], cfg["blobs"] = pg, s3
	b, _ = json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Node B's data directory: a copy of A's configuration and keys.
	dataB := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dataB, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"vigil.json", "keys.age"} {
		b, err := os.ReadFile(filepath.Join(dataA, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dataB, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	token := regexp.MustCompile(`vgl_\S+`).FindString(vigilRun(t, bin, vigilEnv(""), "token", "create", "--data", dataA, "--name", "cluster-test", "--role", "admin"))
	if token == "" {
		t.Fatal("vigil token create printed no token")
	}

	const interval = "1s"
	a := clusterStart(t, bin, env, dataA, "--checkpoint-interval", interval)
	bn := clusterStart(t, bin, env, dataB, "--checkpoint-interval", interval)
	if clusterSealed(t, a, token) || clusterSealed(t, bn, token) {
		t.Fatal("a server started sealed despite VIGIL_PASSPHRASE")
	}

	// A submission on A, its receipt opened on B.
	text := "cluster test: detention at the northern checkpoint"
	receipt, err := icrashSubmit(http.DefaultClient, a.pub, icrashSub{text: text, fileName: "note.txt", file: []byte("file on S3")})
	if err != nil {
		t.Fatal(err)
	}
	client, thread := clusterLogin(t, bn.pub, receipt)
	if page := clusterGet(t, client, bn.pub+thread); !strings.Contains(page, text) {
		t.Fatalf("B's thread page lacks the text submitted on A:\n%.1500s", page)
	}
	// The session made on B works on A with the same cookie (the session
	// row in PostgreSQL, sealed under the cookie's key).
	cookieB := clusterCookie(t, client, bn.pub)
	if code, page := clusterSession(t, a.pub+thread, cookieB); code != http.StatusOK || !strings.Contains(page, text) {
		t.Fatalf("A does not take B's session cookie: %d\n%.1500s", code, page)
	}

	// Staff reply on A (API token); the source sees it on B.
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"submissions"`
	}
	if err := json.Unmarshal(clusterAPI(t, bn, token, "GET", "/api/v1/submissions", "", 200), &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("B's submission list: %v %+v", err, list)
	}
	reply := "cluster test: we received it, are you safe?"
	clusterAPI(t, a, token, "POST", "/api/v1/submissions/"+list.Items[0].ID+"/messages", fmt.Sprintf(`{"text":%q}`, reply), 201)
	if page := clusterGet(t, client, bn.pub+thread); !strings.Contains(page, reply) {
		t.Fatalf("B's thread page lacks the reply sent on A:\n%.3000s", page)
	}
	// A reply from B reaches the source on A.
	reply2 := "cluster test: second answer, from the other server"
	clusterAPI(t, bn, token, "POST", "/api/v1/submissions/"+list.Items[0].ID+"/messages", fmt.Sprintf(`{"text":%q}`, reply2), 201)
	clientA, threadA := clusterLogin(t, a.pub, receipt)
	page := clusterGet(t, clientA, a.pub+threadA)
	if !strings.Contains(page, reply2) || !strings.Contains(page, reply) {
		t.Fatalf("A's thread page lacks the replies:\n%.3000s", page)
	}
	// That login on A ended B's session on both servers (one per
	// submission); A's session answers on B, with A's CSRF token.
	for _, n := range []*clusterNode{a, bn} {
		if code, _ := clusterSession(t, n.pub+thread, cookieB); code == http.StatusOK {
			t.Errorf("the replaced session still works on %s", n.pub)
		}
	}
	cookieA := clusterCookie(t, clientA, a.pub)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("A's thread page has no CSRF token:\n%.3000s", page)
	}
	answer := "cluster test: the source answers through B with the session of A"
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("csrf", csrf[1])
	mw.WriteField("text", answer)
	mw.Close()
	req, _ := http.NewRequest("POST", bn.pub+"/followup/reply", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: "vigil_followup", Value: cookieA})
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply on B with A's session: %s", resp.Status)
	}
	if code, page := clusterSession(t, a.pub+threadA, cookieA); code != http.StatusOK || !strings.Contains(page, answer) {
		t.Fatalf("A's thread lacks the answer sent on B: %d", code)
	}

	// Both models loaded, then a case record written on A is listed on B.
	clusterAPI(t, a, token, "GET", "/api/v1/incidents", "", 200)
	clusterAPI(t, bn, token, "GET", "/api/v1/incidents", "", 200)
	clusterAPI(t, a, token, "POST", "/api/v1/incidents", `{"title":"Cluster wave of detentions"}`, 201)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if bytes.Contains(clusterAPI(t, bn, token, "GET", "/api/v1/incidents", "", 200), []byte("Cluster wave of detentions")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B never listed the incident written on A")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// More submissions, on either server, each published by the next
	// checkpoint: both servers wake at every boundary, one signs.
	for round := range 6 {
		n := []*clusterNode{a, bn}[round%2]
		if _, err := icrashSubmit(http.DefaultClient, n.pub, icrashSub{text: fmt.Sprintf("cluster round %d", round)}); err != nil {
			t.Fatal(err)
		}
		want := clusterTreeSize(t, n, token)
		for deadline := time.Now().Add(20 * time.Second); ; {
			if cp := publishedCheckpoint(t, []*clusterNode{bn, a}[round%2].pub+"/"); strings.Contains(cp, "\n"+want+"\n") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no checkpoint of size %s in time", round, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// The log, read from B by torchwood, verifies and holds every leaf.
	var size int64
	for deadline := time.Now().Add(30 * time.Second); ; {
		if cp := publishedCheckpoint(t, bn.pub+"/"); cp != "" {
			if lines := strings.Split(cp, "\n"); len(lines) > 1 {
				fmt.Sscan(lines[1], &size)
			}
		}
		if size > 0 && strings.Contains(a.errb.String()+bn.errb.String(), fmt.Sprintf("size=%d", size)) {
			var n int64
			fmt.Sscan(strings.TrimSpace(string(clusterTreeSize(t, a, token))), &n)
			if n == size {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of the whole tree in time (last size %d)\nA:\n%s\nB:\n%s", size, a.errb, bn.errb)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var keys struct {
		Origin  string `json:"origin"`
		LogVKey string `json:"log_vkey"`
	}
	if err := json.Unmarshal(interopGet(t, bn.pub+"/.well-known/vigil.json", http.StatusOK), &keys); err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(keys.LogVKey)
	if err != nil {
		t.Fatal(err)
	}
	policy := torchwood.ThresholdPolicy(2, torchwood.OriginPolicy(keys.Origin), torchwood.SingleVerifierPolicy(verifier))
	fetcher, err := torchwood.NewTileFetcher(bn.pub+"/log/", torchwood.WithUserAgent("vigil-cluster-test"))
	if err != nil {
		t.Fatal(err)
	}
	_, cp := interopWaitCheckpoint(t, fetcher, policy, size)
	clusterCheckLog(t, fetcher, cp)
	t.Logf("torchwood verified checkpoint %d from B and proved its %d entries", cp.N, cp.N)

	// Each checkpoint was signed by one server only.
	signers := map[string]string{}
	for name, n := range map[string]*clusterNode{"A": a, "B": bn} {
		for _, m := range clusterSignedRE.FindAllStringSubmatch(n.errb.String(), -1) {
			if other, ok := signers[m[1]]; ok {
				t.Errorf("checkpoint of size %s signed by %s and by %s", m[1], other, name)
			}
			signers[m[1]] = name
		}
	}
	if signers[fmt.Sprint(size)] == "" {
		t.Errorf("no server logged signing checkpoint %d: %v", size, signers)
	}
	t.Logf("checkpoints signed (size: server): %v", signers)

	// Sealing A seals B.
	vigilRun(t, bin, vigilEnv(""), "seal", "--staff", strings.TrimPrefix(a.staff, "http://"))
	for deadline := time.Now().Add(10 * time.Second); !clusterSealed(t, bn, token); {
		if time.Now().After(deadline) {
			t.Fatalf("B still unsealed 10s after A was sealed\nA:\n%s\nB:\n%s", a.errb, bn.errb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !clusterSealed(t, a, token) {
		t.Fatal("A unsealed after vigil seal")
	}
	// The source's session ended with the seal, on both servers.
	for _, n := range []*clusterNode{a, bn} {
		if code, _ := clusterSession(t, n.pub+threadA, cookieA); code == http.StatusOK {
			t.Errorf("%s still serves the thread after the seal", n.pub)
		}
	}

	// The receipt limit holds across both servers: wrong receipts from
	// this client, alternately on A and B, get the budget of one server
	// (vigil.json's receipt_attempts, 10 by default), then 429.
	wrong := url.Values{"receipt": {"1111 2222 3333 4444 5555 6666 7777"}}
	codes := map[int]int{}
	for i := range 14 {
		resp, err := noRedirect.PostForm([]*clusterNode{a, bn}[i%2].pub+"/followup", wrong)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusForbidden] != 10 || codes[http.StatusTooManyRequests] != 4 {
		t.Errorf("14 wrong receipts split over two servers: %v, want 10 refused (403) and 4 limited (429)", codes)
	}
}

var noRedirect = &http.Client{Timeout: 20 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// clusterCookie returns the follow-up session cookie client holds for base.
func clusterCookie(t *testing.T, client *http.Client, base string) string {
	t.Helper()
	u, _ := url.Parse(base + "/followup/thread")
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == "vigil_followup" {
			return c.Value
		}
	}
	t.Fatalf("no session cookie for %s", base)
	return ""
}

// clusterSession GETs u with only the session cookie (no jar, no
// redirects) and returns the status and body.
func clusterSession(t *testing.T, u, cookie string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.AddCookie(&http.Cookie{Name: "vigil_followup", Value: cookie})
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// clusterTreeSize returns the log's tree size as n's health reports it.
func clusterTreeSize(t *testing.T, n *clusterNode, token string) string {
	t.Helper()
	var h struct {
		TreeSize int64 `json:"tree_size"`
	}
	if err := json.Unmarshal(clusterAPI(t, n, token, "GET", "/api/v1/health", "", 200), &h); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(h.TreeSize)
}

// clusterCheckLog reads every entry of c with torchwood, proves each one
// against c and checks the root of the served hash tiles.
func clusterCheckLog(t *testing.T, f *torchwood.TileFetcher, c torchwood.Checkpoint) {
	t.Helper()
	ctx := t.Context()
	client, err := torchwood.NewClient(f, torchwood.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for i, e := range client.AllEntries(ctx, c.Tree, 0) {
		if i != n || len(e) != 32 {
			t.Fatalf("AllEntries yielded index %d (%d bytes) after %d entries", i, len(e), n)
		}
		n++
	}
	if err := client.Err(); err != nil || n != c.N {
		t.Fatalf("torchwood AllEntries: %d entries of %d: %v", n, c.N, err)
	}
	for i := range c.N {
		e, proof, err := client.Entry(ctx, c.Tree, i)
		if err != nil {
			t.Fatalf("torchwood Entry(%d): %v", i, err)
		}
		if err := tlog.CheckRecord(proof, c.N, c.Hash, i, tlog.RecordHash(e)); err != nil {
			t.Fatalf("leaf %d: tlog.CheckRecord: %v", i, err)
		}
	}
	if h, err := tlog.TreeHash(c.N, torchwood.TileHashReaderWithContext(ctx, c.Tree, f)); err != nil || h != c.Hash {
		t.Fatalf("root from the served tiles = %v, %v; checkpoint says %v", h, err, c.Hash)
	}
}
