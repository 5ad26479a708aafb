// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"groundtruth/internal/account"
	"groundtruth/internal/media"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
	"groundtruth/internal/verification"
)

func runEvidence(e *env, args []string) error {
	fs := flags("evidence")
	asJSON := fs.Bool("json", false, "print JSON")
	incident := fs.String("incident", "", "only items of this incident")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	st := d.st
	var items []*record.Evidence
	if *incident != "" {
		if ok, err := st.Exists(e.ctx, record.KindIncident, *incident); err != nil {
			return err
		} else if !ok {
			return badInput("--incident %s: no incident with that slug: see groundtruth incidents", *incident)
		}
		items, err = records[*record.Evidence](st.Referring(e.ctx, record.KindEvidence, record.KindIncident, *incident))
	} else {
		items, err = records[*record.Evidence](st.List(e.ctx, record.KindEvidence))
	}
	if err != nil {
		return err
	}
	if *asJSON {
		views, err := evidenceViews(e, st, items)
		if err != nil {
			return err
		}
		return writeJSON(e.stdout, views)
	}
	for _, ev := range items {
		printEvidenceLine(e.stdout, ev)
	}
	return nil
}

func printEvidenceLine(w io.Writer, ev *record.Evidence) {
	flags := ""
	if ev.Placeholder {
		flags += " PLACEHOLDER"
	}
	if ev.Graphic {
		flags += " graphic"
	}
	if ev.PersonalData {
		flags += " personal-data"
	}
	fmt.Fprintf(w, "  - %s  %s  %s  %d bytes%s  %s\n", ev.Slug, ev.SHA256[:16], ev.MediaType, ev.Size, flags, firstOf(ev.Title, ev.Filename))
	for _, s := range sortedSightings(ev.Sightings) {
		fmt.Fprintf(w, "      seen %s %s %s posted %s\n", firstOf(s.Platform, "?"), firstOf(s.Channel, ""), s.URL, firstOf(s.PostedAt.String(), "unknown"))
	}
}

// sortedSightings orders sightings by posting time, unknown times last: the
// first is the earliest known appearance.
func sortedSightings(in []record.Sighting) []record.Sighting {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b record.Sighting) int {
		switch {
		case a.PostedAt.IsZero() && b.PostedAt.IsZero():
			return 0
		case a.PostedAt.IsZero():
			return 1
		case b.PostedAt.IsZero():
			return -1
		}
		return a.PostedAt.Std().Compare(b.PostedAt.Std())
	})
	return out
}

// evidenceView is an evidence item as --json prints it: the record and
// the ledger index of the leaf written when its original was preserved
// (null until the ledger holds it).
type evidenceView struct {
	*record.Evidence
	LedgerIndex *int64 `json:"ledger_index"`
	// Media is the analysis of the original (show only; lists leave it
	// out to stay short).
	Media *media.View `json:"media,omitempty"`
}

func evidenceViews(e *env, st *store.Store, items []*record.Evidence) ([]evidenceView, error) {
	out := make([]evidenceView, 0, len(items))
	for _, ev := range items {
		v := evidenceView{Evidence: ev}
		leaves, err := st.LeavesOf(e.ctx, store.BlobKind, ev.SHA256)
		if err != nil {
			return nil, err
		}
		if len(leaves) > 0 && leaves[0].Index >= 0 {
			v.LedgerIndex = &leaves[0].Index
		}
		out = append(out, v)
	}
	return out, nil
}

// showEvidence prints an item as role reads it; the caller has checked
// that role may see it and given the item as role reads it.
func showEvidence(e *env, st *store.Store, ev *record.Evidence, role account.Role, asJSON bool) error {
	views, err := evidenceViews(e, st, []*record.Evidence{ev})
	if err != nil {
		return err
	}
	// The command line is an investigator's tool: every member of the
	// media group is shown, but to the public only those it may see, and
	// not the file's own metadata (camera, GPS, times), as on the web.
	var members func(*record.Evidence) bool
	if role == account.Public {
		members = func(m *record.Evidence) bool { return e.policy.Evidence(role, m, lookupIncident(e, st)) }
	}
	if views[0].Media, err = media.Describe(e.ctx, st, ev.SHA256, members); err != nil {
		return err
	}
	if views[0].Media != nil && role == account.Public {
		views[0].Media.Metadata = nil
	}
	if asJSON {
		return writeJSON(e.stdout, views[0])
	}
	defer printMedia(e.stdout, views[0].Media)
	if i := views[0].LedgerIndex; i != nil {
		defer fmt.Fprintf(e.stdout, "    ledger:   entry %d (groundtruth receipt %s)\n", *i, ev.Slug)
	}
	printEvidenceLine(e.stdout, ev)
	fmt.Fprintf(e.stdout, "    sha256:   %s\n    filename: %s\n    added:    %s by %s\n", ev.SHA256, ev.Filename, ev.AddedAt, ev.AddedBy)
	if ev.Credit != "" {
		fmt.Fprintf(e.stdout, "    credit:   %s\n", ev.Credit)
	}
	return nil
}

func runTallies(e *env, args []string) error {
	fs := flags("tallies")
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
	out, err := records[*record.Tally](st.List(e.ctx, record.KindTally))
	if err != nil {
		return err
	}
	c, err := loadCase(e, st)
	if err != nil {
		return err
	}
	recs := map[string]verification.Reconciliation{}
	for _, r := range c.Reconcile() {
		recs[r.Tally] = r
	}
	if *asJSON {
		type tallyView struct {
			*record.Tally
			Reconciliation verification.Reconciliation `json:"reconciliation"`
		}
		views := make([]tallyView, 0, len(out))
		for _, t := range out {
			views = append(views, tallyView{t, recs[t.Slug]})
		}
		return writeJSON(e.stdout, views)
	}
	for _, t := range out {
		r := recs[t.Slug]
		fmt.Fprintf(e.stdout, "  - %s: %s as of %s: killed %s, injured %s (%s)\n", t.Issuer, t.Scope.Description, t.AsOf, countText(t.Killed), countText(t.Injured), t.Slug)
		fmt.Fprintf(e.stdout, "      documented in incidents of the same scope and period: %s killed", countText(r.Documented))
		if r.Gap != nil {
			fmt.Fprintf(e.stdout, "; gap %d", *r.Gap)
		}
		fmt.Fprintln(e.stdout)
		if r.PartsSum != nil {
			verdict := "do not add up to it"
			if r.PartsMatch != nil && *r.PartsMatch {
				verdict = "add up to it"
			}
			fmt.Fprintf(e.stdout, "      its parts (%s) total %d and %s\n", strings.Join(r.Parts, ", "), *r.PartsSum, verdict)
		}
	}
	return nil
}

func runHistory(e *env, args []string) error {
	fs := flags("history")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || !record.Kind(pos[0]).Valid() {
		return badInput("give a kind and a slug: groundtruth history KIND SLUG, KIND one of %v", record.Kinds)
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	st := d.st
	hist, err := st.History(e.ctx, record.Kind(pos[0]), pos[1])
	if errors.Is(err, store.ErrNotFound) {
		return badInput("no %s with slug %q: check the kind and slug", pos[0], pos[1])
	}
	if err != nil {
		return err
	}
	for i := range hist {
		if v, ok := hist[i].Record.(*record.Victim); ok {
			pub := v.Public()
			hist[i].Record = &pub
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, hist)
	}
	for _, v := range hist {
		fmt.Fprintf(e.stdout, "v%d %s %s by %s: %s\n", v.Version, v.At.UTC().Format("2006-01-02T15:04:05Z"), v.Op, v.By, v.Reason)
	}
	return nil
}
