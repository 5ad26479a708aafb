// SPDX-License-Identifier: Apache-2.0

package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"groundtruth/internal/account"
	"groundtruth/internal/disclosure"
	"groundtruth/internal/evidence"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
)

// formRoutes are the forms that create and edit records, and search.
// Every form asks for a reason, which lands in the record's history.
func (s *server) formRoutes() []route {
	return []route{
		{"GET", "/search", account.ReadPublished, s.searchPage},
		{"GET", "/api/v1/search", account.ReadPublished, s.apiSearch},
		{"GET", "/incidents/new", account.WriteRecords, s.incidentForm},
		{"GET", "/incidents/{slug}/edit", account.WriteRecords, s.incidentForm},
		{"POST", "/incidents", account.WriteRecords, s.saveIncident},
		{"GET", "/incidents/{slug}/assessments/new", account.WriteFindings, s.assessmentForm},
		{"POST", "/incidents/{slug}/assessments", account.WriteFindings, s.saveAssessment},
		{"POST", "/incidents/{slug}/evidence", account.WriteFindings, s.upload},
		{"GET", "/incidents/{slug}/claims/new", account.WriteFindings, s.claimForm},
		{"POST", "/incidents/{slug}/claims", account.WriteFindings, s.saveClaim},
		{"GET", "/incidents/{slug}/casualties/new", account.WriteFindings, s.casualtyForm},
		{"POST", "/incidents/{slug}/casualties", account.WriteFindings, s.saveCasualty},
		{"GET", "/compare", account.ReadPublished, s.comparePage},
	}
}

func (s *server) claimForm(w http.ResponseWriter, r *http.Request) {
	s.findingForm(w, r, "form_claim.html", &record.Claim{Date: record.At(time.Now())}, "")
}

func (s *server) casualtyForm(w http.ResponseWriter, r *http.Request) {
	s.findingForm(w, r, "form_casualty.html", &record.Casualty{Status: record.Unknown}, "")
}

// findingForm renders a form for a record of an incident, with an error.
func (s *server) findingForm(w http.ResponseWriter, r *http.Request, page string, rec record.Record, msg string) {
	s.findingFormStatus(w, r, page, rec, msg, http.StatusBadRequest)
}

// findingFormStatus renders a form for a record of an incident, with an
// error and the status it answers with.
func (s *server) findingFormStatus(w http.ResponseWriter, r *http.Request, page string, rec record.Record, msg string, errCode int) {
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	data := s.options(r)
	data["I"], data["R"] = i, rec
	code := http.StatusOK
	if msg != "" {
		data["Error"], code = msg, errCode
	}
	s.render(w, r, code, page, data)
}

func (s *server) saveClaim(w http.ResponseWriter, r *http.Request) {
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	f := r.PostFormValue
	cl := &record.Claim{Slug: strings.TrimSpace(f("slug")), IncidentSlug: i.Slug, By: f("by"), Speaker: f("speaker"),
		About: record.Topic(f("about")), Stance: record.Stance(f("stance")), Value: f("value"), Summary: f("summary"),
		SourceURL: f("source_url")}
	cl.Date.UnmarshalText([]byte(f("date")))
	if cl.Slug == "" {
		cl.Slug = fmt.Sprintf("%s-claim-%d", i.Slug, time.Now().Unix())
	}
	if _, err := s.save(r, cl, f("reason")); err != nil {
		s.findingFormStatus(w, r, "form_claim.html", cl, err.Error(), status(err))
		return
	}
	http.Redirect(w, r, "/incidents/"+i.Slug, http.StatusSeeOther)
}

func (s *server) saveCasualty(w http.ResponseWriter, r *http.Request) {
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	f := r.PostFormValue
	k := &record.Casualty{Slug: strings.TrimSpace(f("slug")), IncidentSlug: i.Slug, Status: record.Status(f("status")),
		Side: f("side"), ReportedBy: f("reported_by"), Note: f("note")}
	if k.Slug == "" {
		k.Slug = fmt.Sprintf("%s-casualties-%d", i.Slug, time.Now().Unix())
	}
	var err error
	if k.Killed, err = formCount(f, "killed"); err == nil {
		k.Injured, err = formCount(f, "injured")
	}
	if err == nil {
		_, err = s.save(r, k, f("reason"))
	}
	if err != nil {
		s.findingFormStatus(w, r, "form_casualty.html", k, err.Error(), status(err))
		return
	}
	http.Redirect(w, r, "/incidents/"+i.Slug, http.StatusSeeOther)
}

