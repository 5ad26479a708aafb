// SPDX-License-Identifier: Apache-2.0

// Package web serves groundtruth's web interface and JSON API
// (/api/v1/), with accounts and roles (see internal/account). Every route
// is in the table of routes.go with the permission it needs.
package web

import (
	"crypto/rand"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/disclosure"
	"groundtruth/internal/ledger"
	"groundtruth/internal/locker"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
	"groundtruth/internal/verification"
)

//go:embed templates
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"list": func(s ...string) []string { return s },
	"deref": func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	},
}).ParseFS(templateFS, "templates/*.html"))

type server struct {
	st            *store.Store
	lk            *locker.Locker
	derived       *locker.Locker
	jobs          JobQueue
	lg            *ledger.Ledger
	log           *slog.Logger
	throttle      *throttle
	checks        *checkSlots
	devices       devices
	proxies       []netip.Prefix
	proxyHeader   string
	secureCookies bool
	tileURL       string
	cache         caseCache
	// policy decides what each role sees of the records (docs/web.md).
	policy disclosure.Policy
}

// Config holds what the web interface needs.
type Config struct {
	// Now, when set, is the sign-in throttle's clock (time.Now otherwise):
	// tests stop it so that a delay cannot run out while they look at it.
	Now    func() time.Time
	Store  *store.Store
	Locker *locker.Locker
	// Derived holds files computed from originals, such as keyframes.
	Derived *locker.Locker
	Ledger  *ledger.Ledger
	Log     *slog.Logger
	// SecureCookies marks cookies Secure and sends HSTS even when
	// neither this server nor a trusted proxy says the client came by
	// HTTPS.
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose forwarding header
	// (ProxyHeader) gives the client's address and scheme. From any other
	// peer that header is ignored.
	TrustedProxies []netip.Prefix
	// ProxyHeader is HeaderXForwardedFor (the default) or
	// HeaderForwarded: the one header the trusted proxies append to.
	ProxyHeader string
	// PasswordChecks is how many password checks may run at once, each
	// holding account.HashMemory; 0 means half the processors, from 1 to 4.
	PasswordChecks int
	// DeviceKey signs the cookies that mark a browser as known for a
	// name. Without it a random key is used, and browsers are forgotten
	// when the server restarts.
	DeviceKey []byte
	// TileURL is an optional tile-server URL template for the map, such as
	// https://tile.example.org/{z}/{x}/{y}.png; without it the map shows
	// only its offline basemap. Its origin is added to the
	// Content-Security-Policy's img-src.
	TileURL string
	// Jobs is the job queue (analysis of uploads, captures). Without it
	// uploads are stored but not analysed, and nothing can be captured.
	Jobs JobQueue
	// Organisation is the name the public reads wherever a record names
	// one of the desk's accounts; empty means "groundtruth desk".
	Organisation string
}

// New returns the web interface's handler.
func New(cfg Config) http.Handler {
	s := &server{st: cfg.Store, lk: cfg.Locker, derived: cfg.Derived, jobs: cfg.Jobs, lg: cfg.Ledger, log: cfg.Log, throttle: newThrottle(), secureCookies: cfg.SecureCookies, tileURL: cfg.TileURL,
		policy: disclosure.Policy{Organisation: cfg.Organisation}}
	if cfg.Now != nil {
		s.throttle.now = cfg.Now
	}
	s.checks, s.devices, s.proxies, s.proxyHeader = newCheckSlots(cfg.PasswordChecks), devices{cfg.DeviceKey}, cfg.TrustedProxies, cfg.ProxyHeader
	if len(s.devices.key) == 0 {
		s.devices.key = make([]byte, 32)
		rand.Read(s.devices.key) // never fails (crypto/rand)
	}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+rt.pattern, s.guard(rt))
	}
	// Cross-origin state-changing requests from browsers are refused on
	// every route (Sec-Fetch-Site and Origin checks).
	csrf := http.NewCrossOriginProtection()
	return s.transport(securityHeaders(contentSecurityPolicy(cfg.TileURL), csrf.Handler(mux)))
}

