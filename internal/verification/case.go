// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"sort"

	"groundtruth/internal/record"
)

// Case is the set of records the engine reasons over, indexed.
type Case struct {
	Actors         map[string]*record.Actor
	Places         map[string]*record.Place
	Weapons        map[string]*record.Weapon
	Treaties       map[string]*record.Treaty
	Memberships    []*record.Membership
	Incidents      map[string]*record.Incident
	Assessments    []*record.Assessment
	Claims         []*record.Claim
	Investigations []*record.Investigation
	Casualties     []*record.Casualty
	Victims        []*record.Victim
	Tallies        []*record.Tally

	// IncidentSlugs lists the incidents' slugs in order.
	IncidentSlugs []string

	// Indexes by incident slug, built once by NewCase.
	assessmentsBy map[string][]*record.Assessment
	claimsBy      map[string][]*record.Claim
	casualtiesBy  map[string][]*record.Casualty
	victimsBy     map[string][]*record.Victim
}

// NewCase indexes records. Records of other kinds are ignored; lists are
// kept in slug order so that every output is deterministic.
func NewCase(recs []record.Record) *Case {
	c := &Case{
		Actors: map[string]*record.Actor{}, Places: map[string]*record.Place{},
		Weapons: map[string]*record.Weapon{}, Treaties: map[string]*record.Treaty{},
		Incidents: map[string]*record.Incident{},
	}
	sorted := append([]record.Record(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key() < sorted[j].Key() })
	for _, r := range sorted {
		switch r := r.(type) {
		case *record.Actor:
			c.Actors[r.Slug] = r
		case *record.Place:
			c.Places[r.Slug] = r
		case *record.Weapon:
			c.Weapons[r.Slug] = r
		case *record.Treaty:
			c.Treaties[r.Slug] = r
		case *record.Membership:
			c.Memberships = append(c.Memberships, r)
		case *record.Incident:
			c.Incidents[r.Slug] = r
		case *record.Assessment:
			c.Assessments = append(c.Assessments, r)
		case *record.Claim:
			c.Claims = append(c.Claims, r)
		case *record.Investigation:
			c.Investigations = append(c.Investigations, r)
		case *record.Casualty:
			c.Casualties = append(c.Casualties, r)
		case *record.Victim:
			c.Victims = append(c.Victims, r)
		case *record.Tally:
			c.Tallies = append(c.Tallies, r)
		}
	}
	for s := range c.Incidents {
		c.IncidentSlugs = append(c.IncidentSlugs, s)
	}
	sort.Strings(c.IncidentSlugs)
	c.assessmentsBy, c.claimsBy = map[string][]*record.Assessment{}, map[string][]*record.Claim{}
	c.casualtiesBy, c.victimsBy = map[string][]*record.Casualty{}, map[string][]*record.Victim{}
	for _, a := range c.Assessments {
		c.assessmentsBy[a.IncidentSlug] = append(c.assessmentsBy[a.IncidentSlug], a)
	}
	for _, cl := range c.Claims {
		c.claimsBy[cl.IncidentSlug] = append(c.claimsBy[cl.IncidentSlug], cl)
	}
	for _, k := range c.Casualties {
		c.casualtiesBy[k.IncidentSlug] = append(c.casualtiesBy[k.IncidentSlug], k)
	}
	for _, v := range c.Victims {
		c.victimsBy[v.IncidentSlug] = append(c.victimsBy[v.IncidentSlug], v)
	}
	return c
}

// ActorName returns an actor's name, or its slug when it is not recorded.
func (c *Case) ActorName(slug string) string { return c.actorName(slug) }

func (c *Case) actorName(slug string) string {
	if a, ok := c.Actors[slug]; ok {
		return a.Name
	}
	return slug
}

// sideOf returns the side an actor belongs to: its Side, or itself.
func (c *Case) sideOf(slug string) string {
	if a, ok := c.Actors[slug]; ok && a.Side != "" {
		return a.Side
	}
	return slug
}

// countryOf returns the ISO code of the state an actor is or acts for.
func (c *Case) countryOf(slug string) string {
	for i := 0; i < 4 && slug != ""; i++ { // follow side links a few steps
		a, ok := c.Actors[slug]
		if !ok {
			return ""
		}
		if a.Type == "state" && a.Country != "" {
			return a.Country
		}
		if a.Side == "" || a.Side == slug {
			return a.Country
		}
		slug = a.Side
	}
	return ""
}

// alleged returns the alleged perpetrators of an incident.
func alleged(i *record.Incident) []string {
	var out []string
	for _, a := range i.Actors {
		if a.Role == "alleged_perpetrator" {
			out = append(out, a.Actor)
		}
	}
	return out
}

func (c *Case) assessmentsOf(incident string) []*record.Assessment { return c.assessmentsBy[incident] }

func (c *Case) claimsOf(incident string) []*record.Claim { return c.claimsBy[incident] }
