// Command cases measures the case records at scale: it generates -n records
// (places, parties, sources, persons, incidents, acts and claims, in Russian
// and English, from a fixed seed) and reports
//
//   - import: records per second through cases.Service.Apply, in batches of
//     -batch records, each batch one transaction (sealing every version and
//     its audit event, log leaves, reference checks against the model);
//
//   - unseal and load: a fresh process opens the data directory, unseals it
//     and calls Search, whose first call decrypts every case record into the
//     in-memory model and builds the search index: unseal-to-searchable,
//     wall time and the process's CPU time (on a shared machine the CPU time
//     is the steadier figure; the load average is printed with it); then
//     Acts twice (corroboration);
//
//   - figures: Figures for each grouping (type, month, place, incident);
//
//   - peak RSS (VmHWM) of the import and of the load process;
//
//   - baseline: the same number of bare vault.SealField calls (same
//     documents) and SQLite inserts, one transaction per batch, in WAL with
//     synchronous=FULL as vigil runs SQLite: what sealing and storing alone
//     cost on this machine, and the import's ratio to it.
//
//     go run ./bench/cases [-n 100000] [-batch 1000] [-seed 1] [-dir DIR] [-keep DIR] [-cpuprofile FILE] [-baseline=true]
//     go run ./bench/cases -load DIR [-cpuprofile FILE]
//
// The load phase runs in a child process (this binary again, with
// -load DIR), so that its peak RSS is its own. -cpuprofile profiles the
// import in this process and writes FILE.load for the child. Everything it
// wrote is removed at the end, except the data directory given with -keep,
// which later runs of -load DIR measure again without importing.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the baseline's bare database

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/search"
	"github.com/vigil-hr/vigil/vault"
)

const passphrase = "benchmark passphrase"

// admin is who writes and reads, as the command line does.
var admin = vigil.Principal{Actor: "bench", Account: "bench", Role: vigil.RoleAdmin}

func main() {
	n := flag.Int("n", 100_000, "records to generate")
	batch := flag.Int("batch", 1000, "records per Apply batch (one transaction)")
	seed := flag.Uint64("seed", 1, "seed of the generator")
	dir := flag.String("dir", "", "directory for the data directories (default: the system temporary directory)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the import to `FILE` (and of the load to FILE.load)")
	baseline := flag.Bool("baseline", true, "run the baseline (bare SealField + SQLite inserts)")
	load := flag.String("load", "", "run only the load phase on the data directory `DIR` (one -keep left) and print JSON")
	keep := flag.String("keep", "", "import into the data directory `DIR` and keep it, for later -load runs")
	flag.Parse()
	if *load != "" {
		if err := loadPhase(*load, *cpuprofile); err != nil {
			fmt.Fprintln(os.Stderr, "cases bench: load:", err)
			os.Exit(1)
		}
		return
	}
	if *n < 10 || *batch < 1 {
		fmt.Fprintln(os.Stderr, "cases bench: -n must be at least 10 and -batch positive")
		os.Exit(2)
	}
	if err := run(*n, *batch, *seed, *dir, *keep, *cpuprofile, *baseline); err != nil {
		fmt.Fprintln(os.Stderr, "cases bench:", err)
		os.Exit(1)
	}
}

