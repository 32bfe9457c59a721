package vigil_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/vigil-hr/vigil"
)

func TestParseDate(t *testing.T) {
	for _, test := range []struct {
		desc, in  string
		ok        bool
		precision vigil.Precision
		first     string // First and Last as YYYY-MM-DD
		last      string
	}{
		{"year only", "2017", true, vigil.PrecisionYear, "2017-01-01", "2017-12-31"},
		{"month", "2017-03", true, vigil.PrecisionMonth, "2017-03-01", "2017-03-31"},
		{"day", "2017-03-14", true, vigil.PrecisionDay, "2017-03-14", "2017-03-14"},
		{"February of a common year ends on the 28th", "2017-02", true, vigil.PrecisionMonth, "2017-02-01", "2017-02-28"},
		{"leap day of a leap year", "2016-02-29", true, vigil.PrecisionDay, "2016-02-29", "2016-02-29"},
		{"leap day of 2000", "2000-02-29", true, vigil.PrecisionDay, "2000-02-29", "2000-02-29"},
		{"no leap day in 1900", "1900-02-29", false, 0, "", ""},
		{"leap day of a common year", "2017-02-29", false, 0, "", ""},
		{"February 30th", "2017-02-30", false, 0, "", ""},
		{"April 31st", "2017-04-31", false, 0, "", ""},
		{"month 13", "2017-13", false, 0, "", ""},
		{"month 00", "2017-00", false, 0, "", ""},
		{"day 00", "2017-01-00", false, 0, "", ""},
		{"two-digit year", "17-01", false, 0, "", ""},
		{"one-digit month", "2017-3", false, 0, "", ""},
		{"one-digit day", "2017-03-1", false, 0, "", ""},
		{"year 0000", "0000", false, 0, "", ""},
		{"year before 1000", "0999", false, 0, "", ""},
		{"empty", "", false, 0, "", ""},
		{"slashes", "2017/03/14", false, 0, "", ""},
		{"day first", "14-03-2017", false, 0, "", ""},
		{"time of day", "2017-03-14T10:00", false, 0, "", ""},
		{"sign", "+2017", false, 0, "", ""},
		{"spaces", " 2017", false, 0, "", ""},
		{"non-ASCII digits", "２０１７", false, 0, "", ""},
	} {
		t.Run(test.desc, func(t *testing.T) {
			d, err := vigil.ParseDate(test.in)
			if !test.ok {
				if !errors.Is(err, vigil.ErrInvalid) {
					t.Fatalf("ParseDate(%q) = %v, %v; want ErrInvalid", test.in, d, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", test.in, err)
			}
			if d.String() != test.in || d.Precision() != test.precision {
				t.Errorf("ParseDate(%q) = %q precision %d", test.in, d, d.Precision())
			}
			if f, l := d.First().Format("2006-01-02"), d.Last().Format("2006-01-02"); f != test.first || l != test.last {
				t.Errorf("%q spans %s..%s, want %s..%s", test.in, f, l, test.first, test.last)
			}
		})
	}
}

func TestDateCompare(t *testing.T) {
	ordered := []string{"", "2016-12-31", "2017-01-01", "2017-01", "2017", "2017-02-01", "2017-02"}
	var ds []vigil.Date
	for _, s := range ordered {
		var d vigil.Date
		if err := d.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	for i := range ds {
		for j := range ds {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := ds[i].Compare(ds[j]); got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", ds[i], ds[j], got, want)
			}
		}
	}
}

func TestPeriod(t *testing.T) {
	for _, test := range []struct {
		desc     string
		json     string
		badField string // "" if valid
	}{
		{"month to day within the following month", `{"from":"2017-03","to":"2017-04-15"}`, ""},
		{"day to the month it falls in", `{"from":"2017-04-15","to":"2017-04"}`, ""},
		{"same day", `{"from":"2017-04-15","to":"2017-04-15"}`, ""},
		{"open end", `{"from":"2017-03"}`, ""},
		{"unknown", `{}`, ""},
		{"year to a month of the same year", `{"from":"2017","to":"2017-03"}`, ""},
		{"ends a month before it starts", `{"from":"2017-05","to":"2017-04"}`, "to"},
		{"ends a day before it starts", `{"from":"2017-04-15","to":"2017-04-14"}`, "to"},
		{"ends the year before", `{"from":"2017-01-01","to":"2016"}`, "to"},
		{"end without start", `{"to":"2017-04"}`, "from"},
	} {
		t.Run(test.desc, func(t *testing.T) {
			var p vigil.Period
			if err := json.Unmarshal([]byte(test.json), &p); err != nil {
				t.Fatal(err)
			}
			err := p.Validate()
			checkField(t, err, test.badField)
			b, err := json.Marshal(p)
			if err != nil || string(b) != test.json {
				t.Errorf("round trip %s, %v", b, err)
			}
		})
	}
	for _, bad := range []string{`{"from":"2017-13"}`, `{"from":"2017-02-30"}`, `{"from":"17-01"}`, `{"from":2017}`} {
		var p vigil.Period
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("%s: accepted as %+v", bad, p)
		}
	}
}

// FuzzParseDate checks that ParseDate never panics, that what it accepts
// prints back as the input, and that every accepted date is a real one.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2017", "2017-03", "2017-03-14", "2016-02-29", "2017-02-29", "2017-13", "17-01", "", "9999-12-31", "1000-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := vigil.ParseDate(s)
		if err != nil {
			if !errors.Is(err, vigil.ErrInvalid) {
				t.Fatalf("ParseDate(%q): error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, d)
		}
		if d.First().After(d.Last()) {
			t.Fatalf("%q: first day after last", s)
		}
		if d.Precision() == vigil.PrecisionDay && d.First().Format("2006-01-02") != s {
			t.Fatalf("%q is not a real day (%s)", s, d.First())
		}
		back, err := vigil.NewDate(d.Year(), d.Month(), d.Day())
		if err != nil || back != d {
			t.Fatalf("NewDate(%d, %d, %d) = %v, %v", d.Year(), d.Month(), d.Day(), back, err)
		}
	})
}
