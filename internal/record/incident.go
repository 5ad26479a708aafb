// SPDX-License-Identifier: Apache-2.0

package record

// ACLED's taxonomy: disorder types, event types and sub-event types, in the
// codebook's hierarchy. An incident's three fields must form a path of it.
var acledTaxonomy = []struct {
	disorder []string
	event    string
	subs     []string
}{
	{[]string{"Political violence"}, "Battles", []string{"Government regains territory", "Non-state actor overtakes territory", "Armed clash"}},
	{[]string{"Political violence", "Demonstrations"}, "Protests", []string{"Excessive force against protesters"}},
	{[]string{"Demonstrations"}, "Protests", []string{"Protest with intervention", "Peaceful protest"}},
	{[]string{"Demonstrations"}, "Riots", []string{"Violent demonstration"}},
	{[]string{"Political violence"}, "Riots", []string{"Mob violence"}},
	{[]string{"Political violence"}, "Explosions/Remote violence", []string{"Chemical weapon", "Air/drone strike", "Suicide bomb", "Shelling/artillery/missile attack", "Remote explosive/landmine/IED", "Grenade"}},
	{[]string{"Political violence"}, "Violence against civilians", []string{"Sexual violence", "Attack", "Abduction/forced disappearance"}},
	{[]string{"Strategic developments"}, "Strategic developments", []string{"Agreement", "Arrests", "Change to group/activity", "Disrupted weapons use", "Headquarters or base established", "Looting/property destruction", "Non-violent transfer of territory", "Other"}},
}

// validACLED reports which of the three taxonomy fields is wrong, or "".
func validACLED(disorder, event, sub string) (field, msg string) {
	eventSeen, subSeen := false, false
	for _, row := range acledTaxonomy {
		if row.event != event {
			continue
		}
		eventSeen = true
		for _, s := range row.subs {
			if s != sub {
				continue
			}
			subSeen = true
			for _, d := range row.disorder {
				if d == disorder {
					return "", ""
				}
			}
		}
	}
	switch {
	case !eventSeen:
		return "event_type", "is not an ACLED event type (Battles, Protests, Riots, Explosions/Remote violence, Violence against civilians, Strategic developments)"
	case !subSeen:
		return "sub_event_type", "is not an ACLED sub-event type of this event type"
	default:
		return "disorder_type", "does not go with this event type in ACLED's taxonomy (Political violence, Demonstrations or Strategic developments)"
	}
}

// TimePrecision says how exactly an incident's date is known. A span is
// always given by start and end; the precision says how to read it.
type TimePrecision string

var timePrecisions = []TimePrecision{"minute", "hour", "day", "days", "week", "month", "year"}

// IncidentStatus is an incident's place in the desk's workflow.
type IncidentStatus string

var incidentStatuses = []IncidentStatus{"draft", "in_review", "published", "withdrawn"}

// Incident is the aggregate of accounts of one act of violence at one
// moment and place. Its casualties are separate [Casualty] and [Victim]
// records; running totals are [Tally] records and never count here.
type Incident struct {
	Slug          string         `yaml:"slug" json:"slug"`
	Title         string         `yaml:"title" json:"title"`
	DisorderType  string         `yaml:"disorder_type" json:"disorder_type"`
	EventType     string         `yaml:"event_type" json:"event_type"`
	SubEventType  string         `yaml:"sub_event_type" json:"sub_event_type"`
	Start         Time           `yaml:"date_start" json:"date_start"`
	End           Time           `yaml:"date_end,omitempty" json:"date_end,omitzero"`
	TimePrecision TimePrecision  `yaml:"time_precision" json:"time_precision"`
	Place         string         `yaml:"place,omitempty" json:"place,omitempty"`
	Location      *Location      `yaml:"location,omitempty" json:"location,omitempty"`
	Description   string         `yaml:"description,omitempty" json:"description,omitempty"`
	Status        IncidentStatus `yaml:"status" json:"status"`
	Actors        []Involvement  `yaml:"actors,omitempty" json:"actors,omitempty"`
	Weapons       []string       `yaml:"weapons,omitempty" json:"weapons,omitempty"`
	Related       []string       `yaml:"related,omitempty" json:"related,omitempty"` // other incidents
	// Circumstances of the people harmed, as shown by the evidence: the
	// legal rules on persons hors de combat turn on them.
	Circumstances []string `yaml:"circumstances,omitempty" json:"circumstances,omitempty"`
	// GradeOverride is an analyst's grade in place of the computed one; the
	// computed grade is always kept and shown beside it.
	GradeOverride *GradeOverride `yaml:"grade_override,omitempty" json:"grade_override,omitempty"`
}

