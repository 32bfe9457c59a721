package main

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestInitAsksOnTerminal runs vigil init on a pseudo-terminal without
// --name and --origin: it asks for both, asks again after a bad origin, and
// writes the answers to vigil.json.
func TestInitAsksOnTerminal(t *testing.T) {
	master, slave, err := agePty()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	data := filepath.Join(t.TempDir(), "d")
	cmd := exec.Command(vigilBin(t), "init", "--data", data, "--scrypt-work-factor", "10")
	cmd.Env = vigilEnv(cliPassphrase)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var (
		mu   sync.Mutex
		term bytes.Buffer
	)
	transcript := func() string { mu.Lock(); defer mu.Unlock(); return term.String() }
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			term.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	// answer waits until the terminal shows prompt (after what was seen so
	// far) and types the line.
	seen := 0
	answer := func(prompt, line string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			s := transcript()
			if i := strings.Index(s[seen:], prompt); i >= 0 {
				seen += i + len(prompt)
				io.WriteString(master, line+"\n")
				return
			}
			select {
			case err := <-done:
				t.Fatalf("vigil init exited (%v) before asking %q:\n%s", err, prompt, s)
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("vigil init did not ask %q:\n%s", prompt, s)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	answer("The organisation's name", "  Crimea Watch ")
	answer("The log's origin", "https://watch.example.org/log")
	answer("Want a scheme-less URL prefix", "watch.example.org/log")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("vigil init: %v\n%s", err, transcript())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("vigil init did not finish:\n%s", transcript())
	}
	if o, n := initConfig(t, data); o != "watch.example.org/log" || n != "Crimea Watch" {
		t.Errorf("origin %q, name %q\n%s", o, n, transcript())
	}
	if s := transcript(); strings.Contains(s, "warning") {
		t.Errorf("init warned after asking:\n%s", s)
	}
}
