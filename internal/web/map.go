// SPDX-License-Identifier: Apache-2.0

package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/record"
	"groundtruth/internal/verification"
)

// mapRoutes are the map, timeline and dashboard pages and their data.
func (s *server) mapRoutes() []route {
	return []route{
		{"GET", "/map", account.ReadPublished, s.mapPage},
		{"GET", "/dashboard", account.ReadPublished, s.dashboardPage},
		{"GET", "/api/v1/map", account.ReadPublished, s.apiMap},
		{"GET", "/api/v1/casualties/monthly", account.ReadPublished, s.apiCasualtiesMonthly},
		{"GET", "/static/{hash}/{name...}", account.ReadPublished, s.static},
	}
}

func init() {
	apiSummaries["GET /api/v1/map"] = "Incidents the caller may see that have coordinates, as a GeoJSON FeatureCollection " +
		"(slug, title, dates, grade, place name); coordinates are the incident's location or its place's. " +
		"Incidents without coordinates are listed in the collection's \"unlocated\" member."
	apiSummaries["GET /api/v1/casualties/monthly"] = "Documented casualties by month of the incident's start, " +
		"one series per side or status (by=side|status); months without casualties are null. Tallies are never part of it."
}

// Static files: the pages' own scripts and styles (static/*.js, *.css),
// committed, and the front-end libraries that web/build.sh copies from npm
// into static/vendor, generated and not committed. A build without the
// vendor directory still compiles; its map and dashboard say what is
// missing.
//
//go:embed static
var staticEmbed embed.FS

// staticFiles is the static directory, and staticHash a digest of every
// file in it: asset URLs are /static/HASH/NAME, so that a new build gets new
// URLs and browsers may cache an asset for good. One hash for the whole
// tree keeps relative references between assets (a stylesheet's images, a
// module's imports) working.
var staticFiles, staticHash = func() (fs.FS, string) {
	sub, err := fs.Sub(staticEmbed, "static")
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		panic(err)
	}
	return sub, hex.EncodeToString(h.Sum(nil))[:16]
}()

// staticPrefix is the URL prefix of the static files of this build.
func staticPrefix() string { return "/static/" + staticHash + "/" }

// vendorFiles are the library files each page needs.
var vendorFiles = map[string][]string{
	"map": {"vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/markercluster/leaflet.markercluster.js",
		"vendor/markercluster/MarkerCluster.css",
		"vendor/topojson-client/topojson-client.min.js", "vendor/world-atlas/countries-50m.json"},
	"dashboard": {"vendor/chart.js/chart.umd.js"},
}

// missingVendor lists the library files of a page this build lacks.
func missingVendor(page string) []string {
	var out []string
	for _, f := range vendorFiles[page] {
		if _, err := fs.Stat(staticFiles, f); err != nil {
			out = append(out, f)
		}
	}
	return out
}

var staticTypes = map[string]string{
	".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8", ".json": "application/json", ".png": "image/png",
	".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
}

// gzipped caches the compressed form of static text files.
var gzipped sync.Map // name → []byte

// static serves a file of this build's static directory. A hash other
// than this build's, or a name that is not a file, is a 404.
func (s *server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if r.PathValue("hash") != staticHash || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(staticFiles, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct, ok := staticTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	if !strings.HasPrefix(ct, "image/png") && len(b) > 1024 && acceptsGzip(r) {
		z, ok := gzipped.Load(name)
		if !ok {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(b)
			zw.Close()
			z, _ = gzipped.LoadOrStore(name, buf.Bytes())
		}
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", fmt.Sprint(len(z.([]byte))))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(z.([]byte))
		}
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// TileOrigin checks a tile-server URL template for Leaflet, such as
// https://tile.example.org/{z}/{x}/{y}.png ({s} in the host names
// subdomains), and returns the origin that the Content-Security-Policy
// must allow images from: "" for a path on this server, or for no URL.
func TileOrigin(tmpl string) (string, error) {
	if tmpl == "" {
		return "", nil
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(tmpl, p) {
			return "", fmt.Errorf("%q lacks %s: give a template such as https://tile.example.org/{z}/{x}/{y}.png", tmpl, p)
		}
	}
	if strings.ContainsAny(tmpl, " \t\r\n;,'\"") {
		return "", fmt.Errorf("%q contains a space, quote, comma or semicolon: give a URL template", tmpl)
	}
	if strings.HasPrefix(tmpl, "/") && !strings.HasPrefix(tmpl, "//") {
		return "", nil
	}
	u, err := url.Parse(strings.Replace(tmpl, "{s}.", "s.", 1))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%q is not an http or https URL template (or a path on this server)", tmpl)
	}
	if !tileHost.MatchString(u.Host) {
		return "", fmt.Errorf("%q: the host %q is not a host name with an optional port", tmpl, u.Host)
	}
	host := u.Host
	if strings.Contains(tmpl, "{s}.") {
		host = "*." + strings.TrimPrefix(host, "s.")
	}
	return u.Scheme + "://" + host, nil
}

var tileHost = regexp.MustCompile(`^(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::[0-9]{1,5})?$`)

// contentSecurityPolicy is the policy of every response: scripts, styles,
// images and fetches from this server only, and map tiles from the
// configured tile server. No inline script.
func contentSecurityPolicy(tileURL string) string {
	img := "'self' data:"
	if o, err := TileOrigin(tileURL); err == nil && o != "" {
		img += " " + o
	}
	return "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src " + img +
		"; media-src 'self'; form-action 'self'; frame-ancestors 'none'"
}

// pageTileURL is the configured tile URL if it is usable.
func (s *server) pageTileURL() string {
	if _, err := TileOrigin(s.tileURL); err != nil {
		return ""
	}
	return s.tileURL
}

// mapPage is the map with its timeline and the list of what is in view.
// The page is a shell: map.js draws it from /api/v1/map.
func (s *server) mapPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "map.html", map[string]any{
		"Static": staticPrefix(), "Missing": missingVendor("map"), "TileURL": s.pageTileURL(), "Grades": record.Grades,
	})
}

