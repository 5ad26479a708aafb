// SPDX-License-Identifier: Apache-2.0

package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/disclosure"
	"groundtruth/internal/evidence"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// ownCase adds to a site's demo case the records the disclosure tests
// reason over: a draft incident with its own claim, casualty, victim and
// actor, a personal-data original and an ordinary one in a published
// incident, and a graphic one. Every word the tests search for is
// unusual, so that a hit can only come from these records.
type ownCase struct {
	// personal is a personal-data item of a published incident; ordinary
	// an item the public may see; graphic an item in the draft incident.
	personal, ordinary, graphic *record.Evidence
	// withheld holds text the public must never read: slugs, digests, file
	// names of items it may not see.
	withheld []string
}

const (
	draftIncident = "quiet-draft-incident"
	loaderName    = "desk-loader"
)

func (s *site) addOwnCase(t *testing.T) *ownCase {
	t.Helper()
	ctx := t.Context()
	c := store.Change{By: loaderName, Reason: "disclosure test", At: time.Now()}
	two := 2
	recs := []record.Record{
		&record.Actor{Slug: "zanderling-militia", Name: "Zanderling militia", Type: "armed_group"},
		&record.Incident{Slug: draftIncident, Title: "Zebrafinch draft strike", DisorderType: "Political violence",
			EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
			Start: record.At(time.Date(2020, 10, 20, 0, 0, 0, 0, time.UTC)), TimePrecision: "day", Place: "hadrut",
			Status: "draft", Description: "Zebrafinch shelling reported by a source of the desk",
			Actors: []record.Involvement{{Actor: "zanderling-militia", Role: "alleged_perpetrator"}}},
		&record.Claim{Slug: "zebrafinch-draft-claim", IncidentSlug: draftIncident, By: "armenia",
			Date: record.At(time.Date(2020, 10, 21, 0, 0, 0, 0, time.UTC)), About: "occurrence", Stance: "affirms",
			Summary: "Zebrafinch shelling affirmed"},
		&record.Casualty{Slug: "zebrafinch-draft-casualties", IncidentSlug: draftIncident, Status: record.Unknown,
			ReportedBy: "oc-media", Note: "zebrafinch casualties", Killed: &record.Count{Best: &two}},
		&record.Victim{Slug: "zebrafinch-draft-victim", IncidentSlug: draftIncident, Name: "Quillon Varastad",
			Initials: "Q.V.", Role: "killed", Notes: "zebrafinch witness statement"},
	}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		for _, r := range recs {
			if _, err := tx.Put(r, c); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if err := tx.CheckRefs(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(name, body string, in evidence.Input) *record.Evidence {
		p := filepath.Join(s.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		in.Path, in.Filename = p, name
		res, err := evidence.Ingest(ctx, s.st, s.lk, in, c)
		if err != nil {
			t.Fatal(err)
		}
		return res.Evidence
	}
	oc := &ownCase{
		personal: ingest("witness-quillon-statement.txt", "a witness names herself", evidence.Input{
			Title: "Marmoset witness statement", Incidents: []string{"hadrut-execution"}, PersonalData: true}),
		ordinary: ingest("ordinary-rooftop.txt", "a rooftop seen from the street", evidence.Input{
			Slug: "ordinary-rooftop-photo", Title: "Marmoset rooftop", Incidents: []string{"hadrut-execution"}}),
		graphic: ingest("graphic-draft.txt", "graphic footage of the draft strike", evidence.Input{
			Slug: "zebrafinch-graphic-footage", Title: "Zebrafinch graphic footage", Incidents: []string{draftIncident}, Graphic: true}),
	}
	oc.withheld = []string{draftIncident, "zebrafinch-draft-claim", "zebrafinch-draft-casualties", "zebrafinch-draft-victim",
		"zebrafinch-graphic-footage", "Quillon", "witness-quillon-statement", oc.personal.Slug}
	for _, ev := range []*record.Evidence{oc.personal, oc.ordinary, oc.graphic} {
		oc.withheld = append(oc.withheld, ev.SHA256[:12])
	}
	return oc
}

// caller is one way of calling the site: a role, or a bearer token.
type caller struct {
	name string
	role account.Role
	hdr  map[string]string
}

func (s *site) principals(t *testing.T) []caller {
	t.Helper()
	var ps []caller
	for _, r := range account.Roles {
		ps = append(ps, caller{string(r), r, nil})
	}
	resp := s.do(t, account.Analyst, "POST", "/api/v1/tokens", `{"label":"disclosure","scope":"read"}`, nil)
	var tok struct{ Token string }
	jsonDecode(t, resp, &tok)
	if tok.Token == "" {
		t.Fatal("no read token")
	}
	return append(ps, caller{"read token", account.Public, map[string]string{"Authorization": "Bearer " + tok.Token}})
}

func (s *site) get(t *testing.T, p caller, path string) (int, string) {
	t.Helper()
	resp := s.do(t, p.role, "GET", path, "", p.hdr)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// TestSearchShowsOnlyWhatPagesShow searches, as every principal, for
// names, titles, hex prefixes of digests, file names and staff names, and
// opens every hit as the same principal: a hit the page would refuse is a
// disclosure. The public must never read a digest, a withheld slug or a
// file name of an item it may not see.
func TestSearchShowsOnlyWhatPagesShow(t *testing.T) {
	s := newSite(t)
	oc := s.addOwnCase(t)
	queries := []string{"zebrafinch", "marmoset", "quillon", "zanderling", "witness", "hadrut", "ganja", "statement",
		"witness-quillon-statement", "ordinary-rooftop", loaderName, "analyst-user", "desk", "shot"}
	for _, ev := range []*record.Evidence{oc.personal, oc.ordinary, oc.graphic} {
		queries = append(queries, ev.SHA256[:6], ev.SHA256[:12], ev.Slug)
	}
	for _, p := range s.principals(t) {
		for _, q := range queries {
			t.Run(p.name+"/"+q, func(t *testing.T) {
				code, body := s.get(t, p, "/api/v1/search?q="+url.QueryEscape(q))
				if code != 200 {
					t.Fatalf("GET /api/v1/search?q=%s = %d, want 200", q, code)
				}
				var res struct {
					Hits []struct {
						Kind, Slug, Snippet, Link string
					}
					Incidents []string
				}
				if err := json.Unmarshal([]byte(body), &res); err != nil {
					t.Fatal(err)
				}
				links := []string{}
				for _, h := range res.Hits {
					if h.Link == "" {
						t.Errorf("hit %s/%s has no link", h.Kind, h.Slug)
						continue
					}
					links = append(links, h.Link)
				}
				for _, slug := range res.Incidents {
					links = append(links, "/incidents/"+slug)
				}
				_, page := s.get(t, p, "/search?q="+url.QueryEscape(q))
				for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
					if strings.HasPrefix(m[1], "/incidents/") || strings.HasPrefix(m[1], "/evidence/") {
						links = append(links, m[1])
					}
				}
				for _, l := range links {
					if code, _ := s.get(t, p, l); code != 200 {
						t.Errorf("search for %q links to %s, which answers %d to the same principal", q, l, code)
					}
				}
				if p.role != account.Public || p.hdr != nil {
					return
				}
				for _, w := range oc.withheld {
					if strings.Contains(strings.ToLower(q), strings.ToLower(w)) {
						continue // the page repeats the query
					}
					for what, text := range map[string]string{"API": body, "page": page} {
						if strings.Contains(strings.ToLower(text), strings.ToLower(w)) {
							t.Errorf("public search %s for %q shows withheld %q", what, q, w)
						}
					}
				}
				if regexp.MustCompile(`[0-9a-f]{12}`).MatchString(body) {
					t.Errorf("public search for %q shows a digest: %s", q, body)
				}
			})
		}
	}
}

// TestSearchStillFinds checks that search still finds, for each reader,
// what that reader may open.
func TestSearchStillFinds(t *testing.T) {
	s := newSite(t)
	oc := s.addOwnCase(t)
	tests := []struct {
		role    account.Role
		q, want string // want: a link among the hits
	}{
		{account.Public, "marmoset", "/evidence/" + oc.ordinary.Slug},
		{account.Public, "hadrut", "/incidents/hadrut-execution"},
		{account.Public, "zanderling", ""},
		{account.Viewer, "zebrafinch", "/incidents/" + draftIncident},
		{account.Viewer, "zanderling", "/incidents/" + draftIncident},
		{account.Viewer, oc.personal.SHA256[:8], "/evidence/" + oc.personal.Slug},
		{account.Analyst, "witness-quillon-statement", "/evidence/" + oc.personal.Slug},
		{account.Editor, loaderName, "/evidence/" + oc.graphic.Slug},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+"/"+tt.q, func(t *testing.T) {
			_, body := s.get(t, caller{string(tt.role), tt.role, nil}, "/api/v1/search?q="+url.QueryEscape(tt.q))
			var res struct{ Hits []struct{ Link string } }
			json.Unmarshal([]byte(body), &res)
			found := false
			for _, h := range res.Hits {
				found = found || h.Link == tt.want
			}
			if tt.want == "" && len(res.Hits) > 0 || tt.want != "" && !found {
				t.Errorf("search for %q as %s = %s, want a hit linking to %q", tt.q, tt.role, body, tt.want)
			}
		})
	}
}

// TestPublicSeesNoStaffNames opens every public GET route, on the demo
// case and the test's own, signed out, and looks for every account name:
// the public sees the organisation, never who on the desk did what.
func TestPublicSeesNoStaffNames(t *testing.T) {
	s := newSite(t)
	oc := s.addOwnCase(t)
	// An analyst's upload to a published incident: the public may see the
	// item, not who added it.
	resp := s.do(t, account.Analyst, "POST", "/api/v1/incidents/hadrut-execution/evidence",
		"--b\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\nfrom a source\r\n--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"street.txt\"\r\n\r\na street\r\n--b--\r\n",
		map[string]string{"Content-Type": "multipart/form-data; boundary=b"})
	var up struct{ Evidence []string }
	jsonDecode(t, resp, &up)
	if resp.StatusCode != 201 || len(up.Evidence) != 1 {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}
	names := []string{loaderName}
	for _, n := range s.users {
		names = append(names, n)
	}
	slugs := []string{"stepanakert-collapsed-building-photo", oc.ordinary.Slug, up.Evidence[0]}
	var paths []string
	for _, rt := range s.s.routes() {
		if rt.method != "GET" || rt.perm != account.ReadPublished {
			continue
		}
		for _, slug := range slugs {
			p := strings.ReplaceAll(concrete(rt.pattern), "stepanakert-collapsed-building-photo", slug)
			paths = append(paths, p)
		}
	}
	paths = append(paths, "/search?q=desk", "/api/v1/search?q=desk", "/api/v1/search?q=analyst",
		"/api/v1/search?q=street", "/compare?a="+oc.ordinary.Slug+"&b="+up.Evidence[0])
	pub := caller{"public", account.Public, nil}
	for _, p := range paths {
		code, body := s.get(t, pub, p)
		// Pages withhold what search withholds, but for the digest of an
		// item the public may see, which its page shows with its receipt.
		for _, w := range append(oc.withheld, "hadrut-execution-video", "hadrut-capture-video") {
			if strings.Contains(body, w) && w != oc.ordinary.SHA256[:12] {
				t.Errorf("GET %s (%d) shows withheld %q", p, code, w)
			}
		}
		for _, n := range names {
			if strings.Contains(body, n) {
				t.Errorf("GET %s (%d) names the account %q", p, code, n)
			}
		}
	}
	code, body := s.get(t, pub, "/api/v1/evidence/"+up.Evidence[0])
	var item struct {
		Evidence struct {
			AddedBy string `json:"added_by"`
		}
	}
	if err := json.Unmarshal([]byte(body), &item); err != nil || code != 200 || item.Evidence.AddedBy != disclosure.DefaultOrganisation {
		t.Errorf("public evidence item: %d, added_by %q, want %q", code, item.Evidence.AddedBy, disclosure.DefaultOrganisation)
	}
	code, body = s.get(t, caller{"viewer", account.Viewer, nil}, "/api/v1/evidence/"+up.Evidence[0])
	if code != 200 || !strings.Contains(body, `"added_by": "analyst-user"`) {
		t.Errorf("signed-in staff do not see who added the item: %d\n%s", code, body)
	}
}

// TestWhoMayEditWhoseFindings checks the edit rule of docs/web.md: an
// analyst changes only the findings they recorded, and only while the
// incident is not published; an editor changes every record; every change
// is kept in the history with its reason.
func TestWhoMayEditWhoseFindings(t *testing.T) {
	s := newSite(t)
	s.addOwnCase(t)
	hash, _ := account.HashPassword("a long test password")
	if err := s.st.CreateUser(t.Context(), store.User{Name: "analyst-two", Role: "analyst", PasswordHash: hash}, "test"); err != nil {
		t.Fatal(err)
	}
	as := s.as
	form := func(slug, summary string) string {
		return url.Values{"slug": {slug}, "by": {"armenia"}, "date": {"2020-10-22"}, "about": {"occurrence"},
			"stance": {"affirms"}, "summary": {summary}, "reason": {"edit rule test"}}.Encode()
	}
	steps := []struct {
		name, user, method, path, body string
		want                           int
	}{
		{"analyst records a claim in a draft", "analyst-user", "POST", "/api/v1/claims", claim("rule-claim", draftIncident, "first"), 200},
		{"analyst edits own claim", "analyst-user", "POST", "/api/v1/claims", claim("rule-claim", draftIncident, "second"), 200},
		{"another analyst may not edit it", "analyst-two", "POST", "/api/v1/claims", claim("rule-claim", draftIncident, "third"), 403},
		{"another analyst may not edit it by form", "analyst-two", "POST", "/incidents/" + draftIncident + "/claims", form("rule-claim", "third"), 403},
		{"another analyst may not move it", "analyst-two", "POST", "/api/v1/claims", claim("rule-claim", "hadrut-execution", "moved"), 403},
		{"analyst may not move own claim into a published incident", "analyst-user", "POST", "/api/v1/claims", claim("rule-claim", "hadrut-execution", "moved"), 403},
		{"analyst may not edit a loaded claim", "analyst-user", "POST", "/api/v1/claims", claim("zebrafinch-draft-claim", draftIncident, "rewritten"), 403},
		{"analyst may not edit a published incident's claim", "analyst-user", "POST", "/api/v1/claims", claim("hadrut-videos-fake-azerbaijani-officials", "hadrut-execution", "rewritten"), 403},
		{"analyst may not rewrite a published assessment", "analyst-user", "POST", "/api/v1/assessments", assessment("hadrut-authenticity-bellingcat", "hadrut-execution", "rewritten"), 403},
		{"analyst records an assessment in a published incident", "analyst-user", "POST", "/api/v1/assessments", assessment("rule-assessment", "hadrut-execution", "new"), 201},
		{"analyst may not edit own finding once published", "analyst-user", "POST", "/api/v1/assessments", assessment("rule-assessment", "hadrut-execution", "changed"), 403},
		{"editor edits another's claim", "editor-user", "POST", "/api/v1/claims", claim("rule-claim", draftIncident, "editor"), 200},
		{"editor edits a published assessment", "editor-user", "POST", "/api/v1/assessments", assessment("rule-assessment", "hadrut-execution", "editor"), 200},
		{"editor moves a claim", "editor-user", "POST", "/api/v1/claims", claim("rule-claim", "hadrut-execution", "moved"), 200},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := as(t, st.user, st.method, st.path, st.body); got != st.want {
				t.Errorf("%s %s as %s = %d, want %d", st.method, st.path, st.user, got, st.want)
			}
		})
	}
	h, err := s.st.History(t.Context(), record.KindClaim, "rule-claim")
	if err != nil {
		t.Fatal(err)
	}
	var by []string
	for _, v := range h {
		by = append(by, v.By)
		if v.Reason != "edit rule test" {
			t.Errorf("history v%d has reason %q", v.Version, v.Reason)
		}
	}
	if strings.Join(by, ",") != "analyst-user,analyst-user,editor-user,editor-user" {
		t.Errorf("history of rule-claim by %v, want two versions by analyst-user then two by editor-user", by)
	}
}

