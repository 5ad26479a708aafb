// SPDX-License-Identifier: Apache-2.0

package main

// End-to-end tests: they build the groundtruth binary once and drive it as
// an investigator would, each test in its own data directory.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to inspect and age the database

	"groundtruth/internal/casefile"
	"groundtruth/internal/placeholder"
)

// binPath is the groundtruth binary built by TestMain.
var binPath string

// stateHome is XDG_STATE_HOME of every run, so that no test writes into
// the state directory of the user running the tests.
var stateHome string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "groundtruth-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: temporary directory: %v\n", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "groundtruth")
	stateHome = filepath.Join(dir, "state")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// commandTimeout bounds every run of the binary, so that a hang fails the
// test instead of stalling the suite.
const commandTimeout = 60 * time.Second

// testEnv is the environment of every run: the caller's, without any
// groundtruth settings, and with GROUNDTRUTH_USER=tester.
func testEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GROUNDTRUTH_") {
			env = append(env, kv)
		}
	}
	return append(env, "GROUNDTRUTH_USER=tester", "XDG_STATE_HOME="+stateHome)
}

// command returns the binary run with --data data and args. It runs in the
// parent of the data directory, so that nothing can land in the source tree.
// Each data directory has its own witness file beside it: the tests copy
// one data directory into many, which then grow apart.
func command(ctx context.Context, data string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binPath, append([]string{"--data", data}, args...)...)
	cmd.Env = append(testEnv(), "GROUNDTRUTH_WITNESS_FILE="+data+".witness")
	cmd.Dir = filepath.Dir(data)
	return cmd
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary to completion.
func run(t *testing.T, data string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	return finish(t, ctx, command(ctx, data, args...), args)
}

// finish runs cmd to completion and returns its outputs and exit status;
// anything but an exit status (a timeout, a missing binary) fails the test.
func finish(t *testing.T, ctx context.Context, cmd *exec.Cmd, args []string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.code = ee.ExitCode()
	default:
		t.Fatalf("groundtruth %s: %v (stderr %q)", strings.Join(args, " "), err, res.stderr)
	}
	return res
}

