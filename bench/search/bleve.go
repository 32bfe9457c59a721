package main

import (
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/ru"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

type bleveEngine struct {
	ix bleve.Index
}

func (e *bleveEngine) build(docs []genDoc) error {
	ruField := bleve.NewTextFieldMapping()
	ruField.Analyzer = ru.AnalyzerName
	ruField.Store = false
	ruField.IncludeInAll = false
	enField := bleve.NewTextFieldMapping()
	enField.Analyzer = en.AnalyzerName
	enField.Store = false
	enField.IncludeInAll = false
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt("ru", ruField)
	dm.AddFieldMappingsAt("en", enField)
	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
	im.StoreDynamic = false
	var m mapping.IndexMapping = im
	ix, err := bleve.NewMemOnly(m)
	if err != nil {
		return err
	}
	e.ix = ix
	b := ix.NewBatch()
	for i, d := range docs {
		if err := b.Index(strconv.Itoa(i), map[string]string{d.lang: d.text}); err != nil {
			return err
		}
		if b.Size() >= 1000 {
			if err := ix.Batch(b); err != nil {
				return err
			}
			b = ix.NewBatch()
		}
	}
	return ix.Batch(b)
}

func (e *bleveEngine) search(q []part, limit int) ([]int, error) {
	var conj []query.Query
	both := func(f func(field string) query.Query) query.Query {
		return bleve.NewDisjunctionQuery(f("ru"), f("en"))
	}
	for _, p := range q {
		switch {
		case p.phrase != "":
			conj = append(conj, both(func(field string) query.Query {
				q := bleve.NewMatchPhraseQuery(p.phrase)
				q.SetField(field)
				return q
			}))
		case p.prefix != "":
			conj = append(conj, both(func(field string) query.Query {
				q := bleve.NewPrefixQuery(strings.ToLower(p.prefix))
				q.SetField(field)
				return q
			}))
		default:
			for _, w := range p.words {
				conj = append(conj, both(func(field string) query.Query {
					q := bleve.NewMatchQuery(w)
					q.SetField(field)
					return q
				}))
			}
		}
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(conj...), limit, 0, false)
	res, err := e.ix.Search(req)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, h := range res.Hits {
		i, err := strconv.Atoi(h.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, nil
}
