package staffweb

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/audit"
)

// An AuditTrail reads the audit events newest first; *audit.Trail
// implements it.
type AuditTrail interface {
	Read(ctx context.Context, f audit.Filter, after vigil.ID, limit int) (audit.Page, error)
}

var _ AuditTrail = (*audit.Trail)(nil)

// auditPageSize is the number of events on a page of the audit trail.
const auditPageSize = 50

// An auditRow is an event as the audit page shows it.
type auditRow struct {
	audit.Entry
	Who    string // the actor, readable
	Href   string // the target's page, if it has one
	Target string
}

// An auditChoice is an option of a filter.
type auditChoice struct {
	Value, Label string
	Selected     bool
}

type auditData struct {
	Rows     []auditRow
	Total    int
	Next     string // the last event of the page, "" on the last page
	Actor    string // the filters' values, for the next page's link
	Action   string
	Actors   []auditChoice
	Actions  []auditChoice
	Filtered bool
	First    bool // the first page
}

// actorToken names an actor in the filter's URL without spelling out the
// account name: a keyed hash, with a key that lives as long as the server.
func (s *Server) actorToken(actor string) string {
	st := s.insight()
	st.mu.Lock()
	if st.actorKey == nil {
		st.actorKey = make([]byte, 32)
		rand.Read(st.actorKey)
	}
	key := st.actorKey
	st.mu.Unlock()
	m := hmac.New(sha256.New, key)
	m.Write([]byte(actor))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:9])
}

// actorName makes an actor readable: an account's or token's name, or
// "command line".
func actorName(v *view, actor string) string {
	kind, rest, ok := strings.Cut(actor, ":")
	if !ok {
		if actor == "cli" {
			return v.T("insight.audit.cli")
		}
		return actor
	}
	_, name, ok := strings.Cut(rest, "/")
	if !ok {
		return actor
	}
	switch kind {
	case "account":
		return name
	case "token":
		return v.T("insight.audit.token", name)
	}
	return actor
}

// auditPage lists the audit trail newest first, 50 events a page; ?actor=
// (an opaque token) and ?action= (a verb) filter it, ?after= (an event ID)
// pages it.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	if s.Audit == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	q := r.URL.Query()
	var f audit.Filter
	var after vigil.ID
	if a := q.Get("after"); a != "" {
		id, err := vigil.ParseID(a)
		if err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
			return
		}
		after = id
	}
	all, err := s.Audit.Read(r.Context(), audit.Filter{}, vigil.ID{}, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tok, verb := q.Get("actor"), q.Get("action")
	if tok != "" {
		for _, a := range all.Actors {
			if s.actorToken(a) == tok {
				f.Actor = a
			}
		}
		if f.Actor == "" {
			s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
			return
		}
	}
	if verb != "" {
		if !slices.Contains(all.Actions, verb) {
			s.errorPage(w, r, http.StatusBadRequest, "err.invalid")
			return
		}
		f.Action = verb
	}
	p, err := s.Audit.Read(r.Context(), f, after, auditPageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &auditData{Total: p.Total, Filtered: f != audit.Filter{}, First: after.IsZero()}
	v := s.newView(r, "insight.audit.title", d)
	for _, a := range p.Actors {
		t := s.actorToken(a)
		d.Actors = append(d.Actors, auditChoice{Value: t, Label: actorName(v, a), Selected: a == f.Actor})
	}
	slices.SortFunc(d.Actors, func(a, b auditChoice) int { return strings.Compare(a.Label, b.Label) })
	for _, a := range p.Actions {
		d.Actions = append(d.Actions, auditChoice{Value: a, Label: a, Selected: a == f.Action})
	}
	for _, e := range p.Entries {
		row := auditRow{Entry: e, Who: actorName(v, e.Actor), Target: e.Target}
		if _, kind, ok := strings.Cut(e.Action, ":"); ok && e.Target != "" {
			if path, ok := recordPaths[kind]; ok {
				row.Href = path + e.Target
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if !p.Next.IsZero() {
		d.Next, d.Actor, d.Action = p.Next.String(), tok, verb
	}
	s.render(w, http.StatusOK, "insight_audit", v)
}
