// SPDX-License-Identifier: Apache-2.0

package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/disclosure"
	"groundtruth/internal/locker"
	"groundtruth/internal/media"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
	"groundtruth/internal/verification"
)

// revealWindow is how long a logged reveal of graphic media lasts.
const revealWindow = 10 * time.Minute

// incident returns an incident, as the principal reads it, if the
// principal may see it.
func (s *server) incident(r *http.Request, slug string) (*record.Incident, bool) {
	st, err := s.st.Get(r.Context(), record.KindIncident, slug)
	if err != nil || st.Retired {
		return nil, false
	}
	role := who(r).role
	i := st.Record.(*record.Incident)
	if !s.policy.Incident(role, i) {
		return nil, false
	}
	return s.policy.Record(role, i).(*record.Incident), true
}

// evidence returns an evidence item, as the principal reads it, if the
// principal may see its record.
func (s *server) evidence(r *http.Request, slug string) (*record.Evidence, bool) {
	if !disclosure.SeesDrafts(who(r).role) {
		return s.publicEvidence(r, slug)
	}
	st, err := s.st.Get(r.Context(), record.KindEvidence, slug)
	if err != nil || st.Retired {
		return nil, false
	}
	return st.Record.(*record.Evidence), true
}

func (s *server) revealed(r *http.Request, slug string) bool {
	p := who(r)
	if p.user == "" {
		return false
	}
	ok, err := s.st.AccessedSince(r.Context(), p.user, "reveal_graphic", slug, time.Now().Add(-revealWindow))
	return err == nil && ok
}

func (s *server) incidentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	c, err := s.loadCase(r)
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	rep := s.report(c, i.Slug)
	var place string
	if p, ok := c.Places[i.Place]; ok {
		place = verification.PlaceName(p, verification.BothNames)
		for _, n := range p.Names {
			if n.Name != place {
				place += " · " + n.Name
			}
		}
	}
	victims := s.visibleVictims(r, c, i.Slug)
	items, err := s.st.Referring(ctx, record.KindEvidence, record.KindIncident, i.Slug)
	if err != nil {
		s.fail(w, r, "list evidence", err)
		return
	}
	var evidence []*record.Evidence
	for _, it := range items {
		if ev, ok := s.evidence(r, it.Record.Key()); ok {
			evidence = append(evidence, ev)
		}
	}
	// Every sighting of the incident's evidence, earliest known first: the
	// first is the earliest known appearance, not necessarily the first.
	type sighting struct {
		record.Sighting
		Evidence string
	}
	var sightings []sighting
	for _, ev := range evidence {
		for _, si := range ev.Sightings {
			sightings = append(sightings, sighting{si, ev.Slug})
		}
	}
	sort.SliceStable(sightings, func(a, b int) bool {
		x, y := sightings[a].PostedAt, sightings[b].PostedAt
		return !x.IsZero() && (y.IsZero() || x.Std().Before(y.Std()))
	})
	var history []store.Version
	if account.Allows(who(r).role, account.ReadAll) {
		history, _ = s.st.History(ctx, record.KindIncident, i.Slug)
	}
	var investigations []*record.Investigation
	for _, v := range c.Investigations {
		if v.IncidentSlug == i.Slug {
			investigations = append(investigations, v)
		}
	}
	s.render(w, r, http.StatusOK, "incident.html", map[string]any{
		"I": i, "Place": place, "Report": rep, "Victims": victims, "Evidence": evidence,
		"History": history, "Investigations": investigations, "Sightings": sightings, "Names": c.ActorName, "Static": staticPrefix(),
	})
}

