// SPDX-License-Identifier: Apache-2.0

package main

import (
	"slices"
	"strings"
	"testing"
)

// TestEngineOnDemo checks the verification engine's view of the built-in
// case through the binary's JSON.
func TestEngineOnDemo(t *testing.T) {
	data, _ := demoData(t)
	type verdict struct {
		Proposition    string      `json:"proposition"`
		Status         string      `json:"status"`
		CorroboratedBy [][2]string `json:"corroborated_by"`
		For            []struct {
			By string `json:"by"`
		} `json:"for"`
	}
	type applicability struct {
		Treaty, State string
		Bound         bool
	}
	type flag struct {
		Rule     string          `json:"rule"`
		Title    string          `json:"title"`
		Treaties []applicability `json:"treaties"`
	}
	type view struct {
		Grade struct {
			Grade string `json:"grade"`
		} `json:"grade"`
		Propositions []verdict `json:"propositions"`
		Flags        []flag    `json:"flags"`
		Summary      string    `json:"summary"`
	}
	get := func(slug string) view {
		var v view
		runJSON(t, data, &v, "show", slug, "--json")
		return v
	}
	status := func(v view, p string) verdict {
		for _, x := range v.Propositions {
			if x.Proposition == p {
				return x
			}
		}
		return verdict{}
	}

	h := get("hadrut-execution")
	loc := status(h, "location")
	var by []string
	for _, s := range loc.For {
		by = append(by, s.By)
	}
	slices.Sort(by)
	if loc.Status != "corroborated" || !slices.Equal(by, []string{"bellingcat", "dfrlab"}) || len(loc.CorroboratedBy) != 1 {
		t.Errorf("Hadrut location: got %s by %v (%v), want corroborated by bellingcat and dfrlab", loc.Status, by, loc.CorroboratedBy)
	}
	if s := status(h, "authenticity").Status; s != "contested" {
		t.Errorf("Hadrut authenticity: got %s, want contested", s)
	}
	if s := status(h, "victims_status").Status; s != "contested" {
		t.Errorf("Hadrut victims' status: got %s, want contested", s)
	}
	if !strings.Contains(h.Summary, "Azerbaijani officials") || !strings.Contains(h.Summary, "denied the authenticity of the material on 16 October 2020") {
		t.Errorf("Hadrut summary does not attribute the claim of fakery:\n%s", h.Summary)
	}
	if h.Grade.Grade != "contested" {
		t.Errorf("Hadrut grade: got %s, want contested", h.Grade.Grade)
	}
	if !slices.ContainsFunc(h.Flags, func(f flag) bool {
		return f.Rule == "persons-hors-de-combat" && strings.HasPrefix(f.Title, "Potential")
	}) {
		t.Errorf("Hadrut flags: got %+v, want the hors-de-combat flag", h.Flags)
	}

	s := get("stepanakert-cluster-munitions")
	i := slices.IndexFunc(s.Flags, func(f flag) bool { return f.Rule == "cluster-munitions-populated-area" })
	if i < 0 {
		t.Fatalf("Stepanakert flags: got %+v, want the cluster-munition flag", s.Flags)
	}
	states := map[string]bool{}
	for _, a := range s.Flags[i].Treaties {
		if a.Treaty == "ccm" {
			states[a.State] = a.Bound
		}
	}
	if bound, ok := states["AM"]; !ok || bound {
		t.Errorf("CCM and Armenia: got %v, want stated as not bound", states)
	}
	if bound, ok := states["AZ"]; !ok || bound {
		t.Errorf("CCM and Azerbaijan: got %v, want stated as not bound", states)
	}

	var tallies []struct {
		Slug           string `json:"slug"`
		Reconciliation struct {
			PartsSum   *int  `json:"parts_sum"`
			PartsMatch *bool `json:"parts_match"`
		} `json:"reconciliation"`
	}
	runJSON(t, data, &tallies, "tallies", "--json")
	found := false
	for _, tl := range tallies {
		if tl.Slug == "civilians-killed-total-2020-10-16" {
			r := tl.Reconciliation
			found = r.PartsSum != nil && *r.PartsSum == 81 && r.PartsMatch != nil && *r.PartsMatch
		}
	}
	if !found {
		t.Errorf("the tallies 47 + 34 = 81 do not reconcile: %+v", tallies)
	}
	if res := run(t, data, "casualties", "--by", "planet"); res.code != 2 {
		t.Errorf("casualties --by planet: exit %d, want 2", res.code)
	}
	if out := mustRun(t, data, "casualties", "--by", "month"); !strings.Contains(out, "2020-10") {
		t.Errorf("casualties --by month: got %q", out)
	}
}
