package httpapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	// A reference that makes a browser load something: src, href, action, CSS url() or @import.
	refRe = regexp.MustCompile(`(?i)(?:\b(?:src|href|action|data-spec)\s*=\s*["']?([^"'\s>]*))|(?:url\(\s*["']?([^"')]*))|(?:@import\s+["']?([^"';\s]*))`)
	// Anything naming another host: scheme-relative or absolute http(s) URLs.
	externalRe = regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
)

func TestDocs_pagesAreOfflineAndComplete(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	for _, page := range []string{"/docs", "/api/v1/docs", "/api/v2/docs", "/api/docs", "/docs/events"} {
		t.Run(page, func(t *testing.T) {
			r := env.Do("GET", page, nil)
			if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%s: %d %s", page, r.Status, r.Header.Get("Content-Type"))
			}
			html := string(r.Body)
			refs := refRe.FindAllStringSubmatch(html, -1)
			if len(refs) == 0 {
				t.Fatalf("%s references nothing at all", page)
			}
			for _, m := range refs {
				ref := m[1] + m[2] + m[3]
				if ref == "" || strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "data:") {
					continue
				}
				if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
					t.Errorf("%s references %q, which is not on this server", page, ref)
					continue
				}
				// Every local reference resolves.
				if sub := env.Do("GET", strings.Split(ref, "#")[0], nil); sub.Status != http.StatusOK {
					t.Errorf("%s references %s, which answers %d", page, ref, sub.Status)
				}
			}
			if page != "/docs/events" { // the events page shows schemas as text, which may name URLs
				if m := externalRe.FindString(html); m != "" {
					t.Errorf("%s names an outside host: %q", page, m)
				}
			}
		})
	}
	// The Swagger UI bundle and stylesheet are served from the binary.
	for _, asset := range []string{"/docs/assets/swagger-ui/swagger-ui-bundle.js", "/docs/assets/swagger-ui/swagger-ui.css", "/docs/assets/docs-init.js"} {
		r := env.Do("GET", asset, nil)
		if r.Status != http.StatusOK || len(r.Body) < 100 {
			t.Errorf("%s: %d, %d bytes", asset, r.Status, len(r.Body))
		}
	}
	for _, doc := range []string{"/api/v1/openapi.json", "/api/v1/openapi.yaml", "/api/v2/openapi.json", "/api/v2/openapi.yaml", "/docs/events.schema.json"} {
		if r := env.Do("GET", doc, nil); r.Status != http.StatusOK {
			t.Errorf("%s: %d", doc, r.Status)
		}
	}
}

func TestOpenAPI_everyOperationDocumented(t *testing.T) {
	t.Parallel()
	srv := httpapi.New(httpapi.Options{Services: &service.Services{}})
	for _, c := range []struct {
		v           int
		api         huma.API
		contentType string
		schema      string
	}{
		{1, srv.V1(), "application/json", "#/components/schemas/Legacy"},
		{2, srv.V2(), "application/problem+json", "#/components/schemas/Problem"},
	} {
		oapi := c.api.OpenAPI()
		if _, ok := oapi.Components.Schemas.Map()["ErrorModel"]; ok {
			t.Errorf("v%d still documents huma's ErrorModel", c.v)
		}
		n := 0
		for path, item := range oapi.Paths {
			for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
				if op == nil {
					continue
				}
				n++
				name := op.Method + " " + path
				if op.Summary == "" || op.Description == "" || len(op.Tags) == 0 {
					t.Errorf("v%d %s: summary %q, description %q, tags %v", c.v, name, op.Summary, op.Description, op.Tags)
				}
				if _, ok := op.Responses["default"]; ok {
					t.Errorf("v%d %s: has a catch-all default response", c.v, name)
				}
				errs := 0
				for code, resp := range op.Responses {
					if code < "400" {
						continue
					}
					errs++
					mt := resp.Content[c.contentType]
					if mt == nil || mt.Schema == nil || mt.Schema.Ref != c.schema || len(resp.Content) != 1 {
						t.Errorf("v%d %s %s: error response is not %s %s", c.v, name, code, c.contentType, c.schema)
					}
				}
				if _, ok := op.Responses["500"]; !ok || errs == 0 {
					t.Errorf("v%d %s: documents no error responses", c.v, name)
				}
				if path != "/health" && path != "/healthz" && path != "/readyz" {
					if _, ok := op.Responses["401"]; !ok {
						t.Errorf("v%d %s: 401 not documented", c.v, name)
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("v%d has no operations", c.v)
		}
	}
}

func TestEventsSchema_committedFileIsCurrent(t *testing.T) {
	t.Parallel()
	got, err := httpapi.EventsSchema()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../api/events.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(committed) {
		t.Fatal("api/events.schema.json differs from maestro.EventCatalog: run 'make gen' and commit")
	}
	var doc struct {
		OneOf []map[string]string `json:"oneOf"`
		Defs  map[string]any      `json:"$defs"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.OneOf) != len(maestro.EventCatalog) {
		t.Fatalf("%d envelopes for %d catalogued events", len(doc.OneOf), len(maestro.EventCatalog))
	}
	for _, spec := range maestro.EventCatalog {
		if _, ok := doc.Defs["event."+spec.Type]; !ok {
			t.Errorf("no schema for %s", spec.Type)
		}
	}
}

// TestEventsSchema_validatesRealEvents checks the schema against the events the server really records:
// every event of a project and task lifecycle must validate, and a tampered one must not.
func TestEventsSchema_validatesRealEvents(t *testing.T) {
	t.Parallel()
	raw, err := httpapi.EventsSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("events.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("events.schema.json")
	if err != nil {
		t.Fatalf("the events schema does not compile: %v", err)
	}
	env := apitest.New(t)
	p := env.Project("P")
	parent := env.Task(p.ID, maestro.TaskCreate{Title: "parent"})
	child := env.Task(p.ID, maestro.TaskCreate{Title: "child", ParentID: parent.ID})
	env.Do("PATCH", "/api/tasks/"+child.ID, map[string]any{"status": "in_progress", "priority": "high"})
	env.Do("DELETE", "/api/tasks/"+parent.ID, nil)
	env.Do("DELETE", "/api/tasks/"+child.ID, nil)
	env.Do("PUT", "/api/projects/"+p.ID, map[string]any{"name": "P2"})
	env.Do("DELETE", "/api/projects/"+p.ID, nil)
	evs := env.Outbox()
	types := map[string]bool{}
	for _, ev := range evs {
		types[ev.Type] = true
		msg, _ := json.Marshal(map[string]any{"seq": ev.Seq, "type": ev.Type, "data": ev.Data, "timestamp": ev.Timestamp})
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(msg)))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("event %s does not validate: %v\n%s", ev.Type, err, msg)
		}
	}
	if len(types) < 6 {
		t.Fatalf("the scenario produced too few event types to mean anything: %v", types)
	}
	bad := map[string]any{"seq": 1, "type": "task:deleted", "data": map[string]any{"identifier": "x"}, "timestamp": 1}
	if err := sch.Validate(bad); err == nil {
		t.Fatal("a task:deleted without id validated")
	}
}

func TestDocs_noDirectoryListing(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	for _, p := range []string{"/docs/assets/", "/docs/assets/swagger-ui/"} {
		if r := env.Do("GET", p, nil); r.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.Status)
		}
	}
}
