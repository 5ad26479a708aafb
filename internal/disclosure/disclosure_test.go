// SPDX-License-Identifier: Apache-2.0

package disclosure

import (
	"slices"
	"strings"
	"testing"

	"groundtruth/internal/account"
	"groundtruth/internal/record"
)

var (
	published = &record.Incident{Slug: "published-strike", Status: "published",
		GradeOverride: &record.GradeOverride{Grade: "fair", Reason: "r", By: "ana"}}
	draft     = &record.Incident{Slug: "draft-strike", Status: "draft"}
	withdrawn = &record.Incident{Slug: "withdrawn-strike", Status: "withdrawn"}
	incidents = map[string]*record.Incident{published.Slug: published, draft.Slug: draft, withdrawn.Slug: withdrawn}
	lookup    = func(slug string) *record.Incident { return incidents[slug] }
)

func TestIncident(t *testing.T) {
	var p Policy
	tests := []struct {
		role     account.Role
		incident *record.Incident
		want     bool
	}{
		{account.Public, published, true},
		{account.Public, draft, false},
		{account.Public, withdrawn, false},
		{account.Public, nil, false},
		{account.Viewer, draft, true},
		{account.Analyst, withdrawn, true},
		{account.Editor, draft, true},
		{account.Admin, published, true},
		{account.Viewer, nil, false},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.incident != nil {
			name = tt.incident.Slug
		}
		t.Run(string(tt.role)+"/"+name, func(t *testing.T) {
			if got := p.Incident(tt.role, tt.incident); got != tt.want {
				t.Errorf("Incident(%s, %v) = %v, want %v", tt.role, tt.incident, got, tt.want)
			}
		})
	}
}

func TestEvidence(t *testing.T) {
	var p Policy
	ordinary := &record.Evidence{Slug: "ordinary", Incidents: []string{draft.Slug, published.Slug}}
	personal := &record.Evidence{Slug: "personal", PersonalData: true, Incidents: []string{published.Slug}}
	graphic := &record.Evidence{Slug: "graphic", Graphic: true, Incidents: []string{published.Slug}}
	drafted := &record.Evidence{Slug: "drafted", Incidents: []string{draft.Slug, "retired-or-missing"}}
	orphan := &record.Evidence{Slug: "orphan"}
	tests := []struct {
		role account.Role
		ev   *record.Evidence
		want bool
	}{
		{account.Public, ordinary, true},
		{account.Public, personal, false},
		{account.Public, graphic, true}, // its record; the original is not served (web decides)
		{account.Public, drafted, false},
		{account.Public, orphan, false},
		{account.Public, nil, false},
		{account.Viewer, personal, true},
		{account.Viewer, drafted, true},
		{account.Analyst, orphan, true},
		{account.Editor, personal, true},
		{account.Admin, drafted, true},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.ev != nil {
			name = tt.ev.Slug
		}
		t.Run(string(tt.role)+"/"+name, func(t *testing.T) {
			if got := p.Evidence(tt.role, tt.ev, lookup); got != tt.want {
				t.Errorf("Evidence(%s, %s) = %v, want %v", tt.role, name, got, tt.want)
			}
		})
	}
}

func TestStaffAndRecord(t *testing.T) {
	ev := &record.Evidence{Slug: "e", AddedBy: "ana"}
	victim := &record.Victim{Slug: "v", IncidentSlug: published.Slug, Name: "Full Name", Initials: "F.N.", Notes: "lives at", Role: "killed"}
	for _, org := range []string{"", "Example Desk"} {
		p := Policy{Organisation: org}
		want := org
		if want == "" {
			want = DefaultOrganisation
		}
		for _, role := range account.Roles {
			t.Run(want+"/"+string(role), func(t *testing.T) {
				staff := role != account.Public
				gotEv := p.Record(role, ev).(*record.Evidence)
				gotInc := p.Record(role, published).(*record.Incident)
				gotV := p.Victim(role, victim)
				wantName := "ana"
				if !staff {
					wantName = want
				}
				if gotEv.AddedBy != wantName || gotInc.GradeOverride.By != wantName || p.Staff(role, "ana") != wantName {
					t.Errorf("%s reads staff as %q, %q, %q; want %q", role, gotEv.AddedBy, gotInc.GradeOverride.By, p.Staff(role, "ana"), wantName)
				}
				personal := account.Allows(role, account.ReadPersonal)
				if (gotV.Name != "") != personal || (gotV.Notes != "") != personal || gotV.Initials != "F.N." {
					t.Errorf("%s reads the victim as %+v", role, gotV)
				}
			})
		}
	}
	if ev.AddedBy != "ana" || published.GradeOverride.By != "ana" || victim.Name == "" {
		t.Error("Record changed the record it was given")
	}
	if got := (Policy{}).Staff(account.Public, ""); got != "" {
		t.Errorf("Staff(public, \"\") = %q, want \"\"", got)
	}
}

func TestSearchText(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name                string
		rec                 record.Record
		publicHas, staffHas []string
		neither             []string
		publicLacks         []string
	}{
		{"ordinary item", &record.Evidence{Slug: "e", SHA256: sum, Filename: "roof.jpg", Title: "Roof", AddedBy: "ana",
			Related: []record.Relation{{To: "ev-123456abcdef", Type: "same_event"}}},
			[]string{"Roof", "e"}, []string{sum, "roof.jpg", "ana", "ev-123456abcdef"}, nil, []string{sum, "roof.jpg", "ana", "ev-123456abcdef"}},
		{"personal-data item", &record.Evidence{Slug: "ev-abababababab", SHA256: sum, Filename: "witness.jpg", Title: "Witness", PersonalData: true},
			nil, []string{"Witness", "witness.jpg"}, nil, []string{"Witness", "witness.jpg", "ev-abababababab"}},
		{"victim", &record.Victim{Slug: "v", Name: "Full Name", Initials: "F.N.", Notes: "lives at", Role: "killed"},
			[]string{"F.N."}, []string{"F.N."}, []string{"Full Name", "lives at"}, nil},
		{"assessment", &record.Assessment{Slug: "a", Finding: "matched", Evidence: []string{"ev-123456abcdef"}},
			[]string{"matched"}, []string{"ev-123456abcdef"}, nil, []string{"ev-123456abcdef"}},
		{"claim", &record.Claim{Slug: "c", Summary: "said", Evidence: []string{"ev-123456abcdef"}},
			[]string{"said"}, []string{"ev-123456abcdef"}, nil, []string{"ev-123456abcdef"}},
		{"incident", published, []string{"published-strike", "fair"}, []string{"ana"}, nil, []string{"ana"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, staff := SearchText(tt.rec)
			for _, w := range tt.publicHas {
				if !slices.Contains(pub, w) {
					t.Errorf("public text %q lacks %q", pub, w)
				}
			}
			for _, w := range tt.staffHas {
				if !slices.Contains(staff, w) {
					t.Errorf("staff text %q lacks %q", staff, w)
				}
			}
			for _, w := range append(tt.neither, tt.publicLacks...) {
				if slices.Contains(pub, w) {
					t.Errorf("public text %q holds %q", pub, w)
				}
			}
			for _, w := range tt.neither {
				if slices.Contains(staff, w) {
					t.Errorf("staff text %q holds %q", staff, w)
				}
			}
		})
	}
	if published.GradeOverride.By != "ana" {
		t.Error("SearchText changed the record it was given")
	}
}