// mustRun runs the binary, requires exit status 0 and returns its stdout.
func mustRun(t *testing.T, data string, args ...string) string {
	t.Helper()
	res := run(t, data, args...)
	if res.code != 0 {
		t.Fatalf("groundtruth %s: got exit status %d, want 0 (stderr %q)", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

// runJSON runs a --json command and decodes its stdout into v.
func runJSON(t *testing.T, data string, v any, args ...string) {
	t.Helper()
	out := mustRun(t, data, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("groundtruth %s: stdout is not the JSON expected: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// demoData returns a new data directory holding the built-in case, and the
// number of records the first load created.
func demoData(t *testing.T) (data string, records int) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "data")
	mustRun(t, data, "init")
	out := mustRun(t, data, "load", "--demo")
	m := regexp.MustCompile(`^loaded builtin:nagorno-karabakh-2020\.yaml: (\d+) created, 0 updated, 0 unchanged; ledger at \d+ entries\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("load --demo into a new data directory: got %q, want \"loaded builtin:nagorno-karabakh-2020.yaml: N created, 0 updated, 0 unchanged; ledger at M entries\"", out)
	}
	records, _ = strconv.Atoi(m[1])
	return data, records
}

// The JSON shapes printed by --json, as far as these tests read them.

type jCount struct {
	Low  *int `json:"low"`
	Best *int `json:"best"`
	High *int `json:"high"`
}

type jLocation struct {
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	RadiusM float64 `json:"radius_m"`
}

type jAssessment struct {
	Slug         string     `json:"slug"`
	Incident     string     `json:"incident"`
	Kind         string     `json:"kind"`
	Value        string     `json:"value"`
	Likelihood   string     `json:"likelihood"`
	Organisation string     `json:"organisation"`
	Location     *jLocation `json:"location"`
}

type jClaim struct {
	Slug     string `json:"slug"`
	Incident string `json:"incident"`
	By       string `json:"by"`
	About    string `json:"about"`
	Stance   string `json:"stance"`
	Value    string `json:"value"`
}

type jCasualty struct {
	Slug     string  `json:"slug"`
	Incident string  `json:"incident"`
	Killed   *jCount `json:"killed"`
	Injured  *jCount `json:"injured"`
}

type jVictim struct {
	Slug     string `json:"slug"`
	Incident string `json:"incident"`
	Initials string `json:"initials"`
	Age      *int   `json:"age"`
}

type jSighting struct {
	URL      string `json:"url"`
	Platform string `json:"platform"`
	Channel  string `json:"channel"`
	PostedAt string `json:"posted_at"`
}

type jEvidence struct {
	Slug        string      `json:"slug"`
	SHA256      string      `json:"sha256"`
	Size        int64       `json:"size"`
	MediaType   string      `json:"media_type"`
	Filename    string      `json:"filename"`
	Placeholder bool        `json:"placeholder"`
	Incidents   []string    `json:"incidents"`
	Sightings   []jSighting `json:"sightings"`
	AddedBy     string      `json:"added_by"`
}

type jInvestigation struct {
	Slug     string `json:"slug"`
	Incident string `json:"incident"`
	OpenedBy string `json:"opened_by"`
}

type jIncident struct {
	Slug        string `json:"slug"`
	Title       string `json:"title"`
	Version     int    `json:"version"`
	PlaceRecord *struct {
		Slug string `json:"slug"`
	} `json:"place_record"`
	Assessments    []jAssessment    `json:"assessments"`
	Claims         []jClaim         `json:"claims"`
	Casualties     []jCasualty      `json:"casualties"`
	Victims        []jVictim        `json:"victims"`
	Evidence       []jEvidence      `json:"evidence"`
	Investigations []jInvestigation `json:"investigations"`
}

type jIncidentSummary struct {
	Slug   string `json:"slug"`
	Title  string `json:"title"`
	Status string `json:"status"`
}

type jTally struct {
	Slug   string  `json:"slug"`
	Killed *jCount `json:"killed"`
	PartOf string  `json:"part_of"`
}

type jVersion struct {
	Version int             `json:"version"`
	Op      string          `json:"op"`
	By      string          `json:"by"`
	Reason  string          `json:"reason"`
	Record  json.RawMessage `json:"record"`
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestDemoShowJSON(t *testing.T) {
	data, created := demoData(t)

	out := mustRun(t, data, "show", "hadrut-execution", "--json")
	var inc jIncident
	if err := json.Unmarshal([]byte(out), &inc); err != nil {
		t.Fatalf("show hadrut-execution --json: %v\n%s", err, out)
	}
	if inc.Slug != "hadrut-execution" || inc.Version != 1 {
		t.Errorf("slug, version: got %q, %d, want %q, 1", inc.Slug, inc.Version, "hadrut-execution")
	}
	if inc.PlaceRecord == nil || inc.PlaceRecord.Slug != "hadrut" {
		t.Errorf("place_record: got %+v, want the place hadrut", inc.PlaceRecord)
	}

	t.Run("assessments", func(t *testing.T) {
		var geoOrgs []string
		for _, a := range inc.Assessments {
			if a.Incident != "hadrut-execution" {
				t.Errorf("assessment %s: got incident %q, want hadrut-execution", a.Slug, a.Incident)
			}
			if a.Kind != "geolocation" {
				continue
			}
			geoOrgs = append(geoOrgs, a.Organisation)
			if a.Location == nil {
				t.Errorf("geolocation %s: got no location, want one", a.Slug)
			} else if a.Location.Lat != 39.52 || a.Location.Lon != 47.031 || a.Location.RadiusM != 150 {
				t.Errorf("geolocation %s: got location %+v, want lat 39.52, lon 47.031, radius_m 150", a.Slug, *a.Location)
			}
		}
		slices.Sort(geoOrgs)
		if want := []string{"bellingcat", "dfrlab"}; !slices.Equal(geoOrgs, want) {
			t.Errorf("organisations of the geolocations: got %q, want %q", geoOrgs, want)
		}
		var auth []jAssessment
		for _, a := range inc.Assessments {
			if a.Kind == "authenticity" {
				auth = append(auth, a)
			}
		}
		if len(auth) != 1 {
			t.Fatalf("authenticity assessments: got %d, want 1", len(auth))
		}
		if a := auth[0]; a.Likelihood != "likely" || a.Organisation != "bellingcat" || a.Value != "authentic" {
			t.Errorf("authenticity assessment: got likelihood %q by %q value %q, want likely by bellingcat value authentic", a.Likelihood, a.Organisation, a.Value)
		}
	})

	t.Run("claims", func(t *testing.T) {
		var denials []jClaim
		for _, c := range inc.Claims {
			if c.About == "authenticity" && c.Stance == "denies" {
				denials = append(denials, c)
			}
		}
		if len(denials) != 1 {
			t.Fatalf("claims denying authenticity: got %d, want 1", len(denials))
		}
		if c := denials[0]; c.By != "azerbaijani-officials" || c.Value != "not_authentic" || c.Incident != "hadrut-execution" {
			t.Errorf("denial: got by %q value %q incident %q, want by azerbaijani-officials value not_authentic incident hadrut-execution", c.By, c.Value, c.Incident)
		}
	})

	t.Run("victims", func(t *testing.T) {
		ages := map[string]int{}
		for _, v := range inc.Victims {
			if v.Age == nil {
				t.Errorf("victim %s: got no age, want one", v.Slug)
				continue
			}
			ages[v.Initials] = *v.Age
		}
		if want := map[string]int{"B.H.": 73, "Y.A.": 25}; len(inc.Victims) != 2 || !mapsEqual(ages, want) {
			t.Errorf("victims: got %d with initials→age %v, want 2 with %v", len(inc.Victims), ages, want)
		}
		// The raw JSON, not the decoded struct: a name or notes key must
		// not be printed at all, not even empty.
		var raw struct {
			Victims []map[string]json.RawMessage `json:"victims"`
		}
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatal(err)
		}
		for _, v := range raw.Victims {
			for _, key := range []string{"name", "notes"} {
				if val, ok := v[key]; ok {
					t.Errorf("victim %s: got key %q = %s, want no such key", v["slug"], key, val)
				}
			}
		}
		// The history of a victim is as public as the victim.
		var hist []jVersion
		runJSON(t, data, &hist, "history", "victim", "hadrut-execution-victim-bh", "--json")
		if len(hist) != 1 {
			t.Fatalf("history victim hadrut-execution-victim-bh: got %d versions, want 1", len(hist))
		}
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(hist[0].Record, &rec); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"name", "notes"} {
			if val, ok := rec[key]; ok {
				t.Errorf("history of victim hadrut-execution-victim-bh: got key %q = %s, want no such key", key, val)
			}
		}
	})

	t.Run("investigations", func(t *testing.T) {
		var by []string
		for _, i := range inc.Investigations {
			by = append(by, i.OpenedBy)
		}
		slices.Sort(by)
		if want := []string{"armenian-prosecutors-office", "azerbaijani-prosecutors-office"}; !slices.Equal(by, want) {
			t.Errorf("investigations opened by: got %q, want %q", by, want)
		}
	})

	t.Run("evidence", func(t *testing.T) {
		var slugs []string
		for _, ev := range inc.Evidence {
			slugs = append(slugs, ev.Slug)
			if !sha256RE.MatchString(ev.SHA256) {
				t.Errorf("evidence %s: got sha256 %q, want 64 lower-case hex digits", ev.Slug, ev.SHA256)
			}
			if len(ev.Sightings) == 0 {
				t.Errorf("evidence %s: got no sighting, want at least one", ev.Slug)
			}
			if !ev.Placeholder {
				t.Errorf("evidence %s: got placeholder false, want true (the demo holds no real media)", ev.Slug)
			}
		}
		if want := []string{"hadrut-capture-video", "hadrut-execution-video"}; !slices.Equal(slugs, want) {
			t.Errorf("evidence of hadrut-execution: got %q, want %q", slugs, want)
		}
	})

	t.Run("casualties", func(t *testing.T) {
		if len(inc.Casualties) != 1 || inc.Casualties[0].Killed == nil || !intIs(inc.Casualties[0].Killed.Best, 2) {
			t.Errorf("casualties of hadrut-execution: got %s, want one record with killed.best 2", mustJSON(inc.Casualties))
		}
	})

	t.Run("tallies", func(t *testing.T) {
		var tallies []jTally
		runJSON(t, data, &tallies, "tallies", "--json")
		byBest := map[int]jTally{}
		for _, ta := range tallies {
			if ta.Killed != nil && ta.Killed.Best != nil {
				byBest[*ta.Killed.Best] = ta
			}
		}
		total, ok := byBest[81]
		if !ok {
			t.Fatalf("tallies: got %s, want one with killed.best 81", mustJSON(tallies))
		}
		if total.PartOf != "" {
			t.Errorf("tally %s (81 killed): got part_of %q, want none", total.Slug, total.PartOf)
		}
		for _, n := range []int{47, 34} {
			ta, ok := byBest[n]
			if !ok {
				t.Errorf("tallies: got none with killed.best %d, want one", n)
				continue
			}
			if ta.PartOf != total.Slug {
				t.Errorf("tally %s (%d killed): got part_of %q, want %q", ta.Slug, n, ta.PartOf, total.Slug)
			}
		}
	})

	t.Run("tallies are not incident casualties", func(t *testing.T) {
		var list []jIncidentSummary
		runJSON(t, data, &list, "incidents", "--json")
		var slugs []string
		for _, s := range list {
			slugs = append(slugs, s.Slug)
		}
		want := []string{"ganja-missile-strike-2020-10-11", "hadrut-civilians-2020-10-10", "hadrut-execution", "stepanakert-cluster-munitions"}
		if !slices.Equal(slugs, want) {
			t.Errorf("incidents: got %q, want %q", slugs, want)
		}
		records := 0
		for _, slug := range slugs {
			var v jIncident
			runJSON(t, data, &v, "show", slug, "--json")
			for _, c := range v.Casualties {
				records++
				if c.Incident != slug {
					t.Errorf("casualty %s shown with %s: got incident %q, want %q", c.Slug, slug, c.Incident, slug)
				}
				if c.Killed == nil {
					continue
				}
				for _, n := range []*int{c.Killed.Low, c.Killed.Best, c.Killed.High} {
					if n != nil && (*n == 81 || *n == 47 || *n == 34) {
						t.Errorf("casualty %s of %s: got killed %s, want no tally figure (81, 47, 34) among incident casualties", c.Slug, slug, mustJSON(c.Killed))
					}
				}
			}
		}
		if records != 3 {
			t.Errorf("casualty records across all incidents: got %d, want 3", records)
		}
	})

	t.Run("load twice", func(t *testing.T) {
		out := mustRun(t, data, "load", "--demo")
		want := fmt.Sprintf("loaded builtin:nagorno-karabakh-2020.yaml: 0 created, 0 updated, %d unchanged; ledger at %d entries\n", created, created+4) // a leaf per record and per original (4)
		if out != want {
			t.Errorf("second load --demo: got %q, want %q", out, want)
		}
		var hist []jVersion
		runJSON(t, data, &hist, "history", "incident", "hadrut-execution", "--json")
		if len(hist) != 1 {
			t.Fatalf("history incident hadrut-execution: got %d versions, want 1", len(hist))
		}
		if h := hist[0]; h.Version != 1 || h.Op != "create" || h.By != "tester" {
			t.Errorf("history incident hadrut-execution: got version %d op %q by %q, want version 1 op create by tester", h.Version, h.Op, h.By)
		}
	})
}

// baseCase is a small valid case file that builds on the built-in case.
// Each bad-input case changes exactly one thing in it, so that a failure
// proves the one check fires. It names clip.bin, written beside it.
const baseCase = `groundtruth_casefile: 1
case:
  slug: bad-input-test
  title: Bad input test case
actors:
  - slug: test-monitor
    name: Test Monitor
    kind: ngo
    party_to_conflict: false
places:
  - slug: test-village
    name: Test Village
    location:
      lat: 40.1000
      lon: 45.2000
      precision: town
incidents:
  - slug: test-incident
    title: Test incident
    disorder_type: Political violence
    event_type: Violence against civilians
    sub_event_type: Attack
    date_start: 2020-10-01
    date_end: 2020-10-02
    time_precision: days
    place: test-village
    status: draft
    related: [hadrut-execution]
evidence:
  - slug: test-placeholder-one
    title: "PLACEHOLDER - bad input test item one"
    placeholder: true
    incidents: [test-incident]
  - slug: test-placeholder-two
    title: "PLACEHOLDER - bad input test item two"
    placeholder: true
    incidents: [test-incident]
  - slug: test-clip
    file: clip.bin
    incidents: [test-incident]
assessments:
  - slug: test-assessment
    incident: test-incident
    kind: authenticity
    finding: The item looks genuine.
    likelihood: likely
    organisation: test-monitor
    date: 2020-10-03
victims:
  - slug: test-victim
    incident: test-incident
    initials: T.V.
    age: 40
    role: killed
`

// baseCaseRecords is how many records baseCase creates.
const baseCaseRecords = 8

var clipBytes = []byte("bad input test clip: bytes that no other test stores\n")

// writeCase writes a case file (and clip.bin beside it) into dir.
func writeCase(t *testing.T, dir, name, text string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "clip.bin"), clipBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lineOf returns the 1-based number of the only line of text that contains s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	found := 0
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			if found != 0 {
				t.Fatalf("%q is on lines %d and %d of the case file, want one line", s, found, i+1)
			}
			found = i + 1
		}
	}
	if found == 0 {
		t.Fatalf("%q is not in the case file", s)
	}
	return found
}

// snapshot is everything a failed command must leave as it was.
type snapshot struct {
	outputs map[string]string // command line → stdout
	db      string            // every table of the database
	locker  []string          // every original: path, size, sha256
}

var snapshotCommands = [][]string{
	{"incidents", "--json"},
	{"evidence", "--json"},
	{"tallies", "--json"},
	{"history", "incident", "hadrut-execution", "--json"},
	{"history", "evidence", "hadrut-execution-video", "--json"},
}

func takeSnapshot(t *testing.T, data string) snapshot {
	t.Helper()
	s := snapshot{outputs: map[string]string{}}
	for _, args := range snapshotCommands {
		s.outputs[strings.Join(args, " ")] = mustRun(t, data, args...)
	}
	s.db = dumpDB(t, filepath.Join(data, "groundtruth.db"))
	s.locker = lockerFiles(t, data)
	return s
}

// compareSnapshots reports every difference between before and after.
func compareSnapshots(t *testing.T, before, after snapshot) {
	t.Helper()
	for _, args := range snapshotCommands {
		k := strings.Join(args, " ")
		if before.outputs[k] != after.outputs[k] {
			t.Errorf("output of %s changed: %s", k, firstDiff(after.outputs[k], before.outputs[k]))
		}
	}
	if before.db != after.db {
		t.Errorf("database changed: %s", firstDiff(after.db, before.db))
	}
	if !slices.Equal(before.locker, after.locker) {
		t.Errorf("locker changed: got files\n%s\nwant\n%s", strings.Join(after.locker, "\n"), strings.Join(before.locker, "\n"))
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, gl, wl)
		}
	}
	return "no difference"
}

// dumpDB returns the schema and every row of every table of the database.
func dumpDB(t *testing.T, file string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	var tables []string
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatalf("dump %s: %v", file, err)
	}
	for rows.Next() {
		var name string
		var ddl sql.NullString
		if err := rows.Scan(&name, &ddl); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "schema %s: %s\n", name, ddl.String)
		// The search index's FTS5 shadow tables are derived data; the
		// index itself is dumped through its virtual table.
		if strings.HasPrefix(ddl.String, "CREATE TABLE") && !strings.HasPrefix(name, "search_") ||
			strings.HasPrefix(ddl.String, "CREATE VIRTUAL TABLE") {
			tables = append(tables, name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `" ORDER BY rowid`)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s:", table)
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, " %s=%v", cols[i], v)
			}
			b.WriteString("\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// lockerFiles lists every file under the data directory's locker, except its
// tmp directory, as "path size sha256", sorted.
func lockerFiles(t *testing.T, data string) []string {
	t.Helper()
	root := filepath.Join(data, "locker")
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == filepath.Join(root, "tmp") {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, fmt.Sprintf("%s %d %s", rel, len(b), sha256Hex(b)))
		return nil
	})
	if err != nil {
		t.Fatalf("list the locker: %v", err)
	}
	slices.Sort(out)
	return out
}

// lockerSums returns the names (digests) of the files lockerFiles lists.
func lockerSums(t *testing.T, data string) map[string]bool {
	t.Helper()
	sums := map[string]bool{}
	for _, f := range lockerFiles(t, data) {
		sums[filepath.Base(strings.Fields(f)[0])] = true
	}
	return sums
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// copyDir copies a data directory, keeping file modes.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o600); err != nil {
			return err
		}
		return os.Chmod(target, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// checkOneLine checks that stderr is exactly one line.
func checkOneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr: got %q, want exactly one line ending in a newline", stderr)
	}
}

func TestBadInput(t *testing.T) {
	template, _ := demoData(t)

	// defect returns a setup that writes baseCase with old replaced by new
	// and expects the error on the line holding at, naming field.
	defect := func(old, new, at, field string) func(t *testing.T, dir string) ([]string, []string) {
		return func(t *testing.T, dir string) ([]string, []string) {
			if strings.Count(baseCase, old) != 1 {
				t.Fatalf("%q occurs %d times in the base case file, want once", old, strings.Count(baseCase, old))
			}
			text := strings.Replace(baseCase, old, new, 1)
			p := writeCase(t, dir, "case.yaml", text)
			want := []string{fmt.Sprintf("%s:%d:", p, lineOf(t, text, at))}
			if field != "" {
				want = append(want, field)
			}
			return []string{"load", p}, want
		}
	}
	// newFile writes a file no test has ingested.
	newFile := func(t *testing.T, dir string) string {
		p := filepath.Join(dir, "new-clip.bin")
		if err := os.WriteFile(p, []byte("a new clip for "+t.Name()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (args, wantInStderr []string)
	}{
		{"malformed YAML: unclosed flow sequence", defect(
			"    title: Test incident\n", "    title: [unclosed\n", "[unclosed", "")},
		{"malformed YAML: key indented too far", defect(
			"    kind: ngo\n", "      kind: ngo\n", "      kind: ngo", "")},
		{"malformed YAML: key indented too little", defect(
			"      lon: 45.2000\n", "     lon: 45.2000\n", "  - slug: test-village", "")},
		{"unknown field", defect(
			"    title: Test incident\n", "    titel: Test incident\n", "titel:", `"titel"`)},
		{"duplicate key", defect(
			"    kind: ngo\n", "    kind: ngo\n    kind: media\n", "kind: media", `"kind"`)},
		{"wrong enum value", defect(
			"likelihood: likely", "likelihood: probable", "likelihood: probable", "assessments[0].likelihood")},
		{"wrong type", defect(
			"    age: 40\n", "    age: forty\n", "age: forty", "age")},
		{"latitude out of range", defect(
			"lat: 40.1000", "lat: 91", "lat: 91", "places[0].location.lat")},
		{"date range reversed", defect(
			"date_end: 2020-10-02", "date_end: 2020-09-01", "date_end:", "incidents[0].date_end")},
		{"reference to a missing record", defect(
			"    incident: test-incident\n    kind:", "    incident: no-such-incident\n    kind:", "no-such-incident", "assessments[0].incident")},
		{"not valid UTF-8", defect(
			"finding: The item looks genuine.", "finding: The item \xff\xfe looks genuine.", "finding:", "")},
		{"unsupported format version", defect(
			"groundtruth_casefile: 1", "groundtruth_casefile: 2", "groundtruth_casefile:", "groundtruth_casefile")},
		{"evidence file missing", defect(
			"file: clip.bin", "file: no-such-clip.bin", "no-such-clip.bin", "evidence[2].file")},
		// The second item's file holds the bytes of a demo original
		// (hadrut-execution-video); the other two items' bytes are new.
		{"evidence bytes already held under another slug", func(t *testing.T, dir string) ([]string, []string) {
			held := placeholder.PNG("Evidence item hadrut-execution-video", casefile.PlaceholderNote)
			if err := os.WriteFile(filepath.Join(dir, "held.bin"), held, 0o644); err != nil {
				t.Fatal(err)
			}
			return defect("\"PLACEHOLDER - bad input test item two\"\n    placeholder: true",
				"\"PLACEHOLDER - bad input test item two\"\n    file: held.bin",
				"- slug: test-placeholder-two", "evidence[1]")(t, dir)
		}},
		{"missing case file", func(t *testing.T, dir string) ([]string, []string) {
			p := filepath.Join(dir, "no-such-case.yaml")
			return []string{"load", p}, []string{p}
		}},
		{"ingest a missing file", func(t *testing.T, dir string) ([]string, []string) {
			p := filepath.Join(dir, "no-such-clip.bin")
			return []string{"ingest", p, "--incident", "hadrut-execution"}, []string{p}
		}},
		{"ingest a directory", func(t *testing.T, dir string) ([]string, []string) {
			p := filepath.Join(dir, "a-directory")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return []string{"ingest", p, "--incident", "hadrut-execution"}, []string{p}
		}},
		{"ingest an unreadable file", func(t *testing.T, dir string) ([]string, []string) {
			if os.Geteuid() == 0 {
				t.Skip("running as root, which may read a file of mode 000")
			}
			p := newFile(t, dir)
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
			return []string{"ingest", p, "--incident", "hadrut-execution"}, []string{p}
		}},
		{"ingest two files, the second missing", func(t *testing.T, dir string) ([]string, []string) {
			missing := filepath.Join(dir, "no-such-clip.bin")
			return []string{"ingest", newFile(t, dir), missing, "--incident", "hadrut-execution"}, []string{missing}
		}},
		{"ingest for a missing incident", func(t *testing.T, dir string) ([]string, []string) {
			return []string{"ingest", newFile(t, dir), "--incident", "no-such-incident"}, []string{"no-such-incident"}
		}},
		{"ingest with a bad posting time", func(t *testing.T, dir string) ([]string, []string) {
			return []string{"ingest", newFile(t, dir), "--url", "https://t.me/somechannel/123", "--posted-at", "yesterday"}, []string{"--posted-at", "yesterday"}
		}},
	}

	t.Run("the base case file is valid", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		copyDir(t, template, data)
		p := writeCase(t, dir, "case.yaml", baseCase)
		want := fmt.Sprintf("loaded %s: %d created, 0 updated, 0 unchanged; ledger at ", p, baseCaseRecords)
		if got := mustRun(t, data, "load", p); !strings.HasPrefix(got, want) {
			t.Errorf("load the base case file: got %q, want %q", got, want)
		}
	})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			copyDir(t, template, data)
			args, wantIn := tc.setup(t, dir)
			before := takeSnapshot(t, data)

			res := run(t, data, args...)
			if res.code != 2 {
				t.Errorf("exit status: got %d, want 2 (stderr %q)", res.code, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
			checkOneLine(t, res.stderr)
			if prefix := "groundtruth " + args[0] + ": "; !strings.HasPrefix(res.stderr, prefix) {
				t.Errorf("stderr: got %q, want it to start with %q", res.stderr, prefix)
			}
			for _, w := range wantIn {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr: got %q, want it to contain %q", res.stderr, w)
				}
			}

			compareSnapshots(t, before, takeSnapshot(t, data))
		})
	}
}

