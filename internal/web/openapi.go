// SPDX-License-Identifier: Apache-2.0

package web

import (
	"net/http"
	"regexp"
	"strings"
)

// apiSummaries describes the API routes for the OpenAPI document, which is
// built from the route table so that it cannot miss a route.
var apiSummaries = map[string]string{
	"GET /api/v1/openapi.json":               "This document.",
	"POST /api/v1/captures":                  "Queue web captures: {\"urls\": [\"https://…\"], \"incident\": \"slug\"} returns 202 with the job ids.",
	"GET /api/v1/jobs":                       "Queued, running and finished jobs, newest first (state, kind, before, limit).",
	"GET /api/v1/jobs/{id}":                  "One job with its progress, last error and result.",
	"POST /api/v1/jobs/{id}/cancel":          "Cancel a queued or running job.",
	"GET /api/v1/incidents":                  "Incidents the caller may see, by slug, paginated (limit, cursor).",
	"GET /api/v1/incidents/{slug}":           "One incident with the verification engine's report; victims as initials unless the caller may read personal data.",
	"GET /api/v1/evidence":                   "Evidence items the caller may see, paginated (limit, cursor).",
	"GET /api/v1/evidence/{slug}":            "One evidence item with its ledger index and its media analysis (hashes, keyframes, media group; the file's own metadata only for signed-in callers).",
	"POST /api/v1/incidents/{slug}/evidence": "Upload originals (multipart form: reason, then files; graphic and personal_data flags) to an incident.",
	"GET /api/v1/tallies":                    "Reported running totals with their reconciliation against documented incidents.",
	"GET /api/v1/casualties":                 "Documented casualties summed across incidents (by=side|status|place|month).",
	"POST /api/v1/assessments":               "Record an assessment (or a new version of one) with the reason; answers once the ledger holds it.",
	"POST /api/v1/claims":                    "Record a party's claim (or a new version) from {record, reason}.",
	"POST /api/v1/casualties":                "Record a casualty report (or a new version) from {record, reason}; figures not reported stay null.",
	"POST /api/v1/incidents":                 "Create or edit an incident from {record, reason} (editors).",
	"GET /api/v1/search":                     "Records matching every word of q in any script that the caller may open, each with the link of its page, and the incidents they lead to.",
	"GET /api/v1/tokens":                     "The caller's API tokens.",
	"POST /api/v1/tokens":                    "Create an API token (read or write scope); its secret is shown once.",
	"DELETE /api/v1/tokens/{id}":             "Revoke one of the caller's tokens.",
	"GET /api/v1/access-log":                 "Who revealed graphic media, downloaded originals or changed an account, and why, newest first (admins).",
}

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

func (s *server) openAPI(w http.ResponseWriter, r *http.Request) {
	paths := map[string]map[string]any{}
	for _, rt := range s.routes() {
		if !strings.HasPrefix(rt.pattern, "/api/") {
			continue
		}
		op := map[string]any{
			"summary":      apiSummaries[rt.method+" "+rt.pattern],
			"x-permission": string(rt.perm),
			"responses": map[string]any{
				"200": map[string]any{"description": "success (201 when created, 204 when revoked)"},
				"400": map[string]any{"description": "bad input: {\"error\": \"what, where, what to do\"}"},
				"401": map[string]any{"description": "not signed in, or an unknown token"},
				"403": map[string]any{"description": "the caller's role or token scope does not allow this"},
			},
		}
		var params []map[string]any
		for _, m := range pathParam.FindAllStringSubmatch(rt.pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		if rt.method == "GET" && (strings.HasSuffix(rt.pattern, "/incidents") || strings.HasSuffix(rt.pattern, "/evidence")) {
			params = append(params,
				map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit}},
				map[string]any{"name": "cursor", "in": "query", "schema": map[string]string{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.method == "POST" {
			media := "application/json"
			if strings.HasSuffix(rt.pattern, "/evidence") {
				media = "multipart/form-data"
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{media: map[string]any{"schema": map[string]string{"type": "object"}}}}
		}
		if paths[rt.pattern] == nil {
			paths[rt.pattern] = map[string]any{}
		}
		paths[rt.pattern][strings.ToLower(rt.method)] = op
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "groundtruth API", "version": "1"},
		"components": map[string]any{"securitySchemes": map[string]any{
			"token":   map[string]any{"type": "http", "scheme": "bearer"},
			"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
		}},
		"security": []map[string][]string{{"token": {}}, {"session": {}}, {}},
		"paths":    paths,
	})
}
