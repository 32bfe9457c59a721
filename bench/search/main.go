// Command search measures vigil's search index against Bleve v2.6.3 in
// memory, on the same generated documents, in the same run.
//
//	cd bench/search && go run . [-n 100000] [-bleve-n 20000] [-engines vigil,bleve]
//
// It lives in a module of its own so that Bleve and its dependencies stay
// out of vigil's go.mod.
//
// The documents are deterministic (seeded PCG): n testimonies of about 150
// words, two thirds in Russian and one third in English, drawn with a Zipf
// law from the Snowball sample vocabularies (real words in real inflected
// forms, ../../search/testdata), with three rare made-up words each (to give
// the vocabulary a realistic long tail) and, in three documents out of ten,
// a name from a table of names and their spellings: inflected Cyrillic in
// Russian texts, one of the Latin spellings in English ones.
//
// Each engine runs in a child process (this binary with -mode), so that its
// memory is its own. A child generates the documents, measures the heap in
// use (runtime.MemStats.HeapInuse after a GC) before and after building the
// index, the build time (unseal-to-searchable for documents already
// decrypted in memory), the p50 and p95 of 200 fixed queries (words,
// two-word AND, phrases, prefixes, names; each run 3 times), and the recall
// of the name queries: every spelling of every name in the table must
// return every document holding any spelling of that name.
//
// Bleve gets a field per language with its "ru" and "en" analyzers, and each
// query part is asked of both fields (a disjunction), the parts joined by a
// conjunction: the same semantics as vigil's queries. Bleve is given no
// stored fields; vigil keeps references to the texts, which the documents
// already hold, so neither pays for storing text.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

type result struct {
	Engine    string
	N         int
	BuildSec  float64
	BuildCPU  float64 // seconds of CPU (user+sys, all threads) the build took
	DocsPerS  float64
	HeapMiB   float64 // heap in use by the index: after build minus before
	RSSMiB    float64 // peak RSS of the child, documents included
	P50ms     float64
	P95ms     float64
	MaxMs     float64
	CPUP50ms  float64 // the query's own thread CPU time, unaffected by other load on the machine
	CPUP95ms  float64
	Recall    float64
	Found     int
	Expected  int
	Queries   int
	NameQuery int
}

func main() {
	n := flag.Int("n", 100000, "documents")
	bleveN := flag.Int("bleve-n", 0, "documents for Bleve (default: -n)")
	engines := flag.String("engines", "vigil,bleve", "engines to run")
	data := flag.String("testdata", "../../search/testdata", "directory of the Snowball vocabularies")
	mode := flag.String("mode", "", "internal: run one engine in this process")
	cpuprofile := flag.String("cpuprofile", "", "with -mode: write a CPU profile of the child here")
	flag.Parse()

	if *mode != "" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		r, err := run(*mode, *n, *data)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		r.RSSMiB = float64(ru.Maxrss) / 1024
		json.NewEncoder(os.Stdout).Encode(r)
		pprof.StopCPUProfile()
		return
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var results []result
	for _, e := range strings.Split(*engines, ",") {
		en := *n
		if e == "bleve" && *bleveN > 0 {
			en = *bleveN
		}
		fmt.Fprintf(os.Stderr, "running %s on %d documents…\n", e, en)
		cmd := exec.Command(self, "-mode", e, "-n", fmt.Sprint(en), "-testdata", *data)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v (reported without it)\n", e, err)
			continue
		}
		var r result
		if err := json.Unmarshal(out, &r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		results = append(results, r)
	}
	fmt.Printf("%-6s %7s %8s %8s %7s %8s %7s %7s %7s %7s %7s %7s %s\n",
		"engine", "docs", "build s", "cpu s", "docs/s", "heap MiB", "RSS MiB", "p50 ms", "p95 ms", "max ms", "cpu p50", "cpu p95", "name recall")
	for _, r := range results {
		fmt.Printf("%-6s %7d %8.2f %8.2f %7.0f %8.1f %7.1f %7.2f %7.2f %7.2f %7.2f %7.2f %.1f%% (%d/%d over %d name queries)\n",
			r.Engine, r.N, r.BuildSec, r.BuildCPU, r.DocsPerS, r.HeapMiB, r.RSSMiB, r.P50ms, r.P95ms, r.MaxMs, r.CPUP50ms, r.CPUP95ms,
			100*r.Recall, r.Found, r.Expected, r.NameQuery)
	}
}

// An engine is what the bench drives.
type engine interface {
	build(docs []genDoc) error
	// search returns the documents (indexes into docs) matching q, at most limit.
	search(q []part, limit int) ([]int, error)
}

