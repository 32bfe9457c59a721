// Package web serves vigil's public listener: the evidence log as C2SP
// tlog-tiles under /log/, the public keys at /.well-known/vigil.json, and
// (in later releases) the intake pages.
//
// Every response carries a strict Content-Security-Policy, no referrer and no
// sniffing. Nothing about a request (address, user agent, referrer) is logged
// or stored.
package web

import (
	"encoding/json"
	"net/http"

	"github.com/vigil-hr/vigil/evlog"
)

// Keys is served at /.well-known/vigil.json.
type Keys struct {
	Origin       string `json:"origin"`
	LogVKey      string `json:"log_vkey"`
	AgeRecipient string `json:"age_recipient"`
	LogURL       string `json:"log_prefix"` // path of the tlog-tiles prefix, "/log/"
}

// NewPublic returns the public listener's handler.
func NewPublic(log evlog.Source, keys Keys) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/log/", http.StripPrefix("/log", evlog.Handler(log)))
	keys.LogURL = "/log/"
	wk, _ := json.MarshalIndent(keys, "", "  ")
	mux.HandleFunc("GET /.well-known/vigil.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		w.Write(append(wk, '\n'))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(indexHTML))
	})
	return secure(mux)
}

const indexHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil</title></head>
<body>
<h1>vigil</h1>
<p>This server keeps an evidence log. Its public keys are at <a href="/.well-known/vigil.json">/.well-known/vigil.json</a>;
the log is served read-only under <a href="/log/checkpoint">/log/</a> (C2SP tlog-tiles).</p>
</body></html>
`

// secure sets the headers every public response carries.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		// The log and keys are public data meant to be fetched by verifiers.
		if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/log/" || r.URL.Path == "/.well-known/vigil.json" {
			hd.Set("Access-Control-Allow-Origin", "*")
		}
		h.ServeHTTP(w, r)
	})
}
