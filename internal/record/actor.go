// SPDX-License-Identifier: Apache-2.0

package record

// ActorKind says what sort of actor or organisation a record describes.
type ActorKind string

var actorKinds = []ActorKind{
	"state", "government_body", "armed_force", "armed_group", "ngo", "media",
	"research_group", "international_organisation", "company", "person", "other",
}

// Actor is a state, body, armed force, organisation or named public figure
// that acts, assesses, claims or reports. Victims and witnesses are never
// actors: they are [Victim] records, whose personal data stays private.
type Actor struct {
	Slug string    `yaml:"slug" json:"slug"`
	Name string    `yaml:"name" json:"name"`
	Type ActorKind `yaml:"kind" json:"kind"`
	// Side is the slug of the party (an actor) this actor belongs to or
	// speaks for; empty for actors on no side.
	Side string `yaml:"side,omitempty" json:"side,omitempty"`
	// Party is true for a party to the conflict and for every body acting
	// for one. Statements by parties are always attributed.
	Party       bool        `yaml:"party_to_conflict" json:"party_to_conflict"`
	Country     string      `yaml:"country,omitempty" json:"country,omitempty"` // ISO 3166-1 alpha-2
	Reliability Reliability `yaml:"reliability,omitempty" json:"reliability,omitempty"`
	URL         string      `yaml:"url,omitempty" json:"url,omitempty"`
	Note        string      `yaml:"note,omitempty" json:"note,omitempty"`
}

func (a *Actor) Kind() Kind       { return KindActor }
func (a *Actor) Key() string      { return a.Slug }
func (a *Actor) Incident() string { return "" }

func (a *Actor) Validate() error {
	var c checker
	c.slug("slug", a.Slug)
	c.required("name", a.Name)
	oneOf(&c, "kind", a.Type, false, actorKinds)
	c.optSlug("side", a.Side)
	c.iso2("country", a.Country, a.Type == "state")
	oneOf(&c, "reliability", a.Reliability, true, reliabilities)
	c.url("url", a.URL)
	return c.err
}

func (a *Actor) Refs() []Ref {
	var r refs
	if a.Side != a.Slug {
		r.add("side", KindActor, a.Side)
	}
	return r
}
