package search_test

import (
	"fmt"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/search"
)

func Example() {
	ix := search.New()
	ix.Add(search.Document{
		ID:     vigil.ID{1},
		Kind:   "act",
		Fields: []search.Field{{Name: "text", Text: "Его задержали по приказу Кадырова в Грозном."}},
	})
	r := ix.Search(search.Query{
		Text:    "Kadyrov Grozny",
		Visible: func(vigil.ID) bool { return true },
	})
	for _, h := range r.Hits {
		for _, f := range h.Snippet {
			if f.Match {
				fmt.Printf("[%s]", f.Text)
			} else {
				fmt.Print(f.Text)
			}
		}
		fmt.Println()
	}
	fmt.Println(search.NameKey("Кадырова"), search.NameKey("Qadyrov"))
	// Output:
	// Его задержали по приказу [Кадырова] в [Грозном]
	// кадиров кадиров
}
