package main

import (
	"encoding/binary"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/search"
)

type vigilEngine struct {
	ix  *search.Index
	ids map[vigil.ID]int
}

func docID(i int) vigil.ID {
	var id vigil.ID
	binary.BigEndian.PutUint64(id[8:], uint64(i)+1)
	return id
}

func (e *vigilEngine) build(docs []genDoc) error {
	e.ix = search.New()
	e.ids = make(map[vigil.ID]int, len(docs))
	// As cases builds its index at unseal: every document at once
	// (AddAll analyses them on every CPU).
	batch := make([]search.Document, len(docs))
	for i, d := range docs {
		id := docID(i)
		e.ids[id] = i
		batch[i] = search.Document{ID: id, Kind: "submission", Fields: []search.Field{{Name: "text", Text: d.text}}}
	}
	e.ix.AddAll(batch)
	return nil
}

func all(vigil.ID) bool { return true }

func (e *vigilEngine) search(q []part, limit int) ([]int, error) {
	r := e.ix.Search(search.Query{Text: queryText(q), Visible: all, Limit: limit})
	var out []int
	for _, h := range r.Hits {
		out = append(out, e.ids[h.ID])
	}
	return out, nil
}
