// SPDX-License-Identifier: Apache-2.0

package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/capture"
	"groundtruth/internal/casefile"
	"groundtruth/internal/demo"
	"groundtruth/internal/evidence"
	"groundtruth/internal/intake"
	"groundtruth/internal/jobs"
	"groundtruth/internal/ledger"
	"groundtruth/internal/locker"
	"groundtruth/internal/store"
)

// policyDoc is the policy of docs/web.md, read from the file itself so
// that the document and the tests cannot drift apart.
type policyDoc struct {
	perms  map[account.Permission][]account.Role // permission → roles that hold it
	routes map[string]account.Permission         // "METHOD pattern" → permission
	edits  map[string]map[account.Role]bool      // edit rule → role → allowed
}

// policyFile is docs/web.md, relative to this package's directory.
const policyFile = "../../docs/web.md"

// table returns the rows of the first Markdown table under heading, each
// as its trimmed cells without backquotes, the header row first.
func table(t *testing.T, doc, heading string) [][]string {
	t.Helper()
	at := strings.Index(doc, "\n"+heading+"\n")
	if at < 0 {
		t.Fatalf("%s: no heading %q", policyFile, heading)
	}
	var rows [][]string
	for _, line := range strings.Split(doc[at+len(heading)+2:], "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if len(rows) > 0 {
				break
			}
			continue
		}
		if strings.HasPrefix(line, "|---") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.Trim(strings.TrimSpace(c), "`"))
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: no table under %q", policyFile, heading)
	}
	return rows
}

// roleColumns returns the column of each role in a table's header, failing
// when one of roles is missing.
func roleColumns(t *testing.T, heading string, header []string, roles []account.Role) map[account.Role]int {
	t.Helper()
	cols := map[account.Role]int{}
	for i, h := range header {
		cols[account.Role(h)] = i
	}
	for _, r := range roles {
		if _, ok := cols[r]; !ok {
			t.Errorf("%s, table %q: no column for role %s", policyFile, heading, r)
		}
	}
	return cols
}

// yes reads a yes/no cell.
func yes(t *testing.T, where, cell string) bool {
	t.Helper()
	if cell != "yes" && cell != "no" {
		t.Errorf("%s, %s: %q, want yes or no", policyFile, where, cell)
	}
	return cell == "yes"
}

