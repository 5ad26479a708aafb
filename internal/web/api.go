// SPDX-License-Identifier: Apache-2.0

package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"groundtruth/internal/account"
	"groundtruth/internal/record"
	"groundtruth/internal/store"
	"groundtruth/internal/verification"
)

// Cursor pagination: items are ordered by slug; a cursor is the last slug
// of the previous page, base64url-encoded, opaque to clients.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// page writes one page of items, which are ordered by key, converting each
// shown item with view.
func page[T any](w http.ResponseWriter, r *http.Request, items []T, key func(T) string, view func(T) any) {
	q := r.URL.Query()
	limit := defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: give a number from 1 to %d", s, maxLimit))
			return
		}
		limit = n
	}
	start := 0
	if c := q.Get("cursor"); c != "" {
		after, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			apiError(w, http.StatusBadRequest, "cursor: not a cursor this API returned; start again without it")
			return
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > string(after) })
	}
	end := min(start+limit, len(items))
	shown := make([]any, 0, end-start)
	for _, it := range items[start:end] {
		shown = append(shown, view(it))
	}
	out := map[string]any{"items": shown, "next_cursor": nil}
	if end < len(items) {
		out["next_cursor"] = base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) apiIncidents(w http.ResponseWriter, r *http.Request) {
	c, err := s.loadCase(r) // holds only the incidents the principal may see
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	page(w, r, c.IncidentSlugs, func(slug string) string { return slug }, func(slug string) any { return c.Incidents[slug] })
}

func (s *server) apiIncident(w http.ResponseWriter, r *http.Request) {
	i, ok := s.incident(r, r.PathValue("slug"))
	if !ok {
		apiError(w, http.StatusNotFound, "no such incident")
		return
	}
	c, err := s.loadCase(r)
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	victims := s.visibleVictims(r, c, i.Slug)
	writeJSON(w, http.StatusOK, map[string]any{
		"incident": i, "report": s.report(c, i.Slug), "victims": victims,
	})
}

func (s *server) apiEvidence(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.List(r.Context(), record.KindEvidence)
	if err != nil {
		s.fail(w, r, "list evidence", err)
		return
	}
	var out []*record.Evidence
	for _, st := range list {
		if ev, ok := s.evidence(r, st.Record.Key()); ok {
			out = append(out, ev)
		}
	}
	page(w, r, out, func(e *record.Evidence) string { return e.Slug }, func(e *record.Evidence) any { return e })
}

func (s *server) apiTallies(w http.ResponseWriter, r *http.Request) {
	c, err := s.loadCase(r)
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tallies": c.Tallies, "reconciliation": s.reconcile(c)})
}

func (s *server) apiCasualties(w http.ResponseWriter, r *http.Request) {
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "status"
	}
	if !slices.Contains(verification.Groupings, by) {
		apiError(w, http.StatusBadRequest, "by: give one of "+strings.Join(verification.Groupings, ", "))
		return
	}
	c, err := s.loadCase(r)
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"by": by, "groups": c.CasualtiesBy(by)})
}

// decodeBody reads a JSON request body strictly: at most 1 MiB, no
// unknown fields, one value.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "request body: "+err.Error())
		return false
	}
	return true
}

