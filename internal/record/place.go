// SPDX-License-Identifier: Apache-2.0

package record

import "regexp"

// Place is a gazetteer entry: a reference into a gazetteer, its
// coordinates, and the names by which sides and sources call it.
// Administrative attribution is a political claim, so the de jure country
// and de facto control are kept apart.
type Place struct {
	Slug string `yaml:"slug" json:"slug"`
	// Name is the name the gazetteer entry carries; display uses the policy
	// over Names, not this field alone.
	Name      string    `yaml:"name" json:"name"`
	Gazetteer string    `yaml:"gazetteer,omitempty" json:"gazetteer,omitempty"` // e.g. geonames:148105
	Snapshot  Time      `yaml:"gazetteer_snapshot,omitempty" json:"gazetteer_snapshot,omitzero"`
	Location  *Location `yaml:"location,omitempty" json:"location,omitempty"`
	// Populated marks a town, city or village: the legal rules on
	// indiscriminate weapons turn on it.
	Populated bool        `yaml:"populated_area,omitempty" json:"populated_area,omitempty"`
	DeJure    string      `yaml:"de_jure_country,omitempty" json:"de_jure_country,omitempty"`
	Control   []Control   `yaml:"de_facto_control,omitempty" json:"de_facto_control,omitempty"`
	Names     []PlaceName `yaml:"names,omitempty" json:"names,omitempty"`
}

// PlaceName is one name of a place as some side or source uses it.
type PlaceName struct {
	Name   string   `yaml:"name" json:"name"`
	Lang   string   `yaml:"lang" json:"lang"`                           // BCP 47, e.g. hy, az, ru, en
	Script string   `yaml:"script,omitempty" json:"script,omitempty"`   // ISO 15924, e.g. Armn
	UsedBy []string `yaml:"used_by,omitempty" json:"used_by,omitempty"` // actor slugs (sides)
	Note   string   `yaml:"note,omitempty" json:"note,omitempty"`
}

// Control is one period of de facto control of a place by an actor.
type Control struct {
	By   string `yaml:"by" json:"by"`
	From Time   `yaml:"from,omitempty" json:"from,omitzero"`
	To   Time   `yaml:"to,omitempty" json:"to,omitzero"`
}

var (
	gazetteerRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*:[A-Za-z0-9._-]+$`)
	langRE      = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	scriptRE    = regexp.MustCompile(`^[A-Z][a-z]{3}$`)
)

func (p *Place) Kind() Kind       { return KindPlace }
func (p *Place) Key() string      { return p.Slug }
func (p *Place) Incident() string { return "" }

func (p *Place) Validate() error {
	var c checker
	c.slug("slug", p.Slug)
	c.required("name", p.Name)
	if p.Gazetteer != "" && !gazetteerRE.MatchString(p.Gazetteer) {
		c.fail("gazetteer", "%q is not a gazetteer reference such as geonames:148105", p.Gazetteer)
	}
	c.time("gazetteer_snapshot", p.Snapshot, false)
	c.location("location", p.Location, false)
	c.iso2("de_jure_country", p.DeJure, false)
	for i, ctl := range p.Control {
		f := fieldf("de_facto_control[%d]", i)
		c.slug(f+".by", ctl.By)
		c.time(f+".from", ctl.From, false)
		c.time(f+".to", ctl.To, false)
		c.order(f, ctl.From, ctl.To)
	}
	for i, n := range p.Names {
		f := fieldf("names[%d]", i)
		c.required(f+".name", n.Name)
		if !langRE.MatchString(n.Lang) {
			c.fail(f+".lang", "%q is not a language tag such as hy, az or ru", n.Lang)
		}
		if n.Script != "" && !scriptRE.MatchString(n.Script) {
			c.fail(f+".script", "%q is not an ISO 15924 script code such as Armn, Latn or Cyrl", n.Script)
		}
		for j, s := range n.UsedBy {
			c.slug(fieldf("%s.used_by[%d]", f, j), s)
		}
	}
	return c.err
}

func (p *Place) Refs() []Ref {
	var r refs
	if p.Location != nil {
		r.add("location.supplied_by", KindActor, p.Location.Supplier)
	}
	for i, ctl := range p.Control {
		r.add(fieldf("de_facto_control[%d].by", i), KindActor, ctl.By)
	}
	for i, n := range p.Names {
		r.addAll(fieldf("names[%d].used_by", i), KindActor, n.UsedBy)
	}
	return r
}
