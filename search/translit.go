package search

import (
	"strings"
	"unicode"
)

// latinRules turn a word in Latin letters back into Cyrillic, longest
// match first. Together they read the systems people use to write Russian
// and Chechen names in Latin letters:
//
//   - BGN/PCGN (Kadyrov, Groznyy, Khasavyurt, Yevgeniy, Chechnya),
//   - GOST 7.79 System B (Groznyj, Xasavyurt is not read: x is "ks"),
//   - ICAO 9303 (Iurii, Khasaviurt, Evgenii, Chechnia),
//   - ISO 9 / scholarly (Čečnja, Hasavjurt, Jurij, Groznyj, Evgenij),
//   - informal and foreign spellings (Kadirov, Qadyrov, Grozny, Yuri,
//     Muhammad, Jokhar, Tsentoroi, Centoroi), German ones among them
//     (Tschetschnja, Dschochar, Maschadow, Kadyrow: tsch is ч, dsch дж,
//     sch щ, w в).
//
// Where a Latin spelling is ambiguous (j is й or ж, y is ы or й, h is х or
// nothing) the rules pick one reading and the name key (see [NameKey])
// folds the letters that systems confuse, so every reading meets its
// Cyrillic original. TestNamePairs holds the table of real pairs.
var latinRules = []struct{ lat, cyr string }{
	{"shch", "щ"}, {"tsch", "ч"}, {"dsch", "дж"}, {"sch", "щ"}, {"dzh", "дж"}, {"tch", "ч"},
	{"yye", "ые"}, {"iye", "ие"},
	{"ch", "ч"}, {"sh", "ш"}, {"zh", "ж"}, {"kh", "х"}, {"gh", "г"}, {"ts", "ц"}, {"tz", "ц"}, {"dj", "дж"},
	{"yu", "ю"}, {"iu", "ю"}, {"ju", "ю"},
	{"ya", "я"}, {"ia", "я"}, {"ja", "я"},
	{"yo", "ё"}, {"jo", "ё"},
	{"ye", "е"}, {"je", "е"},
	{"yy", "ый"}, {"iy", "ий"}, {"ij", "ий"}, {"yj", "ый"}, {"ii", "ий"},
	{"ck", "к"}, {"ph", "ф"},
	{"a", "а"}, {"b", "б"}, {"c", "ц"}, {"d", "д"}, {"e", "е"}, {"f", "ф"}, {"g", "г"}, {"h", "х"},
	{"i", "и"}, {"j", "й"}, {"k", "к"}, {"l", "л"}, {"m", "м"}, {"n", "н"}, {"o", "о"}, {"p", "п"},
	{"q", "к"}, {"r", "р"}, {"s", "с"}, {"t", "т"}, {"u", "у"}, {"v", "в"}, {"w", "в"}, {"x", "кс"},
	{"z", "з"},
	// ISO 9 and scholarly letters.
	{"č", "ч"}, {"š", "ш"}, {"ž", "ж"}, {"ŝ", "щ"}, {"ë", "ё"}, {"è", "э"}, {"é", "е"}, {"ê", "е"},
	{"ý", "ы"}, {"ĭ", "й"}, {"ǎ", "я"}, {"û", "ю"}, {"â", "я"}, {"ʹ", "ь"}, {"ʺ", "ъ"},
}

// toCyrillic reads a folded Latin word as Russian in Cyrillic letters.
// A y after a consonant is ы, elsewhere й (Yandiyev, Kadyrov, Maysky).
func toCyrillic(w string) string {
	var b strings.Builder
	prevVowel := true // at the start of a word y reads as й
	for len(w) > 0 {
		matched := false
		for _, rule := range latinRules {
			if strings.HasPrefix(w, rule.lat) {
				cyr := rule.cyr
				if rule.lat == "y" {
					break
				}
				b.WriteString(cyr)
				w = w[len(rule.lat):]
				prevVowel = strings.ContainsAny(lastRune(cyr), "аеёиоуыэюяй")
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if w[0] == 'y' {
			if prevVowel {
				b.WriteString("й")
			} else {
				b.WriteString("ы")
			}
			prevVowel = !prevVowel
			w = w[1:]
			continue
		}
		// Not a letter we read: keep it, it won't meet a Cyrillic word.
		r := []rune(w)[0]
		b.WriteRune(r)
		w = w[len(string(r)):]
		prevVowel = false
	}
	return b.String()
}

func lastRune(s string) string {
	r := []rune(s)
	return string(r[len(r)-1:])
}

// NameKey returns the key under which a word meets its spellings in the
// other script. The word is folded like the analyzer does, read as Russian
// if it is in Latin letters ([toCyrillic]),
// with the endings of Russian names taken off (so Кадырова, Кадырову and
// Kadyrov share a key) and reduced to a skeleton
// in which the letters transliteration systems confuse are one letter:
// ы, й and и are и; э and ё are е; щ and сх are ш (Масхадов, Mashadov);
// ъ and ь are dropped; a doubled letter is single (Мухаммад, Muhamad).
// Words in other scripts return "".
func NameKey(word string) string {
	w := fold(word)
	switch {
	case isCyrillic(w):
	case isLatin(w):
		w = toCyrillic(w)
	default:
		return ""
	}
	return skeleton(nameStem(w))
}

// nameEndings are the case and gender endings of Russian names, longest
// first. Snowball Russian is not used for names: it takes -ов off Кадыров but
// -а off Кадырова, so the two would not meet.
var nameEndings = []string{
	"ями", "ами", "ого", "его", "ему", "ому", "ыми", "ими", "ией", "ием", "ой",
	"ия", "ию", "ии", "ий", "ый", "ом", "ем", "ым", "им", "ую", "юю", "ая", "яя",
	"ое", "ее", "ые", "ие", "ых", "их", "ах", "ях", "ей",
	"а", "я", "у", "ю", "е", "и", "ы", "ь", "й",
}

// nameStem takes one name ending off a Cyrillic word, leaving at least two
// letters.
func nameStem(w string) string {
	n := len([]rune(w))
	for _, e := range nameEndings {
		if strings.HasSuffix(w, e) && n-len([]rune(e)) >= 2 {
			return strings.TrimSuffix(w, e)
		}
	}
	return w
}

func skeleton(w string) string {
	out := make([]rune, 0, len(w))
	for _, r := range w {
		switch r {
		case 'ы', 'й':
			r = 'и'
		case 'э', 'ё':
			r = 'е'
		case 'щ':
			r = 'ш'
		case 'ъ', 'ь':
			continue
		case 'х':
			// сх is ш: a Latin sh reads Масхадов's с and х as one
			// letter (Mashadov), as German sch does (Maschadow).
			if n := len(out); n > 0 && out[n-1] == 'с' {
				out[n-1] = 'ш'
				continue
			}
		}
		if len(out) > 0 && r == out[len(out)-1] || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// Distance returns the optimal string alignment distance between two name
// keys (Damerau–Levenshtein without repeated edits of a substring): the
// number of letters inserted, deleted, replaced or swapped with a neighbour.
// It gives up and returns max+1 once the distance must exceed max.
func Distance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// MaxDistance is how far a near miss may be from a query's name key:
// nothing for keys under 5 letters, 1 up to 7, then 2.
func MaxDistance(key string) int {
	switch n := len([]rune(key)); {
	case n < 5:
		return 0
	case n < 8:
		return 1
	}
	return 2
}
