package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Every file locales/TAG.json is a catalog: a flat JSON object from message
// key to text, with fmt verbs where a page passes arguments. Adding a
// language is adding a file; English is the fallback for missing keys, and
// TestCatalogs checks that every catalog has English's keys and verbs.
//
//go:embed locales/*.json
var localeFS embed.FS

const fallbackLang = "en"

// A catalog is one language's messages.
type catalog struct {
	tag  string
	msgs map[string]string
}

// catalogs holds every embedded language, sorted by tag.
type catalogs struct {
	byTag map[string]*catalog
	tags  []string
}

func loadCatalogs() (*catalogs, error) {
	ents, err := localeFS.ReadDir("locales")
	if err != nil {
		return nil, err
	}
	cs := &catalogs{byTag: make(map[string]*catalog)}
	for _, e := range ents {
		tag := strings.TrimSuffix(e.Name(), ".json")
		b, err := localeFS.ReadFile(path.Join("locales", e.Name()))
		if err != nil {
			return nil, err
		}
		c := &catalog{tag: tag}
		if err := json.Unmarshal(b, &c.msgs); err != nil {
			return nil, fmt.Errorf("locale %s: %w", e.Name(), err)
		}
		cs.byTag[tag] = c
		cs.tags = append(cs.tags, tag)
	}
	if cs.byTag[fallbackLang] == nil {
		return nil, fmt.Errorf("locale %s.json missing", fallbackLang)
	}
	sort.Strings(cs.tags)
	return cs, nil
}

// get returns the catalog for tag, or nil.
func (cs *catalogs) get(tag string) *catalog { return cs.byTag[strings.ToLower(tag)] }

// msg returns the text of key in c, else in English, else the key itself.
func (cs *catalogs) msg(c *catalog, key string) string {
	if s, ok := c.msgs[key]; ok {
		return s
	}
	if s, ok := cs.byTag[fallbackLang].msgs[key]; ok {
		return s
	}
	return key
}

// negotiate picks the UI language: an explicit choice if it names a
// catalog, else the best Accept-Language match by primary subtag, else
// English.
func (cs *catalogs) negotiate(explicit, acceptLanguage string) string {
	if c := cs.get(explicit); c != nil {
		return c.tag
	}
	best, bestQ := "", 0.0
	for i, part := range strings.Split(acceptLanguage, ",") {
		if i > 32 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if c := cs.get(primary); c != nil && q > bestQ {
			best, bestQ = c.tag, q
		}
	}
	if best != "" {
		return best
	}
	return fallbackLang
}

// formatSize writes a byte count for people, in c's units.
func (cs *catalogs) formatSize(c *catalog, n int64) string {
	if n < 1000 {
		return fmt.Sprintf(cs.msg(c, "size.B"), n)
	}
	units := []string{"size.KB", "size.MB", "size.GB"}
	v, u := float64(n)/1024, 0
	for v >= 1000 && u < len(units)-1 {
		v /= 1024
		u++
	}
	num := strconv.FormatFloat(v, 'f', 1, 64)
	num = strings.TrimSuffix(num, ".0")
	num = strings.Replace(num, ".", cs.msg(c, "size.decimal"), 1)
	return fmt.Sprintf(cs.msg(c, units[u]), num)
}

// Languages returns the tags of the public pages' languages, sorted: the
// languages vigil.json's instance texts may be written in.
func Languages() []string {
	cs, err := loadCatalogs()
	if err != nil {
		return nil
	}
	return cs.tags
}
