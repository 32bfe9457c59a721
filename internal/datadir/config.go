package datadir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/vault"
	"github.com/vigil-hr/vigil/witness"
)

// Config is DIR/vigil.json. docs/config.md documents every key with its
// default and limits; [ParseConfig] enforces them.
type Config struct {
	// Format is the data directory format version, 1.
	Format int `json:"format"`
	// Origin is the log's checkpoint origin and key name, e.g. "vigil.example.org/log".
	Origin string `json:"origin"`
	vault.Public
	// ReceiptSalt is the public per-instance salt of receipt derivations
	// (32 random bytes, base64).
	ReceiptSalt []byte `json:"receipt_salt"`
	// Intake bounds what sources may send; zero fields take the defaults
	// (see intake.Config).
	Intake IntakeConfig `json:"intake"`
	// Instance says who runs this vigil, shown on the public pages;
	// optional (a neutral default text is shown otherwise).
	Instance InstanceConfig `json:"instance,omitzero"`
	// Witness is the witness policy: serve asks these witnesses to cosign
	// each new checkpoint and publishes it once the quorum holds. Optional;
	// without it checkpoints are published as signed.
	Witness *witness.Policy `json:"witness,omitempty"`
	// Backends names where records and blobs live when not in the
	// directory itself ("store": a PostgreSQL URL, "blobs": an S3 URL;
	// docs/scale.md). vigil serve's --store and --blobs take precedence.
	Backends
	// Stats tunes vigil stats publish; optional.
	Stats StatsConfig `json:"stats,omitzero"`
}

// StatsConfig is the stats section of vigil.json (docs/publication.md).
type StatsConfig struct {
	// K is the smallest count published (default 5); smaller ones are hidden.
	K int `json:"k,omitempty"`
	// RegionLevel is the place level published as a region: 1 (default)
	// is a top-level place, 2 its children, and so on.
	RegionLevel int `json:"region_level,omitempty"`
}

// InstanceConfig is the instance section of vigil.json: texts per UI
// language tag, e.g. {"name": {"en": "Crimea Watch", "ru": "Крым: мониторинг"},
// "about": {"en": "...", "ru": "..."}}. A language without an entry falls
// back to English.
type InstanceConfig struct {
	// Name is the organisation's name, at most [MaxInstanceName] characters.
	Name map[string]string `json:"name,omitempty"`
	// About is a short "who we are", at most [MaxInstanceAbout] characters.
	About map[string]string `json:"about,omitempty"`
}

// IntakeConfig is the intake section of vigil.json. Zero fields take the
// defaults; see docs/config.md and [ParseConfig] for the limits.
type IntakeConfig struct {
	MaxTextBytes  int    `json:"max_text_bytes,omitempty"`  // default 1 MiB
	MaxFiles      int    `json:"max_files,omitempty"`       // default 20
	MaxTotalBytes int64  `json:"max_total_bytes,omitempty"` // default 2 GiB
	TimePrecision string `json:"time_precision,omitempty"`  // a Go duration, e.g. "1h"; default 1h
	// ReceiptAttempts is how many receipt attempts a client may make before
	// it must wait ReceiptWait between attempts (defaults 10 and "1m").
	ReceiptAttempts int    `json:"receipt_attempts,omitempty"`
	ReceiptWait     string `json:"receipt_wait,omitempty"`
}

// Languages returns the UI languages of the public pages: the only keys
// instance.name and instance.about may have. (cmd/vigil's tests check they
// are the web package's catalogs.)
func Languages() []string { return []string{"en", "ru"} }

// Limits of vigil.json's values (see docs/config.md).
const (
	MinTextBytes     = 1 << 10
	MaxTextBytes     = 16 << 20
	MaxFiles         = 1000
	MinTotalBytes    = 1 << 20
	MaxTotalBytes    = 1 << 40
	MinPrecision     = time.Minute
	MaxPrecision     = 30 * 24 * time.Hour
	MaxAttempts      = 1000
	MinReceiptWait   = time.Second
	MaxReceiptWait   = 24 * time.Hour
	MaxInstanceName  = 100
	MaxInstanceAbout = 1000
	MaxWitnesses     = 32
)

// A ConfigError lists every problem found in vigil.json (its Error joins
// them with "; "), each naming the key's path, e.g.
//
//	vigil.json: intake.max_filez: unknown key (did you mean max_files?)
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return strings.Join(e.Problems, "; ")
}

// Is makes a ConfigError match [vigil.ErrInvalid].
func (e *ConfigError) Is(target error) bool { return target == vigil.ErrInvalid }

