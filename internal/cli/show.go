// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"groundtruth/internal/account"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
	"groundtruth/internal/verification"
)

// The JSON shapes printed by --json are documented in docs/cli.md; change
// them only by adding fields.

type incidentSummary struct {
	Slug          string                `json:"slug"`
	Title         string                `json:"title"`
	DateStart     record.Time           `json:"date_start"`
	DateEnd       record.Time           `json:"date_end,omitzero"`
	TimePrecision record.TimePrecision  `json:"time_precision"`
	Place         string                `json:"place,omitempty"`
	EventType     string                `json:"event_type"`
	SubEventType  string                `json:"sub_event_type"`
	Status        record.IncidentStatus `json:"status"`
}

type incidentView struct {
	*record.Incident
	Version        int                     `json:"version"`
	UpdatedAt      string                  `json:"updated_at"`
	PlaceRecord    *record.Place           `json:"place_record,omitempty"`
	Assessments    []*record.Assessment    `json:"assessments"`
	Claims         []*record.Claim         `json:"claims"`
	Casualties     []*record.Casualty      `json:"casualties"`
	Victims        []record.Victim         `json:"victims"`
	Evidence       []evidenceView          `json:"evidence"`
	Investigations []*record.Investigation `json:"investigations"`
	// From the verification engine (docs/grading.md).
	Grade             verification.Grade              `json:"grade"`
	Propositions      []verification.Verdict          `json:"propositions"`
	Flags             []verification.Flag             `json:"flags"`
	Characterisations []verification.Characterisation `json:"characterisations"`
	CasualtyTotals    verification.IncidentCasualties `json:"casualty_totals"`
	Summary           string                          `json:"summary"`

	report *verification.Report
}

func runIncidents(e *env, args []string) error {
	fs := flags("incidents")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	st := d.st
	list, err := records[*record.Incident](st.List(e.ctx, record.KindIncident))
	if err != nil {
		return err
	}
	out := make([]incidentSummary, 0, len(list))
	for _, i := range list {
		out = append(out, incidentSummary{i.Slug, i.Title, i.Start, i.End, i.TimePrecision, i.Place, i.EventType, i.SubEventType, i.Status})
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tDATE\tPLACE\tTYPE\tSTATUS\tTITLE")
	for _, i := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", i.Slug, dateRange(i.DateStart, i.DateEnd), i.Place, i.SubEventType, i.Status, i.Title)
	}
	return tw.Flush()
}

func dateRange(a, b record.Time) string {
	if b.IsZero() || a.String() == b.String() {
		return a.String()
	}
	return a.String() + ".." + b.String()
}

func runShow(e *env, args []string) error {
	fs := flags("show")
	asJSON := fs.Bool("json", false, "print JSON")
	public := fs.Bool("public", false, "show only what the public sees (docs/web.md): published incidents, public evidence, no staff names")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInput("give one slug: groundtruth show SLUG [--json] [--public]")
	}
	// The command line is an investigator's tool and reads as an admin,
	// but for victims' names and notes, which it never prints; --public
	// reads as the public does on the web.
	role := account.Admin
	if *public {
		role = account.Public
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	st := d.st
	slug := pos[0]
	inc, err := st.Get(e.ctx, record.KindIncident, slug)
	if errors.Is(err, store.ErrNotFound) {
		ev, err2 := st.Get(e.ctx, record.KindEvidence, slug)
		if err2 == nil {
			item := ev.Record.(*record.Evidence)
			if !e.policy.Evidence(role, item, lookupIncident(e, st)) {
				return badInput("evidence %q is not public (marked personal data, or of no published incident): leave out --public to see it", slug)
			}
			return showEvidence(e, d.st, e.policy.Record(role, item).(*record.Evidence), role, *asJSON)
		}
		return badInput("no incident or evidence item with slug %q: see groundtruth incidents or groundtruth evidence", slug)
	}
	if err != nil {
		return err
	}
	if !e.policy.Incident(role, inc.Record.(*record.Incident)) {
		return badInput("incident %q is not published: the public sees nothing of it; leave out --public to see it", slug)
	}
	v, err := buildIncidentView(e, st, inc, role)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, v)
	}
	printIncident(e.stdout, v)
	return nil
}

