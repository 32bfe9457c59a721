package staffweb

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/account"
	"github.com/vigil-hr/vigil/intake"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed locales/*.json
var localeFS embed.FS

// langs are the UI's languages; English is the fallback.
var langs = []string{"en", "ru"}

// LangCookie keeps a browser's language choice (a preference, not a
// secret).
const LangCookie = "vigil-lang"

// filesData is what the "files" template gets.
type filesData struct {
	V     *view
	Sub   vigil.ID
	Files []intake.FileInfo
}

var funcs = template.FuncMap{
	"files": func(v *view, sub vigil.ID, f []intake.FileInfo) filesData { return filesData{v, sub, f} },
	"isImage": func(mt string) bool {
		return inlineTypes[mt] && strings.HasPrefix(mt, "image/")
	},
	"isPDF": func(mt string) bool { return mt == "application/pdf" },
}

// parsePages parses layout.html with each page template.
func parsePages() map[string]*template.Template {
	ents, err := templateFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, e := range ents {
		if e.Name() == "layout.html" {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+e.Name()))
		out[strings.TrimSuffix(e.Name(), ".html")] = t
	}
	return out
}

// loadCatalogs reads the message catalogs: locales/LANG.json and
// locales/AREA.LANG.json (one file per area of the UI), merged per
// language. A key in two files of a language is a bug.
func loadCatalogs() map[string]map[string]string {
	ents, err := localeFS.ReadDir("locales")
	if err != nil {
		panic(err)
	}
	out := map[string]map[string]string{}
	for _, l := range langs {
		out[l] = map[string]string{}
	}
	for _, e := range ents {
		name := strings.TrimSuffix(e.Name(), ".json")
		l := name[strings.LastIndexByte(name, '.')+1:]
		cat, ok := out[l]
		if !ok {
			panic(fmt.Sprintf("locale file %s: no language %q", e.Name(), l))
		}
		b, err := localeFS.ReadFile(path.Join("locales", e.Name()))
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("locale %s: %v", e.Name(), err))
		}
		for k, v := range m {
			if _, dup := cat[k]; dup {
				panic(fmt.Sprintf("locale %s: key %q is already in another %s file", e.Name(), k, l))
			}
			cat[k] = v
		}
	}
	return out
}

// lang picks the page's language: the browser's choice (the language
// switch's cookie), else the account's language, else Accept-Language,
// else English.
func (s *Server) lang(r *http.Request, i account.Info) string {
	if c, err := r.Cookie(LangCookie); err == nil && s.cats[c.Value] != nil {
		return c.Value
	}
	if s.cats[i.Account.Language] != nil {
		return i.Account.Language
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag, _, _ = strings.Cut(strings.ToLower(tag), "-")
		if s.cats[tag] != nil {
			return tag
		}
	}
	return "en"
}

// A view is what every page template gets.
type view struct {
	Lang, Other string // the page's language and the switch's target
	Title       string // message key of the page's heading
	Signed      bool   // a signed-in session (shows the seal and logout buttons)
	Session     account.Info
	Sealed      bool   // the vault is sealed
	Path        string // the page's path, for the language switch
	Error       string // message (already translated) to show as an alert
	Notice      string
	Data        any
	msgs        map[string]string
	en          map[string]string
}

// Section is the first segment of the page's path ("incidents" for
// /incidents/ID), for the navigation's current item.
func (v *view) Section() string {
	s, _, _ := strings.Cut(strings.TrimPrefix(v.Path, "/"), "/")
	return s
}

// Can reports whether the session's role allows action a (a
// vigil.Action's name), for showing only what the role can use.
func (v *view) Can(a string) bool {
	return v.Session.Account.Role.Valid() && v.Session.Account.Principal().Can(vigil.Action(a))
}

// T returns message key translated, formatted with args.
func (v *view) T(key string, args ...any) string {
	m, ok := v.msgs[key]
	if !ok {
		m, ok = v.en[key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

var ruMonths = []string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}

// Date formats a (coarse) time in the page's language, in UTC.
func (v *view) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	if v.Lang == "ru" {
		return fmt.Sprintf("%d %s %d г., %02d:%02d UTC", t.Day(), ruMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute())
	}
	return t.Format("2 Jan 2006, 15:04 UTC")
}

// Num formats an integer with the language's digit grouping: "12,345" in
// English, "12 345" (narrow no-break space) in Russian.
func (v *view) Num(n any) string {
	var x int64
	switch n := n.(type) {
	case int:
		x = int64(n)
	case int64:
		x = n
	}
	s := strconv.FormatInt(x, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if v.Lang == "ru" {
		sep = "\u202f"
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Bytes formats a size.
func (v *view) Bytes(n int64) string {
	switch {
	case n >= 1<<20:
		return v.T("unit.mib", float64(n)/(1<<20))
	case n >= 1<<10:
		return v.T("unit.kib", float64(n)/(1<<10))
	}
	return v.T("unit.bytes", v.Num(n))
}

// newView prepares the view of r.
func (s *Server) newView(r *http.Request, title string, data any) *view {
	i, signed := s.Sessions.Session(r)
	if si := session(r); si.CSRF != "" {
		i, signed = si, true
	}
	l := s.lang(r, i)
	other := "ru"
	if l == "ru" {
		other = "en"
	}
	return &view{Lang: l, Other: other, Title: title, Signed: signed, Session: i, Sealed: s.Vault.Sealed(),
		Path: r.URL.Path, Data: data, msgs: s.cats[l], en: s.cats["en"]}
}

// render writes page name with v.
func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, v); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// page renders page name with status 200.
func (s *Server) page(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	s.render(w, http.StatusOK, name, s.newView(r, title, data))
}

// errorPage renders the error page with message key.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	v := s.newView(r, "title.error", nil)
	v.Error = v.T(key, args...)
	s.render(w, status, "error", v)
}

// fail renders the page for err.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, key := errKey(err)
	var th *account.ThrottledError
	if errors.As(err, &th) {
		s.errorPage(w, r, status, key, int(th.Wait.Seconds()+0.999))
		return
	}
	s.errorPage(w, r, status, key)
}

// LangName names a language tag in the page's language, or returns the
// tag itself when the UI has no name for it.
func (v *view) LangName(tag string) string {
	if m, ok := v.msgs["lang."+tag]; ok {
		return m
	}
	return tag
}
