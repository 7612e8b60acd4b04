package v1_test

import (
	"context"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

func TestTemplateService_SeedDefaults(t *testing.T) {
	t.Parallel()
	t.Run("fresh database", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		sessSeed(t, env)
		evs := sessWantTypes(t, env, 0, maestro.EventTemplateCreated, maestro.EventTemplateCreated)
		ts, err := env.Services.Templates.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2 || ts[0].Role != "worker" || ts[1].Role != "orchestrator" ||
			ts[0].Name != "Default Worker Template" || ts[1].Name != "Default Orchestrator Template" ||
			!ts[0].IsDefault || !ts[1].IsDefault || !strings.HasPrefix(ts[0].ID, "tmpl_") ||
			ts[0].Content != service.DefaultTemplateContent("worker") || ts[1].Content != service.DefaultTemplateContent("orchestrator") {
			t.Fatalf("seeded = %+v", ts)
		}
		if len(evs) == 2 && sessPayload(t, evs[0])["template"].(map[string]any)["id"] != ts[0].ID {
			t.Errorf("template:created payload = %s", evs[0].Data)
		}
		// Every later start finds them and does nothing.
		seq := env.LastSeq()
		sessSeed(t, env)
		sessWantTypes(t, env, seq)
		if again, _ := env.Services.Templates.List(context.Background()); len(again) != 2 {
			t.Errorf("seeding twice made %d templates", len(again))
		}
	})
	t.Run("only roles without any template", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		if r := env.Do("POST", "/api/templates", map[string]any{"name": "Mine", "role": "worker", "content": "c"}); r.Status != 201 {
			t.Fatal(r.Status)
		}
		sessSeed(t, env)
		ts, _ := env.Services.Templates.List(context.Background())
		if len(ts) != 2 || ts[0].Name != "Mine" || ts[1].Role != "orchestrator" || !ts[1].IsDefault {
			t.Errorf("templates = %+v", ts)
		}
	})
}

