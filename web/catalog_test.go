package web

import (
	"regexp"
	"slices"
	"testing"
)

var verbRE = regexp.MustCompile(`%[a-z]`)

// TestCatalogs checks that every catalog has exactly English's keys, with
// the same fmt verbs in the same order, and no empty text.
func TestCatalogs(t *testing.T) {
	cs, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.tags) < 2 {
		t.Fatalf("catalogs: %v", cs.tags)
	}
	en := cs.get(fallbackLang)
	for _, tag := range cs.tags {
		c := cs.get(tag)
		for k, v := range en.msgs {
			s, ok := c.msgs[k]
			if !ok {
				t.Errorf("%s: missing %q", tag, k)
				continue
			}
			if s == "" {
				t.Errorf("%s: %q is empty", tag, k)
			}
			if !slices.Equal(verbRE.FindAllString(v, -1), verbRE.FindAllString(s, -1)) {
				t.Errorf("%s: %q has verbs %v, English %v", tag, k, verbRE.FindAllString(s, -1), verbRE.FindAllString(v, -1))
			}
		}
		for k := range c.msgs {
			if _, ok := en.msgs[k]; !ok {
				t.Errorf("%s: %q is not in English", tag, k)
			}
		}
		for _, l := range writtenLanguages {
			if _, ok := c.msgs["langname."+l]; !ok {
				t.Errorf("%s: no name for written language %s", tag, l)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	cs, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ explicit, accept, want string }{
		{"", "", "en"},
		{"ru", "en", "ru"},
		{"RU", "", "ru"},
		{"xx", "ru-RU,ru;q=0.9", "ru"},
		{"", "en-US,en;q=0.9,ru;q=0.8", "en"},
		{"", "de;q=1,ru;q=0.3", "ru"},
		{"", "ru;q=0.2,en;q=0.7", "en"},
		{"", "ru;q=bogus", "en"},
		{"../../etc", "", "en"},
	} {
		if got := cs.negotiate(tc.explicit, tc.accept); got != tc.want {
			t.Errorf("negotiate(%q, %q) = %q, want %q", tc.explicit, tc.accept, got, tc.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	cs, _ := loadCatalogs()
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 12, "12 B"},
		{"en", 1536, "1.5 KB"},
		{"ru", 1536, "1,5 КБ"},
		{"en", 2 << 30, "2 GB"},
		{"ru", 1 << 20, "1 МБ"},
	} {
		if got := cs.formatSize(cs.get(tc.lang), tc.n); got != tc.want {
			t.Errorf("formatSize(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}

func TestValidFileName(t *testing.T) {
	for name, want := range map[string]bool{
		"фото.jpg": true, "IMG 0001.HEIC": true, "<b>.txt": true, "a'b\"c.pdf": true,
		"": false, ".": false, "..": false, "../a": false, "a/b": false, `a\b`: false,
		"a\x00b": false, "a\nb": false, "a\x7fb": false, "a\u202eb": false, "a\u2066b": false,
		"\xff.jpg": false, string(make([]byte, 256)): false,
	} {
		if got := validFileName(name); got != want {
			t.Errorf("validFileName(%q) = %v, want %v", name, got, want)
		}
	}
}
