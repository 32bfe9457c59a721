package vigil

import (
	"fmt"
	"time"
)

// A Precision says how much of a [Date] is known.
type Precision uint8

// Precisions, from coarsest to finest. The zero Precision belongs to the
// zero Date only.
const (
	PrecisionYear  Precision = 1 // "2017": some day in 2017
	PrecisionMonth Precision = 2 // "2017-03": some day in March 2017
	PrecisionDay   Precision = 3 // "2017-03-14"
)

// Years a Date may carry. Four digits keep "YYYY" unambiguous.
const (
	MinYear = 1000
	MaxYear = 9999
)

// A Date is a calendar date known to a year, a month or a day, as witnesses
// remember them: "in 2017", "in March 2017", "on 14 March 2017". It carries
// no time of day and no time zone.
//
// Its text form (and JSON) is "YYYY", "YYYY-MM" or "YYYY-MM-DD"; the zero
// Date, meaning "not known", is "". Dates compare with ==: "2017-03" and
// "2017-03-01" are different dates, because they say different things.
// To order dates or test a range, use [Date.First] and [Date.Last], the
// first and last day the date may mean.
type Date struct {
	year       uint16
	month, day uint8
}

// NewDate returns the date year-month-day. A month of 0 gives a date known
// to the year, a day of 0 a date known to the month. It returns an error
// wrapping [ErrInvalid] if the year is outside [MinYear]..[MaxYear] or the
// month or day does not exist (e.g. 2017-02-29).
func NewDate(year, month, day int) (Date, error) {
	if year < MinYear || year > MaxYear {
		return Date{}, fmt.Errorf("%w: date: year %d outside %d..%d", ErrInvalid, year, MinYear, MaxYear)
	}
	if month < 0 || month > 12 {
		return Date{}, fmt.Errorf("%w: date: month %d outside 1..12", ErrInvalid, month)
	}
	if month == 0 && day != 0 {
		return Date{}, fmt.Errorf("%w: date: day without month", ErrInvalid)
	}
	if day < 0 || day > daysIn(year, month) {
		return Date{}, fmt.Errorf("%w: date: %04d-%02d has no day %d", ErrInvalid, year, month, day)
	}
	return Date{uint16(year), uint8(month), uint8(day)}, nil
}

// daysIn returns the number of days of a month of the proleptic Gregorian
// calendar; month 0 returns 0.
func daysIn(year, month int) int {
	if month == 0 {
		return 0
	}
	// Day 0 of the next month is the last day of this one.
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ParseDate parses "YYYY", "YYYY-MM" or "YYYY-MM-DD" with exactly those
// digits: "17-01", "2017-3" and "2017-03-1" are malformed, and so are dates
// that do not exist ("2017-13", "2017-02-30"). Errors wrap [ErrInvalid].
// The empty string is not a date; see [Date.UnmarshalText] for the zero Date.
func ParseDate(s string) (Date, error) {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	var y, m, d int
	ok := false
	switch len(s) {
	case 4:
		y, ok = num(s)
	case 7:
		if s[4] == '-' {
			var ok1, ok2 bool
			y, ok1 = num(s[:4])
			m, ok2 = num(s[5:])
			ok = ok1 && ok2 && m != 0
		}
	case 10:
		if s[4] == '-' && s[7] == '-' {
			var ok1, ok2, ok3 bool
			y, ok1 = num(s[:4])
			m, ok2 = num(s[5:7])
			d, ok3 = num(s[8:])
			ok = ok1 && ok2 && ok3 && m != 0 && d != 0
		}
	}
	if !ok {
		return Date{}, fmt.Errorf("%w: date: want YYYY, YYYY-MM or YYYY-MM-DD", ErrInvalid)
	}
	return NewDate(y, m, d)
}

// IsZero reports whether d is the zero Date ("not known").
func (d Date) IsZero() bool { return d == Date{} }

// Year returns the year, or 0 for the zero Date.
func (d Date) Year() int { return int(d.year) }

// Month returns the month 1..12, or 0 when only the year is known.
func (d Date) Month() int { return int(d.month) }

// Day returns the day of the month, or 0 when only the month or year is known.
func (d Date) Day() int { return int(d.day) }

// Precision returns how much of d is known; 0 for the zero Date.
func (d Date) Precision() Precision {
	switch {
	case d.year == 0:
		return 0
	case d.month == 0:
		return PrecisionYear
	case d.day == 0:
		return PrecisionMonth
	}
	return PrecisionDay
}

// First returns midnight UTC of the first day d may mean: 2017-01-01 for
// "2017", 2017-03-01 for "2017-03". It returns the zero time for the zero Date.
func (d Date) First() time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	m, day := max(int(d.month), 1), max(int(d.day), 1)
	return time.Date(int(d.year), time.Month(m), day, 0, 0, 0, 0, time.UTC)
}

// Last returns midnight UTC of the last day d may mean: 2017-12-31 for
// "2017", 2017-02-28 for "2017-02". It returns the zero time for the zero Date.
func (d Date) Last() time.Time {
	switch d.Precision() {
	case 0:
		return time.Time{}
	case PrecisionYear:
		return time.Date(int(d.year), 12, 31, 0, 0, 0, 0, time.UTC)
	case PrecisionMonth:
		return time.Date(int(d.year), time.Month(d.month), daysIn(int(d.year), int(d.month)), 0, 0, 0, 0, time.UTC)
	}
	return d.First()
}

// Compare orders dates by their first day, then by their last day:
// "2017-01-01" (Jan 1 to Jan 1) sorts before "2017-01" (Jan 1 to Jan 31),
// which sorts before "2017" (Jan 1 to Dec 31). The zero Date sorts first.
// It returns -1, 0 or +1, and 0 only for equal dates.
func (d Date) Compare(u Date) int {
	if c := d.First().Compare(u.First()); c != 0 {
		return c
	}
	return d.Last().Compare(u.Last())
}

// String returns "YYYY", "YYYY-MM" or "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	switch d.Precision() {
	case 0:
		return ""
	case PrecisionYear:
		return fmt.Sprintf("%04d", d.year)
	case PrecisionMonth:
		return fmt.Sprintf("%04d-%02d", d.year, d.month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
}

// MarshalText returns [Date.String].
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses the form of [ParseDate]. The empty string gives the
// zero Date, so that a marshalled zero Date reads back; use the omitzero
// JSON option to leave unknown dates out instead.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// A Period is a span of dates, each end known to its own precision. A zero
// To means the end is unknown or the period is ongoing; a zero From with a
// zero To means the whole period is unknown. In JSON it is
// {"from": "2017-03", "to": "2017-04-15"}.
type Period struct {
	From Date `json:"from,omitzero"`
	To   Date `json:"to,omitzero"`
}

// IsZero reports whether nothing is known of p.
func (p Period) IsZero() bool { return p.From.IsZero() && p.To.IsZero() }

// Validate checks that a set To has a From and does not end before From
// can begin: "2017-03" to "2017-04-15" is valid, and so is "2017-04-15" to
// "2017-04" (it ended in April, after the 15th), but "2017-05" to "2017-04"
// is not. Errors are [FieldError]s naming "from" or "to".
func (p Period) Validate() error {
	if !p.To.IsZero() && p.From.IsZero() {
		return &FieldError{Field: "from", Problem: "missing while to is set", Err: ErrInvalid}
	}
	if !p.To.IsZero() && p.To.Last().Before(p.From.First()) {
		return &FieldError{Field: "to", Problem: "before from", Err: ErrInvalid}
	}
	return nil
}
