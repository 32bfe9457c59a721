package vigil_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil"
)

// checkField fails t unless err names field (or is nil when field is "").
func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, vigil.ErrInvalid) {
		t.Fatalf("error %v does not wrap ErrInvalid", err)
	}
	for _, f := range fields(err) {
		if f == field {
			return
		}
	}
	t.Errorf("error %v does not name %s (names %v)", err, field, fields(err))
}

// fields lists the fields named by the FieldErrors in err.
func fields(err error) []string {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	var out []string
	for _, e := range errs {
		var fe *vigil.FieldError
		if errors.As(e, &fe) {
			out = append(out, fe.Field)
		} else {
			out = append(out, "?"+e.Error())
		}
	}
	return out
}

var (
	id1, id2       = vigil.NewID(), vigil.NewID()
	long           = strings.Repeat("x", vigil.MaxNameLen+1)
	huge           = strings.Repeat("я", vigil.MaxTextLen/2+1)
	badUTF8        = "Grozny\xff"
	okName         = "Отдел МВД по Аргунскому району"
	tooManyIDs     = make([]vigil.ID, vigil.MaxRefs+1)
	validPerson    = vigil.Person{Pseudonym: "Aslan"}
	validPlace     = vigil.Place{Names: map[string]string{"ru": "Аргун", "en": "Argun"}}
	validAct       = vigil.Act{Incident: id1, Type: "arbitrary_detention", Victims: vigil.VictimCount{Min: 2, Max: 5}}
	validClaim     = vigil.Claim{Act: id1, Source: id2, Stance: vigil.Affirms, Credibility: 2}
	validSource    = vigil.Source{Name: "Memorial hotline", Type: vigil.SourceNGO, Reliability: "B"}
	validIncident  = vigil.Incident{Title: "Wave of detentions, early 2017"}
	sameIDTwice    = []vigil.ID{id1, id1}
	zeroID         vigil.ID
	mustDate       = func(s string) vigil.Date { d, _ := vigil.ParseDate(s); return d }
	okPeriod       = vigil.Period{From: mustDate("2017-03"), To: mustDate("2017-04-15")}
	reversedPeriod = vigil.Period{From: mustDate("2017-05"), To: mustDate("2017-04")}
)

func init() {
	for i := range tooManyIDs {
		tooManyIDs[i] = vigil.NewID()
	}
}

