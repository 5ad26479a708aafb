// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"groundtruth/internal/record"
)

// builder makes small cases in memory.
type builder struct{ recs []record.Record }

func newBuilder() *builder {
	b := &builder{}
	b.add(
		&record.Actor{Slug: "north", Name: "Northland", Type: "state", Party: true, Country: "XA", Side: "north"},
		&record.Actor{Slug: "south", Name: "Southland", Type: "state", Party: true, Country: "XB", Side: "south"},
		&record.Actor{Slug: "north-army", Name: "Northland Army", Type: "armed_force", Party: true, Side: "north"},
		&record.Actor{Slug: "south-army", Name: "Southland Army", Type: "armed_force", Party: true, Side: "south"},
		&record.Actor{Slug: "org-a", Name: "Desk A", Type: "research_group"},
		&record.Actor{Slug: "org-b", Name: "Desk B", Type: "research_group"},
		&record.Actor{Slug: "outlet", Name: "An Outlet", Type: "media"},
		&record.Place{Slug: "town", Name: "Town", Populated: true, Location: &record.Location{Lat: 45, Lon: 20}},
	)
	return b
}

func (b *builder) add(r ...record.Record) *builder { b.recs = append(b.recs, r...); return b }

func (b *builder) incident(event, sub string, mods ...func(*record.Incident)) *builder {
	disorder := "Political violence"
	i := &record.Incident{Slug: "inc", Title: "Incident", DisorderType: disorder, EventType: event, SubEventType: sub,
		Start: record.Date(2020, 10, 5), TimePrecision: "day", Place: "town", Status: "published",
		Actors: []record.Involvement{{Actor: "north-army", Role: "alleged_perpetrator"}}}
	for _, m := range mods {
		m(i)
	}
	return b.add(i)
}

func geo(slug, org string, lat, lon, radius float64, basedOn ...string) *record.Assessment {
	return &record.Assessment{Slug: slug, IncidentSlug: "inc", Type: record.Geolocation, Finding: "located",
		Organisation: org, Date: record.Date(2020, 10, 7), Location: &record.Location{Lat: lat, Lon: lon, RadiusM: radius}, BasedOn: basedOn}
}

func finding(slug, org string, kind record.AssessmentKind, value string, l record.Likelihood) *record.Assessment {
	return &record.Assessment{Slug: slug, IncidentSlug: "inc", Type: kind, Finding: "found", Value: value,
		Likelihood: l, Organisation: org, Date: record.Date(2020, 10, 7)}
}

func claim(slug, by string, about record.Topic, stance record.Stance, value string) *record.Claim {
	return &record.Claim{Slug: slug, IncidentSlug: "inc", By: by, Date: record.Date(2020, 10, 8), About: about, Stance: stance, Value: value, Summary: "said"}
}

func (b *builder) report(t *testing.T) *Report {
	t.Helper()
	for _, r := range b.recs {
		if err := r.Validate(); err != nil {
			t.Fatalf("test record %s %s: %v", r.Kind(), r.Key(), err)
		}
	}
	return NewCase(b.recs).Report("inc", Settings{})
}