// buildIncidentView gathers an incident's records as role reads them
// (internal/disclosure); the caller has checked that role may see it.
func buildIncidentView(e *env, st *store.Store, s *store.Stored, role account.Role) (*incidentView, error) {
	i := e.policy.Record(role, s.Record).(*record.Incident)
	v := &incidentView{Incident: i, Version: s.Version, UpdatedAt: s.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z")}
	if i.Place != "" {
		p, err := st.Get(e.ctx, record.KindPlace, i.Place)
		if err != nil {
			return nil, err
		}
		v.PlaceRecord = p.Record.(*record.Place)
	}
	err := referring(e, st, i.Slug, record.KindAssessment, &v.Assessments)
	if err == nil {
		err = referring(e, st, i.Slug, record.KindClaim, &v.Claims)
	}
	if err == nil {
		err = referring(e, st, i.Slug, record.KindCasualty, &v.Casualties)
	}
	if err == nil {
		var items, shown []*record.Evidence
		if err = referring(e, st, i.Slug, record.KindEvidence, &items); err == nil {
			for _, ev := range items {
				if e.policy.Evidence(role, ev, lookupIncident(e, st)) {
					shown = append(shown, e.policy.Record(role, ev).(*record.Evidence))
				}
			}
			v.Evidence, err = evidenceViews(e, st, shown)
		}
	}
	if err == nil {
		err = referring(e, st, i.Slug, record.KindInvestigation, &v.Investigations)
	}
	var victims []*record.Victim
	if err == nil {
		err = referring(e, st, i.Slug, record.KindVictim, &victims)
	}
	if err != nil {
		return nil, err
	}
	v.Victims = make([]record.Victim, 0, len(victims))
	for _, vi := range victims {
		v.Victims = append(v.Victims, vi.Public()) // names and notes never leave the desk
	}
	c, err := loadCase(e, st)
	if role == account.Public {
		c, err = loadPublicCase(e, st)
	}
	if err != nil {
		return nil, err
	}
	r := c.Report(i.Slug, verification.Settings{})
	v.Grade, v.Propositions, v.Flags, v.Characterisations, v.CasualtyTotals, v.Summary =
		r.Grade, r.Propositions, r.Flags, r.Characterisations, r.Casualties, r.Summary
	v.report = r
	return v, nil
}

// loadPublicCase returns the case the public reasons over, as the web
// does: no unpublished incident, every record as the public reads it.
func loadPublicCase(e *env, st *store.Store) (*verification.Case, error) {
	all, err := st.Current(e.ctx)
	if err != nil {
		return nil, err
	}
	recs := all[:0:0]
	for _, rec := range all {
		if i, ok := rec.(*record.Incident); ok && !e.policy.Incident(account.Public, i) {
			continue
		}
		recs = append(recs, e.policy.Record(account.Public, rec))
	}
	return verification.NewCase(recs), nil
}

// lookupIncident returns a function that loads a current incident by
// slug, nil when there is none.
func lookupIncident(e *env, st *store.Store) func(string) *record.Incident {
	return func(slug string) *record.Incident {
		s, err := st.Get(e.ctx, record.KindIncident, slug)
		if err != nil || s.Retired {
			return nil
		}
		return s.Record.(*record.Incident)
	}
}

// referring fills out with the records of kind that refer to an incident.
func referring[T record.Record](e *env, st *store.Store, incident string, kind record.Kind, out *[]T) error {
	var err error
	*out, err = records[T](st.Referring(e.ctx, kind, record.KindIncident, incident))
	return err
}

// records converts stored records to their concrete type.
func records[T record.Record](list []*store.Stored, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(list))
	for _, s := range list {
		out = append(out, s.Record.(T))
	}
	return out, nil
}