func run(mode string, n int, data string) (result, error) {
	c, err := newCorpus(data)
	if err != nil {
		return result{}, err
	}
	docs := c.generate(n)
	queries := c.queries(docs)
	var e engine
	switch mode {
	case "vigil":
		e = &vigilEngine{}
	case "bleve":
		e = &bleveEngine{}
	default:
		return result{}, fmt.Errorf("unknown engine %q", mode)
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heap()
	cpu0 := processCPU()
	start := time.Now()
	if err := e.build(docs); err != nil {
		return result{}, fmt.Errorf("build: %w", err)
	}
	build := time.Since(start)
	buildCPU := processCPU() - cpu0
	after := heap()
	r := result{Engine: mode, N: n, BuildSec: build.Seconds(), BuildCPU: buildCPU.Seconds(), DocsPerS: float64(n) / build.Seconds(),
		HeapMiB: (float64(after) - float64(before)) / (1 << 20), Queries: len(queries)}

	var times, cpus []time.Duration
	runtime.LockOSThread()
	for range 3 {
		for _, q := range queries {
			t, c := time.Now(), threadCPU()
			if _, err := e.search(q, 20); err != nil {
				return result{}, fmt.Errorf("search %v: %w", q, err)
			}
			times = append(times, time.Since(t))
			cpus = append(cpus, threadCPU()-c)
		}
	}
	runtime.UnlockOSThread()
	slices.Sort(times)
	slices.Sort(cpus)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	r.P50ms, r.P95ms, r.MaxMs = ms(times[len(times)/2]), ms(times[len(times)*95/100]), ms(times[len(times)-1])
	r.CPUP50ms, r.CPUP95ms = ms(cpus[len(cpus)/2]), ms(cpus[len(cpus)*95/100])

	for g, spellings := range nameTable {
		var want []int
		for i, d := range docs {
			if d.name == g+1 {
				want = append(want, i)
			}
		}
		for _, s := range append([]string{spellings.base}, spellings.latin...) {
			got, err := e.search([]part{{words: []string{s}}}, len(docs))
			if err != nil {
				return result{}, err
			}
			r.NameQuery++
			r.Expected += len(want)
			for _, w := range want {
				if slices.Contains(got, w) {
					r.Found++
				}
			}
		}
	}
	if r.Expected > 0 {
		r.Recall = float64(r.Found) / float64(r.Expected)
	}
	return r, nil
}

// processCPU returns the CPU time of the process, all threads.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU returns the CPU time of the calling thread
// (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

type genDoc struct {
	lang string // "ru" or "en"
	text string
	name int // 1 + index in nameTable, 0 for none
}

type corpus struct {
	ru, en []string
}

func readWords(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ws []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w, _, _ := strings.Cut(sc.Text(), "\t")
		if len([]rune(w)) > 2 && !strings.Contains(w, "'") {
			ws = append(ws, w)
		}
	}
	return ws, sc.Err()
}

func newCorpus(dir string) (*corpus, error) {
	ru, err := readWords(filepath.Join(dir, "snowball_russian.tsv"))
	if err != nil {
		return nil, fmt.Errorf("read vocabulary (run from bench/search or give -testdata): %w", err)
	}
	en, err := readWords(filepath.Join(dir, "snowball_english.tsv"))
	if err != nil {
		return nil, err
	}
	// A fixed shuffle, so that Zipf ranks don't follow the alphabet.
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(ru), func(i, j int) { ru[i], ru[j] = ru[j], ru[i] })
	rng.Shuffle(len(en), func(i, j int) { en[i], en[j] = en[j], en[i] })
	return &corpus{ru: ru, en: en}, nil
}

var syllables = []string{"ка", "ло", "ми", "ра", "ту", "ше", "бо", "ди", "за", "ны", "ве", "гу", "жа", "це", "хо", "пи"}
var latinSyl = []string{"ka", "lo", "mi", "ra", "tu", "she", "bo", "di", "za", "ny", "ve", "gu", "zha", "tse", "kho", "pi"}

func rare(rng *rand.Rand, ru bool) string {
	k := rng.IntN(200000) // a long tail of made-up words
	syl := latinSyl
	if ru {
		syl = syllables
	}
	var b strings.Builder
	for range 4 {
		b.WriteString(syl[k%16])
		k /= 16
	}
	return b.String()
}

func (c *corpus) generate(n int) []genDoc {
	rng := rand.New(rand.NewPCG(42, 7))
	zru := rand.NewZipf(rng, 1.07, 2, uint64(len(c.ru)-1))
	zen := rand.NewZipf(rng, 1.07, 2, uint64(len(c.en)-1))
	docs := make([]genDoc, n)
	var b strings.Builder
	for i := range docs {
		ru := rng.IntN(3) < 2
		b.Reset()
		words := 140 + rng.IntN(21)
		name := 0
		namePos := -1
		if rng.IntN(10) < 3 {
			name = 1 + rng.IntN(len(nameTable))
			namePos = rng.IntN(words)
		}
		for w := range words {
			if w > 0 {
				if rng.IntN(12) == 0 {
					b.WriteString(". ")
				} else {
					b.WriteByte(' ')
				}
			}
			switch {
			case w == namePos:
				nt := nameTable[name-1]
				if ru {
					b.WriteString(nt.forms[rng.IntN(len(nt.forms))])
				} else {
					b.WriteString(nt.latin[rng.IntN(len(nt.latin))])
				}
			case w%50 == 17:
				b.WriteString(rare(rng, ru))
			case ru:
				b.WriteString(c.ru[zru.Uint64()])
			default:
				b.WriteString(c.en[zen.Uint64()])
			}
		}
		lang := "en"
		if ru {
			lang = "ru"
		}
		docs[i] = genDoc{lang: lang, text: b.String(), name: name}
	}
	return docs
}

