// SPDX-License-Identifier: Apache-2.0

package record

import "math"

// Precision is a rung on the location-accuracy ladder, from coarse to fine
// (after Airwars). ACLED's geo_precision 1 to 3 and UCDP's where_prec 1 to 7
// are derived from it on export.
type Precision string

var precisions = []Precision{
	"country", "region", "district", "city", "town", "village",
	"neighbourhood", "street", "landmark", "within_100m", "exact",
}

// Location is a WGS84 point with its precision. Supplied names who gave the
// point (an organisation's slug), since the ladder records who located it.
type Location struct {
	Lat       float64   `yaml:"lat" json:"lat"`
	Lon       float64   `yaml:"lon" json:"lon"`
	Precision Precision `yaml:"precision,omitempty" json:"precision,omitempty"`
	RadiusM   float64   `yaml:"radius_m,omitempty" json:"radius_m,omitempty"` // metres, 0 if not stated
	Supplier  string    `yaml:"supplied_by,omitempty" json:"supplied_by,omitempty"`
}

func (c *checker) location(field string, l *Location, needPrecision bool) {
	if l == nil {
		return
	}
	if math.IsNaN(l.Lat) || l.Lat < -90 || l.Lat > 90 {
		c.fail(field+".lat", "%v is out of range: latitude must be between -90 and 90 (WGS84 degrees)", l.Lat)
	}
	if math.IsNaN(l.Lon) || l.Lon < -180 || l.Lon > 180 {
		c.fail(field+".lon", "%v is out of range: longitude must be between -180 and 180 (WGS84 degrees)", l.Lon)
	}
	if math.IsNaN(l.RadiusM) || l.RadiusM < 0 || l.RadiusM > 20_000_000 {
		c.fail(field+".radius_m", "%v is out of range: give a radius in metres, 0 or more", l.RadiusM)
	}
	oneOf(c, field+".precision", l.Precision, !needPrecision, precisions)
	c.optSlug(field+".supplied_by", l.Supplier)
}

// DistanceM returns the great-circle distance between a and b in metres.
func DistanceM(a, b Location) float64 {
	const r = 6371008.8 // mean Earth radius, metres
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
