package httpapi_test

import (
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
)

// TestErrors_capped: an invalid body with a thousand bad elements gets an error listing the first 20
// and a count, in both versions — not one many times the size of the request (a 7 KB import used to get
// a 97 KB 422).
func TestErrors_capped(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	tasks := strings.TrimSuffix(strings.Repeat(`{"title":5},`, 1001), ",")
	for _, c := range []struct {
		path, body string
		v          int
	}{
		{"/api/v2/projects/import", `{"format":"maestro.project-export","version":1,"project":{"id":"p","name":"x"},"tasks":[` + tasks + `]}`, 2},
		{"/api/tasks", `{"projectId":"p","title":"t","skillIds":[` + strings.TrimSuffix(strings.Repeat(`5,`, 1001), ",") + `]}`, 1},
	} {
		r := env.Do("POST", c.path, c.body)
		if r.Status != 422 && r.Status != 400 {
			t.Fatalf("%s: %d %.300s", c.path, r.Status, r.Body)
		}
		if len(r.Body) > 8<<10 {
			t.Errorf("%s: a %d-byte request got a %d-byte error", c.path, len(c.body), len(r.Body))
		}
		b := r.Object(t)
		details, _ := b["details"].(map[string]any)
		errs, _ := b["errors"].([]any)
		if c.v == 1 {
			errs, _ = details["errors"].([]any)
		}
		if len(errs) != 20 {
			t.Errorf("%s: %d errors listed, want 20", c.path, len(errs))
		}
		if n, _ := details["errorCount"].(float64); n <= 20 {
			t.Errorf("%s: errorCount %v: %.500s", c.path, details["errorCount"], r.Body)
		}
		msg, _ := b["message"].(string)
		if c.v == 2 {
			msg, _ = b["detail"].(string)
		}
		if !strings.Contains(msg, "more") {
			t.Errorf("%s: message does not say more were left out: %.300s", c.path, msg)
		}
	}
}