func TestScenarios(t *testing.T) {
	n := func(v int) *int { return &v }
	tests := []struct {
		name    string
		b       *builder
		prop    Proposition
		verdict Status
		grade   string
		rule    string
		records []string // records the deciding rule must name
	}{
		{"single source is weak",
			newBuilder().incident("Battles", "Armed clash").add(geo("g1", "org-a", 45, 20, 50)),
			Where, SingleSource, "weak", "single-source", nil},
		{"two independent organisations agreeing corroborate",
			newBuilder().incident("Battles", "Armed clash").add(geo("g1", "org-a", 45, 20, 50), geo("g2", "org-b", 45.0005, 20, 50)),
			Where, Corroborated, "fair", "credible-sources", []string{"assessment/g1", "assessment/g2"}},
		{"a finding based on another does not corroborate it",
			newBuilder().incident("Battles", "Armed clash").add(geo("g1", "org-a", 45, 20, 50), geo("g2", "org-b", 45, 20, 50, "g1")),
			Where, SingleSource, "weak", "single-source", nil},
		{"the same organisation twice does not corroborate",
			newBuilder().incident("Battles", "Armed clash").add(geo("g1", "org-a", 45, 20, 50), geo("g2", "org-a", 45, 20, 50)),
			Where, SingleSource, "weak", "single-source", nil},
		{"geolocations 5 km apart are contested",
			newBuilder().incident("Battles", "Armed clash").add(geo("g1", "org-a", 45, 20, 200), geo("g2", "org-b", 45.045, 20, 200)),
			Where, Contested, "contested", "disputed", []string{"assessment/g2"}},
		{"a party denying authenticity contests it",
			newBuilder().incident("Violence against civilians", "Attack").add(finding("a1", "org-a", record.Authenticity, "authentic", record.Likely),
				claim("c1", "north", "authenticity", "denies", "not_authentic")),
			Authentic, Contested, "contested", "disputed", []string{"claim/c1"}},
		{"a belligerent admits",
			newBuilder().incident("Explosions/Remote violence", "Air/drone strike").add(claim("c1", "north-army", "responsibility", "affirms", "")),
			Who, Claimed, "confirmed", "belligerent-accepts", []string{"claim/c1"}},
		{"an accusation by the other side is not an admission",
			newBuilder().incident("Explosions/Remote violence", "Air/drone strike").add(claim("c1", "south", "perpetrator", "affirms", "north-army")),
			Who, Claimed, "weak", "single-source", nil},
		{"combatants killed in combat are discounted",
			newBuilder().incident("Battles", "Armed clash").add(
				finding("s1", "org-a", record.StatusOfVictims, "combatant", record.Likely),
				finding("s2", "org-b", record.StatusOfVictims, "combatant", record.VeryLikely),
				&record.Casualty{Slug: "k1", IncidentSlug: "inc", Status: record.Combatant, ReportedBy: "org-a", Killed: &record.Count{Best: n(3)}}),
			VictimsStatus, Corroborated, "discounted", "combatants-or-other-party", []string{"assessment/s1", "assessment/s2"}},
		{"another party likely responsible is discounted",
			newBuilder().incident("Explosions/Remote violence", "Shelling/artillery/missile attack").add(
				finding("w1", "org-a", record.Attribution, "south-army", record.VeryLikely)),
			Who, SingleSource, "discounted", "combatants-or-other-party", []string{"assessment/w1"}},
		{"blame on two sides is contested",
			newBuilder().incident("Explosions/Remote violence", "Shelling/artillery/missile attack", func(i *record.Incident) {
				i.Actors = append(i.Actors, record.Involvement{Actor: "south-army", Role: "alleged_perpetrator"})
			}),
			Who, Unassessed, "contested", "disputed", []string{"incident/inc"}},
		{"two sources and a likely perpetrator are fair",
			newBuilder().incident("Explosions/Remote violence", "Shelling/artillery/missile attack").add(
				finding("w1", "org-a", record.Attribution, "north-army", record.Likely), claim("c1", "outlet", "occurrence", "affirms", "")),
			Who, SingleSource, "fair", "credible-sources", []string{"assessment/w1", "claim/c1"}},
		{"an outlet repeating another's claim is not a second source",
			newBuilder().incident("Explosions/Remote violence", "Shelling/artillery/missile attack").add(
				finding("w1", "org-a", record.Attribution, "north-army", record.Likely),
				claim("c0", "org-a", "occurrence", "affirms", ""), func() *record.Claim {
					c := claim("c1", "outlet", "occurrence", "affirms", "")
					c.BasedOn = []string{"c0"}
					return c
				}()),
			Who, SingleSource, "weak", "single-source", nil},
		{"parties accusing each other contest it",
			newBuilder().incident("Explosions/Remote violence", "Shelling/artillery/missile attack").add(
				claim("c1", "south", "perpetrator", "affirms", "north-army"), claim("c2", "north", "perpetrator", "affirms", "south-army")),
			Who, Contested, "contested", "disputed", []string{"claim/c2"}},
		{"a claim naming the place does not contest a geolocation",
			newBuilder().incident("Battles", "Armed clash").add(geo("g1", "org-a", 45, 20, 50), geo("g2", "org-b", 45, 20, 50),
				claim("c1", "outlet", "location", "affirms", "")),
			Where, Corroborated, "fair", "credible-sources", nil},
		{"an analyst override keeps the computed grade",
			newBuilder().incident("Battles", "Armed clash", func(i *record.Incident) {
				i.GradeOverride = &record.GradeOverride{Grade: "fair", Reason: "field visit", By: "ana", Date: record.Date(2020, 11, 1)}
			}).add(geo("g1", "org-a", 45, 20, 50)),
			Where, SingleSource, "fair", "single-source", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.b.report(t)
			v := verdictOf(r, tt.prop)
			if v.Status != tt.verdict {
				t.Errorf("verdict on %s = %s, want %s (%+v)", tt.prop, v.Status, tt.verdict, v)
			}
			if r.Grade.Grade != tt.grade || r.Grade.Rule != tt.rule {
				t.Errorf("grade = %s by %s, want %s by %s\n%s", r.Grade.Grade, r.Grade.Rule, tt.grade, tt.rule, explain(r.Grade))
			}
			var decided *Step
			for i := range r.Grade.Explanation {
				if r.Grade.Explanation[i].Rule == r.Grade.Rule {
					decided = &r.Grade.Explanation[i]
				}
			}
			if decided == nil || !decided.Applies || decided.Reason == "" {
				t.Fatalf("the explanation does not show the deciding rule: %s", explain(r.Grade))
			}
			for _, want := range tt.records {
				if !slices.Contains(decided.Records, want) {
					t.Errorf("the deciding rule names %v, want %s among them", decided.Records, want)
				}
			}
			if len(r.Grade.Explanation) != len(gradeRules) {
				t.Errorf("the explanation has %d steps, want one per rule (%d)", len(r.Grade.Explanation), len(gradeRules))
			}
		})
	}
	t.Run("override keeps the computed grade", func(t *testing.T) {
		r := tests[len(tests)-1].b.report(t)
		if r.Grade.Computed != "weak" || r.Grade.Override == nil || r.Grade.Override.Reason != "field visit" {
			t.Errorf("grade = %+v", r.Grade)
		}
	})
}