// formCount reads NAME_low, NAME_best and NAME_high. Empty fields are not
// reported; nothing at all gives no count.
func formCount(f func(string) string, name string) (*record.Count, error) {
	var c record.Count
	for _, part := range []struct {
		suffix string
		dst    **int
	}{{"_low", &c.Low}, {"_best", &c.Best}, {"_high", &c.High}} {
		v := strings.TrimSpace(f(name + part.suffix))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%s%s: %q is not a whole number; leave it empty when not reported", name, part.suffix, v)
		}
		*part.dst = &n
	}
	if !c.Reported() {
		return nil, nil
	}
	return &c, nil
}

// comparePage shows two evidence items side by side.
func (s *server) comparePage(w http.ResponseWriter, r *http.Request) {
	var items []map[string]any
	for _, key := range []string{"a", "b"} {
		ev, ok := s.evidence(r, r.URL.Query().Get(key))
		if !ok {
			apiError(w, http.StatusNotFound, key+": give the slug of an evidence item you may see, as ?a=SLUG&b=SLUG")
			return
		}
		items = append(items, map[string]any{"E": ev, "CanFetch": s.mayFetch(r, ev) == nil,
			"Image": mediaKind(ev.MediaType) == "image", "Video": mediaKind(ev.MediaType) == "video"})
	}
	s.render(w, r, http.StatusOK, "compare.html", map[string]any{"Items": items,
		"SameBytes": items[0]["E"].(*record.Evidence).SHA256 == items[1]["E"].(*record.Evidence).SHA256})
}

// searchIncidents returns the records a query finds that the principal may
// open, each with the link of the page that shows it, and the incidents
// they lead to. A hit is returned only when the same principal's GET of
// its link answers 200, and its snippet is cut only from the text that
// principal may read: for the public, a record's public form, so that no
// digest, file name or account name can be matched or quoted.
func (s *server) searchIncidents(r *http.Request, q string) ([]store.Hit, []*record.Incident, error) {
	tier := store.PublicText
	if disclosure.SeesStaff(who(r).role) {
		tier = store.StaffText
	}
	hits, err := s.st.Search(r.Context(), q, tier, 200)
	if err != nil {
		return nil, nil, err
	}
	found := map[string]*record.Incident{}
	visible := []store.Hit{}
	for _, h := range hits {
		link, leads, err := s.hitPage(r, h)
		if err != nil {
			return nil, nil, err
		}
		if link == "" {
			continue
		}
		h.Link = link
		visible = append(visible, h)
		for _, i := range leads {
			found[i.Slug] = i
		}
	}
	out := make([]*record.Incident, 0, len(found))
	for _, i := range found {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Slug < out[b].Slug })
	return visible, out, nil
}

// hitPage returns the page that shows a search hit's record to the
// principal, and the incidents the hit leads to; "" when the principal may
// open no page of it. Incidents and evidence items have pages of their
// own; findings, casualties and investigations are shown on their
// incident's page; tallies on the first page; actors, places and weapons
// on the pages of the incidents that name them, so that one named only by
// drafts is not found by the public. Victims are never results.
func (s *server) hitPage(r *http.Request, h store.Hit) (string, []*record.Incident, error) {
	ctx := r.Context()
	var leads []*record.Incident
	switch h.Kind {
	case record.KindIncident:
		if i, ok := s.incident(r, h.Slug); ok {
			return "/incidents/" + i.Slug, []*record.Incident{i}, nil
		}
		return "", nil, nil
	case record.KindEvidence:
		ev, ok := s.evidence(r, h.Slug)
		if !ok {
			return "", nil, nil
		}
		for _, slug := range ev.Incidents {
			if i, ok := s.incident(r, slug); ok {
				leads = append(leads, i)
			}
		}
		return "/evidence/" + ev.Slug, leads, nil
	case record.KindVictim:
		return "", nil, nil
	case record.KindTally:
		return "/", nil, nil
	case record.KindActor, record.KindPlace, record.KindWeapon, record.KindTreaty, record.KindMembership:
		refs, err := s.st.Referring(ctx, record.KindIncident, h.Kind, h.Slug)
		if err != nil {
			return "", nil, err
		}
		for _, st := range refs {
			if i, ok := s.incident(r, st.Record.Key()); ok {
				leads = append(leads, i)
			}
		}
		if len(leads) == 0 {
			return "", nil, nil
		}
		return "/incidents/" + leads[0].Slug, leads, nil
	}
	st, err := s.st.Get(ctx, h.Kind, h.Slug)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	i, ok := s.incident(r, st.Record.Incident())
	if st.Retired || !ok {
		return "", nil, nil
	}
	return "/incidents/" + i.Slug, []*record.Incident{i}, nil
}

