// SPDX-License-Identifier: Apache-2.0

package record

import (
	"strings"
	"time"
)

// Time is a point in time as reported: either a calendar date (2020-10-10)
// or an instant with a clock (RFC 3339). A date keeps its date-ness, so
// that a report "on 10 October" is never shown as midnight UTC.
//
// Time decodes leniently: text that is neither form is kept and reported by
// Validate with the field's name, rather than failing the decoder with no
// location.
type Time struct {
	t        time.Time
	dateOnly bool
	raw      string // set only when the text could not be parsed
}

// Date returns the calendar date y-m-d.
func Date(y int, m time.Month, d int) Time {
	return Time{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), dateOnly: true}
}

// At returns an instant, stored in UTC.
func At(t time.Time) Time { return Time{t: t.UTC().Round(0)} }

// ParseTime parses a date (2006-01-02) or an RFC 3339 time.
func ParseTime(s string) (Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return Time{t: t, dateOnly: true}, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return At(t), true
	}
	return Time{}, false
}

// IsZero reports whether no valid time is held.
func (t Time) IsZero() bool { return t.t.IsZero() }

// DateOnly reports whether t is a calendar date without a clock.
func (t Time) DateOnly() bool { return t.dateOnly }

// Std returns t as a time.Time; a date is midnight UTC at its start.
func (t Time) Std() time.Time { return t.t }

// End returns the last instant t covers: the end of the day for a date.
func (t Time) End() time.Time {
	if t.dateOnly {
		return t.t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return t.t
}

// String formats t as it was given: a date or an RFC 3339 UTC time.
func (t Time) String() string {
	switch {
	case t.t.IsZero():
		return t.raw
	case t.dateOnly:
		return t.t.Format(time.DateOnly)
	default:
		return t.t.Format(time.RFC3339Nano)
	}
}

// MarshalText implements encoding.TextMarshaler.
func (t Time) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It never fails; see the
// type's comment.
func (t *Time) UnmarshalText(b []byte) error {
	if p, ok := ParseTime(string(b)); ok {
		*t = p
	} else {
		*t = Time{raw: string(b)}
	}
	return nil
}
