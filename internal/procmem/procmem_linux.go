// Package procmem lists the readable memory of a Linux process and finds
// secrets in the caller's own, for tests that read a process's memory as an
// attacker with access to /proc/PID/mem would.
package procmem

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A Region is one readable mapping of /proc/PID/maps.
type Region struct {
	Start, End uint64 // [Start, End)
	Perms      string // e.g. "rw-p"
	Name       string // the mapped file or [heap], [stack], ...; "anonymous" if none
}

// Regions returns the readable mappings of process pid ("self" for the
// caller), leaving out the kernel's [vvar] and [vsyscall] pages, which
// cannot be read through /proc/PID/mem.
func Regions(pid string) ([]Region, error) {
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%s/maps", pid))
	if err != nil {
		return nil, err
	}
	var rs []Region
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[1][0] != 'r' {
			continue
		}
		r := Region{Perms: f[1], Name: "anonymous"}
		if len(f) >= 6 {
			r.Name = f[5]
		}
		if strings.HasPrefix(r.Name, "[vvar") || r.Name == "[vsyscall]" {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		var err1, err2 error
		r.Start, err1 = strconv.ParseUint(lo, 16, 64)
		r.End, err2 = strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || r.End <= r.Start {
			return nil, fmt.Errorf("procmem: maps line %q", sc.Text())
		}
		rs = append(rs, r)
	}
	return rs, sc.Err()
}

// A Needle is a secret to look for, XORed with a random mask, so that a
// process looking for its own secrets holds no copy of them to find.
type Needle struct {
	Name         string
	Masked, Mask []byte
}

// NewNeedle masks secret (at least 1, at most 64 bytes) with random bytes.
// The caller then clears secret.
func NewNeedle(name string, secret []byte) Needle {
	n := Needle{Name: name, Masked: make([]byte, len(secret)), Mask: make([]byte, len(secret))}
	rand.Read(n.Mask)
	for i := range secret {
		n.Masked[i] = secret[i] ^ n.Mask[i]
	}
	return n
}

// at reports whether b starts with the secret, unmasking a byte at a time
// into a register only.
func (n Needle) at(b []byte) bool {
	if len(b) < len(n.Masked) {
		return false
	}
	for i := range n.Masked {
		if b[i]^n.Mask[i] != n.Masked[i] {
			return false
		}
	}
	return true
}

// FindSelf reads every readable region of this process's memory once, through
// /proc/self/mem, and returns by needle name where each secret is: "region
// (permissions) at address", with the 64 bytes before it in hex (which tell
// a signal frame's saved registers from a heap object). Nothing here copies
// the bytes of a hit, which would make a copy of the secret for the next scan
// to find.
func FindSelf(needles []Needle) (map[string][]string, error) {
	regions, err := Regions("self")
	if err != nil {
		return nil, err
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	hits := make(map[string][]string)
	const chunk = 1 << 20
	buf := make([]byte, chunk+64)
	defer clear(buf)
	for _, r := range regions {
		for off := r.Start; off < r.End; off += chunk {
			end := min(off+uint64(len(buf)), r.End)
			m, err := mem.ReadAt(buf[:end-off], int64(off))
			if m == 0 && err != nil {
				break // a guard page, or a region gone since maps was read
			}
			b := buf[:m]
			// Candidates are found by the first byte (unmasked in a register
			// only) with bytes.IndexByte, which -race does not instrument as
			// it would a loop here; the rest of the chunk is read again with
			// the next one.
			for _, n := range needles {
				first := n.Masked[0] ^ n.Mask[0]
				for i := 0; i < min(len(b), chunk); i++ {
					j := bytes.IndexByte(b[i:min(len(b), chunk)], first)
					if j < 0 {
						break
					}
					i += j
					if n.at(b[i:]) {
						hits[n.Name] = append(hits[n.Name], fmt.Sprintf("%s (%s) at %#x, the 64 bytes before: %x", r.Name, r.Perms, off+uint64(i), b[max(0, i-64):i]))
					}
				}
			}
		}
	}
	return hits, nil
}

// SignalThreads sends SIGURG (which Go's runtime takes as a preemption hint
// and otherwise ignores) to every thread of process pid, over and over, until
// the returned function is called; that returns how many were sent. Each
// signal makes the kernel save the thread's registers on its signal stack,
// which is where a test looks for secrets a thread held in registers.
func SignalThreads(pid int) (stop func() int) {
	done := make(chan struct{})
	sent := make(chan int)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for {
			select {
			case <-done:
				return
			default:
			}
			ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
			if err != nil {
				return // the process is gone
			}
			for _, e := range ents {
				if tid, err := strconv.Atoi(e.Name()); err == nil && syscall.Tgkill(pid, tid, syscall.SIGURG) == nil {
					n++
				}
			}
		}
	}()
	return func() int {
		close(done)
		return <-sent
	}
}
