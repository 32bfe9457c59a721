// Command intake load-tests anonymous intake on loopback: 5 KB text
// submissions from concurrent clients, each acknowledged with a receipt only
// once it is durable.
//
//	go run ./bench/intake [-n 5000] [-c 32] [-duration 30s] [-size 5000] [-file 0] [-dir DIR]
//	        [-phases http,service,single,baseline] [-cpuprofile FILE]
//	        [-backends sqlite,postgres,postgres+s3] [-postgres URL] [-s3 URL] [-vigil BIN]
//
// It creates a fresh data directory under DIR (default: the system temporary
// directory; datadir.Init with a low scrypt work factor), opens it and
// serves the public handler that `vigil serve` serves, in this process, on
// 127.0.0.1:0, with the vault unsealed and a checkpoint signed every second
// as `vigil serve --passphrase-file` does. Then -c clients POST submissions
// as a browser sends them (multipart/form-data: text, language, contact, the
// UI language and an empty file field) until -n are done or -duration has
// passed, whichever comes first. A response counts only if it is 200 and its
// page holds a receipt (28 digits in <strong id="receipt">).
//
// For context it then runs, in the same process and with the same -n, -c
// and -size:
//
//   - service: intake.Service.Submit called directly (group commit, no HTTP);
//   - single: the same without group commit, one transaction and fsync per
//     submission (what group commit buys);
//   - baseline: bare SQLite (WAL, synchronous=FULL, as vigil runs it), one
//     transaction and fsync per submission inserting the text as one row:
//     what one fsync per submission allows on this disk.
//
// Each prints submissions per second, latency p50/p90/p99/max and errors;
// the last lines give the ratios to the baseline and whether the targets
// (HTTP: >= 500/s, p99 < 100 ms) are met. Everything it wrote is removed.
//
// -backends runs the http, service and single phases once per backend, in
// one run: sqlite (DIR/vigil.db and DIR/blobs, the default), postgres
// (PostgreSQL, local blobs) and postgres+s3 (PostgreSQL and S3). Their
// names get "@postgres" or "@postgres+s3", and the last lines give each
// one's submissions/s and p99 against the same phase on sqlite. PostgreSQL
// is the server at -postgres (a URL whose role may create databases: each
// phase gets a new one, dropped at the end) or else a throwaway cluster
// started from /usr/lib/postgresql/*/bin with fsync on (internal/pgtest);
// S3 is -s3 (an endpoint URL with credentials, http[s]://KEY:SECRET@host:port)
// or else `weed server -s3` from PATH on loopback (internal/s3test). -file
// attaches a file of that many random bytes to every submission, so that
// each one writes a blob.
//
// Two more phases run the real server instead of the handler in this
// process (name them in -phases; -vigil names the binary, else cmd/vigil is
// built with go build):
//
//   - serve: one `vigil serve` process on the backend, the clients posting
//     to its public listener;
//   - serve2: two `vigil serve` processes on one PostgreSQL database and
//     one bucket prefix, each with a data directory of its own holding the
//     same vigil.json and keys.age, the clients split between them (client
//     w posts to server w mod 2). On postgres+s3 only: a SQLite data
//     directory has one server, and with local blobs each server would keep
//     its own files.
//
// Both servers are unsealed and sign a checkpoint every second. serve2's
// ratio is given against serve on sqlite (one server, the embedded
// default) and against serve on the same backend.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	_ "modernc.org/sqlite" // the baseline's bare database

	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/web"
)

const (
	targetRate = 500                    // submissions per second over HTTP
	targetP99  = 100 * time.Millisecond // HTTP latency
	passphrase = "benchmark passphrase"
)

