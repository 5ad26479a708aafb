// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"fmt"
	"slices"

	"groundtruth/internal/record"
)

// Grade is an incident's grade in the Airwars vocabulary.
type Grade struct {
	// Grade is the grade in force: the analyst's override if there is one,
	// else the computed grade.
	Grade    string `json:"grade"`
	Computed string `json:"computed"`
	// Rule is the rule that decided the computed grade.
	Rule string `json:"rule"`
	// Explanation lists every rule in order with whether it applied and the
	// records that made it apply or not.
	Explanation []Step                `json:"explanation"`
	Override    *record.GradeOverride `json:"override,omitempty"`
}

// Step is one rule's evaluation.
type Step struct {
	Rule    string   `json:"rule"`
	Grade   string   `json:"grade"`
	Applies bool     `json:"applies"`
	Reason  string   `json:"reason"`
	Records []string `json:"records"` // kind/slug of every record that moved the rule
}

// gradeRule is one row of the grading table (docs/grading.md). Rules are
// tried in order; the first that applies decides.
type gradeRule struct {
	id, grade string
	test      func(c *Case, i *record.Incident, v map[Proposition]Verdict) (bool, string, []string)
}

var gradeRules = []gradeRule{
	{"belligerent-accepts", "confirmed", ruleConfirmed},
	{"combatants-or-other-party", "discounted", ruleDiscounted},
	{"disputed", "contested", ruleContested},
	{"credible-sources", "fair", ruleFair},
	{"single-source", "weak", func(*Case, *record.Incident, map[Proposition]Verdict) (bool, string, []string) {
		return true, "no rule above applies: the incident rests on a single source or on sources that are not independent", nil
	}},
}

// grade computes an incident's grade.
func (c *Case) grade(i *record.Incident, v map[Proposition]Verdict) Grade {
	g := Grade{Explanation: []Step{}}
	for _, r := range gradeRules {
		ok, why, recs := r.test(c, i, v)
		if recs == nil {
			recs = []string{}
		}
		g.Explanation = append(g.Explanation, Step{Rule: r.id, Grade: r.grade, Applies: ok, Reason: why, Records: recs})
		if ok && g.Computed == "" {
			g.Computed, g.Rule = r.grade, r.id
		}
	}
	g.Grade = g.Computed
	if o := i.GradeOverride; o != nil {
		g.Grade, g.Override = o.Grade, o
	}
	return g
}

// ruleConfirmed: a party to the conflict accepts responsibility, a claim on
// responsibility or perpetrator that affirms and comes from an alleged
// perpetrator or its side.
func ruleConfirmed(c *Case, i *record.Incident, _ map[Proposition]Verdict) (bool, string, []string) {
	sides := map[string]bool{}
	for _, a := range alleged(i) {
		sides[c.sideOf(a)] = true
	}
	for _, cl := range c.claimsOf(i.Slug) {
		a, ok := c.Actors[cl.By]
		if !ok || !a.Party || cl.Stance != "affirms" || (cl.About != "responsibility" && cl.About != "perpetrator") {
			continue
		}
		// The claimant must speak for the side accused: a victim's side
		// affirming who did it is an accusation, not an admission.
		if sides[c.sideOf(cl.By)] && (cl.Value == "" || c.sideOf(cl.Value) == c.sideOf(cl.By)) {
			return true, fmt.Sprintf("%s, a party to the conflict, accepted responsibility", a.Name), []string{"claim/" + cl.Slug}
		}
	}
	return false, "no party to the conflict has accepted responsibility", nil
}

// ruleDiscounted: the dead are shown to be combatants killed in combat, or
// another party than the alleged perpetrator is most likely responsible.
func ruleDiscounted(c *Case, i *record.Incident, v map[Proposition]Verdict) (bool, string, []string) {
	if vs := v[VictimsStatus]; vs.Status == Corroborated && vs.Value == string(record.Combatant) && i.EventType == "Battles" {
		return true, "independent findings agree the dead were combatants, killed in a battle", sourceRefs(vs.For)
	}
	who := v[Who]
	if who.Value != "" && (who.Status == Corroborated || who.Status == SingleSource) && rank(supportLikelihood(who)) >= rank(record.Likely) {
		perps := alleged(i)
		other := len(perps) > 0
		for _, p := range perps {
			if c.sideOf(p) == c.sideOf(who.Value) {
				other = false
			}
		}
		if other {
			return true, fmt.Sprintf("findings make %s, not the alleged perpetrator, likely responsible", c.actorName(who.Value)), sourceRefs(who.For)
		}
	}
	return false, "nothing shows the dead were combatants killed in combat, or that another party is likely responsible", nil
}

// ruleContested: authenticity, location or responsibility is disputed, or
// the incident is blamed on more than one side.
func ruleContested(c *Case, i *record.Incident, v map[Proposition]Verdict) (bool, string, []string) {
	var recs []string
	var what []string
	for _, p := range []Proposition{Authentic, Where, Who} {
		if v[p].Status == Contested {
			what = append(what, string(p))
			recs = append(recs, sourceRefs(v[p].Against)...)
		}
	}
	sides := map[string]bool{}
	for _, a := range alleged(i) {
		sides[c.sideOf(a)] = true
	}
	if len(sides) > 1 {
		what = append(what, "alleged perpetrators on more than one side")
		recs = append(recs, "incident/"+i.Slug)
	}
	if len(what) > 0 {
		return true, fmt.Sprintf("disputed: %v", what), recs
	}
	return false, "neither authenticity, location nor responsibility is disputed", nil
}

// ruleFair: two or more independent sources, and a belligerent's action is
// likely or confirmed: a finding of likely or more on the perpetrator, or a
// corroborated location of an incident with an alleged perpetrator.
func ruleFair(c *Case, i *record.Incident, v map[Proposition]Verdict) (bool, string, []string) {
	srcs := c.independentSources(i.Slug)
	if len(srcs) < 2 {
		return false, fmt.Sprintf("%d independent source(s); two are needed", len(srcs)), srcs
	}
	who := v[Who]
	if who.Status != Contested && rank(supportLikelihood(who)) >= rank(record.Likely) {
		return true, "two or more independent sources, and a finding makes the belligerent's action likely", append(srcs, sourceRefs(who.For)...)
	}
	if len(alleged(i)) > 0 && v[Where].Status == Corroborated {
		return true, "two or more independent sources, and an alleged belligerent's action at an independently corroborated location", append(srcs, sourceRefs(v[Where].For)...)
	}
	return false, "independent sources exist, but no finding makes a belligerent's action likely", srcs
}

// independentSources returns one record per independent source on an
// incident: each organisation that assessed it and each actor that made a
// claim about it, leaving out claims that only repeat another.
func (c *Case) independentSources(incident string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range c.assessmentsOf(incident) {
		if !seen[a.Organisation] && len(a.BasedOn) == 0 {
			seen[a.Organisation] = true
			out = append(out, "assessment/"+a.Slug)
		}
	}
	for _, cl := range c.claimsOf(incident) {
		if !seen[cl.By] && len(cl.BasedOn) == 0 {
			seen[cl.By] = true
			out = append(out, "claim/"+cl.Slug)
		}
	}
	for _, k := range c.Casualties {
		if k.IncidentSlug == incident && !seen[k.ReportedBy] {
			seen[k.ReportedBy] = true
			out = append(out, "casualty/"+k.Slug)
		}
	}
	slices.Sort(out)
	return out
}

func sourceRefs(ss []Source) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Kind+"/"+s.Slug)
	}
	return out
}
