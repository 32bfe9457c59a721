// Package procmem lists the readable memory of a Linux process, for tests
// that read another process's memory (or their own) as an attacker with
// access to /proc/PID/mem would, looking for secrets.
package procmem

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
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
