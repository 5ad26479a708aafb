// SPDX-License-Identifier: Apache-2.0

package verification

import "sort"

// Report is everything the engine says about one incident.
type Report struct {
	Incident          string             `json:"incident"`
	Grade             Grade              `json:"grade"`
	Propositions      []Verdict          `json:"propositions"`
	Casualties        IncidentCasualties `json:"casualties"`
	Flags             []Flag             `json:"flags"`
	Characterisations []Characterisation `json:"characterisations"`
	Summary           string             `json:"summary"`
}

// Settings are the engine's options and the deployment's display policy.
type Settings struct {
	Options
	PlaceNames PlaceNames
}

// Report evaluates one incident. It returns nil for an unknown slug.
func (c *Case) Report(incident string, s Settings) *Report {
	i, ok := c.Incidents[incident]
	if !ok {
		return nil
	}
	r := &Report{Incident: incident}
	byProp := map[Proposition]Verdict{}
	for _, p := range Propositions {
		v := c.verdict(p, incident, s.Options)
		byProp[p] = v
		if v.Status != Unassessed {
			r.Propositions = append(r.Propositions, v)
		}
	}
	if r.Propositions == nil {
		r.Propositions = []Verdict{}
	}
	r.Grade = c.grade(i, byProp)
	r.Casualties = c.incidentCasualties(incident)
	r.Flags = c.flags(i, r.Casualties)
	r.Characterisations = c.characterisations(incident)
	policy := s.PlaceNames
	if policy == "" {
		policy = BothNames
	}
	r.Summary = c.summary(i, r.Propositions, r.Grade, r.Casualties, r.Flags, policy)
	return r
}

// Reports evaluates every incident, by slug.
func (c *Case) Reports(s Settings) []*Report {
	var slugs []string
	for k := range c.Incidents {
		slugs = append(slugs, k)
	}
	sort.Strings(slugs)
	out := make([]*Report, 0, len(slugs))
	for _, k := range slugs {
		out = append(out, c.Report(k, s))
	}
	return out
}
