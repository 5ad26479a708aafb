// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"groundtruth/internal/casefile"
	"groundtruth/internal/demo"
	"groundtruth/internal/evidence"
	"groundtruth/internal/ledger"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

func runLoad(e *env, args []string) error {
	fs := flags("load")
	builtin := fs.Bool("demo", false, "load the built-in Nagorno-Karabakh case")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	var name string
	var data []byte
	switch {
	case *builtin && len(pos) == 0:
		name, data = demo.Name, demo.CaseFile()
	case !*builtin && len(pos) == 1:
		name = pos[0]
		data, err = readCaseFile(name)
		if err != nil {
			return err
		}
	default:
		return badInput("give one case file or --demo: groundtruth load FILE")
	}
	f, err := casefile.Parse(name, data)
	if err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	st, lk := d.st, d.lk
	sum, err := casefile.Load(e.ctx, st, lk, f, e.change("load case file "+name))
	if err != nil {
		return err
	}
	cp, err := e.sync(d)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "loaded %s: %d created, %d updated, %d unchanged; ledger at %d entries\n", name, sum.Created, sum.Updated, sum.Unchanged, cpSize(cp))
	return nil
}

func cpSize(cp *ledger.Checkpoint) uint64 {
	if cp == nil {
		return 0
	}
	return cp.Size
}

func readCaseFile(name string) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, badInput("cannot read case file %s: %v: check the path", name, errors.Unwrap(err))
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, casefile.MaxSize+1))
	if err != nil {
		return nil, badInput("cannot read case file %s: %v", name, err)
	}
	return b, nil
}

func runIngest(e *env, args []string) error {
	fs := flags("ingest")
	incident := fs.String("incident", "", "slug of the incident the files belong to")
	url := fs.String("url", "", "URL where the files were found (a sighting)")
	platform := fs.String("platform", "", "platform of the sighting (default: from the URL)")
	channel := fs.String("channel", "", "channel or account of the sighting (default: from the URL where known)")
	posted := fs.String("posted-at", "", "when the post appeared (2020-10-15 or RFC 3339)")
	captured := fs.String("captured-at", "", "when it was collected (default: now, when --url is given)")
	graphic := fs.Bool("graphic", false, "mark as graphic: blurred until a signed-in user asks to see it")
	personal := fs.Bool("personal-data", false, "mark as showing or naming victims or witnesses: never served publicly")
	credit := fs.String("credit", "", "attribution a publication must carry")
	noAnalyse := fs.Bool("no-analyse", false, "only preserve the files; analyse them later with groundtruth analyse --all")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return badInput("no files given: groundtruth ingest FILE... [--incident SLUG]")
	}
	sighting, err := sightingFlags(*url, *platform, *channel, *posted, *captured, e.now())
	if err != nil {
		return err
	}
	// Every input is checked before anything is stored, so that a typo in
	// the tenth path does not leave nine items half-described.
	for _, p := range files {
		if err := readable(p); err != nil {
			return err
		}
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	st, lk := d.st, d.lk
	var incidents []string
	if *incident != "" {
		ok, err := st.Exists(e.ctx, record.KindIncident, *incident)
		if err != nil {
			return err
		}
		if !ok {
			return badInput("--incident %s: no incident with that slug: see groundtruth incidents", *incident)
		}
		incidents = []string{*incident}
	}
	// Originals are stored and recorded one by one, and acknowledged in
	// groups once the ledger holds their leaves: an acknowledgement line
	// means the original, its record and its leaf are all durable.
	bar := newProgressBar(e.stderr, "ingest", len(files))
	var acks []string
	flush := func() error {
		if len(acks) == 0 {
			return nil
		}
		bar.clear() // the sync may log a warning
		if _, err := e.sync(d); err != nil {
			return err
		}
		for _, a := range acks {
			fmt.Fprintln(e.stdout, a)
		}
		acks = acks[:0]
		return nil
	}
	an := newAnalyser(e, d, bar)
	an.say = func(line string) { acks = append(acks, line) }
	for _, p := range files {
		bar.step(p)
		res, err := evidence.Ingest(e.ctx, st, lk, evidence.Input{
			Path: p, Incidents: incidents, Sighting: sighting,
			Graphic: *graphic, PersonalData: *personal, Credit: *credit,
		}, e.change("ingest "+p))
		if err != nil {
			bar.clear()
			if ferr := flush(); ferr != nil {
				return ferr
			}
			if errors.Is(err, store.ErrConflict) {
				return &inputError{err}
			}
			return err
		}
		state := "stored"
		if !res.Stored {
			state = "known"
		}
		acks = append(acks, fmt.Sprintf("%s %s %s %s", state, res.Evidence.SHA256, res.Evidence.Slug, p))
		if len(acks) >= ingestGroup {
			if err := flush(); err != nil {
				return err
			}
		}
		if !*noAnalyse && (res.Stored || !analysedBefore(e, st, res.Evidence.SHA256)) {
			if err := an.one(analysed{sum: res.Evidence.SHA256, mediaType: res.Evidence.MediaType, name: p, slug: res.Evidence.Slug}); err != nil {
				bar.clear()
				// What is stored is acknowledged all the same, even when
				// the command was interrupted.
				e.ctx = context.WithoutCancel(e.ctx)
				if ferr := flush(); ferr != nil {
					return ferr
				}
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return an.result()
}

// analysedBefore says whether an original already has an analysis, so
// that ingesting known bytes again does not redo it.
func analysedBefore(e *env, st *store.Store, sum string) bool {
	_, err := st.Media(e.ctx, sum)
	return err == nil
}

// ingestGroup is how many originals are acknowledged together: one ledger
// checkpoint per group rather than per file.
const ingestGroup = 64

func readable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return badInput("cannot read %s: %v: check the path; nothing was ingested", p, errors.Unwrap(err))
	}
	if !fi.Mode().IsRegular() {
		return badInput("%s is not a regular file: give files, not directories or devices; nothing was ingested", p)
	}
	fh, err := os.Open(p)
	if err != nil {
		return badInput("cannot read %s: %v: check its permissions; nothing was ingested", p, errors.Unwrap(err))
	}
	return fh.Close()
}

func sightingFlags(url, platform, channel, posted, captured string, now time.Time) (*record.Sighting, error) {
	if url == "" && channel == "" {
		if posted != "" || platform != "" || captured != "" {
			return nil, badInput("--posted-at, --platform and --captured-at describe a sighting: give --url or --channel too")
		}
		return nil, nil
	}
	s := &record.Sighting{URL: url, Platform: platform, Channel: channel}
	if s.Platform == "" || s.Channel == "" {
		p, c := evidence.PlatformOf(url)
		s.Platform = firstOf(s.Platform, p)
		s.Channel = firstOf(s.Channel, c)
	}
	var ok bool
	if posted != "" {
		if s.PostedAt, ok = record.ParseTime(posted); !ok {
			return nil, badInput("--posted-at %q: not a date (2020-10-15) or an RFC 3339 time (2020-10-15T09:30:00Z)", posted)
		}
	}
	if captured != "" {
		if s.CapturedAt, ok = record.ParseTime(captured); !ok {
			return nil, badInput("--captured-at %q: not a date or an RFC 3339 time", captured)
		}
	} else {
		s.CapturedAt = record.At(now)
	}
	if err := record.ValidateSighting(*s); err != nil {
		return nil, badInput("%v", err)
	}
	return s, nil
}
