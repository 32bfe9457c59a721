package postgres_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/store/postgres"
)

// FuzzParseURL checks that ParseURL never panics, never repeats a URL's
// password in an error, accepts only postgres:// URLs naming a database,
// and that Redact removes the password.
func FuzzParseURL(f *testing.F) {
	const secret = "Zq9SECRETx"
	for _, s := range []string{
		"postgres://u:" + secret + "@localhost:5432/vigil?sslmode=disable",
		"postgresql://u@/vigil?host=/run/postgresql&password=" + secret,
		"postgres://u:" + secret + "@localhost:99999/db",
		"postgres://u:" + secret + "@localhost",
		"mysql://u:" + secret + "@h/db",
		"host=localhost password=" + secret + " dbname=vigil",
		"postgres://u:" + secret + "@h/db?connect_timeout=x",
		"postgres://u:" + secret + "@h/db?sslmode=bogus",
		"postgres://%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := postgres.ParseURL(raw)
		if isPassword(raw, secret) {
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("error repeats the password: %v", err)
			}
			if strings.Contains(postgres.Redact(raw), secret) {
				t.Fatalf("Redact(%q) = %q", raw, postgres.Redact(raw))
			}
		}
		if err != nil {
			return
		}
		if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
			t.Fatalf("accepted %q", raw)
		}
		if cfg.ConnConfig.Database == "" {
			t.Fatalf("accepted %q naming no database", raw)
		}
		if cfg.ConnConfig.RuntimeParams["synchronous_commit"] != "on" {
			t.Fatal("synchronous_commit not forced on")
		}
	})
}

// isPassword says whether secret is in raw's password, as userinfo or as the
// password parameter (or raw is no URL and holds it anywhere).
func isPassword(raw, secret string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.Contains(raw, secret)
	}
	pw, _ := u.User.Password()
	if !strings.Contains(pw, secret) && !strings.Contains(u.Query().Get("password"), secret) {
		return false
	}
	// Only there: elsewhere (a host, a path) it is no password.
	rest := *u
	rest.User = nil
	rest.RawQuery = ""
	return !strings.Contains(rest.String(), secret) && !strings.Contains(u.User.Username(), secret)
}
