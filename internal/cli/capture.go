// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"groundtruth/internal/capture"
	"groundtruth/internal/intake"
	"groundtruth/internal/jobs"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

func runCapture(e *env, args []string) error {
	fs := flags("capture")
	incident := fs.String("incident", "", "slug of the incident the captured material belongs to")
	var allow multiFlag
	fs.Var(&allow, "allow", "address range the capture may reach although it is private or local, e.g. 10.1.0.0/16 (repeatable; for intranets and tests)")
	timeout := fs.Duration("timeout", capture.DefaultTimeout, "time limit of each capture")
	retries := fs.Int("retries", 0, "how many times to retry a failed capture, with growing pauses (30 s, 1 min, …)")
	urls, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *retries < 0 || *retries > 10 {
		return badInput("--retries %d: give 0 to 10", *retries)
	}
	if len(urls) == 0 {
		return badInput("no URL given: groundtruth capture URL... [--incident SLUG]")
	}
	for _, u := range urls {
		if _, err := intake.CheckCapture(intake.CaptureInput{URL: u, Allow: allow}); err != nil {
			return badInput("%v; nothing was captured", err)
		}
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	if *incident != "" {
		ok, err := d.st.Exists(e.ctx, record.KindIncident, *incident)
		if err != nil {
			return err
		}
		if !ok {
			return badInput("--incident %s: no incident with that slug: see groundtruth incidents", *incident)
		}
	}
	// The captures are queued like those from the web, and this process
	// works off its own jobs, and only those, until they are finished.
	var ids []int64
	for _, u := range urls {
		input, _ := json.Marshal(intake.CaptureInput{URL: u, Incident: *incident, Allow: allow})
		id, err := d.st.EnqueueJob(e.ctx, intake.Capture, input, 1+*retries, e.user)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	runner := jobs.New(d.st, e.jobHandlers(d, capture.Config{Timeout: *timeout}),
		jobs.Options{Poll: 200 * time.Millisecond, MaxAttempts: 1 + *retries, Only: ids})
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	err = e.waitForCaptures(ctx, d, ids)
	stop()
	<-done
	if e.ctx.Err() != nil {
		// Interrupted: the captures not finished are cancelled, not left
		// queued to start unexpectedly later.
		for _, id := range ids {
			d.st.CancelJob(context.Background(), id, e.user)
		}
	}
	return err
}

// waitForCaptures reports each capture's stages on stderr and its result
// on stdout as it ends.
func (e *env) waitForCaptures(ctx context.Context, d *data, ids []int64) error {
	last := map[int64]string{}
	pending := slices.Clone(ids)
	var failed, refused []string
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for len(pending) > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		for _, id := range slices.Clone(pending) {
			j, err := d.st.Job(ctx, id)
			if err != nil {
				return err
			}
			var in intake.CaptureInput
			json.Unmarshal(j.Input, &in)
			if j.Progress != last[id] && j.State == store.JobRunning {
				last[id] = j.Progress
				fmt.Fprintf(e.stderr, "capture %d %s: %s\n", id, in.URL, j.Progress)
			}
			switch j.State {
			case store.JobDone:
				var out intake.CaptureOutput
				json.Unmarshal(j.Result, &out)
				for _, it := range out.Items {
					fmt.Fprintf(e.stdout, "captured %s %s %s %s\n", it.Role, it.SHA256, it.Slug, in.URL)
				}
				for _, f := range out.Failures {
					fmt.Fprintf(e.stderr, "capture %d %s: %s\n", id, in.URL, oneLine(errors.New(f)))
				}
			case store.JobFailed, store.JobCancelled:
				fmt.Fprintf(e.stderr, "capture %d %s: %s: %s\n", id, in.URL, j.State, j.Error)
				if strings.Contains(j.Error, "resolves to a non-public address") {
					refused = append(refused, in.URL)
				} else {
					failed = append(failed, in.URL)
				}
			case store.JobQueued:
				if j.Attempts > 0 && j.Error != "" && last[id] != "retry "+j.Error {
					last[id] = "retry " + j.Error
					fmt.Fprintf(e.stderr, "capture %d %s: will retry after: %s\n", id, in.URL, j.Error)
				}
				continue
			default:
				continue
			}
			pending = slices.DeleteFunc(pending, func(x int64) bool { return x == id })
		}
	}
	switch {
	case len(refused) > 0:
		return badInput("refused %s: resolves to a non-public address; allow it with --allow if intended", strings.Join(refused, ", "))
	case len(failed) > 0:
		return fmt.Errorf("%d of %d capture(s) failed: %s", len(failed), len(ids), strings.Join(failed, ", "))
	}
	return nil
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
