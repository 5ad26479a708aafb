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
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	data := s.options(r)
	data["I"], data["R"] = i, rec
	code := http.StatusOK
	if msg != "" {
		data["Error"], code = msg, http.StatusBadRequest
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
	if err := s.save(r, cl, f("reason")); err != nil {
		s.findingForm(w, r, "form_claim.html", cl, err.Error())
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
		err = s.save(r, k, f("reason"))
	}
	if err != nil {
		s.findingForm(w, r, "form_casualty.html", k, err.Error())
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

// searchIncidents returns the incidents a query finds, directly or through
// a record that belongs to or names them (a place's other names, an
// actor, a claim), limited to what the principal may see.
func (s *server) searchIncidents(r *http.Request, q string) ([]store.Hit, []*record.Incident, error) {
	ctx := r.Context()
	hits, err := s.st.Search(ctx, q, 200)
	if err != nil {
		return nil, nil, err
	}
	found := map[string]*record.Incident{}
	var visible []store.Hit
	for _, h := range hits {
		var slugs []string
		switch h.Kind {
		case record.KindIncident:
			slugs = []string{h.Slug}
		case record.KindVictim:
			continue // matched on public fields only, but a victim is not a result
		default:
			refs, err := s.st.Referring(ctx, record.KindIncident, h.Kind, h.Slug)
			if err != nil {
				return nil, nil, err
			}
			for _, st := range refs {
				slugs = append(slugs, st.Record.Key())
			}
			if st, err := s.st.Get(ctx, h.Kind, h.Slug); err == nil && st.Record.Incident() != "" {
				slugs = append(slugs, st.Record.Incident())
			}
		}
		shown := false
		for _, slug := range slugs {
			if i, ok := s.incident(r, slug); ok {
				found[slug], shown = i, true
			}
		}
		if shown || h.Kind == record.KindPlace || h.Kind == record.KindActor {
			visible = append(visible, h)
		}
	}
	out := make([]*record.Incident, 0, len(found))
	for _, i := range found {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Slug < out[b].Slug })
	return visible, out, nil
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
	if err := s.save(r, i, f("reason")); err != nil {
		data := s.options(r)
		data["I"], data["Error"] = i, err.Error()
		s.render(w, r, http.StatusBadRequest, "form_incident.html", data)
		return
	}
	http.Redirect(w, r, "/incidents/"+i.Slug, http.StatusSeeOther)
}

// save validates and writes one record with the reason, then waits for its
// ledger leaf. Errors are the user's to fix, worded for the form.
func (s *server) save(r *http.Request, rec record.Record, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return errors.New("reason: say why you make this change; it is kept in the history")
	}
	if err := rec.Validate(); err != nil {
		return err
	}
	err := s.st.Update(r.Context(), func(tx *store.Tx) error {
		if _, err := tx.Put(rec, store.Change{By: who(r).user, At: time.Now(), Reason: reason}); err != nil {
			return err
		}
		return tx.CheckRefs(rec)
	})
	var missing *store.MissingRefError
	if errors.As(err, &missing) {
		return missing
	}
	if err != nil {
		return fmt.Errorf("could not save: %w", err)
	}
	if s.lg != nil {
		if _, err := s.lg.Sync(r.Context(), s.st); err != nil {
			return fmt.Errorf("saved, but the ledger could not take it yet: %w", err)
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
	if err := s.save(r, a, f("reason")); err != nil {
		s.assessmentError(w, r, i, a, err.Error())
		return
	}
	http.Redirect(w, r, "/incidents/"+i.Slug, http.StatusSeeOther)
}

func (s *server) assessmentError(w http.ResponseWriter, r *http.Request, i *record.Incident, a *record.Assessment, msg string) {
	data := s.options(r)
	data["I"], data["A"], data["Error"] = i, a, msg
	s.render(w, r, http.StatusBadRequest, "form_assessment.html", data)
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
