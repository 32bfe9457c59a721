package search_test

import (
	"fmt"
	"testing"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/search"
)

var benchText = "Его задержали сотрудники полиции по приказу Кадырова и избивали в подвале. " +
	"He was detained by police in Argun and beaten; the men said Kadyrov had ordered the arrests. "

func BenchmarkAdd(b *testing.B) {
	ix := search.New()
	i := 0
	for b.Loop() {
		i++
		ix.Add(search.Document{ID: vigil.ID{byte(i), byte(i >> 8), byte(i >> 16)}, Fields: []search.Field{{Text: benchText + fmt.Sprint(i)}}})
	}
}

func BenchmarkSearch(b *testing.B) {
	ix := search.New()
	for i := range 10000 {
		ix.Add(search.Document{ID: vigil.ID{byte(i), byte(i >> 8)}, Fields: []search.Field{{Text: benchText + fmt.Sprint(i)}}})
	}
	for _, q := range []string{"Kadyrov", "задержание", `"по приказу"`, "arr*"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				ix.Search(search.Query{Text: q, Visible: all})
			}
		})
	}
}
