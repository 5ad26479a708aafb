// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"groundtruth/internal/evidence"
	"groundtruth/internal/media"
	"groundtruth/internal/media/pdq"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// analysed is one original to analyse after ingest.
type analysed struct {
	sum, mediaType, name, slug string
}

// analyser analyses originals one by one, records the results and prints
// the near-duplicates found. A file that cannot be analysed stays stored;
// the failure is recorded on it and reported, and the command ends with
// exit status 2 once everything else is done.
type analyser struct {
	e      *env
	d      *data
	lib    *media.Library
	bar    *progressBar
	n      int
	failed []string
	// say prints a result line; ingest holds them back until the lines
	// acknowledging the files are printed.
	say func(string)
}

func newAnalyser(e *env, d *data, bar *progressBar) *analyser {
	a := &analyser{e: e, d: d, lib: media.NewLibrary(d.st, d.lk, pdq.MatchThreshold), bar: bar}
	a.say = func(line string) {
		a.bar.clear()
		fmt.Fprintln(e.stdout, line)
	}
	return a
}

func (a *analyser) one(it analysed) error {
	a.n++
	rep, err := a.lib.Process(a.e.ctx, a.d.lk, a.d.derived, it.sum, it.mediaType, it.name, a.e.now())
	if err != nil {
		return err
	}
	if rep.Failure != nil {
		a.bar.clear()
		fmt.Fprintf(a.e.stderr, "groundtruth: %s (%s): cannot analyse: %s; the original is stored and the failure recorded on it\n", it.slug, it.name, oneLine(rep.Failure))
		a.failed = append(a.failed, it.slug)
		return nil
	}
	for _, f := range rep.Found {
		a.say(fmt.Sprintf("match %s %s", it.slug, describeFound(a.e, a.d.st, f)))
	}
	return nil
}

// result is the command's outcome once every file was handled.
func (a *analyser) result() error {
	a.bar.done()
	if len(a.failed) > 0 {
		return badInput("%d of %d file(s) could not be analysed (%s): they are stored; see groundtruth show SLUG", len(a.failed), a.n, strings.Join(a.failed, ", "))
	}
	return nil
}

