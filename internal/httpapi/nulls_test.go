package httpapi_test

import (
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestV2_nullRefusedWhereNotNullable: v2 refuses null for a member its schema does not make nullable
// (huma's validation skips null optional members: {"title": null} used to be a 200), naming the member,
// and nothing changes; members the schema makes nullable keep taking null; v1 is unchanged.
func TestV2_nullRefusedWhereNotNullable(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("nulls")
	task := env.Task(p.ID, maestro.TaskCreate{Title: "kept"})
	sess := env.Do("POST", "/api/v2/sessions", map[string]any{"projectId": p.ID, "taskIds": []string{}}).Object(t)["id"].(string)
	for _, c := range []struct {
		method, path, body, field string
	}{
		{"PATCH", "/api/v2/tasks/" + task.ID, `{"title":null}`, "body.title"},
		{"PATCH", "/api/v2/tasks/" + task.ID, `{"status":null}`, "body.status"},
		{"PATCH", "/api/v2/projects/" + p.ID, `{"name":null}`, "body.name"},
		{"POST", "/api/v2/tasks", `{"projectId":"` + p.ID + `","title":"x","priority":null}`, "body.priority"},
		{"POST", "/api/v2/tasks", `{"projectId":"` + p.ID + `","title":"x","skillIds":["a",null]}`, "body.skillIds[1]"},
		{"PATCH", "/api/v2/sessions/" + sess, `{"status":null}`, "body.status"},
		{"PATCH", "/api/v2/sessions/" + sess, `{"env":{"A":null}}`, "body.env.A"},
		{"PUT", "/api/v2/flags/ws-replay", `{"enabled":null}`, "body.enabled"},
	} {
		r := env.Do(c.method, c.path, c.body)
		b := wantShape(t, r, 2, 422, maestro.CodeValidation)
		if d, _ := b["detail"].(string); !strings.Contains(d, c.field+": ") {
			t.Errorf("%s %s %s: detail %q does not name %s", c.method, c.path, c.body, d, c.field)
		}
	}
	if r := env.Do("GET", "/api/v2/tasks/"+task.ID, nil); r.Object(t)["title"] != "kept" || r.Object(t)["status"] != "todo" {
		t.Errorf("task changed by refused requests: %s", r.Body)
	}
	// context and skills of a spawn are nullable in the schema.
	if r := env.Do("POST", "/api/v2/sessions/spawn", `{"projectId":"`+p.ID+`","taskIds":["`+task.ID+`"],"spawnSource":"ui","context":null,"skills":null}`); r.Status != 201 {
		t.Errorf("spawn with nullable members null: %d %s", r.Status, r.Body)
	}
	// A string that merely contains "null" is no null.
	if r := env.Do("PATCH", "/api/v2/tasks/"+task.ID, `{"title":"null"}`); r.Status != 200 {
		t.Errorf("title \"null\": %d %s", r.Status, r.Body)
	}
}

// TestSessions_dotIDsRefused: a caller-chosen session id that is not a safe path segment (".", "..",
// "...") is refused (400 on v1, 422 on v2) and nothing is created; dots inside an id are fine.
func TestSessions_dotIDsRefused(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("dots")
	for _, id := range []string{".", "..", "..."} {
		for _, c := range []struct {
			v      int
			path   string
			status int
		}{{1, "/api/sessions", 400}, {2, "/api/v2/sessions", 422}} {
			r := env.Do("POST", c.path, map[string]any{"id": id, "projectId": p.ID, "taskIds": []string{}})
			wantShape(t, r, c.v, c.status, maestro.CodeValidation)
		}
	}
	if n := len(env.Do("GET", "/api/sessions", nil).Array(t)); n != 0 {
		t.Fatalf("%d sessions created by refused ids", n)
	}
	if r := env.Do("POST", "/api/sessions", map[string]any{"id": "agent.1..x", "projectId": p.ID, "taskIds": []string{}}); r.Status != 201 {
		t.Fatalf("id with inner dots: %d %s", r.Status, r.Body)
	}
}
