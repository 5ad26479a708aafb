// SPDX-License-Identifier: Apache-2.0

// Package intake is the work that brings material into groundtruth through
// the job queue: capturing web pages and posts, and analysing originals
// for their copies. The command line and the web server run the same
// handlers.
package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"groundtruth/internal/capture"
	"groundtruth/internal/evidence"
	"groundtruth/internal/jobs"
	"groundtruth/internal/ledger"
	"groundtruth/internal/locker"
	"groundtruth/internal/media"
	"groundtruth/internal/media/pdq"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// Env is what the handlers work on: a data directory's parts.
type Env struct {
	Store   *store.Store
	Locker  *locker.Locker
	Derived *locker.Locker
	Ledger  *ledger.Ledger
	// Capture holds the operator's capture settings. Its Allow ranges
	// come from flags, never from a job's submitter.
	Capture capture.Config
	Now     func() time.Time
}

// Kinds of job.
const (
	Analyse = "analyse"
	Capture = "capture"
)

// AnalyseInput is an analyse job's input: an original already stored.
type AnalyseInput struct {
	SHA256    string `json:"sha256"`
	MediaType string `json:"media_type"`
	Name      string `json:"name"`
	Slug      string `json:"slug"`
}

// CaptureInput is a capture job's input.
type CaptureInput struct {
	URL      string `json:"url"`
	Incident string `json:"incident,omitempty"`
	// Allow lists address ranges the guard lets through for this capture.
	// Only the command line sets it, for its own operator.
	Allow []string `json:"allow,omitempty"`
}

// CaptureOutput is a capture job's result: what was kept, and what went
// wrong along the way without stopping it.
type CaptureOutput struct {
	URL      string         `json:"url"`
	FinalURL string         `json:"final_url,omitempty"`
	Title    string         `json:"title,omitempty"`
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Items    []CapturedItem `json:"items"`
	Failures []string       `json:"failures,omitempty"`
}

// CapturedItem is one evidence item a capture produced.
type CapturedItem struct {
	Slug   string `json:"slug"`
	Role   string `json:"role"`
	SHA256 string `json:"sha256"`
}

// Handlers returns the job handlers for env.
func Handlers(env Env) map[string]jobs.Handler {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Capture.Software == "" {
		env.Capture.Software = "groundtruth"
	}
	lib := media.NewLibrary(env.Store, env.Locker, pdq.MatchThreshold)
	return map[string]jobs.Handler{
		Analyse: env.analyse(lib),
		Capture: env.capture(lib),
	}
}

func (env Env) analyse(lib *media.Library) jobs.Handler {
	return func(ctx context.Context, job *store.Job, progress func(string)) ([]byte, error) {
		var in AnalyseInput
		if err := json.Unmarshal(job.Input, &in); err != nil {
			return nil, jobs.Permanent(fmt.Errorf("analyse job %d: bad input: %w", job.ID, err))
		}
		if env.analysed(ctx, in.SHA256) {
			return json.Marshal(map[string]any{"slug": in.Slug, "already_analysed": true})
		}
		progress("analysing " + in.Slug)
		rep, err := lib.Process(ctx, env.Locker, env.Derived, in.SHA256, in.MediaType, in.Name, env.Now())
		if err != nil {
			return nil, err
		}
		// A file that cannot be analysed is recorded as such on the item:
		// the job did its work and is not retried.
		out := map[string]any{"slug": in.Slug, "matches": len(rep.Found)}
		if rep.Failure != nil {
			out["failure"] = media.OneLine(rep.Failure.Error())
		}
		return json.Marshal(out)
	}
}

// analysed says whether an original already has a successful analysis,
// which a new upload or capture of the same bytes must not replace.
func (env Env) analysed(ctx context.Context, sum string) bool {
	m, err := env.Store.Media(ctx, sum)
	return err == nil && m.Status == store.MediaAnalysed
}

// CheckCapture refuses what no retry can fix: a URL that is not http(s),
// an address range that does not parse.
func CheckCapture(in CaptureInput) ([]netip.Prefix, error) {
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http or https URL: give the address of the post or page", in.URL)
	}
	var allow []netip.Prefix
	for _, a := range in.Allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return nil, fmt.Errorf("allow %q: give an address range such as 10.0.0.0/8 or 127.0.0.1/32", a)
		}
		allow = append(allow, p)
	}
	return allow, nil
}

