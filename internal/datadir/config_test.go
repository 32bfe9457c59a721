package datadir_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/internal/datadir"
)

// initConfig makes a data directory and returns its vigil.json as a map.
func initConfig(t *testing.T) (dir string, cfg map[string]any) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "d")
	if _, err := datadir.Init(dir, []byte("config test passphrase"), datadir.Options{Origin: "example.org/log", WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "vigil.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

func set(m map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

func clone(t *testing.T, m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

const witnessVKey = "w.example/w+dfba61c3+BCoXuwiSE+l50m0MStBj/TPy6Mji1RxlvKN0uXi68DDO"

// Every documented limit of vigil.json is refused with the key's path, and
// Open refuses the directory without changing it.
func TestConfigRefusals(t *testing.T) {
	dir, base := initConfig(t)
	goodWitness := map[string]any{"name": "w", "vkey": witnessVKey, "url": "https://w.example/"}
	for _, test := range []struct {
		name string
		path string
		val  any
		want string
	}{
		{"unknown top-level key", "intak", map[string]any{}, "vigil.json: intak: unknown key (did you mean intake?)"},
		{"unknown intake key", "intake.max_filez", 3, "vigil.json: intake.max_filez: unknown key (did you mean max_files?)"},
		{"unknown key without a near one", "intake.colour", 3, "vigil.json: intake.colour: unknown key\n"},
		{"unknown instance key", "instance.nmae", map[string]any{}, "vigil.json: instance.nmae: unknown key (did you mean name?)"},
		{"string for a number", "intake.max_files", "20", `vigil.json: intake.max_files: want a whole number, not the string "20"`},
		{"fraction for a number", "intake.max_files", 2.5, "vigil.json: intake.max_files: want a whole number, not 2.5"},
		{"number for a duration", "intake.time_precision", 3600, "vigil.json: intake.time_precision: want a string, not the number 3600"},
		{"list for a section", "intake", []any{}, "vigil.json: intake: want an object, not a list"},
		{"format", "format", 2, "vigil.json: format: 2 is not a format this vigil reads (want 1)"},
		{"origin", "origin", "https://example.org/log", "vigil.json: origin: \"https://example.org/log\": want a scheme-less URL prefix"},
		{"age recipient", "age_recipient", "age1nope", "vigil.json: age_recipient: not an age X25519 recipient"},
		{"log key", "log_vkey", "nope", "vigil.json: log_vkey: not a signed-note verifier key"},
		{"receipt salt", "receipt_salt", "AAAA", "vigil.json: receipt_salt: must be 32 bytes (base64), not 3"},
		{"text too small", "intake.max_text_bytes", 100, "vigil.json: intake.max_text_bytes: 100 is out of range 1024..16777216"},
		{"text too large", "intake.max_text_bytes", 1 << 30, "vigil.json: intake.max_text_bytes: 1073741824 is out of range"},
		{"negative files", "intake.max_files", -1, "vigil.json: intake.max_files: -1 is out of range 1..1000"},
		{"too many files", "intake.max_files", 1001, "vigil.json: intake.max_files: 1001 is out of range 1..1000"},
		{"total too small", "intake.max_total_bytes", 1000, "vigil.json: intake.max_total_bytes: 1000 is out of range 1048576..1099511627776"},
		{"precision not a duration", "intake.time_precision", "hourly", `vigil.json: intake.time_precision: "hourly" is not a duration`},
		{"precision too fine", "intake.time_precision", "10s", "vigil.json: intake.time_precision: 10s is out of range 1m0s..720h0m0s"},
		{"precision too coarse", "intake.time_precision", "1000h", "vigil.json: intake.time_precision: 1000h is out of range"},
		{"precision not dividing a day", "intake.time_precision", "7h", "vigil.json: intake.time_precision: 7h must divide a day evenly"},
		{"precision not whole days", "intake.time_precision", "36h", "vigil.json: intake.time_precision: 36h must divide a day evenly"},
		{"negative precision", "intake.time_precision", "-1h", "vigil.json: intake.time_precision: -1h is out of range"},
		{"negative attempts", "intake.receipt_attempts", -1, "vigil.json: intake.receipt_attempts: -1 is out of range 1..1000"},
		{"receipt wait", "intake.receipt_wait", "soon", `vigil.json: intake.receipt_wait: "soon" is not a duration`},
		{"receipt wait too long", "intake.receipt_wait", "48h", "vigil.json: intake.receipt_wait: 48h is out of range 1s..24h0m0s"},
		{"instance language", "instance.name", map[string]any{"de": "Wache"}, `vigil.json: instance.name.de: no public pages in language "de" (have en, ru)`},
		{"instance name empty", "instance.name", map[string]any{"en": " "}, "vigil.json: instance.name.en: empty"},
		{"instance name long", "instance.name", map[string]any{"ru": strings.Repeat("я", 101)}, "vigil.json: instance.name.ru: 101 characters, more than 100"},
		{"instance name two lines", "instance.name", map[string]any{"en": "a\nb"}, "vigil.json: instance.name.en: must be one line"},
		{"instance about long", "instance.about", map[string]any{"en": strings.Repeat("a", 1001)}, "vigil.json: instance.about.en: 1001 characters, more than 1000"},
		{"instance name not text", "instance.name", map[string]any{"en": 1}, "vigil.json: instance.name.en: want a string, not the number 1"},
		{"no witnesses", "witness", map[string]any{"witnesses": []any{}}, "vigil.json: witness.witnesses: empty"},
		{"unknown witness key", "witness", map[string]any{"witnesses": []any{map[string]any{"name": "w", "vkey": witnessVKey, "url": "https://w.example/", "optinal": true}}}, "vigil.json: witness.witnesses[0].optinal: unknown key (did you mean optional?)"},
		{"witness key", "witness", map[string]any{"witnesses": []any{map[string]any{"name": "w", "vkey": "nope", "url": "https://w.example/"}}}, "vigil.json: witness.witnesses[0].vkey: not a cosignature verifier key"},
		{"witness url", "witness", map[string]any{"witnesses": []any{map[string]any{"name": "w", "vkey": witnessVKey, "url": "ftp://w.example/"}}}, `vigil.json: witness.witnesses[0].url: "ftp://w.example/": want the witness's http:// or https:// address`},
		{"witness name repeated", "witness", map[string]any{"witnesses": []any{goodWitness, goodWitness}}, `vigil.json: witness.witnesses[1].name: "w" repeats`},
		{"witness quorum", "witness", map[string]any{"quorum": 2, "witnesses": []any{goodWitness}}, "vigil.json: witness.quorum: 2 is out of range 0..1"},
		{"witness optional flag", "witness", map[string]any{"witnesses": []any{map[string]any{"name": "w", "vkey": witnessVKey, "url": "https://w.example/", "optional": "yes"}}}, `vigil.json: witness.witnesses[0].optional: want true or false, not the string "yes"`},
	} {
		t.Run(test.name, func(t *testing.T) {
			cfg := clone(t, base)
			set(cfg, test.path, test.val)
			b, _ := json.MarshalIndent(cfg, "", "  ")
			_, err := datadir.ParseConfig(b)
			if err == nil {
				t.Fatalf("accepted %s = %v", test.path, test.val)
			}
			if !errors.Is(err, vigil.ErrInvalid) {
				t.Errorf("error is not ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error()+"\n", test.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, test.want)
			}
			// Open refuses it too, and changes nothing.
			p := filepath.Join(dir, "vigil.json")
			good, _ := os.ReadFile(p)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(p, good, 0o644)
			if d, err := datadir.Open(t.Context(), dir); err == nil {
				d.Close()
				t.Fatalf("Open accepted %s = %v", test.path, test.val)
			} else if !strings.Contains(err.Error()+"\n", test.want) {
				t.Errorf("Open: %v", err)
			}
			if after, _ := os.ReadFile(p); string(after) != string(b) {
				t.Error("Open changed vigil.json")
			}
		})
	}
}

// Every problem is reported, not just the first; documented values pass.
func TestConfigAllProblemsAndGoodValues(t *testing.T) {
	dir, base := initConfig(t)
	cfg := clone(t, base)
	set(cfg, "intake.max_filez", 3)
	set(cfg, "intake.colour", 3)
	b, _ := json.Marshal(cfg)
	_, err := datadir.ParseConfig(b)
	var ce *datadir.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 2 {
		t.Fatalf("want two problems, got %v", err)
	}
	cfg = clone(t, base)
	set(cfg, "intake.time_precision", "15m")
	set(cfg, "intake.max_files", 1)
	set(cfg, "intake.max_text_bytes", 1024)
	set(cfg, "intake.max_total_bytes", 1<<40)
	set(cfg, "intake.receipt_attempts", 1000)
	set(cfg, "intake.receipt_wait", "1s")
	set(cfg, "instance.name", map[string]any{"en": "Crimea Watch", "ru": "Крым: мониторинг"})
	set(cfg, "instance.about", map[string]any{"en": "We document.\nWe verify.", "ru": "Мы документируем."})
	set(cfg, "witness", map[string]any{"quorum": 1, "witnesses": []any{map[string]any{"name": "w", "vkey": witnessVKey, "url": "https://w.example/"}}})
	b, _ = json.Marshal(cfg)
	got, err := datadir.ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Intake.TimePrecision != "15m" || got.Instance.Name["ru"] != "Крым: мониторинг" || got.Witness.Quorum != 1 {
		t.Errorf("parsed %+v", got)
	}
	for _, p := range []string{"24h", "168h", "1m", "6h", "720h"} {
		set(cfg, "intake.time_precision", p)
		b, _ = json.Marshal(cfg)
		if _, err := datadir.ParseConfig(b); err != nil {
			t.Errorf("time_precision %s: %v", p, err)
		}
	}
	if _, err := datadir.ReadConfig(dir); err != nil {
		t.Errorf("vigil init's own config: %v", err)
	}
	for _, bad := range []string{"", "[]", "{} {}", "{"} {
		if _, err := datadir.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// FuzzParseConfig: ParseConfig never panics, and what it accepts it
// accepts again after a round trip through encoding/json.
func FuzzParseConfig(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "d")
	if _, err := datadir.Init(dir, []byte("config fuzz passphrase"), datadir.Options{Origin: "example.org/log", WorkFactor: 10}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "vigil.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"intake": {"max_filez": 1, "time_precision": "7h"}, "instance": {"name": {"de": ""}}}`))
	f.Add([]byte(`{"witness": {"quorum": -1, "witnesses": [{"name": "w", "vkey": "x", "url": "ftp://"}]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := datadir.ParseConfig(b)
		if err != nil {
			var ce *datadir.ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("error is not a ConfigError with problems: %v", err)
			}
			for _, p := range ce.Problems {
				if !strings.HasPrefix(p, "vigil.json: ") {
					t.Fatalf("problem without the file's name: %q", p)
				}
			}
			return
		}
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := datadir.ParseConfig(again); err != nil {
			t.Fatalf("accepted %q but not its round trip %q: %v", b, again, err)
		}
	})
}
