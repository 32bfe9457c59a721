package casefile

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteCSV writes f as one CSV table per array, for reading in a
// spreadsheet; it is not a format to import. For each kind in the order
// of [Kinds] it calls open, writes to the writer it returns (nil skips the
// kind) a header row and one row per record in key order, and flushes.
// The same file always gives the same bytes.
//
// The columns are the JSON names, nested ones joined with "." (period.from,
// victims.min); a place has one names.<lang> column per language used in
// the file, in order. References are keys. Lists (victim_persons,
// restricted, evidence, …) are joined with ";", and pairs (a person's
// private names, identifiers and contacts) are written kind=value, e.g.
// "Cyrl=…;Latn=…"; within an element, "\", ";" and "=" are escaped with a
// backslash. A text cell that starts with =, +, -, @, tab or carriage
// return gets a leading ' so that a spreadsheet shows it as text rather
// than running it as a formula.
func WriteCSV(f *File, open func(Kind) (io.Writer, error)) error {
	s := f.sorted()
	for _, kind := range Kinds() {
		w, err := open(kind)
		if err != nil {
			return fmt.Errorf("open CSV for %s: %w", kind.Array(), err)
		}
		if w == nil {
			continue
		}
		cw := csv.NewWriter(w)
		for _, row := range s.table(kind) {
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("write CSV of %s: %w", kind.Array(), err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write CSV of %s: %w", kind.Array(), err)
		}
	}
	return nil
}

// table returns the header and rows of one kind.
func (f *File) table(kind Kind) [][]string {
	var rows [][]string
	switch kind {
	case KindPlace:
		var langs []string
		for _, r := range f.Places {
			for l := range r.Names {
				if !slices.Contains(langs, l) {
					langs = append(langs, l)
				}
			}
		}
		slices.Sort(langs)
		head := []string{"key"}
		for _, l := range langs {
			head = append(head, "names."+l)
		}
		rows = append(rows, append(head, "kind", "parent", "coordinates.lat", "coordinates.lon"))
		for _, r := range f.Places {
			row := []string{text(r.Key)}
			for _, l := range langs {
				row = append(row, text(r.Names[l]))
			}
			lat, lon := "", ""
			if c := r.Coordinates; c != nil {
				lat, lon = strconv.FormatFloat(c.Lat, 'f', -1, 64), strconv.FormatFloat(c.Lon, 'f', -1, 64)
			}
			rows = append(rows, append(row, text(r.Kind), text(r.Parent), lat, lon))
		}
	case KindParty:
		rows = append(rows, []string{"key", "name", "parent"})
		for _, r := range f.Parties {
			rows = append(rows, []string{text(r.Key), text(r.Name), text(r.Parent)})
		}
	case KindSource:
		rows = append(rows, []string{"key", "name", "type", "reliability", "origin", "party"})
		for _, r := range f.Sources {
			rows = append(rows, []string{text(r.Key), text(r.Name), text(string(r.Type)), text(string(r.Reliability)), text(r.Origin), text(r.Party)})
		}
	case KindPerson:
		rows = append(rows, []string{"key", "pseudonym", "private.names", "private.identifiers", "private.contacts"})
		for _, r := range f.Persons {
			var names, ids, contacts []string
			if p := r.Private; p != nil {
				for _, n := range p.Names {
					names = append(names, pair(n.Script, n.Name))
				}
				for _, n := range p.Identifiers {
					ids = append(ids, pair(n.Kind, n.Value))
				}
				for _, n := range p.Contacts {
					contacts = append(contacts, pair(n.Kind, n.Value))
				}
			}
			rows = append(rows, []string{text(r.Key), text(r.Pseudonym), text(strings.Join(names, ";")), text(strings.Join(ids, ";")), text(strings.Join(contacts, ";"))})
		}
	case KindIncident:
		rows = append(rows, []string{"key", "title", "description", "period.from", "period.to", "place", "restricted"})
		for _, r := range f.Incidents {
			rows = append(rows, []string{text(r.Key), text(r.Title), text(r.Description), r.Period.From.String(), r.Period.To.String(), text(r.Place), list(r.Restricted)})
		}
	case KindAct:
		rows = append(rows, []string{"key", "incident", "type", "description", "period.from", "period.to", "place", "victims.min", "victims.max", "victim_persons", "perpetrators"})
		for _, r := range f.Acts {
			rows = append(rows, []string{text(r.Key), text(r.Incident), text(r.Type), text(r.Description), r.Period.From.String(), r.Period.To.String(), text(r.Place),
				strconv.Itoa(r.Victims.Min), strconv.Itoa(r.Victims.Max), list(r.VictimPersons), list(r.Perpetrators)})
		}
	case KindClaim:
		rows = append(rows, []string{"key", "act", "source", "stance", "credibility", "quote", "date", "evidence", "submissions"})
		for _, r := range f.Claims {
			rows = append(rows, []string{text(r.Key), text(r.Act), text(r.Source), text(string(r.Stance)), strconv.Itoa(int(r.Credibility)), text(r.Quote), r.Date.String(), list(r.Evidence), list(r.Submissions)})
		}
	}
	return rows
}

var listEscaper = strings.NewReplacer(`\`, `\\`, `;`, `\;`, `=`, `\=`)

// list joins escaped elements with ";".
func list(s []string) string {
	out := make([]string, len(s))
	for i, e := range s {
		out[i] = listEscaper.Replace(e)
	}
	return text(strings.Join(out, ";"))
}

func pair(k, v string) string { return listEscaper.Replace(k) + "=" + listEscaper.Replace(v) }

// text guards a cell against spreadsheet formula injection (OWASP, "CSV
// Injection").
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
