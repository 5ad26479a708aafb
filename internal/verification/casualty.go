// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"sort"

	"groundtruth/internal/record"
)

// CasualtyLine is what the casualty records of one incident say of one
// status and side. Several reports of the same people are alternatives, not
// additions: they are merged into one range (lowest low, lowest best,
// highest high), so that nothing is counted twice and the best estimate is
// never the highest claim.
type CasualtyLine struct {
	Status  record.Status `json:"status"`
	Side    string        `json:"side,omitempty"`
	Killed  *record.Count `json:"killed"`  // null: not reported
	Injured *record.Count `json:"injured"` // null: not reported
	Reports []string      `json:"reports"` // casualty record slugs
}

// IncidentCasualties is an incident's casualty picture.
type IncidentCasualties struct {
	Lines   []CasualtyLine `json:"lines"`
	Killed  *record.Count  `json:"killed"`  // sum over lines; null: not reported
	Injured *record.Count  `json:"injured"` // sum over lines; null: not reported
	// Victims counts individual victim records by role; they document
	// people, and are not added to the counts above.
	Victims map[string]int `json:"victims"`
}

func intp(n int) *int { return &n }

// merge combines alternative reports of the same people.
func merge(a, b *record.Count) *record.Count {
	if !a.Reported() {
		return clone(b)
	}
	if !b.Reported() {
		return clone(a)
	}
	// A report with no high and no best ("at least 10") sets no ceiling,
	// so neither does the merge.
	lo := func(n *record.Count) *int { return first(n.Low, n.Best) }
	hi := func(n *record.Count) *int { return first(n.High, n.Best) }
	out := &record.Count{Low: minp(lo(a), lo(b)), Best: minp(a.Best, b.Best)}
	if hi(a) != nil && hi(b) != nil {
		out.High = maxp(hi(a), hi(b))
	}
	return out
}

// add sums counts of different people. A bound is given only when one of
// the parts gives one; a part without it contributes its best figure, so
// that a sum never drops a report.
func add(a, b *record.Count) *record.Count {
	if !a.Reported() {
		return clone(b)
	}
	if !b.Reported() {
		return clone(a)
	}
	sum := func(x, y *int) *int { return intp(*x + *y) }
	out := &record.Count{Best: sum(first(a.Best, a.Low, a.High), first(b.Best, b.Low, b.High))}
	if a.Low != nil || b.Low != nil {
		out.Low = sum(first(a.Low, a.Best, a.High), first(b.Low, b.Best, b.High))
	}
	if a.High != nil || b.High != nil {
		out.High = sum(first(a.High, a.Best, a.Low), first(b.High, b.Best, b.Low))
	}
	return out
}

func clone(n *record.Count) *record.Count {
	if !n.Reported() {
		return nil
	}
	c := *n
	return &c
}

