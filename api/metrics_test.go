package api_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/api"
)

// A promSample is one parsed sample line.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	promNameRe  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	promLabelRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parseProm parses the Prometheus text exposition format 0.0.4 strictly:
// HELP and TYPE before a family's samples, each family in one block,
// sample names of the declared type (histograms: _bucket with le, _sum,
// _count), escaped label values, and histograms whose buckets are
// cumulative and end in +Inf equal to _count.
func parseProm(body string) (map[string]string, []promSample, error) {
	types := map[string]string{}
	done := map[string]bool{}
	var samples []promSample
	current := ""
	if !strings.HasSuffix(body, "\n") {
		return nil, nil, fmt.Errorf("no final newline")
	}
	for i, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		where := fmt.Sprintf("line %d %q", i+1, line)
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kw, rest, _ := strings.Cut(rest, " ")
			name, text, _ := strings.Cut(rest, " ")
			if !promNameRe.MatchString(name) {
				return nil, nil, fmt.Errorf("%s: bad metric name", where)
			}
			if name != current {
				if done[name] {
					return nil, nil, fmt.Errorf("%s: family %s appears twice", where, name)
				}
				if current != "" {
					done[current] = true
				}
				current = name
			}
			switch kw {
			case "HELP":
			case "TYPE":
				switch text {
				case "counter", "gauge", "histogram", "summary", "untyped":
				default:
					return nil, nil, fmt.Errorf("%s: bad type", where)
				}
				if types[name] != "" {
					return nil, nil, fmt.Errorf("%s: second TYPE", where)
				}
				types[name] = text
			default:
				return nil, nil, fmt.Errorf("%s: unknown comment", where)
			}
			continue
		}
		if line == "" {
			return nil, nil, fmt.Errorf("%s: empty line", where)
		}
		s, err := parsePromSample(line)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", where, err)
		}
		family := s.name
		if types[family] == "" {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if f, ok := strings.CutSuffix(s.name, suf); ok && types[f] == "histogram" {
					family = f
					if suf == "_bucket" && s.labels["le"] == "" {
						return nil, nil, fmt.Errorf("%s: bucket without le", where)
					}
				}
			}
		}
		if types[family] == "" {
			return nil, nil, fmt.Errorf("%s: no TYPE for %s", where, s.name)
		}
		if types[family] == "histogram" && family == s.name {
			return nil, nil, fmt.Errorf("%s: histogram sample without suffix", where)
		}
		if family != current {
			return nil, nil, fmt.Errorf("%s: sample of %s inside family %s", where, family, current)
		}
		if types[family] == "counter" && s.value < 0 {
			return nil, nil, fmt.Errorf("%s: negative counter", where)
		}
		samples = append(samples, s)
	}
	// Histograms: cumulative buckets per label set, +Inf == _count.
	type series struct {
		last, inf float64
		hasInf    bool
		lastLE    float64
	}
	hs := map[string]*series{}
	key := func(name string, labels map[string]string) string {
		var parts []string
		for k, v := range labels {
			if k != "le" {
				parts = append(parts, k+"="+v)
			}
		}
		sortStrings(parts)
		return name + "{" + strings.Join(parts, ",") + "}"
	}
	for _, s := range samples {
		if f, ok := strings.CutSuffix(s.name, "_bucket"); ok && types[f] == "histogram" {
			h := hs[key(f, s.labels)]
			if h == nil {
				h = &series{lastLE: math.Inf(-1)}
				hs[key(f, s.labels)] = h
			}
			le, err := strconv.ParseFloat(s.labels["le"], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: le %q", s.name, s.labels["le"])
			}
			if le <= h.lastLE || s.value < h.last {
				return nil, nil, fmt.Errorf("%s: buckets not increasing", key(f, s.labels))
			}
			h.lastLE, h.last = le, s.value
			if math.IsInf(le, 1) {
				h.inf, h.hasInf = s.value, true
			}
		}
		if f, ok := strings.CutSuffix(s.name, "_count"); ok && types[f] == "histogram" {
			if h := hs[key(f, s.labels)]; h == nil || !h.hasInf || h.inf != s.value {
				return nil, nil, fmt.Errorf("%s: _count %v does not match the +Inf bucket", key(f, s.labels), s.value)
			}
		}
	}
	return types, samples, nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func parsePromSample(line string) (promSample, error) {
	s := promSample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value")
	}
	s.name = line[:i]
	if !promNameRe.MatchString(s.name) {
		return s, fmt.Errorf("bad name %q", s.name)
	}
	rest := line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return s, fmt.Errorf("bad label")
			}
			name := rest[:eq]
			if !promLabelRe.MatchString(name) {
				return s, fmt.Errorf("bad label name %q", name)
			}
			rest = rest[eq+2:]
			var v strings.Builder
			for {
				if rest == "" {
					return s, fmt.Errorf("unterminated label value")
				}
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\n' {
					return s, fmt.Errorf("raw newline in label value")
				}
				if c == '\\' {
					if rest == "" {
						return s, fmt.Errorf("dangling backslash")
					}
					switch rest[0] {
					case '\\':
						v.WriteByte('\\')
					case '"':
						v.WriteByte('"')
					case 'n':
						v.WriteByte('\n')
					default:
						return s, fmt.Errorf("bad escape \\%c", rest[0])
					}
					rest = rest[1:]
					continue
				}
				v.WriteByte(c)
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %s twice", name)
			}
			s.labels[name] = v.String()
			rest = strings.TrimPrefix(rest, ",")
		}
		rest = rest[1:]
	}
	val, ok := strings.CutPrefix(rest, " ")
	if !ok || strings.Contains(val, " ") {
		return s, fmt.Errorf("want one space and a value (no time stamps)")
	}
	f, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return s, fmt.Errorf("bad value %q", val)
	}
	s.value = f
	return s, nil
}

