// Package staffhost decides which Host names the staff listener answers
// to, against DNS rebinding: a page on a hostile name that resolves to
// 127.0.0.1 must not reach the staff API or UI with the browser's help.
package staffhost

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

// Known reports whether r's Host is an IP address, localhost or one of
// extra (vigil serve --staff-host and the --staff-origin's host), compared
// without case, a port or a trailing dot.
func Known(r *http.Request, extra []string) bool {
	host := r.Host
	if hp, _, err := net.SplitHostPort(host); err == nil {
		host = hp
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") ||
		slices.ContainsFunc(extra, func(a string) bool { return strings.EqualFold(a, host) })
}