// A part of a query: words (all of them), a phrase or a prefix.
type part struct {
	words  []string
	phrase string
	prefix string
}

func (p part) String() string {
	switch {
	case p.phrase != "":
		return `"` + p.phrase + `"`
	case p.prefix != "":
		return p.prefix + "*"
	}
	return strings.Join(p.words, " ")
}

func queryText(q []part) string {
	var s []string
	for _, p := range q {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}

// queries returns the 200 fixed queries.
func (c *corpus) queries(docs []genDoc) [][]part {
	rng := rand.New(rand.NewPCG(9, 9))
	mid := func(ws []string) string { return ws[10+rng.IntN(min(2000, len(ws)-10))] }
	var qs [][]part
	for range 50 {
		qs = append(qs, []part{{words: []string{mid(c.ru)}}})
	}
	for range 30 {
		qs = append(qs, []part{{words: []string{mid(c.en)}}})
	}
	for range 20 {
		qs = append(qs, []part{{words: []string{mid(c.ru), mid(c.ru)}}})
	}
	for range 20 {
		qs = append(qs, []part{{words: []string{c.ru[rng.IntN(30)], mid(c.ru)}}}) // a frequent word and a rarer one
	}
	for len(qs) < 140 {
		d := docs[rng.IntN(len(docs))]
		ws := strings.Fields(strings.ReplaceAll(d.text, ".", ""))
		i := rng.IntN(len(ws) - 1)
		qs = append(qs, []part{{phrase: ws[i] + " " + ws[i+1]}})
	}
	for len(qs) < 170 {
		w := []rune(mid(c.ru))
		if len(w) >= 5 {
			qs = append(qs, []part{{prefix: string(w[:4])}})
		}
	}
	for len(qs) < 200 {
		nt := nameTable[rng.IntN(len(nameTable))]
		s := nt.latin[rng.IntN(len(nt.latin))]
		qs = append(qs, []part{{words: []string{s}}})
	}
	return qs
}

// nameTable: a name, its Cyrillic forms as they occur in Russian texts, and
// its Latin spellings (BGN/PCGN, GOST 7.79 B, ICAO 9303, ISO 9, informal).
var nameTable = []struct {
	base  string
	forms []string
	latin []string
}{
	{"Кадыров", []string{"Кадыров", "Кадырова", "Кадырову", "Кадыровым"}, []string{"Kadyrov", "Kadirov", "Qadyrov"}},
	{"Грозный", []string{"Грозный", "Грозного", "Грозном"}, []string{"Grozny", "Groznyy", "Groznyj"}},
	{"Аргун", []string{"Аргун", "Аргуне", "Аргуна"}, []string{"Argun"}},
	{"Шали", []string{"Шали"}, []string{"Shali"}},
	{"Юрий", []string{"Юрий", "Юрия", "Юрию"}, []string{"Yuri", "Yuriy", "Iurii", "Jurij"}},
	{"Чечня", []string{"Чечня", "Чечни", "Чечне", "Чечню"}, []string{"Chechnya", "Čečnja", "Chechnia"}},
	{"Хасавюрт", []string{"Хасавюрт", "Хасавюрте"}, []string{"Khasavyurt", "Hasavjurt", "Khasaviurt"}},
	{"Дагестан", []string{"Дагестан", "Дагестане", "Дагестана"}, []string{"Dagestan", "Daghestan"}},
	{"Мухаммад", []string{"Мухаммад", "Мухаммада"}, []string{"Muhammad", "Mukhammad"}},
	{"Евгений", []string{"Евгений", "Евгения", "Евгению"}, []string{"Yevgeny", "Evgenii", "Yevgeniy", "Evgenij"}},
	{"Зелимхан", []string{"Зелимхан", "Зелимхана"}, []string{"Zelimkhan", "Zelimhan"}},
	{"Алексей", []string{"Алексей", "Алексея"}, []string{"Aleksey", "Alexei", "Aleksej"}},
	{"Наталья", []string{"Наталья", "Натальи"}, []string{"Natalya", "Natalia", "Natalja"}},
	{"Джохар", []string{"Джохар", "Джохара"}, []string{"Dzhokhar", "Djokhar"}},
	{"Масхадов", []string{"Масхадов", "Масхадова"}, []string{"Maskhadov"}},
}
