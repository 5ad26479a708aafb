// SPDX-License-Identifier: Apache-2.0

package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"groundtruth/internal/account"
	"groundtruth/internal/record"
)

// route is one entry of the route table. Every route names the permission
// it needs; the authorization matrix test walks this table, so a route
// cannot be added without a rule.
type route struct {
	method, pattern string
	perm            account.Permission
	h               http.HandlerFunc
}

func (s *server) routes() []route {
	rts := []route{
		{"GET", "/{$}", account.ReadPublished, s.listIncidents},
		{"GET", "/healthz", account.ReadPublished, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }},
		{"GET", "/login", account.ReadPublished, s.loginForm},
		{"POST", "/login", account.ReadPublished, s.login},
		{"POST", "/logout", account.Self, s.logout},
		{"GET", "/incidents/{slug}", account.ReadPublished, s.incidentPage},
		{"GET", "/evidence/{slug}", account.ReadPublished, s.evidencePage},
		{"POST", "/evidence/{slug}/reveal", account.RevealGraphic, s.reveal},
		{"GET", "/evidence/{slug}/original", account.ReadPublished, s.original},
		{"GET", "/evidence/{slug}/keyframes/{sha}", account.ReadPublished, s.keyframe},
		{"GET", "/receipts/{slug}", account.ReadPublished, s.receipt},

		{"GET", "/api/v1/openapi.json", account.ReadPublished, s.openAPI},
		{"GET", "/api/v1/incidents", account.ReadPublished, s.apiIncidents},
		{"GET", "/api/v1/incidents/{slug}", account.ReadPublished, s.apiIncident},
		{"GET", "/api/v1/evidence", account.ReadPublished, s.apiEvidence},
		{"GET", "/api/v1/evidence/{slug}", account.ReadPublished, s.apiEvidenceItem},
		{"POST", "/api/v1/incidents/{slug}/evidence", account.WriteFindings, s.upload},
		{"GET", "/api/v1/tallies", account.ReadPublished, s.apiTallies},
		{"GET", "/api/v1/casualties", account.ReadPublished, s.apiCasualties},
		{"POST", "/api/v1/assessments", account.WriteFindings, s.apiPutAssessment},
		{"POST", "/api/v1/claims", account.WriteFindings, s.apiPutRecord(record.KindClaim)},
		{"POST", "/api/v1/casualties", account.WriteFindings, s.apiPutRecord(record.KindCasualty)},
		{"POST", "/api/v1/incidents", account.WriteRecords, s.apiPutRecord(record.KindIncident)},
		{"GET", "/api/v1/tokens", account.Self, s.apiTokens},
		{"POST", "/api/v1/tokens", account.Self, s.apiCreateToken},
		{"DELETE", "/api/v1/tokens/{id}", account.Self, s.apiRevokeToken},
		{"GET", "/api/v1/access-log", account.ManageAccounts, s.apiAccessLog},
	}
	rts = append(rts, s.mapRoutes()...)
	rts = append(rts, s.captureRoutes()...)
	rts = append(rts, s.adminRoutes()...)
	return append(rts, s.formRoutes()...)
}

// guard identifies the principal and enforces the route's permission.
// Denials: 401 for the public (HTML pages redirect to sign-in), 403 for a
// signed-in user without the permission or a read-only token writing.
func (s *server) guard(rt route) http.Handler {
	isAPI := strings.HasPrefix(rt.pattern, "/api/")
	writes := rt.method != "GET" && rt.method != "HEAD"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.identify(r)
		if err != nil {
			apiError(w, http.StatusUnauthorized, err.Error())
			return
		}
		allowed := account.Allows(p.role, rt.perm) && (!writes || p.write || rt.pattern == "/login")
		if !allowed {
			switch {
			case p.role == account.Public && !isAPI && rt.method == "GET":
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			case p.role == account.Public:
				apiError(w, http.StatusUnauthorized, "sign in or present an API token")
			default:
				apiError(w, http.StatusForbidden, "your role ("+string(p.role)+") may not do this")
			}
			return
		}
		if writes && p.role != account.Public {
			// An upload may take longer than the server's ReadTimeout;
			// a signed-in writer's body is read while it progresses.
			readWhileProgressing(w, r)
		}
		rt.h(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// apiError writes a JSON error: {"error": "…"}.
func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
