// Command backup measures vigil backup and restore on a data directory of
// N submissions (a text each, a file with every third), beside a baseline
// in the same run: a bare copy of the same files (the database through
// SQLite's VACUUM INTO and age encryption, each blob copied and fsynced),
// i.e. the least work any consistent encrypted backup must do.
//
//	go run ./bench/backup [-n 1000] [-file 64KiB] [-dir DIR]
//
// It prints, for the full first backup, an incremental one with nothing
// new, an incremental one after n/100 more submissions, and a restore
// (files checked against the manifest, database decrypted, fsck with the
// vault unsealed): the time and the bytes written, and the full backup's
// time as a ratio to the baseline's. Everything generated is removed.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-hr/vigil/backup"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
)

const pass = "bench backup passphrase"

func main() {
	n := flag.Int("n", 1000, "submissions")
	fileSize := flag.Int("file", 64<<10, "size of the file every third submission carries, bytes")
	dir := flag.String("dir", "", "directory for the generated data (default: the system temporary directory)")
	flag.Parse()
	if err := run(*n, *fileSize, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "backup bench:", err)
		os.Exit(1)
	}
}

func run(n, fileSize int, tmp string) error {
	ctx := context.Background()
	root, err := os.MkdirTemp(tmp, "vigil-bench-backup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	data := filepath.Join(root, "data")
	if _, err := datadir.Init(data, []byte(pass), datadir.Options{WorkFactor: 10}); err != nil {
		return err
	}
	d, err := datadir.Open(ctx, data)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	submit := func(count int) error {
		for i := range count {
			var files []*evidence.Pending
			if i%3 == 0 {
				b := make([]byte, fileSize)
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				p, err := d.Evidence.Stage(ctx, bytes.NewReader(b), "f.bin", "application/octet-stream")
				if err != nil {
					return err
				}
				files = append(files, p)
			}
			text := fmt.Sprintf("submission %d: %x", i, rng.Uint64())
			if _, _, err := d.Intake.Submit(ctx, intake.Draft{Text: text}, files); err != nil {
				return err
			}
		}
		_, err := d.SignCheckpoint(ctx)
		return err
	}
	t0 := time.Now()
	if err := submit(n); err != nil {
		return err
	}
	fmt.Printf("data directory: %d submissions (%d with a %d-byte file), %s to make; %s on disk\n", n, (n+2)/3, fileSize, time.Since(t0).Round(time.Millisecond), mib(du(data)))

	base, err := baseline(ctx, d, filepath.Join(root, "baseline"))
	if err != nil {
		return err
	}
	bk := filepath.Join(root, "bk")
	t, err := backup.OpenTarget(ctx, bk, true)
	if err != nil {
		return err
	}
	one := func() (backup.Result, time.Duration, error) {
		t0 := time.Now()
		snap, err := backup.Take(ctx, data, d.Vault.Recipient())
		if err != nil {
			return backup.Result{}, 0, err
		}
		defer snap.Close()
		res, err := backup.Write(ctx, t, backup.Source{Dir: data, Meta: snap.Meta, Seal: snap.Seal}, backup.ConfigVerifier)
		return res, time.Since(t0), err
	}
	full, fullT, err := one()
	if err != nil {
		return err
	}
	same, sameT, err := one()
	if err != nil {
		return err
	}
	if err := submit(n / 100); err != nil {
		return err
	}
	incr, incrT, err := one()
	if err != nil {
		return err
	}
	t0 = time.Now()
	rres, err := backup.Restore(ctx, t, filepath.Join(root, "restored"), backup.RestoreOptions{Passphrase: []byte(pass)})
	if err != nil {
		return err
	}
	restT := time.Since(t0)
	if !rres.Fsck.OK("") {
		return fmt.Errorf("fsck of the restored directory: %v", rres.Fsck.Problems)
	}

	fmt.Printf("%-34s %10s %12s %8s\n", "", "time", "written", "blobs")
	fmt.Printf("%-34s %10s %12s %8d\n", "baseline (VACUUM INTO+age, cp)", base.t.Round(time.Millisecond), mib(base.bytes), base.blobs)
	p := func(name string, r backup.Result, d time.Duration) {
		fmt.Printf("%-34s %10s %12s %8s\n", name, d.Round(time.Millisecond), mib(r.BytesCopied), fmt.Sprintf("%d/%d", r.BlobsCopied, r.Blobs))
	}
	p("backup 1 (full)", full, fullT)
	p("backup 2 (nothing new)", same, sameT)
	p(fmt.Sprintf("backup 3 (%d new submissions)", n/100), incr, incrT)
	fmt.Printf("%-34s %10s %12s %8d\n", "restore (checked, fsck unsealed)", restT.Round(time.Millisecond), "", rres.Blobs)
	fmt.Printf("full backup / baseline: %.2f\n", fullT.Seconds()/base.t.Seconds())
	return nil
}

type baseResult struct {
	t     time.Duration
	bytes int64
	blobs int
}

// baseline does the least work of a consistent encrypted copy: VACUUM
// INTO, age-encrypt that, copy and fsync each blob.
func baseline(ctx context.Context, d *datadir.Dir, out string) (baseResult, error) {
	var r baseResult
	t0 := time.Now()
	snap, err := backup.Take(ctx, d.Path, d.Vault.Recipient())
	if err != nil {
		return r, err
	}
	defer snap.Close()
	if err := os.MkdirAll(out, 0o700); err != nil {
		return r, err
	}
	f, err := os.Create(filepath.Join(out, "vigil.db.age"))
	if err != nil {
		return r, err
	}
	if err := snap.Seal(f); err != nil {
		return r, err
	}
	f.Sync()
	st, _ := f.Stat()
	r.bytes += st.Size()
	f.Close()
	blobs, _ := filepath.Glob(filepath.Join(d.Path, "blobs", "??", "*"))
	for _, b := range blobs {
		n, err := copyFile(b, filepath.Join(out, filepath.Base(b)))
		if err != nil {
			return r, err
		}
		r.bytes += n
		r.blobs++
	}
	r.t = time.Since(t0)
	return r, nil
}

func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func du(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