func (s *server) searchPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	data := map[string]any{"Q": q}
	if strings.TrimSpace(q) != "" {
		hits, incidents, err := s.searchIncidents(r, q)
		switch {
		case errors.Is(err, store.ErrBadQuery):
			data["Error"] = "Give at least one word."
		case err != nil:
			s.fail(w, r, "search", err)
			return
		}
		data["Hits"], data["Incidents"] = hits, incidents
	}
	s.render(w, r, http.StatusOK, "search.html", data)
}

func (s *server) apiSearch(w http.ResponseWriter, r *http.Request) {
	hits, incidents, err := s.searchIncidents(r, r.URL.Query().Get("q"))
	if errors.Is(err, store.ErrBadQuery) {
		apiError(w, http.StatusBadRequest, "q: give at least one word")
		return
	}
	if err != nil {
		s.fail(w, r, "search", err)
		return
	}
	slugs := []string{}
	for _, i := range incidents {
		slugs = append(slugs, i.Slug)
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": hits, "incidents": slugs})
}

// options lists the choices a form offers.
func (s *server) options(r *http.Request) map[string]any {
	ctx := r.Context()
	var places, actors []string
	if list, err := s.st.List(ctx, record.KindPlace); err == nil {
		for _, st := range list {
			places = append(places, st.Record.Key())
		}
	}
	if list, err := s.st.List(ctx, record.KindActor); err == nil {
		for _, st := range list {
			actors = append(actors, st.Record.Key())
		}
	}
	return map[string]any{"Places": places, "Actors": actors, "Likelihoods": record.Likelihoods,
		"Kinds": []string{"authenticity", "geolocation", "chronolocation", "identification", "attribution", "status_of_victims", "munition"}}
}

func (s *server) incidentForm(w http.ResponseWriter, r *http.Request) {
	data := s.options(r)
	i := &record.Incident{Status: "draft", TimePrecision: "day", DisorderType: "Political violence"}
	if slug := r.PathValue("slug"); slug != "" {
		found, ok := s.incident(r, slug)
		if !ok {
			http.NotFound(w, r)
			return
		}
		i = found
	}
	data["I"] = i
	s.render(w, r, http.StatusOK, "form_incident.html", data)
}

// saveIncident creates or updates an incident from the form. Fields the
// form does not show (actors, weapons, circumstances, location) are kept
// from the current version.
func (s *server) saveIncident(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	i := &record.Incident{}
	if cur, ok := s.incident(r, f("slug")); ok {
		c := *cur
		i = &c
	}
	i.Slug, i.Title, i.Description = strings.TrimSpace(f("slug")), f("title"), f("description")
	i.DisorderType, i.EventType, i.SubEventType = f("disorder_type"), f("event_type"), f("sub_event_type")
	i.Start.UnmarshalText([]byte(f("date_start")))
	i.End = record.Time{}
	if f("date_end") != "" {
		i.End.UnmarshalText([]byte(f("date_end")))
	}
	i.TimePrecision, i.Place, i.Status = record.TimePrecision(f("time_precision")), f("place"), record.IncidentStatus(f("status"))
	if _, err := s.save(r, i, f("reason")); err != nil {
		data := s.options(r)
		data["I"], data["Error"] = i, err.Error()
		s.render(w, r, status(err), "form_incident.html", data)
		return
	}
	http.Redirect(w, r, "/incidents/"+i.Slug, http.StatusSeeOther)
}

// save validates and writes one record with the reason, then waits for its
// ledger leaf. Errors are the user's to fix, worded for the form; a
// *forbiddenChange when the rule of [mayChange] refuses the change.
func (s *server) save(r *http.Request, rec record.Record, reason string) (store.Op, error) {
	if strings.TrimSpace(reason) == "" {
		return "", errors.New("reason: say why you make this change; it is kept in the history")
	}
	if err := rec.Validate(); err != nil {
		return "", err
	}
	var op store.Op
	err := s.st.Update(r.Context(), func(tx *store.Tx) error {
		if err := mayChange(tx, who(r), rec); err != nil {
			return err
		}
		var err error
		if op, err = tx.Put(rec, store.Change{By: who(r).user, At: time.Now(), Reason: reason}); err != nil {
			return err
		}
		return tx.CheckRefs(rec)
	})
	var missing *store.MissingRefError
	var forbidden *forbiddenChange
	switch {
	case errors.As(err, &missing):
		return "", missing
	case errors.As(err, &forbidden):
		return "", forbidden
	case err != nil:
		return "", fmt.Errorf("could not save: %w", err)
	}
	if s.lg != nil {
		if _, err := s.lg.Sync(r.Context(), s.st); err != nil {
			return op, fmt.Errorf("saved, but the ledger could not take it yet: %w", err)
		}
	}
	return op, nil
}

// forbiddenChange is a change the edit rule refuses (HTTP 403).
type forbiddenChange struct{ msg string }

func (e *forbiddenChange) Error() string { return e.msg }

// status returns the HTTP status for an error of save: 403 for a change
// the edit rule refuses, otherwise 400.
func status(err error) int {
	var forbidden *forbiddenChange
	if errors.As(err, &forbidden) {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// mayChange applies the edit rule of docs/web.md ("Who may change whose
// records") inside the transaction that writes rec, so that no change
// slips between the check and the write. Editors and admins change every
// record. Below them (analysts, whose routes let them write only
// findings), anyone may record a new finding in an incident they may see,
// but an existing one only if they recorded it and neither the incident it
// belongs to nor the one it would move to is published: a published
// finding, or another analyst's, is changed by an editor. Every change,
// allowed or not, keeps the history: a refused one writes nothing.
func mayChange(tx *store.Tx, p principal, rec record.Record) error {
	if account.Allows(p.role, account.WriteRecords) {
		return nil
	}
	cur, err := tx.Get(rec.Kind(), rec.Key())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.CreatedBy != p.user {
		return &forbiddenChange{fmt.Sprintf("%s %s was recorded by someone else: ask an editor to change it, or record your own finding under a new slug", rec.Kind(), rec.Key())}
	}
	for _, slug := range []string{cur.Record.Incident(), rec.Incident()} {
		inc, err := tx.Get(record.KindIncident, slug)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if disclosure.Published(inc.Record.(*record.Incident)) {
			return &forbiddenChange{fmt.Sprintf("%s %s: incident %s is published, so only an editor may change its findings", rec.Kind(), rec.Key(), slug)}
		}
	}
	return nil
}

func (s *server) assessmentForm(w http.ResponseWriter, r *http.Request) {
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	data := s.options(r)
	data["I"], data["A"] = i, &record.Assessment{Date: record.At(time.Now()), Type: record.Geolocation}
	s.render(w, r, http.StatusOK, "form_assessment.html", data)
}

func (s *server) saveAssessment(w http.ResponseWriter, r *http.Request) {
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	f := r.PostFormValue
	a := &record.Assessment{
		Slug: strings.TrimSpace(f("slug")), IncidentSlug: i.Slug, Type: record.AssessmentKind(f("kind")),
		Finding: f("finding"), Value: f("value"), Method: f("method"), Likelihood: record.Likelihood(f("likelihood")),
		Confidence: record.Confidence(f("confidence")), Organisation: f("organisation"), Limitations: f("limitations"),
	}
	a.Date.UnmarshalText([]byte(f("date")))
	if a.Slug == "" {
		a.Slug = fmt.Sprintf("%s-%s-%d", i.Slug, a.Type, time.Now().Unix())
	}
	if f("lat") != "" || f("lon") != "" {
		lat, err1 := strconv.ParseFloat(f("lat"), 64)
		lon, err2 := strconv.ParseFloat(f("lon"), 64)
		radius, _ := strconv.ParseFloat(f("radius_m"), 64)
		if err1 != nil || err2 != nil {
			s.assessmentError(w, r, i, a, "location: latitude and longitude must be numbers in degrees")
			return
		}
		a.Location = &record.Location{Lat: lat, Lon: lon, RadiusM: radius}
	}
	if _, err := s.save(r, a, f("reason")); err != nil {
		s.assessmentErrorStatus(w, r, i, a, err.Error(), status(err))
		return
	}
	http.Redirect(w, r, "/incidents/"+i.Slug, http.StatusSeeOther)
}

func (s *server) assessmentError(w http.ResponseWriter, r *http.Request, i *record.Incident, a *record.Assessment, msg string) {
	s.assessmentErrorStatus(w, r, i, a, msg, http.StatusBadRequest)
}

func (s *server) assessmentErrorStatus(w http.ResponseWriter, r *http.Request, i *record.Incident, a *record.Assessment, msg string, code int) {
	data := s.options(r)
	data["I"], data["A"], data["Error"] = i, a, msg
	s.render(w, r, code, "form_assessment.html", data)
}

// maxUpload bounds one upload request.
const maxUpload = 4 << 30

// upload ingests the files of a multipart form as evidence of an incident.
// A file's name is recorded, never used as a path: bytes go to a temporary
// file of our own naming and then to the locker under their digest.
func (s *server) upload(w http.ResponseWriter, r *http.Request) {
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		apiError(w, http.StatusBadRequest, "send the files as multipart/form-data")
		return
	}
	var reason string
	var graphic, personal bool
	var stored []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			apiError(w, http.StatusBadRequest, "upload: "+err.Error())
			return
		}
		switch part.FormName() {
		case "reason":
			b, _ := io.ReadAll(io.LimitReader(part, 4096))
			reason = string(b)
		case "graphic":
			graphic = true
		case "personal_data":
			personal = true
		case "files":
			if strings.TrimSpace(reason) == "" {
				apiError(w, http.StatusBadRequest, "reason: put the reason field before the files, and say why they are added")
				return
			}
			slug, err := s.ingestPart(r, part, i.Slug, reason, graphic, personal)
			if err != nil {
				apiError(w, http.StatusBadRequest, "upload of "+part.FileName()+": "+err.Error())
				return
			}
			stored = append(stored, slug)
		}
	}
	if len(stored) == 0 {
		apiError(w, http.StatusBadRequest, "files: choose at least one file")
		return
	}
	if s.lg != nil {
		if _, err := s.lg.Sync(r.Context(), s.st); err != nil {
			s.fail(w, r, "ledger", err)
			return
		}
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") || strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusCreated, map[string]any{"evidence": stored})
		return
	}
	http.Redirect(w, r, "/incidents/"+i.Slug, http.StatusSeeOther)
}

func (s *server) ingestPart(r *http.Request, part io.Reader, incident, reason string, graphic, personal bool) (string, error) {
	tmp, err := os.CreateTemp("", "groundtruth-upload-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, part); err != nil {
		return "", err
	}
	name := ""
	if p, ok := part.(interface{ FileName() string }); ok {
		name = p.FileName()
	}
	res, err := evidence.Ingest(r.Context(), s.st, s.lk, evidence.Input{
		Path: tmp.Name(), Filename: name, Incidents: []string{incident}, Graphic: graphic, PersonalData: personal,
	}, store.Change{By: who(r).user, At: time.Now(), Reason: reason})
	if err != nil {
		return "", err
	}
	if s.jobs != nil {
		ev := res.Evidence
		// The original is stored; hashing, metadata and the search for
		// copies follow in the job queue.
		if _, err := s.jobs.Enqueue(r.Context(), "analyse", map[string]string{"sha256": ev.SHA256, "media_type": ev.MediaType, "name": name, "slug": ev.Slug}, who(r).user); err != nil {
			s.log.ErrorContext(r.Context(), "analysis not queued", "evidence", ev.Slug, "error", err)
		}
	}
	return res.Evidence.Slug, nil
}