// ParseConfig parses and checks the contents of vigil.json: every key must be
// known and every value within its limits. On any problem it returns a
// *ConfigError listing all of them, not just the first.
func ParseConfig(b []byte) (Config, error) {
	var cfg Config
	c := &configCheck{}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return cfg, &ConfigError{[]string{fmt.Sprintf("vigil.json: not valid JSON: %v", err)}}
	}
	if dec.More() {
		return cfg, &ConfigError{[]string{"vigil.json: more than one JSON value"}}
	}
	if _, ok := raw.(map[string]any); !ok {
		return cfg, &ConfigError{[]string{"vigil.json: want a JSON object"}}
	}
	c.walk("", raw, reflect.TypeFor[Config]())
	if c.typeErrors > 0 {
		// Decoding would stop at the first wrong type.
		return cfg, &ConfigError{c.problems}
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, &ConfigError{[]string{fmt.Sprintf("vigil.json: %v", err)}}
	}
	c.values(cfg)
	if len(c.problems) > 0 {
		return cfg, &ConfigError{c.problems}
	}
	return cfg, nil
}

type configCheck struct {
	problems   []string
	typeErrors int // problems other than unknown keys
}

// typef reports a value of the wrong JSON type.
func (c *configCheck) typef(path, format string, args ...any) {
	c.typeErrors++
	c.addf(path, format, args...)
}

