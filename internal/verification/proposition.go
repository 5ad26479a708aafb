// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"fmt"
	"slices"

	"groundtruth/internal/record"
)

// Proposition is a question every incident raises.
type Proposition string

// The propositions, in the order reports list them.
const (
	Authentic      Proposition = "authenticity"   // is the material genuine?
	Where          Proposition = "location"       // where did it happen?
	When           Proposition = "time"           // when did it happen?
	Who            Proposition = "perpetrator"    // who did it?
	VictimsStatus  Proposition = "victims_status" // were the victims civilians?
	WhichMunition  Proposition = "munition"       // which weapon?
	Identification Proposition = "identification" // who is seen?
)

// Propositions lists every proposition in report order.
var Propositions = []Proposition{Authentic, Where, When, Who, VictimsStatus, WhichMunition, Identification}

// propositionOf maps assessment kinds and claim topics to propositions.
var (
	byAssessment = map[record.AssessmentKind]Proposition{
		record.Authenticity: Authentic, record.Geolocation: Where, record.Chronolocation: When,
		record.Attribution: Who, record.StatusOfVictims: VictimsStatus, record.Munition: WhichMunition,
		record.Identification: Identification,
	}
	byTopic = map[record.Topic]Proposition{
		"authenticity": Authentic, "location": Where, "time": When, "perpetrator": Who,
		"responsibility": Who, "status_of_victims": VictimsStatus, "munition": WhichMunition,
	}
)

// Status is a proposition's verdict.
type Status string

// Verdicts, from strongest to weakest support.
const (
	Corroborated Status = "corroborated"  // two or more independent findings agree, nothing disputes them
	SingleSource Status = "single_source" // findings agree but are not independently confirmed
	Contested    Status = "contested"     // findings or parties' claims disagree
	Claimed      Status = "claimed"       // only parties' claims, no finding
	Unassessed   Status = "unassessed"    // nothing recorded
)

// Source is one record that bears on a proposition.
type Source struct {
	Kind       string            `json:"kind"` // assessment or claim
	Slug       string            `json:"slug"`
	By         string            `json:"by"` // organisation or claimant (actor slug)
	Value      string            `json:"value,omitempty"`
	Likelihood record.Likelihood `json:"likelihood,omitempty"`
	Confidence record.Confidence `json:"confidence,omitempty"`
	Stance     record.Stance     `json:"stance,omitempty"`
	Date       string            `json:"date,omitempty"`
}

// Verdict is the state of one proposition with its reasons.
type Verdict struct {
	Proposition Proposition `json:"proposition"`
	Status      Status      `json:"status"`
	// Value is the answer the supporting findings give: an actor or weapon
	// slug, a status, "authentic", or for a location the first finding's
	// point as "lat,lon".
	Value string `json:"value,omitempty"`
	// CorroboratedBy lists the pairs of independent findings that agree.
	CorroboratedBy [][2]string `json:"corroborated_by,omitempty"`
	For            []Source    `json:"for"`
	Against        []Source    `json:"against"`
	// Other lists records that bear on the proposition without taking a
	// side: findings with no answer, statements that only qualify.
	Other []Source `json:"other,omitempty"`
}

// Options tunes the engine. The zero value is the default.
type Options struct {
	// AgreeWithinM is added to the larger of two geolocations' radii to
	// decide whether they agree. Zero means 100 m.
	AgreeWithinM float64
}

func (o Options) agreeWithin() float64 {
	if o.AgreeWithinM <= 0 {
		return 100
	}
	return o.AgreeWithinM
}

// basedOn reports whether assessment a rests, directly or through others,
// on assessment b.
func (c *Case) basedOn(a, b *record.Assessment) bool {
	seen := map[string]bool{}
	var walk func(x *record.Assessment) bool
	walk = func(x *record.Assessment) bool {
		for _, s := range x.BasedOn {
			if s == b.Slug {
				return true
			}
			if seen[s] {
				continue
			}
			seen[s] = true
			for _, y := range c.Assessments {
				if y.Slug == s && walk(y) {
					return true
				}
			}
		}
		return false
	}
	return walk(a)
}

// independent reports whether two findings count as independent: made by
// different organisations, and neither resting on the other.
func (c *Case) independent(a, b *record.Assessment) bool {
	return a.Organisation != b.Organisation && !c.basedOn(a, b) && !c.basedOn(b, a)
}

