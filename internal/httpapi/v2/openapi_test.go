package v2_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
)

// TestOpenAPIDocument checks that the v2 document describes every operation fully (id, tag, summary,
// description), that every error response is documented as what v2 really sends (problem+json, the
// Problem schema), and that every schema reference resolves.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	r := env.Do("GET", "/api/v2/openapi.json", nil)
	if r.Status != 200 {
		t.Fatalf("%d", r.Status)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Summary     string   `json:"summary"`
			Description string   `json:"description"`
			Tags        []string `json:"tags"`
			Responses   map[string]struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	r.Decode(t, &doc)
	ops := 0
	for path, item := range doc.Paths {
		for method, o := range item {
			ops++
			where := strings.ToUpper(method) + " " + path
			if !strings.HasPrefix(o.OperationID, "v2-") || o.Summary == "" || len(o.Description) < 20 || len(o.Tags) != 1 {
				t.Errorf("%s: id %q, summary %q, %d tags, description %q", where, o.OperationID, o.Summary, len(o.Tags), o.Description)
			}
			if _, ok := o.Responses["404"]; !ok && !strings.HasPrefix(path, "/api/v2/flags") && !strings.HasPrefix(path, "/api/v2/admin") {
				t.Errorf("%s does not document 404 (FEATURE_DISABLED)", where)
			}
			for code, resp := range o.Responses {
				n, _ := strconv.Atoi(code)
				if n < 400 {
					continue
				}
				c, ok := resp.Content["application/problem+json"]
				if len(resp.Content) != 1 || !ok || c.Schema.Ref != "#/components/schemas/Problem" {
					t.Errorf("%s %s: error response documented as %v", where, code, resp.Content)
				}
			}
		}
	}
	if ops < 14 {
		t.Fatalf("only %d operations", ops)
	}
	for _, ref := range regexp.MustCompile(`"#/components/schemas/([^"]+)"`).FindAllStringSubmatch(string(r.Body), -1) {
		if _, ok := doc.Components.Schemas[ref[1]]; !ok {
			t.Errorf("dangling reference to %s", ref[1])
		}
	}
	if _, ok := doc.Components.Schemas["ErrorModel"]; ok {
		t.Error("huma's ErrorModel is documented, but v2 never sends it")
	}
}
