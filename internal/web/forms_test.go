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
}
