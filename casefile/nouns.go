package casefile

import "github.com/vigil-hr/vigil"

// This file converts between the file's records, which refer by key, and
// the vigil nouns, which refer by ID. Both directions go field by field,
// so a field added to a noun and not here fails TestSchemaMatchesStructs
// (the file struct lacks it) rather than being dropped silently.

func idList(keys []string, id func(string) vigil.ID) []vigil.ID {
	if keys == nil {
		return nil
	}
	out := make([]vigil.ID, len(keys))
	for i, k := range keys {
		out[i] = id(k)
	}
	return out
}

func keyList(ids []vigil.ID, key func(vigil.ID) string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = key(id)
	}
	return out
}

func (r Place) noun(id func(string) vigil.ID) vigil.Place {
	return vigil.Place{Names: r.Names, Kind: r.Kind, Parent: id(r.Parent), Coordinates: r.Coordinates}
}

func placeOf(key string, n vigil.Place, k func(vigil.ID) string) Place {
	return Place{Key: key, Names: n.Names, Kind: n.Kind, Parent: k(n.Parent), Coordinates: n.Coordinates}
}

func (r Party) noun(id func(string) vigil.ID) vigil.Party {
	return vigil.Party{Name: r.Name, Parent: id(r.Parent)}
}

func partyOf(key string, n vigil.Party, k func(vigil.ID) string) Party {
	return Party{Key: key, Name: n.Name, Parent: k(n.Parent)}
}

func (r Source) noun(id func(string) vigil.ID) vigil.Source {
	return vigil.Source{Name: r.Name, Type: r.Type, Reliability: r.Reliability, Origin: r.Origin, Party: id(r.Party)}
}

func sourceOf(key string, n vigil.Source, k func(vigil.ID) string) Source {
	return Source{Key: key, Name: n.Name, Type: n.Type, Reliability: n.Reliability, Origin: n.Origin, Party: k(n.Party)}
}

func (r Person) noun() vigil.Person {
	return vigil.Person{Pseudonym: r.Pseudonym, Private: r.Private}
}

// personOf copies Private with empty lists as nil, as Parse reads them.
func personOf(key string, n vigil.Person) Person {
	p := Person{Key: key, Pseudonym: n.Pseudonym}
	if n.Private != nil {
		p.Private = &vigil.PersonPrivate{}
		if len(n.Private.Names) > 0 {
			p.Private.Names = n.Private.Names
		}
		if len(n.Private.Identifiers) > 0 {
			p.Private.Identifiers = n.Private.Identifiers
		}
		if len(n.Private.Contacts) > 0 {
			p.Private.Contacts = n.Private.Contacts
		}
	}
	return p
}

func (r Incident) noun(id func(string) vigil.ID) vigil.Incident {
	return vigil.Incident{Title: r.Title, Description: r.Description, Period: r.Period, Place: id(r.Place), Restricted: r.Restricted}
}

func incidentOf(key string, n vigil.Incident, k func(vigil.ID) string) Incident {
	return Incident{Key: key, Title: n.Title, Description: n.Description, Period: n.Period, Place: k(n.Place), Restricted: nilIfEmpty(n.Restricted)}
}

func (r Act) noun(id func(string) vigil.ID) vigil.Act {
	return vigil.Act{
		Incident: id(r.Incident), Type: r.Type, Description: r.Description, Period: r.Period,
		Place: id(r.Place), Victims: r.Victims,
		VictimPersons: idList(r.VictimPersons, id), Perpetrators: idList(r.Perpetrators, id),
	}
}

func actOf(key string, n vigil.Act, k func(vigil.ID) string) Act {
	return Act{
		Key: key, Incident: k(n.Incident), Type: n.Type, Description: n.Description, Period: n.Period,
		Place: k(n.Place), Victims: n.Victims,
		VictimPersons: keyList(n.VictimPersons, k), Perpetrators: keyList(n.Perpetrators, k),
	}
}

// noun returns the claim with evidence and submissions turned into IDs by
// ev, which parses them (validation uses a stand-in for malformed ones).
func (r Claim) noun(id, ev func(string) vigil.ID) vigil.Claim {
	return vigil.Claim{
		Act: id(r.Act), Source: id(r.Source), Stance: r.Stance, Credibility: r.Credibility,
		Quote: r.Quote, Date: r.Date,
		Evidence: idList(r.Evidence, ev), Submissions: idList(r.Submissions, ev),
	}
}

func claimOf(key string, n vigil.Claim, k func(vigil.ID) string) Claim {
	return Claim{
		Key: key, Act: k(n.Act), Source: k(n.Source), Stance: n.Stance, Credibility: n.Credibility,
		Quote: n.Quote, Date: n.Date,
		Evidence: idStrings(n.Evidence), Submissions: idStrings(n.Submissions),
	}
}

func idStrings(ids []vigil.ID) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