func readPolicy(t *testing.T) policyDoc {
	t.Helper()
	b, err := os.ReadFile(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	p := policyDoc{perms: map[account.Permission][]account.Role{}, routes: map[string]account.Permission{},
		edits: map[string]map[account.Role]bool{}}
	rows := table(t, doc, "### Permissions")
	cols := roleColumns(t, "Permissions", rows[0], account.Roles)
	for _, row := range rows[1:] {
		perm := account.Permission(row[0])
		p.perms[perm] = []account.Role{}
		for _, r := range account.Roles {
			if c, ok := cols[r]; ok && c < len(row) && yes(t, "permission "+row[0]+" for "+string(r), row[c]) {
				p.perms[perm] = append(p.perms[perm], r)
			}
		}
	}
	for _, row := range table(t, doc, "### Routes")[1:] {
		if len(row) < 2 {
			t.Fatalf("%s, table Routes: row %q has no permission", policyFile, row)
		}
		p.routes[row[0]] = account.Permission(row[1])
	}
	rows = table(t, doc, "### Who may change whose records")
	writers := []account.Role{account.Analyst, account.Editor, account.Admin}
	cols = roleColumns(t, "Who may change whose records", rows[0], writers)
	for _, row := range rows[1:] {
		p.edits[row[0]] = map[account.Role]bool{}
		for _, r := range writers {
			if c, ok := cols[r]; ok && c < len(row) {
				p.edits[row[0]][r] = yes(t, "edit rule "+row[0]+" for "+string(r), row[c])
			}
		}
	}
	return p
}

// TestPolicyDocCoversRoutes checks that docs/web.md lists every route with
// the permission routes.go gives it, no route that does not exist, and
// every permission the routes need.
func TestPolicyDocCoversRoutes(t *testing.T) {
	p := readPolicy(t)
	seen := map[string]bool{}
	for _, rt := range (&server{}).routes() {
		key := rt.method + " " + rt.pattern
		seen[key] = true
		perm, ok := p.routes[key]
		switch {
		case !ok:
			t.Errorf("route %s is not in the route table of %s", key, policyFile)
		case perm != rt.perm:
			t.Errorf("route %s needs %s in routes.go, %s in %s", key, rt.perm, perm, policyFile)
		}
		if _, ok := p.perms[rt.perm]; !ok {
			t.Errorf("route %s needs permission %q, which the permission table of %s does not cover", key, rt.perm, policyFile)
		}
	}
	for key := range p.routes {
		if !seen[key] {
			t.Errorf("%s lists route %s, which routes.go does not serve", policyFile, key)
		}
	}
	for perm, roles := range p.perms {
		for _, r := range account.Roles {
			if got, want := account.Allows(r, perm), slices.Contains(roles, r); got != want {
				t.Errorf("account.Allows(%s, %s) = %v, %s says %v", r, perm, got, policyFile, want)
			}
		}
	}
}

type site struct {
	srv   *httptest.Server
	s     *server
	st    *store.Store
	users map[account.Role]string
	dir   string
	lk    *locker.Locker
	// derived holds keyframes, as in a data directory.
	derived *locker.Locker
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := store.Create(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := ledger.Init(filepath.Join(dir, "ledger"), "example.org/web"); err != nil {
		t.Fatal(err)
	}
	lg, _ := ledger.Open(filepath.Join(dir, "ledger"))
	st.SetJournal(lg)
	lk, _ := locker.Open(filepath.Join(dir, "locker"))
	f, err := casefile.Parse(demo.Name, demo.CaseFile())
	if err != nil {
		t.Fatal(err)
	}
	c := store.Change{By: loaderName, Reason: "test", At: time.Now()}
	if _, err := casefile.Load(ctx, st, lk, f, c); err != nil {
		t.Fatal(err)
	}
	// An HTML file and an SVG among the originals: they must never be
	// served so that they can run script.
	for name, body := range map[string]string{
		"../../x.html": "<html><script>alert(1)</script></html>",
		"logo.svg":     `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, "/", "_"))
		os.WriteFile(p, []byte(body), 0o644)
		slug := "upload-" + strings.Trim(strings.ReplaceAll(strings.ReplaceAll(name, ".", "-"), "/", ""), "-")
		if _, err := evidence.Ingest(ctx, st, lk, evidence.Input{Path: p, Filename: name, Slug: slug, Incidents: []string{"ganja-missile-strike-2020-10-11"}}, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lg.Sync(ctx, st); err != nil {
		t.Fatal(err)
	}
	derived, _ := locker.Open(filepath.Join(dir, "derived"))
	s := &site{st: st, users: map[account.Role]string{}, dir: dir, lk: lk, derived: derived}
	// The real job queue with the real handlers; captures may reach the
	// test's own loopback servers. The capture limit is the default one: a
	// page that loads ends when it is kept, and a loaded machine needs the
	// time to start Chromium and render.
	runner := jobs.New(st, intake.Handlers(intake.Env{Store: st, Locker: lk, Derived: derived, Ledger: lg,
		Capture: capture.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Timeout: capture.DefaultTimeout}}),
		jobs.Options{Poll: 100 * time.Millisecond})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { runner.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	h := New(Config{Store: st, Locker: lk, Derived: derived, Ledger: lg, Log: slog.New(slog.DiscardHandler), Jobs: runner})
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	s.s = &server{st: st}
	hash, _ := account.HashPassword("a long test password")
	for _, r := range account.Roles[1:] {
		name := string(r) + "-user"
		if err := st.CreateUser(ctx, store.User{Name: name, Role: string(r), PasswordHash: hash}, "test"); err != nil {
			t.Fatal(err)
		}
		s.users[r] = name
	}
	return s
}

func (s *site) do(t *testing.T, role account.Role, method, path string, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	// A fresh session a request: the matrix signs out too.
	if name := s.users[role]; name != "" {
		secret, hashed, _ := account.NewSecret("gts_")
		if err := s.st.CreateSession(t.Context(), hashed, name, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
	}
	if body != "" && strings.HasPrefix(path, "/api/") {
		req.Header.Set("Content-Type", "application/json")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// concrete turns a route pattern into a request path.
func concrete(pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	p = strings.ReplaceAll(p, "/incidents/{slug}", "/incidents/hadrut-execution")
	p = strings.ReplaceAll(p, "{slug}", "stepanakert-collapsed-building-photo")
	return strings.ReplaceAll(p, "{id}", "tok_none")
}

// TestAuthorizationMatrix calls every route as every role, and with a
// read-only token, and checks the answer against the policy of
// docs/web.md.
func TestAuthorizationMatrix(t *testing.T) {
	s := newSite(t)
	policy := readPolicy(t)
	resp := s.do(t, account.Analyst, "POST", "/api/v1/tokens", `{"label":"matrix","scope":"read"}`, nil)
	var tok struct{ Token string }
	jsonDecode(t, resp, &tok)
	readToken := map[string]string{"Authorization": "Bearer " + tok.Token}
	bodies := map[string]string{
		"POST /login":              "name=nobody&password=wrong",
		"POST /api/v1/assessments": `{"assessment":{"slug":"matrix-test","incident":"hadrut-execution","kind":"authenticity","finding":"f","organisation":"bellingcat","date":"2020-10-20"},"reason":"matrix test"}`,
		"POST /api/v1/tokens":      `{"label":"matrix","scope":"read"}`,
	}
	for _, rt := range s.s.routes() {
		allowed, known := policy.perms[policy.routes[rt.method+" "+rt.pattern]]
		if !known {
			t.Errorf("route %s %s has no permission in %s", rt.method, rt.pattern, policyFile)
			continue
		}
		writes := rt.method != "GET" && rt.method != "HEAD" && rt.pattern != "/login"
		t.Run(rt.method+" "+rt.pattern+" with a read token", func(t *testing.T) {
			resp := s.do(t, account.Public, rt.method, concrete(rt.pattern), bodies[rt.method+" "+rt.pattern], readToken)
			resp.Body.Close()
			denied := resp.StatusCode == 401 || resp.StatusCode == 403
			may := slices.Contains(allowed, account.Analyst) && !writes
			switch {
			case may && denied && !(rt.pattern == "/login" && resp.StatusCode == 401):
				t.Errorf("got %d, want access", resp.StatusCode)
			case !may && resp.StatusCode != 403:
				t.Errorf("got %d, want 403", resp.StatusCode)
			}
		})
		for _, role := range account.Roles {
			name := rt.method + " " + rt.pattern + " as " + string(role)
			t.Run(name, func(t *testing.T) {
				resp := s.do(t, role, rt.method, concrete(rt.pattern), bodies[rt.method+" "+rt.pattern], nil)
				resp.Body.Close()
				if resp.Header.Get("Content-Security-Policy") == "" {
					t.Errorf("no Content-Security-Policy")
				}
				may := false
				for _, r := range allowed {
					may = may || r == role
				}
				denied := resp.StatusCode == 401 || resp.StatusCode == 403 ||
					(resp.StatusCode == 303 && strings.HasPrefix(resp.Header.Get("Location"), "/login"))
				switch {
				case may && denied && !(rt.pattern == "/login" && resp.StatusCode == 401):
					t.Errorf("got %d, want access", resp.StatusCode)
				case !may && !denied:
					t.Errorf("got %d, want 401, 403 or a redirect to sign-in", resp.StatusCode)
				case !may && role == account.Public && resp.StatusCode == 403:
					t.Errorf("got 403 for the public, want 401 or a redirect to sign-in")
				case !may && role != account.Public && resp.StatusCode != 403:
					t.Errorf("got %d for a signed-in user, want 403", resp.StatusCode)
				}
			})
		}
	}
}

func TestSecurity(t *testing.T) {
	s := newSite(t)
	t.Run("cross-origin POST refused", func(t *testing.T) {
		resp := s.do(t, account.Admin, "POST", "/logout", "", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("session fixation", func(t *testing.T) {
		form := url.Values{"name": {"viewer-user"}, "password": {"a long test password"}}.Encode()
		req, _ := http.NewRequest("POST", s.srv.URL+"/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "gts_attacker-chosen"})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var got *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == sessionCookie {
				got = c
			}
		}
		if resp.StatusCode != 303 || got == nil || got.Value == "gts_attacker-chosen" || !got.HttpOnly || got.SameSite != http.SameSiteStrictMode {
			t.Fatalf("sign-in: %d, cookie %+v", resp.StatusCode, got)
		}
		if _, err := s.st.SessionUser(t.Context(), account.HashSecret("gts_attacker-chosen"), time.Now()); err == nil {
			t.Error("the attacker's cookie value became a session")
		}
	})
	t.Run("wrong passwords throttled", func(t *testing.T) {
		var last *http.Response
		for range 7 {
			last = s.do(t, account.Public, "POST", "/login", "name=editor-user&password=wrong-wrong-wrong", nil)
			last.Body.Close()
		}
		if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
			t.Errorf("7th wrong password: %d, Retry-After %q; want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
		}
	})
	t.Run("HTML and SVG originals cannot run script", func(t *testing.T) {
		for _, slug := range []string{"upload-x-html", "upload-logo-svg"} {
			resp := s.do(t, account.Viewer, "GET", "/evidence/"+slug+"/original", "", nil)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			cd := resp.Header.Get("Content-Disposition")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" ||
				!strings.HasPrefix(cd, "attachment") || strings.Contains(cd, "/") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("%s: %d %q %q %q", slug, resp.StatusCode, resp.Header.Get("Content-Type"), cd, resp.Header.Get("Content-Security-Policy"))
			}
			if !bytes.Contains(body, []byte("<script>")) {
				t.Errorf("%s: the original's bytes were changed", slug)
			}
		}
	})
	t.Run("graphic media: blurred, revealed once logged", func(t *testing.T) {
		slug := "hadrut-capture-video"
		pub := s.do(t, account.Public, "GET", "/evidence/"+slug+"/original", "", nil)
		pub.Body.Close()
		if pub.StatusCode != 404 && pub.StatusCode != 403 {
			t.Errorf("the public fetched a graphic personal-data original: %d", pub.StatusCode)
		}
		before := s.do(t, account.Editor, "GET", "/evidence/"+slug+"/original", "", nil)
		before.Body.Close()
		if before.StatusCode != 403 {
			t.Errorf("original before the reveal: %d, want 403", before.StatusCode)
		}
		rev := s.do(t, account.Editor, "POST", "/evidence/"+slug+"/reveal", "", nil)
		rev.Body.Close()
		after := s.do(t, account.Editor, "GET", "/evidence/"+slug+"/original", "", nil)
		after.Body.Close()
		if rev.StatusCode != 303 || after.StatusCode != 200 {
			t.Errorf("reveal %d then original %d, want 303 and 200", rev.StatusCode, after.StatusCode)
		}
		log, _ := s.st.AccessLog(t.Context(), 10)
		found := false
		for _, a := range log {
			found = found || a.User == "editor-user" && a.Action == "reveal_graphic" && a.Subject == slug
		}
		if !found {
			t.Errorf("the reveal is not in the access log: %+v", log)
		}
	})
	t.Run("public sees initials only", func(t *testing.T) {
		resp := s.do(t, account.Public, "GET", "/api/v1/incidents/hadrut-execution", "", nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"initials": "B.H."`)) || bytes.Contains(body, []byte(`"notes"`)) {
			t.Errorf("public incident JSON: %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("tokens: shown once, scoped, revocable", func(t *testing.T) {
		resp := s.do(t, account.Analyst, "POST", "/api/v1/tokens", `{"label":"script","scope":"read"}`, nil)
		var created struct{ ID, Token string }
		jsonDecode(t, resp, &created)
		if resp.StatusCode != 201 || !strings.HasPrefix(created.Token, "gtt_") {
			t.Fatalf("create token: %d %+v", resp.StatusCode, created)
		}
		bearer := map[string]string{"Authorization": "Bearer " + created.Token}
		r1 := s.do(t, account.Public, "GET", "/api/v1/incidents?limit=1", "", bearer)
		r1.Body.Close()
		r2 := s.do(t, account.Public, "POST", "/api/v1/assessments", `{"assessment":{},"reason":"x"}`, bearer)
		r2.Body.Close()
		if r1.StatusCode != 200 || r2.StatusCode != 403 {
			t.Errorf("read token: GET %d (want 200), POST %d (want 403)", r1.StatusCode, r2.StatusCode)
		}
		del := s.do(t, account.Analyst, "DELETE", "/api/v1/tokens/"+created.ID, "", nil)
		del.Body.Close()
		r3 := s.do(t, account.Public, "GET", "/api/v1/incidents", "", bearer)
		r3.Body.Close()
		if del.StatusCode != 204 || r3.StatusCode != 401 {
			t.Errorf("revoke %d then use %d, want 204 and 401", del.StatusCode, r3.StatusCode)
		}
	})
	t.Run("cursor pagination", func(t *testing.T) {
		var seen []string
		cursor := ""
		for range 10 {
			resp := s.do(t, account.Viewer, "GET", "/api/v1/incidents?limit=1"+cursor, "", nil)
			var pg struct {
				Items []struct{ Slug string }
				Next  *string `json:"next_cursor"`
			}
			jsonDecode(t, resp, &pg)
			for _, i := range pg.Items {
				seen = append(seen, i.Slug)
			}
			if pg.Next == nil {
				break
			}
			cursor = "&cursor=" + *pg.Next
		}
		if len(seen) != 4 || seen[0] >= seen[1] {
			t.Errorf("pages gave %v, want the 4 incidents in order", seen)
		}
		bad := s.do(t, account.Viewer, "GET", "/api/v1/incidents?cursor=!!!", "", nil)
		bad.Body.Close()
		if bad.StatusCode != 400 {
			t.Errorf("bad cursor: %d, want 400", bad.StatusCode)
		}
	})
	t.Run("an assessment through the API moves the grade explanation", func(t *testing.T) {
		resp := s.do(t, account.Analyst, "POST", "/api/v1/assessments",
			`{"assessment":{"slug":"api-geo","incident":"ganja-missile-strike-2020-10-11","kind":"geolocation","finding":"matched","organisation":"bellingcat","date":"2020-10-20","location":{"lat":40.6828,"lon":46.3606,"radius_m":200}},"reason":"desk geolocation"}`, nil)
		var out struct {
			Grade struct {
				Explanation []struct {
					Rule    string
					Records []string
				}
			}
		}
		jsonDecode(t, resp, &out)
		if resp.StatusCode != 201 {
			t.Fatalf("POST assessment: %d", resp.StatusCode)
		}
		found := false
		for _, st := range out.Grade.Explanation {
			for _, r := range st.Records {
				found = found || r == "assessment/api-geo"
			}
		}
		if !found {
			t.Errorf("the new assessment does not appear in the grade explanation: %+v", out.Grade)
		}
		bad := s.do(t, account.Analyst, "POST", "/api/v1/assessments", `{"assessment":{"slug":"x","incident":"ganja-missile-strike-2020-10-11","kind":"geolocation","finding":"f","organisation":"bellingcat","date":"2020-10-20","location":{"lat":91,"lon":0}},"reason":"r"}`, nil)
		msg, _ := io.ReadAll(bad.Body)
		bad.Body.Close()
		if bad.StatusCode != 400 || !bytes.Contains(msg, []byte("location.lat")) {
			t.Errorf("invalid assessment: %d %s", bad.StatusCode, msg)
		}
	})
}

func jsonDecode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, b)
	}
}
