package v2_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

func leaseSession(t *testing.T, env *apitest.Env, projectID string) string {
	t.Helper()
	s, err := env.Services.Sessions.Create(context.Background(), maestro.SessionCreate{ProjectID: projectID, TaskIDs: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// claimed returns the task of a claim answer (nil for task: null) and its lease token.
func claimed(t *testing.T, r *apitest.Response) (map[string]any, string) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("claim: %d\n%s", r.Status, r.Body)
	}
	task, _ := r.Object(t)["task"].(map[string]any)
	if task == nil {
		return nil, ""
	}
	lease, _ := task["lease"].(map[string]any)
	if lease == nil || task["status"] != "in_progress" {
		t.Fatalf("claimed task without a lease or not in progress: %s", r.Body)
	}
	return task, fmt.Sprint(lease["token"])
}

func reason(t *testing.T, r *apitest.Response) string {
	t.Helper()
	p := problem(t, r, 409, "TASK_NOT_CLAIMABLE")
	d, _ := p["details"].(map[string]any)
	return fmt.Sprint(d["reason"])
}

// TestLeases_API walks an agent's life through the v2 endpoints: the ready set, claims of the next task
// and of a named one, renewals, the fencing token on finish, and the v1 shape that never shows a lease.
func TestLeases_API(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("agents")
	a := env.Task(p.ID, maestro.TaskCreate{Title: "a"})
	b := env.Task(p.ID, maestro.TaskCreate{Title: "b", Priority: maestro.PriorityCritical, Dependencies: []string{a.ID}})
	s1, s2 := leaseSession(t, env, p.ID), leaseSession(t, env, p.ID)
	var token, etag string
	env.Run(t, []apitest.Case{
		{Name: "ready set", Method: "GET", Path: "/api/v2/projects/" + p.ID + "/tasks/ready?total=true", Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				var list struct {
					Items []struct {
						Task      map[string]any `json:"task"`
						Ready     bool           `json:"ready"`
						BlockedBy []string       `json:"blockedBy"`
					} `json:"items"`
					Total *int64 `json:"total"`
				}
				r.Decode(t, &list)
				// b is more urgent, so it comes first, but it is blocked by a.
				if len(list.Items) != 2 || list.Items[0].Task["id"] != b.ID || list.Items[0].Ready ||
					len(list.Items[0].BlockedBy) != 1 || list.Items[0].BlockedBy[0] != a.ID ||
					list.Items[1].Task["id"] != a.ID || !list.Items[1].Ready || list.Items[1].BlockedBy == nil ||
					list.Total == nil || *list.Total != 2 {
					t.Fatalf("ready set %s", r.Body)
				}
			}},
		{Name: "ready set of an unknown project", Method: "GET", Path: "/api/v2/projects/proj_nope/tasks/ready", Status: 404},
		{Name: "ready set with a foreign cursor", Method: "GET", Path: "/api/v2/projects/" + p.ID + "/tasks/ready?cursor=bm9wZQ", Status: 422},
		{Name: "next takes the ready task", Method: "POST", Path: "/api/v2/projects/" + p.ID + "/tasks/next",
			Body: map[string]any{"sessionId": s1, "leaseSeconds": 60}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				task, tok := claimed(t, r)
				if task == nil || task["id"] != a.ID || tok != "1" {
					t.Fatalf("next = %s", r.Body)
				}
				lease := task["lease"].(map[string]any)
				if lease["sessionId"] != s1 || lease["expiresAt"].(float64) <= lease["acquiredAt"].(float64) {
					t.Fatalf("lease %v", lease)
				}
				token = tok
			}},
		{Name: "nothing else is ready", Method: "POST", Path: "/api/v2/projects/" + p.ID + "/tasks/next",
			Body: map[string]any{"sessionId": s2}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if task, _ := claimed(t, r); task != nil || strings.TrimSpace(string(r.Body)) != `{"task":null}` {
					t.Fatalf("next = %s, want task null", r.Body)
				}
			}},
		{Name: "claim of a blocked task", Method: "POST", Path: "/api/v2/tasks/" + b.ID + "/claim",
			Body: map[string]any{"sessionId": s2}, Status: 409,
			Check: func(t *testing.T, r *apitest.Response) {
				if got := reason(t, r); got != maestro.NotClaimableBlocked {
					t.Fatalf("reason %s", got)
				}
			}},
		{Name: "claim of a leased task", Method: "POST", Path: "/api/v2/tasks/" + a.ID + "/claim",
			Body: map[string]any{"sessionId": s2}, Status: 409,
			Check: func(t *testing.T, r *apitest.Response) {
				if got := reason(t, r); got != maestro.NotClaimableLeased {
					t.Fatalf("reason %s", got)
				}
			}},
		{Name: "claim with an unknown session", Method: "POST", Path: "/api/v2/tasks/" + a.ID + "/claim",
			Body: map[string]any{"sessionId": "sess_nope"}, Status: 404},
		{Name: "claim without a session", Method: "POST", Path: "/api/v2/tasks/" + a.ID + "/claim",
			Body: map[string]any{}, Status: 422},
		{Name: "get shows the lease", Method: "GET", Path: "/api/v2/tasks/" + a.ID, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if l, _ := r.Object(t)["lease"].(map[string]any); l == nil || l["sessionId"] != s1 {
					t.Fatalf("get %s", r.Body)
				}
				etag = r.Header.Get("ETag")
			}},
		{Name: "list shows the lease", Method: "GET", Path: "/api/v2/tasks?projectId=" + p.ID, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				var l page
				r.Decode(t, &l)
				for _, it := range l.Items {
					if (it["id"] == a.ID) != (it["lease"] != nil) {
						t.Fatalf("list %s", r.Body)
					}
				}
			}},
		{Name: "v1 never shows a lease", Method: "GET", Path: "/api/tasks/" + a.ID, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if _, ok := r.Object(t)["lease"]; ok {
					t.Fatalf("v1 task with a lease member: %s", r.Body)
				}
			}},
		{Name: "renew without a token", Method: "PUT", Path: "/api/v2/tasks/" + a.ID + "/lease",
			Body: map[string]any{"leaseSeconds": 120}, Status: 422},
		{Name: "renew with a wrong token", Method: "PUT", Path: "/api/v2/tasks/" + a.ID + "/lease",
			Body: map[string]any{"leaseSeconds": 120}, Header: []string{"Lease-Token", "7"}, Status: 409,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 409, "LEASE_TOKEN_STALE") }},
		{Name: "renew", Method: "PUT", Path: "/api/v2/tasks/" + a.ID + "/lease",
			Body: map[string]any{"leaseSeconds": 120}, Header: []string{"Lease-Token", "1"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if r.Header.Get("ETag") == etag {
					t.Fatal("a renewal left the ETag as it was")
				}
				if r.Object(t)["lease"].(map[string]any)["token"] != float64(1) {
					t.Fatalf("renew %s", r.Body)
				}
			}},
		{Name: "a leased task's ETag satisfies If-Match", Method: "GET", Path: "/api/v2/tasks/" + a.ID, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				// The ETag from before the renewal no longer matches: the lease is part of the version.
				if u := env.Do("PATCH", "/api/v2/tasks/"+a.ID, map[string]any{"description": "x"}, "If-Match", etag); u.Status != 412 {
					t.Fatalf("PATCH with the ETag from before the renewal: %d %s", u.Status, u.Body)
				}
				etag = r.Header.Get("ETag")
				if u := env.Do("PATCH", "/api/v2/tasks/"+a.ID, map[string]any{"description": "edited while leased"}, "If-Match", etag); u.Status != 200 || u.Object(t)["lease"] == nil {
					t.Fatalf("PATCH with the current ETag: %d %s", u.Status, u.Body)
				}
			}},
		{Name: "finish with a stale token", Method: "PATCH", Path: "/api/v2/tasks/" + a.ID,
			Body: map[string]any{"status": "completed"}, Header: []string{"Lease-Token", "2"}, Status: 409,
			Check: func(t *testing.T, r *apitest.Response) { problem(t, r, 409, "LEASE_TOKEN_STALE") }},
		{Name: "malformed token", Method: "PATCH", Path: "/api/v2/tasks/" + a.ID,
			Body: map[string]any{"status": "completed"}, Header: []string{"Lease-Token", "x"}, Status: 422},
		{Name: "finish with the token", Method: "PATCH", Path: "/api/v2/tasks/" + a.ID,
			Body: map[string]any{"status": "completed"}, Header: []string{"Lease-Token", "1"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				o := r.Object(t)
				if o["status"] != "completed" || o["lease"] != nil {
					t.Fatalf("finish %s", r.Body)
				}
			}},
		{Name: "the dependent is claimable now", Method: "POST", Path: "/api/v2/tasks/" + b.ID + "/claim",
			Body: map[string]any{"sessionId": s2, "leaseSeconds": 30}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if task, tok := claimed(t, r); task["id"] != b.ID || tok != "1" {
					t.Fatalf("claim %s", r.Body)
				}
			}},
		{Name: "release to blocked", Method: "DELETE", Path: "/api/v2/tasks/" + b.ID + "/lease?status=blocked",
			Header: []string{"Lease-Token", "1"}, Status: 200,
			Check: func(t *testing.T, r *apitest.Response) {
				if o := r.Object(t); o["status"] != "blocked" || o["lease"] != nil {
					t.Fatalf("release %s", r.Body)
				}
			}},
		{Name: "release again", Method: "DELETE", Path: "/api/v2/tasks/" + b.ID + "/lease",
			Header: []string{"Lease-Token", "1"}, Status: 409},
	})
	if token != "1" {
		t.Fatalf("token %q", token)
	}
}

