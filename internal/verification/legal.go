// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"fmt"
	"slices"
	"sort"

	"groundtruth/internal/record"
)

// LegalRule maps facts to a potential violation. The table below is data:
// a rule applies when every condition it sets holds. Flags are always
// "potential": the platform records facts and parties' characterisations;
// it makes no legal finding.
type LegalRule struct {
	ID    string
	Title string // always begins "Potential"
	// Conditions; an empty condition does not constrain.
	WeaponClasses []record.WeaponClass // one of the incident's weapons is of one of these classes
	Populated     bool                 // the incident's place is a populated area
	Circumstances []string             // the people harmed were in one of these circumstances
	Killed        bool                 // someone was reported killed
	// Law the rule cites.
	Treaties  []string // treaty slugs whose applicability is stated for every state involved
	Customary string   // the customary rule that applies whatever the treaties
	Cites     []string // further instruments
	Note      string
}

// LegalRules is the rules table. Citations marked "unconfirmed" have not
// been checked against the primary text (see domain-standards.md §7).
var LegalRules = []LegalRule{
	{
		ID:            "cluster-munitions-populated-area",
		Title:         "Potential indiscriminate attack: cluster munitions used in a populated area",
		WeaponClasses: []record.WeaponClass{"cluster_munition"},
		Populated:     true,
		Treaties:      []string{"ccm"},
		Customary:     "customary IHL: distinction and the prohibition of indiscriminate attacks (ICRC customary IHL Rules 1, 11 and 12; unconfirmed)",
		Cites:         []string{"Convention on Cluster Munitions, art. 1 (binds its parties only)"},
	},
	{
		ID:    "explosive-weapons-populated-area",
		Title: "Potential indiscriminate or disproportionate attack: explosive weapons with wide-area effects used in a populated area",
		WeaponClasses: []record.WeaponClass{"cluster_munition", "ballistic_missile", "cruise_missile", "missile",
			"rocket_artillery", "tube_artillery", "mortar", "air_dropped_bomb", "thermobaric", "incendiary"},
		Populated: true,
		Customary: "customary IHL: prohibition of indiscriminate attacks and proportionality (ICRC customary IHL Rules 11, 12 and 14; unconfirmed)",
		Cites:     []string{"Additional Protocol I, art. 51(4)-(5) (binds its parties only; unconfirmed)"},
	},
	{
		ID:            "persons-hors-de-combat",
		Title:         "Potential war crime: killing of persons hors de combat",
		Circumstances: []string{"captive", "bound", "blindfolded", "surrendered", "wounded", "sick", "detained"},
		Killed:        true,
		Customary:     "customary IHL: attacking persons hors de combat and murder are prohibited (ICRC customary IHL Rules 47 and 89; unconfirmed)",
		Cites:         []string{"Geneva Conventions, common art. 3 (unconfirmed)", "Rome Statute, art. 8 (unconfirmed)"},
		Note:          "applies whatever the civilian or combatant status of the persons killed",
	},
}

// Flag is a legal rule that the facts of an incident engage.
type Flag struct {
	Rule      string   `json:"rule"`
	Title     string   `json:"title"`
	Facts     []string `json:"facts"`   // the facts that met each condition
	Records   []string `json:"records"` // kind/slug of the records behind them
	Customary string   `json:"customary_law"`
	Cites     []string `json:"cites,omitempty"`
	Note      string   `json:"note,omitempty"`
	// Treaties states, for every treaty the rule names and every state
	// involved, whether the state was bound on the incident's date.
	Treaties []Applicability `json:"treaties"`
	// Law says which law applies in the end: the treaty for the states it
	// bound, customary law for everyone.
	Law string `json:"law"`
}

// Applicability is one state's relation to one treaty on one day.
type Applicability struct {
	Treaty string `json:"treaty"`
	Name   string `json:"name"`
	State  string `json:"state"` // ISO 3166-1 alpha-2
	Date   string `json:"date"`
	Bound  bool   `json:"bound"`
	Basis  string `json:"basis"`
}

// weaponsOf returns the weapons linked to an incident, directly or through
// munition findings, with the record behind each.
func (c *Case) weaponsOf(i *record.Incident) map[string]string {
	out := map[string]string{}
	for _, w := range i.Weapons {
		out[w] = "incident/" + i.Slug
	}
	for _, a := range c.assessmentsOf(i.Slug) {
		if a.Type == record.Munition && a.Value != "" {
			out[a.Value] = "assessment/" + a.Slug
		}
	}
	return out
}

