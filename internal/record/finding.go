// SPDX-License-Identifier: Apache-2.0

package record

// AssessmentKind is the question an assessment answers.
type AssessmentKind string

// Assessment kinds.
const (
	Authenticity    AssessmentKind = "authenticity"
	Geolocation     AssessmentKind = "geolocation"
	Chronolocation  AssessmentKind = "chronolocation"
	Identification  AssessmentKind = "identification"
	Attribution     AssessmentKind = "attribution"
	StatusOfVictims AssessmentKind = "status_of_victims"
	Munition        AssessmentKind = "munition"
)

var assessmentKinds = []AssessmentKind{Authenticity, Geolocation, Chronolocation, Identification, Attribution, StatusOfVictims, Munition}

// Assessment is a finding made by a named organisation using a stated
// method: the desk's own work or an outside investigator's. Likelihood and
// confidence are separate fields and either may be absent when the
// organisation stated none; they are never inferred from the wording.
type Assessment struct {
	Slug         string         `yaml:"slug" json:"slug"`
	IncidentSlug string         `yaml:"incident" json:"incident"`
	Type         AssessmentKind `yaml:"kind" json:"kind"`
	// Finding is a short paraphrase of what was found.
	Finding string `yaml:"finding" json:"finding"`
	// Value is the categorical answer where the kind has one: "authentic",
	// "not_authentic" for authenticity, a status for status_of_victims, an
	// actor slug for attribution, a weapon slug for munition.
	Value        string       `yaml:"value,omitempty" json:"value,omitempty"`
	Method       string       `yaml:"method,omitempty" json:"method,omitempty"`
	Likelihood   Likelihood   `yaml:"likelihood,omitempty" json:"likelihood,omitempty"`
	Confidence   Confidence   `yaml:"confidence,omitempty" json:"confidence,omitempty"`
	Verification Verification `yaml:"verification,omitempty" json:"verification,omitempty"`
	Organisation string       `yaml:"organisation" json:"organisation"`
	Date         Time         `yaml:"date" json:"date"`
	Limitations  string       `yaml:"limitations,omitempty" json:"limitations,omitempty"`
	Evidence     []string     `yaml:"evidence,omitempty" json:"evidence,omitempty"`
	// BasedOn lists assessments this one relies on; a finding based on
	// another is not independent corroboration of it.
	BasedOn []string `yaml:"based_on,omitempty" json:"based_on,omitempty"`
	// AboutClaims lists claims this assessment weighs: the desk's judgement
	// of a party's statement is a record of its own, never an edit of it.
	AboutClaims []string  `yaml:"about_claims,omitempty" json:"about_claims,omitempty"`
	Location    *Location `yaml:"location,omitempty" json:"location,omitempty"` // geolocation: the subject point
	// Camera and ViewDeg give, for a geolocation, where the camera stood and
	// which way it looked (degrees clockwise from true north), when known.
	Camera    *Location `yaml:"camera,omitempty" json:"camera,omitempty"`
	ViewDeg   *float64  `yaml:"view_direction_deg,omitempty" json:"view_direction_deg,omitempty"`
	Imagery   []Imagery `yaml:"reference_imagery,omitempty" json:"reference_imagery,omitempty"`
	Window    *Window   `yaml:"window,omitempty" json:"window,omitempty"` // chronolocation only
	SourceURL string    `yaml:"source_url,omitempty" json:"source_url,omitempty"`
}

// Imagery is reference imagery a geolocation was matched against. The
// acquisition date matters: a building may have stood in one image and not
// in the next.
type Imagery struct {
	Provider string `yaml:"provider" json:"provider"` // e.g. Maxar, Google Earth, Sentinel-2, Planet, street level
	Acquired Time   `yaml:"acquired,omitempty" json:"acquired,omitzero"`
	Ref      string `yaml:"ref,omitempty" json:"ref,omitempty"` // scene or image identifier
}

// Window is a chronolocation's bounding window.
type Window struct {
	From Time `yaml:"from" json:"from"`
	To   Time `yaml:"to" json:"to"`
}

var authenticityValues = []string{"authentic", "not_authentic", "manipulated", "staged", "misattributed"}

func (a *Assessment) Kind() Kind       { return KindAssessment }
func (a *Assessment) Key() string      { return a.Slug }
func (a *Assessment) Incident() string { return a.IncidentSlug }

