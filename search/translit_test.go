package search_test

import (
	"testing"

	"github.com/vigil-hr/vigil/search"
)

// namePairs are real spellings of the same names: Russian, BGN/PCGN,
// GOST 7.79 B, ICAO 9303, ISO 9 and the informal ones found in the press.
var namePairs = [][]string{
	{"Кадыров", "Kadyrov", "Kadirov", "Qadyrov", "Кадырова", "Кадыровым"},
	{"Грозный", "Grozny", "Groznyy", "Groznyj", "Groznyi", "Грозном"},
	{"Аргун", "Argun", "Аргуне"},
	{"Шали", "Shali"},
	{"Юрий", "Yuri", "Yuriy", "Iurii", "Jurij", "Юрия"},
	{"Чечня", "Chechnya", "Čečnja", "Chechnia", "Чечне", "Чечни"},
	{"Хасавюрт", "Khasavyurt", "Hasavjurt", "Khasaviurt"},
	{"Дагестан", "Dagestan", "Daghestan"},
	{"Мухаммад", "Muhammad", "Mukhammad", "Muhamad"},
	{"Евгений", "Yevgeny", "Evgenii", "Yevgeniy", "Evgenij", "Evgeniy"},
	{"Жуков", "Zhukov", "Žukov"},
	{"Центорой", "Tsentoroy", "Tsentoroi", "Centoroj"},
	{"Гудермес", "Gudermes"},
	{"Ахмат", "Akhmat", "Ahmat"},
	{"Рамзан", "Ramzan"},
	{"Наталья", "Natalya", "Natalia", "Natal'ya", "Natalja"},
	{"Алексей", "Aleksey", "Alexei", "Aleksei", "Aleksej"},
	{"Фёдор", "Fyodor", "Fedor", "Fjodor"},
	{"Щукин", "Shchukin", "Ščukin"},
	{"Ильин", "Ilyin", "Il'in", "Iljin"},
	{"Масхадов", "Maskhadov", "Mashadov", "Maschadow", "Масхадова"},
	{"Дудаев", "Dudayev", "Dudaev", "Dudajew"},
	{"Басаев", "Basayev", "Basaev", "Bassajew", "Басаева"},
	{"Асхаб", "Askhab", "Ashab"},
	{"Кадыров", "Kadyrow", "Kadyrowa"},
	{"Чечня", "Tschetschnja"},
	{"Джохар", "Dschochar", "Dzhokhar"},
	{"Шамиль", "Shamil", "Schamil", "Šamil'"},
	{"Ичкерия", "Ichkeria", "Ichkeriya", "Itschkerija"},
	{"Аслан", "Aslan"},
	{"Хамзат", "Khamzat", "Hamzat"},
	{"Ачхой-Мартан", "Achkhoy-Martan", "Achkhoi-Martan"},
	{"Урус-Мартан", "Urus-Martan"},
	{"Джохар", "Dzhokhar", "Dzhohar", "Djokhar"},
	{"Ингушетия", "Ingushetia", "Ingushetiya"},
	{"Зелимхан", "Zelimkhan", "Zelimhan"},
	{"Умаров", "Umarov"},
	{"полиция", "politsiya", "policiya", "полиции"}, // not a name: Russian typed in Latin letters
}

// match reports whether two spellings meet as the index matches them:
// equal name keys, or keys within the near-miss distance.
func match(a, b string) bool {
	ka, kb := search.NameKey(a), search.NameKey(b)
	if ka == kb {
		return true
	}
	return []rune(ka)[0] == []rune(kb)[0] && search.Distance(ka, kb, search.MaxDistance(ka)) <= search.MaxDistance(ka)
}

func TestNamePairs(t *testing.T) {
	for _, names := range namePairs {
		for _, a := range names {
			for _, b := range names {
				if !match(a, b) {
					t.Errorf("%s (%s) does not find %s (%s)", a, search.NameKey(a), b, search.NameKey(b))
				}
			}
		}
	}
}

func TestNameMisses(t *testing.T) {
	for _, test := range [][2]string{
		{"Ivanov", "Petrov"}, {"Иванов", "Petrov"}, {"Kadyrov", "Dudayev"}, {"Grozny", "Argun"},
		{"Shali", "Sharo"}, {"Yuri", "Yusup"}, {"Umarov", "Ramzan"}, {"Maskhadov", "Magomedov"},
	} {
		if match(test[0], test[1]) {
			t.Errorf("%s (%s) finds %s (%s)", test[0], search.NameKey(test[0]), test[1], search.NameKey(test[1]))
		}
	}
}

func TestDistance(t *testing.T) {
	for _, test := range []struct {
		a, b string
		want int
	}{
		{"кадиров", "кадиров", 0}, {"кадиров", "кадыров", 1}, {"кадиров", "акдиров", 1},
		{"иванов", "петров", 4}, {"", "абв", 3}, {"абвгд", "", 4},
	} {
		if got := search.Distance(test.a, test.b, 3); got != test.want {
			t.Errorf("Distance(%s, %s) = %d, want %d", test.a, test.b, got, test.want)
		}
	}
}
