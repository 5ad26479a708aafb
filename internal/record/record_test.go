// SPDX-License-Identifier: Apache-2.0

package record

import (
	"encoding/json"
	"go/build"
	"strings"
	"testing"
	"time"
)

func intp(n int) *int { return &n }

func validIncident() *Incident {
	return &Incident{
		Slug: "ganja-strike", Title: "Strike", DisorderType: "Political violence",
		EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
		Start: Date(2020, 10, 11), TimePrecision: "day", Place: "ganja", Status: "published",
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		rec   Record
		field string // "" means valid
	}{
		{"valid incident", validIncident(), ""},
		{"bad slug", func() Record { i := validIncident(); i.Slug = "Ganja Strike"; return i }(), "slug"},
		{"reversed range", func() Record { i := validIncident(); i.End = Date(2020, 10, 1); return i }(), "date_end"},
		{"same-day range is fine", func() Record { i := validIncident(); i.End = Date(2020, 10, 11); return i }(), ""},
		{"sub-event of another event type", func() Record { i := validIncident(); i.SubEventType = "Attack"; return i }(), "sub_event_type"},
		{"unknown event type", func() Record { i := validIncident(); i.EventType = "Massacre"; return i }(), "event_type"},
		{"disorder mismatch", func() Record { i := validIncident(); i.DisorderType = "Demonstrations"; return i }(), "disorder_type"},
		{"no place nor location", func() Record { i := validIncident(); i.Place = ""; return i }(), "place"},
		{"latitude out of range", func() Record {
			i := validIncident()
			i.Location = &Location{Lat: 91, Lon: 46, Precision: "town"}
			return i
		}(), "location.lat"},
		{"unparsable date", func() Record {
			i := validIncident()
			i.Start.UnmarshalText([]byte("11/10/2020"))
			return i
		}(), "date_start"},
		{"likelihood off the scale", &Assessment{Slug: "a", IncidentSlug: "i", Type: Authenticity, Finding: "f",
			Likelihood: "probable", Organisation: "o", Date: Date(2020, 10, 15)}, "likelihood"},
		{"geolocation without location", &Assessment{Slug: "a", IncidentSlug: "i", Type: Geolocation, Finding: "f",
			Organisation: "o", Date: Date(2020, 10, 15)}, "location"},
		{"count out of order", &Casualty{Slug: "c", IncidentSlug: "i", Status: Civilian, ReportedBy: "o",
			Killed: &Count{Low: intp(5), Best: intp(3)}}, "killed"},
		{"empty count", &Casualty{Slug: "c", IncidentSlug: "i", Status: Civilian, ReportedBy: "o", Killed: &Count{}}, "killed"},
		{"zero is a report", &Casualty{Slug: "c", IncidentSlug: "i", Status: Civilian, ReportedBy: "o", Killed: &Count{Best: intp(0)}}, ""},
		{"victim without anything", &Victim{Slug: "v", IncidentSlug: "i", Role: "killed"}, "initials"},
		{"victim age", &Victim{Slug: "v", IncidentSlug: "i", Role: "killed", Initials: "B.H.", Age: intp(200)}, "age"},
		{"tally needs a count", &Tally{Slug: "t", Issuer: "o", AsOf: Date(2020, 10, 16), Scope: Scope{Description: "all"}}, "killed"},
		{"state needs a country", &Actor{Slug: "x", Name: "X", Type: "state"}, "country"},
		{"membership reversed", &Membership{Slug: "m", Treaty: "ccm", State: "LT", InForce: Date(2011, 9, 1),
			WithdrawalEffect: Date(2010, 1, 1)}, "withdrawal_effective"},
		{"sighting needs a where", &Evidence{Slug: "e", Sightings: []Sighting{{Platform: "telegram"}}}, "sightings[0]"},
		{"bad sha", &Evidence{Slug: "e", SHA256: "ABC"}, "sha256"},
		{"free text as a claim's value", &Claim{Slug: "c", By: "x", Date: Date(2020, 10, 1), About: "authenticity", Stance: "affirms",
			Summary: "s", Value: "very likely staged, high confidence"}, "value"},
		{"a value where the topic takes none", &Claim{Slug: "c", By: "x", Date: Date(2020, 10, 1), About: "casualties", Stance: "affirms",
			Summary: "s", Value: "81"}, "value"},
		{"place name language", &Place{Slug: "p", Name: "P", Names: []PlaceName{{Name: "P", Lang: "Armenian"}}}, "names[0].lang"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rec.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			fe, ok := err.(*FieldError)
			if !ok {
				t.Fatalf("Validate() = %v, want a *FieldError on %s", err, tt.field)
			}
			if fe.Field != tt.field {
				t.Errorf("Validate() field = %q (%v), want %q", fe.Field, fe, tt.field)
			}
			if strings.Contains(fe.Msg, "\n") {
				t.Errorf("message %q spans lines", fe.Msg)
			}
		})
	}
}