func explain(g Grade) string {
	var b strings.Builder
	for _, s := range g.Explanation {
		fmt.Fprintf(&b, "  %s→%s applies=%v %s %v\n", s.Rule, s.Grade, s.Applies, s.Reason, s.Records)
	}
	return b.String()
}

func TestCasualtiesNoDoubleCounting(t *testing.T) {
	n := func(v int) *int { return &v }
	b := newBuilder().incident("Explosions/Remote violence", "Shelling/artillery/missile attack").add(
		&record.Casualty{Slug: "k1", IncidentSlug: "inc", Status: record.Civilian, Side: "south", ReportedBy: "org-a", Killed: &record.Count{Best: n(10)}},
		&record.Casualty{Slug: "k2", IncidentSlug: "inc", Status: record.Civilian, Side: "south", ReportedBy: "outlet", Killed: &record.Count{Best: n(12), High: n(15)}, Injured: &record.Count{Best: n(0)}},
		&record.Casualty{Slug: "k3", IncidentSlug: "inc", Status: record.Combatant, Side: "south", ReportedBy: "org-a", Killed: &record.Count{Low: n(1), Best: n(2)}},
	)
	cas := b.report(t).Casualties
	if len(cas.Lines) != 2 {
		t.Fatalf("lines = %+v, want one per status and side", cas.Lines)
	}
	civ := cas.Lines[0]
	if *civ.Killed.Best != 10 || *civ.Killed.Low != 10 || *civ.Killed.High != 15 {
		t.Errorf("two reports of the same civilians = %+v, want best 10 (10–15), not their sum", *civ.Killed)
	}
	if civ.Injured == nil || *civ.Injured.Best != 0 {
		t.Errorf("injured reported as 0 = %+v, want 0, not 'not reported'", civ.Injured)
	}
	if *cas.Killed.Best != 12 || *cas.Killed.Low != 11 || *cas.Killed.High != 17 {
		t.Errorf("incident total = %+v, want best 12 (11–17)", *cas.Killed)
	}
	// A side-less report of the same people merges into the sided one, and
	// "at least 10" sets no ceiling.
	b2 := newBuilder().incident("Explosions/Remote violence", "Shelling/artillery/missile attack").add(
		&record.Casualty{Slug: "k1", IncidentSlug: "inc", Status: record.Civilian, Side: "south", ReportedBy: "org-a", Killed: &record.Count{Low: n(3), High: n(5)}},
		&record.Casualty{Slug: "k2", IncidentSlug: "inc", Status: record.Civilian, ReportedBy: "outlet", Killed: &record.Count{Low: n(10)}},
	)
	cas2 := b2.report(t).Casualties
	if len(cas2.Lines) != 1 || *cas2.Killed.Low != 3 || cas2.Killed.High != nil {
		t.Errorf("side-less report: %+v, want one line 3 and up, no ceiling", cas2)
	}
	none := newBuilder().incident("Battles", "Armed clash").report(t).Casualties
	if none.Killed != nil || none.Injured != nil {
		t.Errorf("no reports gave %+v, want not reported (null)", none)
	}
}

func TestVerifiedNeedsLikelyFindings(t *testing.T) {
	weak := newBuilder().incident("Violence against civilians", "Attack").add(
		finding("a1", "org-a", record.Authenticity, "authentic", record.Unlikely),
		finding("a2", "org-b", record.Authenticity, "authentic", record.RoughlyEven)).report(t)
	if verdictOf(weak, Authentic).Status != Corroborated || strings.Contains(weak.Summary, "verified") {
		t.Errorf("weak findings called verified:\n%s", weak.Summary)
	}
	strong := newBuilder().incident("Violence against civilians", "Attack").add(
		finding("a1", "org-a", record.Authenticity, "authentic", record.Likely),
		finding("a2", "org-b", record.Authenticity, "authentic", "")).report(t)
	if !strings.Contains(strong.Summary, "is verified") {
		t.Errorf("likely, independent findings not called verified:\n%s", strong.Summary)
	}
}
