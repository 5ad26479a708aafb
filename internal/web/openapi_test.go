// SPDX-License-Identifier: Apache-2.0

package web

import (
	"strings"
	"testing"

	"groundtruth/internal/account"
)

// TestOpenAPI checks that the document describes every API route of the
// table, each with a summary.
func TestOpenAPI(t *testing.T) {
	s := newSite(t)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	jsonDecode(t, s.do(t, account.Public, "GET", "/api/v1/openapi.json", "", nil), &doc)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	n := 0
	for _, rt := range s.s.routes() {
		if !strings.HasPrefix(rt.pattern, "/api/") {
			continue
		}
		n++
		op, ok := doc.Paths[rt.pattern][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s %s is not in the document", rt.method, rt.pattern)
			continue
		}
		if sum, _ := op["summary"].(string); sum == "" {
			t.Errorf("%s %s has no summary: add one to apiSummaries", rt.method, rt.pattern)
		}
	}
	if n < 15 {
		t.Errorf("only %d API routes in the table", n)
	}
}
