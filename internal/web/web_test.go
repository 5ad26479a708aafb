// SPDX-License-Identifier: Apache-2.0

package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

func TestListIncidents(t *testing.T) {
	st, err := store.Create(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inc := func(slug, title string, status record.IncidentStatus) *record.Incident {
		return &record.Incident{Slug: slug, Title: title, DisorderType: "Political violence", EventType: "Battles",
			SubEventType: "Armed clash", Start: record.Date(2020, 10, 1), TimePrecision: "day", Place: "stepanakert", Status: status}
	}
	place := &record.Place{Slug: "stepanakert", Name: "Xankandi", Names: []record.PlaceName{
		{Name: "Stepanakert", Lang: "en", UsedBy: []string{"armenia"}}, {Name: "Khankendi", Lang: "en", UsedBy: []string{"azerbaijan"}}}}
	err = st.Update(t.Context(), func(tx *store.Tx) error {
		c := store.Change{By: "t", Reason: "t", At: time.Now()}
		for _, r := range []record.Record{place, inc("pub", "Shelling <b>bold</b>", "published"), inc("draft", "Secret draft", "draft")} {
			if _, err := tx.Put(r, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{Store: st, Log: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"Shelling &lt;b&gt;bold&lt;/b&gt;", "Stepanakert (Khankendi)", "1 unpublished", "<td>weak</td>", "No casualty figures are recorded"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "Secret draft") {
		t.Error("page lists an unpublished incident")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if resp, _ := http.Get(srv.URL + "/nope"); resp.StatusCode != 404 {
		t.Errorf("GET /nope = %d, want 404", resp.StatusCode)
	}
}