func (a *Assessment) Validate() error {
	var c checker
	c.slug("slug", a.Slug)
	c.slug("incident", a.IncidentSlug)
	oneOf(&c, "kind", a.Type, false, assessmentKinds)
	c.required("finding", a.Finding)
	switch a.Type {
	case Authenticity:
		oneOf(&c, "value", a.Value, true, authenticityValues)
	case StatusOfVictims:
		oneOf(&c, "value", Status(a.Value), true, statuses)
	case Attribution, Munition:
		c.optSlug("value", a.Value)
	}
	oneOf(&c, "likelihood", a.Likelihood, true, Likelihoods)
	oneOf(&c, "confidence", a.Confidence, true, confidences)
	oneOf(&c, "verification", a.Verification, true, verifications)
	c.slug("organisation", a.Organisation)
	c.time("date", a.Date, true)
	for i, s := range a.Evidence {
		c.slug(fieldf("evidence[%d]", i), s)
	}
	for i, s := range a.BasedOn {
		c.slug(fieldf("based_on[%d]", i), s)
	}
	switch {
	case a.Type == Geolocation && a.Location == nil:
		c.fail("location", "is required for a geolocation: give lat, lon and radius_m")
	case a.Type != Geolocation && a.Location != nil:
		c.fail("location", "is only for geolocation assessments")
	}
	c.location("location", a.Location, false)
	c.location("camera", a.Camera, false)
	if (a.Camera != nil || a.ViewDeg != nil || len(a.Imagery) > 0) && a.Type != Geolocation {
		c.fail("camera", "camera, view_direction_deg and reference_imagery are only for geolocation assessments")
	}
	if a.ViewDeg != nil && (*a.ViewDeg < 0 || *a.ViewDeg >= 360) {
		c.fail("view_direction_deg", "%v is out of range: give degrees clockwise from north, 0 to less than 360", *a.ViewDeg)
	}
	for i, im := range a.Imagery {
		c.required(fieldf("reference_imagery[%d].provider", i), im.Provider)
		c.time(fieldf("reference_imagery[%d].acquired", i), im.Acquired, false)
	}
	for i, s := range a.AboutClaims {
		c.slug(fieldf("about_claims[%d]", i), s)
	}
	if a.Window != nil {
		if a.Type != Chronolocation {
			c.fail("window", "is only for chronolocation assessments")
		}
		c.time("window.from", a.Window.From, true)
		c.time("window.to", a.Window.To, true)
		c.order("window", a.Window.From, a.Window.To)
	}
	c.url("source_url", a.SourceURL)
	return c.err
}

func (a *Assessment) Refs() []Ref {
	var r refs
	r.add("incident", KindIncident, a.IncidentSlug)
	r.add("organisation", KindActor, a.Organisation)
	switch a.Type {
	case Attribution:
		r.add("value", KindActor, a.Value)
	case Munition:
		r.add("value", KindWeapon, a.Value)
	}
	r.addAll("evidence", KindEvidence, a.Evidence)
	r.addAll("based_on", KindAssessment, a.BasedOn)
	r.addAll("about_claims", KindClaim, a.AboutClaims)
	if a.Location != nil {
		r.add("location.supplied_by", KindActor, a.Location.Supplier)
	}
	if a.Camera != nil {
		r.add("camera.supplied_by", KindActor, a.Camera.Supplier)
	}
	return r
}

// Topic is the proposition a claim speaks to.
type Topic string

var topics = []Topic{
	"occurrence", "authenticity", "location", "time", "perpetrator",
	"status_of_victims", "identity_of_victims", "casualties", "munition",
	"legal_characterisation", "targeting", "responsibility", "other",
}

// Stance is a claim's position on its topic.
type Stance string

var stances = []Stance{"affirms", "denies", "disputes", "qualifies", "neutral"}

// Claim is a statement by a named party: who said what, when, where it was
// published. It is never the platform's finding; generated text always
// attributes it.
type Claim struct {
	Slug         string `yaml:"slug" json:"slug"`
	IncidentSlug string `yaml:"incident,omitempty" json:"incident,omitempty"`
	By           string `yaml:"by" json:"by"`
	// Speaker is the named official who spoke for By, if any. Only public
	// officials appear here, never witnesses.
	Speaker string `yaml:"speaker,omitempty" json:"speaker,omitempty"`
	Date    Time   `yaml:"date" json:"date"`
	About   Topic  `yaml:"about" json:"about"`
	Stance  Stance `yaml:"stance" json:"stance"`
	// Value is the claimed categorical answer where there is one, as for
	// assessments (e.g. "civilian" for status_of_victims).
	Value       string      `yaml:"value,omitempty" json:"value,omitempty"`
	Summary     string      `yaml:"summary" json:"summary"` // paraphrase, in the desk's words
	SourceURL   string      `yaml:"source_url,omitempty" json:"source_url,omitempty"`
	ReportedBy  string      `yaml:"reported_by,omitempty" json:"reported_by,omitempty"` // outlet relaying it
	Reliability Reliability `yaml:"reliability,omitempty" json:"reliability,omitempty"`
	Credibility Credibility `yaml:"credibility,omitempty" json:"credibility,omitempty"`
	Evidence    []string    `yaml:"evidence,omitempty" json:"evidence,omitempty"`
	// BasedOn lists claims this one repeats or relies on (an outlet quoting
	// a ministry): it is not independent of them.
	BasedOn []string `yaml:"based_on,omitempty" json:"based_on,omitempty"`
}