func TestMembershipBoundOn(t *testing.T) {
	lt := &Membership{Slug: "ccm-lt", Treaty: "ccm", State: "LT", Consent: Date(2011, 3, 24), ConsentType: "ratification",
		InForce: Date(2011, 9, 1), WithdrawalEffect: Date(2025, 3, 6)}
	tests := []struct {
		day  Time
		want bool
	}{
		{Date(2011, 8, 31), false},
		{Date(2011, 9, 1), true},
		{Date(2020, 10, 5), true},
		{Date(2025, 3, 5), true},
		{At(time.Date(2025, 3, 5, 23, 59, 0, 0, time.UTC)), true},
		{Date(2025, 3, 6), false},
		{Date(2026, 1, 1), false},
		{At(time.Date(2025, 3, 6, 0, 0, 1, 0, time.UTC)), false},
	}
	for _, tt := range tests {
		if got := lt.BoundOn(tt.day); got != tt.want {
			t.Errorf("BoundOn(%s) = %v, want %v", tt.day, got, tt.want)
		}
	}
}

// Dates given as instants are compared by calendar day on both sides.
func TestBoundOnInstants(t *testing.T) {
	m := &Membership{InForce: At(time.Date(2020, 10, 10, 12, 0, 0, 0, time.UTC)), WithdrawalEffect: At(time.Date(2021, 1, 1, 12, 0, 0, 0, time.UTC))}
	for _, tt := range []struct {
		day  Time
		want bool
	}{
		{At(time.Date(2020, 10, 10, 18, 0, 0, 0, time.UTC)), true},
		{Date(2020, 10, 10), true},
		{At(time.Date(2021, 1, 1, 18, 0, 0, 0, time.UTC)), false},
		{At(time.Date(2020, 12, 31, 23, 0, 0, 0, time.UTC)), true},
	} {
		if got := m.BoundOn(tt.day); got != tt.want {
			t.Errorf("BoundOn(%s) = %v, want %v", tt.day, got, tt.want)
		}
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		in, want string
		dateOnly bool
	}{
		{"2020-10-15", "2020-10-15", true},
		{"2020-10-15T14:05:00Z", "2020-10-15T14:05:00Z", false},
		{"2020-10-15T16:05:00+02:00", "2020-10-15T14:05:00Z", false},
	}
	for _, tt := range tests {
		got, ok := ParseTime(tt.in)
		if !ok || got.String() != tt.want || got.DateOnly() != tt.dateOnly {
			t.Errorf("ParseTime(%q) = %v %v %v, want %v %v", tt.in, got, ok, got.DateOnly(), tt.want, tt.dateOnly)
		}
		b, _ := json.Marshal(got)
		var back Time
		if err := json.Unmarshal(b, &back); err != nil || back.String() != tt.want {
			t.Errorf("JSON round trip of %q = %v %v", tt.in, back, err)
		}
	}
	for _, bad := range []string{"", "15/10/2020", "2020-13-01", "yesterday"} {
		if _, ok := ParseTime(bad); ok {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

func TestVictimPublic(t *testing.T) {
	v := Victim{Slug: "v", IncidentSlug: "i", Name: "Boris Hakobyan", Notes: "lived on the square", Role: "killed"}
	p := v.Public()
	if p.Name != "" || p.Notes != "" {
		t.Errorf("Public() kept personal data: %+v", p)
	}
	if p.Initials != "B.H." {
		t.Errorf("Public().Initials = %q, want B.H.", p.Initials)
	}
	if v.Name == "" {
		t.Error("Public() changed the original")
	}
}

func TestLikelihoodScale(t *testing.T) {
	prev := 0
	for _, l := range Likelihoods {
		lo, hi := l.Band()
		if lo < prev || hi <= lo || l.Words() == "" || l.PHIA() == "" {
			t.Errorf("%s: band %d–%d after %d, words %q", l, lo, hi, prev, l.Words())
		}
		prev = hi
	}
}

func TestDistance(t *testing.T) {
	// Hadrut to Stepanakert is about 35 km.
	d := DistanceM(Location{Lat: 39.52, Lon: 47.03}, Location{Lat: 39.8153, Lon: 46.7519})
	if d < 35_000 || d > 45_000 {
		t.Errorf("DistanceM = %.0f, want about 40 km", d)
	}
}

// Domain packages hold rules, not I/O: they must not import HTTP or SQL.
func TestNoIOImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if imp == "net/http" || imp == "database/sql" || strings.HasPrefix(imp, "go.yaml.in") {
			t.Errorf("package record imports %s", imp)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2020-10-15", "2020-10-15T14:05:00Z", "2020-10-15T14:05:00.123+03:00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTime(s)
		if !ok {
			return
		}
		again, ok := ParseTime(got.String())
		if !ok || again.String() != got.String() || again.DateOnly() != got.DateOnly() {
			t.Errorf("ParseTime(%q) = %v, which does not round-trip (%v)", s, got, again)
		}
	})
}
