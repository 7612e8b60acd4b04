package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/httpapi/v2"
)

// auditPage lists the audit log with the given query.
func auditPage(t *testing.T, env *obsEnv, query string, headers ...string) v2.AuditPage {
	t.Helper()
	r := env.Do("GET", "/api/v2/admin/audit"+query, nil, headers...)
	if r.Status != http.StatusOK {
		t.Fatalf("audit %s: %d %s", query, r.Status, r.Body)
	}
	var p v2.AuditPage
	r.Decode(t, &p)
	return p
}

func TestAudit_mutationsAreRecordedReadsAreNot(t *testing.T) {
	t.Parallel()
	env := newObsEnv(t, nil)
	r := env.Do("POST", "/api/projects", map[string]string{"name": "P", "workingDir": "/tmp/p"}, "X-Request-ID", "req-create",
		"User-Agent", "maestro-cli/test")
	if r.Status != 201 {
		t.Fatalf("create project: %d %s", r.Status, r.Body)
	}
	pid := r.Object(t)["id"].(string)
	r = env.Do("POST", "/api/v1/tasks", map[string]string{"projectId": pid, "title": "T"})
	tid := r.Object(t)["id"].(string)
	env.Do("PATCH", "/api/tasks/"+tid, map[string]string{"status": "in_progress"}, "X-Request-ID", "req-patch")
	env.Do("GET", "/api/tasks/"+tid, nil)
	env.Do("GET", "/api/projects", nil)
	env.Do("PUT", "/api/projects/"+pid, map[string]string{"name": "P2"})
	env.Do("POST", "/api/v1/tasks", map[string]string{"title": "no project"}) // 400, audited too
	env.Do("DELETE", "/api/tasks/"+tid, nil)

	page := auditPage(t, env, "")
	type row struct {
		method, route, entity string
		status                int
	}
	want := []row{ // newest first
		{"DELETE", "/api/v1/tasks/{id}", tid, 200},
		{"POST", "/api/v1/tasks", "", 400},
		{"PUT", "/api/v1/projects/{id}", pid, 200},
		{"PATCH", "/api/v1/tasks/{id}", tid, 200},
		{"POST", "/api/v1/tasks", tid, 201},
		{"POST", "/api/v1/projects", pid, 201},
	}
	if len(page.Items) != len(want) {
		t.Fatalf("%d audit entries, want %d (GETs must not be audited): %+v", len(page.Items), len(want), page.Items)
	}
	for i, w := range want {
		e := page.Items[i]
		entity := ""
		if e.EntityID != nil {
			entity = *e.EntityID
		}
		if e.Method != w.method || e.Route != w.route || entity != w.entity || e.Status != w.status {
			t.Errorf("entry %d: %s %s %q %d, want %s %s %q %d", i, e.Method, e.Route, entity, e.Status,
				w.method, w.route, w.entity, w.status)
		}
		if e.RequestID == "" || e.Actor != "anonymous" || e.At == 0 {
			t.Errorf("entry %d lacks request id, actor or time: %+v", i, e)
		}
	}
	last := page.Items[len(page.Items)-1]
	if last.RequestID != "req-create" || last.Detail["userAgent"] != "maestro-cli/test" {
		t.Errorf("create entry: %+v", last)
	}
	if page.NextCursor != nil {
		t.Errorf("one page holds everything, but nextCursor is %q", *page.NextCursor)
	}
	// Filters.
	if p := auditPage(t, env, "?requestId=req-patch"); len(p.Items) != 1 || p.Items[0].Method != "PATCH" {
		t.Errorf("requestId filter: %+v", p.Items)
	}
	if p := auditPage(t, env, "?entityId="+tid); len(p.Items) != 3 {
		t.Errorf("entityId filter: %d entries, want 3", len(p.Items))
	}
	if p := auditPage(t, env, "?method=POST&status=201"); len(p.Items) != 2 {
		t.Errorf("method+status filter: %d entries, want 2", len(p.Items))
	}
	if p := auditPage(t, env, "?route=/api/v1/tasks/{id}"); len(p.Items) != 2 {
		t.Errorf("route filter: %d entries, want 2", len(p.Items))
	}
}

func TestAudit_actorAndRefusedRequests(t *testing.T) {
	t.Parallel()
	const token = "audit-token-0123456789"
	env := newObsEnv(t, []string{token}, func(o *httpapi.Options) { o.APIToken = token })
	auth := []string{"Authorization", "Bearer " + token}
	env.Do("POST", "/api/projects", map[string]string{"name": "P", "workingDir": "/tmp"}, auth...)
	env.Do("DELETE", "/api/v1/projects/proj_x", nil) // no token: 401
	page := auditPage(t, env, "", auth...)
	if len(page.Items) != 2 {
		t.Fatalf("%d entries: %+v", len(page.Items), page.Items)
	}
	refused, ok := page.Items[0], page.Items[1]
	if refused.Status != 401 || refused.Actor != "anonymous" || refused.Route != "/api/v1/projects/{id}" {
		t.Errorf("refused entry: %+v", refused)
	}
	if ok.Status != 201 || ok.Actor != httpapi.ActorToken {
		t.Errorf("authorised entry: %+v", ok)
	}
}

func TestAudit_pagination(t *testing.T) {
	t.Parallel()
	env := newObsEnv(t, nil)
	for i := 0; i < 7; i++ {
		env.Do("POST", "/api/projects", map[string]string{"name": fmt.Sprint("P", i), "workingDir": "/tmp"})
	}
	var seen []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		p := auditPage(t, env, q)
		for _, e := range p.Items {
			seen = append(seen, e.ID)
		}
		if p.NextCursor == nil {
			if len(p.Items) != 1 {
				t.Fatalf("last page has %d items, want 1", len(p.Items))
			}
			break
		}
		if len(p.Items) != 3 {
			t.Fatalf("page has %d items, want 3", len(p.Items))
		}
		cursor = *p.NextCursor
	}
	if len(seen) != 7 {
		t.Fatalf("saw %d entries across pages, want 7: %v", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("entries not strictly newest first across pages: %v", seen)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=501", "?cursor=not-a-cursor", "?cursor=" + strings.Repeat("A", 8)} {
		r := env.Do("GET", "/api/v2/admin/audit"+q, nil)
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422: %s", q, r.Status, r.Body)
		}
	}
}
