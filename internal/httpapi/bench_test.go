package httpapi_test

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// The handler benchmarks measure the CPU cost of a request through the whole middleware chain, without
// the network: `go test -bench Handler -benchmem ./internal/httpapi/` (also run by `make bench`).

func benchGET(b *testing.B, env *apitest.Env, path string) {
	b.ReportAllocs()
	b.ResetTimer() // the fixtures are not what is measured
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			env.Handler.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("%s: %d", path, w.Code)
			}
		}
	})
}

func BenchmarkHandler_Health(b *testing.B) {
	benchGET(b, apitest.New(b), "/health")
}

func BenchmarkHandler_GetTask(b *testing.B) {
	env := apitest.New(b)
	t := env.Task(env.Project("").ID, maestro.TaskCreate{})
	benchGET(b, env, "/api/tasks/"+t.ID)
}

func BenchmarkHandler_List1000(b *testing.B) {
	env := apitest.New(b)
	p := env.Project("")
	for range 1000 {
		env.Task(p.ID, maestro.TaskCreate{Description: "a task in the listed project"})
	}
	benchGET(b, env, "/api/tasks?projectId="+p.ID)
}

// BenchmarkHandler_V2TaskPage reads one page of 50 of a project's 1000 tasks through v2, the list whose
// SQL is built from the filters (its shape is prepared once).
func BenchmarkHandler_V2TaskPage(b *testing.B) {
	env := apitest.New(b)
	p := env.Project("")
	for range 1000 {
		env.Task(p.ID, maestro.TaskCreate{Description: "a task in the listed project"})
	}
	benchGET(b, env, "/api/v2/tasks?projectId="+p.ID+"&status=todo&limit=50")
}

// BenchmarkHandler_V2CreateIdempotent creates tasks through v2, each with its own Idempotency-Key: the
// key is claimed and the result stored in the create's transaction.
func BenchmarkHandler_V2CreateIdempotent(b *testing.B) {
	env := apitest.New(b)
	p := env.Project("")
	body := `{"projectId":"` + p.ID + `","title":"a task","description":"created with an idempotency key"}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest("POST", "/api/v2/tasks", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "bench-"+strconv.Itoa(i))
		w := httptest.NewRecorder()
		env.Handler.ServeHTTP(w, req)
		if w.Code != 201 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