// mapFeature is a GeoJSON Feature of one incident.
type mapFeature struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   mapPoint      `json:"geometry"`
	Properties mapProperties `json:"properties"`
}

type mapPoint struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"` // longitude, latitude (RFC 7946)
}

// mapProperties are what the map, the timeline and the list show.
type mapProperties struct {
	Slug          string               `json:"slug"`
	Title         string               `json:"title"`
	DateStart     string               `json:"date_start"`
	DateEnd       string               `json:"date_end"` // the last day it may have happened: date_start when no end is given
	TimePrecision record.TimePrecision `json:"time_precision"`
	EventType     string               `json:"event_type"`
	SubEventType  string               `json:"sub_event_type"`
	Grade         string               `json:"grade"`
	Place         string               `json:"place,omitempty"` // display name: every side's name
	// LocatedBy says where the coordinates come from: "incident" (the
	// incident's own location) or "place" (its gazetteer place).
	LocatedBy string           `json:"located_by"`
	Precision record.Precision `json:"precision,omitempty"`
	Killed    *record.Count    `json:"killed"`  // documented, null: not reported
	Injured   *record.Count    `json:"injured"` // documented, null: not reported
}

// apiMap answers the incidents the principal may see as GeoJSON.
func (s *server) apiMap(w http.ResponseWriter, r *http.Request) {
	c, err := s.loadCase(r)
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	var slugs []string
	for slug := range c.Incidents {
		slugs = append(slugs, slug)
	}
	sort.Strings(slugs)
	features, unlocated := []mapFeature{}, []string{}
	for _, slug := range slugs {
		i, ok := s.incident(r, slug)
		if !ok {
			continue
		}
		loc, by := i.Location, "incident"
		var place *record.Place
		if p, ok := c.Places[i.Place]; ok {
			place = p
			if loc == nil {
				loc, by = p.Location, "place"
			}
		}
		if loc == nil {
			unlocated = append(unlocated, slug)
			continue
		}
		props := mapProperties{Slug: slug, Title: i.Title, DateStart: i.Start.String(), DateEnd: i.Ends().String(),
			TimePrecision: i.TimePrecision, EventType: i.EventType, SubEventType: i.SubEventType,
			Place: verification.PlaceName(place, verification.BothNames), LocatedBy: by, Precision: loc.Precision}
		if rep := c.Report(slug, verification.Settings{}); rep != nil {
			props.Grade, props.Killed, props.Injured = rep.Grade.Grade, rep.Casualties.Killed, rep.Casualties.Injured
		}
		features = append(features, mapFeature{Type: "Feature", ID: slug, Properties: props,
			Geometry: mapPoint{Type: "Point", Coordinates: [2]float64{loc.Lon, loc.Lat}}})
	}
	sort.SliceStable(features, func(a, b int) bool { return features[a].Properties.DateStart < features[b].Properties.DateStart })
	w.Header().Set("Content-Type", "application/geo+json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(map[string]any{"type": "FeatureCollection", "features": features, "unlocated": unlocated})
}

// monthlySeries is one side's or status's documented casualties per month.
type monthlySeries struct {
	Key       string          `json:"key"`
	Label     string          `json:"label"`
	Killed    []*record.Count `json:"killed"`  // one per month, null: none reported
	Injured   []*record.Count `json:"injured"` // one per month, null: none reported
	Incidents []string        `json:"incidents"`
}

// monthlyCasualties breaks the engine's documented casualties down by
// month of the incident's start and by side or status. Each month's
// figures are the engine's own sums (CasualtiesBy) over that month's
// incidents; the months run without gaps from the first incident to the
// last.
func monthlyCasualties(c *verification.Case, by string) ([]string, []monthlySeries) {
	monthOf := func(i *record.Incident) string { return i.Start.Std().Format("2006-01") }
	incidents := map[string]map[string]*record.Incident{}
	var first, last time.Time
	for slug, i := range c.Incidents {
		m := monthOf(i)
		if incidents[m] == nil {
			incidents[m] = map[string]*record.Incident{}
		}
		incidents[m][slug] = i
		t := time.Date(i.Start.Std().Year(), i.Start.Std().Month(), 1, 0, 0, 0, 0, time.UTC)
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	months := []string{}
	for t := first; !first.IsZero() && !t.After(last); t = t.AddDate(0, 1, 0) {
		months = append(months, t.Format("2006-01"))
	}
	series := map[string]*monthlySeries{}
	for k, m := range months {
		if len(incidents[m]) == 0 {
			continue
		}
		sub := *c
		sub.Incidents = incidents[m]
		for _, g := range sub.CasualtiesBy(by) {
			sr, ok := series[g.Key]
			if !ok {
				label := g.Key
				if by == "side" && g.Key != "not stated" {
					label = c.ActorName(g.Key)
				}
				sr = &monthlySeries{Key: g.Key, Label: label, Killed: make([]*record.Count, len(months)),
					Injured: make([]*record.Count, len(months)), Incidents: []string{}}
				series[g.Key] = sr
			}
			sr.Killed[k], sr.Injured[k] = g.Killed, g.Injured
			sr.Incidents = append(sr.Incidents, g.Incidents...)
		}
	}
	out := []monthlySeries{}
	for _, sr := range series {
		slices.Sort(sr.Incidents)
		out = append(out, *sr)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return months, out
}

// apiCasualtiesMonthly answers documented casualties per month and side
// or status.
func (s *server) apiCasualtiesMonthly(w http.ResponseWriter, r *http.Request) {
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "side"
	}
	if by != "side" && by != "status" {
		apiError(w, http.StatusBadRequest, "by: give side or status")
		return
	}
	c, err := s.loadCase(r)
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	months, series := monthlyCasualties(c, by)
	writeJSON(w, http.StatusOK, map[string]any{"by": by, "months": months, "series": series})
}

// dashboardTally is a row of the dashboard's table of reported totals,
// with the best figures the chart draws.
type dashboardTally struct {
	tallyRow
	Slug                         string
	ReportedBest, DocumentedBest string // "" when not reported
	Incidents                    int
	Series                       []string
}

// dashboardGroup is a row of a table of documented totals.
type dashboardGroup struct {
	Key, Killed, Injured string
	Incidents            int
}

// dashboardPage shows documented casualties over time and the issuers'
// running totals beside them. The charts are drawn by dashboard.js; the
// tables carry the same figures for readers without it.
func (s *server) dashboardPage(w http.ResponseWriter, r *http.Request) {
	c, err := s.loadCase(r)
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	var tallies []dashboardTally
	for _, rc := range c.Reconcile() {
		row := dashboardTally{tallyRow: tallyRow{Issuer: c.ActorName(rc.Issuer), Scope: rc.Scope.Description, AsOf: rc.AsOf,
			Reported: count(rc.Reported), Documented: count(rc.Documented)},
			Slug: rc.Tally, ReportedBest: bestFigure(rc.Reported), DocumentedBest: bestFigure(rc.Documented), Incidents: len(rc.Incidents)}
		if rc.Documented == nil {
			row.Documented, row.DocumentedBest = "none documented", "0"
		}
		if rc.Gap != nil {
			row.Gap = fmt.Sprint(*rc.Gap)
		}
		if rc.PartsSum != nil {
			row.Parts = fmt.Sprintf("parts total %d", *rc.PartsSum)
			if rc.PartsMatch != nil && *rc.PartsMatch {
				row.Parts += ", which reconciles"
			}
		}
		for _, p := range rc.Series {
			row.Series = append(row.Series, p.AsOf+": "+count(p.Killed))
		}
		tallies = append(tallies, row)
	}
	groups := func(by string) []dashboardGroup {
		var out []dashboardGroup
		for _, g := range c.CasualtiesBy(by) {
			key := g.Key
			if by == "side" && key != "not stated" {
				key = c.ActorName(key)
			}
			out = append(out, dashboardGroup{Key: key, Killed: count(g.Killed), Injured: count(g.Injured), Incidents: len(g.Incidents)})
		}
		return out
	}
	s.render(w, r, http.StatusOK, "dashboard.html", map[string]any{
		"Static": staticPrefix(), "Missing": missingVendor("dashboard"),
		"Tallies": tallies, "BySide": groups("side"), "ByStatus": groups("status"),
	})
}

// bestFigure is a count's best figure for a chart: the best estimate, else
// the lower bound, else the upper; "" when nothing was reported.
func bestFigure(n *record.Count) string {
	if !n.Reported() {
		return ""
	}
	for _, p := range []*int{n.Best, n.Low, n.High} {
		if p != nil {
			return fmt.Sprint(*p)
		}
	}
	return ""
}