func first(ps ...*int) *int {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

func minp(a, b *int) *int {
	switch {
	case a == nil:
		return b
	case b == nil || *a <= *b:
		return a
	}
	return b
}

func maxp(a, b *int) *int {
	switch {
	case a == nil:
		return b
	case b == nil || *a >= *b:
		return a
	}
	return b
}

// incidentCasualties aggregates an incident's casualty and victim records.
func (c *Case) incidentCasualties(incident string) IncidentCasualties {
	out := IncidentCasualties{Lines: []CasualtyLine{}, Victims: map[string]int{}}
	idx := map[[2]string]int{}
	line := func(k *record.Casualty, side string) {
		key := [2]string{string(k.Status), side}
		i, ok := idx[key]
		if !ok {
			i = len(out.Lines)
			idx[key] = i
			out.Lines = append(out.Lines, CasualtyLine{Status: k.Status, Side: side})
		}
		l := &out.Lines[i]
		l.Killed, l.Injured = merge(l.Killed, k.Killed), merge(l.Injured, k.Injured)
		l.Reports = append(l.Reports, k.Slug)
	}
	var sideless []*record.Casualty
	for _, k := range c.casualtiesBy[incident] {
		if k.Side == "" {
			sideless = append(sideless, k)
			continue
		}
		line(k, k.Side)
	}
	// A report that names no side is about the same people as the one
	// sided report of its status, if there is exactly one: merged with it,
	// never added to it.
	for _, k := range sideless {
		side := ""
		n := 0
		for key := range idx {
			if key[0] == string(k.Status) && key[1] != "" {
				side, n = key[1], n+1
			}
		}
		if n != 1 {
			side = ""
		}
		line(k, side)
	}
	for _, l := range out.Lines {
		out.Killed, out.Injured = add(out.Killed, l.Killed), add(out.Injured, l.Injured)
	}
	for _, v := range c.victimsBy[incident] {
		out.Victims[v.Role]++
	}
	return out
}

// Group is a sum of documented casualties across incidents.
type Group struct {
	Key       string        `json:"key"`
	Killed    *record.Count `json:"killed"`
	Injured   *record.Count `json:"injured"`
	Incidents []string      `json:"incidents"`
}

// Groupings accepted by CasualtiesBy.
var Groupings = []string{"side", "status", "place", "month"}

// CasualtiesBy sums the documented casualties of every incident, grouped by
// side, status, place or month (of the incident's start). Tallies are never
// part of these sums.
func (c *Case) CasualtiesBy(by string) []Group {
	groups := map[string]*Group{}
	var slugs []string
	for s := range c.Incidents {
		slugs = append(slugs, s)
	}
	sort.Strings(slugs)
	for _, s := range slugs {
		inc := c.Incidents[s]
		for _, l := range c.incidentCasualties(s).Lines {
			key := ""
			switch by {
			case "side":
				key = l.Side
			case "status":
				key = string(l.Status)
			case "place":
				key = inc.Place
			case "month":
				key = inc.Start.Std().Format("2006-01")
			}
			if key == "" {
				key = "not stated"
			}
			g, ok := groups[key]
			if !ok {
				g = &Group{Key: key, Incidents: []string{}}
				groups[key] = g
			}
			g.Killed, g.Injured = add(g.Killed, l.Killed), add(g.Injured, l.Injured)
			if len(g.Incidents) == 0 || g.Incidents[len(g.Incidents)-1] != s {
				g.Incidents = append(g.Incidents, s)
			}
		}
	}
	out := make([]Group, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Reconciliation sets a reported tally beside the documented incidents in
// the same scope and period. The tally is never added to them.
type Reconciliation struct {
	Tally      string        `json:"tally"`
	Issuer     string        `json:"issuer"`
	AsOf       string        `json:"as_of"`
	Scope      record.Scope  `json:"scope"`
	Reported   *record.Count `json:"reported_killed"`
	Documented *record.Count `json:"documented_killed"`
	// Gap is the reported best figure minus the documented best figure:
	// deaths the tally counts that no documented incident accounts for
	// (yet). Null when either is not reported.
	Gap       *int     `json:"gap"`
	Incidents []string `json:"incidents"`
	// Series lists the same issuer's tallies of the same scope over time.
	Series []SeriesPoint `json:"series"`
	// Parts are the tallies that break this one down, and whether their
	// best figures add up to it.
	Parts      []string `json:"parts,omitempty"`
	PartsSum   *int     `json:"parts_sum,omitempty"`
	PartsMatch *bool    `json:"parts_match,omitempty"`
}

// SeriesPoint is one tally of a series.
type SeriesPoint struct {
	AsOf   string        `json:"as_of"`
	Tally  string        `json:"tally"`
	Killed *record.Count `json:"killed"`
}

// Reconcile reconciles every tally with the documented incidents.
func (c *Case) Reconcile() []Reconciliation {
	out := []Reconciliation{}
	for _, t := range c.Tallies {
		r := Reconciliation{Tally: t.Slug, Issuer: t.Issuer, AsOf: t.AsOf.String(), Scope: t.Scope, Reported: t.Killed, Incidents: []string{}}
		var slugs []string
		for s := range c.Incidents {
			slugs = append(slugs, s)
		}
		sort.Strings(slugs)
		for _, s := range slugs {
			inc := c.Incidents[s]
			if inc.Start.Std().After(t.AsOf.End()) || (!t.From.IsZero() && inc.Ends().End().Before(t.From.Std())) {
				continue
			}
			if t.Scope.Place != "" && inc.Place != t.Scope.Place {
				continue
			}
			counted := false
			for _, l := range c.incidentCasualties(s).Lines {
				if t.Scope.Status != "" && l.Status != t.Scope.Status {
					continue
				}
				if t.Scope.Side != "" && c.sideOf(l.Side) != t.Scope.Side {
					continue
				}
				if t.Scope.Country != "" && c.countryOf(l.Side) != t.Scope.Country {
					continue
				}
				if l.Killed.Reported() {
					r.Documented = add(r.Documented, l.Killed)
					counted = true
				}
			}
			if counted {
				r.Incidents = append(r.Incidents, s)
			}
		}
		if t.Killed != nil && t.Killed.Best != nil && r.Documented != nil && r.Documented.Best != nil {
			r.Gap = intp(*t.Killed.Best - *r.Documented.Best)
		}
		for _, o := range c.Tallies {
			if o.Issuer == t.Issuer && o.Scope == t.Scope {
				r.Series = append(r.Series, SeriesPoint{AsOf: o.AsOf.String(), Tally: o.Slug, Killed: o.Killed})
			}
			if o.PartOf == t.Slug && o.Slug != t.Slug {
				r.Parts = append(r.Parts, o.Slug)
				if o.Killed != nil && o.Killed.Best != nil {
					if r.PartsSum == nil {
						r.PartsSum = intp(0)
					}
					*r.PartsSum += *o.Killed.Best
				}
			}
		}
		sort.Slice(r.Series, func(i, j int) bool { return r.Series[i].AsOf < r.Series[j].AsOf })
		if r.PartsSum != nil && t.Killed != nil && t.Killed.Best != nil {
			ok := *r.PartsSum == *t.Killed.Best
			r.PartsMatch = &ok
		}
		out = append(out, r)
	}
	return out
}
