// SPDX-License-Identifier: Apache-2.0

package casefile

import (
	"errors"
	"strings"
	"testing"

	"groundtruth/internal/demo"
	"groundtruth/internal/record"
)

const base = `groundtruth_casefile: 1
case:
  slug: test-case
  title: Test case
actors:
  - slug: desk
    name: The desk
    kind: research_group
places:
  - slug: townsville
    name: Townsville
    location: {lat: 40.1, lon: 46.2, precision: town}
incidents:
  - slug: shelling
    title: Shelling of Townsville
    disorder_type: Political violence
    event_type: Explosions/Remote violence
    sub_event_type: Shelling/artillery/missile attack
    date_start: 2020-10-04
    time_precision: day
    place: townsville
    status: draft
assessments:
  - slug: geo
    incident: shelling
    kind: geolocation
    finding: Matched to the market square.
    organisation: desk
    date: 2020-10-06
    likelihood: likely
    location: {lat: 40.1, lon: 46.2, radius_m: 50}
`

func TestParseValid(t *testing.T) {
	f, err := Parse("case.yaml", []byte(base))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if f.Case.Slug != "test-case" || len(f.Entries) != 4 {
		t.Fatalf("Parse = %+v", f)
	}
	wantKinds := []record.Kind{record.KindActor, record.KindPlace, record.KindIncident, record.KindAssessment}
	wantLines := []int{6, 10, 14, 24}
	for i, e := range f.Entries {
		if e.Record.Kind() != wantKinds[i] || e.Line != wantLines[i] {
			t.Errorf("entry %d = %s at line %d, want %s at line %d", i, e.Record.Kind(), e.Line, wantKinds[i], wantLines[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		line     int
		contains []string
	}{
		{"malformed YAML", strings.Replace(base, "    name: The desk", "    name: [The desk", 1), 0, []string{"malformed YAML"}},
		{"unknown field", strings.Replace(base, "    title: Shelling", "    titel: Shelling", 1), 15, []string{"incidents[0].titel", `unknown field "titel" in an incident record`}},
		{"wrong enum", strings.Replace(base, "likelihood: likely", "likelihood: probable", 1), 30, []string{"assessments[0].likelihood", `"probable"`, "almost_no_chance"}},
		{"latitude out of range", strings.Replace(base, "lat: 40.1, lon: 46.2, precision", "lat: 91, lon: 46.2, precision", 1), 12, []string{"places[0].location.lat", "between -90 and 90"}},
		{"reversed range", strings.Replace(base, "    time_precision: day", "    date_end: 2020-10-01\n    time_precision: day", 1), 20, []string{"incidents[0].date_end", "swap"}},
		{"bad date", strings.Replace(base, "date_start: 2020-10-04", "date_start: 04/10/2020", 1), 19, []string{"incidents[0].date_start", "04/10/2020"}},
		{"wrong type", strings.Replace(base, "radius_m: 50", "radius_m: wide", 1), 31, []string{"assessments[0].location.radius_m", `"wide"`, "number"}},
		{"list for text", strings.Replace(base, "likelihood: likely", "likelihood: [likely]", 1), 30, []string{"assessments[0].likelihood", "cannot read a list as text"}},
		{"unclosed list", strings.Replace(base, "    title: Shelling of Townsville", "    title: [Shelling of Townsville", 1), 15, []string{"malformed YAML", "starts at line 15"}},
		{"duplicate slug", base + "  - slug: geo\n    incident: shelling\n    kind: authenticity\n    finding: Real.\n    organisation: desk\n    date: 2020-10-06\n", 32, []string{"assessments[1].slug", "unique"}},
		{"duplicate key", strings.Replace(base, "    name: The desk", "    name: The desk\n    name: Again", 1), 8, []string{"appears twice"}},
		{"missing version", strings.Replace(base, "groundtruth_casefile: 1\n", "", 1), 1, []string{"groundtruth_casefile", "is missing"}},
		{"future version", strings.Replace(base, "groundtruth_casefile: 1", "groundtruth_casefile: 2", 1), 1, []string{"version 2 is not supported"}},
		{"not UTF-8", strings.Replace(base, "The desk", "The d\xffsk", 1), 7, []string{"not valid UTF-8"}},
		{"missing longitude", strings.Replace(base, "lat: 40.1, lon: 46.2, precision", "lat: 40.1, precision", 1), 12, []string{"places[0].location.lon", "is required"}},
		{"unknown key in a flow mapping", strings.Replace(base, "    location: {lat: 40.1, lon: 46.2, precision: town}", "    locaton: {lat: 40.1, lon: 46.2, precision: town}", 1), 12, []string{"places[0].locaton:", `unknown field "locaton"`}},
		{"not a mapping", "- a\n- b\n", 1, []string{"mapping"}},
		{"empty item", base + "  -\n", 32, []string{"assessments[1]", "empty"}},
		{"evidence without file", base + "evidence:\n  - slug: clip\n    title: Clip\n", 33, []string{"evidence[0].file", "placeholder"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("case.yaml", []byte(tt.doc))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse = %v, want a *casefile.Error", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if !strings.HasPrefix(msg, "case.yaml:") {
				t.Errorf("error %q does not start with the file name", msg)
			}
			if tt.line != 0 && ce.Line != tt.line {
				t.Errorf("line = %d, want %d (%s)", ce.Line, tt.line, msg)
			}
			for _, c := range tt.contains {
				if !strings.Contains(msg, c) {
					t.Errorf("error %q does not contain %q", msg, c)
				}
			}
		})
	}
}

func TestDemoParses(t *testing.T) {
	f, err := Parse(demo.Name, demo.CaseFile())
	if err != nil {
		t.Fatalf("built-in case: %v", err)
	}
	kinds := map[record.Kind]int{}
	for _, e := range f.Entries {
		kinds[e.Record.Kind()]++
		if ev, ok := e.Record.(*record.Evidence); ok && !ev.Placeholder {
			t.Errorf("built-in evidence %s is not marked as a placeholder", ev.Slug)
		}
	}
	for _, k := range record.Kinds {
		if kinds[k] == 0 {
			t.Errorf("built-in case has no %s record", k)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add(demo.CaseFile())
	f.Add([]byte("groundtruth_casefile: 1\nincidents:\n  - slug: [x\n"))
	f.Add([]byte("groundtruth_casefile: 1\nvictims:\n  -\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse error is not a *casefile.Error: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		for _, e := range file.Entries {
			if err := e.Record.Validate(); err != nil {
				t.Fatalf("Parse accepted an invalid record: %v", err)
			}
		}
	})
}