func main() {
	n := flag.Int("n", 5000, "stop after this many submissions (per phase)")
	c := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("duration", 30*time.Second, "stop after this long (per phase)")
	size := flag.Int("size", 5000, "bytes of text per submission")
	dir := flag.String("dir", "", "directory for the data directories (default: the system temporary directory)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (use with -phases)")
	phases := flag.String("phases", "http,service,single,baseline", "phases to run, comma-separated")
	backends := flag.String("backends", "sqlite", "backends to run the http, service and single phases on, comma-separated: sqlite, postgres, postgres+s3")
	pgURL := flag.String("postgres", "", "PostgreSQL server `URL` (its role may create databases); default: a throwaway cluster, fsync on")
	s3URL := flag.String("s3", "", "S3 endpoint `URL` with credentials (http[s]://KEY:SECRET@host:port); default: weed server -s3 from PATH")
	file := flag.Int("file", 0, "attach a file of this many random bytes to every submission (0: none)")
	vigilBin := flag.String("vigil", "", "the vigil `BINARY` the serve and serve2 phases run (default: go build ./cmd/vigil)")
	flag.Parse()
	if *n < 1 || *c < 1 || *size < 1 || *dur <= 0 || *file < 0 {
		fmt.Fprintln(os.Stderr, "intake bench: -n, -c, -size and -duration must be positive, -file not negative")
		os.Exit(2)
	}
	b := &bench{n: *n, c: *c, dur: *dur, size: *size, file: *file, cpuprofile: *cpuprofile, vigil: *vigilBin}
	for _, be := range strings.Split(*backends, ",") {
		be = strings.TrimSpace(be)
		if be != "sqlite" && be != "postgres" && be != "postgres+s3" {
			fmt.Fprintf(os.Stderr, "intake bench: -backends: unknown backend %q (want sqlite, postgres, postgres+s3)\n", be)
			os.Exit(2)
		}
		b.backends = append(b.backends, be)
	}
	stop, err := b.servers(*pgURL, *s3URL)
	if err == nil {
		err = b.run(*dir, strings.Split(*phases, ","))
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "intake bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	n, c, size int
	file       int // bytes of the file attached to each submission
	backends   []string
	pgAdmin    string // PostgreSQL URL whose role may create databases
	s3Endpoint *url.URL
	s3Bucket   string
	dbs        []string // databases made, dropped at the end
	backend    string   // the backend of the phase running
	dur        time.Duration
	cpuprofile string
	work       string
	vigil      string // the vigil binary of the serve phases
}

// A result is one phase's measurements.
type result struct {
	name     string
	ok       int
	errs     int
	firstErr error
	elapsed  time.Duration
	lat      []time.Duration // of the successful submissions
	note     string
}

func (r result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p * float64(len(r.lat)-1))
	return r.lat[i]
}

