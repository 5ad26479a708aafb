// SPDX-License-Identifier: Apache-2.0

package record

import (
	"fmt"
	"regexp"
	"strings"
)

// Kind names a kind of record. Kinds are also the names used in case files
// (in the plural), in history entries and in references.
type Kind string

// The kinds of record, in the order a case file lists them and the order in
// which they are loaded: a record may only refer to kinds loaded before it or
// to its own kind.
const (
	KindActor         Kind = "actor"
	KindPlace         Kind = "place"
	KindWeapon        Kind = "weapon"
	KindTreaty        Kind = "treaty"
	KindMembership    Kind = "membership"
	KindIncident      Kind = "incident"
	KindEvidence      Kind = "evidence"
	KindAssessment    Kind = "assessment"
	KindClaim         Kind = "claim"
	KindInvestigation Kind = "investigation"
	KindCasualty      Kind = "casualty"
	KindVictim        Kind = "victim"
	KindTally         Kind = "tally"
)

// Kinds lists every kind in load order.
var Kinds = []Kind{
	KindActor, KindPlace, KindWeapon, KindTreaty, KindMembership, KindIncident,
	KindEvidence, KindAssessment, KindClaim, KindInvestigation, KindCasualty,
	KindVictim, KindTally,
}

// Valid reports whether k is one of [Kinds].
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Record is implemented by every case record.
type Record interface {
	// Kind returns the record's kind.
	Kind() Kind
	// Key returns the record's slug.
	Key() string
	// Validate checks the record on its own, without looking up the records
	// it refers to. It returns a *FieldError.
	Validate() error
	// Refs lists the records this one refers to, each with the field that
	// holds the reference.
	Refs() []Ref
	// Incident returns the slug of the incident the record belongs to, or "".
	Incident() string
}

// Ref is a reference from one record to another, found in Field.
type Ref struct {
	Field string // path of the referring field, e.g. "victims[0].status_claims[1].by"
	Kind  Kind
	Slug  string
}

// FieldError reports an invalid field. Field is a dotted path relative to the
// record (e.g. "location.lat"); callers that know where the record came from
// prefix it with the file and line.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidSlug reports whether s can be used as a slug: 1 to 100 characters of
// a-z, 0-9 and single hyphens between them.
func ValidSlug(s string) bool {
	return len(s) <= 100 && slugRE.MatchString(s)
}

// checker collects the first validation error, so that Validate methods read
// as a list of rules rather than a ladder of ifs.
type checker struct{ err error }

func (c *checker) fail(field, format string, args ...any) {
	if c.err == nil {
		c.err = fieldErr(field, format, args...)
	}
}

func (c *checker) slug(field, s string) {
	if s == "" {
		c.fail(field, "is required")
	} else if !ValidSlug(s) {
		c.fail(field, "%q is not a valid slug: use lower-case letters, digits and single hyphens", s)
	}
}

func (c *checker) optSlug(field, s string) {
	if s != "" {
		c.slug(field, s)
	}
}

func (c *checker) required(field, s string) {
	if strings.TrimSpace(s) == "" {
		c.fail(field, "is required")
	}
}

// oneOf checks that v is empty (when optional) or one of the allowed values.
func oneOf[T ~string](c *checker, field string, v T, optional bool, allowed []T) {
	if v == "" {
		if !optional {
			c.fail(field, "is required; one of %s", list(allowed))
		}
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.fail(field, "%q is not allowed; use one of %s", string(v), list(allowed))
}

func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func (c *checker) time(field string, t Time, required bool) {
	switch {
	case t.IsZero() && t.raw == "":
		if required {
			c.fail(field, "is required; write a date (2020-10-10) or a UTC time (2020-10-10T14:05:00Z)")
		}
	case t.IsZero():
		c.fail(field, "%q is not a date (2020-10-10) or an RFC 3339 time (2020-10-10T14:05:00Z)", t.raw)
	}
}

func (c *checker) url(field, s string) {
	if s != "" && !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		c.fail(field, "%q is not an http or https URL", s)
	}
}

func (c *checker) iso2(field, s string, required bool) {
	if s == "" {
		if required {
			c.fail(field, "is required; use an ISO 3166-1 alpha-2 code such as AZ")
		}
		return
	}
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		c.fail(field, "%q is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. AM)", s)
	}
}

// refs builds a reference list, skipping empty slugs.
type refs []Ref

func (r *refs) add(field string, k Kind, slug string) {
	if slug != "" {
		*r = append(*r, Ref{Field: field, Kind: k, Slug: slug})
	}
}

func (r *refs) addAll(field string, k Kind, slugs []string) {
	for i, s := range slugs {
		r.add(fmt.Sprintf("%s[%d]", field, i), k, s)
	}
}

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// order checks that a range does not end before it starts.
func (c *checker) order(field string, from, to Time) {
	if !from.IsZero() && !to.IsZero() && to.End().Before(from.Std()) {
		c.fail(field, "the range ends (%s) before it starts (%s): swap the two dates", to, from)
	}
}
