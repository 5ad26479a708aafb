// SPDX-License-Identifier: Apache-2.0

package web

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// TestLoad is the load test of `make bench`, skipped otherwise: 100
// concurrent readers browse the incident list, incident pages and the API
// for 30 s against 100 000 generated incidents. It fails on any error and
// prints the latencies for docs/benchmarks.md.
func TestLoad(t *testing.T) {
	if os.Getenv("GROUNDTRUTH_LOAD") == "" {
		t.Skip("set GROUNDTRUTH_LOAD=1 (make bench) to run the load test")
	}
	n, readers, dur := 100000, 100, 30*time.Second
	if v, err := strconv.Atoi(os.Getenv("GROUNDTRUTH_LOAD_INCIDENTS")); err == nil {
		n = v
	}
	ctx := t.Context()
	st, err := store.Create(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	c := store.Change{By: "load", Reason: "generated", At: time.Now()}
	err = st.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Put(&record.Place{Slug: "town", Name: "Town", Location: &record.Location{Lat: 40, Lon: 46}}, c); err != nil {
			return err
		}
		for i := range n {
			inc := &record.Incident{Slug: fmt.Sprintf("inc-%06d", i), Title: fmt.Sprintf("Generated incident %d", i),
				DisorderType: "Political violence", EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
				Start: record.Date(2020, time.Month(1+i%12), 1+i%28), TimePrecision: "day", Place: "town", Status: "published",
				Location: &record.Location{Lat: 39 + float64(i%1000)/1000, Lon: 46 + float64(i%997)/1000, Precision: "town"}}
			if _, err := tx.Put(inc, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d incidents in %v", n, time.Since(start).Round(time.Millisecond))
	srv := httptest.NewServer(New(Config{Store: st, Log: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers}}

	var (
		mu        sync.Mutex
		latencies = map[string][]time.Duration{}
		errors    int
	)
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for g := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for time.Now().Before(deadline) {
				slug := fmt.Sprintf("inc-%06d", rng.IntN(n))
				kind, path := "", ""
				switch rng.IntN(4) {
				case 0:
					kind, path = "list page", "/?after="+slug
				case 1:
					kind, path = "incident page", "/incidents/"+slug
				case 2:
					kind, path = "api list", "/api/v1/incidents?limit=50"
				default:
					kind, path = "api incident", "/api/v1/incidents/"+slug
				}
				t0 := time.Now()
				resp, err := client.Get(srv.URL + path)
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				mu.Lock()
				latencies[kind] = append(latencies[kind], d)
				if !ok {
					errors++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("load: %d incidents, %d concurrent readers, %v\n", n, readers, dur)
	total := 0
	for _, kind := range []string{"list page", "incident page", "api list", "api incident"} {
		ls := latencies[kind]
		slices.Sort(ls)
		total += len(ls)
		if len(ls) == 0 {
			continue
		}
		fmt.Printf("load: %-14s %6d requests  p50 %8v  p99 %8v\n", kind, len(ls), ls[len(ls)/2].Round(time.Microsecond), ls[len(ls)*99/100].Round(time.Microsecond))
	}
	fmt.Printf("load: %d requests, %d errors\n", total, errors)
	if errors > 0 {
		t.Errorf("%d of %d requests failed", errors, total)
	}
}
