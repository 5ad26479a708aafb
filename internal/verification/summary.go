// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"fmt"
	"sort"
	"strings"

	"groundtruth/internal/record"
)

// The summary is built from structured fields only, never from free text
// an analyst typed: so its words can be held to the rules below, which the
// tests check over random records.
//
//   - Likelihood words come only from record.Likelihood.Words.
//   - A sentence never carries both a likelihood and a confidence level.
//   - Every statement by a party names the party and the date.
//   - "verified" is said only of a corroborated proposition.
//   - Tallies are attributed to their issuer with their as-of date, and
//     are said not to be added to incident counts.

// PlaceNames is a display policy for place names.
type PlaceNames string

// Display policies.
const (
	// BothNames shows the name each side uses where the gazetteer holds
	// names from different sides, e.g. "Stepanakert (Khankendi)"; otherwise
	// the gazetteer name. The default.
	BothNames PlaceNames = "both"
	// GazetteerName shows the gazetteer's name only.
	GazetteerName PlaceNames = "gazetteer"
)

// PlaceName returns a place's display name under a policy.
func PlaceName(p *record.Place, policy PlaceNames) string {
	if p == nil {
		return ""
	}
	if policy == GazetteerName {
		return p.Name
	}
	// One name per side in the display script (Latin), preferring English.
	bySide := map[string]string{}
	score := map[string]int{}
	for _, n := range p.Names {
		s := 0
		switch {
		case n.Lang == "en":
			s = 2
		case n.Script == "Latn":
			s = 1
		default:
			continue
		}
		for _, side := range n.UsedBy {
			if _, ok := bySide[side]; !ok || s > score[side] {
				bySide[side], score[side] = n.Name, s
			}
		}
	}
	if len(bySide) < 2 {
		return p.Name
	}
	var sides []string
	for s := range bySide {
		sides = append(sides, s)
	}
	sort.Strings(sides)
	names := []string{}
	for _, s := range sides {
		if n := bySide[s]; !contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return names[0] + " (" + strings.Join(names[1:], ", ") + ")"
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// phrases for propositions, in the form "that …".
func (c *Case) propositionPhrase(p Proposition, value string) string {
	switch p {
	case Authentic:
		if value == "" || value == "authentic" {
			return "the material is authentic"
		}
		return "the material is " + strings.ReplaceAll(value, "_", " ")
	case Where:
		return "the material was filmed at the location given"
	case When:
		return "the events took place in the period given"
	case Who:
		if value != "" {
			return c.actorName(value) + " carried it out"
		}
		return "the perpetrator is identified"
	case VictimsStatus:
		if value != "" {
			return "the people killed were " + value + "s"
		}
		return "the status of the people killed is established"
	case WhichMunition:
		if w, ok := c.Weapons[value]; ok {
			return "the weapon was " + w.Name
		}
		return "the weapon is identified"
	case Identification:
		return "the people seen are identified"
	}
	return string(p)
}

var questionName = map[Proposition]string{
	Authentic: "authenticity", Where: "location", When: "timing", Who: "responsibility",
	VictimsStatus: "the victims' status", WhichMunition: "the weapon used", Identification: "identification",
}

var topicPhrase = map[record.Topic]string{
	"occurrence": "whether the incident took place", "authenticity": "the authenticity of the material",
	"location": "where it took place", "time": "when it took place", "perpetrator": "who carried it out",
	"status_of_victims": "the status of the people harmed", "identity_of_victims": "the identity of the people harmed",
	"casualties": "the casualty figures", "munition": "the weapon used", "legal_characterisation": "the legal character of the act",
	"targeting": "what was targeted", "responsibility": "responsibility for it", "other": "the incident",
}

var stanceVerb = map[record.Stance]string{
	"affirms": "affirmed", "denies": "denied", "disputes": "disputed", "qualifies": "made a qualified statement on", "neutral": "commented on",
}

func dateText(t record.Time) string {
	if t.IsZero() {
		return "on an unrecorded date"
	}
	if t.DateOnly() {
		return "on " + t.Std().Format("2 January 2006")
	}
	return "on " + t.Std().Format("2 January 2006 at 15:04 UTC")
}

func periodText(i *record.Incident) string {
	end := i.Ends()
	if end.String() == i.Start.String() {
		return dateText(i.Start)
	}
	return fmt.Sprintf("between %s and %s", i.Start.Std().Format("2 January 2006"), end.Std().Format("2 January 2006"))
}

func joinAnd(ss []string) string {
	switch len(ss) {
	case 0:
		return ""
	case 1:
		return ss[0]
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " and " + ss[len(ss)-1]
}

// summary writes the incident's neutral paragraph.
func (c *Case) summary(i *record.Incident, verdicts []Verdict, g Grade, cas IncidentCasualties, flags []Flag, policy PlaceNames) string {
	var s []string
	where := ""
	if p, ok := c.Places[i.Place]; ok {
		where = " in " + PlaceName(p, policy)
	}
	s = append(s, fmt.Sprintf("This record concerns an incident recorded as %s (%s)%s %s.",
		strings.ToLower(i.SubEventType), strings.ToLower(i.EventType), where, periodText(i)))
	if perps := alleged(i); len(perps) > 0 {
		var names []string
		for _, p := range perps {
			names = append(names, c.actorName(p))
		}
		s = append(s, fmt.Sprintf("It is alleged that %s carried it out.", joinAnd(names)))
	}
	for _, v := range verdicts {
		s = append(s, c.verdictSentences(v)...)
	}
	s = append(s, c.casualtySentences(i, cas)...)
	for _, t := range c.Tallies {
		if t.Scope.Place != "" && t.Scope.Place == i.Place && t.Killed.Reported() {
			s = append(s, fmt.Sprintf("As of %s, %s reported a running total of %s killed (%s); running totals are not added to incident counts.",
				t.AsOf.Std().Format("2 January 2006"), c.actorName(t.Issuer), countWords(t.Killed), lowerFirst(t.Scope.Description)))
		}
	}
	for _, inv := range c.Investigations {
		if inv.IncidentSlug == i.Slug {
			s = append(s, fmt.Sprintf("%s announced an investigation %s.", c.actorName(inv.OpenedBy), dateText(inv.OpenedOn)))
		}
	}
	for _, f := range flags {
		s = append(s, fmt.Sprintf("The recorded facts raise a flag: %s.", lowerFirst(f.Title)))
	}
	for _, ch := range c.characterisations(i.Slug) {
		s = append(s, fmt.Sprintf("%s characterised the act in legal terms %s; that is its characterisation, not a finding of this record.",
			c.actorName(ch.By), dateFromString(ch.Date)))
	}
	s = append(s, fmt.Sprintf("Grade: %s.", g.Grade))
	return strings.Join(s, " ")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// verdictSentences states one proposition's verdict. Findings' likelihoods
// and confidences go in separate sentences.
func (c *Case) verdictSentences(v Verdict) []string {
	var s []string
	phrase := c.propositionPhrase(v.Proposition, v.Value)
	orgs := func(ss []Source) []string {
		var names []string
		for _, x := range ss {
			if x.Kind == "assessment" && !contains(names, c.actorName(x.By)) {
				names = append(names, c.actorName(x.By))
			}
		}
		return names
	}
	strong := true // no supporting finding states a likelihood below likely
	for _, x := range v.For {
		if x.Kind == "assessment" && x.Likelihood != "" && rank(x.Likelihood) < rank(record.Likely) {
			strong = false
		}
	}
	switch {
	case v.Status == Corroborated && strong:
		s = append(s, fmt.Sprintf("That %s is verified: %s reached this finding independently.", phrase, joinAnd(orgs(v.For))))
	case v.Status == Corroborated || v.Status == SingleSource || v.Status == Contested:
		for _, x := range v.For {
			if x.Kind == "assessment" {
				s = append(s, c.findingSentences(x, phrase)...)
			}
		}
	}
	for _, x := range v.Against {
		if x.Kind == "assessment" {
			s = append(s, c.findingSentences(x, c.propositionPhrase(v.Proposition, x.Value))...)
		}
	}
	for _, x := range append(append(append([]Source{}, v.For...), v.Against...), v.Other...) {
		if x.Kind == "claim" {
			s = append(s, c.claimSentence(x, v.Proposition))
		}
	}
	if v.Status == Contested {
		s = append(s, fmt.Sprintf("The question of %s is contested.", questionName[v.Proposition]))
	}
	return s
}

func (c *Case) findingSentences(x Source, phrase string) []string {
	var s []string
	if x.Likelihood != "" {
		s = append(s, fmt.Sprintf("%s assessed it %s that %s.", c.actorName(x.By), x.Likelihood.Words(), phrase))
	} else {
		s = append(s, fmt.Sprintf("%s found that %s, stating no likelihood.", c.actorName(x.By), phrase))
	}
	if x.Confidence != "" {
		s = append(s, fmt.Sprintf("%s stated %s confidence in that assessment.", c.actorName(x.By), x.Confidence))
	}
	return s
}

func (c *Case) claimSentence(x Source, p Proposition) string {
	var cl *record.Claim
	for _, k := range c.Claims {
		if k.Slug == x.Slug {
			cl = k
		}
	}
	about := topicPhrase[cl.About]
	if about == "" {
		about = "the incident"
	}
	text := fmt.Sprintf("%s %s %s %s", c.actorName(cl.By), stanceVerb[cl.Stance], about, dateText(cl.Date))
	if cl.Value != "" && cl.Stance != "denies" {
		text += fmt.Sprintf(", stating that %s", c.propositionPhrase(p, cl.Value))
	}
	return text + "."
}

func (c *Case) casualtySentences(i *record.Incident, cas IncidentCasualties) []string {
	if len(cas.Lines) == 0 {
		return []string{"No casualty figures are recorded for this incident; that is not a report of zero."}
	}
	var s []string
	for _, l := range cas.Lines {
		var who []string
		for _, slug := range l.Reports {
			for _, k := range c.Casualties {
				if k.Slug == slug && !contains(who, c.actorName(k.ReportedBy)) {
					who = append(who, c.actorName(k.ReportedBy))
				}
			}
		}
		side := ""
		if l.Side != "" {
			side = " on the side of " + c.actorName(l.Side)
		}
		source := "According to " + joinAnd(who)
		if len(l.Reports) > 1 {
			source = "Combining the reports of " + joinAnd(who) + " as one range"
		}
		s = append(s, fmt.Sprintf("%s, %s killed and %s injured (status: %s%s).",
			source, countWords(l.Killed), countWords(l.Injured), l.Status, side))
	}
	return s
}

// countWords renders a count for prose.
func countWords(n *record.Count) string {
	if !n.Reported() {
		return "an unreported number"
	}
	p := func(x *int) string { return fmt.Sprint(*x) }
	switch {
	case n.Low == nil && n.High == nil:
		return p(n.Best)
	case n.Best == nil && n.High == nil:
		return "at least " + p(n.Low)
	case n.Best == nil && n.Low == nil:
		return "at most " + p(n.High)
	case n.Best == nil:
		return p(n.Low) + " to " + p(n.High)
	case n.Low == nil:
		return fmt.Sprintf("%s (at most %s)", p(n.Best), p(n.High))
	case n.High == nil:
		return fmt.Sprintf("%s (at least %s)", p(n.Best), p(n.Low))
	}
	return fmt.Sprintf("%s (%s to %s)", p(n.Best), p(n.Low), p(n.High))
}

func dateFromString(s string) string {
	t, ok := record.ParseTime(s)
	if !ok {
		return dateText(record.Time{})
	}
	return dateText(t)
}
