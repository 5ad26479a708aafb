// SPDX-License-Identifier: Apache-2.0

package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"groundtruth/internal/account"
	"groundtruth/internal/store"
)

// JobQueue is the job queue as the web layer uses it: captures and
// analyses are queued, and queued or running jobs can be cancelled.
type JobQueue interface {
	Enqueue(ctx context.Context, kind string, input any, by string) (int64, error)
	Cancel(ctx context.Context, id int64, by string) error
}

// maxCaptureURLs bounds one request's captures.
const maxCaptureURLs = 50

func (s *server) captureRoutes() []route {
	return []route{
		{"GET", "/captures", account.ReadAll, s.capturesPage},
		{"POST", "/captures", account.WriteFindings, s.startCaptures},
		{"POST", "/api/v1/captures", account.WriteFindings, s.apiStartCaptures},
		{"GET", "/api/v1/jobs", account.ReadAll, s.apiJobs},
		{"GET", "/api/v1/jobs/{id}", account.ReadAll, s.apiJob},
		{"POST", "/api/v1/jobs/{id}/cancel", account.WriteFindings, s.apiCancelJob},
	}
}

// captureRequest is what a capture request names. Address ranges that
// captures may reach are the operator's setting, never the requester's:
// a request cannot open the guard.
type captureRequest struct {
	URLs     []string `json:"urls"`
	Incident string   `json:"incident,omitempty"`
}

// enqueueCaptures checks a request and queues one capture per URL.
func (s *server) enqueueCaptures(r *http.Request, req captureRequest) ([]int64, error) {
	if s.jobs == nil {
		return nil, errors.New("this server has no job queue: run groundtruth serve")
	}
	var urls []string
	for _, u := range req.URLs {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	switch {
	case len(urls) == 0:
		return nil, errors.New("urls: give at least one http or https URL")
	case len(urls) > maxCaptureURLs:
		return nil, fmt.Errorf("urls: at most %d per request", maxCaptureURLs)
	}
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("urls: %q is not an http or https URL", u)
		}
	}
	if req.Incident != "" {
		if _, ok := s.incident(r, req.Incident); !ok {
			return nil, fmt.Errorf("incident: no incident %q", req.Incident)
		}
	}
	var ids []int64
	for _, u := range urls {
		id, err := s.jobs.Enqueue(r.Context(), "capture", map[string]string{"url": u, "incident": req.Incident}, who(r).user)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *server) capturesPage(w http.ResponseWriter, r *http.Request) {
	s.renderCaptures(w, r, http.StatusOK, "")
}

func (s *server) renderCaptures(w http.ResponseWriter, r *http.Request, code int, problem string) {
	list, err := s.st.Jobs(r.Context(), store.JobFilter{Kind: "capture", Limit: 100})
	if err != nil {
		s.fail(w, r, "jobs", err)
		return
	}
	type row struct {
		store.Job
		URL, Incident string
		Result        captureResultView
	}
	rows := make([]row, 0, len(list))
	active := false
	for _, j := range list {
		var in struct{ URL, Incident string }
		json.Unmarshal(j.Input, &in)
		rw := row{Job: j, URL: in.URL, Incident: in.Incident}
		json.Unmarshal(j.Result, &rw.Result)
		active = active || j.State == store.JobQueued || j.State == store.JobRunning
		rows = append(rows, rw)
	}
	s.render(w, r, code, "captures.html", map[string]any{
		"Jobs": rows, "Active": active, "Problem": problem,
		"CanCapture": account.Allows(who(r).role, account.WriteFindings) && s.jobs != nil,
	})
}

// captureResultView is the part of a capture job's result the page shows.
type captureResultView struct {
	Title string `json:"title"`
	Items []struct {
		Slug string `json:"slug"`
		Role string `json:"role"`
	} `json:"items"`
	Failures []string `json:"failures"`
}

func (s *server) startCaptures(w http.ResponseWriter, r *http.Request) {
	req := captureRequest{URLs: strings.Split(r.PostFormValue("urls"), "\n"), Incident: strings.TrimSpace(r.PostFormValue("incident"))}
	if _, err := s.enqueueCaptures(r, req); err != nil {
		s.renderCaptures(w, r, http.StatusBadRequest, err.Error())
		return
	}
	http.Redirect(w, r, "/captures", http.StatusSeeOther)
}

func (s *server) apiStartCaptures(w http.ResponseWriter, r *http.Request) {
	var req captureRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "body: "+err.Error()+`: send {"urls": ["https://…"], "incident": "slug"}`)
		return
	}
	ids, err := s.enqueueCaptures(r, req)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"jobs": ids})
}

func (s *server) apiJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.JobFilter{State: q.Get("state"), Kind: q.Get("kind")}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			apiError(w, http.StatusBadRequest, "before: give a job id")
			return
		}
		f.Before = n
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 || n > 1000 {
			apiError(w, http.StatusBadRequest, "limit: give 1 to 1000")
			return
		}
		f.Limit = n
	}
	list, err := s.st.Jobs(r.Context(), f)
	if err != nil {
		s.fail(w, r, "jobs", err)
		return
	}
	if list == nil {
		list = []store.Job{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": list})
}

func (s *server) jobFromPath(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		apiError(w, http.StatusBadRequest, "job id: give a number")
		return 0, false
	}
	return id, true
}

func (s *server) apiJob(w http.ResponseWriter, r *http.Request) {
	id, ok := s.jobFromPath(w, r)
	if !ok {
		return
	}
	j, err := s.st.Job(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		apiError(w, http.StatusNotFound, "no such job")
		return
	}
	if err != nil {
		s.fail(w, r, "job", err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *server) apiCancelJob(w http.ResponseWriter, r *http.Request) {
	id, ok := s.jobFromPath(w, r)
	if !ok {
		return
	}
	if s.jobs == nil {
		apiError(w, http.StatusConflict, "this server has no job queue")
		return
	}
	switch err := s.jobs.Cancel(r.Context(), id, who(r).user); {
	case errors.Is(err, store.ErrNotFound):
		apiError(w, http.StatusNotFound, "no such job")
	case errors.Is(err, store.ErrConflict):
		apiError(w, http.StatusConflict, "the job has already ended")
	case err != nil:
		s.fail(w, r, "cancel job", err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"cancelled": id})
	}
}