// statesInvolved returns the states whose obligations matter: the parties
// to the conflict, the states of the alleged perpetrators, and the state
// the place belongs to de jure.
func (c *Case) statesInvolved(i *record.Incident) []string {
	set := map[string]bool{}
	for _, a := range c.Actors {
		if a.Type == "state" && a.Party && a.Country != "" {
			set[a.Country] = true
		}
	}
	for _, p := range alleged(i) {
		if cc := c.countryOf(p); cc != "" {
			set[cc] = true
		}
	}
	if p, ok := c.Places[i.Place]; ok && p.DeJure != "" {
		set[p.DeJure] = true
	}
	var out []string
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (c *Case) stateName(iso string) string {
	var names []string
	for _, a := range c.Actors {
		if a.Type == "state" && a.Country == iso {
			names = append(names, a.Name)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		return names[0]
	}
	return iso
}

// flags evaluates the rules table for an incident.
func (c *Case) flags(i *record.Incident, cas IncidentCasualties) []Flag {
	out := []Flag{}
	weapons := c.weaponsOf(i)
	var slugs []string
	for w := range weapons {
		slugs = append(slugs, w)
	}
	sort.Strings(slugs)
	for _, r := range LegalRules {
		f := Flag{Rule: r.ID, Title: r.Title, Customary: r.Customary, Cites: r.Cites, Note: r.Note, Facts: []string{}, Records: []string{}, Treaties: []Applicability{}}
		ok := true
		if len(r.WeaponClasses) > 0 {
			found := false
			for _, w := range slugs {
				if wr, in := c.Weapons[w]; in && slices.Contains(r.WeaponClasses, wr.Class) {
					found = true
					f.Facts = append(f.Facts, fmt.Sprintf("weapon %s (%s)", wr.Name, wr.Class))
					f.Records = append(f.Records, weapons[w], "weapon/"+w)
					break
				}
			}
			ok = ok && found
		}
		if r.Populated {
			p, in := c.Places[i.Place]
			if in && p.Populated {
				f.Facts = append(f.Facts, "populated area: "+p.Name)
				f.Records = append(f.Records, "place/"+p.Slug)
			} else {
				ok = false
			}
		}
		if len(r.Circumstances) > 0 {
			found := ""
			for _, s := range i.Circumstances {
				if slices.Contains(r.Circumstances, s) {
					found = s
					break
				}
			}
			if found == "" {
				ok = false
			} else {
				f.Facts = append(f.Facts, "the people harmed were "+found)
				f.Records = append(f.Records, "incident/"+i.Slug)
			}
		}
		if r.Killed {
			if cas.Killed.Reported() && first(cas.Killed.Best, cas.Killed.High, cas.Killed.Low) != nil && *first(cas.Killed.Best, cas.Killed.High, cas.Killed.Low) > 0 || cas.Victims["killed"] > 0 {
				f.Facts = append(f.Facts, "people were reported killed")
			} else {
				ok = false
			}
		}
		if !ok {
			continue
		}
		bound := 0
		for _, t := range r.Treaties {
			tr, in := c.Treaties[t]
			if !in {
				continue
			}
			for _, st := range c.statesInvolved(i) {
				a := Applicability{Treaty: t, Name: tr.Name, State: st, Date: i.Start.String(), Basis: "no membership recorded"}
				// A state may have joined, left and joined again: it is bound
				// when any of its memberships binds it on the day.
				for _, m := range c.Memberships {
					if m.Treaty != t || m.State != st || a.Bound {
						continue
					}
					switch {
					case m.BoundOn(i.Start):
						a.Bound, a.Basis = true, "in force for the state since "+m.InForce.String()
					case !m.WithdrawalEffect.IsZero() && !i.Start.Std().Before(m.WithdrawalEffect.Std()):
						a.Basis = "withdrawal effective " + m.WithdrawalEffect.String()
					default:
						a.Basis = "not yet in force for the state"
					}
				}
				if a.Bound {
					bound++
				}
				out := a
				f.Treaties = append(f.Treaties, out)
				f.Records = append(f.Records, "treaty/"+t)
			}
		}
		switch {
		case len(f.Treaties) == 0:
			f.Law = r.Customary
		case bound == 0:
			f.Law = "no state involved was bound by the treaty on the date; " + r.Customary + " applies"
		default:
			f.Law = "the treaty binds the states marked bound; " + r.Customary + " applies to all"
		}
		f.Records = dedupe(f.Records)
		out = append(out, f)
	}
	return out
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Characterisation is a legal characterisation made by a party: shown as
// that party's claim, never as the platform's finding.
type Characterisation struct {
	Claim string `json:"claim"`
	By    string `json:"by"`
	Date  string `json:"date"`
}

func (c *Case) characterisations(incident string) []Characterisation {
	out := []Characterisation{}
	for _, cl := range c.claimsOf(incident) {
		if cl.About == "legal_characterisation" {
			out = append(out, Characterisation{Claim: cl.Slug, By: cl.By, Date: cl.Date.String()})
		}
	}
	return out
}
