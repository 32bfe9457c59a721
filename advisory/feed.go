package advisory

import (
	"bytes"
	"encoding/xml"
	"time"
)

// Statuses of a published advisory at a time.
const (
	Current   = "current"
	Withdrawn = "withdrawn"
	Expired   = "expired"
	Upcoming  = "upcoming"
	// Withdrawal marks an advisory that withdraws another.
	Withdrawal = "withdrawal"
)

// StatusAt returns the status of a published advisory at now.
func StatusAt(a Published, now time.Time) string {
	switch {
	case !a.Withdraws.IsZero():
		return Withdrawal
	case !a.WithdrawnBy.IsZero():
		return Withdrawn
	case now.Before(a.ValidFrom):
		return Upcoming
	case !now.Before(a.ValidUntil):
		return Expired
	}
	return Current
}

// FeedJSON is /advisories.json: every advisory with its signed note, and
// the signed list that tells which are withdrawn.
type FeedJSON struct {
	// Index is the signed list (a signed note, see [Index]); verify it
	// with the publication key before trusting the statuses below.
	Index      string     `json:"index,omitempty"`
	Advisories []FeedItem `json:"advisories"`
}

// A FeedItem is one advisory in /advisories.json. Note is the signed note;
// everything else is read from it, for convenience.
type FeedItem struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	Issued      time.Time `json:"issued"`
	ValidFrom   time.Time `json:"valid_from"`
	ValidUntil  time.Time `json:"valid_until"`
	Withdraws   string    `json:"withdraws,omitempty"`
	WithdrawnBy string    `json:"withdrawn_by,omitempty"`
	Texts       []Text    `json:"texts"`
	Note        string    `json:"note"`
}

// Feed returns the JSON feed of list with the signed list index.
func Feed(list []Published, index []byte, now time.Time) FeedJSON {
	f := FeedJSON{Index: string(index), Advisories: []FeedItem{}}
	for _, a := range list {
		it := FeedItem{ID: a.ID.String(), Status: StatusAt(a, now), Issued: a.Issued, ValidFrom: a.ValidFrom,
			ValidUntil: a.ValidUntil, Texts: a.Texts, Note: string(a.Note)}
		if !a.Withdraws.IsZero() {
			it.Withdraws = a.Withdraws.String()
		}
		if !a.WithdrawnBy.IsZero() {
			it.WithdrawnBy = a.WithdrawnBy.String()
		}
		f.Advisories = append(f.Advisories, it)
	}
	return f
}

// Atom types (RFC 4287), the subset a feed of advisories uses.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Links     []atomLink `xml:"link"`
	Content   atomText   `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// Atom returns the Atom feed (RFC 4287) of list: one entry per advisory,
// whose content is the signed note as text, linking to its .txt. base is
// the site's absolute URL without a trailing slash (e.g.
// "https://example.org"), name the site's name.
func Atom(list []Published, base, name string) ([]byte, error) {
	if name == "" {
		name = "vigil"
	}
	f := atomFeed{ID: base + "/advisories", Title: name + ": advisories", Author: atomPerson{Name: name},
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/advisories.atom"}, {Rel: "alternate", Type: "text/html", Href: base + "/advisories"}}}
	updated := time.Unix(0, 0).UTC()
	for _, a := range list {
		title := firstLineOf(a.Texts[0].Body)
		if !a.Withdraws.IsZero() {
			title = "Withdrawal of " + a.Withdraws.String() + ": " + title
		} else if !a.WithdrawnBy.IsZero() {
			title = "[withdrawn] " + title
		}
		e := atomEntry{ID: "urn:vigil:advisory:" + a.ID.String(), Title: title,
			Updated: ts(a.Issued), Published: ts(a.Issued),
			Links:   []atomLink{{Rel: "alternate", Type: "text/plain", Href: base + "/advisories/" + a.ID.String() + ".txt"}},
			Content: atomText{Type: "text", Body: string(a.Note)}}
		f.Entries = append(f.Entries, e)
		if a.Issued.After(updated) {
			updated = a.Issued
		}
	}
	f.Updated = ts(updated)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func firstLineOf(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
