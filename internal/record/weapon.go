// SPDX-License-Identifier: Apache-2.0

package record

import "time"

// WeaponClass groups weapons the way the legal rules need: a treaty bans a
// class, and a rule on wide-area effects applies to several classes.
type WeaponClass string

var weaponClasses = []WeaponClass{
	"cluster_munition", "ballistic_missile", "cruise_missile", "missile",
	"rocket_artillery", "tube_artillery", "mortar", "air_dropped_bomb",
	"loitering_munition", "drone", "small_arms", "landmine", "incendiary",
	"thermobaric", "other", "unknown",
}

// Weapon is an entry of the weapons catalogue.
type Weapon struct {
	Slug    string      `yaml:"slug" json:"slug"`
	Name    string      `yaml:"name" json:"name"`
	Class   WeaponClass `yaml:"class" json:"class"`
	Maker   string      `yaml:"maker,omitempty" json:"maker,omitempty"`
	Origin  string      `yaml:"country_of_origin,omitempty" json:"country_of_origin,omitempty"` // ISO 3166-1 alpha-2
	Note    string      `yaml:"note,omitempty" json:"note,omitempty"`
	Sources []string    `yaml:"sources,omitempty" json:"sources,omitempty"`
}

func (w *Weapon) Kind() Kind       { return KindWeapon }
func (w *Weapon) Key() string      { return w.Slug }
func (w *Weapon) Incident() string { return "" }
func (w *Weapon) Refs() []Ref      { return nil }

func (w *Weapon) Validate() error {
	var c checker
	c.slug("slug", w.Slug)
	c.required("name", w.Name)
	oneOf(&c, "class", w.Class, false, weaponClasses)
	c.iso2("country_of_origin", w.Origin, false)
	for i, s := range w.Sources {
		c.url(fieldf("sources[%d]", i), s)
	}
	return c.err
}

// Treaty is an international instrument whose application to an incident
// depends on which states were bound on its date.
type Treaty struct {
	Slug       string        `yaml:"slug" json:"slug"`
	Name       string        `yaml:"name" json:"name"`
	Adopted    Time          `yaml:"adopted,omitempty" json:"adopted,omitzero"`
	OpenedOn   Time          `yaml:"opened_for_signature,omitempty" json:"opened_for_signature,omitzero"`
	InForce    Time          `yaml:"entry_into_force,omitempty" json:"entry_into_force,omitzero"`
	Depositary string        `yaml:"depositary,omitempty" json:"depositary,omitempty"`
	Prohibits  []WeaponClass `yaml:"prohibits,omitempty" json:"prohibits,omitempty"`
	SourceURL  string        `yaml:"source_url,omitempty" json:"source_url,omitempty"`
}

func (t *Treaty) Kind() Kind       { return KindTreaty }
func (t *Treaty) Key() string      { return t.Slug }
func (t *Treaty) Incident() string { return "" }
func (t *Treaty) Refs() []Ref      { return nil }

func (t *Treaty) Validate() error {
	var c checker
	c.slug("slug", t.Slug)
	c.required("name", t.Name)
	c.time("adopted", t.Adopted, false)
	c.time("opened_for_signature", t.OpenedOn, false)
	c.time("entry_into_force", t.InForce, false)
	c.order("entry_into_force", t.Adopted, t.InForce)
	for i, w := range t.Prohibits {
		oneOf(&c, fieldf("prohibits[%d]", i), w, false, weaponClasses)
	}
	c.url("source_url", t.SourceURL)
	return c.err
}

// ConsentType is how a state expressed consent to be bound.
type ConsentType string

var consentTypes = []ConsentType{"ratification", "accession", "succession", "acceptance", "approval"}

// Membership is one state's relation to one treaty, with the dates that
// decide whether it was bound on a given day. A state with no membership
// record is not a party.
type Membership struct {
	Slug               string      `yaml:"slug" json:"slug"`
	Treaty             string      `yaml:"treaty" json:"treaty"`
	State              string      `yaml:"state" json:"state"` // ISO 3166-1 alpha-2
	Signed             Time        `yaml:"signature,omitempty" json:"signature,omitzero"`
	Consent            Time        `yaml:"consent,omitempty" json:"consent,omitzero"`
	ConsentType        ConsentType `yaml:"consent_type,omitempty" json:"consent_type,omitempty"`
	InForce            Time        `yaml:"entry_into_force,omitempty" json:"entry_into_force,omitzero"`
	WithdrawalNotified Time        `yaml:"withdrawal_notified,omitempty" json:"withdrawal_notified,omitzero"`
	WithdrawalEffect   Time        `yaml:"withdrawal_effective,omitempty" json:"withdrawal_effective,omitzero"`
	SourceURL          string      `yaml:"source_url,omitempty" json:"source_url,omitempty"`
	Retrieved          Time        `yaml:"retrieved_at,omitempty" json:"retrieved_at,omitzero"`
}

func (m *Membership) Kind() Kind       { return KindMembership }
func (m *Membership) Key() string      { return m.Slug }
func (m *Membership) Incident() string { return "" }

func (m *Membership) Refs() []Ref {
	var r refs
	r.add("treaty", KindTreaty, m.Treaty)
	return r
}

func (m *Membership) Validate() error {
	var c checker
	c.slug("slug", m.Slug)
	c.slug("treaty", m.Treaty)
	c.iso2("state", m.State, true)
	c.time("signature", m.Signed, false)
	c.time("consent", m.Consent, false)
	oneOf(&c, "consent_type", m.ConsentType, m.Consent.IsZero(), consentTypes)
	c.time("entry_into_force", m.InForce, false)
	c.time("withdrawal_notified", m.WithdrawalNotified, false)
	c.time("withdrawal_effective", m.WithdrawalEffect, false)
	c.order("consent", m.Signed, m.Consent)
	c.order("entry_into_force", m.Consent, m.InForce)
	c.order("withdrawal_effective", m.InForce, m.WithdrawalEffect)
	c.url("source_url", m.SourceURL)
	c.time("retrieved_at", m.Retrieved, false)
	return c.err
}

// BoundOn reports whether the state was bound by the treaty on day: the
// treaty had entered into force for it and any withdrawal had not yet taken
// effect. All dates are compared as UTC calendar days: a treaty binds from
// the start of its day of entry into force, and a withdrawal takes effect
// at the start of its day.
func (m *Membership) BoundOn(day Time) bool {
	if m.InForce.IsZero() || day.IsZero() {
		return false
	}
	d := calendarDay(day)
	if d.Before(calendarDay(m.InForce)) {
		return false
	}
	return m.WithdrawalEffect.IsZero() || d.Before(calendarDay(m.WithdrawalEffect))
}

func calendarDay(t Time) time.Time {
	u := t.Std().UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}
