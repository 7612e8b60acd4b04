package v2_test

import (
	"net/http"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestIdempotency_EveryCreate sends each create of the v2 document twice with one Idempotency-Key: the
// retry must be the first response again (status, ETag, Location, body), marked Idempotent-Replayed,
// and record no event. Every operation that honours the key must be in the table, so that a new create
// whose handler does not pass its key down (and would create twice) fails here.
func TestIdempotency_EveryCreate(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("p")
	task := env.Task(p.ID, maestro.TaskCreate{Title: "t"})
	other := env.Task(p.ID, maestro.TaskCreate{Title: "other"})
	sess := env.Do("POST", "/api/v2/sessions", map[string]any{"projectId": p.ID}).Object(t)["id"].(string)
	spawned := env.Do("POST", "/api/v2/sessions/spawn", map[string]any{
		"projectId": p.ID, "taskIds": []string{task.ID}, "strategy": "queue",
	})
	if spawned.Status != 201 {
		t.Fatalf("spawn: %d %s", spawned.Status, spawned.Body)
	}
	queueSession := spawned.Object(t)["session"].(map[string]any)["id"].(string)
	export := env.Do("GET", "/api/v2/projects/"+p.ID+"/export", nil)
	if export.Status != 200 {
		t.Fatalf("export: %d %s", export.Status, export.Body)
	}

	cases := map[string]struct {
		path string
		body any
	}{
		"POST /api/v2/projects":                 {"/api/v2/projects", map[string]any{"name": "n"}},
		"POST /api/v2/tasks":                    {"/api/v2/tasks", map[string]any{"projectId": p.ID, "title": "t"}},
		"POST /api/v2/templates":                {"/api/v2/templates", map[string]any{"name": "n", "role": "worker", "content": "c"}},
		"POST /api/v2/sessions":                 {"/api/v2/sessions", map[string]any{"projectId": p.ID}},
		"POST /api/v2/sessions/spawn":           {"/api/v2/sessions/spawn", map[string]any{"projectId": p.ID, "taskIds": []string{task.ID}}},
		"POST /api/v2/sessions/{id}/timeline":   {"/api/v2/sessions/" + sess + "/timeline", map[string]any{"message": "m"}},
		"POST /api/v2/sessions/{id}/events":     {"/api/v2/sessions/" + sess + "/events", map[string]any{"type": "note"}},
		"POST /api/v2/sessions/{id}/queue/push": {"/api/v2/sessions/" + queueSession + "/queue/push", map[string]any{"taskId": other.ID}},
		"POST /api/v2/projects/import":          {"/api/v2/projects/import", export.Body},
	}
	seen := 0
	for path, item := range env.Server.V2().OpenAPI().Paths {
		op := item.Post
		if op == nil || op.Metadata["maestro.idempotent"] != true {
			continue
		}
		seen++
		route := http.MethodPost + " " + path
		c, ok := cases[route]
		if !ok {
			t.Errorf("%s honours Idempotency-Key but is not in this test's table", route)
			continue
		}
		key := "every-" + op.OperationID
		first := env.Do("POST", c.path, c.body, "Idempotency-Key", key)
		if first.Status != 201 || first.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("%s: first %d %s", route, first.Status, first.Body)
			continue
		}
		seq := env.LastSeq()
		retry := env.Do("POST", c.path, c.body, "Idempotency-Key", key)
		if retry.Status != first.Status || string(retry.Body) != string(first.Body) ||
			retry.Header.Get("ETag") != first.Header.Get("ETag") || retry.Header.Get("Location") != first.Header.Get("Location") ||
			retry.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s: retry %d %v %s\nfirst %d %v %s", route, retry.Status, retry.Header, retry.Body, first.Status, first.Header, first.Body)
		}
		if env.LastSeq() != seq {
			t.Errorf("%s: the retry recorded events", route)
		}
	}
	if seen != len(cases) {
		t.Errorf("%d operations honour Idempotency-Key, the table has %d", seen, len(cases))
	}
}
