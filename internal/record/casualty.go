// SPDX-License-Identifier: Apache-2.0

package record

// Count is a reported number of people as a range. A nil field was not
// reported; zero means reported as none. Best lies within [Low, High].
type Count struct {
	Low  *int `yaml:"low,omitempty" json:"low,omitempty"`
	Best *int `yaml:"best,omitempty" json:"best,omitempty"`
	High *int `yaml:"high,omitempty" json:"high,omitempty"`
}

// Reported reports whether any figure was given.
func (n *Count) Reported() bool { return n != nil && (n.Low != nil || n.Best != nil || n.High != nil) }

func (c *checker) count(field string, n *Count) {
	if n == nil {
		return
	}
	for name, v := range map[string]*int{"low": n.Low, "best": n.Best, "high": n.High} {
		if v != nil && (*v < 0 || *v > 10_000_000) {
			c.fail(field+"."+name, "%d is out of range: a count of people is 0 or more", *v)
		}
	}
	le := func(a, b *int) bool { return a == nil || b == nil || *a <= *b }
	if !le(n.Low, n.Best) || !le(n.Best, n.High) || !le(n.Low, n.High) {
		c.fail(field, "low, best and high must be in order (low ≤ best ≤ high)")
	}
	if !n.Reported() {
		c.fail(field, "gives no figure: give low, best or high, or leave the field out when nothing was reported")
	}
}

// Casualty is one reported count of people killed and injured in an
// incident, for one status and side, by one reporter.
type Casualty struct {
	Slug         string `yaml:"slug" json:"slug"`
	IncidentSlug string `yaml:"incident" json:"incident"`
	Status       Status `yaml:"status" json:"status"`
	Side         string `yaml:"side,omitempty" json:"side,omitempty"` // actor slug of the side the people belonged to
	Killed       *Count `yaml:"killed,omitempty" json:"killed,omitempty"`
	Injured      *Count `yaml:"injured,omitempty" json:"injured,omitempty"`
	ReportedBy   string `yaml:"reported_by" json:"reported_by"`
	AsOf         Time   `yaml:"as_of,omitempty" json:"as_of,omitzero"`
	Note         string `yaml:"note,omitempty" json:"note,omitempty"`
	SourceURL    string `yaml:"source_url,omitempty" json:"source_url,omitempty"`
}

func (k *Casualty) Kind() Kind       { return KindCasualty }
func (k *Casualty) Key() string      { return k.Slug }
func (k *Casualty) Incident() string { return k.IncidentSlug }

func (k *Casualty) Validate() error {
	var c checker
	c.slug("slug", k.Slug)
	c.slug("incident", k.IncidentSlug)
	oneOf(&c, "status", k.Status, false, statuses)
	c.optSlug("side", k.Side)
	c.count("killed", k.Killed)
	c.count("injured", k.Injured)
	if k.Killed == nil && k.Injured == nil {
		c.fail("killed", "a casualty record needs killed or injured")
	}
	c.slug("reported_by", k.ReportedBy)
	c.time("as_of", k.AsOf, false)
	c.url("source_url", k.SourceURL)
	return c.err
}

func (k *Casualty) Refs() []Ref {
	var r refs
	r.add("incident", KindIncident, k.IncidentSlug)
	r.add("side", KindActor, k.Side)
	r.add("reported_by", KindActor, k.ReportedBy)
	return r
}

// Victim is one person harmed. Name and Notes are personal data: they are
// stored, but every view outside the desk shows [Victim.Public] instead.
// Status is not a single fact: each party's claim about it is kept.
type Victim struct {
	Slug         string        `yaml:"slug" json:"slug"`
	IncidentSlug string        `yaml:"incident" json:"incident"`
	Name         string        `yaml:"name,omitempty" json:"name,omitempty"`
	Initials     string        `yaml:"initials,omitempty" json:"initials,omitempty"`
	Age          *int          `yaml:"age,omitempty" json:"age,omitempty"`
	Sex          string        `yaml:"sex,omitempty" json:"sex,omitempty"`
	Role         string        `yaml:"role" json:"role"`
	Side         string        `yaml:"side,omitempty" json:"side,omitempty"`
	Statuses     []StatusClaim `yaml:"status_claims,omitempty" json:"status_claims,omitempty"`
	Notes        string        `yaml:"notes,omitempty" json:"notes,omitempty"`
}

// StatusClaim is one party's or organisation's statement of a victim's
// status, with a likelihood when it came from an assessment.
type StatusClaim struct {
	Status     Status     `yaml:"status" json:"status"`
	By         string     `yaml:"by" json:"by"`
	Likelihood Likelihood `yaml:"likelihood,omitempty" json:"likelihood,omitempty"`
	Date       Time       `yaml:"date,omitempty" json:"date,omitzero"`
}

var (
	sexes       = []string{"female", "male", "unknown"}
	victimRoles = []string{"killed", "injured", "detained", "missing", "displaced"}
)

func (v *Victim) Kind() Kind       { return KindVictim }
func (v *Victim) Key() string      { return v.Slug }
func (v *Victim) Incident() string { return v.IncidentSlug }