// GradeOverride is an analyst's decision to grade an incident otherwise
// than the rules do.
type GradeOverride struct {
	Grade  string `yaml:"grade" json:"grade"`
	Reason string `yaml:"reason" json:"reason"`
	By     string `yaml:"by" json:"by"`
	Date   Time   `yaml:"date" json:"date"`
}

// Grades are Airwars' civilian-harm grades, from strongest to weakest.
var Grades = []string{"confirmed", "fair", "weak", "contested", "discounted"}

// Circumstances that may be recorded for the people harmed in an incident.
var circumstancesList = []string{"captive", "bound", "blindfolded", "surrendered", "wounded", "sick", "detained", "fleeing", "medical_personnel", "journalist"}

// Involvement names an actor's alleged role in an incident. Roles are
// allegations until an assessment says otherwise.
type Involvement struct {
	Actor string `yaml:"actor" json:"actor"`
	Role  string `yaml:"role" json:"role"`
}

var involvementRoles = []string{"alleged_perpetrator", "target", "affected", "responder"}

func (i *Incident) Kind() Kind       { return KindIncident }
func (i *Incident) Key() string      { return i.Slug }
func (i *Incident) Incident() string { return i.Slug }

func (i *Incident) Validate() error {
	var c checker
	c.slug("slug", i.Slug)
	c.required("title", i.Title)
	if f, msg := validACLED(i.DisorderType, i.EventType, i.SubEventType); f != "" {
		v := map[string]string{"disorder_type": i.DisorderType, "event_type": i.EventType, "sub_event_type": i.SubEventType}[f]
		c.fail(f, "%q %s", v, msg)
	}
	c.time("date_start", i.Start, true)
	c.time("date_end", i.End, false)
	c.order("date_end", i.Start, i.End)
	oneOf(&c, "time_precision", i.TimePrecision, false, timePrecisions)
	c.optSlug("place", i.Place)
	c.location("location", i.Location, true)
	if i.Place == "" && i.Location == nil {
		c.fail("place", "is required unless a location is given: name a place slug")
	}
	oneOf(&c, "status", i.Status, false, incidentStatuses)
	for k, a := range i.Actors {
		c.slug(fieldf("actors[%d].actor", k), a.Actor)
		oneOf(&c, fieldf("actors[%d].role", k), a.Role, false, involvementRoles)
	}
	for k, w := range i.Weapons {
		c.slug(fieldf("weapons[%d]", k), w)
	}
	for k, w := range i.Related {
		c.slug(fieldf("related[%d]", k), w)
	}
	for k, w := range i.Circumstances {
		oneOf(&c, fieldf("circumstances[%d]", k), w, false, circumstancesList)
	}
	if o := i.GradeOverride; o != nil {
		oneOf(&c, "grade_override.grade", o.Grade, false, Grades)
		c.required("grade_override.reason", o.Reason)
		c.required("grade_override.by", o.By)
		c.time("grade_override.date", o.Date, true)
	}
	return c.err
}

func (i *Incident) Refs() []Ref {
	var r refs
	r.add("place", KindPlace, i.Place)
	if i.Location != nil {
		r.add("location.supplied_by", KindActor, i.Location.Supplier)
	}
	for k, a := range i.Actors {
		r.add(fieldf("actors[%d].actor", k), KindActor, a.Actor)
	}
	r.addAll("weapons", KindWeapon, i.Weapons)
	r.addAll("related", KindIncident, i.Related)
	return r
}

// Ends returns the last instant the incident may have happened.
func (i *Incident) Ends() Time {
	if i.End.IsZero() {
		return i.Start
	}
	return i.End
}