// capture archives a URL: everything the capture wrote goes into the
// locker and the ledger as evidence, each with a sighting of the URL at
// the capture time; Telegram's forwarded-from header becomes a provenance
// sighting; photos and videos are analysed for copies.
func (env Env) capture(lib *media.Library) jobs.Handler {
	return func(ctx context.Context, job *store.Job, progress func(string)) ([]byte, error) {
		var in CaptureInput
		if err := json.Unmarshal(job.Input, &in); err != nil {
			return nil, jobs.Permanent(fmt.Errorf("capture job %d: bad input: %w", job.ID, err))
		}
		allow, err := CheckCapture(in)
		if err != nil {
			return nil, jobs.Permanent(err)
		}
		cfg := env.Capture
		cfg.Allow = append(slices.Clone(cfg.Allow), allow...)
		dir, err := os.MkdirTemp("", "groundtruth-capture-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		res, err := capture.Capture(ctx, cfg, in.URL, dir, progress)
		if err == nil && ctx.Err() != nil {
			// Cancelled, or the server is stopping: what was fetched until
			// then is not stored as if it were the capture; the job is
			// cancelled or taken up again whole.
			return nil, context.Cause(ctx)
		}
		if err != nil {
			if errors.Is(err, capture.ErrBlocked) || strings.Contains(err.Error(), "only http and https") {
				return nil, jobs.Permanent(err)
			}
			return nil, err
		}
		progress("storing")
		// From the first stored item on, a retry would capture the page
		// again and store a second set of items: errors are final, and
		// what was stored is kept and reported.
		out := CaptureOutput{URL: res.URL, FinalURL: res.FinalURL, Title: res.Title, Started: res.Started, Finished: res.Finished, Failures: res.Failures}
		type pending struct{ sum, mediaType, name, slug string }
		var toAnalyse []pending
		for _, f := range res.Files {
			ev, err := env.keep(ctx, job, in, res, f, dir)
			if err != nil {
				return nil, jobs.Permanent(fmt.Errorf("storing %s of the capture (%d item(s) stored before): %w", f.Role, len(out.Items), err))
			}
			out.Items = append(out.Items, CapturedItem{Slug: ev.Slug, Role: f.Role, SHA256: ev.SHA256})
			if f.Role == "media" || f.Role == "screenshot" {
				toAnalyse = append(toAnalyse, pending{ev.SHA256, ev.MediaType, f.Name, ev.Slug})
			}
		}
		if env.Ledger != nil {
			cp, err := env.Ledger.Sync(ctx, env.Store)
			if err != nil {
				// The items are stored and their leaves wait in the
				// database; the next sync appends them.
				return nil, jobs.Permanent(fmt.Errorf("ledger: %w (the capture's items are stored; groundtruth verify completes the log)", err))
			}
			// Trusted timestamps of the checkpoint that covers the capture,
			// from the authorities configured for the ledger. A failing
			// authority is a problem to report, not a failed capture: the
			// capture is durable and logged without it.
			for _, err := range env.Ledger.Timestamp(ctx, tsaClient, cp) {
				out.Failures = append(out.Failures, "timestamp not obtained: "+media.OneLine(err.Error()))
			}
		}
		for _, it := range toAnalyse {
			if env.analysed(ctx, it.sum) {
				continue // bytes already held and analysed: a second capture of the same image
			}
			progress("analysing " + it.name)
			rep, err := lib.Process(ctx, env.Locker, env.Derived, it.sum, it.mediaType, it.name, env.Now())
			if err != nil {
				out.Failures = append(out.Failures, fmt.Sprintf("%s: not analysed: %s; run groundtruth analyse %s", it.slug, media.OneLine(err.Error()), it.slug))
				continue
			}
			if rep.Failure != nil {
				out.Failures = append(out.Failures, fmt.Sprintf("%s: cannot analyse: %s", it.slug, media.OneLine(rep.Failure.Error())))
			}
		}
		return json.Marshal(out)
	}
}

// keep stores one file of a capture as an evidence item.
func (env Env) keep(ctx context.Context, job *store.Job, in CaptureInput, res *capture.Result, f capture.File, dir string) (*record.Evidence, error) {
	platform, channel := evidence.PlatformOf(res.URL)
	sighting := record.Sighting{URL: res.URL, Platform: platform, Channel: channel, CapturedAt: record.At(res.Started)}
	if f.SourceURL != "" && f.SourceURL != res.URL {
		sighting.Note = "fetched from " + f.SourceURL + " while capturing the page"
	}
	if tg := res.Telegram; tg != nil {
		sighting.URL, sighting.Platform, sighting.Channel = tg.URL, "telegram", tg.Channel
		if !tg.PostedAt.IsZero() {
			sighting.PostedAt = record.At(tg.PostedAt)
		}
		if tg.Forwarded != nil {
			sighting.ForwardedFrom = tg.Forwarded.Name
			if tg.Forwarded.Channel != "" {
				sighting.ForwardedFrom = tg.Forwarded.Channel
			}
		}
	}
	title := f.Role + " of " + res.URL
	if res.Title != "" {
		title = f.Role + " of “" + res.Title + "” (" + res.URL + ")"
	}
	var incidents []string
	if in.Incident != "" {
		incidents = []string{in.Incident}
	}
	path := filepath.Join(dir, filepath.FromSlash(f.Path))
	r, err := evidence.Ingest(ctx, env.Store, env.Locker, evidence.Input{
		Path: path, Filename: f.Name, Title: title, Incidents: incidents, Sighting: &sighting,
	}, store.Change{By: job.CreatedBy, At: env.Now(), Reason: fmt.Sprintf("capture of %s (job %d)", res.URL, job.ID)})
	if err != nil {
		return nil, err
	}
	// The forwarded-from header names an earlier post: a lead towards the
	// first appearance, recorded on the media as a sighting of its own,
	// from the header, not captured.
	if tg := res.Telegram; f.Role == "media" && tg != nil && tg.Forwarded != nil && tg.Forwarded.URL != "" {
		origin := record.Sighting{URL: tg.Forwarded.URL, Platform: "telegram", Channel: tg.Forwarded.Channel,
			Note: "named by the forwarded-from header of " + tg.URL + "; not captured"}
		if _, err := evidence.Ingest(ctx, env.Store, env.Locker, evidence.Input{Path: path, Sighting: &origin},
			store.Change{By: job.CreatedBy, At: env.Now(), Reason: "forwarded-from header of " + tg.URL}); err != nil {
			return nil, err
		}
	}
	return r.Evidence, nil
}

// tsaClient is the HTTP client for time-stamping authorities.
var tsaClient = &http.Client{Timeout: 15 * time.Second}