// apiPutAssessment records an assessment (new or a new version) with the
// reason for the change, and answers once its ledger leaf is durable.
func (s *server) apiPutAssessment(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Assessment json.RawMessage `json:"assessment"`
		Reason     string          `json:"reason"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	var a record.Assessment
	dec := json.NewDecoder(bytes.NewReader(body.Assessment))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		apiError(w, http.StatusBadRequest, "assessment: "+err.Error())
		return
	}
	if strings.TrimSpace(body.Reason) == "" {
		apiError(w, http.StatusBadRequest, "reason: every change needs a reason")
		return
	}
	if err := a.Validate(); err != nil {
		apiError(w, http.StatusBadRequest, "assessment: "+err.Error())
		return
	}
	if _, ok := s.incident(r, a.IncidentSlug); !ok {
		apiError(w, http.StatusBadRequest, "assessment.incident: no such incident")
		return
	}
	op, err := s.save(r, &a, body.Reason)
	var missing *store.MissingRefError
	switch {
	case errors.As(err, &missing):
		apiError(w, http.StatusBadRequest, "assessment."+missing.Error())
		return
	case err != nil:
		apiError(w, status(err), "assessment: "+err.Error())
		return
	}
	c, err := s.loadCase(r)
	if err != nil {
		s.fail(w, r, "load case", err)
		return
	}
	code := http.StatusOK
	if op == store.Created {
		code = http.StatusCreated
	}
	writeJSON(w, code, map[string]any{"op": op, "assessment": a, "grade": c.Report(a.IncidentSlug, verification.Settings{}).Grade})
}

func (s *server) apiTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.st.Tokens(r.Context(), who(r).user)
	if err != nil {
		s.fail(w, r, "tokens", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

// apiCreateToken creates an API token for the signed-in user and shows its
// secret once. Only a session may create tokens: a token cannot breed.
func (s *server) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	if who(r).token {
		apiError(w, http.StatusForbidden, "create tokens from a signed-in session, not with a token")
		return
	}
	var body struct {
		Label string `json:"label"`
		Scope string `json:"scope"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.Scope != "read" && body.Scope != "write" {
		apiError(w, http.StatusBadRequest, "scope: give read or write")
		return
	}
	if strings.TrimSpace(body.Label) == "" || len(body.Label) > 100 {
		apiError(w, http.StatusBadRequest, "label: give a short description of where the token is used")
		return
	}
	secret, hash, err := account.NewSecret("gtt_")
	if err != nil {
		s.fail(w, r, "token", err)
		return
	}
	id := "tok_" + account.HashSecret(secret)[:12]
	t := store.Token{ID: id, User: who(r).user, Scope: body.Scope, Label: body.Label}
	if err := s.st.CreateToken(r.Context(), t, hash); err != nil {
		s.fail(w, r, "token", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "scope": body.Scope, "label": body.Label,
		"token": secret, "note": "shown once: store it now; groundtruth keeps only its hash"})
}

func (s *server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	err := s.st.RevokeToken(r.Context(), who(r).user, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		apiError(w, http.StatusNotFound, "no such live token of yours")
		return
	}
	if err != nil {
		s.fail(w, r, "revoke token", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) apiAccessLog(w http.ResponseWriter, r *http.Request) {
	log, err := s.st.AccessLog(r.Context(), 1000)
	if err != nil {
		s.fail(w, r, "access log", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": log})
}

// apiPutRecord returns a handler that records a claim, a casualty report or
// an incident (new, or a new version) from {"record": {...}, "reason": "…"}
// and answers once its ledger leaf is durable.
func (s *server) apiPutRecord(kind record.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Record json.RawMessage `json:"record"`
			Reason string          `json:"reason"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		rec := record.New(kind)
		dec := json.NewDecoder(bytes.NewReader(body.Record))
		dec.DisallowUnknownFields()
		if err := dec.Decode(rec); err != nil {
			apiError(w, http.StatusBadRequest, "record: "+err.Error())
			return
		}
		if inc := rec.Incident(); kind != record.KindIncident {
			if _, ok := s.incident(r, inc); !ok {
				apiError(w, http.StatusBadRequest, "record.incident: no such incident")
				return
			}
		}
		if _, err := s.save(r, rec, body.Reason); err != nil {
			apiError(w, status(err), "record: "+err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"record": rec})
	}
}

// apiEvidenceItem returns one evidence item, with its ledger index.
func (s *server) apiEvidenceItem(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.evidence(r, r.PathValue("slug"))
	if !ok {
		apiError(w, http.StatusNotFound, "no such evidence item")
		return
	}
	var index any
	if leaves, err := s.st.LeavesOf(r.Context(), store.BlobKind, ev.SHA256); err == nil && len(leaves) > 0 && leaves[0].Index >= 0 {
		index = leaves[0].Index
	}
	mv, err := s.mediaView(r, ev)
	if err != nil {
		s.fail(w, r, "media analysis", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"evidence": ev, "ledger_index": index, "media": mv})
}
