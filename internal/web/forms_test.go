// SPDX-License-Identifier: Apache-2.0

package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"

	"groundtruth/internal/account"
	"groundtruth/internal/record"
)

func TestForms(t *testing.T) {
	s := newSite(t)
	t.Run("search in Armenian script finds Hadrut", func(t *testing.T) {
		for _, q := range []string{"Հադրութ", "гадрут", "Hadrut"} {
			resp := s.do(t, account.Public, "GET", "/search?q="+url.QueryEscape(q), "", nil)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`href="/incidents/hadrut-execution"`)) {
				t.Errorf("search %q: %d, Hadrut execution not found", q, resp.StatusCode)
			}
		}
		var out struct{ Incidents []string }
		jsonDecode(t, s.do(t, account.Public, "GET", "/api/v1/search?q="+url.QueryEscape("Ստեփանակերտ"), "", nil), &out)
		if len(out.Incidents) != 1 || out.Incidents[0] != "stepanakert-cluster-munitions" {
			t.Errorf("API search for Stepanakert in Armenian: %v", out.Incidents)
		}
		bad := s.do(t, account.Public, "GET", "/api/v1/search?q=%22", "", nil)
		bad.Body.Close()
		if bad.StatusCode != 400 {
			t.Errorf("empty query: %d, want 400", bad.StatusCode)
		}
	})
	t.Run("assessment form needs a reason, then lands in the history", func(t *testing.T) {
		form := url.Values{"kind": {"geolocation"}, "organisation": {"dfrlab"}, "date": {"2020-10-20"}, "finding": {"Matched to the block"},
			"lat": {"40.6828"}, "lon": {"46.3606"}, "radius_m": {"150"}, "slug": {"form-geo"}}
		noReason := s.do(t, account.Analyst, "POST", "/incidents/ganja-missile-strike-2020-10-11/assessments", form.Encode(), nil)
		noReason.Body.Close()
		if noReason.StatusCode != 400 {
			t.Errorf("without a reason: %d, want 400", noReason.StatusCode)
		}
		form.Set("reason", "desk check of the strike site")
		ok := s.do(t, account.Analyst, "POST", "/incidents/ganja-missile-strike-2020-10-11/assessments", form.Encode(), nil)
		ok.Body.Close()
		if ok.StatusCode != 303 {
			t.Fatalf("with a reason: %d, want 303", ok.StatusCode)
		}
		hist, err := s.st.History(t.Context(), record.KindAssessment, "form-geo")
		if err != nil || len(hist) != 1 || hist[0].Reason != "desk check of the strike site" || hist[0].By != "analyst-user" {
			t.Errorf("history: %+v, %v", hist, err)
		}
		page := s.do(t, account.Viewer, "GET", "/incidents/ganja-missile-strike-2020-10-11", "", nil)
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if !bytes.Contains(body, []byte("assessment/form-geo")) {
			t.Error("the grade explanation does not name the new assessment")
		}
	})
	t.Run("upload named ../../x is stored by digest", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("reason", "footage from a source")
		fw, _ := mw.CreateFormFile("files", "../../x")
		fw.Write([]byte("uploaded bytes one"))
		fw, _ = mw.CreateFormFile("files", "second.bin")
		fw.Write([]byte("uploaded bytes two"))
		mw.Close()
		resp := s.do(t, account.Analyst, "POST", "/incidents/hadrut-execution/evidence", buf.String(),
			map[string]string{"Content-Type": mw.FormDataContentType(), "Accept": "application/json"})
		var out struct{ Evidence []string }
		jsonDecode(t, resp, &out)
		if resp.StatusCode != 201 || len(out.Evidence) != 2 {
			t.Fatalf("upload: %d %v", resp.StatusCode, out)
		}
		st, err := s.st.Get(t.Context(), record.KindEvidence, out.Evidence[0])
		if err != nil {
			t.Fatal(err)
		}
		ev := st.Record.(*record.Evidence)
		// The multipart reader keeps only the last element of a name.
		if ev.Filename != "x" || !strings.HasPrefix(ev.Slug, "ev-") {
			t.Errorf("recorded %+v", ev)
		}
		orig := s.do(t, account.Viewer, "GET", "/evidence/"+ev.Slug+"/original", "", nil)
		orig.Body.Close()
		if cd := orig.Header.Get("Content-Disposition"); strings.Contains(cd, "/") || strings.Contains(cd, "..\"") {
			t.Errorf("served with Content-Disposition %q", cd)
		}
		viewer := s.do(t, account.Viewer, "POST", "/incidents/hadrut-execution/evidence", buf.String(), map[string]string{"Content-Type": mw.FormDataContentType()})
		viewer.Body.Close()
		if viewer.StatusCode != 403 {
			t.Errorf("a viewer uploading: %d, want 403", viewer.StatusCode)
		}
	})
	t.Run("claims and casualties through their forms", func(t *testing.T) {
		claim := url.Values{"slug": {"form-claim"}, "by": {"azerbaijan"}, "date": {"2020-10-12"}, "about": {"responsibility"},
			"stance": {"denies"}, "summary": {"Denied firing on the city"}, "reason": {"statement read on state television"}}
		resp := s.do(t, account.Analyst, "POST", "/incidents/ganja-missile-strike-2020-10-11/claims", claim.Encode(), nil)
		resp.Body.Close()
		if resp.StatusCode != 303 {
			t.Errorf("claim: %d, want 303", resp.StatusCode)
		}
		k := url.Values{"slug": {"form-casualties"}, "status": {"civilian"}, "reported_by": {"oc-media"}, "killed_best": {"9"},
			"injured_low": {"30"}, "reason": {"second report"}}
		resp = s.do(t, account.Analyst, "POST", "/incidents/ganja-missile-strike-2020-10-11/casualties", k.Encode(), nil)
		resp.Body.Close()
		if resp.StatusCode != 303 {
			t.Fatalf("casualties: %d, want 303", resp.StatusCode)
		}
		st, err := s.st.Get(t.Context(), record.KindCasualty, "form-casualties")
		if err != nil {
			t.Fatal(err)
		}
		c := st.Record.(*record.Casualty)
		if c.Killed == nil || *c.Killed.Best != 9 || c.Killed.Low != nil || c.Injured == nil || *c.Injured.Low != 30 || c.Injured.Best != nil {
			t.Errorf("recorded %+v %+v, want best 9 killed and at least 30 injured, nothing else", c.Killed, c.Injured)
		}
		k.Set("killed_best", "nine")
		k.Set("slug", "form-casualties-2")
		bad := s.do(t, account.Analyst, "POST", "/incidents/ganja-missile-strike-2020-10-11/casualties", k.Encode(), nil)
		body, _ := io.ReadAll(bad.Body)
		bad.Body.Close()
		if bad.StatusCode != 400 || !bytes.Contains(body, []byte("killed_best")) {
			t.Errorf("a figure in words: %d", bad.StatusCode)
		}
	})
	t.Run("two items side by side", func(t *testing.T) {
		resp := s.do(t, account.Public, "GET", "/compare?a=stepanakert-collapsed-building-photo&b=stepanakert-cluster-munition-footage", "", nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || bytes.Count(body, []byte("<h2>")) != 2 {
			t.Errorf("compare: %d", resp.StatusCode)
		}
		hidden := s.do(t, account.Public, "GET", "/compare?a=hadrut-execution-video&b=stepanakert-cluster-munition-footage", "", nil)
		hidden.Body.Close()
		if hidden.StatusCode != 404 {
			t.Errorf("compare with a personal-data item as the public: %d, want 404", hidden.StatusCode)
		}
	})
	t.Run("records through the API", func(t *testing.T) {
		resp := s.do(t, account.Analyst, "POST", "/api/v1/claims",
			`{"record":{"slug":"api-claim","incident":"ganja-missile-strike-2020-10-11","by":"azerbaijan","date":"2020-10-11","about":"casualties","stance":"affirms","summary":"Gave the toll"},"reason":"ministry statement"}`, nil)
		resp.Body.Close()
		bad := s.do(t, account.Analyst, "POST", "/api/v1/claims",
			`{"record":{"slug":"api-claim-2","incident":"ganja-missile-strike-2020-10-11","by":"azerbaijan","date":"2020-10-11","about":"casualties","stance":"affirms","summary":"x","value":"81"},"reason":"r"}`, nil)
		msg, _ := io.ReadAll(bad.Body)
		bad.Body.Close()
		if resp.StatusCode != 200 || bad.StatusCode != 400 || !bytes.Contains(msg, []byte("value")) {
			t.Errorf("API claims: %d, then %d %s", resp.StatusCode, bad.StatusCode, msg)
		}
	})
}