func run(n, batch int, seed uint64, dir, keep, cpuprofile string, baseline bool) error {
	work, err := os.MkdirTemp(dir, "vigil-bench-cases-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Printf("%d records in batches of %d, seed %d, GOMAXPROCS %d, load average %s\n", n, batch, seed, runtime.GOMAXPROCS(0), loadAvg())

	t0 := time.Now()
	changes := generate(n, seed)
	counts := map[string]int{}
	for _, c := range changes {
		k, _ := kindName(c.Doc)
		counts[k]++
	}
	fmt.Printf("generated in %v: %d places, %d parties, %d sources, %d persons, %d incidents, %d acts, %d claims\n",
		time.Since(t0).Round(time.Millisecond), counts["place"], counts["party"], counts["source"], counts["person"],
		counts["incident"], counts["act"], counts["claim"])

	// Import.
	path := filepath.Join(work, "data")
	if keep != "" {
		path = keep
	}
	if _, err := datadir.Init(path, []byte(passphrase), datadir.Options{WorkFactor: 10}); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := datadir.Open(ctx, path)
	if err != nil {
		return err
	}
	if err := d.Vault.Unseal([]byte(passphrase)); err != nil {
		d.Close()
		return err
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start := time.Now()
	for i := 0; i < len(changes); i += batch {
		end := min(i+batch, len(changes))
		if _, err := d.Cases.Apply(ctx, admin, changes[i:end]); err != nil {
			d.Close()
			return fmt.Errorf("import batch at %d: %w", i, err)
		}
		if isTTY() {
			fmt.Fprintf(os.Stderr, "\rimport: %d/%d", end, len(changes))
		}
	}
	imp := time.Since(start)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if isTTY() {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err := d.Close(); err != nil {
		return err
	}
	importRSS := vmHWM()
	dbSize := fileSize(filepath.Join(path, "vigil.db")) + fileSize(filepath.Join(path, "vigil.db-wal"))
	fmt.Printf("import   %7d records in %7.2fs = %8.0f records/s  (cases.Service.Apply, %d per batch; database %.0f MiB; peak RSS so far %.0f MiB)\n",
		n, imp.Seconds(), float64(n)/imp.Seconds(), batch, float64(dbSize)/(1<<20), float64(importRSS)/1024)

	// Load, in a fresh process.
	lr, err := runLoad(path, cpuprofile)
	if err != nil {
		return err
	}
	fmt.Printf("load     unseal %v; first Search (decrypt %d records into the model, build the search index, one query: %d hits) %v (CPU %v); unseal-to-searchable %v; load average %s\n",
		lr.Unseal.Round(time.Millisecond), n, lr.Hits, lr.FirstSearch.Round(time.Millisecond), lr.FirstSearchCPU.Round(time.Millisecond),
		(lr.Unseal + lr.FirstSearch).Round(time.Millisecond), loadAvg())
	fmt.Printf("         first Acts (corroborate %d acts) %v; second Acts %v; peak RSS %.0f MiB\n",
		lr.Acts, lr.FirstActs.Round(time.Millisecond), lr.SecondActs.Round(time.Millisecond), float64(lr.RSSKiB)/1024)
	for _, by := range []string{"type", "month", "place", "incident"} {
		fmt.Printf("figures  by %-8s %8v  (%d groups)\n", by, lr.Figures[by].Round(time.Millisecond), lr.Groups[by])
	}
	fmt.Printf("what dominates: import is %.0f%% of the measured time; loading the model and its index %v, corroboration ~%v\n",
		100*imp.Seconds()/(imp+lr.Unseal+lr.FirstSearch+lr.FirstActs).Seconds(), lr.FirstSearch.Round(time.Millisecond), lr.SecondActs.Round(time.Millisecond))

	if !baseline {
		return nil
	}
	bt, err := baselinePhase(work, changes, batch)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Printf("baseline %7d records in %7.2fs = %8.0f records/s  (vault.SealField of the same documents + SQLite INSERT, %d per transaction, WAL, synchronous=FULL)\n",
		n, bt.Seconds(), float64(n)/bt.Seconds(), batch)
	fmt.Printf("import/baseline = %.2f (records/s): what versions, log leaves, audit events, reference checks and the model cost over sealing and storing\n",
		bt.Seconds()/imp.Seconds())
	fmt.Printf("load average after: %s\n", loadAvg())
	return nil
}

// A loadResult is what the child process measured.
type loadResult struct {
	Unseal, FirstSearch   time.Duration
	FirstSearchCPU        time.Duration // user + system time of the process
	FirstActs, SecondActs time.Duration
	Acts, Hits            int
	Figures               map[string]time.Duration
	Groups                map[string]int
	RSSKiB                int64
}

func runLoad(path, cpuprofile string) (loadResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return loadResult{}, err
	}
	args := []string{"-load", path}
	if cpuprofile != "" {
		args = append(args, "-cpuprofile", cpuprofile+".load")
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("load process: %w", err)
	}
	var lr loadResult
	if err := json.Unmarshal(out, &lr); err != nil {
		return loadResult{}, fmt.Errorf("load process output: %w", err)
	}
	return lr, nil
}

// loadPhase opens the data directory fresh, unseals it and times the first
// reads; it prints a loadResult as JSON.
func loadPhase(path, cpuprofile string) error {
	ctx := context.Background()
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	d, err := datadir.Open(ctx, path)
	if err != nil {
		return err
	}
	defer d.Close()
	lr := loadResult{Figures: map[string]time.Duration{}, Groups: map[string]int{}}
	t := time.Now()
	if err := d.Vault.Unseal([]byte(passphrase)); err != nil {
		return err
	}
	lr.Unseal = time.Since(t)
	// The first call after unseal loads the model: decrypting every
	// record and building the search index.
	t, cpu := time.Now(), cpuTime()
	res, err := d.Cases.Search(ctx, admin, "задержали", search.Filter{}, 0, 20)
	if err != nil {
		return err
	}
	lr.FirstSearch, lr.FirstSearchCPU, lr.Hits = time.Since(t), cpuTime()-cpu, res.Total
	t = time.Now()
	acts, err := d.Cases.Acts(ctx, admin)
	if err != nil {
		return err
	}
	lr.FirstActs, lr.Acts = time.Since(t), len(acts)
	t = time.Now()
	if _, err := d.Cases.Acts(ctx, admin); err != nil {
		return err
	}
	lr.SecondActs = time.Since(t)
	for _, by := range []figures.By{figures.ByType, figures.ByMonth, figures.ByPlace, figures.ByIncident} {
		t = time.Now()
		table, err := d.Cases.Figures(ctx, admin, by)
		if err != nil {
			return err
		}
		lr.Figures[string(by)], lr.Groups[string(by)] = time.Since(t), len(table)
	}
	lr.RSSKiB = vmHWM()
	return json.NewEncoder(os.Stdout).Encode(lr)
}

// baselinePhase seals each generated document with vault.SealField and
// inserts it as one row, batch rows per fsynced transaction.
func baselinePhase(work string, changes []cases.Change, batch int) (time.Duration, error) {
	path := filepath.Join(work, "baseline")
	if _, err := datadir.Init(path, []byte(passphrase), datadir.Options{WorkFactor: 10}); err != nil {
		return 0, err
	}
	d, err := datadir.Open(context.Background(), path)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(work, "baseline.db")+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE records (id BLOB PRIMARY KEY, kind TEXT NOT NULL, body BLOB NOT NULL)`); err != nil {
		return 0, err
	}
	docs := make([][]byte, len(changes))
	for i, c := range changes {
		if docs[i], err = json.Marshal(c.Doc); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	for i := 0; i < len(changes); i += batch {
		tx, err := db.Begin()
		if err != nil {
			return 0, err
		}
		for j := i; j < min(i+batch, len(changes)); j++ {
			c := changes[j]
			kind, _ := kindName(c.Doc)
			ct, err := d.Vault.SealField(vault.Label{Kind: kind, ID: c.ID, Field: "document", Version: 1}, docs[j])
			if err != nil {
				tx.Rollback()
				return 0, err
			}
			if _, err := tx.Exec(`INSERT INTO records (id, kind, body) VALUES (?, ?, ?)`, c.ID[:], kind, ct); err != nil {
				tx.Rollback()
				return 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func kindName(d cases.Doc) (string, error) {
	switch d.(type) {
	case vigil.Place:
		return cases.KindPlace, nil
	case vigil.Party:
		return cases.KindParty, nil
	case vigil.Source:
		return cases.KindSource, nil
	case vigil.Person:
		return cases.KindPerson, nil
	case vigil.Incident:
		return cases.KindIncident, nil
	case vigil.Act:
		return cases.KindAct, nil
	case vigil.Claim:
		return cases.KindClaim, nil
	}
	return "", errors.New("not a case document")
}

// vmHWM returns this process's peak resident set size in KiB, or 0 where
// /proc is not available.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

// cpuTime returns the user and system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

func loadAvg() string {
	l, err := os.ReadFile("/proc/loadavg") // other work on the machine skews every figure
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(l))[:3], " ")
}

func isTTY() bool {
	st, err := os.Stderr.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
