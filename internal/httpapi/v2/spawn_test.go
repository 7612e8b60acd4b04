package v2_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/manifesttest"
)

func seedTemplates(t *testing.T, env *apitest.Env) {
	t.Helper()
	if err := env.Services.Templates.SeedDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func countSessions(t *testing.T, env *apitest.Env) int {
	t.Helper()
	ss, err := env.Services.Sessions.List(context.Background(), maestro.SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(ss)
}

func manifestDirs(t *testing.T, env *apitest.Env) []string {
	t.Helper()
	entries, err := os.ReadDir(env.SessionDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestSpawnV2_OK: a spawn answers 201 with the session (v2 shape), its ETag and Location, writes a
// manifest the CLI accepts, and records the spawn's events in order.
func TestSpawnV2_OK(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	seedTemplates(t, env)
	proj := env.Project("P")
	t1 := env.Task(proj.ID, maestro.TaskCreate{Title: "one"})
	t2 := env.Task(proj.ID, maestro.TaskCreate{Title: "two"})
	seq := env.LastSeq()
	r := env.Do("POST", "/api/v2/sessions/spawn", map[string]any{
		"projectId": proj.ID, "taskIds": []string{t1.ID, t2.ID}, "strategy": "queue", "role": "orchestrator",
		"skills": []string{"go"}, "context": map[string]any{"reason": "split"},
	})
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var res struct {
		SessionID    string         `json:"sessionId"`
		ManifestPath string         `json:"manifestPath"`
		Message      string         `json:"message"`
		Session      map[string]any `json:"session"`
	}
	r.Decode(t, &res)
	s := res.Session
	if s["id"] != res.SessionID || s["status"] != "spawning" || s["strategy"] != "queue" || s["name"] != "Orchestrator for "+t1.ID ||
		r.Header.Get("Location") != "/api/v2/sessions/"+res.SessionID || r.Header.Get("ETag") == "" ||
		res.ManifestPath != filepath.Join(env.SessionDir, res.SessionID, "manifest.json") {
		t.Fatalf("%s %v", r.Body, r.Header)
	}
	if envVars, _ := s["env"].(map[string]any); envVars["MAESTRO_SESSION_ID"] != res.SessionID || envVars["MAESTRO_STRATEGY"] != "queue" {
		t.Fatalf("env %v", s["env"])
	}
	if meta, _ := s["metadata"].(map[string]any); meta["role"] != "orchestrator" || mustJSON(meta["context"]) != `{"reason":"split"}` {
		t.Fatalf("metadata %v", s["metadata"])
	}
	data, err := os.ReadFile(res.ManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := manifesttest.Validate(data); err != nil {
		t.Fatalf("manifest: %v\n%s", err, data)
	}
	if got := env.Do("GET", "/api/v2/sessions/"+res.SessionID, nil); got.Header.Get("ETag") != r.Header.Get("ETag") {
		t.Fatalf("ETag of the spawn %s, of the session %s", r.Header.Get("ETag"), got.Header.Get("ETag"))
	}
	want := `["session:updated","session:spawn","task:session_added","task:session_added","queue:created"]`
	if got := mustJSON(env.OutboxTypesSince(seq)); got != want {
		t.Fatalf("events %s\nwant %s", got, want)
	}
}

// TestSpawnV2_Idempotent: the same Idempotency-Key twice (also concurrently) gives one session, one
// manifest, one set of events, and the same response; another body with that key is refused; a failed
// spawn is not remembered, so its retry with the same key spawns.
func TestSpawnV2_Idempotent(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	seedTemplates(t, env)
	proj := env.Project("P")
	task := env.Task(proj.ID, maestro.TaskCreate{})
	body := map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}}
	seq := env.LastSeq()

	var wg sync.WaitGroup
	responses := make([]*apitest.Response, 4)
	for i := range responses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			responses[i] = env.Do("POST", "/api/v2/sessions/spawn", body, "Idempotency-Key", "spawn-1")
		}()
	}
	wg.Wait()
	replayed := 0
	for i, r := range responses {
		if r.Status != 201 || string(r.Body) != string(responses[0].Body) || r.Header.Get("ETag") != responses[0].Header.Get("ETag") ||
			r.Header.Get("Location") != responses[0].Header.Get("Location") {
			t.Fatalf("response %d differs: %d %v\n%s\nfirst: %s", i, r.Status, r.Header, r.Body, responses[0].Body)
		}
		if r.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != len(responses)-1 {
		t.Fatalf("%d replays, want %d", replayed, len(responses)-1)
	}
	if n := countSessions(t, env); n != 1 {
		t.Fatalf("%d sessions", n)
	}
	if dirs := manifestDirs(t, env); len(dirs) != 1 {
		t.Fatalf("manifest dirs %v", dirs)
	}
	want := `["session:updated","session:spawn","task:session_added"]`
	if got := mustJSON(env.OutboxTypesSince(seq)); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	published := 0
	for _, e := range env.Published.Events() {
		if e.Seq > seq {
			published++
		}
	}
	if published != 3 {
		t.Fatalf("%d events published", published)
	}

	problem(t, env.Do("POST", "/api/v2/sessions/spawn", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "role": "orchestrator"},
		"Idempotency-Key", "spawn-1"), 422, "IDEMPOTENCY_KEY_REUSED")

	// SESSION_DIR unusable: the spawn fails with 500 and nothing is remembered; once it is usable again, the
	// retry with the same key spawns.
	other := t.TempDir()
	blocked := filepath.Join(other, "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(env.SessionDir, filepath.Join(other, "saved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(blocked, env.SessionDir); err != nil {
		t.Fatal(err)
	}
	problem(t, env.Do("POST", "/api/v2/sessions/spawn", body, "Idempotency-Key", "spawn-2"), 500, "manifest_generation_failed")
	if err := os.Remove(env.SessionDir); err != nil {
		t.Fatal(err)
	}
	if r := env.Do("POST", "/api/v2/sessions/spawn", body, "Idempotency-Key", "spawn-2"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after a failure: %d %v %s", r.Status, r.Header, r.Body)
	}
	if n := countSessions(t, env); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
}

// TestSpawnV2_Errors: strict types and enums are 422 VALIDATION_ERROR before the spawn runs; the spawn's
// own checks keep their codes; nothing is stored for any of them.
func TestSpawnV2_Errors(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	proj := env.Project("P")
	task := env.Task(proj.ID, maestro.TaskCreate{})
	seq := env.LastSeq()
	for _, c := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no projectId", map[string]any{"taskIds": []string{task.ID}}, 422, "VALIDATION_ERROR"},
		{"no taskIds", map[string]any{"projectId": proj.ID}, 422, "VALIDATION_ERROR"},
		{"empty taskIds", map[string]any{"projectId": proj.ID, "taskIds": []string{}}, 422, "VALIDATION_ERROR"},
		{"taskIds not a list", map[string]any{"projectId": proj.ID, "taskIds": task.ID}, 422, "VALIDATION_ERROR"},
		{"bad role", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "role": "boss"}, 422, "VALIDATION_ERROR"},
		{"tree strategy", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "strategy": "tree"}, 422, "VALIDATION_ERROR"},
		{"bad source", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "spawnSource": "agent"}, 422, "VALIDATION_ERROR"},
		{"context not an object", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "context": "x"}, 422, "VALIDATION_ERROR"},
		{"deprecated spawnedBy", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "spawnedBy": "x"}, 422, "VALIDATION_ERROR"},
		{"source session without sessionId", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "spawnSource": "session"}, 422, "missing_session_id"},
		{"missing parent", map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "spawnSource": "session", "sessionId": "sess_x"}, 404, "parent_session_not_found"},
		{"missing task", map[string]any{"projectId": proj.ID, "taskIds": []string{"task_x"}}, 404, "task_not_found"},
		{"missing project", map[string]any{"projectId": "proj_x", "taskIds": []string{task.ID}}, 404, "project_not_found"},
		{"malformed JSON", `{"projectId":`, 400, "VALIDATION_ERROR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := problem(t, env.Do("POST", "/api/v2/sessions/spawn", c.body), c.status, c.code)
			if c.code == "task_not_found" && p["details"].(map[string]any)["taskId"] != "task_x" {
				t.Fatalf("%v", p)
			}
		})
	}
	if n := countSessions(t, env); n != 0 || env.LastSeq() != seq || len(manifestDirs(t, env)) != 0 {
		t.Fatalf("refused spawns stored something: %d sessions, events %v", n, env.OutboxTypesSince(seq))
	}
	if strings.Contains(mustJSON(env.OutboxTypesSince(0)), "session") {
		t.Fatal("session events recorded")
	}
}
