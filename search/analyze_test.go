package search_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/vigil-hr/vigil/search"
)

// TestSnowballVocabulary checks the stemmers on every tenth word of the
// official Snowball sample vocabularies (voc.txt / output.txt), as shipped
// in github.com/kljensen/snowball's vocab tests.
func TestSnowballVocabulary(t *testing.T) {
	for _, lang := range []string{"english", "russian"} {
		t.Run(lang, func(t *testing.T) {
			f, err := os.Open("testdata/snowball_" + lang + ".tsv")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			n := 0
			for sc.Scan() {
				in, want, _ := strings.Cut(sc.Text(), "\t")
				if strings.ContainsAny(in, "'ё") {
					continue // the analyzer folds these before stemming
				}
				if len([]rune(in)) <= 2 {
					continue // kljensen/snowball leaves words of two letters alone (ею, not е)
				}
				toks := search.Analyze(in)
				if len(toks) != 1 {
					continue
				}
				n++
				if got := toks[0].Term; got != want {
					t.Errorf("%s: got %q, want %q", in, got, want)
				}
			}
			if n < 2000 {
				t.Errorf("only %d words checked", n)
			}
		})
	}
}

func TestAnalyze(t *testing.T) {
	for _, test := range []struct{ text, want string }{
		{"Задержанных ИЗБИВАЛИ в отделе полиции", "задержа избива в отдел полиц"},
		{"Ёлка, ещё, Семён", "елк ещ сем"},
		{"They were arrested and beaten", "they were arrest and beaten"},
		{"Kadyrov's men", "kadyrov men"},
		{"ударе́ние", "ударен"},
		{"Хасав-Юрт 2017", "хаса юрт 2017"},
	} {
		t.Run(test.text, func(t *testing.T) {
			var got []string
			for _, tok := range search.Analyze(test.text) {
				got = append(got, tok.Term)
			}
			if g := strings.Join(got, " "); g != test.want {
				t.Errorf("got %q, want %q", g, test.want)
			}
		})
	}
}

// TestFoldFastPath checks the ASCII and Cyrillic shortcuts of the analyzer
// against unicode.ToLower for every letter of both blocks.
func TestFoldFastPath(t *testing.T) {
	for r := rune(0); r < 0x530; r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		toks := search.Analyze(string(r) + "ъъъ")
		if len(toks) != 1 {
			t.Errorf("%U: %d tokens", r, len(toks))
			continue
		}
		want := string(unicode.ToLower(r))
		if want == "ё" {
			want = "е"
		}
		if got := []rune(toks[0].Surface)[0]; string(got) != want {
			t.Errorf("%U: folded to %q, want %q", r, got, want)
		}
	}
}
