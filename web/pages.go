package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
)

// pageNames are the templates in templates/, each with a "content" block
// rendered inside layout.html.
var pageNames = []string{"index", "submit", "receipt", "followup", "thread", "error", "verify", "advisories", "stats", "check"}

var funcs = template.FuncMap{
	"int64": func(n int) int64 { return int64(n) },
	// filesOf pairs a file list with its page, for the "files" template.
	"filesOf": func(pg *page, files []intake.FileInfo) filesData { return filesData{Page: pg, Files: files} },
}

type filesData struct {
	Page  *page
	Files []intake.FileInfo
}

func parsePages() map[string]*template.Template {
	pages := make(map[string]*template.Template)
	for _, name := range pageNames {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assetFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// writtenLanguages are the tags offered in /submit's language select, in
// order; their names come from the catalogs ("langname.TAG").
var writtenLanguages = []string{"ru", "uk", "be", "en", "kk", "ky", "uz", "tg", "tk", "az", "hy", "ka", "ce", "inh", "av", "tt", "ba", "os", "sah"}

func offersLanguage(tag string) bool {
	for _, t := range writtenLanguages {
		if t == tag {
			return true
		}
	}
	return false
}

// A page is what every template gets.
type page struct {
	p    *public
	c    *catalog
	Lang string
	// Switch lists the language links; empty hides them (the receipt page,
	// where leaving would lose the receipt).
	Switch []langLink
	// Title is the page's message key.
	Title string
	// Message is a message key shown as the page's notice or error, with
	// MessageArgs.
	Message     string
	MessageArgs []any
	// Notice shows Message as information (leaving, a session that
	// ended), not as an error: nothing went wrong.
	Notice bool
	// Back is where the error page's "back" link goes.
	Back string

	// The receipt page's receipt is spliced in by renderReceipt, never
	// held by a page, so that it is written once and wiped.
	FileCount int
	View      *intake.View
	CSRF      string
	Sent      bool
}

type langLink struct {
	Tag, Name, URL string
	Current        bool
}

// T returns the message key in the page's language, formatted with args.
func (pg *page) T(key string, args ...any) string {
	s := pg.p.cat.msg(pg.c, key)
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

// Msg returns the page's message, formatted.
func (pg *page) Msg() string { return pg.T(pg.Message, pg.MessageArgs...) }

// L appends the page's language to a local path.
func (pg *page) L(path string) string { return path + "?lang=" + url.QueryEscape(pg.Lang) }

// Name is the instance's name in the page's language.
func (pg *page) Name() string { return pg.instance(pg.p.opt.Instance.Name, "site.default_name") }

// About says who runs this instance.
func (pg *page) About() string { return pg.instance(pg.p.opt.Instance.About, "index.default_about") }

func (pg *page) instance(m map[string]string, key string) string {
	if s := m[pg.Lang]; s != "" {
		return s
	}
	if s := m[fallbackLang]; s != "" {
		return s
	}
	return pg.T(key)
}

// LangName names a written-language tag in the page's language, or returns
// the tag if no catalog names it.
func (pg *page) LangName(tag string) string {
	k := "langname." + tag
	if s := pg.T(k); s != k {
		return s
	}
	return tag
}

// AboutParagraphs is About split at blank lines or line breaks.
func (pg *page) AboutParagraphs() []string {
	var out []string
	for _, l := range strings.Split(pg.About(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Keys are the public keys, for the verifiers' page.
func (pg *page) Keys() Keys { return pg.p.keys }

// Size formats a byte count.
func (pg *page) Size(n int64) string { return pg.p.cat.formatSize(pg.c, n) }

// When says when t (a stored, coarse time) was, in the page's language and
// in the coarsest form a source needs: "today", "yesterday" or a date,
// never the hour. With a time precision over a day it names the window
// ("between 1 and 7 December"): its first day alone would suggest the
// thing happened then. Days are UTC days: the server does not know the
// reader's time zone and asks nothing that would tell it.
func (pg *page) When(t time.Time) string { return pg.when(t, pg.Limits().TimePrecision) }

func (pg *page) when(t time.Time, prec time.Duration) string {
	day := func(x time.Time) time.Time {
		y, m, d := x.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	now := day(pg.p.opt.Now())
	start := day(t)
	if prec > 24*time.Hour {
		if end := day(t.Add(prec - time.Nanosecond)); !end.Equal(start) {
			return pg.T("time.between", pg.date(start, now), pg.date(end, now))
		}
	}
	switch {
	case start.Equal(now):
		return pg.T("time.today")
	case start.Equal(now.AddDate(0, 0, -1)):
		return pg.T("time.yesterday")
	}
	return pg.date(start, now)
}

// date writes a day, without its year if that is the current one.
func (pg *page) date(d, now time.Time) string {
	month := pg.T(fmt.Sprintf("month.%d", int(d.Month())))
	if d.Year() == now.Year() {
		return pg.T("time.date_this_year", d.Day(), month)
	}
	return pg.T("time.date", d.Day(), month, d.Year())
}

// List returns the texts of key.1, key.2, ... in order.
func (pg *page) List(key string) []string {
	var out []string
	for i := 1; ; i++ {
		k := fmt.Sprintf("%s.%d", key, i)
		s := pg.T(k)
		if s == k {
			return out
		}
		out = append(out, s)
	}
}

// Limits returns the intake caps.
func (pg *page) Limits() intake.Config {
	if pg.p.in == nil {
		return intake.Config{}.WithDefaults()
	}
	return pg.p.in.Config.WithDefaults()
}

// WrittenLanguages lists the select's options: tag and name.
func (pg *page) WrittenLanguages() [][2]string {
	out := make([][2]string, 0, len(writtenLanguages))
	for _, t := range writtenLanguages {
		out = append(out, [2]string{t, pg.T("langname." + t)})
	}
	return out
}

// newPage makes a page in lang with language links to switchPath.
func (p *public) newPage(lang, switchPath, title string) *page {
	pg := &page{p: p, c: p.cat.get(lang), Lang: lang, Title: title}
	if pg.c == nil {
		pg.c, pg.Lang = p.cat.get(fallbackLang), fallbackLang
	}
	if switchPath != "" {
		for _, t := range p.cat.tags {
			c := p.cat.get(t)
			pg.Switch = append(pg.Switch, langLink{Tag: t, Name: p.cat.msg(c, "lang.name"),
				URL: switchPath + "?lang=" + url.QueryEscape(t), Current: t == pg.Lang})
		}
	}
	return pg
}

// lang picks the request's UI language from the lang query parameter or
// Accept-Language. POST handlers pass the form's value as explicit.
func (p *public) lang(r *http.Request, explicit string) string {
	if explicit == "" {
		explicit = r.URL.Query().Get("lang")
	}
	return p.cat.negotiate(explicit, r.Header.Get("Accept-Language"))
}

// render writes a page with status.
func (p *public) render(w http.ResponseWriter, status int, name string, pg *page) {
	p.renderData(w, status, name, pg.Lang, pg)
}

// renderData writes template name, in language lang, with data: a *page
// or a type embedding one.
func (p *public) renderData(w http.ResponseWriter, status int, name, lang string, data any) {
	var buf bytes.Buffer
	if err := p.pages[name].Execute(&buf, data); err != nil {
		// A template defect; the error may quote page data, so it is not shown.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail renders the error page with a message key.
func (p *public) fail(w http.ResponseWriter, status int, lang, back, key string, args ...any) {
	if (key == "error.internal" || key == "error.unavailable") && p.opt.InternalError != nil {
		p.opt.InternalError()
	}
	pg := p.newPage(lang, back, "error.title")
	pg.Message, pg.MessageArgs, pg.Back = key, args, back
	p.render(w, status, "error", pg)
}

// failErr renders the error page for an unexpected error (see
// unexpected).
func (p *public) failErr(w http.ResponseWriter, lang, back string, err error) {
	status, key := unexpected(err)
	p.fail(w, status, lang, back, key)
}

// unexpected returns the status and message of an unexpected error: 503
// if the store is unreachable for a moment (vigil.ErrUnavailable), else
// 500.
func unexpected(err error) (status int, key string) {
	if errors.Is(err, vigil.ErrUnavailable) {
		return http.StatusServiceUnavailable, "error.unavailable"
	}
	return http.StatusInternalServerError, "error.internal"
}

func (p *public) index(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(p.lang(r, ""), "/", "index.title")
	p.render(w, http.StatusOK, "index", pg)
}

// verify is the page for verifiers: the log, the keys, bundles, and what
// the site does in a browser. Source pages link to it but carry none of
// its technical words (TestSourcePagesPlainWords).
func (p *public) verify(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(p.lang(r, ""), "/verify", "verify.title")
	p.render(w, http.StatusOK, "verify", pg)
}

func (p *public) notFound(w http.ResponseWriter, r *http.Request) {
	p.fail(w, http.StatusNotFound, p.lang(r, ""), "/", "error.not_found")
}