func (c *Claim) Kind() Kind       { return KindClaim }
func (c *Claim) Key() string      { return c.Slug }
func (c *Claim) Incident() string { return c.IncidentSlug }

func (cl *Claim) Validate() error {
	var c checker
	c.slug("slug", cl.Slug)
	c.optSlug("incident", cl.IncidentSlug)
	c.slug("by", cl.By)
	c.time("date", cl.Date, true)
	oneOf(&c, "about", cl.About, false, topics)
	oneOf(&c, "stance", cl.Stance, false, stances)
	c.required("summary", cl.Summary)
	c.url("source_url", cl.SourceURL)
	c.optSlug("reported_by", cl.ReportedBy)
	// A claim's value is a closed answer, as for assessments; it reaches
	// generated text, so free text is refused.
	switch cl.About {
	case "authenticity":
		oneOf(&c, "value", cl.Value, true, authenticityValues)
	case "status_of_victims":
		oneOf(&c, "value", Status(cl.Value), true, statuses)
	case "perpetrator", "responsibility", "munition":
		c.optSlug("value", cl.Value)
	default:
		if cl.Value != "" {
			c.fail("value", "claims about %s take no value: put what was said in the summary", cl.About)
		}
	}
	oneOf(&c, "reliability", cl.Reliability, true, reliabilities)
	oneOf(&c, "credibility", cl.Credibility, true, credibilities)
	for i, s := range cl.Evidence {
		c.slug(fieldf("evidence[%d]", i), s)
	}
	for i, s := range cl.BasedOn {
		c.slug(fieldf("based_on[%d]", i), s)
	}
	return c.err
}

func (cl *Claim) Refs() []Ref {
	var r refs
	r.add("incident", KindIncident, cl.IncidentSlug)
	r.add("by", KindActor, cl.By)
	r.add("reported_by", KindActor, cl.ReportedBy)
	switch cl.About {
	case "perpetrator", "responsibility":
		r.add("value", KindActor, cl.Value)
	case "munition":
		r.add("value", KindWeapon, cl.Value)
	}
	r.addAll("evidence", KindEvidence, cl.Evidence)
	r.addAll("based_on", KindClaim, cl.BasedOn)
	return r
}

// Investigation is a formal inquiry announced by a body, kept apart from
// the claims that body makes.
type Investigation struct {
	Slug         string `yaml:"slug" json:"slug"`
	IncidentSlug string `yaml:"incident" json:"incident"`
	OpenedBy     string `yaml:"opened_by" json:"opened_by"`
	OpenedOn     Time   `yaml:"opened_on" json:"opened_on"`
	AnnouncedBy  string `yaml:"announced_by,omitempty" json:"announced_by,omitempty"` // spokesperson, a public official
	Status       string `yaml:"status" json:"status"`
	Outcome      string `yaml:"outcome,omitempty" json:"outcome,omitempty"`
	Summary      string `yaml:"summary,omitempty" json:"summary,omitempty"`
	SourceURL    string `yaml:"source_url,omitempty" json:"source_url,omitempty"`
}

var investigationStatuses = []string{"announced", "open", "suspended", "closed", "unknown"}

func (v *Investigation) Kind() Kind       { return KindInvestigation }
func (v *Investigation) Key() string      { return v.Slug }
func (v *Investigation) Incident() string { return v.IncidentSlug }

func (v *Investigation) Validate() error {
	var c checker
	c.slug("slug", v.Slug)
	c.slug("incident", v.IncidentSlug)
	c.slug("opened_by", v.OpenedBy)
	c.time("opened_on", v.OpenedOn, true)
	oneOf(&c, "status", v.Status, false, investigationStatuses)
	c.url("source_url", v.SourceURL)
	return c.err
}

func (v *Investigation) Refs() []Ref {
	var r refs
	r.add("incident", KindIncident, v.IncidentSlug)
	r.add("opened_by", KindActor, v.OpenedBy)
	return r
}