// agree reports whether two findings of one proposition say the same.
func agree(a, b *record.Assessment, within float64) bool {
	if a.Type == record.Geolocation {
		if a.Location == nil || b.Location == nil {
			return false
		}
		return record.DistanceM(*a.Location, *b.Location) <= max(a.Location.RadiusM, b.Location.RadiusM)+within
	}
	return a.Value != "" && a.Value == b.Value
}

func answered(a *record.Assessment) bool {
	if a.Type == record.Geolocation {
		return a.Location != nil
	}
	return a.Value != ""
}

func assessmentSource(a *record.Assessment) Source {
	v := a.Value
	if a.Type == record.Geolocation && a.Location != nil {
		v = fmt.Sprintf("%.5f,%.5f", a.Location.Lat, a.Location.Lon)
	}
	return Source{Kind: "assessment", Slug: a.Slug, By: a.Organisation, Value: v, Likelihood: a.Likelihood, Confidence: a.Confidence, Date: a.Date.String()}
}

func claimSource(cl *record.Claim) Source {
	return Source{Kind: "claim", Slug: cl.Slug, By: cl.By, Value: cl.Value, Stance: cl.Stance, Date: cl.Date.String()}
}

// verdict weighs the findings and claims of one proposition of an incident.
func (c *Case) verdict(p Proposition, incident string, o Options) Verdict {
	v := Verdict{Proposition: p, For: []Source{}, Against: []Source{}}
	var findings []*record.Assessment
	for _, a := range c.assessmentsOf(incident) {
		if byAssessment[a.Type] != p {
			continue
		}
		if answered(a) {
			findings = append(findings, a)
		} else {
			v.Other = append(v.Other, assessmentSource(a))
		}
	}
	// The leading answer is the one most findings agree with; ties go to
	// the earlier finding.
	var lead *record.Assessment
	best := -1
	for _, a := range findings {
		n := 0
		for _, b := range findings {
			if agree(a, b, o.agreeWithin()) {
				n++
			}
		}
		if n > best {
			lead, best = a, n
		}
	}
	var support []*record.Assessment
	for _, a := range findings {
		if agree(lead, a, o.agreeWithin()) {
			support = append(support, a)
			v.For = append(v.For, assessmentSource(a))
		} else {
			v.Against = append(v.Against, assessmentSource(a))
		}
	}
	if lead != nil {
		v.Value = assessmentSource(lead).Value
	}
	for i, a := range support {
		for _, b := range support[i+1:] {
			if c.independent(a, b) {
				v.CorroboratedBy = append(v.CorroboratedBy, [2]string{a.Slug, b.Slug})
			}
		}
	}
	claims := 0
	answer := v.Value
	for _, cl := range c.claimsOf(incident) {
		if byTopic[cl.About] != p {
			continue
		}
		claims++
		s := claimSource(cl)
		// A location's answer is a point; a claim names a place: they are
		// not compared. Without findings, the first affirming claim leads
		// and claims that answer otherwise stand against it.
		comparable := p != Where && cl.Value != ""
		if answer == "" && len(findings) == 0 && cl.Stance == "affirms" && comparable {
			answer = cl.Value
		}
		switch {
		case cl.Stance == "denies" || cl.Stance == "disputes":
			v.Against = append(v.Against, s)
		case comparable && answer != "" && cl.Value != answer:
			v.Against = append(v.Against, s)
		case cl.Stance == "affirms":
			v.For = append(v.For, s)
		default:
			v.Other = append(v.Other, s)
		}
	}
	if v.Value == "" && p != Where {
		v.Value = answer
	}
	switch {
	case len(findings) == 0 && claims == 0 && len(v.Other) == 0:
		v.Status = Unassessed
	case len(findings) == 0:
		v.Status = Claimed
		if len(v.Against) > 0 && len(v.For) > 0 {
			v.Status = Contested
		}
	case len(v.Against) > 0:
		v.Status = Contested
	case len(v.CorroboratedBy) > 0:
		v.Status = Corroborated
	default:
		v.Status = SingleSource
	}
	return v
}

// supportLikelihood returns the highest likelihood among the supporting
// findings of a verdict, or "".
func supportLikelihood(v Verdict) record.Likelihood {
	var best record.Likelihood
	for _, s := range v.For {
		if s.Kind == "assessment" && rank(s.Likelihood) > rank(best) {
			best = s.Likelihood
		}
	}
	return best
}

func rank(l record.Likelihood) int { return slices.Index(record.Likelihoods, l) }
