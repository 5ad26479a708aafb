// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"groundtruth/internal/store"
	"groundtruth/internal/verification"
)

// loadCase reads every current record for the verification engine.
func loadCase(e *env, st *store.Store) (*verification.Case, error) {
	recs, err := st.Current(e.ctx)
	if err != nil {
		return nil, err
	}
	return verification.NewCase(recs), nil
}

func runCasualties(e *env, args []string) error {
	fs := flags("casualties")
	by := fs.String("by", "status", "group by side, status, place or month")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if !slices.Contains(verification.Groupings, *by) {
		return badInput("--by %s: group by one of %s", *by, strings.Join(verification.Groupings, ", "))
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	c, err := loadCase(e, d.st)
	if err != nil {
		return err
	}
	groups := c.CasualtiesBy(*by)
	if *asJSON {
		return writeJSON(e.stdout, struct {
			By     string               `json:"by"`
			Groups []verification.Group `json:"groups"`
			Note   string               `json:"note"`
		}{*by, groups, "documented incidents only; reported tallies are never added (see groundtruth tallies)"})
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tKILLED\tINJURED\tINCIDENTS\n", strings.ToUpper(*by))
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", g.Key, countText(g.Killed), countText(g.Injured), len(g.Incidents))
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, "Documented incidents only; reported tallies are never added (see groundtruth tallies).")
	return nil
}

// printReport prints the engine's view of an incident.
func printReport(w io.Writer, r *verification.Report) {
	g := r.Grade
	fmt.Fprintf(w, "\nGrade: %s (rule %s)", g.Grade, g.Rule)
	if g.Override != nil {
		fmt.Fprintf(w, "; overridden by %s on %s from the computed %s: %s", g.Override.By, g.Override.Date, g.Computed, g.Override.Reason)
	}
	fmt.Fprintln(w)
	section(w, "Propositions", len(r.Propositions))
	for _, v := range r.Propositions {
		fmt.Fprintf(w, "  - %s: %s", v.Proposition, v.Status)
		if v.Value != "" {
			fmt.Fprintf(w, " (%s)", v.Value)
		}
		fmt.Fprintf(w, "; for %d, against %d\n", len(v.For), len(v.Against))
	}
	section(w, "Flags", len(r.Flags))
	for _, f := range r.Flags {
		fmt.Fprintf(w, "  - %s\n      law: %s\n", f.Title, f.Law)
		for _, a := range f.Treaties {
			bound := "not bound"
			if a.Bound {
				bound = "bound"
			}
			fmt.Fprintf(w, "      %s: %s %s on %s (%s)\n", a.Name, a.State, bound, a.Date, a.Basis)
		}
	}
	fmt.Fprintf(w, "\nSummary\n%s\n", r.Summary)
}
