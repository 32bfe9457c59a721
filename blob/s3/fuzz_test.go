package s3_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/blob"
	"github.com/vigil-hr/vigil/blob/s3"
)

// FuzzParseURL checks that ParseURL never panics, never repeats the secret
// of a URL in an error or in the location it prints, and accepts only
// locations whose keys cannot escape their prefix.
func FuzzParseURL(f *testing.F) {
	const secret = "Zq9SECRETx"
	for _, s := range []string{
		"s3://k:" + secret + "@host:9000/bucket/prefix?region=eu",
		"s3+http://k:" + secret + "@127.0.0.1/b",
		"s3://host/bucket/a/b/c/",
		"http://k:" + secret + "@h/b",
		"s3://k:" + secret + "@h/Bad_Bucket",
		"s3://k:" + secret + "@h:99999/b",
		"s3://k:" + secret + "@h/b/../c",
		"s3://%zz",
		"s3://k:" + secret + "@[::1]:9000/bucket?region=%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		l, err := s3.ParseURL(raw)
		if isSecret(raw, secret) {
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("error repeats the secret: %v", err)
			}
			if err == nil && strings.Contains(l.String(), secret) {
				t.Fatalf("location %s repeats the secret", l)
			}
		}
		if err != nil {
			return
		}
		if l.Bucket == "" || l.Endpoint == "" {
			t.Fatalf("accepted %q without bucket or endpoint: %+v", raw, l)
		}
		if l.Prefix != "" && !strings.HasSuffix(l.Prefix, "/") {
			t.Fatalf("prefix %q does not end in /", l.Prefix)
		}
		for _, seg := range strings.Split(strings.TrimSuffix(l.Prefix, "/"), "/") {
			if l.Prefix != "" && (seg == "" || seg == "." || seg == "..") {
				t.Fatalf("prefix %q has segment %q", l.Prefix, seg)
			}
		}
		// A key is PREFIX + NAME: a checked name adds no separator.
		if blob.CheckName(blob.NewName()+"/") == nil {
			t.Fatal("CheckName accepts a slash")
		}
	})
}

// isSecret says whether secret is in raw's password (or raw is no URL and
// holds it anywhere): elsewhere, say in a path, echoing it is fine.
func isSecret(raw, secret string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.Contains(raw, secret)
	}
	pw, _ := u.User.Password()
	if !strings.Contains(pw, secret) && !strings.Contains(u.User.Username(), secret) {
		return false
	}
	// Only there: elsewhere (a host, a path) it is no credential.
	rest := *u
	rest.User = nil
	return !strings.Contains(rest.String(), secret)
}
