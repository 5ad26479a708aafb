// SPDX-License-Identifier: Apache-2.0

package verification

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"groundtruth/internal/casefile"
	"groundtruth/internal/demo"
	"groundtruth/internal/record"
)

func demoCase(t testing.TB) *Case {
	f, err := casefile.Parse(demo.Name, demo.CaseFile())
	if err != nil {
		t.Fatal(err)
	}
	var recs []record.Record
	for _, e := range f.Entries {
		recs = append(recs, e.Record)
	}
	return NewCase(recs)
}

func verdictOf(r *Report, p Proposition) Verdict {
	for _, v := range r.Propositions {
		if v.Proposition == p {
			return v
		}
	}
	return Verdict{Status: Unassessed}
}

func TestDemo(t *testing.T) {
	c := demoCase(t)
	if os.Getenv("GROUNDTRUTH_DUMP") != "" {
		b, _ := json.MarshalIndent(c.Reports(Settings{}), "", "  ")
		os.WriteFile("/tmp/reports.json", b, 0o644)
	}
	h := c.Report("hadrut-execution", Settings{})

	geo := verdictOf(h, Where)
	if geo.Status != Corroborated || len(geo.CorroboratedBy) == 0 {
		t.Errorf("Hadrut location: %s %v, want corroborated", geo.Status, geo.CorroboratedBy)
	}
	orgs := map[string]bool{}
	for _, s := range geo.For {
		orgs[s.By] = true
	}
	if !orgs["bellingcat"] || !orgs["dfrlab"] {
		t.Errorf("Hadrut location corroborated by %v, want bellingcat and dfrlab", orgs)
	}
	auth := verdictOf(h, Authentic)
	if auth.Status != Contested || len(auth.For) == 0 || len(auth.Against) == 0 {
		t.Errorf("Hadrut authenticity: %+v, want contested with both sides", auth)
	}
	if verdictOf(h, VictimsStatus).Status != Contested {
		t.Errorf("Hadrut victims' status: %s, want contested", verdictOf(h, VictimsStatus).Status)
	}
	for _, want := range []string{"Azerbaijani officials", "denied the authenticity of the material on 16 October 2020", "assessed it likely that the material is authentic", "in Hadrut between"} {
		if !strings.Contains(h.Summary, want) {
			t.Errorf("Hadrut summary lacks %q:\n%s", want, h.Summary)
		}
	}
	if !hasFlag(h, "persons-hors-de-combat") {
		t.Errorf("Hadrut flags: %+v, want persons-hors-de-combat", h.Flags)
	}

	s := c.Report("stepanakert-cluster-munitions", Settings{})
	f := flagOf(s, "cluster-munitions-populated-area")
	if f == nil {
		t.Fatalf("Stepanakert flags: %+v, want cluster munitions in a populated area", s.Flags)
	}
	bound := map[string]bool{}
	for _, a := range f.Treaties {
		if a.Treaty == "ccm" {
			bound[a.State] = a.Bound
		}
	}
	if len(bound) < 2 || bound["AM"] || bound["AZ"] {
		t.Errorf("CCM applicability: %v, want AM and AZ, neither bound", bound)
	}
	if _, ok := bound["AM"]; !ok {
		t.Errorf("CCM applicability does not state Armenia: %+v", f.Treaties)
	}
	if !strings.Contains(f.Law, "no state involved was bound") || !strings.HasPrefix(f.Title, "Potential") {
		t.Errorf("flag law %q title %q", f.Law, f.Title)
	}
	if len(s.Characterisations) == 0 {
		t.Error("Amnesty's characterisation is not listed as a party's claim")
	}

	if g := c.Report("hadrut-civilians-2020-10-10", Settings{}).Grade; g.Grade == "confirmed" {
		t.Errorf("an accusation by the victims' side was taken as an admission: %+v", g)
	}
	if got := PlaceName(c.Places["stepanakert"], BothNames); got != "Stepanakert (Khankendi)" {
		t.Errorf("PlaceName(stepanakert) = %q, want Stepanakert (Khankendi)", got)
	}

	var total *Reconciliation
	for _, r := range c.Reconcile() {
		if r.Tally == "civilians-killed-total-2020-10-16" {
			total = &r
		}
	}
	if total == nil || total.PartsSum == nil || *total.PartsSum != 81 || total.PartsMatch == nil || !*total.PartsMatch {
		t.Errorf("81 = 47 + 34 does not reconcile: %+v", total)
	}
}

func hasFlag(r *Report, id string) bool { return flagOf(r, id) != nil }

func flagOf(r *Report, id string) *Flag {
	for i := range r.Flags {
		if r.Flags[i].Rule == id {
			return &r.Flags[i]
		}
	}
	return nil
}