// TestValidate feeds each noun hostile input and checks that Validate names
// the field. Every row a case an importer could meet.
func TestValidate(t *testing.T) {
	type validator interface{ Validate() error }
	for _, test := range []struct {
		desc  string
		v     validator
		field string // "" if valid
	}{
		{"incident: valid", vigil.Incident{Title: okName, Period: okPeriod, Place: id1, Restricted: []string{"anna"}}, ""},
		{"incident: no title", vigil.Incident{}, "title"},
		{"incident: title too long", vigil.Incident{Title: long}, "title"},
		{"incident: title not UTF-8", vigil.Incident{Title: badUTF8}, "title"},
		{"incident: title with a NUL", vigil.Incident{Title: "a\x00b"}, "title"},
		{"incident: title with a newline", vigil.Incident{Title: "a\nb"}, "title"},
		{"incident: description may have newlines", vigil.Incident{Title: "t", Description: "a\nb\tc"}, ""},
		{"incident: description too long", vigil.Incident{Title: "t", Description: huge}, "description"},
		{"incident: period out of order", vigil.Incident{Title: "t", Period: reversedPeriod}, "period.to"},
		{"incident: empty account name", vigil.Incident{Title: "t", Restricted: []string{""}}, "restricted[0]"},
		{"incident: account listed twice", vigil.Incident{Title: "t", Restricted: []string{"a", "a"}}, "restricted[1]"},

		{"act: valid", vigil.Act{Incident: id1, Type: "torture", Period: okPeriod, Place: id2, Victims: vigil.VictimCount{Min: 1, Max: 1}, VictimPersons: []vigil.ID{id1}, Perpetrators: []vigil.ID{id2}}, ""},
		{"act: no incident", vigil.Act{Type: "torture"}, "incident"},
		{"act: no type", vigil.Act{Incident: id1}, "type"},
		{"act: type not a code", vigil.Act{Incident: id1, Type: "Torture!"}, "type"},
		{"act: type with a space", vigil.Act{Incident: id1, Type: "ill treatment"}, "type"},
		{"act: min greater than max", vigil.Act{Incident: id1, Type: "torture", Victims: vigil.VictimCount{Min: 5, Max: 2}}, "victims.min"},
		{"act: negative min", vigil.Act{Incident: id1, Type: "torture", Victims: vigil.VictimCount{Min: -1, Max: 2}}, "victims.min"},
		{"act: negative max", vigil.Act{Incident: id1, Type: "torture", Victims: vigil.VictimCount{Min: 0, Max: -2}}, "victims.max"},
		{"act: absurd count", vigil.Act{Incident: id1, Type: "torture", Victims: vigil.VictimCount{Max: math.MaxInt}}, "victims.max"},
		{"act: more identified victims than max", vigil.Act{Incident: id1, Type: "torture", Victims: vigil.VictimCount{Min: 1, Max: 1}, VictimPersons: []vigil.ID{id1, id2}}, "victims.max"},
		{"act: fewer victims than identified in min is allowed", vigil.Act{Incident: id1, Type: "torture", Victims: vigil.VictimCount{Min: 0, Max: 3}, VictimPersons: []vigil.ID{id1, id2}}, ""},
		{"act: victim listed twice", vigil.Act{Incident: id1, Type: "torture", Victims: vigil.VictimCount{Max: 2}, VictimPersons: sameIDTwice}, "victim_persons[1]"},
		{"act: zero perpetrator", vigil.Act{Incident: id1, Type: "torture", Perpetrators: []vigil.ID{zeroID}}, "perpetrators[0]"},
		{"act: too many perpetrators", vigil.Act{Incident: id1, Type: "torture", Perpetrators: tooManyIDs}, "perpetrators"},
		{"act: period out of order", vigil.Act{Incident: id1, Type: "torture", Period: reversedPeriod}, "period.to"},

		{"person: valid", vigil.Person{Pseudonym: "Aslan", Private: &vigil.PersonPrivate{Names: []vigil.PersonName{{Script: "Cyrl", Name: "Аслан"}, {Script: "Latn", Name: "Aslan"}}, Contacts: []vigil.Contact{{Kind: "signal", Value: "+7"}}}}, ""},
		{"person: no pseudonym", vigil.Person{}, "pseudonym"},
		{"person: pseudonym too long", vigil.Person{Pseudonym: long}, "pseudonym"},
		{"person: pseudonym not UTF-8", vigil.Person{Pseudonym: badUTF8}, "pseudonym"},
		{"person: script not ISO 15924", vigil.Person{Pseudonym: "A", Private: &vigil.PersonPrivate{Names: []vigil.PersonName{{Script: "cyrillic", Name: "Аслан"}}}}, "private.names[0].script"},
		{"person: empty name", vigil.Person{Pseudonym: "A", Private: &vigil.PersonPrivate{Names: []vigil.PersonName{{Script: "Cyrl"}}}}, "private.names[0].name"},
		{"person: identifier without kind", vigil.Person{Pseudonym: "A", Private: &vigil.PersonPrivate{Identifiers: []vigil.Identifier{{Value: "123"}}}}, "private.identifiers[0].kind"},
		{"person: contact value not UTF-8", vigil.Person{Pseudonym: "A", Private: &vigil.PersonPrivate{Contacts: []vigil.Contact{{Kind: "phone", Value: badUTF8}}}}, "private.contacts[0].value"},

		{"place: valid", vigil.Place{Names: map[string]string{"ru": "Аргун", "ce": "Орга", "en": "Argun"}, Kind: "town", Parent: id1, Coordinates: &vigil.Coordinates{Lat: 43.29, Lon: 45.87}}, ""},
		{"place: no name", vigil.Place{}, "names"},
		{"place: not a language tag", vigil.Place{Names: map[string]string{"Russian": "Аргун"}}, "names"},
		{"place: empty name", vigil.Place{Names: map[string]string{"ru": ""}}, "names.ru"},
		{"place: name too long", vigil.Place{Names: map[string]string{"ru": long}}, "names.ru"},
		{"place: latitude over 90", vigil.Place{Names: map[string]string{"ru": "x"}, Coordinates: &vigil.Coordinates{Lat: 91}}, "coordinates.lat"},
		{"place: longitude under -180", vigil.Place{Names: map[string]string{"ru": "x"}, Coordinates: &vigil.Coordinates{Lon: -180.5}}, "coordinates.lon"},
		{"place: NaN latitude", vigil.Place{Names: map[string]string{"ru": "x"}, Coordinates: &vigil.Coordinates{Lat: math.NaN()}}, "coordinates.lat"},

		{"party: valid", vigil.Party{Name: okName, Parent: id1}, ""},
		{"party: no name", vigil.Party{}, "name"},
		{"party: name not UTF-8", vigil.Party{Name: badUTF8}, "name"},

		{"source: valid", vigil.Source{Name: "Novaya Gazeta", Type: vigil.SourceMedia, Reliability: "C", Origin: "newsroom", Party: id1}, ""},
		{"source: no name", vigil.Source{Type: vigil.SourceMedia, Reliability: "C"}, "name"},
		{"source: unknown type", vigil.Source{Name: "n", Type: "rumour", Reliability: "C"}, "type"},
		{"source: grade G", vigil.Source{Name: "n", Type: vigil.SourceMedia, Reliability: "G"}, "reliability"},
		{"source: lowercase grade", vigil.Source{Name: "n", Type: vigil.SourceMedia, Reliability: "b"}, "reliability"},
		{"source: no grade", vigil.Source{Name: "n", Type: vigil.SourceMedia}, "reliability"},
		{"source: two-letter grade", vigil.Source{Name: "n", Type: vigil.SourceMedia, Reliability: "AB"}, "reliability"},
		{"source: origin too long", vigil.Source{Name: "n", Type: vigil.SourceMedia, Reliability: "C", Origin: long}, "origin"},

		{"claim: valid", vigil.Claim{Act: id1, Source: id2, Stance: vigil.PartiallyAffirms, Credibility: 6, Quote: "«Полная ложь»", Date: mustDate("2017-04-01"), Evidence: []vigil.ID{id1}, Submissions: []vigil.ID{id2}}, ""},
		{"claim: no act", vigil.Claim{Source: id2, Stance: vigil.Affirms, Credibility: 2}, "act"},
		{"claim: no source", vigil.Claim{Act: id1, Stance: vigil.Affirms, Credibility: 2}, "source"},
		{"claim: unknown stance", vigil.Claim{Act: id1, Source: id2, Stance: "maybe", Credibility: 2}, "stance"},
		{"claim: credibility 0", vigil.Claim{Act: id1, Source: id2, Stance: vigil.Affirms}, "credibility"},
		{"claim: credibility 7", vigil.Claim{Act: id1, Source: id2, Stance: vigil.Affirms, Credibility: 7}, "credibility"},
		{"claim: negative credibility", vigil.Claim{Act: id1, Source: id2, Stance: vigil.Affirms, Credibility: -1}, "credibility"},
		{"claim: quote too long", vigil.Claim{Act: id1, Source: id2, Stance: vigil.Affirms, Credibility: 2, Quote: huge}, "quote"},
		{"claim: quote not UTF-8", vigil.Claim{Act: id1, Source: id2, Stance: vigil.Affirms, Credibility: 2, Quote: badUTF8}, "quote"},
		{"claim: evidence listed twice", vigil.Claim{Act: id1, Source: id2, Stance: vigil.Affirms, Credibility: 2, Evidence: sameIDTwice}, "evidence[1]"},
		{"claim: zero submission", vigil.Claim{Act: id1, Source: id2, Stance: vigil.Affirms, Credibility: 2, Submissions: []vigil.ID{zeroID}}, "submissions[0]"},
	} {
		t.Run(test.desc, func(t *testing.T) {
			checkField(t, test.v.Validate(), test.field)
		})
	}
}

