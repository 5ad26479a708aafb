// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"groundtruth/internal/casefile"
	"groundtruth/internal/demo"
	"groundtruth/internal/record"
)

// hedges are likelihood words that are not on the scale. The summary must
// never use them: likelihood is said only in the scale's words.
var hedgeRE = regexp.MustCompile(`(?i)\b(probably|probable|improbable|possibly|possible|perhaps|maybe|certainly|definitely|presumably|apparently|undoubtedly|surely|doubtless)\b`)

var stanceRE = regexp.MustCompile(`\b(affirmed|denied|disputed|made a qualified statement on|commented on)\b`)

func randomCase(r *rand.Rand) (*Case, []*record.Claim) {
	b := newBuilder()
	b.incident([]string{"Battles", "Violence against civilians"}[r.IntN(2)], "", func(i *record.Incident) {
		if i.EventType == "Battles" {
			i.SubEventType = "Armed clash"
		} else {
			i.SubEventType = "Attack"
		}
	})
	actors := []string{"north", "south", "north-army", "south-army", "org-a", "org-b", "outlet"}
	for k := range 3 {
		slug := fmt.Sprintf("desk-%d", k)
		b.add(&record.Actor{Slug: slug, Name: fmt.Sprintf("Desk Number %d", k), Type: "ngo"})
		actors = append(actors, slug)
	}
	kinds := []record.AssessmentKind{record.Authenticity, record.Geolocation, record.Chronolocation, record.Identification, record.Attribution, record.StatusOfVictims, record.Munition}
	values := map[record.AssessmentKind][]string{
		record.Authenticity: {"authentic", "not_authentic", ""}, record.StatusOfVictims: {"civilian", "combatant", ""},
		record.Attribution: {"north-army", "south-army", ""}, record.Munition: {""},
	}
	for k := range r.IntN(8) {
		kind := kinds[r.IntN(len(kinds))]
		a := &record.Assessment{Slug: fmt.Sprintf("a%d", k), IncidentSlug: "inc", Type: kind, Finding: "probably something",
			Organisation: actors[r.IntN(len(actors))], Date: record.Date(2020, 10, 1+r.IntN(20))}
		if vs := values[kind]; len(vs) > 0 {
			a.Value = vs[r.IntN(len(vs))]
		}
		if kind == record.Geolocation {
			a.Location = &record.Location{Lat: 45 + r.Float64()*0.05, Lon: 20, RadiusM: float64(r.IntN(500))}
		}
		if r.IntN(3) > 0 {
			a.Likelihood = record.Likelihoods[r.IntN(len(record.Likelihoods))]
		}
		if r.IntN(2) == 0 {
			a.Confidence = []record.Confidence{"low", "moderate", "high"}[r.IntN(3)]
		}
		if k > 0 && r.IntN(4) == 0 {
			a.BasedOn = []string{fmt.Sprintf("a%d", r.IntN(k))}
		}
		b.add(a)
	}
	topics := []record.Topic{"authenticity", "location", "perpetrator", "status_of_victims", "responsibility", "casualties", "legal_characterisation", "other"}
	stances := []record.Stance{"affirms", "denies", "disputes", "qualifies", "neutral"}
	var claims []*record.Claim
	for k := range r.IntN(6) {
		cl := claim(fmt.Sprintf("c%d", k), actors[r.IntN(len(actors))], topics[r.IntN(len(topics))], stances[r.IntN(len(stances))], "")
		cl.Date = record.Date(2020, 10, 1+r.IntN(27))
		if cl.About == "status_of_victims" && r.IntN(2) == 0 {
			cl.Value = "civilian"
		}
		b.add(cl)
		claims = append(claims, cl)
	}
	if r.IntN(2) == 0 {
		n := r.IntN(20)
		b.add(&record.Casualty{Slug: "k1", IncidentSlug: "inc", Status: record.Civilian, ReportedBy: actors[r.IntN(len(actors))], Killed: &record.Count{Best: &n}})
	}
	return NewCase(b.recs), claims
}

// TestSummaryProperties checks the wording rules over random records.
func TestSummaryProperties(t *testing.T) {
	var scale []string
	for _, l := range record.Likelihoods {
		scale = append(scale, l.Words())
	}
	r := rand.New(rand.NewPCG(1, 2))
	for run := range 2000 {
		c, claims := randomCase(r)
		rep := c.Report("inc", Settings{})
		sentences := strings.Split(rep.Summary, ". ")
		for _, s := range sentences {
			hasLikelihood := false
			for _, w := range scale {
				if strings.Contains(s, " "+w+" ") {
					hasLikelihood = true
				}
			}
			if hasLikelihood && strings.Contains(s, "confidence") {
				t.Fatalf("run %d: a sentence carries a likelihood and a confidence level: %q", run, s)
			}
			if m := hedgeRE.FindString(s); m != "" {
				t.Fatalf("run %d: likelihood word %q is not on the scale: %q", run, m, s)
			}
			if stanceRE.MatchString(s) && !strings.Contains(s, "Northland") && !strings.Contains(s, "Southland") &&
				!strings.Contains(s, "Desk") && !strings.Contains(s, "Outlet") {
				t.Fatalf("run %d: a party's statement without its party: %q", run, s)
			}
		}
		for _, cl := range claims {
			if byTopic[cl.About] == "" && cl.About != "legal_characterisation" {
				continue // claims on other topics feed no proposition
			}
			name, date := c.actorName(cl.By), dateText(cl.Date)
			found := false
			for _, s := range sentences {
				found = found || strings.Contains(s, name) && strings.Contains(s, date)
			}
			if !found {
				t.Fatalf("run %d: claim %s by %s is not attributed in the summary:\n%s", run, cl.Slug, name, rep.Summary)
			}
		}
		corroborated := false
		for _, v := range rep.Propositions {
			corroborated = corroborated || v.Status == Corroborated
		}
		if strings.Contains(rep.Summary, "verified") && !corroborated {
			t.Fatalf("run %d: 'verified' without a corroborated finding:\n%s", run, rep.Summary)
		}
	}
}

// FuzzEngine feeds every case file the loader accepts to the engine.
func FuzzEngine(f *testing.F) {
	f.Add(demo.CaseFile())
	f.Add([]byte("groundtruth_casefile: 1\nincidents:\n  - slug: i\n    title: T\n    disorder_type: Political violence\n    event_type: Battles\n    sub_event_type: Armed clash\n    date_start: 2020-01-01\n    time_precision: day\n    location: {lat: 1, lon: 2, precision: town}\n    status: draft\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := casefile.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		var recs []record.Record
		for _, e := range file.Entries {
			recs = append(recs, e.Record)
		}
		c := NewCase(recs)
		c.Reports(Settings{})
		for _, by := range Groupings {
			c.CasualtiesBy(by)
		}
		c.Reconcile()
	})
}