func (v *Victim) Validate() error {
	var c checker
	c.slug("slug", v.Slug)
	c.slug("incident", v.IncidentSlug)
	if v.Name == "" && v.Initials == "" && v.Notes == "" {
		c.fail("initials", "a victim needs initials, a name or notes that tell them apart")
	}
	if len([]rune(v.Initials)) > 12 {
		c.fail("initials", "%q is too long for initials", v.Initials)
	}
	if v.Age != nil && (*v.Age < 0 || *v.Age > 130) {
		c.fail("age", "%d is out of range: give an age in years, 0 to 130", *v.Age)
	}
	oneOf(&c, "sex", v.Sex, true, sexes)
	oneOf(&c, "role", v.Role, false, victimRoles)
	c.optSlug("side", v.Side)
	for i, s := range v.Statuses {
		f := fieldf("status_claims[%d]", i)
		oneOf(&c, f+".status", s.Status, false, statuses)
		c.slug(f+".by", s.By)
		oneOf(&c, f+".likelihood", s.Likelihood, true, Likelihoods)
		c.time(f+".date", s.Date, false)
	}
	return c.err
}

func (v *Victim) Refs() []Ref {
	var r refs
	r.add("incident", KindIncident, v.IncidentSlug)
	r.add("side", KindActor, v.Side)
	for i, s := range v.Statuses {
		r.add(fieldf("status_claims[%d].by", i), KindActor, s.By)
	}
	return r
}

// Public returns the victim as any view outside the desk may show it: no
// name and no notes. Where only a name is held, initials are derived from
// it rather than showing the name.
func (v Victim) Public() Victim {
	if v.Initials == "" && v.Name != "" {
		v.Initials = InitialsOf(v.Name)
	}
	v.Name, v.Notes = "", ""
	v.Statuses = append([]StatusClaim(nil), v.Statuses...)
	return v
}

// InitialsOf returns "B.H." for "Bob Hope".
func InitialsOf(name string) string {
	var out []rune
	start := true
	for _, r := range name {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			start = true
		case start:
			out = append(out, r, '.')
			start = false
		}
	}
	return string(out)
}

// Tally is a running or aggregate total published by an issuer: "81
// civilians killed so far". It is a different kind of record from an
// incident's casualties, is never added to them, and no incident is
// inferred from it; it is shown beside their sum for reconciliation.
type Tally struct {
	Slug    string `yaml:"slug" json:"slug"`
	Issuer  string `yaml:"issuer" json:"issuer"`
	AsOf    Time   `yaml:"as_of" json:"as_of"`
	From    Time   `yaml:"period_start,omitempty" json:"period_start,omitzero"`
	Scope   Scope  `yaml:"scope" json:"scope"`
	Killed  *Count `yaml:"killed,omitempty" json:"killed,omitempty"`
	Injured *Count `yaml:"injured,omitempty" json:"injured,omitempty"`
	Note    string `yaml:"note,omitempty" json:"note,omitempty"`
	// ReportedBy is the outlet through which the figure is known, when the
	// issuer did not publish it directly to us.
	ReportedBy string `yaml:"reported_by,omitempty" json:"reported_by,omitempty"`
	SourceURL  string `yaml:"source_url,omitempty" json:"source_url,omitempty"`
	// PartOf names a broader tally this one breaks down.
	PartOf string `yaml:"part_of,omitempty" json:"part_of,omitempty"`
}

// Scope says what a tally counts: a place or country, a side, a status.
type Scope struct {
	Description string `yaml:"description" json:"description"`
	Country     string `yaml:"country,omitempty" json:"country,omitempty"`
	Place       string `yaml:"place,omitempty" json:"place,omitempty"`
	Side        string `yaml:"side,omitempty" json:"side,omitempty"`
	Status      Status `yaml:"status,omitempty" json:"status,omitempty"`
}

func (t *Tally) Kind() Kind       { return KindTally }
func (t *Tally) Key() string      { return t.Slug }
func (t *Tally) Incident() string { return "" }

func (t *Tally) Validate() error {
	var c checker
	c.slug("slug", t.Slug)
	c.slug("issuer", t.Issuer)
	c.time("as_of", t.AsOf, true)
	c.time("period_start", t.From, false)
	c.order("as_of", t.From, t.AsOf)
	c.required("scope.description", t.Scope.Description)
	c.iso2("scope.country", t.Scope.Country, false)
	c.optSlug("scope.place", t.Scope.Place)
	c.optSlug("scope.side", t.Scope.Side)
	oneOf(&c, "scope.status", t.Scope.Status, true, statuses)
	c.count("killed", t.Killed)
	c.count("injured", t.Injured)
	if t.Killed == nil && t.Injured == nil {
		c.fail("killed", "a tally needs killed or injured")
	}
	c.optSlug("reported_by", t.ReportedBy)
	c.url("source_url", t.SourceURL)
	c.optSlug("part_of", t.PartOf)
	return c.err
}

func (t *Tally) Refs() []Ref {
	var r refs
	r.add("issuer", KindActor, t.Issuer)
	r.add("scope.place", KindPlace, t.Scope.Place)
	r.add("scope.side", KindActor, t.Scope.Side)
	r.add("reported_by", KindActor, t.ReportedBy)
	if t.PartOf != t.Slug {
		r.add("part_of", KindTally, t.PartOf)
	}
	return r
}

// New returns an empty record of kind k, for decoding.
func New(k Kind) Record {
	switch k {
	case KindActor:
		return new(Actor)
	case KindPlace:
		return new(Place)
	case KindWeapon:
		return new(Weapon)
	case KindTreaty:
		return new(Treaty)
	case KindMembership:
		return new(Membership)
	case KindIncident:
		return new(Incident)
	case KindEvidence:
		return new(Evidence)
	case KindAssessment:
		return new(Assessment)
	case KindClaim:
		return new(Claim)
	case KindInvestigation:
		return new(Investigation)
	case KindCasualty:
		return new(Casualty)
	case KindVictim:
		return new(Victim)
	case KindTally:
		return new(Tally)
	}
	return nil
}