// as calls the site as a named user and returns the status.
func (s *site) as(t *testing.T, user, method, path, body string) int {
	t.Helper()
	secret, hashed, _ := account.NewSecret("gts_")
	if err := s.st.CreateSession(t.Context(), hashed, user, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		b, _ := io.ReadAll(resp.Body)
		t.Logf("%s %s as %s: %d %s", method, path, user, resp.StatusCode, b)
	}
	return resp.StatusCode
}

func claim(slug, incident, summary string) string {
	return `{"record":{"slug":"` + slug + `","incident":"` + incident + `","by":"armenia","date":"2020-10-22","about":"occurrence","stance":"affirms","summary":"` + summary + `"},"reason":"edit rule test"}`
}

func assessment(slug, incident, finding string) string {
	return `{"assessment":{"slug":"` + slug + `","incident":"` + incident + `","kind":"authenticity","finding":"` + finding + `","organisation":"bellingcat","date":"2020-10-20"},"reason":"edit rule test"}`
}

// TestEditRules checks every rule of the table "Who may change whose
// records" of docs/web.md for every role that may write: a rule without a
// scenario here, or a scenario without its rule there, fails.
func TestEditRules(t *testing.T) {
	s := newSite(t)
	s.addOwnCase(t)
	hash, _ := account.HashPassword("a long test password")
	if err := s.st.CreateUser(t.Context(), store.User{Name: "analyst-two", Role: "analyst", PasswordHash: hash}, "test"); err != nil {
		t.Fatal(err)
	}
	// Each scenario returns the status of the change the rule is about,
	// after any setup, which must itself succeed.
	setup := func(t *testing.T, code int) {
		t.Helper()
		if code != 200 && code != 201 {
			t.Fatalf("setup answered %d", code)
		}
	}
	scenarios := map[string]func(t *testing.T, user, tag string) []int{
		"new-finding": func(t *testing.T, user, tag string) []int {
			return []int{
				s.as(t, user, "POST", "/api/v1/claims", claim("new-draft-"+tag, draftIncident, "new")),
				s.as(t, user, "POST", "/api/v1/claims", claim("new-published-"+tag, "hadrut-execution", "new")),
			}
		},
		"own-draft": func(t *testing.T, user, tag string) []int {
			setup(t, s.as(t, user, "POST", "/api/v1/claims", claim("own-"+tag, draftIncident, "first")))
			return []int{s.as(t, user, "POST", "/api/v1/claims", claim("own-"+tag, draftIncident, "second"))}
		},
		"others": func(t *testing.T, user, tag string) []int {
			setup(t, s.as(t, "analyst-two", "POST", "/api/v1/claims", claim("others-"+tag, draftIncident, "first")))
			return []int{
				s.as(t, user, "POST", "/api/v1/claims", claim("others-"+tag, draftIncident, "second")),
				s.as(t, user, "POST", "/api/v1/claims", claim("zebrafinch-draft-claim", draftIncident, "second "+tag)),
			}
		},
		"published": func(t *testing.T, user, tag string) []int {
			setup(t, s.as(t, user, "POST", "/api/v1/assessments", assessment("published-"+tag, "hadrut-execution", "first")))
			setup(t, s.as(t, user, "POST", "/api/v1/claims", claim("into-published-"+tag, draftIncident, "first")))
			return []int{
				s.as(t, user, "POST", "/api/v1/assessments", assessment("published-"+tag, "hadrut-execution", "second")),
				s.as(t, user, "POST", "/api/v1/claims", claim("into-published-"+tag, "hadrut-execution", "moved")),
			}
		},
		"records": func(t *testing.T, user, tag string) []int {
			inc := `{"record":{"slug":"records-` + tag + `","title":"t","disorder_type":"Political violence","event_type":"Explosions/Remote violence","sub_event_type":"Shelling/artillery/missile attack","date_start":"2020-10-01","time_precision":"day","place":"hadrut","status":"draft"},"reason":"edit rule test"}`
			return []int{s.as(t, user, "POST", "/api/v1/incidents", inc)}
		},
	}
	rules := readPolicy(t).edits
	for rule := range scenarios {
		if _, ok := rules[rule]; !ok {
			t.Errorf("edit rule %q is tested here but not in %s", rule, policyFile)
		}
	}
	for rule, roles := range rules {
		scenario, ok := scenarios[rule]
		if !ok {
			t.Errorf("edit rule %q of %s has no scenario in this test", rule, policyFile)
			continue
		}
		for role, allowed := range roles {
			t.Run(rule+"/"+string(role), func(t *testing.T) {
				for i, code := range scenario(t, s.users[role], rule+"-"+string(role)) {
					ok := code == 200 || code == 201
					if ok != allowed || !ok && code != 403 {
						t.Errorf("change %d: %d, policy says allowed=%v (want 2xx or 403)", i, code, allowed)
					}
				}
			})
		}
	}
}
