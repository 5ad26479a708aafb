// SPDX-License-Identifier: Apache-2.0

package record

import (
	"regexp"
	"slices"
)

// Evidence is an item in the locker: an original, identified by the
// SHA-256 of its bytes, with what is known of where it was seen. The bytes
// themselves never change; this record's other fields may be corrected, and
// every correction is kept in the history.
type Evidence struct {
	Slug      string `yaml:"slug" json:"slug"`
	SHA256    string `yaml:"sha256,omitempty" json:"sha256"`
	Size      int64  `yaml:"-" json:"size"`
	MediaType string `yaml:"-" json:"media_type"` // sniffed from the bytes
	Filename  string `yaml:"filename,omitempty" json:"filename,omitempty"`
	Title     string `yaml:"title,omitempty" json:"title,omitempty"`
	// Credit is the attribution a publication must carry.
	Credit string `yaml:"credit,omitempty" json:"credit,omitempty"`
	// Graphic media is blurred until a signed-in user chooses to see it.
	Graphic bool `yaml:"graphic,omitempty" json:"graphic"`
	// PersonalData marks an original that shows or names victims or
	// witnesses; it is never served publicly.
	PersonalData bool `yaml:"personal_data,omitempty" json:"personal_data"`
	// Placeholder marks bytes generated to stand in for media that could
	// not be obtained. A placeholder is never evidence of anything.
	Placeholder bool       `yaml:"placeholder,omitempty" json:"placeholder,omitempty"`
	Incidents   []string   `yaml:"incidents,omitempty" json:"incidents,omitempty"`
	Related     []Relation `yaml:"related,omitempty" json:"related,omitempty"`
	Sightings   []Sighting `yaml:"sightings,omitempty" json:"sightings,omitempty"`
	AddedBy     string     `yaml:"-" json:"added_by"`
	AddedAt     Time       `yaml:"-" json:"added_at"`
}

// Relation links two items: the same footage, another part of one event.
type Relation struct {
	To   string `yaml:"to" json:"to"`
	Type string `yaml:"type" json:"type"`
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
}

var relationTypes = []string{"same_event", "copy_of", "excerpt_of", "republished_from"}

// Sighting is one place an item was seen: a post, a page, a message. The
// posting time is when it appeared there; the capture time is when it was
// collected from there.
type Sighting struct {
	URL        string `yaml:"url,omitempty" json:"url,omitempty"`
	Platform   string `yaml:"platform,omitempty" json:"platform,omitempty"`
	Channel    string `yaml:"channel,omitempty" json:"channel,omitempty"` // channel or account handle
	PostedAt   Time   `yaml:"posted_at,omitempty" json:"posted_at,omitzero"`
	CapturedAt Time   `yaml:"captured_at,omitempty" json:"captured_at,omitzero"`
	// ForwardedFrom is the channel a post was forwarded from, a provenance
	// lead towards the first appearance.
	ForwardedFrom string `yaml:"forwarded_from,omitempty" json:"forwarded_from,omitempty"`
	Note          string `yaml:"note,omitempty" json:"note,omitempty"`
}

var (
	sha256RE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	platformRE = regexp.MustCompile(`^[a-z0-9_.-]{1,40}$`)
)

// ValidSHA256 reports whether s is a lower-case hex SHA-256 digest.
func ValidSHA256(s string) bool { return sha256RE.MatchString(s) }

func (e *Evidence) Kind() Kind  { return KindEvidence }
func (e *Evidence) Key() string { return e.Slug }

// Incident returns the first incident the item belongs to.
func (e *Evidence) Incident() string {
	if len(e.Incidents) > 0 {
		return e.Incidents[0]
	}
	return ""
}

func (e *Evidence) Validate() error {
	var c checker
	c.slug("slug", e.Slug)
	if e.SHA256 != "" && !ValidSHA256(e.SHA256) {
		c.fail("sha256", "%q is not a SHA-256 digest in lower-case hex (64 characters)", e.SHA256)
	}
	for i, s := range e.Incidents {
		c.slug(fieldf("incidents[%d]", i), s)
	}
	for i, r := range e.Related {
		c.slug(fieldf("related[%d].to", i), r.To)
		oneOf(&c, fieldf("related[%d].type", i), r.Type, false, relationTypes)
	}
	for i, s := range e.Sightings {
		c.sighting(fieldf("sightings[%d]", i), s)
	}
	return c.err
}

func (c *checker) sighting(f string, s Sighting) {
	c.url(f+".url", s.URL)
	if s.Platform != "" && !platformRE.MatchString(s.Platform) {
		c.fail(f+".platform", "%q is not a platform name: use lower case, e.g. telegram, x, youtube, web", s.Platform)
	}
	c.time(f+".posted_at", s.PostedAt, false)
	c.time(f+".captured_at", s.CapturedAt, false)
	if s.URL == "" && s.Channel == "" && s.Note == "" {
		c.fail(f, "a sighting needs a url, a channel or a note saying where the item was seen")
	}
}

// ValidateSighting checks one sighting on its own, as given on the command
// line.
func ValidateSighting(s Sighting) error {
	var c checker
	c.sighting("sighting", s)
	return c.err
}

func (e *Evidence) Refs() []Ref {
	var r refs
	r.addAll("incidents", KindIncident, e.Incidents)
	for i, rel := range e.Related {
		r.add(fieldf("related[%d].to", i), KindEvidence, rel.To)
	}
	return r
}

// HasSighting reports whether s is already recorded, by URL and posting time
// (or by channel and note when there is no URL).
func (e *Evidence) HasSighting(s Sighting) bool {
	for _, o := range e.Sightings {
		if o.URL == s.URL && o.Channel == s.Channel && o.PostedAt.String() == s.PostedAt.String() && (s.URL != "" || o.Note == s.Note) {
			return true
		}
	}
	return false
}

// Absorb adds to e what o holds and e lacks: sightings, incidents, related
// items, and text fields that e leaves empty. Sensitivity flags are only
// ever raised by a merge, never cleared: lowering one is a decision that
// needs its own change and reason. Absorb never changes the original
// (SHA256) or who added it.
func (e *Evidence) Absorb(o *Evidence) {
	for _, s := range o.Sightings {
		if !e.HasSighting(s) {
			e.Sightings = append(e.Sightings, s)
		}
	}
	for _, inc := range o.Incidents {
		if !slices.Contains(e.Incidents, inc) {
			e.Incidents = append(e.Incidents, inc)
		}
	}
	for _, r := range o.Related {
		if !slices.Contains(e.Related, r) {
			e.Related = append(e.Related, r)
		}
	}
	if e.Title == "" {
		e.Title = o.Title
	}
	if e.Credit == "" {
		e.Credit = o.Credit
	}
	if e.Filename == "" {
		e.Filename = o.Filename
	}
	e.Graphic = e.Graphic || o.Graphic
	e.PersonalData = e.PersonalData || o.PersonalData
	e.Placeholder = e.Placeholder || o.Placeholder
}
