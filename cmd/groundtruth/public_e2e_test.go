// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShowPublic checks that show --public prints what the public sees
// on the web: no unpublished incident, no item marked personal data, and
// the organisation in place of the account that added an item.
func TestShowPublic(t *testing.T) {
	data, _ := demoData(t)
	p := filepath.Join(filepath.Dir(data), "street.txt")
	if err := os.WriteFile(p, []byte("a street in Hadrut"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, data, "ingest", p, "--incident", "hadrut-execution")
	sum := sha256.Sum256([]byte("a street in Hadrut"))
	street := "ev-" + hex.EncodeToString(sum[:])[:12]
	draft := filepath.Join(filepath.Dir(data), "draft.yaml")
	os.WriteFile(draft, []byte(`groundtruth_casefile: 1
case:
  slug: draft-case
  title: A draft
incidents:
  - slug: quiet-draft
    title: A draft incident
    disorder_type: Political violence
    event_type: Explosions/Remote violence
    sub_event_type: Shelling/artillery/missile attack
    date_start: 2020-10-20
    time_precision: day
    place: hadrut
    status: draft
`), 0o644)
	mustRun(t, data, "load", draft)

	type item struct {
		Slug    string `json:"slug"`
		AddedBy string `json:"added_by"`
	}
	var inc struct {
		Evidence []item `json:"evidence"`
	}
	runJSON(t, data, &inc, "show", "hadrut-execution", "--public", "--json")
	var slugs []string
	for _, ev := range inc.Evidence {
		slugs = append(slugs, ev.Slug)
		if ev.AddedBy != "groundtruth desk" {
			t.Errorf("show --public: %s added by %q, want \"groundtruth desk\"", ev.Slug, ev.AddedBy)
		}
	}
	if strings.Join(slugs, ",") != street {
		t.Errorf("show --public: evidence %v, want only %s (the others are personal data)", slugs, street)
	}
	for _, args := range [][]string{
		{"show", "hadrut-execution", "--public"},
		{"show", "hadrut-execution", "--public", "--json"},
		{"show", street, "--public"},
		{"show", street, "--public", "--json"},
	} {
		if out := mustRun(t, data, args...); strings.Contains(out, "tester") {
			t.Errorf("groundtruth %s names the account tester:\n%s", strings.Join(args, " "), out)
		}
	}
	for _, args := range [][]string{
		{"show", "quiet-draft", "--public"},
		{"show", "hadrut-capture-video", "--public"},
	} {
		res := run(t, data, args...)
		if res.code != 2 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, "--public") {
			t.Errorf("groundtruth %s: exit %d, stderr %q; want 2 and one line", strings.Join(args, " "), res.code, res.stderr)
		}
	}
	// Without --public the desk sees everything, with names.
	runJSON(t, data, &inc, "show", "hadrut-execution", "--json")
	if len(inc.Evidence) != 3 {
		t.Errorf("show: %d items, want 3", len(inc.Evidence))
	}
	mustRun(t, data, "show", "quiet-draft")

	// GROUNDTRUTH_ORGANISATION names the desk.
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := command(ctx, data, "show", street, "--public", "--json")
	cmd.Env = append(cmd.Env, "GROUNDTRUTH_ORGANISATION=Example Desk")
	res := finish(t, ctx, cmd, nil)
	var ev item
	if err := json.Unmarshal([]byte(res.stdout), &ev); err != nil || ev.AddedBy != "Example Desk" {
		t.Errorf("with GROUNDTRUTH_ORGANISATION: %v, added_by %q, want \"Example Desk\"", err, ev.AddedBy)
	}
}