func securityHeaders(csp string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

type incidentRow struct {
	Slug, Title, Dates, Precision, Place, EventType, SubEventType string
	Grade, Summary                                                string
	Flags                                                         []string
	Evidence                                                      []evidenceLink
}

// tallyRow is a reported running total beside the documented incidents.
type tallyRow struct {
	Issuer, Scope, AsOf, Reported, Documented, Gap, Parts string
}

// evidenceLink is an evidence item the public may see, with its receipt.
type evidenceLink struct {
	Slug, Title string
}

func (s *server) listIncidents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.loadCase(r) // holds only the incidents the principal may see
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	var data struct {
		Incidents   []incidentRow
		Tallies     []tallyRow
		Unpublished int
	}
	if !account.Allows(who(r).role, account.ReadAll) {
		if all, err := s.incidentCount(r); err == nil {
			data.Unpublished = all - len(c.IncidentSlugs)
		}
	}
	// One page of incidents at a time, by slug: the page reasons over each
	// incident it shows, so it must not show a hundred thousand.
	slugs := c.IncidentSlugs
	from := sort.SearchStrings(slugs, r.URL.Query().Get("after"))
	if from < len(slugs) && slugs[from] == r.URL.Query().Get("after") {
		from++
	}
	to := min(from+pageSize, len(slugs))
	next := ""
	if to < len(slugs) {
		next = slugs[to-1]
	}
	for _, slug := range slugs[from:to] {
		i := c.Incidents[slug]
		row := incidentRow{Slug: i.Slug, Title: i.Title, Dates: i.Start.String(), Precision: string(i.TimePrecision),
			EventType: i.EventType, SubEventType: i.SubEventType}
		if !i.End.IsZero() && i.End.String() != i.Start.String() {
			row.Dates += " – " + i.End.String()
		}
		if p, ok := c.Places[i.Place]; ok {
			row.Place = verification.PlaceName(p, verification.BothNames)
		}
		if rep := s.report(c, i.Slug); rep != nil {
			row.Grade, row.Summary = rep.Grade.Grade, rep.Summary
			for _, f := range rep.Flags {
				row.Flags = append(row.Flags, f.Title+" ("+f.Law+")")
			}
		}
		items, err := s.st.Referring(ctx, record.KindEvidence, record.KindIncident, i.Slug)
		if err != nil {
			s.log.ErrorContext(ctx, "list evidence", slog.String("incident", i.Slug), slog.Any("error", err))
		}
		for _, it := range items {
			if ev := it.Record.(*record.Evidence); !ev.PersonalData {
				row.Evidence = append(row.Evidence, evidenceLink{Slug: ev.Slug, Title: ev.Title})
			}
		}
		data.Incidents = append(data.Incidents, row)
	}
	for _, rc := range s.reconcile(c) {
		row := tallyRow{Issuer: c.ActorName(rc.Issuer), Scope: rc.Scope.Description, AsOf: rc.AsOf,
			Reported: count(rc.Reported), Documented: count(rc.Documented)}
		if rc.Gap != nil {
			row.Gap = fmt.Sprint(*rc.Gap)
		}
		if rc.PartsSum != nil {
			row.Parts = fmt.Sprintf("parts total %d", *rc.PartsSum)
			if rc.PartsMatch != nil && *rc.PartsMatch {
				row.Parts += ", which reconciles"
			}
		}
		data.Tallies = append(data.Tallies, row)
	}
	s.render(w, r, http.StatusOK, "incidents.html", map[string]any{
		"Incidents": data.Incidents, "Tallies": data.Tallies, "Unpublished": data.Unpublished, "Next": next})
}

// render executes a page template with the request's principal added as
// .User (empty for the public).
func (s *server) render(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	p := who(r)
	data["User"], data["Role"] = p.user, string(p.role)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "render", slog.String("page", name), slog.String("error", err.Error()))
	}
}