// The parser refuses what Prometheus would.
func TestPromParserRefuses(t *testing.T) {
	for _, bad := range []string{
		"x 1\n",                                 // no TYPE
		"# TYPE x gauge\nx 1",                   // no final newline
		"# TYPE x gauge\nx{a=\"b} 1\n",          // unterminated
		"# TYPE x gauge\nx{a=\"\\q\"} 1\n",      // bad escape
		"# TYPE x gauge\nx one\n",               // bad value
		"# TYPE x gauge\n# TYPE y gauge\nx 1\n", // sample outside its block
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // not cumulative
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\n",                       // count mismatch
		"# TYPE x counter\nx -1\n",
		"# TYPE x gauge\nx 1 1700000000\n",
	} {
		if _, _, err := parseProm(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// GET /metrics needs a token, parses as the exposition format, counts
// requests by route pattern (not by path: IDs never become labels) and
// status class, and shows what Collect reports.
func TestMetrics(t *testing.T) {
	e := inboxSetup(t)
	collected := 0
	e.api.Metrics = &api.Metrics{Collect: func(context.Context) []api.Metric {
		collected++
		return []api.Metric{
			{Name: "vigil_sealed", Help: "1 if the vault is sealed.", Type: "gauge", Value: 1},
			{Name: "vigil_test_total", Help: "A help text with a \\ and\na newline.", Type: "counter", Value: 7},
		}
	}}
	e.srv = httptest.NewServer(e.api.Handler())
	t.Cleanup(e.srv.Close)

	if r := e.do(t, "GET", "/metrics", "", ""); r.code != 401 || collected != 0 {
		t.Fatalf("GET /metrics without a token: %d %s (collected %d)", r.code, r.body, collected)
	}
	if r := e.do(t, "GET", "/metrics", "vgl_wrong", ""); r.code != 401 || collected != 0 {
		t.Fatalf("GET /metrics with a wrong token: %d %s", r.code, r.body)
	}
	e.do(t, "GET", "/api/v1/health", "", "")
	e.do(t, "GET", "/api/v1/submissions/"+"AAAAAAAAAAAAAAAAAAAAAAAAAA", e.token, "")
	e.do(t, "GET", "/no/such/path/secret-looking", "", "")
	r := e.do(t, "GET", "/metrics", e.token, "")
	if r.code != 200 || r.header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("GET /metrics: %d %s %s", r.code, r.header.Get("Content-Type"), r.body)
	}
	types, samples, err := parseProm(string(r.body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, r.body)
	}
	if types["vigil_staff_request_duration_seconds"] != "histogram" || types["vigil_staff_requests_total"] != "counter" {
		t.Errorf("types %v", types)
	}
	find := func(name string, labels map[string]string) (float64, bool) {
	next:
		for _, s := range samples {
			if s.name != name {
				continue
			}
			for k, v := range labels {
				if s.labels[k] != v {
					continue next
				}
			}
			return s.value, true
		}
		return 0, false
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"vigil_sealed", nil, 1},
		{"vigil_test_total", nil, 7},
		{"vigil_staff_requests_total", map[string]string{"route": "GET /api/v1/health", "code": "2xx"}, 1},
		{"vigil_staff_requests_total", map[string]string{"route": "GET /api/v1/submissions/{id}", "code": "4xx"}, 1},
		{"vigil_staff_requests_total", map[string]string{"route": "GET /metrics", "code": "4xx"}, 2},
		{"vigil_staff_requests_total", map[string]string{"route": "other", "code": "4xx"}, 1},
		{"vigil_staff_request_duration_seconds_count", map[string]string{"route": "GET /api/v1/health", "code": "2xx"}, 1},
		{"vigil_staff_request_duration_seconds_bucket", map[string]string{"route": "GET /api/v1/health", "code": "2xx", "le": "+Inf"}, 1},
	} {
		if got, ok := find(c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %t), want %v\n%s", c.name, c.labels, got, ok, c.want, r.body)
		}
	}
	if strings.Contains(string(r.body), "AAAAAAAAAAAAAAAAAAAAAAAAAA") || strings.Contains(string(r.body), "secret-looking") {
		t.Errorf("a request path became a label:\n%s", r.body)
	}
}