// TestValidateAllProblems checks that one Validate reports every problem,
// so an importer can list them all at once, and that too-long values are
// ErrTooLarge.
func TestValidateAllProblems(t *testing.T) {
	err := vigil.Claim{Stance: "x", Credibility: 9, Quote: huge}.Validate()
	got := strings.Join(fields(err), " ")
	if got != "act source stance credibility quote" {
		t.Errorf("fields %q", got)
	}
	if !errors.Is(err, vigil.ErrTooLarge) {
		t.Errorf("%v: not ErrTooLarge", err)
	}
	if strings.Contains(vigil.Person{Pseudonym: badUTF8}.Validate().Error(), "Grozny") {
		t.Error("error quotes the value")
	}
}

// TestJSON checks the record bodies' JSON field names, which the case file
// format and the API share.
func TestJSON(t *testing.T) {
	a := validAct
	a.Period = okPeriod
	a.VictimPersons = []vigil.ID{id1}
	b, _ := json.Marshal(a)
	for _, want := range []string{`"incident":"`, `"type":"arbitrary_detention"`, `"period":{"from":"2017-03","to":"2017-04-15"}`, `"victims":{"min":2,"max":5}`, `"victim_persons":["`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("act JSON %s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), `"place"`) {
		t.Errorf("act JSON %s shows a zero place", b)
	}
	c := validClaim
	c.Date = mustDate("2017-04")
	b, _ = json.Marshal(c)
	for _, want := range []string{`"stance":"affirms"`, `"credibility":2`, `"date":"2017-04"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("claim JSON %s lacks %s", b, want)
		}
	}
	b, _ = json.Marshal(validSource)
	if string(b) != `{"name":"Memorial hotline","type":"ngo","reliability":"B"}` {
		t.Errorf("source JSON %s", b)
	}
	for _, v := range []interface{ Validate() error }{validPerson, validPlace, validIncident, validSource, validClaim, validAct} {
		if err := v.Validate(); err != nil {
			t.Errorf("%T: %v", v, err)
		}
	}
}

func TestLineage(t *testing.T) {
	a, b, c := vigil.NewID(), vigil.NewID(), vigil.NewID()
	for _, test := range []struct {
		desc    string
		parents map[vigil.ID]vigil.ID
		want    []vigil.ID
		cycle   bool
	}{
		{"root", map[vigil.ID]vigil.ID{}, nil, false},
		{"chain", map[vigil.ID]vigil.ID{a: b, b: c}, []vigil.ID{b, c}, false},
		{"parent unknown", map[vigil.ID]vigil.ID{a: b}, []vigil.ID{b}, false},
		{"own parent", map[vigil.ID]vigil.ID{a: a}, nil, true},
		{"cycle above", map[vigil.ID]vigil.ID{a: b, b: c, c: b}, []vigil.ID{b, c}, true},
		{"cycle through a", map[vigil.ID]vigil.ID{a: b, b: a}, []vigil.ID{b}, true},
	} {
		t.Run(test.desc, func(t *testing.T) {
			got, cycle := vigil.Lineage(a, func(id vigil.ID) (vigil.ID, bool) { p, ok := test.parents[id]; return p, ok })
			if cycle != test.cycle || len(got) != len(test.want) {
				t.Fatalf("Lineage = %v, %v; want %v, %v", got, cycle, test.want, test.cycle)
			}
			for i := range got {
				if got[i] != test.want[i] {
					t.Errorf("ancestor %d = %v, want %v", i, got[i], test.want[i])
				}
			}
		})
	}
}

// fuzzRecord checks that unmarshalling arbitrary JSON into a record and
// validating it never panics, and that a valid record survives a JSON round
// trip unchanged.
func fuzzRecord[T interface{ Validate() error }](t *testing.T, data []byte) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return
	}
	if err := v.Validate(); err != nil {
		if !errors.Is(err, vigil.ErrInvalid) {
			t.Fatalf("Validate: %v does not wrap ErrInvalid", err)
		}
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal valid %#v: %v", v, err)
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal %s: %v", b, err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("round trip of %s invalid: %v", b, err)
	}
	b2, _ := json.Marshal(back)
	if string(b2) != string(b) {
		t.Fatalf("round trip changed %s to %s", b, b2)
	}
}

func FuzzActJSON(f *testing.F) {
	for _, s := range []string{
		`{"incident":"` + id1.String() + `","type":"torture","victims":{"min":1,"max":3},"period":{"from":"2017-03","to":"2017-04-15"},"victim_persons":["` + id2.String() + `"]}`,
		`{"incident":"` + id1.String() + `","type":"killing","victims":{"min":3,"max":1}}`,
		`{"incident":"00000000000000000000000000","type":"T","victims":{"min":-1,"max":1e9}}`,
		`{"type":"torture","period":{"to":"2017-02-30"}}`,
		`{"incident":"` + id1.String() + `","type":"torture","description":"\u0000\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRecord[vigil.Act](t, data) })
}

func FuzzClaimJSON(f *testing.F) {
	for _, s := range []string{
		`{"act":"` + id1.String() + `","source":"` + id2.String() + `","stance":"affirms","credibility":2,"quote":"Полная ложь","date":"2017-04","evidence":["` + id1.String() + `"]}`,
		`{"act":"` + id1.String() + `","source":"` + id2.String() + `","stance":"denies","credibility":6}`,
		`{"stance":"maybe","credibility":7,"date":"17-01"}`,
		`{"act":"` + id1.String() + `","source":"` + id2.String() + `","stance":"partially_affirms","credibility":0,"evidence":["` + id1.String() + `","` + id1.String() + `"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRecord[vigil.Claim](t, data) })
}