// describeFound is one line about a near-duplicate: which item, how close,
// and what was undone to find it.
func describeFound(e *env, st *store.Store, f media.Found) string {
	name := f.SHA256[:12]
	if ev, err := st.EvidenceBySHA256(e.ctx, f.SHA256); err == nil {
		name = ev.Slug
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s distance %d", name, f.Distance)
	if f.Transform != "" {
		fmt.Fprintf(&b, " (%s)", f.Transform)
	}
	if f.QueryPercent != nil {
		fmt.Fprintf(&b, "; %.0f%% of this video's frames found in it, %.0f%% of its frames found in this one", *f.QueryPercent, *f.ComparedPercent)
	}
	if f.FrameSeconds != nil {
		fmt.Fprintf(&b, "; frame at %.0f s", *f.FrameSeconds)
	}
	return b.String()
}

func runAnalyse(e *env, args []string) error {
	fs := flags("analyse")
	all := fs.Bool("all", false, "analyse every original that has not been analysed yet")
	slugs, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *all == (len(slugs) > 0) {
		return badInput("give evidence slugs to (re-)analyse, or --all for every original not analysed yet")
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	var items []analysed
	if *all {
		sums, err := d.st.Unanalysed(e.ctx)
		if err != nil {
			return err
		}
		for _, s := range sums {
			it := analysed{sum: s, name: s[:12], slug: s[:12]}
			if ev, err := d.st.EvidenceBySHA256(e.ctx, s); err == nil {
				it.mediaType, it.name, it.slug = ev.MediaType, ev.Filename, ev.Slug
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if it.mediaType == "" {
				if it.mediaType, err = sniffLocker(d, s); err != nil {
					return err
				}
			}
			items = append(items, it)
		}
	}
	for _, slug := range slugs {
		r, err := d.st.Get(e.ctx, record.KindEvidence, slug)
		if errors.Is(err, store.ErrNotFound) {
			return badInput("no evidence item %q: see groundtruth evidence", slug)
		}
		if err != nil {
			return err
		}
		ev := r.Record.(*record.Evidence)
		items = append(items, analysed{sum: ev.SHA256, mediaType: ev.MediaType, name: ev.Filename, slug: ev.Slug})
	}
	an := newAnalyser(e, d, newProgressBar(e.stderr, "analyse", len(items)))
	for _, it := range items {
		an.bar.step(it.name)
		if err := an.one(it); err != nil {
			an.bar.done()
			return err
		}
	}
	if err := an.result(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "analysed %d original(s)\n", len(items))
	return nil
}

func sniffLocker(d *data, sum string) (string, error) {
	f, err := d.lk.Open(sum)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, evidence.SniffLen)
	n, _ := io.ReadFull(f, head)
	return evidence.Sniff(head[:n]), nil
}

func runMatch(e *env, args []string) error {
	fs := flags("match")
	asJSON := fs.Bool("json", false, "print JSON")
	maxDistance := fs.Int("max-distance", 31, "largest Hamming distance taken as a match: PDQ's own threshold, 31, or a stricter one")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return badInput("give one file: groundtruth match FILE [--json]")
	}
	if *maxDistance < 0 || *maxDistance > 31 {
		return badInput("--max-distance %d: give 0 to 31 (beyond PDQ's threshold of 31 unrelated pictures start to match)", *maxDistance)
	}
	path := files[0]
	if err := readable(path); err != nil {
		return badInput("%s", strings.Replace(err.Error(), "nothing was ingested", "nothing was matched", 1))
	}
	sum, mediaType, err := digestAndSniff(path)
	if err != nil {
		return err
	}
	d, err := e.open()
	if err != nil {
		return err
	}
	defer d.Close()
	a, aerr := media.Analyse(e.ctx, path, mediaType, path, "")
	switch {
	case a == nil:
		return fmt.Errorf("%s: %s", path, oneLine(aerr)) // the machine's problem, not the file's
	case aerr != nil:
		return badInput("%s: cannot analyse: %s", path, oneLine(aerr))
	}
	if a.Kind == media.Other {
		return badInput("%s is %s, not an image or video groundtruth can match", path, mediaType)
	}
	found, err := media.NewLibrary(d.st, d.lk, *maxDistance).Match(e.ctx, a, "")
	if err != nil {
		return err
	}
	if *asJSON {
		type matchView struct {
			Slug string `json:"slug,omitempty"`
			media.Found
			Identical bool `json:"identical"`
		}
		out := struct {
			File    string      `json:"file"`
			SHA256  string      `json:"sha256"`
			Kind    string      `json:"kind"`
			Matches []matchView `json:"matches"`
		}{File: path, SHA256: sum, Kind: a.Kind, Matches: []matchView{}}
		for _, f := range found {
			v := matchView{Found: f, Identical: f.SHA256 == sum}
			if ev, err := d.st.EvidenceBySHA256(e.ctx, f.SHA256); err == nil {
				v.Slug = ev.Slug
			}
			out.Matches = append(out.Matches, v)
		}
		return writeJSON(e.stdout, out)
	}
	if len(found) == 0 {
		fmt.Fprintf(e.stdout, "no match for %s (%s) among the analysed originals\n", path, a.Kind)
		return nil
	}
	for _, f := range found {
		line := describeFound(e, d.st, f)
		if f.SHA256 == sum {
			line += "; identical bytes"
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}

func digestAndSniff(path string) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", badInput("cannot read %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	head := make([]byte, evidence.SniffLen)
	n, _ := io.ReadFull(f, head)
	h := sha256.New()
	h.Write(head[:n])
	if _, err := io.Copy(h, f); err != nil {
		return "", "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), evidence.Sniff(head[:n]), nil
}

// progressBar draws one line on a terminal while many files are
// processed. It draws nothing when w is not a terminal, so logs and pipes
// get only the result lines.
type progressBar struct {
	w       io.Writer
	label   string
	total   int
	n       int
	started time.Time
	drawn   bool
	now     func() time.Time
}

func newProgressBar(w io.Writer, label string, total int) *progressBar {
	if !isTerminal(w) || total < 2 {
		return &progressBar{}
	}
	return &progressBar{w: w, label: label, total: total, started: time.Now(), now: time.Now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// step draws the bar before item name is processed.
func (p *progressBar) step(name string) {
	if p.w == nil {
		return
	}
	p.n++
	fmt.Fprint(p.w, "\r\033[K"+renderBar(p.label, p.n-1, p.total, p.now().Sub(p.started), name, 30))
	p.drawn = true
}

// clear removes the bar so that a message can be printed; the next step
// draws it again.
func (p *progressBar) clear() {
	if p.w != nil && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *progressBar) done() {
	if p.w == nil {
		return
	}
	fmt.Fprint(p.w, "\r\033[K"+renderBar(p.label, p.total, p.total, p.now().Sub(p.started), "", 30)+"\n")
	p.w = nil
}

// renderBar is the bar's text: label, bar, count, rate and the current
// file's name, shortened to keep the line short.
func renderBar(label string, done, total int, elapsed time.Duration, name string, width int) string {
	if total <= 0 {
		total = 1
	}
	filled := min(width, done*width/total)
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s%s] %d/%d", label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
	if secs := elapsed.Seconds(); done > 0 && secs > 0 {
		fmt.Fprintf(&b, " %.1f/s", float64(done)/secs)
	}
	if name != "" {
		if r := []rune(name); len(r) > 40 {
			name = "…" + string(r[len(r)-39:])
		}
		b.WriteString(" " + name)
	}
	return b.String()
}

// printMedia is the text form of an original's analysis in show.
func printMedia(w io.Writer, v *media.View) {
	if v == nil {
		fmt.Fprintln(w, "    media:    not analysed (groundtruth analyse SLUG)")
		return
	}
	if v.Status == store.MediaFailed {
		fmt.Fprintf(w, "    media:    %s, analysis failed: %s\n", v.Kind, v.Error)
		return
	}
	frames := 0
	for _, h := range v.Hashes {
		if h.Seconds != nil && h.Kind == "pdq" {
			frames++
		}
	}
	switch {
	case frames > 0:
		fmt.Fprintf(w, "    media:    video, %d frame hashes (vPDQ, 1 per second), %d keyframes\n", frames, len(v.Keyframes))
	case len(v.Hashes) > 0:
		fmt.Fprintf(w, "    media:    image, PDQ %s (quality %d)\n", v.Hashes[0].PDQ, v.Hashes[0].Quality)
	default:
		fmt.Fprintf(w, "    media:    %s\n", v.Kind)
	}
	if len(v.Metadata) > 0 {
		fmt.Fprintf(w, "    metadata: %s\n", v.Metadata)
	}
	g := v.Group
	if g == nil {
		return
	}
	fmt.Fprintf(w, "    group:    %d near-duplicates\n", len(g.Members))
	for _, l := range g.Links {
		line := fmt.Sprintf("      %s ~ %s distance %d", l.A[:12], l.B[:12], l.Distance)
		if l.Transform != "" {
			line += " (" + l.Transform + ")"
		}
		if l.APercent != nil && l.BPercent != nil {
			line += fmt.Sprintf(" %.0f%% / %.0f%%", *l.APercent, *l.BPercent)
		}
		fmt.Fprintln(w, line)
	}
	for i, s := range g.Sightings {
		mark := " "
		if i == 0 && g.FirstKnown != nil {
			mark = "*"
		}
		posted := "posting time unknown"
		if !s.PostedAt.IsZero() {
			posted = "posted " + s.PostedAt.String()
		}
		fmt.Fprintf(w, "     %s %s %s %s %s\n", mark, posted, s.Slug, s.Platform, s.URL)
	}
	if g.FirstKnown != nil {
		fmt.Fprintf(w, "      * %s\n", g.Caveat)
	}
}
