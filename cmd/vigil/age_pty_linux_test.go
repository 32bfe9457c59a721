package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"filippo.io/age"
)

// TestAgeDecryptsKeyFile decrypts DIR/keys.age with the stock age command and
// the passphrase typed at its prompt (age reads passphrases only from a
// terminal, so the test gives it a pseudo-terminal), and checks that the
// age identity inside is the one the data directory is configured with.
func TestAgeDecryptsKeyFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vigil and age binaries")
	}
	tmp := t.TempDir()
	vigilBin, ageBin := ageBuild(t, tmp)
	data := filepath.Join(tmp, "data")
	ageRun(t, vigilBin, vigilEnv(agePassphrase), nil, "init", "--data", data, "--scrypt-work-factor", "10")

	master, slave, err := agePty()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	outFile := filepath.Join(tmp, "keys.txt")
	cmd := exec.Command(ageBin, "-d", "-o", outFile, filepath.Join(data, "keys.age"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// A new session with the pty as its controlling terminal: /dev/tty is it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Read the terminal until the prompt, type the passphrase, then drain.
	var (
		mu   sync.Mutex
		term bytes.Buffer
	)
	transcript := func() string { mu.Lock(); defer mu.Unlock(); return term.String() }
	prompted := make(chan struct{})
	go func() {
		buf := make([]byte, 1024)
		seen := false
		for {
			n, err := master.Read(buf)
			mu.Lock()
			term.Write(buf[:n])
			has := strings.Contains(term.String(), "passphrase")
			mu.Unlock()
			if !seen && has {
				seen = true
				close(prompted)
			}
			if err != nil { // EIO once age exits and the slave side closes
				return
			}
		}
	}()
	select {
	case <-prompted:
	case err := <-done:
		t.Fatalf("age exited before prompting: %v\n%s", err, transcript())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("age did not prompt for the passphrase:\n%s", transcript())
	}
	io.WriteString(master, agePassphrase+"\n")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("age -d keys.age: %v", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("age -d keys.age did not finish")
	}

	plain, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(plain), "vigil-keys/v1\n") {
		t.Fatalf("decrypted key file does not start with its header: %d bytes", len(plain))
	}
	var recipient string
	for line := range strings.Lines(string(plain)) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "age-identity "); ok {
			id, err := age.ParseX25519Identity(s)
			if err != nil {
				t.Fatal(err)
			}
			recipient = id.Recipient().String()
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(data, "vigil.json"))
	if recipient == "" || !strings.Contains(string(cfg), `"`+recipient+`"`) {
		t.Errorf("identity in keys.age (recipient %q) is not the configured one", recipient)
	}
}

// agePty opens a pseudo-terminal pair with only the syscall package.
func agePty() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %w", e)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}