func (c *configCheck) addf(path, format string, args ...any) {
	if path == "" {
		path = "(top level)"
	}
	c.problems = append(c.problems, "vigil.json: "+path+": "+fmt.Sprintf(format, args...))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields returns the JSON keys of struct type t, embedded structs
// flattened as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type)
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

// walk checks that v, decoded from JSON, has the keys and JSON types of t.
func (c *configCheck) walk(path string, v any, t reflect.Type) {
	if t.Kind() == reflect.Pointer {
		if v == nil {
			return
		}
		t = t.Elem()
	}
	if t == reflect.TypeFor[[]byte]() {
		if _, ok := v.(string); !ok {
			c.typef(path, "want a base64 string")
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			c.typef(path, "want an object, not %s", jsonType(v))
			return
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				msg := "unknown key"
				if s := suggest(k, fields); s != "" {
					msg += " (did you mean " + s + "?)"
				}
				c.addf(join(path, k), "%s", msg)
				continue
			}
			c.walk(join(path, k), obj[k], ft)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			c.typef(path, "want an object, not %s", jsonType(v))
			return
		}
		for _, k := range sortedKeys(obj) {
			c.walk(join(path, k), obj[k], t.Elem())
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			c.typef(path, "want a list, not %s", jsonType(v))
			return
		}
		for i, e := range arr {
			c.walk(fmt.Sprintf("%s[%d]", path, i), e, t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.typef(path, "want a string, not %s", jsonType(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.typef(path, "want true or false, not %s", jsonType(v))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			c.typef(path, "want a whole number, not %s", jsonType(v))
			return
		}
		if _, err := n.Int64(); err != nil {
			c.typef(path, "want a whole number, not %s", n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			c.typef(path, "want a whole number, not %s", jsonType(v))
			return
		}
		if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil {
			c.typef(path, "want a whole number of at least 0, not %s", n)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			c.typef(path, "want a number, not %s", jsonType(v))
		}
	case reflect.Interface:
		// Any JSON value.
	default:
		c.typef(path, "cannot check a value of type %s", t)
	}
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%t", v)
	case []any:
		return "a list"
	default:
		return "an object"
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// suggest returns the known key closest to k, if it is close enough to be
// a typo of it.
func suggest(k string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for _, f := range sortedKeys(fields) {
		if d := editDistance(strings.ToLower(k), f); d < bestD {
			best, bestD = f, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var originRE = regexp.MustCompile(`^[a-zA-Z0-9.\-]+(:[0-9]+)?(/[a-zA-Z0-9._\-]+)*$`)

func validOrigin(o string) bool { return originRE.MatchString(o) && len(o) <= 200 }

// values checks the values of a config whose keys and types are right.
func (c *configCheck) values(cfg Config) {
	if cfg.Format != 1 {
		c.addf("format", "%d is not a format this vigil reads (want 1)", cfg.Format)
	}
	if !validOrigin(cfg.Origin) {
		c.addf("origin", "%q: want a scheme-less URL prefix like example.org/log", cfg.Origin)
	}
	if _, err := age.ParseX25519Recipient(cfg.Recipient); err != nil {
		c.addf("age_recipient", "not an age X25519 recipient (age1...)")
	}
	if v, err := note.NewVerifier(cfg.LogVKey); err != nil {
		c.addf("log_vkey", "not a signed-note verifier key")
	} else if v.Name() != cfg.Origin {
		c.addf("log_vkey", "names the log %q but origin is %q", v.Name(), cfg.Origin)
	}
	if len(cfg.ReceiptSalt) != 32 {
		c.addf("receipt_salt", "must be 32 bytes (base64), not %d", len(cfg.ReceiptSalt))
	}
	if k := cfg.AdvisoryVKey; k != "" {
		if _, err := note.NewVerifier(k); err != nil {
			c.addf("advisory_vkey", "not a signed-note verifier key")
		}
	}
	if k := cfg.Stats.K; k != 0 && (k < 2 || k > 1000) {
		c.addf("stats.k", "%d is out of range 2..1000 (0 or absent: 5)", k)
	}
	if l := cfg.Stats.RegionLevel; l != 0 && (l < 1 || l > 10) {
		c.addf("stats.region_level", "%d is out of range 1..10 (0 or absent: 1)", l)
	}

	in := cfg.Intake
	if n := in.MaxTextBytes; n != 0 && (n < MinTextBytes || n > MaxTextBytes) {
		c.addf("intake.max_text_bytes", "%d is out of range %d..%d (0 or absent: 1048576)", n, MinTextBytes, MaxTextBytes)
	}
	if n := in.MaxFiles; n != 0 && (n < 1 || n > MaxFiles) {
		c.addf("intake.max_files", "%d is out of range 1..%d (0 or absent: 20)", n, MaxFiles)
	}
	if n := in.MaxTotalBytes; n != 0 && (n < MinTotalBytes || n > MaxTotalBytes) {
		c.addf("intake.max_total_bytes", "%d is out of range %d..%d (0 or absent: 2147483648)", n, MinTotalBytes, int64(MaxTotalBytes))
	}
	if p := in.TimePrecision; p != "" {
		d, err := time.ParseDuration(p)
		switch {
		case err != nil:
			c.addf("intake.time_precision", "%q is not a duration like 1h or 24h", p)
		case d < MinPrecision || d > MaxPrecision:
			c.addf("intake.time_precision", "%s is out of range %s..%s", p, MinPrecision, MaxPrecision)
		case d%time.Minute != 0 || (d < 24*time.Hour && (24*time.Hour)%d != 0) || (d > 24*time.Hour && d%(24*time.Hour) != 0):
			// Times are truncated to multiples of the precision: a
			// precision that does not divide the day (or is not a whole
			// number of days) gives boundaries at odd hours.
			c.addf("intake.time_precision", "%s must divide a day evenly (e.g. 15m, 1h, 6h) or be a whole number of days (24h, 168h)", p)
		}
	}
	if n := in.ReceiptAttempts; n < 0 || n > MaxAttempts {
		c.addf("intake.receipt_attempts", "%d is out of range 1..%d (0 or absent: 10)", n, MaxAttempts)
	}
	if w := in.ReceiptWait; w != "" {
		d, err := time.ParseDuration(w)
		switch {
		case err != nil:
			c.addf("intake.receipt_wait", "%q is not a duration like 1m", w)
		case d < MinReceiptWait || d > MaxReceiptWait:
			c.addf("intake.receipt_wait", "%s is out of range %s..%s", w, MinReceiptWait, MaxReceiptWait)
		}
	}

	c.texts("instance.name", cfg.Instance.Name, MaxInstanceName, false)
	c.texts("instance.about", cfg.Instance.About, MaxInstanceAbout, true)

	if p := cfg.Witness; p != nil {
		c.policy(*p)
	}
}

func (c *configCheck) texts(path string, m map[string]string, max int, multiline bool) {
	for _, lang := range sortedKeys(m) {
		k := join(path, lang)
		if langs := Languages(); !containsString(langs, lang) {
			c.addf(k, "no public pages in language %q (have %s)", lang, strings.Join(langs, ", "))
			continue
		}
		s := m[lang]
		switch {
		case strings.TrimSpace(s) == "":
			c.addf(k, "empty (leave the language out to use English)")
		case !utf8.ValidString(s):
			c.addf(k, "not valid UTF-8")
		case utf8.RuneCountInString(s) > max:
			c.addf(k, "%d characters, more than %d", utf8.RuneCountInString(s), max)
		case !multiline && strings.ContainsAny(s, "\n\r\t"):
			c.addf(k, "must be one line")
		}
	}
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (c *configCheck) policy(p witness.Policy) {
	if len(p.Witnesses) == 0 {
		c.addf("witness.witnesses", "empty: name at least one witness, or remove the witness section")
	}
	if len(p.Witnesses) > MaxWitnesses {
		c.addf("witness.witnesses", "%d witnesses, more than %d", len(p.Witnesses), MaxWitnesses)
	}
	names := map[string]bool{}
	required := 0
	for i, w := range p.Witnesses {
		path := fmt.Sprintf("witness.witnesses[%d]", i)
		switch {
		case w.Name == "":
			c.addf(path+".name", "missing")
		case names[w.Name]:
			c.addf(path+".name", "%q repeats an earlier witness's name", w.Name)
		}
		names[w.Name] = true
		if _, err := witness.NewVerifier(w.VKey); err != nil {
			c.addf(path+".vkey", "not a cosignature verifier key (name+id+key, as the witness prints it)")
		}
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.addf(path+".url", "%q: want the witness's http:// or https:// address", w.URL)
		}
		if !w.Optional {
			required++
		}
	}
	if p.Quorum < 0 || p.Quorum > required {
		c.addf("witness.quorum", "%d is out of range 0..%d (the required witnesses; 0 or absent: all of them)", p.Quorum, required)
	}
	if len(c.problems) == 0 {
		// The policy's own check, in case it learns more than this one.
		if err := p.Valid(true); err != nil {
			c.addf("witness", "%v", err)
		}
	}
}

// ReadConfig reads and checks DIR/vigil.json (see [ParseConfig]).
func ReadConfig(dir string) (Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, "vigil.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("%s is not a vigil data directory (hint: create one with vigil init --data %s)", dir, dir)
	}
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(b)
}
