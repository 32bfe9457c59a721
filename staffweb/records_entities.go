package staffweb

import (
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
)

// An entity kind is people, places or parties: a list, a detail page and
// one form for create and edit.
type entityKind struct {
	Kind   string // cases.Kind...
	Path   string // "/people"
	Title  string // message keys of the list and detail pages
	One    string
	Fields []string
	// values fills the form from a record; parse reads the form onto
	// the current document (zero for a create).
	values func(d cases.Doc, lang string) url.Values
	parse  func(p *parser, d cases.Doc, private bool) cases.Doc
}

var (
	personKind = entityKind{Kind: cases.KindPerson, Path: "/people", Title: "records.title.people", One: "records.title.person",
		Fields: []string{"pseudonym", "private.names", "private.identifiers", "private.contacts"},
		values: func(d cases.Doc, _ string) url.Values {
			v := d.(vigil.Person)
			vals := url.Values{"pseudonym": {v.Pseudonym}}
			if pv := v.Private; pv != nil {
				var names, ids, contacts []string
				for _, n := range pv.Names {
					names = append(names, n.Script+" "+n.Name)
				}
				for _, n := range pv.Identifiers {
					ids = append(ids, n.Kind+" "+n.Value)
				}
				for _, n := range pv.Contacts {
					contacts = append(contacts, n.Kind+" "+n.Value)
				}
				vals.Set("private.names", strings.Join(names, "\n"))
				vals.Set("private.identifiers", strings.Join(ids, "\n"))
				vals.Set("private.contacts", strings.Join(contacts, "\n"))
			}
			return vals
		},
		parse: func(p *parser, d cases.Doc, private bool) cases.Doc {
			v, _ := d.(vigil.Person)
			v.Pseudonym = p.str("pseudonym")
			if !private {
				// Who may not read private fields does not write them
				// either (and cannot: only readers of them write cases).
				return v
			}
			pv := &vigil.PersonPrivate{}
			for _, l := range p.lines("private.names") {
				pv.Names = append(pv.Names, vigil.PersonName{Script: l[0], Name: l[1]})
			}
			for _, l := range p.lines("private.identifiers") {
				pv.Identifiers = append(pv.Identifiers, vigil.Identifier{Kind: l[0], Value: l[1]})
			}
			for _, l := range p.lines("private.contacts") {
				pv.Contacts = append(pv.Contacts, vigil.Contact{Kind: l[0], Value: l[1]})
			}
			v.Private = nil
			if len(pv.Names)+len(pv.Identifiers)+len(pv.Contacts) > 0 {
				v.Private = pv
			}
			return v
		}}
	placeKind = entityKind{Kind: cases.KindPlace, Path: "/places", Title: "records.title.places", One: "records.title.place",
		Fields: []string{"names.en", "names.ru", "names", "kind", "parent", "coordinates.lat", "coordinates.lon"},
		values: func(d cases.Doc, _ string) url.Values {
			v := d.(vigil.Place)
			vals := url.Values{"names.en": {v.Names["en"]}, "names.ru": {v.Names["ru"]}, "kind": {v.Kind}, "parent": {idVal(v.Parent)}}
			if c := v.Coordinates; c != nil {
				vals.Set("coordinates.lat", strconv.FormatFloat(c.Lat, 'f', -1, 64))
				vals.Set("coordinates.lon", strconv.FormatFloat(c.Lon, 'f', -1, 64))
			}
			return vals
		},
		parse: func(p *parser, d cases.Doc, _ bool) cases.Doc {
			v, _ := d.(vigil.Place)
			// Names in other languages (from an import) are kept.
			v.Names = maps.Clone(v.Names)
			if v.Names == nil {
				v.Names = map[string]string{}
			}
			for _, l := range []string{"en", "ru"} {
				if n := p.str("names." + l); n != "" {
					v.Names[l] = n
				} else {
					delete(v.Names, l)
				}
			}
			v.Kind, v.Parent = p.str("kind"), p.ref("parent", cases.KindPlace)
			lat, okLat := p.float("coordinates.lat")
			lon, okLon := p.float("coordinates.lon")
			v.Coordinates = nil
			if okLat || okLon {
				v.Coordinates = &vigil.Coordinates{Lat: lat, Lon: lon}
			}
			return v
		}}
	partyKind = entityKind{Kind: cases.KindParty, Path: "/parties", Title: "records.title.parties", One: "records.title.party",
		Fields: []string{"name", "parent"},
		values: func(d cases.Doc, _ string) url.Values {
			v := d.(vigil.Party)
			return url.Values{"name": {v.Name}, "parent": {idVal(v.Parent)}}
		},
		parse: func(p *parser, d cases.Doc, _ bool) cases.Doc {
			v, _ := d.(vigil.Party)
			v.Name, v.Parent = p.str("name"), p.ref("parent", cases.KindParty)
			return v
		}}
)

// A namedAct is an act listed on the page of a record it names.
type namedAct struct {
	cases.ActResult
	Incident ref
}

type entityRow struct {
	ref
	Meta string
}

