// SPDX-License-Identifier: Apache-2.0

package web

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

func TestStaticFiles(t *testing.T) {
	s := newSite(t)
	for _, tc := range []struct {
		path string
		code int
		typ  string
	}{
		{staticPrefix() + "map.js", 200, "text/javascript; charset=utf-8"},
		{staticPrefix() + "app.css", 200, "text/css; charset=utf-8"},
		{"/static/0000000000000000/map.js", 404, ""},
		{staticPrefix() + "nope.js", 404, ""},
		{staticPrefix() + "vendor", 404, ""},
		{staticPrefix() + "..%2fweb.go", 404, ""},
		{"/static/{hash}/{name...}", 404, ""},
	} {
		resp := s.do(t, account.Public, "GET", tc.path, "", map[string]string{"Accept-Encoding": "gzip"})
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tc.typ {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.typ)
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", tc.path, got)
		}
		if len(body) == 0 {
			t.Errorf("GET %s: empty body", tc.path)
		}
	}
}

func TestTileOrigin(t *testing.T) {
	for _, tc := range []struct{ in, origin string }{
		{"", ""},
		{"https://tile.example.org/{z}/{x}/{y}.png", "https://tile.example.org"},
		{"http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8081"},
		{"https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"},
		{"/tiles/{z}/{x}/{y}.png", ""},
	} {
		got, err := TileOrigin(tc.in)
		if err != nil || got != tc.origin {
			t.Errorf("TileOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.origin)
		}
	}
	for _, bad := range []string{
		"https://tile.example.org/tiles.png",                      // no {z}/{x}/{y}
		"javascript:alert(1)//{z}/{x}/{y}",                        // not http
		"https://a.example; script-src *;/{z}/{x}/{y}",            // policy injection
		"https://user@tile.example.org/{z}/{x}/{y}.png",           // credentials
		"//tile.example.org/{z}/{x}/{y}.png",                      // scheme-relative
		"https://tile.example.org'none'/{z}/{x}/{y}.png",          // quote
		"https://tile.example.org\thttps://x.example/{z}/{x}/{y}", // whitespace
	} {
		if o, err := TileOrigin(bad); err == nil {
			t.Errorf("TileOrigin(%q) = %q, want an error", bad, o)
		}
	}
	csp := contentSecurityPolicy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
	if !strings.Contains(csp, "img-src 'self' data: https://*.tile.example.org;") || !strings.Contains(csp, "script-src 'self';") ||
		strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("Content-Security-Policy: %s", csp)
	}
	if csp := contentSecurityPolicy("bad; script-src *"); strings.Contains(csp, "bad") {
		t.Errorf("an invalid tile URL reached the policy: %s", csp)
	}
}

type geoJSON struct {
	Type     string
	Features []struct {
		ID       string
		Geometry struct {
			Type        string
			Coordinates [2]float64
		}
		Properties struct {
			Slug, Title, Grade, Place string
			DateStart                 string `json:"date_start"`
			DateEnd                   string `json:"date_end"`
			LocatedBy                 string `json:"located_by"`
			Killed                    *record.Count
		}
	}
	Unlocated []string
}

func TestMapData(t *testing.T) {
	s := newSite(t)
	// A draft at Hadrut: the public must not see it on the map.
	err := s.st.Update(t.Context(), func(tx *store.Tx) error {
		_, err := tx.Put(&record.Incident{Slug: "draft-at-hadrut", Title: "A draft", DisorderType: "Political violence",
			EventType: "Battles", SubEventType: "Armed clash", Start: record.Date(2020, 11, 2), TimePrecision: "day",
			Place: "hadrut", Status: "draft"}, store.Change{By: "test", Reason: "test", At: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(role account.Role) geoJSON {
		resp := s.do(t, role, "GET", "/api/v1/map", "", nil)
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "application/geo+json" {
			t.Fatalf("GET /api/v1/map as %s: %d %s", role, resp.StatusCode, ct)
		}
		var g geoJSON
		jsonDecode(t, resp, &g)
		return g
	}
	slugs := func(g geoJSON) map[string]bool {
		out := map[string]bool{}
		for _, f := range g.Features {
			out[f.Properties.Slug] = true
		}
		return out
	}
	pub := get(account.Public)
	if pub.Type != "FeatureCollection" || len(pub.Features) != 4 || slugs(pub)["draft-at-hadrut"] {
		t.Errorf("the public's map: %+v", slugs(pub))
	}
	for _, f := range pub.Features {
		if f.Properties.Slug != "hadrut-execution" {
			continue
		}
		p := f.Properties
		if f.Geometry.Type != "Point" || f.Geometry.Coordinates != [2]float64{47.031, 39.52} || p.Place != "Hadrut" ||
			p.LocatedBy != "place" || p.Grade == "" || p.DateStart != "2020-10-09" || p.DateEnd != "2020-10-15" ||
			p.Killed == nil || p.Killed.Best == nil || *p.Killed.Best != 2 {
			t.Errorf("hadrut-execution: %+v", f)
		}
	}
	if viewer := get(account.Viewer); !slugs(viewer)["draft-at-hadrut"] {
		t.Errorf("a viewer's map lacks the draft: %+v", slugs(viewer))
	}

	// Casualties per month: the engine's sums, months without gaps, and
	// the draft's month only for those who may see it.
	var monthly struct {
		Months []string
		Series []struct {
			Key, Label string
			Killed     []*record.Count
		}
	}
	resp := s.do(t, account.Public, "GET", "/api/v1/casualties/monthly?by=side", "", nil)
	jsonDecode(t, resp, &monthly)
	if strings.Join(monthly.Months, " ") != "2020-09 2020-10" {
		t.Errorf("months: %v", monthly.Months)
	}
	found := false
	for _, sr := range monthly.Series {
		if sr.Key == "armenia" {
			found = true
			if sr.Label != "Armenia" || len(sr.Killed) != 2 || sr.Killed[0] != nil || sr.Killed[1] == nil || *sr.Killed[1].Best != 6 {
				b, _ := json.Marshal(sr)
				t.Errorf("armenia: %s", b)
			}
		}
	}
	if !found {
		t.Errorf("no series for armenia: %+v", monthly.Series)
	}
	bad := s.do(t, account.Public, "GET", "/api/v1/casualties/monthly?by=place", "", nil)
	bad.Body.Close()
	if bad.StatusCode != 400 {
		t.Errorf("by=place: %d, want 400", bad.StatusCode)
	}
}

func TestMapPages(t *testing.T) {
	s := newSite(t)
	for path, wants := range map[string][]string{
		"/map":       {`<div id="map"`, staticPrefix() + "map.js", `type="module"`, "gt-grade-contested"},
		"/dashboard": {`<canvas id="chart-side"`, staticPrefix() + "dashboard.js", `id="tally-table"`, `data-reported="81"`, `data-documented="14"`, `data-gap="67"`},
	} {
		resp := s.do(t, account.Public, "GET", path, "", nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
		for _, w := range wants {
			if !strings.Contains(page, w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
		if strings.Contains(page, "<script>") {
			t.Errorf("GET %s has an inline script", path)
		}
	}
}