// receipt serves the ledger receipt of an evidence item that the public
// may see: one of a published incident, not marked as personal data. A
// receipt names the original's digest, which for personal data would let
// anyone holding a copy confirm that the desk holds it too.
func (s *server) receipt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	slug := r.PathValue("slug")
	ev, ok := s.publicEvidence(r, slug)
	if !ok {
		http.NotFound(w, r)
		return
	}
	receipt, err := s.lg.ItemReceipt(ctx, s.st, ev.SHA256)
	if err != nil {
		s.log.ErrorContext(ctx, "receipt", slog.String("evidence", slug), slog.Any("error", err))
		http.Error(w, "the receipt is not available yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+slug+`.tlog-proof"`)
	w.Write(receipt)
}

// publicEvidence returns an evidence item, as the public reads it, if the
// public may see it.
func (s *server) publicEvidence(r *http.Request, slug string) (*record.Evidence, bool) {
	st, err := s.st.Get(r.Context(), record.KindEvidence, slug)
	if err != nil || st.Retired {
		return nil, false
	}
	ev := st.Record.(*record.Evidence)
	if !s.policy.Evidence(account.Public, ev, s.lookupIncident(r)) {
		return nil, false
	}
	return s.policy.Record(account.Public, ev).(*record.Evidence), true
}

// lookupIncident returns a function that loads a current incident by slug,
// nil when there is none, for the decisions of [disclosure.Policy].
func (s *server) lookupIncident(r *http.Request) func(string) *record.Incident {
	return func(slug string) *record.Incident {
		st, err := s.st.Get(r.Context(), record.KindIncident, slug)
		if err != nil || st.Retired {
			return nil
		}
		return st.Record.(*record.Incident)
	}
}

// loadCase returns the records the principal may reason over: for the
// public every current record but unpublished incidents, so that no
// draft's figures reach a public sum, each as the public reads it (no
// staff names). Cases are cached until any record changes, since every
// page reasons over them.
func (s *server) loadCase(r *http.Request) (*verification.Case, error) {
	seeAll := disclosure.SeesDrafts(who(r).role)
	gen, err := s.st.Generation(r.Context())
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if s.cache.gen == gen && s.cache.cases[seeAll] != nil {
		return s.cache.cases[seeAll], nil
	}
	if s.cache.gen != gen {
		s.cache.gen, s.cache.cases, s.cache.recon = gen, map[bool]*verification.Case{}, nil
		s.cache.reports.Clear()
		s.cache.count = -1
	}
	all, err := s.st.Current(r.Context())
	if err != nil {
		return nil, err
	}
	recs := all[:0:0]
	for _, rec := range all {
		if i, ok := rec.(*record.Incident); ok && !seeAll && !s.policy.Incident(account.Public, i) {
			continue
		}
		if !seeAll {
			rec = s.policy.Record(account.Public, rec)
		}
		recs = append(recs, rec)
	}
	c := verification.NewCase(recs)
	s.cache.cases[seeAll] = c
	return c, nil
}

// caseCache holds the cases of the current generation of records, one for
// the public and one for signed-in readers, and their reconciliations.
type caseCache struct {
	mu    sync.Mutex
	gen   string
	cases map[bool]*verification.Case
	recon map[*verification.Case][]verification.Reconciliation
	count int // incidents of the generation, -1 until counted
	// reports holds each incident's report, per case.
	reports sync.Map // reportKey → *verification.Report
}

type reportKey struct {
	c    *verification.Case
	slug string
}

// report returns an incident's report, computed once per case: a case is
// never changed once built, so neither is its report.
func (s *server) report(c *verification.Case, slug string) *verification.Report {
	if r, ok := s.cache.reports.Load(reportKey{c, slug}); ok {
		return r.(*verification.Report)
	}
	r := c.Report(slug, verification.Settings{})
	s.cache.reports.Store(reportKey{c, slug}, r)
	return r
}

// incidentCount counts the current incidents once per generation: the
// count reads every incident row, too slow for every public page view.
func (s *server) incidentCount(r *http.Request) (int, error) {
	if _, err := s.loadCase(r); err != nil { // brings the cache to the current generation
		return 0, err
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if s.cache.count < 0 {
		n, err := s.st.Count(r.Context(), record.KindIncident)
		if err != nil {
			return 0, err
		}
		s.cache.count = n
	}
	return s.cache.count, nil
}

// pageSize is how many incidents a page lists.
const pageSize = 100

// reconcile returns a case's tally reconciliation, computed once per case.
func (s *server) reconcile(c *verification.Case) []verification.Reconciliation {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if s.cache.recon == nil {
		s.cache.recon = map[*verification.Case][]verification.Reconciliation{}
	}
	if r, ok := s.cache.recon[c]; ok {
		return r
	}
	r := c.Reconcile()
	s.cache.recon[c] = r
	return r
}

func count(c *record.Count) string {
	if !c.Reported() {
		return "not reported"
	}
	if c.Best != nil {
		return fmt.Sprint(*c.Best)
	}
	if c.Low != nil {
		return fmt.Sprintf("at least %d", *c.Low)
	}
	return fmt.Sprintf("at most %d", *c.High)
}