func (s *server) evidencePage(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.evidence(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	sightings := slices.Clone(ev.Sightings)
	sort.SliceStable(sightings, func(i, j int) bool {
		a, b := sightings[i].PostedAt, sightings[j].PostedAt
		return !a.IsZero() && (b.IsZero() || a.Std().Before(b.Std()))
	})
	var index any
	if leaves, err := s.st.LeavesOf(r.Context(), store.BlobKind, ev.SHA256); err == nil && len(leaves) > 0 && leaves[0].Index >= 0 {
		index = leaves[0].Index
	}
	p := who(r)
	mv, err := s.mediaView(r, ev)
	if err != nil {
		s.fail(w, r, "media analysis", err)
		return
	}
	var metadata string
	if mv != nil && len(mv.Metadata) > 0 {
		var b bytes.Buffer
		if json.Indent(&b, mv.Metadata, "", "  ") == nil {
			metadata = b.String()
		}
	}
	s.render(w, r, http.StatusOK, "evidence.html", map[string]any{
		"E": ev, "Sightings": sightings, "LedgerIndex": index, "Media": mv, "Metadata": metadata,
		"CanFetch": s.mayFetch(r, ev) == nil, "Revealed": s.revealed(r, ev.Slug),
		"CanReveal": ev.Graphic && account.Allows(p.role, account.RevealGraphic),
		"Image":     mediaKind(ev.MediaType) == "image", "Video": mediaKind(ev.MediaType) == "video",
	})
}

// mediaView is an item's analysis as the reader may see it: group
// members only where the reader may see their records, and the metadata
// a file carries (camera, GPS, times), which can identify the person who
// filmed, only for signed-in readers.
func (s *server) mediaView(r *http.Request, ev *record.Evidence) (*media.View, error) {
	mv, err := media.Describe(r.Context(), s.st, ev.SHA256, func(m *record.Evidence) bool {
		_, ok := s.evidence(r, m.Slug)
		return ok
	})
	if mv != nil && (!account.Allows(who(r).role, account.ReadAll) || s.mayFetch(r, ev) != nil) {
		mv.Metadata = nil // only for readers who may see the original itself
	}
	return mv, err
}

// keyframe serves one keyframe of an evidence item's video, under the
// same rules as the original it was taken from.
func (s *server) keyframe(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.evidence(r, r.PathValue("slug"))
	if !ok || s.derived == nil {
		http.NotFound(w, r)
		return
	}
	if err := s.mayFetch(r, ev); err != nil {
		apiError(w, http.StatusForbidden, err.Error())
		return
	}
	files, err := s.st.MediaFiles(r.Context(), ev.SHA256)
	if err != nil {
		s.fail(w, r, "keyframes", err)
		return
	}
	sum := r.PathValue("sha")
	if !slices.ContainsFunc(files, func(f store.MediaFile) bool { return f.Role == "keyframe" && f.File == sum }) {
		http.NotFound(w, r)
		return
	}
	f, err := s.derived.Open(sum)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, no-store")
	io.Copy(w, f)
}

// mayFetch says whether the principal may download an item's original.
func (s *server) mayFetch(r *http.Request, ev *record.Evidence) error {
	role := who(r).role
	switch {
	case !account.Allows(role, account.ReadAll):
		if ev.Graphic {
			return errors.New("graphic media is not served publicly")
		}
		return nil // publicEvidence already excluded personal data
	case ev.PersonalData && !account.Allows(role, account.ReadPersonal):
		return errors.New("this original shows or names victims or witnesses: editors and admins only")
	case ev.Graphic && !s.revealed(r, ev.Slug):
		return errors.New("graphic media: reveal it first, the view is logged")
	}
	return nil
}

func (s *server) reveal(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.evidence(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := s.st.LogAccess(r.Context(), store.Access{At: time.Now(), User: who(r).user, Action: "reveal_graphic", Subject: ev.Slug}); err != nil {
		s.fail(w, r, "access log", err)
		return
	}
	http.Redirect(w, r, "/evidence/"+ev.Slug, http.StatusSeeOther)
}

// inlineTypes are served inline; anything else (HTML, SVG, scripts,
// unknown) is served as an attachment of type application/octet-stream,
// so that an original can never run script in groundtruth's origin.
var inlineTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4", "video/webm", "video/quicktime", "audio/mpeg", "audio/mp4"}

func mediaKind(mt string) string {
	if !slices.Contains(inlineTypes, mt) {
		return ""
	}
	if len(mt) > 5 && mt[:5] == "image" {
		return "image"
	}
	return "video"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (s *server) original(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, ok := s.evidence(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := s.mayFetch(r, ev); err != nil {
		apiError(w, http.StatusForbidden, err.Error())
		return
	}
	// The hash is checked on every read that serves an original.
	if err := s.lk.Check(ev.SHA256); err != nil {
		if errors.Is(err, locker.ErrIntegrity) || errors.Is(err, locker.ErrNotFound) {
			s.log.ErrorContext(ctx, "original failed its check", "evidence", ev.Slug)
			http.Error(w, "the original failed its integrity check: run groundtruth verify", http.StatusInternalServerError)
			return
		}
		s.fail(w, r, "check original", err)
		return
	}
	f, err := os.Open(s.lk.Path(ev.SHA256))
	if err != nil {
		s.fail(w, r, "open original", err)
		return
	}
	defer f.Close()
	if p := who(r); p.user != "" {
		s.st.LogAccess(ctx, store.Access{At: time.Now(), User: p.user, Action: "download_original", Subject: ev.Slug})
	}
	name := unsafeName.ReplaceAllString(filepath.Base(ev.Filename), "_")
	if name == "" || name == "." || name == ".." {
		name = ev.Slug
	}
	mt, disposition := ev.MediaType, "inline"
	if !slices.Contains(inlineTypes, mt) {
		mt, disposition = "application/octet-stream", "attachment"
	}
	w.Header().Set("Content-Type", mt)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// visibleVictims returns an incident's victims as the principal may see
// them: with names and notes for those who may read personal data,
// otherwise as initials only.
func (s *server) visibleVictims(r *http.Request, c *verification.Case, incident string) []record.Victim {
	out := []record.Victim{}
	for _, v := range c.Victims {
		if v.IncidentSlug == incident {
			out = append(out, s.policy.Victim(who(r).role, v))
		}
	}
	return out
}
