package api

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hr/vigil/auth"
)

// Metrics are the staff listener's Prometheus metrics, served at
// GET /metrics (text exposition format 0.0.4) to any valid staff token.
//
// They are counts and latencies only. The staff listener's own requests are
// counted by route pattern and status class with a latency histogram; the
// rest comes from Collect. Nothing here may date a submission more finely
// than the intake time precision: a counter of submissions scraped every
// 15 s would date each one to 15 s. So the public listener's requests are
// not counted at all, and what Collect reports about intake must change
// only at precision boundaries (vigil serve takes a snapshot at each; see
// docs/config.md).
type Metrics struct {
	// Collect returns the gauges and counters of the server at scrape time.
	// It may be nil.
	Collect func(ctx context.Context) []Metric

	mu     sync.Mutex
	routes map[routeKey]*routeStats
}

// A Metric is one sample without labels.
type Metric struct {
	Name  string // e.g. "vigil_sealed"; [a-zA-Z_:][a-zA-Z0-9_:]*
	Help  string
	Type  string // "gauge" or "counter"
	Value float64
}

type routeKey struct {
	route string // the mux pattern, "other" if none matched
	class string // "2xx", "4xx", ...
}

type routeStats struct {
	count   uint64
	sum     float64
	buckets []uint64 // cumulative counts per latencyBuckets
}

// latencyBuckets are the histogram's upper bounds in seconds (Prometheus'
// default buckets).
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// observe counts one request.
func (m *Metrics) observe(route string, status int, d time.Duration) {
	if route == "" {
		route = "other" // unmatched paths are not labels: a scanner could grow the map
	}
	k := routeKey{route, strconv.Itoa(status/100) + "xx"}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.routes == nil {
		m.routes = make(map[routeKey]*routeStats)
	}
	s := m.routes[k]
	if s == nil {
		s = &routeStats{buckets: make([]uint64, len(latencyBuckets))}
		m.routes[k] = s
	}
	sec := d.Seconds()
	s.count++
	s.sum += sec
	for i, b := range latencyBuckets {
		if sec <= b {
			s.buckets[i]++
		}
	}
}

// instrument wraps the staff mux, counting each request under the pattern
// it matched.
func (m *Metrics) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.observe(r.Pattern, sw.status, time.Since(start))
	})
}

// statusWriter remembers a response's status.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) metrics(w http.ResponseWriter, r *http.Request, _ auth.Token) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	s.Metrics.write(r.Context(), bw)
	bw.Flush()
}

// write writes the exposition: the collected metrics, then the request
// counts and the latency histogram, in a stable order.
func (m *Metrics) write(ctx context.Context, w *bufio.Writer) {
	if m.Collect != nil {
		ms := m.Collect(ctx)
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
		for _, x := range ms {
			fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", x.Name, escapeHelp(x.Help), x.Name, x.Type, x.Name, formatFloat(x.Value))
		}
	}
	m.mu.Lock()
	keys := make([]routeKey, 0, len(m.routes))
	for k := range m.routes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].class < keys[j].class
	})
	stats := make([]routeStats, len(keys))
	for i, k := range keys {
		s := m.routes[k]
		stats[i] = routeStats{count: s.count, sum: s.sum, buckets: append([]uint64(nil), s.buckets...)}
	}
	m.mu.Unlock()

	fmt.Fprintf(w, "# HELP vigil_staff_requests_total Staff listener requests by route pattern and status class.\n# TYPE vigil_staff_requests_total counter\n")
	for i, k := range keys {
		fmt.Fprintf(w, "vigil_staff_requests_total{route=\"%s\",code=\"%s\"} %d\n", escapeLabel(k.route), k.class, stats[i].count)
	}
	fmt.Fprintf(w, "# HELP vigil_staff_request_duration_seconds Staff listener request latency by route pattern and status class.\n# TYPE vigil_staff_request_duration_seconds histogram\n")
	for i, k := range keys {
		labels := fmt.Sprintf("route=\"%s\",code=\"%s\"", escapeLabel(k.route), k.class)
		for j, b := range latencyBuckets {
			fmt.Fprintf(w, "vigil_staff_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", labels, formatFloat(b), stats[i].buckets[j])
		}
		fmt.Fprintf(w, "vigil_staff_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, stats[i].count)
		fmt.Fprintf(w, "vigil_staff_request_duration_seconds_sum{%s} %s\n", labels, formatFloat(stats[i].sum))
		fmt.Fprintf(w, "vigil_staff_request_duration_seconds_count{%s} %d\n", labels, stats[i].count)
	}
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// escapeLabel escapes a label value: backslash, double quote and newline.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// escapeHelp escapes a HELP text: backslash and newline.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}
