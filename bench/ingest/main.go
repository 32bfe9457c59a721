// Command ingest compares vigil's ingest with a bare Go pass doing the same
// essential work, on the same file, in the same run.
//
//	go run ./bench/ingest [-size 1GiB] [-dir DIR] [-runs 2]
//
// It writes a file of the given size (a ChaCha8 stream: incompressible and
// cheap to produce) under DIR (default: the system temporary directory),
// then alternates, -runs times each, between
//
//   - baseline: read the file, age-encrypt it (X25519 recipient) to a file
//     while hashing the plaintext with SHA-256 in one pass, fsync, close;
//   - ingest: datadir.Init (low scrypt work factor) and Open on a fresh data
//     directory, then d.Evidence.Add of the file (hash + encrypt, fsync of the
//     blob and its directories, one SQLite transaction with synchronous=FULL).
//
// Each run is a child process (this binary re-executed with -mode), so that
// its peak RSS (getrusage ru_maxrss) is its own. Throughput is the size over
// the best time of the timed part (the Add call; the baseline's whole pass);
// the child's total wall time, including process start and, for ingest, the
// data directory setup, is printed too. All generated files are removed.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/vigil-hr/vigil/internal/datadir"
)

const (
	targetRatio  = 0.8
	targetRSSMiB = 64
)

func main() {
	sizeFlag := flag.String("size", "1GiB", "size of the test file (e.g. 1GiB, 256MiB, 1000000)")
	dirFlag := flag.String("dir", "", "directory for the generated files (default: the system temporary directory)")
	runs := flag.Int("runs", 2, "runs of each side, alternating; the best is reported")
	mode := flag.String("mode", "", "internal: run one side (baseline or ingest) in this process")
	file := flag.String("file", "", "internal: input file")
	out := flag.String("out", "", "internal: output file (baseline) or data directory (ingest)")
	flag.Parse()

	var err error
	switch *mode {
	case "":
		err = parent(*sizeFlag, *dirFlag, *runs)
	case "baseline":
		err = child(func() (time.Duration, error) { return baseline(*file, *out) })
	case "ingest":
		err = child(func() (time.Duration, error) { return ingest(*file, *out) })
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest bench:", err)
		os.Exit(1)
	}
}

// result is what a child prints on stdout.
type result struct {
	Bytes   int64         `json:"bytes"`
	Elapsed time.Duration `json:"elapsed"`
}

func child(run func() (time.Duration, error)) error {
	d, err := run()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(result{Elapsed: d})
}

// baseline is the bare pass: read, age-encrypt to a file while hashing with
// SHA-256, fsync.
func baseline(in, out string) (time.Duration, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	src, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	enc, err := age.Encrypt(dst, id.Recipient())
	if err != nil {
		dst.Close()
		return 0, err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(enc, h), src); err != nil {
		dst.Close()
		return 0, err
	}
	if err := enc.Close(); err != nil {
		dst.Close()
		return 0, err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return 0, err
	}
	if err := dst.Close(); err != nil {
		return 0, err
	}
	_ = h.Sum(nil)
	return time.Since(start), nil
}

// ingest is vigil's path: a fresh data directory, then Evidence.Add.
func ingest(in, dir string) (time.Duration, error) {
	ctx := context.Background()
	if _, err := datadir.Init(dir, []byte("benchmark passphrase"), datadir.Options{WorkFactor: 10}); err != nil {
		return 0, err
	}
	d, err := datadir.Open(ctx, dir)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	start := time.Now()
	f, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := d.Evidence.Add(ctx, f, filepath.Base(in), "application/octet-stream"); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

type measurement struct {
	elapsed time.Duration // timed part
	wall    time.Duration // whole child process
	rssKiB  int64
}

func parent(sizeStr, dir string, runs int) error {
	size, err := parseSize(sizeStr)
	if err != nil {
		return err
	}
	if runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(dir, "vigil-bench-ingest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	in := filepath.Join(work, "input.bin")
	t0 := time.Now()
	if err := generate(in, size); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Printf("generated %s (%d bytes) in %v\n", in, size, time.Since(t0).Round(time.Millisecond))

	best := map[string]*measurement{}
	peak := map[string]int64{}
	for i := 0; i < runs; i++ {
		for _, mode := range []string{"baseline", "ingest"} {
			out := filepath.Join(work, fmt.Sprintf("%s-%d", mode, i))
			m, err := runChild(exe, mode, in, out)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", mode, i+1, err)
			}
			// Free the space at once, and keep the page cache comparable.
			if err := os.RemoveAll(out); err != nil {
				return err
			}
			fmt.Printf("run %d %-8s  %7.1f MB/s  (timed %v, process wall %v, peak RSS %.1f MiB)\n",
				i+1, mode, mbps(size, m.elapsed), m.elapsed.Round(time.Millisecond), m.wall.Round(time.Millisecond), float64(m.rssKiB)/1024)
			if b := best[mode]; b == nil || m.elapsed < b.elapsed {
				best[mode] = &m
			}
			peak[mode] = max(peak[mode], m.rssKiB)
		}
	}
	b, g := best["baseline"], best["ingest"]
	r := mbps(size, g.elapsed) / mbps(size, b.elapsed)
	fmt.Printf("\nbest of %d, %s file:\n", runs, sizeStr)
	fmt.Printf("baseline: %7.1f MB/s (%v, process wall %v)\n", mbps(size, b.elapsed), b.elapsed.Round(time.Millisecond), b.wall.Round(time.Millisecond))
	fmt.Printf("ingest:   %7.1f MB/s (%v, process wall %v)\n", mbps(size, g.elapsed), g.elapsed.Round(time.Millisecond), g.wall.Round(time.Millisecond))
	fmt.Printf("ingest/baseline = %.2f (target >= %.1f)\n", r, targetRatio)
	ri, rb := float64(peak["ingest"])/1024, float64(peak["baseline"])/1024
	fmt.Printf("peak RSS ingest = %.1f MiB, baseline = %.1f MiB (target ingest < %d MiB)\n", ri, rb, targetRSSMiB)
	if r >= targetRatio && ri < targetRSSMiB {
		fmt.Println("targets: met")
	} else {
		fmt.Println("targets: MISSED")
	}
	return nil
}

func runChild(exe, mode, in, out string) (measurement, error) {
	cmd := exec.Command(exe, "-mode", mode, "-file", in, "-out", out)
	cmd.Stderr = os.Stderr
	start := time.Now()
	stdout, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return measurement{}, err
	}
	var res result
	if err := json.Unmarshal(stdout, &res); err != nil {
		return measurement{}, fmt.Errorf("child output %q: %w", stdout, err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return measurement{}, errors.New("no rusage for child")
	}
	// ru_maxrss is in KiB on Linux.
	return measurement{elapsed: res.Elapsed, wall: wall, rssKiB: int64(ru.Maxrss)}, nil
}

func mbps(size int64, d time.Duration) float64 {
	return float64(size) / 1e6 / d.Seconds()
}

// generate writes size bytes of a ChaCha8 stream to path and fsyncs it, so
// that its writeback does not disturb the measurements.
func generate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	var seed [32]byte
	copy(seed[:], "vigil ingest benchmark seed 0001")
	src := rand.NewChaCha8(seed)
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := int(min(left, int64(len(buf))))
		src.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
		left -= int64(n)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// parseSize parses a byte count with an optional KiB/MiB/GiB/KB/MB/GB suffix.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
	}
	mult := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad -size %q", s)
	}
	return int64(v * float64(mult)), nil
}