// TestLeases_staleAfterExpiry: a lease runs out (injected clock), the sweep returns the task to todo, a
// second session claims it, and the first session's token then changes nothing anywhere.
func TestLeases_staleAfterExpiry(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("agents")
	task := env.Task(p.ID, maestro.TaskCreate{Title: "slow"})
	s1, s2 := leaseSession(t, env, p.ID), leaseSession(t, env, p.ID)
	_, tok1 := claimed(t, env.Do("POST", "/api/v2/tasks/"+task.ID+"/claim", map[string]any{"sessionId": s1, "leaseSeconds": 5}))
	env.Clock.Advance(6 * time.Second)
	seq := env.LastSeq()
	if n, err := env.Services.Leases.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	types := env.OutboxTypesSince(seq)
	if len(types) != 3 || types[1] != maestro.EventTaskLeaseExpired {
		t.Fatalf("sweep events %v", types)
	}
	if o := env.Do("GET", "/api/v2/tasks/"+task.ID, nil).Object(t); o["status"] != "todo" || o["lease"] != nil {
		t.Fatalf("after the sweep: %v", o)
	}
	got, tok2 := claimed(t, env.Do("POST", "/api/v2/projects/"+p.ID+"/tasks/next", map[string]any{"sessionId": s2}))
	if got == nil || got["id"] != task.ID || tok2 != "2" {
		t.Fatalf("re-claim %v token %s", got, tok2)
	}
	before := env.Do("GET", "/api/v2/tasks/"+task.ID, nil)
	seq = env.LastSeq()
	for _, c := range []struct{ method, path string }{
		{"PATCH", "/api/v2/tasks/" + task.ID},
		{"PUT", "/api/v2/tasks/" + task.ID + "/lease"},
		{"DELETE", "/api/v2/tasks/" + task.ID + "/lease"},
	} {
		var body any = map[string]any{}
		if c.method == "PATCH" {
			body = map[string]any{"status": "completed", "title": "stale write"}
		}
		problem(t, env.Do(c.method, c.path, body, "Lease-Token", tok1), 409, "LEASE_TOKEN_STALE")
	}
	after := env.Do("GET", "/api/v2/tasks/"+task.ID, nil)
	if string(after.Body) != string(before.Body) || after.Header.Get("ETag") != before.Header.Get("ETag") || env.LastSeq() != seq {
		t.Fatalf("a stale token changed something:\nbefore %s\nafter  %s", before.Body, after.Body)
	}
}

