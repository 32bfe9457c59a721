package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/store/postgres"
	"github.com/vigil-hr/vigil/vault"
)

// testSource returns a source of a random identity, thread key and
// submission (their values do not matter to the session store).
func testSource(t *testing.T) *intake.Source {
	t.Helper()
	id, err := vault.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1+16+32)
	b[0] = 1
	rand.Read(b[1:])
	src, err := intake.ImportSource(id.AppendEncode(b))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// A seal wipes the keys of the sessions requests are using and deletes
// every row; a server that is only stopping wipes its keys and keeps the
// rows for the other servers.
func TestSharedSessionsSealWipes(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stopping := false
	s := newSharedSessions(db, 30*time.Minute, time.Hour, time.Now, func() bool { return stopping })
	inUse := func() (*session, string) {
		t.Helper()
		value, err := s.create(ctx, testSource(t))
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/followup/thread", nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		_, ss, expired, err := s.get(r)
		if err != nil || ss == nil || expired {
			t.Fatalf("get: %v %v %v", ss, expired, err)
		}
		if _, err := ss.src.AppendExport(nil); err != nil {
			t.Fatalf("a session in use has no key: %v", err)
		}
		return ss, value
	}
	ss, _ := inUse()
	stopping = true
	s.forgetAll()
	if _, err := ss.src.AppendExport(nil); err == nil {
		t.Fatal("stopping did not wipe the key of a session in use")
	}
	if n, err := db.DeleteSessions(ctx, time.Now().Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("stopping left %d rows (%v), want the 1 row kept", n, err)
	}
	stopping = false
	ss, _ = inUse()
	s.forgetAll()
	if _, err := ss.src.AppendExport(nil); err == nil {
		t.Fatal("a seal did not wipe the key of a session in use")
	}
	if n, err := db.DeleteSessions(ctx, time.Time{}); err != nil || n != 0 {
		t.Fatalf("a seal left %d rows (%v)", n, err)
	}
}
