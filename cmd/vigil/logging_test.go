package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeLogNamesNoSource runs vigil serve with JSON logs at debug level
// over a submission, an unseal (twice), a follow-up with an answer and a
// file, a checkpoint, a metrics scrape, a seal and a stop. The log says
// each server event (start sealed, unsealed, checkpoint, sealed, stop) and
// holds none of the source's data: text, receipt, socket or forwarded
// addresses, user agent, referrer, the submission's ID. stdout says the
// seal state at start.
func TestServeLogNamesNoSource(t *testing.T) {
	root := t.TempDir()
	bin := vigilBin(t)
	data := filepath.Join(root, "data")
	logDir := filepath.Join(root, "log")
	if err := os.Mkdir(logDir, 0o700); err != nil {
		t.Fatal(err)
	}
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
	text, answer := canaryString(), canaryString()
	sec.add("canary in the text", text)
	sec.add("canary in the answer", answer)

	env := vigilEnv(privPassphrase)
	vigilRun(t, bin, env, "init", "--data", data, "--origin", "logs.test/log", "--scrypt-work-factor", "10")
	token := privToken(t, bin, env, data)

	logPath := filepath.Join(logDir, "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	var stdout bytes.Buffer
	cmd := exec.Command(bin, "serve", "--data", data, "--public", "127.0.0.1:0", "--staff", "127.0.0.1:0",
		"--checkpoint-interval", "100ms", "--log-format", "json", "--log-level", "debug", "--public-log")
	cmd.Env = vigilEnv("")
	out := newCanaryBuffer()
	cmd.Stdout, cmd.Stderr = out, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()
	var pub, staff string
	for deadline := time.Now().Add(30 * time.Second); pub == "" || staff == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no URLs:\n%s", out)
		}
		for line := range strings.Lines(out.String()) {
			if u, ok := strings.CutPrefix(line, "public "); ok {
				pub = strings.TrimSpace(u)
			}
			if u, ok := strings.CutPrefix(line, "staff "); ok {
				staff = strings.TrimSpace(u)
			}
		}
	}
	stdout.WriteString(out.String())
	if !strings.Contains(stdout.String(), "vault  sealed: intake works; unseal with vigil unseal --staff ") {
		t.Errorf("serve's stdout does not say the vault is sealed:\n%s", stdout.String())
	}

	c := privNewClient(t, pub, id, sec)
	receipt := c.submit([][2]string{{"text", "Testimony " + text}, {"lang", "en"}}, nil)
	sec.addReceipt("receipt", receipt)

	staffAddr := strings.TrimPrefix(strings.TrimSuffix(staff, "/"), "http://")
	if got := vigilRun(t, bin, env, "unseal", "--staff", staffAddr); got != "unsealed\n" {
		t.Errorf("first unseal printed %q", got)
	}
	if got := vigilRun(t, bin, env, "unseal", "--staff", staffAddr); got != "already unsealed\n" {
		t.Errorf("second unseal printed %q, want \"already unsealed\"", got)
	}
	cookie := c.followup(receipt)
	thread := c.thread(cookie)
	c.reply(thread, cookie, "Answer "+answer, []privFile{{name: "a.txt", content: []byte(answer)}})
	subID := privStaffFind(t, staff, token, map[string]string{"text": text})
	sec.add("submission ID", subID)

	// Wait for a checkpoint covering the submission and the answer: one
	// logged after the second unseal (under load, one may come between
	// the two).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(logPath)
		_, after, _ := bytes.Cut(b, []byte(`"msg":"unseal: the vault was already unsealed"`))
		if bytes.Contains(after, []byte(`"msg":"checkpoint signed"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint logged:\n%s", b)
		}
	}
	req, _ := http.NewRequest("GET", staff+"metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /metrics: %s", resp.Status)
	}
	vigilRun(t, bin, env, "seal", "--staff", staffAddr)
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}

	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for line := range strings.Lines(string(b)) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON log line: %q", line)
			continue
		}
		msgs = append(msgs, rec["msg"].(string))
		if rec["msg"] == "vigil serve started" && rec["sealed"] != true {
			t.Errorf("start line does not say sealed: %s", line)
		}
	}
	want := []string{"vigil serve started", "vault unsealed", "unseal: the vault was already unsealed", "checkpoint signed", "vault sealed", "vigil serve stopping", "vigil serve stopped"}
	i := 0
	for _, m := range msgs {
		if i < len(want) && m == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("log lacks %q (in this order: %q):\n%s", want[i], want, b)
	}
	t.Logf("serve's log:\n%s", b)
	privAssertClean(t, "serve's log", sec, false, logDir)
}