// TestLeases_override: a person's status change without Lease-Token is allowed, ends the lease, and the
// audit row of that request says so.
func TestLeases_override(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("agents")
	task := env.Task(p.ID, maestro.TaskCreate{Title: "taken over"})
	s := leaseSession(t, env, p.ID)
	_, tok := claimed(t, env.Do("POST", "/api/v2/tasks/"+task.ID+"/claim", map[string]any{"sessionId": s}))
	// A change that leaves the status alone does not touch the lease.
	r := env.Do("PATCH", "/api/v2/tasks/"+task.ID, map[string]any{"description": "more detail"})
	if r.Status != 200 || r.Object(t)["lease"] == nil {
		t.Fatalf("description change: %d %s", r.Status, r.Body)
	}
	// Nor does one that sends the status the task has (a CLI's "status in_progress" as it starts work):
	// ending the lease would leave the task in_progress with nobody holding it and no sweep to free it.
	r = env.Do("PATCH", "/api/tasks/"+task.ID, map[string]any{"status": "in_progress"})
	if r.Status != 200 {
		t.Fatalf("same status: %d %s", r.Status, r.Body)
	}
	if o := env.Do("GET", "/api/v2/tasks/"+task.ID, nil).Object(t); o["lease"] == nil {
		t.Fatalf("a PATCH to the status the task has ended its lease: %v", o)
	}
	r = env.Do("PATCH", "/api/tasks/"+task.ID, map[string]any{"status": "cancelled"}) // v1, as the UI does
	if r.Status != 200 {
		t.Fatalf("override: %d %s", r.Status, r.Body)
	}
	if o := env.Do("GET", "/api/v2/tasks/"+task.ID, nil).Object(t); o["lease"] != nil || o["status"] != "cancelled" {
		t.Fatalf("after the override: %v", o)
	}
	problem(t, env.Do("PUT", "/api/v2/tasks/"+task.ID+"/lease", map[string]any{}, "Lease-Token", tok), 409, "LEASE_TOKEN_STALE")
	audit := env.Do("GET", "/api/v2/admin/audit?method=PATCH", nil)
	var list struct {
		Items []maestro.AuditEntry `json:"items"`
	}
	audit.Decode(t, &list)
	var notes []string
	for _, e := range list.Items {
		if e.Detail["leaseOverride"] != "" {
			notes = append(notes, e.Route+" "+e.Detail["leaseOverride"])
		}
	}
	if len(notes) != 1 {
		t.Fatalf("audit rows noting the override: %v\n%s", notes, audit.Body)
	}
}