// pngBytes returns a small PNG image.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 200, G: uint8(20 * i), B: 40, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// randomBytes returns n bytes from r.
func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// ackRE matches an ingest acknowledgement: state, sha256, slug, path.
var ackRE = regexp.MustCompile(`^(stored|known) ([0-9a-f]{64}) (\S+) (.+)$`)

func TestIngestAndVerify(t *testing.T) {
	data, _ := demoData(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	files := []struct {
		name, mediaType string
		bytes           []byte
	}{
		{"photo.png", "image/png", pngBytes(t)},
		{"blob.bin", "application/octet-stream", append([]byte{0}, randomBytes(rng, 10_000)...)},
		{"statement.txt", "text/plain; charset=utf-8", []byte("Transcript of a witness statement (test data).\n")},
	}
	var paths []string
	sums := map[string]string{} // path → sha256
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.bytes, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		sums[p] = sha256Hex(f.bytes)
	}
	var demoEvidence []jEvidence
	runJSON(t, data, &demoEvidence, "evidence", "--json")
	lockerBefore := lockerFiles(t, data)

	sighting := []string{"--incident", "hadrut-execution", "--url", "https://t.me/somechannel/123", "--posted-at", "2020-10-15"}
	out := mustRun(t, data, append(append([]string{"ingest"}, paths...), sighting...)...)
	var want strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&want, "stored %s ev-%s %s\n", sums[p], sums[p][:12], p)
	}
	if out != want.String() {
		t.Fatalf("ingest: got\n%s\nwant\n%s", out, want.String())
	}

	// Each original is in the locker under its digest, read-only.
	lockerAfter := lockerFiles(t, data)
	if got, want := len(lockerAfter), len(lockerBefore)+len(files); got != want {
		t.Errorf("files in the locker: got %d, want %d", got, want)
	}
	for i, p := range paths {
		sum := sums[p]
		stored := filepath.Join(data, "locker", sum[0:2], sum[2:4], sum)
		b, err := os.ReadFile(stored)
		if err != nil {
			t.Errorf("original of %s: %v", p, err)
			continue
		}
		if !bytes.Equal(b, files[i].bytes) {
			t.Errorf("original of %s: got %d bytes different from the file's %d", p, len(b), len(files[i].bytes))
		}
		if fi, err := os.Stat(stored); err == nil && fi.Mode().Perm() != 0o440 {
			t.Errorf("original of %s: got mode %v, want 0440", p, fi.Mode().Perm())
		}
	}

	t.Run("again", func(t *testing.T) {
		out := mustRun(t, data, append([]string{"ingest", paths[0]}, sighting...)...)
		if want := fmt.Sprintf("known %s ev-%s %s\n", sums[paths[0]], sums[paths[0]][:12], paths[0]); out != want {
			t.Errorf("ingest the same file again: got %q, want %q", out, want)
		}
		if got := lockerFiles(t, data); !slices.Equal(got, lockerAfter) {
			t.Errorf("locker after ingesting known bytes: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(lockerAfter, "\n"))
		}
	})

	t.Run("evidence", func(t *testing.T) {
		var items []jEvidence
		runJSON(t, data, &items, "evidence", "--json")
		if got, want := len(items), len(demoEvidence)+len(files); got != want {
			t.Errorf("evidence items: got %d, want %d", got, want)
		}
		bySum := map[string]jEvidence{}
		for _, ev := range items {
			bySum[ev.SHA256] = ev
		}
		for i, p := range paths {
			ev, ok := bySum[sums[p]]
			if !ok {
				t.Errorf("evidence: got no item with sha256 %s (%s), want one", sums[p], p)
				continue
			}
			if ev.Slug != "ev-"+sums[p][:12] || ev.Size != int64(len(files[i].bytes)) || ev.MediaType != files[i].mediaType ||
				ev.Filename != files[i].name || ev.AddedBy != "tester" || !slices.Equal(ev.Incidents, []string{"hadrut-execution"}) {
				t.Errorf("evidence %s: got slug %q size %d media type %q filename %q added by %q incidents %q, want ev-%s, %d, %q, %q, tester, [hadrut-execution]",
					p, ev.Slug, ev.Size, ev.MediaType, ev.Filename, ev.AddedBy, ev.Incidents, sums[p][:12], len(files[i].bytes), files[i].mediaType, files[i].name)
			}
			want := jSighting{URL: "https://t.me/somechannel/123", Platform: "telegram", Channel: "somechannel", PostedAt: "2020-10-15"}
			if len(ev.Sightings) != 1 || ev.Sightings[0] != want {
				t.Errorf("sightings of %s: got %+v, want exactly [%+v] (ingesting again adds no duplicate)", p, ev.Sightings, want)
			}
		}
	})

	total := len(demoEvidence) + len(files)
	t.Run("verify", func(t *testing.T) {
		res := run(t, data, "verify")
		want := fmt.Sprintf("verify: ok, %d original(s) re-hashed, %d evidence item(s), ledger of ", total, total)
		if res.code != 0 || !strings.HasPrefix(res.stdout, want) {
			t.Errorf("verify: got exit status %d and %q, want 0 and %q", res.code, res.stdout, want)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		changed, missing := sums[paths[1]], sums[paths[2]]
		changedPath := filepath.Join(data, "locker", changed[0:2], changed[2:4], changed)
		if err := os.Chmod(changedPath, 0o640); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(changedPath)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x01
		if err := os.WriteFile(changedPath, b, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(data, "locker", missing[0:2], missing[2:4], missing)); err != nil {
			t.Fatal(err)
		}

		res := run(t, data, "verify")
		if res.code != 1 {
			t.Errorf("verify: got exit status %d, want 1", res.code)
		}
		lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
		var problems []string
		for _, l := range lines {
			if strings.HasPrefix(l, "PROBLEM ") {
				problems = append(problems, l)
			}
		}
		if len(problems) != 2 {
			t.Errorf("verify: got problem lines %q, want 2", problems)
		}
		for _, c := range []struct{ sum, word string }{{changed, "changed"}, {missing, "missing"}} {
			slug := "ev-" + c.sum[:12]
			found := false
			for _, l := range problems {
				if strings.Contains(l, c.sum) || strings.Contains(l, slug) {
					found = true
					if !strings.Contains(l, c.word) {
						t.Errorf("verify: got %q for %s, want it to say %q", l, slug, c.word)
					}
				}
			}
			if !found {
				t.Errorf("verify: got\n%s\nwant a problem line naming %s (%s)", res.stdout, slug, c.sum)
			}
		}
		if want := fmt.Sprintf("verify: 2 problem(s) in %d original(s)", total); lines[len(lines)-1] != want {
			t.Errorf("verify: got last line %q, want %q", lines[len(lines)-1], want)
		}
	})
}

// ack is one acknowledgement line of an ingest.
type ack struct {
	state, sum, slug, path string
}

// ingestAndKill runs ingest of files, and kills it with SIGKILL once it has
// read killAfter "stored" lines. It returns every complete line the process
// wrote, all of which are acknowledgements, and whether it was killed.
func ingestAndKill(t *testing.T, data string, files []string, killAfter int) (acks []ack, killed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := command(ctx, data, append([]string{"ingest"}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(pipe)
	stored := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if line != "" {
				t.Logf("incomplete last line %q, not an acknowledgement", line)
			}
			break
		}
		m := ackRE.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			t.Errorf("ingest: got line %q, want \"stored|known SHA256 SLUG PATH\"", line)
			continue
		}
		acks = append(acks, ack{m[1], m[2], m[3], m[4]})
		if m[1] == "stored" {
			stored++
		}
		if stored == killAfter && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill ingest: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	switch {
	case killed:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != -1 {
			t.Logf("ingest ended with %v after the kill", err)
		}
	case err != nil:
		t.Fatalf("ingest: %v (stderr %q)", err, stderr.String())
	}
	return acks, killed
}

func TestCrashDuringBulkIngest(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	mustRun(t, data, "init")

	const n = 200
	files := make([]string, n)
	sumOf := map[string]string{} // path → sha256
	for i := range files {
		b := append([]byte(fmt.Sprintf("crash test file %03d\n", i)), randomBytes(rng, 2048+rng.IntN(2048))...)
		files[i] = filepath.Join(dir, fmt.Sprintf("file-%03d.bin", i))
		if err := os.WriteFile(files[i], b, 0o644); err != nil {
			t.Fatal(err)
		}
		sumOf[files[i]] = sha256Hex(b)
	}

	// checkAcks checks a run's lines: one per file, in order, each naming
	// the file's digest; "stored" only for bytes new to the locker,
	// "known" only for bytes it already held.
	checkAcks := func(t *testing.T, acks []ack, inLocker map[string]bool) {
		t.Helper()
		for i, a := range acks {
			if i >= len(files) || a.path != files[i] {
				t.Errorf("line %d: got path %q, want %q", i+1, a.path, files[min(i, len(files)-1)])
				continue
			}
			if want := sumOf[a.path]; a.sum != want || a.slug != "ev-"+want[:12] {
				t.Errorf("line %d: got sha256 %s slug %s for %s, want %s ev-%s", i+1, a.sum, a.slug, a.path, want, want[:12])
			}
			switch {
			case a.state == "stored" && inLocker[a.sum]:
				t.Errorf("line %d: got stored for %s, whose bytes the locker already held, want known", i+1, a.path)
			case a.state == "known" && !inLocker[a.sum]:
				t.Errorf("line %d: got known for %s, whose bytes the locker did not hold, want stored", i+1, a.path)
			}
		}
	}
	evidenceSums := func(t *testing.T) map[string]bool {
		t.Helper()
		var items []jEvidence
		runJSON(t, data, &items, "evidence", "--json")
		sums := map[string]bool{}
		for _, ev := range items {
			sums[ev.SHA256] = true
		}
		return sums
	}

	acked := map[string]bool{}
	const rounds = 3
	for round := 1; round <= rounds; round++ {
		t.Run(fmt.Sprintf("kill %d", round), func(t *testing.T) {
			inLocker := lockerSums(t, data)
			remaining := 0
			present := evidenceSums(t)
			for _, f := range files {
				if !present[sumOf[f]] {
					remaining++
				}
			}
			// Leave at least 20 new files, with a margin, for each later round.
			after := rounds - round
			hi := max(20, min(150, remaining-20*after-10*(after+1)))
			killAfter := 20 + rng.IntN(hi-20+1)

			acks, killed := ingestAndKill(t, data, files, killAfter)
			if !killed {
				t.Logf("ingest finished before %d files were stored", killAfter)
			}
			checkAcks(t, acks, inLocker)
			for _, a := range acks {
				acked[a.sum] = true
			}
			t.Logf("killed after %d stored lines; %d lines read; %d acknowledged in all", killAfter, len(acks), len(acked))

			res := run(t, data, "verify")
			if res.code != 0 || !strings.Contains(res.stdout, "verify: ok") {
				t.Errorf("verify after the kill: got exit status %d and %q, want 0 and ok", res.code, res.stdout)
			}
			present = evidenceSums(t)
			for sum := range acked {
				if !present[sum] {
					t.Errorf("evidence after the kill: acknowledged sha256 %s is missing", sum)
				}
			}
		})
	}

	t.Run("complete", func(t *testing.T) {
		inLocker := lockerSums(t, data)
		acks, killed := ingestAndKill(t, data, files, -1)
		if killed {
			t.Fatal("killed, want a complete run")
		}
		if len(acks) != n {
			t.Errorf("complete ingest: got %d lines, want %d", len(acks), n)
		}
		checkAcks(t, acks, inLocker)
		present := evidenceSums(t)
		if len(present) != n {
			t.Errorf("evidence items: got %d, want %d", len(present), n)
		}
		for _, f := range files {
			if !present[sumOf[f]] {
				t.Errorf("evidence: got no item for %s, want one", f)
			}
		}
		res := run(t, data, "verify")
		want := fmt.Sprintf("verify: ok, %d original(s) re-hashed, %d evidence item(s), ledger of ", n, n)
		if res.code != 0 || !strings.HasPrefix(res.stdout, want) {
			t.Errorf("verify: got exit status %d and %q, want 0 and %q", res.code, res.stdout, want)
		}
	})
}

func TestSchemaTooNew(t *testing.T) {
	data, _ := demoData(t)
	dbFile := filepath.Join(data, "groundtruth.db")
	db, err := sql.Open("sqlite", dbFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', '2030-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "clip.bin")
	if err := os.WriteFile(file, []byte("a clip for a database from the future"), 0o644); err != nil {
		t.Fatal(err)
	}
	dbBytes := func() string {
		b, err := os.ReadFile(dbFile)
		if err != nil {
			t.Fatal(err)
		}
		return sha256Hex(b)
	}
	beforeDump, beforeBytes, beforeLocker := dumpDB(t, dbFile), dbBytes(), lockerFiles(t, data)

	tests := []struct {
		name string
		args []string
	}{
		{"incidents", []string{"incidents"}},
		{"incidents --json", []string{"incidents", "--json"}},
		{"show", []string{"show", "hadrut-execution", "--json"}},
		{"evidence", []string{"evidence"}},
		{"tallies", []string{"tallies"}},
		{"history", []string{"history", "incident", "hadrut-execution"}},
		{"verify", []string{"verify"}},
		{"load", []string{"load", "--demo"}},
		{"ingest", []string{"ingest", file, "--incident", "hadrut-execution"}},
		{"migrate", []string{"migrate"}},
		{"init", []string{"init"}},
		{"serve", []string{"serve", "--addr", "127.0.0.1:0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// docs/cli.md: a database at another schema version exits 1.
			res := run(t, data, tc.args...)
			if res.code != 1 {
				t.Errorf("exit status: got %d, want 1", res.code)
			}
			if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
			checkOneLine(t, res.stderr)
			if !strings.Contains(res.stderr, "newer") {
				t.Errorf("stderr: got %q, want it to say the database is newer", res.stderr)
			}
		})
	}

	if got := dumpDB(t, dbFile); got != beforeDump {
		t.Errorf("database changed: %s", firstDiff(got, beforeDump))
	}
	if got := dbBytes(); got != beforeBytes {
		t.Errorf("database file: got sha256 %s, want %s (unchanged)", got, beforeBytes)
	}
	if got := lockerFiles(t, data); !slices.Equal(got, beforeLocker) {
		t.Errorf("locker: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(beforeLocker, "\n"))
	}
}

// serveCase adds a published incident whose title needs escaping and a
// draft that must not be listed.
const serveCase = `groundtruth_casefile: 1
case:
  slug: serve-test
  title: Serve test
incidents:
  - slug: escaping-test
    title: '<script>alert("gt")</script> & ''quoted'' title'
    disorder_type: Political violence
    event_type: Violence against civilians
    sub_event_type: Attack
    date_start: 2020-10-12
    time_precision: day
    place: hadrut
    status: published
  - slug: draft-test
    title: Draft incident that is not for publication
    disorder_type: Political violence
    event_type: Violence against civilians
    sub_event_type: Attack
    date_start: 2020-10-13
    time_precision: day
    place: hadrut
    status: draft
`

func TestServe(t *testing.T) {
	data, _ := demoData(t)
	p := writeCase(t, t.TempDir(), "serve.yaml", serveCase)
	mustRun(t, data, "load", p)
	var list []jIncidentSummary
	runJSON(t, data, &list, "incidents", "--json")

	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := command(ctx, data, "serve", "--addr", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	first := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pipe).ReadString('\n')
		first <- line
		io.Copy(io.Discard, pipe)
	}()
	var line string
	select {
	case line = <-first:
	case <-time.After(20 * time.Second):
		t.Fatalf("serve: no line on stdout after 20 s (stderr %q)", stderr.String())
	}
	m := regexp.MustCompile(`^serving (.+) on http://(127\.0\.0\.1:\d+)/\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("serve: got first line %q, want \"serving DATA on http://127.0.0.1:PORT/\"", line)
	}
	if m[1] != data {
		t.Errorf("serve: got data directory %q, want %q", m[1], data)
	}
	base := "http://" + m[2]
	client := &http.Client{Timeout: 10 * time.Second}

	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: got %d %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("GET /: got Content-Security-Policy %q, want default-src 'none'", csp)
	}
	for _, i := range list {
		escaped := html.EscapeString(i.Title)
		switch {
		case i.Status != "published":
			if strings.Contains(page, escaped) {
				t.Errorf("GET /: got the %s incident %q listed, want only published ones", i.Status, i.Title)
			}
		case !strings.Contains(page, escaped):
			t.Errorf("GET /: got no %q, want the published incident %s listed, escaped", escaped, i.Slug)
		}
	}
	if want := `&lt;script&gt;alert(&#34;gt&#34;)&lt;/script&gt; &amp; &#39;quoted&#39; title`; !strings.Contains(page, want) {
		t.Errorf("GET /: got no %q, want the title escaped so", want)
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("GET /: got an unescaped <script> in the page, want none")
	}
	if want := "1 unpublished incident(s) are not listed."; !strings.Contains(page, want) {
		t.Errorf("GET /: got no %q, want it", want)
	}

	resp, err = client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("GET /healthz: got %d %q, want 200 \"ok\\n\"", resp.StatusCode, body)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after an interrupt: got %v, want exit status 0 (stderr %q)", err, stderr.String())
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func intIs(p *int, n int) bool { return p != nil && *p == n }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