func (r result) print() {
	fmt.Printf("%-17s %6d ok in %6.2fs = %7.1f submissions/s   latency p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  max %6.1f ms   errors %d\n",
		r.name, r.ok, r.elapsed.Seconds(), r.rate(), ms(r.pct(0.50)), ms(r.pct(0.90)), ms(r.pct(0.99)), ms(r.pct(1)), r.errs)
	if r.firstErr != nil {
		fmt.Printf("                  first error: %v\n", r.firstErr)
	}
	if r.note != "" {
		fmt.Printf("                  %s\n", r.note)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (b *bench) run(dir string, phases []string) error {
	var err error
	if b.work, err = os.MkdirTemp(dir, "vigil-bench-intake-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	fmt.Printf("%d clients, %d-byte texts, at most %d submissions or %v per phase\n", b.c, b.size, b.n, b.dur)
	loadAvg := func() string {
		l, err := os.ReadFile("/proc/loadavg") // other work on the machine skews every figure
		if err != nil {
			return "unknown"
		}
		return strings.Join(strings.Fields(string(l))[:3], " ")
	}
	fmt.Printf("load average before: %s\n", loadAvg())
	defer func() { fmt.Printf("load average after: %s\n", loadAvg()) }()
	if b.cpuprofile != "" {
		f, err := os.Create(b.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res := map[string]result{}
	for _, p := range phases {
		p = strings.TrimSpace(p)
		switch p {
		case "http", "service", "single", "baseline":
		case "serve", "serve2":
			if err := b.buildVigil(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown phase %q", p)
		}
	}
	for i, be := range b.backends {
		b.backend = be
		for _, p := range phases {
			var r result
			switch strings.TrimSpace(p) {
			case "http":
				r, err = b.httpPhase()
			case "service":
				r, err = b.servicePhase(true)
			case "single":
				r, err = b.servicePhase(false)
			case "baseline":
				if i > 0 {
					continue // one baseline: bare SQLite
				}
				r, err = b.baselinePhase()
			case "serve":
				r, err = b.servePhase(1)
			case "serve2":
				if be != "postgres+s3" {
					// SQLite has one server per data directory; with local
					// blobs each server would keep its own files.
					fmt.Printf("serve2: skipped on %s (several servers share PostgreSQL and S3)\n", be)
					continue
				}
				r, err = b.servePhase(2)
			}
			if err != nil {
				return fmt.Errorf("%s on %s: %w", p, be, err)
			}
			if be != "sqlite" && r.name != "baseline" {
				r.name += "@" + be
			}
			r.print()
			res[r.name] = r
		}
	}
	for _, be := range b.backends {
		if be == "sqlite" {
			continue
		}
		for _, name := range []string{"http", "service", "single", "serve"} {
			if r, ok := res[name+"@"+be]; ok {
				ratio(r, res[name], "sqlite")
			}
		}
		if r, ok := res["serve2@"+be]; ok {
			ratio(r, res["serve"], "serve(sqlite)")
			ratio(r, res["serve@"+be], "serve@"+be)
		}
	}
	if g, ok := res["service"]; ok {
		if one, ok := res["single"]; ok && one.rate() > 0 {
			fmt.Printf("service/single = %.1f (what group commit buys)\n", g.rate()/one.rate())
		}
	}
	base, haveBase := res["baseline"]
	for _, name := range []string{"http", "service", "single"} {
		if r, ok := res[name]; ok && haveBase && base.rate() > 0 {
			fmt.Printf("%s/baseline = %.1f (submissions/s)\n", name, r.rate()/base.rate())
		}
	}
	if r, ok := res["http"]; ok {
		if r.errs == 0 && r.rate() >= targetRate && r.pct(0.99) < targetP99 {
			fmt.Printf("targets (HTTP >= %d/s, p99 < %v): met\n", targetRate, targetP99)
		} else {
			fmt.Printf("targets (HTTP >= %d/s, p99 < %v, no errors): MISSED\n", targetRate, targetP99)
		}
	}
	return nil
}

// ratio prints r's submissions/s and p99 against base's, if base ran.
func ratio(r, base result, baseName string) {
	if base.name == "" || base.rate() == 0 || base.pct(0.99) == 0 {
		return
	}
	fmt.Printf("%s/%s = %.2f (submissions/s), p99 %.2f×\n", r.name, baseName, r.rate()/base.rate(), float64(r.pct(0.99))/float64(base.pct(0.99)))
}

// openData creates and opens a fresh data directory, unsealed.
func (b *bench) openData(name string) (*datadir.Dir, error) {
	path := filepath.Join(b.work, name+"-"+strings.ReplaceAll(b.backend, "+", "-"))
	if _, err := datadir.Init(path, []byte(passphrase), datadir.Options{WorkFactor: 10}); err != nil {
		return nil, err
	}
	be, err := b.backendURLs(name)
	if err != nil {
		return nil, err
	}
	d, err := datadir.OpenWith(context.Background(), path, be)
	if err != nil {
		return nil, err
	}
	if err := d.Vault.Unseal([]byte(passphrase)); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// load runs b.c workers calling submit until b.n calls were made or b.dur
// passed, and measures each successful call.
func (b *bench) load(name string, submit func(worker, seq int) error) result {
	var next atomic.Int64
	deadline := time.Now().Add(b.dur)
	lats := make([][]time.Duration, b.c)
	var errs atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range b.c {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.n) || time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				if err := submit(w, int(i)); err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	r := result{name: name, elapsed: time.Since(start), errs: int(errs.Load()), firstErr: firstErr}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	slices.Sort(r.lat)
	r.ok = len(r.lat)
	return r
}

// text returns a submission's text: size bytes of UTF-8, Russian and
// English words, unique per submission.
func text(size, seq int) string {
	words := []string{"Меня", "задержали", "у", "станции", "метро", "3", "марта", "около", "18:00;", "the", "officers", "took", "my", "phone", "and", "passport.", "Свидетели:", "двое", "прохожих."}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Submission %d. ", seq)
	for i := 0; sb.Len() < size; i++ {
		sb.WriteString(words[(i*7+seq)%len(words)])
		sb.WriteByte(' ')
	}
	s := sb.String()
	if len(s) <= size {
		return s
	}
	for size > 0 && !utf8.RuneStart(s[size]) { // cut at a rune boundary
		size--
	}
	return s[:size]
}

// form builds a multipart body as a browser sends the submission form with
// no file chosen.
func form(t string, file int) (body []byte, contentType string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("lang", "ru")
	mw.WriteField("text", t)
	mw.WriteField("language", "ru")
	mw.WriteField("contact", "")
	h := textproto.MIMEHeader{}
	if file > 0 {
		h.Set("Content-Disposition", `form-data; name="files"; filename="evidence.bin"`)
		h.Set("Content-Type", "application/octet-stream")
		pw, _ := mw.CreatePart(h)
		pw.Write(fileBody(file))
	} else {
		h.Set("Content-Disposition", `form-data; name="files"; filename=""`)
		h.Set("Content-Type", "application/octet-stream")
		mw.CreatePart(h)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

var receiptRE = regexp.MustCompile(`<strong id="receipt"[^>]*>\s*([0-9]{4}(?:[ \x{00a0}]?[0-9]{4}){6})\s*</strong>`)

func (b *bench) httpPhase() (result, error) {
	d, err := b.openData("http")
	if err != nil {
		return result{}, err
	}
	defer d.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0") // loopback only
	if err != nil {
		return result{}, err
	}
	srv := &http.Server{
		// The handler `vigil serve` gives its public listener (cmd/vigil/serve.go).
		Handler:           web.NewPublic(d, web.Keys{Origin: d.Config.Origin, LogVKey: d.Config.LogVKey, AgeRecipient: d.Config.Recipient}, d.Intake, web.Options{Instance: web.Instance(d.Config.Instance)}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// Sign a checkpoint every second, as serve does when unsealed.
	ctx, stop := context.WithCancel(context.Background())
	signed := 0
	signDone := make(chan struct{})
	go func() {
		defer close(signDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := d.SignCheckpoint(ctx); err == nil {
					signed++
				}
			}
		}
	}()

	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: b.c, MaxConnsPerHost: b.c, DisableCompression: true},
		Timeout:   30 * time.Second,
		// The receipt page is the answer; a redirect would be a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// One request first, so a missing /submit fails loudly and at once.
	if err := b.post(client, base, 0, b.n); err != nil {
		stop()
		<-signDone
		return result{}, fmt.Errorf("first submission: %w", err)
	}
	r := b.load("http", func(w, seq int) error { return b.post(client, base, w, seq) })
	stop()
	<-signDone
	r.note = fmt.Sprintf("%d checkpoints signed meanwhile", signed) + blobNote(d)
	return r, nil
}

func (b *bench) post(client *http.Client, base string, w, seq int) error {
	body, ct := form(text(b.size, seq), b.file)
	req, err := http.NewRequest(http.MethodPost, base+"/submit", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept-Language", "ru")
	req.Header.Set("Origin", base)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /submit: %s: %.200q", resp.Status, page)
	}
	if !receiptRE.Match(page) {
		return fmt.Errorf("POST /submit: 200 without a receipt: %.300q", page)
	}
	return nil
}

// servicePhase calls intake.Service.Submit directly, with group commit or
// with one transaction per submission.
func (b *bench) servicePhase(group bool) (result, error) {
	name := "service"
	if !group {
		name = "single"
	}
	d, err := b.openData(name)
	if err != nil {
		return result{}, err
	}
	defer d.Close()
	in := d.Intake
	if !group {
		in = &intake.Service{Store: d.Store, Vault: d.Vault, Evidence: d.Evidence, Config: d.Intake.Config}
	}
	ctx := context.Background()
	r := b.load(name, func(w, seq int) error {
		var files []*evidence.Pending
		if b.file > 0 {
			p, err := d.Evidence.Stage(ctx, bytes.NewReader(fileBody(b.file)), "evidence.bin", "application/octet-stream")
			if err != nil {
				return err
			}
			files = append(files, p)
		}
		rc, _, err := in.Submit(ctx, intake.Draft{Text: text(b.size, seq), Language: "ru"}, files)
		if err == nil && len(rc) == 0 {
			err = errors.New("empty receipt")
		}
		return err
	})
	r.note = strings.TrimPrefix(blobNote(d), ", ")
	return r, nil
}

// baselinePhase commits one row per submission, each in its own fsynced
// transaction, the way one-fsync-per-submission intake would.
func (b *bench) baselinePhase() (result, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.work, "baseline.db")+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE submissions (id INTEGER PRIMARY KEY, body BLOB NOT NULL)`); err != nil {
		return result{}, err
	}
	ins, err := db.Prepare(`INSERT INTO submissions (body) VALUES (?)`)
	if err != nil {
		return result{}, err
	}
	defer ins.Close()
	r := b.load("baseline", func(w, seq int) error {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Stmt(ins).Exec([]byte(text(b.size, seq))); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	return r, nil
}

// blobNote says how many blobs the phase's blob store holds, so a run with
// -file shows the files went where the backend says.
func blobNote(d *datadir.Dir) string {
	n := 0
	if err := d.Blobs.List(context.Background(), func(string) error { n++; return nil }); err != nil {
		return fmt.Sprintf(", blobs: %v", err)
	}
	return fmt.Sprintf(", %d blobs in %T", n, d.Blobs)
}