type entityData struct {
	K       entityKind
	Rows    []entityRow
	Next    vigil.ID
	After   vigil.ID
	Form    *form
	ID      vigil.ID // detail page
	Version int64
	Doc     cases.Doc
	Parent  ref
	Kids    []ref
	Acts    []namedAct // acts that name the record
	Private bool       // the form shows private fields
}

func (s *Server) entitiesView(r *http.Request, k entityKind, f *form) (*view, error) {
	recs, next, err := s.list(r, k.Kind)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, k.Title, nil)
	d := entityData{K: k, Next: next, After: after(r), Form: f, Private: v.Can(string(vigil.ReadPrivate))}
	for _, rec := range recs {
		row := entityRow{ref: ref{ID: rec.ID, Name: docName(rec.Doc, v.Lang), Href: hrefOf(rec.Kind, rec.ID)}}
		if pl, ok := rec.Doc.(vigil.Place); ok {
			row.Meta = pl.Kind
		}
		d.Rows = append(d.Rows, row)
	}
	v.Data = d
	return v, nil
}

func (s *Server) entityView(r *http.Request, k entityKind, id vigil.ID, f *form) (*view, error) {
	ctx, p := r.Context(), principal(r)
	rec, err := s.getDoc(ctx, p, id, k.Kind)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, k.One, nil)
	n := s.names(r, v.Lang)
	d := entityData{K: k, Form: f, ID: id, Version: rec.Version, Doc: rec.Doc, Private: v.Can(string(vigil.ReadPrivate))}
	if d.Form == nil {
		d.Form = newForm(k.values(rec.Doc, v.Lang))
		d.Form.Values.Set("version", strconv.FormatInt(rec.Version, 10))
	}
	switch x := rec.Doc.(type) {
	case vigil.Place:
		d.Parent = n.of(x.Parent)
	case vigil.Party:
		d.Parent = n.of(x.Parent)
	}
	if an, ok := s.Cases.(actsNamer); ok {
		acts, err := an.ActsNaming(ctx, p, id, pageSize)
		if err != nil {
			return nil, err
		}
		for _, a := range acts {
			d.Acts = append(d.Acts, namedAct{ActResult: a, Incident: n.of(a.Act.Incident)})
		}
	}
	if k.Kind != cases.KindPerson {
		kids, err := s.Cases.Children(ctx, p, id)
		if err != nil {
			return nil, err
		}
		for i, c := range kids {
			if i == pageSize {
				break
			}
			d.Kids = append(d.Kids, ref{ID: c.ID, Name: docName(c.Doc, v.Lang), Href: hrefOf(c.Kind, c.ID)})
		}
	}
	v.Data = d
	return v, nil
}

func (s *Server) entitiesPage(w http.ResponseWriter, r *http.Request, k entityKind) {
	v, err := s.entitiesView(r, k, newForm(nil))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "records_entity", v)
}

func (s *Server) entityPage(w http.ResponseWriter, r *http.Request, k entityKind) {
	s.showRecord(w, r, "records_entity", func(id vigil.ID) (*view, error) { return s.entityView(r, k, id, nil) })
}

// saveEntity creates (POST to the list) or edits (POST to the record) an
// entity.
func (s *Server) saveEntity(w http.ResponseWriter, r *http.Request, k entityKind) {
	ctx, pr := r.Context(), principal(r)
	ch := cases.Change{Path: "doc"}
	var cur cases.Doc
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rec, err := s.getDoc(ctx, pr, id, k.Kind)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ch.ID, ch.Version, cur = id, version(r), rec.Doc
	}
	p := s.parser(r)
	ch.Doc = k.parse(p, cur, pr.Can(vigil.ReadPrivate))
	fp := formPage{name: "records_entity", fields: k.Fields, view: func(f *form) (*view, error) { return s.entityView(r, k, ch.ID, f) }}
	if ch.ID.IsZero() {
		fp.view = func(f *form) (*view, error) { return s.entitiesView(r, k, f) }
	}
	refs, ok := s.save(w, r, p, []cases.Change{ch}, fp)
	if !ok {
		return
	}
	http.Redirect(w, r, k.Path+"/"+refs[0].ID.String()+"?done=saved", http.StatusSeeOther)
}

func (s *Server) peoplePage(w http.ResponseWriter, r *http.Request)  { s.entitiesPage(w, r, personKind) }
func (s *Server) personPage(w http.ResponseWriter, r *http.Request)  { s.entityPage(w, r, personKind) }
func (s *Server) savePerson(w http.ResponseWriter, r *http.Request)  { s.saveEntity(w, r, personKind) }
func (s *Server) placesPage(w http.ResponseWriter, r *http.Request)  { s.entitiesPage(w, r, placeKind) }
func (s *Server) placePage(w http.ResponseWriter, r *http.Request)   { s.entityPage(w, r, placeKind) }
func (s *Server) savePlace(w http.ResponseWriter, r *http.Request)   { s.saveEntity(w, r, placeKind) }
func (s *Server) partiesPage(w http.ResponseWriter, r *http.Request) { s.entitiesPage(w, r, partyKind) }
func (s *Server) partyPage(w http.ResponseWriter, r *http.Request)   { s.entityPage(w, r, partyKind) }
func (s *Server) saveParty(w http.ResponseWriter, r *http.Request)   { s.saveEntity(w, r, partyKind) }