func TestTemplateAPI(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		env.Run(t, []apitest.Case{
			{Name: "role without template", Method: "GET", Path: pre + "/templates/role/orchestrator", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Template with id 'role:orchestrator' not found")},
		})
		sessSeed(t, env)
		ts, _ := env.Services.Templates.List(context.Background())
		worker, orch := ts[0], ts[1]
		var custom maestro.Template
		var seq int64
		mark := func(*testing.T, *apitest.Response) { seq = env.LastSeq() }
		wantTemplate := func(check func(t *testing.T, got maestro.Template)) func(*testing.T, *apitest.Response) {
			return func(t *testing.T, r *apitest.Response) {
				var got maestro.Template
				r.Decode(t, &got)
				check(t, got)
			}
		}
		events := func(types ...string) func(*testing.T, *apitest.Response) {
			return func(t *testing.T, _ *apitest.Response) { sessWantTypes(t, env, seq, types...) }
		}
		env.Run(t, []apitest.Case{
			{Name: "list", Method: "GET", Path: pre + "/templates", Status: 200, Check: func(t *testing.T, r *apitest.Response) {
				if a := r.Array(t); len(a) != 2 || a[0].(map[string]any)["id"] != worker.ID {
					t.Errorf("list = %s", r.Body)
				}
			}},
			{Name: "get", Method: "GET", Path: pre + "/templates/" + worker.ID, Status: 200,
				Check: wantTemplate(func(t *testing.T, got maestro.Template) {
					if got != worker {
						t.Errorf("got %+v", got)
					}
				})},
			{Name: "get missing", Method: "GET", Path: pre + "/templates/tmpl_nope", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Template with id 'tmpl_nope' not found")},
			{Name: "role worker", Method: "GET", Path: pre + "/templates/role/worker", Status: 200,
				Check: wantTemplate(func(t *testing.T, got maestro.Template) {
					if got.ID != worker.ID {
						t.Errorf("got %s", got.ID)
					}
				})},
			{Name: "bad role", Method: "GET", Path: pre + "/templates/role/tester", Status: 400,
				Check: sessWantField("role")},
			{Name: "default content", Method: "GET", Path: pre + "/templates/default/orchestrator", Status: 200,
				Check: func(t *testing.T, r *apitest.Response) {
					m := r.Object(t)
					if m["role"] != "orchestrator" || m["content"] != service.DefaultTemplateContent("orchestrator") || len(m) != 2 {
						t.Errorf("default = %.200s", r.Body)
					}
				}},
			{Name: "default bad role", Method: "GET", Path: pre + "/templates/default/tester", Status: 400, Check: sessWantField("role")},

			{Name: "mark create", Method: "GET", Path: pre + "/templates", Status: 200, Check: mark},
			{Name: "create: no content", Method: "POST", Path: pre + "/templates", Body: map[string]any{"name": "n", "role": "worker"}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "name, role, and content are required")},
			{Name: "create: empty name", Method: "POST", Path: pre + "/templates", Body: map[string]any{"name": "", "role": "worker", "content": "c"}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "name, role, and content are required")},
			{Name: "create: empty body", Method: "POST", Path: pre + "/templates", Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "name, role, and content are required")},
			{Name: "create: bad role", Method: "POST", Path: pre + "/templates", Body: map[string]any{"name": "n", "role": "admin", "content": "c"}, Status: 400,
				Check: sessWantField("role")},
			{Name: "create: D19 name too long", Method: "POST", Path: pre + "/templates", Body: map[string]any{"name": strings.Repeat("n", 513), "role": "worker", "content": "c"}, Status: 400,
				Check: sessWantField("name")},
			{Name: "create: refused ones sent nothing", Method: "GET", Path: pre + "/templates", Status: 200, Check: events()},
			{Name: "create", Method: "POST", Path: pre + "/templates", Body: map[string]any{"name": "Mine", "role": "orchestrator", "content": "Hello ${TASK_ID}", "isDefault": true}, Status: 201,
				Check: wantTemplate(func(t *testing.T, got maestro.Template) {
					custom = got
					if got.Name != "Mine" || got.Role != "orchestrator" || got.Content != "Hello ${TASK_ID}" || got.IsDefault ||
						!strings.HasPrefix(got.ID, "tmpl_") || got.CreatedAt == 0 || got.CreatedAt != got.UpdatedAt {
						t.Errorf("created %+v", got)
					}
					evs := sessWantTypes(t, env, seq, maestro.EventTemplateCreated)
					if len(evs) == 1 && sessPayload(t, evs[0])["template"].(map[string]any)["id"] != got.ID {
						t.Errorf("payload = %s", evs[0].Data)
					}
				})},
			{Name: "role lookup is oldest first", Method: "GET", Path: pre + "/templates/role/orchestrator", Status: 200,
				Check: wantTemplate(func(t *testing.T, got maestro.Template) {
					if got.ID != orch.ID {
						t.Errorf("role template = %s, want the default %s", got.ID, orch.ID)
					}
				})},
		})

		path := pre + "/templates/" + custom.ID
		env.Run(t, []apitest.Case{
			{Name: "mark update", Method: "GET", Path: path, Status: 200, Check: mark},
			{Name: "update: nothing", Method: "PUT", Path: path, Body: map[string]any{}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "name or content is required")},
			{Name: "update: both empty", Method: "PUT", Path: path, Body: map[string]any{"name": "", "content": ""}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "name or content is required")},
			{Name: "update: checked before the lookup", Method: "PUT", Path: pre + "/templates/tmpl_nope", Body: map[string]any{}, Status: 400},
			{Name: "update: missing", Method: "PUT", Path: pre + "/templates/tmpl_nope", Body: map[string]any{"name": "x"}, Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Template with id 'tmpl_nope' not found")},
			{Name: "update: each present key replaces, even empty", Method: "PUT", Path: path,
				Body: map[string]any{"name": "", "content": "New", "role": "worker"}, Status: 200,
				Check: wantTemplate(func(t *testing.T, got maestro.Template) {
					if got.Name != "" || got.Content != "New" || got.Role != "orchestrator" || got.UpdatedAt <= custom.UpdatedAt {
						t.Errorf("updated %+v", got)
					}
					sessWantTypes(t, env, seq, maestro.EventTemplateUpdated)
				})},
			{Name: "update: name only", Method: "PUT", Path: path, Body: map[string]any{"name": "Renamed"}, Status: 200,
				Check: wantTemplate(func(t *testing.T, got maestro.Template) {
					if got.Name != "Renamed" || got.Content != "New" {
						t.Errorf("updated %+v", got)
					}
				})},
			{Name: "mark reset", Method: "GET", Path: path, Status: 200, Check: mark},
			{Name: "reset", Method: "POST", Path: path + "/reset", Status: 200,
				Check: wantTemplate(func(t *testing.T, got maestro.Template) {
					if got.Content != service.DefaultTemplateContent("orchestrator") || got.Name != "Renamed" || got.IsDefault {
						t.Errorf("reset %+v", got)
					}
					sessWantTypes(t, env, seq, maestro.EventTemplateReset)
				})},
			{Name: "reset missing", Method: "POST", Path: pre + "/templates/tmpl_nope/reset", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Template with id 'tmpl_nope' not found")},
			{Name: "reset a default keeps it default", Method: "POST", Path: pre + "/templates/" + worker.ID + "/reset", Status: 200,
				Check: wantTemplate(func(t *testing.T, got maestro.Template) {
					if !got.IsDefault || got.Name != worker.Name {
						t.Errorf("reset %+v", got)
					}
				})},
			{Name: "mark delete", Method: "GET", Path: path, Status: 200, Check: mark},
			{Name: "D7 default cannot be deleted", Method: "DELETE", Path: pre + "/templates/" + worker.ID, Status: 422,
				Check: sessWantErr(maestro.CodeBusinessRule, "Default templates cannot be deleted")},
			{Name: "delete missing", Method: "DELETE", Path: pre + "/templates/tmpl_nope", Status: 404,
				Check: sessWantErr(maestro.CodeNotFound, "Template with id 'tmpl_nope' not found")},
			{Name: "delete", Method: "DELETE", Path: path, Status: 200, Check: func(t *testing.T, r *apitest.Response) {
				if m := r.Object(t); m["success"] != true || m["id"] != custom.ID || len(m) != 2 {
					t.Errorf("body = %s", r.Body)
				}
				evs := sessWantTypes(t, env, seq, maestro.EventTemplateDeleted)
				if len(evs) == 1 && string(evs[0].Data) != `{"id":"`+custom.ID+`"}` {
					t.Errorf("payload = %s", evs[0].Data)
				}
			}},
			{Name: "gone", Method: "GET", Path: path, Status: 404},
			{Name: "defaults still there", Method: "GET", Path: pre + "/templates/" + worker.ID, Status: 200},
		})
	})
}
