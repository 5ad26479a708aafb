// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"fmt"

	"groundtruth/internal/capture"
	"groundtruth/internal/intake"
	"groundtruth/internal/jobs"
	"groundtruth/internal/store"
)

// jobHandlers returns the work the queue can do in this data directory.
// Captures use cfg, whose Allow ranges come from the operator's flags.
func (e *env) jobHandlers(d *data, cfg capture.Config) map[string]jobs.Handler {
	return intake.Handlers(intake.Env{Store: d.st, Locker: d.lk, Derived: d.derived, Ledger: d.lg, Capture: cfg, Now: e.now})
}

func runJobs(e *env, args []string) error {
	fs := flags("jobs")
	asJSON := fs.Bool("json", false, "print JSON")
	state := fs.String("state", "", "only jobs in this state: queued, running, done, failed or cancelled")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	switch *state {
	case "", store.JobQueued, store.JobRunning, store.JobDone, store.JobFailed, store.JobCancelled:
	default:
		return badInput("--state %q: give queued, running, done, failed or cancelled", *state)
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := d.st.Jobs(e.ctx, store.JobFilter{State: *state})
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []store.Job{}
		}
		return writeJSON(e.stdout, list)
	}
	for _, j := range list {
		line := fmt.Sprintf("%d %s %s attempt %d/%d %s", j.ID, j.Kind, j.State, j.Attempts, j.MaxAttempts, j.Input)
		switch {
		case j.State == store.JobRunning && j.Progress != "":
			line += ": " + j.Progress
		case j.Error != "":
			line += ": " + j.Error
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}
