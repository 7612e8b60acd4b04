package v2_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

func countProjects(t *testing.T, env *apitest.Env) int {
	t.Helper()
	ps, err := env.Services.Projects.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

// TestIdempotency_ReplaysFirstResponse: a retry with the same key and body gets the first response
// (status, ETag, Location, body byte for byte), marked as replayed, and creates nothing — also when the
// retry comes through the unversioned path with API-Version: 2 or re-serialises the JSON differently.
func TestIdempotency_ReplaysFirstResponse(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	first := env.Do("POST", "/api/v2/projects", `{"name":"Alpha","workingDir":"/a"}`, "Idempotency-Key", "key-1")
	if first.Status != 201 || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v", first.Status, first.Header)
	}
	seq := env.LastSeq()
	retries := []*apitest.Response{
		env.Do("POST", "/api/v2/projects", `{"name":"Alpha","workingDir":"/a"}`, "Idempotency-Key", "key-1"),
		env.Do("POST", "/api/v2/projects", "{\n  \"workingDir\": \"/a\",\n  \"name\": \"Alpha\"\n}", "Idempotency-Key", `"key-1"`),
		env.Do("POST", "/api/projects", `{"name":"Alpha","workingDir":"/a"}`, "Idempotency-Key", "key-1", "API-Version", "2"),
	}
	for i, r := range retries {
		if r.Status != 201 || string(r.Body) != string(first.Body) || r.Header.Get("Idempotent-Replayed") != "true" ||
			r.Header.Get("ETag") != first.Header.Get("ETag") || r.Header.Get("Location") != first.Header.Get("Location") ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("retry %d: %d %v\n%s\nfirst:\n%s", i, r.Status, r.Header, r.Body, first.Body)
		}
		if r.Header.Get("X-Request-ID") == first.Header.Get("X-Request-ID") {
			t.Errorf("retry %d reused the first request id", i)
		}
	}
	if n := countProjects(t, env); n != 1 {
		t.Fatalf("%d projects after retries, want 1", n)
	}
	if env.LastSeq() != seq {
		t.Fatal("a replay recorded events")
	}
}

// TestIdempotency_Scope: keys are scoped to their route; a key reused with another body is refused;
// requests without a key are never deduplicated; failed creates are not remembered.
func TestIdempotency_Scope(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := create(t, env, "/api/v2/projects", map[string]any{"name": "P"}, "Idempotency-Key", "same")
	// The same key on another route is another key.
	task := create(t, env, "/api/v2/tasks", map[string]any{"projectId": p["id"], "title": "T"}, "Idempotency-Key", "same")
	if task["projectId"] != p["id"] {
		t.Fatalf("%v", task)
	}
	// Reused with a different body: refused, nothing created.
	pr := problem(t, env.Do("POST", "/api/v2/projects", map[string]any{"name": "Q"}, "Idempotency-Key", "same"), 422, "IDEMPOTENCY_KEY_REUSED")
	if !strings.Contains(pr["detail"].(string), "same") {
		t.Errorf("detail = %v", pr["detail"])
	}
	// Without a key, two creates are two projects.
	create(t, env, "/api/v2/projects", map[string]any{"name": "P"})
	create(t, env, "/api/v2/projects", map[string]any{"name": "P"})
	if n := countProjects(t, env); n != 3 {
		t.Fatalf("%d projects, want 3", n)
	}
	// A failed create is not remembered: once the cause is fixed, the same request with the same key
	// creates.
	body := map[string]any{"projectId": "proj_later", "title": "T"}
	problem(t, env.Do("POST", "/api/v2/tasks", body, "Idempotency-Key", "retry-me"), 404, "NOT_FOUND")
	body["projectId"] = p["id"]
	create(t, env, "/api/v2/tasks", body, "Idempotency-Key", "retry-me")

	// The longest key is accepted bare and in the quoted structured-header form alike.
	for _, good := range []string{strings.Repeat("a", 255), `"` + strings.Repeat("b", 255) + `"`} {
		if r := env.Do("POST", "/api/v2/projects", map[string]any{"name": "P"}, "Idempotency-Key", good); r.Status != 201 {
			t.Fatalf("key of %d characters: %d %s", len(good), r.Status, r.Body)
		}
	}
	for _, bad := range []string{strings.Repeat("k", 256), `"` + strings.Repeat("k", 256) + `"`, "has space", "tab\tkey", `""`} {
		problem(t, env.Do("POST", "/api/v2/projects", map[string]any{"name": "P"}, "Idempotency-Key", bad), 422, "VALIDATION_ERROR")
	}
}

// TestIdempotency_Concurrent fires one request many times at once with the same key: exactly one
// create happens and every response is that create's.
func TestIdempotency_Concurrent(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	const n = 12
	var wg sync.WaitGroup
	resps := make([]*apitest.Response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i] = env.Do("POST", "/api/v2/projects", map[string]any{"name": "Racy"}, "Idempotency-Key", "race")
		}()
	}
	wg.Wait()
	replayed := 0
	for _, r := range resps {
		if r.Status != 201 || string(r.Body) != string(resps[0].Body) {
			t.Fatalf("%d %s vs %s", r.Status, r.Body, resps[0].Body)
		}
		if r.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != n-1 || countProjects(t, env) != 1 {
		t.Fatalf("%d replayed of %d, %d projects", replayed, n, countProjects(t, env))
	}
}

// TestIdempotency_Expiry: after 24 hours a key is free again (the old response is not replayed), and
// pruning deletes expired keys.
func TestIdempotency_Expiry(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	first := create(t, env, "/api/v2/projects", map[string]any{"name": "P"}, "Idempotency-Key", "old")
	raw, err := sql.Open("sqlite", store.DSN(env.Store.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	age := (maestro.IdempotencyTTL + time.Minute).Milliseconds()
	if _, err := raw.Exec(`UPDATE idempotency_keys SET created_at = created_at - ?`, age); err != nil {
		t.Fatal(err)
	}
	second := create(t, env, "/api/v2/projects", map[string]any{"name": "P"}, "Idempotency-Key", "old")
	if second["id"] == first["id"] || countProjects(t, env) != 2 {
		t.Fatalf("expired key replayed: %v %v", first["id"], second["id"])
	}
	// The key now names the second project.
	r := env.Do("POST", "/api/v2/projects", map[string]any{"name": "P"}, "Idempotency-Key", "old")
	if r.Header.Get("Idempotent-Replayed") != "true" || r.Object(t)["id"] != second["id"] {
		t.Fatalf("retry after re-use: %v %s", r.Header, r.Body)
	}

	// Pruning removes keys older than the cutoff and only those.
	create(t, env, "/api/v2/projects", map[string]any{"name": "P"}, "Idempotency-Key", "recent")
	if _, err := raw.Exec(`UPDATE idempotency_keys SET created_at = created_at - ? WHERE key = 'old'`, age); err != nil {
		t.Fatal(err)
	}
	var pruned int64
	cutoff := env.Clock.Now().Add(-maestro.IdempotencyTTL).UnixMilli()
	err = env.Store.InTx(context.Background(), func(q *store.Q) error {
		pruned, err = q.PruneIdempotencyKeys(context.Background(), cutoff)
		return err
	})
	var left int
	_ = raw.QueryRow(`SELECT COUNT(*) FROM idempotency_keys`).Scan(&left)
	if err != nil || pruned != 1 || left != 1 {
		t.Fatalf("pruned %d (err %v), %d left; want 1 and 1", pruned, err, left)
	}
}
