package v2_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
)

// problem asserts that r is a v2 problem+json error with this status and code, and returns its body.
func problem(t *testing.T, r *apitest.Response, status int, code string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json\n%s", ct, r.Body)
	}
	p := r.Object(t)
	if p["code"] != code || p["status"] != float64(status) || p["requestId"] == "" || p["title"] == "" {
		t.Fatalf("problem = %v, want code %s", p, code)
	}
	return p
}

// page is a decoded v2 list.
type page struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"nextCursor"`
	Total      *int64           `json:"total"`
}

func getPage(t *testing.T, env *apitest.Env, path string) page {
	t.Helper()
	r := env.Do("GET", path, nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d\n%s", path, r.Status, r.Body)
	}
	var p page
	r.Decode(t, &p)
	if !strings.Contains(string(r.Body), `"nextCursor":`) {
		t.Fatalf("list without nextCursor: %s", r.Body)
	}
	return p
}

// ids returns the ids of a page's items, in order.
func (p page) ids() []string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = fmt.Sprint(it["id"])
	}
	return out
}

// create POSTs body to path, requires 201 and returns the created object.
func create(t *testing.T, env *apitest.Env, path string, body any, headers ...string) map[string]any {
	t.Helper()
	r := env.Do("POST", path, body, headers...)
	if r.Status != 201 {
		t.Fatalf("POST %s: %d\n%s", path, r.Status, r.Body)
	}
	return r.Object(t)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