func printIncident(w io.Writer, v *incidentView) {
	fmt.Fprintf(w, "%s\n%s\n\n", v.Title, strings.Repeat("=", len([]rune(v.Title))))
	fmt.Fprintf(w, "slug:      %s (version %d, status %s)\n", v.Slug, v.Version, v.Status)
	fmt.Fprintf(w, "when:      %s (precision: %s)\n", dateRange(v.Start, v.End), v.TimePrecision)
	if v.PlaceRecord != nil {
		fmt.Fprintf(w, "where:     %s\n", placeNames(v.PlaceRecord))
	}
	fmt.Fprintf(w, "type:      %s / %s / %s\n", v.DisorderType, v.EventType, v.SubEventType)
	if v.Description != "" {
		fmt.Fprintf(w, "\n%s\n", v.Description)
	}
	section(w, "Assessments", len(v.Assessments))
	for _, a := range v.Assessments {
		fmt.Fprintf(w, "  - [%s] %s: %s", a.Type, a.Organisation, a.Finding)
		if a.Likelihood != "" {
			fmt.Fprintf(w, " (assessed %s)", a.Likelihood.Words())
		}
		fmt.Fprintln(w)
	}
	section(w, "Claims", len(v.Claims))
	for _, c := range v.Claims {
		fmt.Fprintf(w, "  - %s, %s (%s %s): %s\n", c.By, c.Date, c.Stance, c.About, c.Summary)
	}
	section(w, "Casualties", len(v.Casualties))
	for _, c := range v.Casualties {
		fmt.Fprintf(w, "  - %s, side %s: killed %s, injured %s (reported by %s)\n",
			c.Status, firstOf(c.Side, "not stated"), countText(c.Killed), countText(c.Injured), c.ReportedBy)
	}
	section(w, "Victims", len(v.Victims))
	for _, vi := range v.Victims {
		fmt.Fprintf(w, "  - %s %s %s, %s\n", firstOf(vi.Initials, "(unnamed)"), ageText(vi.Age), vi.Sex, vi.Role)
		for _, s := range vi.Statuses {
			fmt.Fprintf(w, "      status %s according to %s\n", s.Status, s.By)
		}
	}
	section(w, "Investigations", len(v.Investigations))
	for _, i := range v.Investigations {
		fmt.Fprintf(w, "  - %s, opened %s (%s)\n", i.OpenedBy, i.OpenedOn, i.Status)
	}
	section(w, "Evidence", len(v.Evidence))
	for _, ev := range v.Evidence {
		printEvidenceLine(w, ev.Evidence)
	}
	printReport(w, v.report)
}

func section(w io.Writer, name string, n int) {
	fmt.Fprintf(w, "\n%s (%d)\n", name, n)
}

func placeNames(p *record.Place) string {
	names := []string{p.Name}
	for _, n := range p.Names {
		dup := false
		for _, m := range names {
			dup = dup || m == n.Name
		}
		if !dup {
			names = append(names, n.Name)
		}
	}
	s := names[0]
	if len(names) > 1 {
		s += " (" + strings.Join(names[1:], ", ") + ")"
	}
	if p.Location != nil {
		s += fmt.Sprintf(" %.4f, %.4f", p.Location.Lat, p.Location.Lon)
	}
	return s
}

func countText(c *record.Count) string {
	if !c.Reported() {
		return "not reported"
	}
	part := func(p *int) string {
		if p == nil {
			return "?"
		}
		return fmt.Sprint(*p)
	}
	switch {
	case c.Low == nil && c.High == nil:
		return part(c.Best)
	case c.Best == nil && c.High == nil:
		return "at least " + part(c.Low)
	case c.Best == nil && c.Low == nil:
		return "at most " + part(c.High)
	case c.Best == nil:
		return part(c.Low) + "–" + part(c.High)
	}
	return fmt.Sprintf("%s (range %s–%s)", part(c.Best), part(c.Low), part(c.High))
}

func ageText(a *int) string {
	if a == nil {
		return "age not reported"
	}
	return fmt.Sprintf("aged %d", *a)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
