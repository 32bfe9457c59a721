package search

import (
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/russian"
)

// A Token is one word of a text as the index sees it.
type Token struct {
	Surface    string // the word lowercased, ё folded to е, stress marks removed
	Term       string // Surface stemmed: Snowball Russian for Cyrillic words, Snowball English (Porter2) for others
	Pos        int    // ordinal of the word in the text, from 0
	Start, End int    // byte offsets of the word in the text
}

// Analyze splits text into words and returns them with their terms. It is
// the analyzer the index applies to documents and queries; see the package
// doc, # Analysis.
func Analyze(text string) []Token {
	var toks []Token
	segment(text, func(start, end int) {
		s := fold(text[start:end])
		if s == "" {
			return
		}
		toks = append(toks, Token{Surface: s, Term: stem(s), Pos: len(toks), Start: start, End: end})
	})
	return toks
}

// segment calls f with the byte range of each word of text. A word is a run
// of letters, digits and combining marks, with apostrophes between letters
// (O'Brien, Kadyrov's) kept inside: the word boundaries of Unicode UAX #29
// for alphabetic scripts, without its rules for numbers with separators.
func segment(text string, f func(start, end int)) {
	start := -1
	for i, r := range text {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && (r == '\'' || r == '’') {
			// Mid-letter: keep it if a letter follows.
			next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
			if unicode.IsLetter(next) {
				continue
			}
		}
		if start >= 0 {
			f(start, i)
			start = -1
		}
	}
	if start >= 0 {
		f(start, len(text))
	}
}

func isWordRune(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	case 0x400 <= r && r <= 0x52f:
		// Cyrillic and its supplement: letters, and the combining marks
		// U+0483..U+0489.
		return r != 0x482
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// fold lowercases a word, turns ё into е (Russian print mostly omits the
// dots) and drops combining marks (stress accents in teaching texts) and
// apostrophes.
func fold(w string) string { return string(appendFold(nil, w)) }

// appendFold appends the folded word to b.
func appendFold(b []byte, w string) []byte {
	for _, r := range w {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		case 'А' <= r && r <= 'Я':
			r += 'а' - 'А'
		case 'а' <= r && r <= 'я':
		default:
			r = unicode.ToLower(r)
		}
		switch {
		case r == 'ё':
			r = 'е'
		case r == '\'' || r == '’' || r >= 0x300 && (r < 0x400 || r > 0x482) && unicode.Is(unicode.Mn, r):
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// isCyrillic reports whether the word's first letter is Cyrillic.
func isCyrillic(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) {
			return unicode.Is(unicode.Cyrillic, r)
		}
	}
	return false
}

// stem returns the Snowball stem of a folded word: the Russian algorithm
// for Cyrillic words, the English (Porter2) one for the rest, stop words
// included, as the reference vocabularies do.
func stem(w string) string {
	if isCyrillic(w) {
		return russian.Stem(w, true)
	}
	if !isLatin(w) {
		return w
	}
	return english.Stem(w, true)
}

// isStopWord reports whether a folded word is a Snowball stop word of its
// language.
func isStopWord(w string) bool {
	if isCyrillic(w) {
		return russian.IsStopWord(w)
	}
	return english.IsStopWord(w)
}

func isLatin(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) {
			return unicode.Is(unicode.Latin, r)
		}
	}
	return false
}
