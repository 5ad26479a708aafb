// SPDX-License-Identifier: Apache-2.0

// Package disclosure decides what each role may see of records already
// loaded: which incidents and evidence items, victims' names, the names of
// the desk's own staff, and which text of a record search may match and
// quote. Pages, the JSON API, search and `groundtruth show --public` all
// ask this package, so that no surface shows what another withholds.
//
// The policy it implements is written out in docs/web.md ("What each role
// sees"); its tests go through it role by role. It holds no SQL and no
// HTTP: callers load the records, this package decides.
//
// # The rules
//
//   - An incident is public once its status is published ([Published]);
//     signed-in readers see every incident.
//   - An evidence item is public when it is not marked personal data and
//     belongs to at least one published incident.
//   - The public reads victims as initials only; only roles that may read
//     personal data read names and notes.
//   - The public never reads the names of the desk's accounts: where a
//     record names one (who added an item, who overrode a grade) the public
//     reads the organisation instead.
//   - Search matches and quotes, for the public, only the text of a
//     record's public form: no digests, no file names, no account names, no
//     slugs of evidence items it may not open.
package disclosure

import (
	"encoding/json"

	"groundtruth/internal/account"
	"groundtruth/internal/record"
)

// DefaultOrganisation is the name the public reads in place of staff
// names when the desk has configured none.
const DefaultOrganisation = "groundtruth desk"

// Published reports whether an incident is published. It is the one place
// where an incident's status is compared for disclosure.
func Published(i *record.Incident) bool {
	return i != nil && i.Status == "published"
}

// Policy is the disclosure policy of one desk.
type Policy struct {
	// Organisation is what the public reads in place of any staff name;
	// empty means [DefaultOrganisation].
	Organisation string
}

func (p Policy) organisation() string {
	if p.Organisation == "" {
		return DefaultOrganisation
	}
	return p.Organisation
}

// SeesDrafts reports whether a role sees unpublished incidents and the
// records that belong to them.
func SeesDrafts(r account.Role) bool { return account.Allows(r, account.ReadAll) }

// SeesStaff reports whether a role reads the names of the desk's accounts.
func SeesStaff(r account.Role) bool { return account.Allows(r, account.ReadAll) }

// Incident reports whether a role may see an incident.
func (Policy) Incident(r account.Role, i *record.Incident) bool {
	return i != nil && (Published(i) || SeesDrafts(r))
}

// Evidence reports whether a role may see an evidence item's record.
// incident looks up one of the item's incidents; it returns nil for an
// incident that does not exist or is retired.
func (p Policy) Evidence(r account.Role, ev *record.Evidence, incident func(slug string) *record.Incident) bool {
	if ev == nil {
		return false
	}
	if SeesDrafts(r) {
		return true
	}
	if ev.PersonalData {
		return false
	}
	for _, slug := range ev.Incidents {
		if Published(incident(slug)) {
			return true
		}
	}
	return false
}

// Staff returns an account name as a role may read it: the name itself
// for signed-in staff, the organisation for the public. An empty name
// stays empty.
func (p Policy) Staff(r account.Role, name string) string {
	if name == "" || SeesStaff(r) {
		return name
	}
	return p.organisation()
}

// Record returns a record as a role may read it: the record itself when
// nothing in it is withheld from the role, otherwise a copy with what is
// withheld removed or replaced. The record passed in is never changed.
// Whether the role may see the record at all is a separate decision
// ([Policy.Incident], [Policy.Evidence]).
func (p Policy) Record(r account.Role, rec record.Record) record.Record {
	switch v := rec.(type) {
	case *record.Victim:
		if !account.Allows(r, account.ReadPersonal) {
			pub := v.Public()
			return &pub
		}
	case *record.Evidence:
		if !SeesStaff(r) {
			c := *v
			c.AddedBy = p.Staff(r, v.AddedBy)
			return &c
		}
	case *record.Incident:
		if v.GradeOverride != nil && !SeesStaff(r) {
			c, o := *v, *v.GradeOverride
			o.By = p.Staff(r, o.By)
			c.GradeOverride = &o
			return &c
		}
	}
	return rec
}

// Victim returns a victim as a role may read it.
func (p Policy) Victim(r account.Role, v *record.Victim) record.Victim {
	return *p.Record(r, v).(*record.Victim)
}

// SearchText returns the text search holds for a record, in two tiers:
// public is what the public may match and read of it, staff what signed-in
// staff may. Victims' names and notes are in neither: no search may be
// used to learn them. The public tier leaves out digests, file names, account
// names and references to evidence items (whose slugs may name withheld
// items), and holds nothing of an item marked personal data.
func SearchText(rec record.Record) (public, staff []string) {
	if v, ok := rec.(*record.Victim); ok {
		pub := v.Public()
		rec = &pub
	}
	staff = texts(rec)
	switch v := rec.(type) {
	case *record.Evidence:
		if v.PersonalData {
			return nil, staff
		}
		c := *v
		c.SHA256, c.Filename, c.AddedBy, c.Related = "", "", "", nil
		rec = &c
	case *record.Incident:
		if v.GradeOverride != nil {
			c, o := *v, *v.GradeOverride
			o.By = ""
			c.GradeOverride = &o
			rec = &c
		}
	case *record.Assessment:
		c := *v
		c.Evidence = nil
		rec = &c
	case *record.Claim:
		c := *v
		c.Evidence = nil
		rec = &c
	}
	return texts(rec), staff
}

// texts returns every string in a record's JSON form, in no particular
// order.
func texts(rec record.Record) []string {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil // records are plain data; Marshal fails only on programmer error
	}
	var doc any
	if json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var out []string
	var collect func(v any)
	collect = func(v any) {
		switch v := v.(type) {
		case string:
			if v != "" {
				out = append(out, v)
			}
		case []any:
			for _, x := range v {
				collect(x)
			}
		case map[string]any:
			for _, x := range v {
				collect(x)
			}
		}
	}
	collect(doc)
	return out
}
