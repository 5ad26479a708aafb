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

	"groundtruth/internal/ledger"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

func TestReceiptDownload(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := store.Create(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := ledger.Init(filepath.Join(dir, "ledger"), "example.org/web-test"); err != nil {
		t.Fatal(err)
	}
	lg, err := ledger.Open(filepath.Join(dir, "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	st.SetJournal(lg)
	sums := map[string]string{"public-photo": strings.Repeat("0a", 32), "witness-photo": strings.Repeat("0b", 32), "draft-photo": strings.Repeat("0c", 32)}
	inc := func(slug string, status record.IncidentStatus) *record.Incident {
		return &record.Incident{Slug: slug, Title: slug, DisorderType: "Political violence", EventType: "Battles",
			SubEventType: "Armed clash", Start: record.Date(2020, 10, 1), TimePrecision: "day",
			Location: &record.Location{Lat: 40, Lon: 46, Precision: "town"}, Status: status}
	}
	err = st.Update(ctx, func(tx *store.Tx) error {
		c := store.Change{By: "t", Reason: "t", At: time.Now()}
		recs := []record.Record{inc("shown", "published"), inc("hidden", "draft"),
			&record.Evidence{Slug: "public-photo", SHA256: sums["public-photo"], Title: "Photo of the square", Incidents: []string{"shown"}},
			&record.Evidence{Slug: "witness-photo", SHA256: sums["witness-photo"], PersonalData: true, Incidents: []string{"shown"}},
			&record.Evidence{Slug: "draft-photo", SHA256: sums["draft-photo"], Incidents: []string{"hidden"}},
		}
		for _, sum := range sums {
			if err := tx.PutBlob(store.Blob{SHA256: sum, Size: 10, MediaType: "image/png"}); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if _, err := tx.Put(r, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lg.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{Store: st, Ledger: lg, Log: slog.New(slog.DiscardHandler)}))
	defer srv.Close()

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, page := get("/")
	if !strings.Contains(page, `href="/receipts/public-photo"`) || strings.Contains(page, "witness-photo") {
		t.Errorf("incident page links: %s", page)
	}
	code, body := get("/receipts/public-photo")
	if code != 200 {
		t.Fatalf("GET receipt = %d", code)
	}
	res, err := ledger.VerifyReceipt([]byte(body), nil, lg.Verifier())
	if err != nil || res.SHA256 != sums["public-photo"] {
		t.Errorf("downloaded receipt: %+v, %v", res, err)
	}
	for _, slug := range []string{"witness-photo", "draft-photo", "nope"} {
		if code, _ := get("/receipts/" + slug); code != 404 {
			t.Errorf("GET /receipts/%s = %d, want 404", slug, code)
		}
	}
}
