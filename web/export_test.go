package web

import "time"

// CoarseTime is page.When for a language, a moment and a precision.
func CoarseTime(lang string, t, now time.Time, precision time.Duration) string {
	cat, err := loadCatalogs()
	if err != nil {
		panic(err)
	}
	p := &public{cat: cat, opt: Options{Now: func() time.Time { return now }}}
	pg := p.newPage(lang, "", "")
	return pg.when(t, precision)
}