// TestFlag_TaskLeases: with task-leases off every lease endpoint (and the Lease-Token header) answers 404
// FEATURE_DISABLED naming the flag, and changes nothing; task reads go on working.
func TestFlag_TaskLeases(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("agents")
	task := env.Task(p.ID, maestro.TaskCreate{Title: "t"})
	s := leaseSession(t, env, p.ID)
	if r := env.Do("PUT", "/api/v2/flags/task-leases", map[string]any{"enabled": false}); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	seq := env.LastSeq()
	for _, c := range []struct {
		method, path string
		body         any
		header       []string
	}{
		{"POST", "/api/v2/tasks/" + task.ID + "/claim", map[string]any{"sessionId": s}, nil},
		{"POST", "/api/v2/projects/" + p.ID + "/tasks/next", map[string]any{"sessionId": s}, nil},
		{"PUT", "/api/v2/tasks/" + task.ID + "/lease", map[string]any{}, []string{"Lease-Token", "1"}},
		{"DELETE", "/api/v2/tasks/" + task.ID + "/lease", nil, []string{"Lease-Token", "1"}},
		{"GET", "/api/v2/projects/" + p.ID + "/tasks/ready", nil, nil},
		{"PATCH", "/api/v2/tasks/" + task.ID, map[string]any{"status": "completed"}, []string{"Lease-Token", "1"}},
		// A disabled endpoint does not read its request: an invalid body is still a 404.
		{"POST", "/api/v2/tasks/" + task.ID + "/claim", map[string]any{"bogus": true}, nil},
	} {
		p := problem(t, env.Do(c.method, c.path, c.body, c.header...), 404, "FEATURE_DISABLED")
		if d, _ := p["details"].(map[string]any); d["flag"] != "task-leases" {
			t.Errorf("%s %s: %v", c.method, c.path, p)
		}
	}
	if env.LastSeq() != seq {
		t.Fatal("a disabled lease endpoint recorded events")
	}
	if r := env.Do("GET", "/api/v2/tasks/"+task.ID, nil); r.Status != 200 || r.Object(t)["status"] != "todo" {
		t.Fatalf("get with task-leases off: %d %s", r.Status, r.Body)
	}
}

// TestLeases_readyPages: the ready set pages with cursors in claim order and only lists todo tasks.
func TestLeases_readyPages(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("agents")
	var want []string
	low := env.Task(p.ID, maestro.TaskCreate{Title: "low", Priority: maestro.PriorityLow})
	for i := range 4 {
		want = append(want, env.Task(p.ID, maestro.TaskCreate{Title: fmt.Sprint("high ", i), Priority: maestro.PriorityHigh}).ID)
	}
	want = append(want, low.ID)
	done := env.Task(p.ID, maestro.TaskCreate{Title: "done", Priority: maestro.PriorityCritical})
	if r := env.Do("PATCH", "/api/v2/tasks/"+done.ID, map[string]any{"status": "completed"}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	var got []string
	path := "/api/v2/projects/" + p.ID + "/tasks/ready?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		pg := getPage(t, env, path)
		for _, it := range pg.Items {
			got = append(got, fmt.Sprint(it["task"].(map[string]any)["id"]))
		}
		if pg.NextCursor == nil {
			break
		}
		path = "/api/v2/projects/" + p.ID + "/tasks/ready?limit=2&cursor=" + *pg.NextCursor
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ready pages %v, want %v", got, want)
	}
}
