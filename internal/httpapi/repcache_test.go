package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Every cached v1 read, read twice (the second time from the cache), then changed by a write: the next
// read must show the write. The apitest server runs with the cache on, as production does.
func TestResponseCache_NoReadIsStaleAfterAWrite(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("cached")
	parent := env.Task(p.ID, maestro.TaskCreate{Title: "parent"})
	child := env.Task(p.ID, maestro.TaskCreate{Title: "child", ParentID: parent.ID})
	var sess struct{ ID string }
	env.Do("POST", "/api/sessions", map[string]any{"projectId": p.ID, "taskIds": []string{parent.ID}}).Decode(t, &sess)

	cases := []struct {
		name, read         string
		method, path, body string
		want               string // in the read after the write
		status             int    // of the read after the write (default 200)
	}{
		{"task list", "/api/tasks?projectId=" + p.ID, "PATCH", "/api/tasks/" + parent.ID, `{"title":"m1"}`, `"title":"m1"`, 0},
		{"task list, v1 path", "/api/v1/tasks?projectId=" + p.ID, "PATCH", "/api/tasks/" + parent.ID, `{"title":"m2"}`, `"title":"m2"`, 0},
		{"task list filtered", "/api/tasks?projectId=" + p.ID + "&status=todo", "POST", "/api/tasks",
			`{"projectId":"` + p.ID + `","title":"m3"}`, `"title":"m3"`, 0},
		{"root tasks", "/api/tasks?projectId=" + p.ID + "&parentId=null", "PATCH", "/api/tasks/" + parent.ID, `{"title":"m4"}`, `"title":"m4"`, 0},
		{"task", "/api/tasks/" + parent.ID, "PATCH", "/api/tasks/" + parent.ID, `{"sessionStatus":"m5"}`, `"sessionStatus":"m5"`, 0},
		{"task after a link", "/api/tasks/" + child.ID, "POST", "/api/sessions/" + sess.ID + "/tasks/" + child.ID, ``, sess.ID, 0},
		{"children", "/api/tasks/" + parent.ID + "/children", "PATCH", "/api/tasks/" + child.ID, `{"title":"m6"}`, `"title":"m6"`, 0},
		{"projects", "/api/projects", "PUT", "/api/projects/" + p.ID, `{"name":"m7"}`, `"name":"m7"`, 0},
		{"project", "/api/projects/" + p.ID, "PUT", "/api/projects/" + p.ID, `{"name":"m8"}`, `"name":"m8"`, 0},
		{"sessions", "/api/sessions?projectId=" + p.ID, "PATCH", "/api/sessions/" + sess.ID, `{"status":"m9"}`, `"status":"m9"`, 0},
		{"session", "/api/sessions/" + sess.ID, "POST", "/api/sessions/" + sess.ID + "/timeline", `{"message":"m10"}`, `"message":"m10"`, 0},
		{"v2 task page", "/api/v2/tasks?limit=5&projectId=" + p.ID, "PATCH", "/api/tasks/" + parent.ID, `{"title":"m11"}`, `"title":"m11"`, 0},
		{"v2 task search", "/api/v2/tasks?q=child", "PATCH", "/api/tasks/" + child.ID, `{"title":"child m12"}`, `"title":"child m12"`, 0},
		{"v2 search behind its flag", "/api/v2/tasks?q=child", "PUT", "/api/v2/flags/task-search", `{"enabled":false}`, `FEATURE_DISABLED`, http.StatusNotFound},
		{"task deleted", "/api/tasks/" + child.ID, "DELETE", "/api/tasks/" + child.ID, ``, `NOT_FOUND`, http.StatusNotFound},
	}
	for _, c := range cases {
		first := env.Do("GET", c.read, nil)
		second := env.Do("GET", c.read, nil)
		if first.Status != http.StatusOK || !bytes.Equal(first.Body, second.Body) || first.Header.Get("ETag") == "" ||
			first.Header.Get("ETag") != second.Header.Get("ETag") {
			t.Fatalf("%s: two reads without a write differ: %d %s / %s", c.name, first.Status, first.Body, second.Body)
		}
		if r := env.Do("GET", c.read, nil, "If-None-Match", first.Header.Get("ETag")); r.Status != http.StatusNotModified || len(r.Body) != 0 {
			t.Fatalf("%s: If-None-Match with the current tag: %d %s", c.name, r.Status, r.Body)
		}
		var body any
		if c.body != "" {
			body = c.body
		}
		if w := env.Do(c.method, c.path, body); w.Status >= 300 {
			t.Fatalf("%s: %s %s: %d %s", c.name, c.method, c.path, w.Status, w.Body)
		}
		after := env.Do("GET", c.read, nil, "If-None-Match", first.Header.Get("ETag"))
		want := c.status
		if want == 0 {
			want = http.StatusOK
		}
		if after.Status != want || !strings.Contains(string(after.Body), c.want) {
			t.Fatalf("%s: read after %s %s is stale: %d %s", c.name, c.method, c.path, after.Status, after.Body)
		}
	}
}

// Writers and readers at once, through every cached path: each writer owns a task and a session, and
// after each of its writes returns, every read it makes must show that write, whatever the others
// committed, cached or evicted in between.
func TestResponseCache_ConcurrentWritersReadTheirWrites(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("shared")
	parent := env.Task(p.ID, maestro.TaskCreate{Title: "parent"})
	const writers, rounds = 6, 12

	do := func(method, path, body string) (int, []byte) {
		var rd *strings.Reader
		if body != "" {
			rd = strings.NewReader(body)
		} else {
			rd = strings.NewReader("")
		}
		req := httptest.NewRequest(method, path, rd)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		env.Handler.ServeHTTP(w, req)
		return w.Code, w.Body.Bytes()
	}
	type owned struct{ task, session string }
	own := make([]owned, writers)
	for g := range own {
		tk := env.Task(p.ID, maestro.TaskCreate{Title: fmt.Sprintf("w%d", g), ParentID: parent.ID})
		var s struct{ ID string }
		env.Do("POST", "/api/sessions", map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}}).Decode(t, &s)
		own[g] = owned{tk.ID, s.ID}
	}
	reads := func(o owned) []string {
		return []string{"/api/tasks/" + o.task, "/api/tasks?projectId=" + p.ID, "/api/tasks/" + parent.ID + "/children"}
	}
	sessionReads := func(o owned) []string {
		return []string{"/api/sessions/" + o.session, "/api/sessions?projectId=" + p.ID}
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 { // readers that keep every path cached at whatever sequence they saw
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o := own[i%writers]
				for _, path := range append(reads(o), sessionReads(o)...) {
					do("GET", path, "")
				}
			}
		}()
	}
	var writersWG sync.WaitGroup
	for g := range writers {
		writersWG.Add(1)
		go func() {
			defer writersWG.Done()
			o := own[g]
			for i := range rounds {
				mark := fmt.Sprintf("w%d-r%d", g, i)
				if code, b := do("PATCH", "/api/tasks/"+o.task, `{"title":"`+mark+`"}`); code != http.StatusOK {
					t.Errorf("patch: %d %s", code, b)
					return
				}
				for _, path := range reads(o) {
					if code, b := do("GET", path, ""); code != http.StatusOK || !hasTitle(b, o.task, mark) {
						t.Errorf("GET %s after writing %s: %d, stale: %s", path, mark, code, b)
						return
					}
				}
				if code, b := do("POST", "/api/sessions/"+o.session+"/timeline", `{"message":"`+mark+`"}`); code != http.StatusOK {
					t.Errorf("timeline: %d %s", code, b)
					return
				}
				for _, path := range sessionReads(o) {
					if code, b := do("GET", path, ""); code != http.StatusOK || !strings.Contains(string(b), `"message":"`+mark+`"`) {
						t.Errorf("GET %s after posting %s: %d, stale: %s", path, mark, code, b)
						return
					}
				}
			}
		}()
	}
	writersWG.Wait()
	close(stop)
	wg.Wait()
}

// hasTitle reports whether body (a task or a list of tasks) holds task id with this title.
func hasTitle(body []byte, id, title string) bool {
	var many []maestro.Task
	if json.Unmarshal(body, &many) != nil {
		var one maestro.Task
		if json.Unmarshal(body, &one) != nil {
			return false
		}
		many = []maestro.Task{one}
	}
	for _, tk := range many {
		if tk.ID == id {
			return tk.Title == title
		}
	}
	return false
}

// The cached v2 task list and task leases: a claim, a renewal (which changes only the lease's expiry),
// the passing of the expiry (time alone changes nothing a read shows: the lease stays until it is
// swept) and the sweep itself. After each, the list must show what an uncached read shows.
func TestResponseCache_LeasesOnTheV2TaskList(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	p := env.Project("leased")
	task := env.Task(p.ID, maestro.TaskCreate{Title: "claimed"})
	var sess struct{ ID string }
	env.Do("POST", "/api/sessions", map[string]any{"projectId": p.ID, "taskIds": []string{}}).Decode(t, &sess)
	list := "/api/v2/tasks?projectId=" + p.ID
	lease := func() (string, map[string]any) {
		t.Helper()
		env.Do("GET", list, nil) // keep it cached
		var page struct{ Items []map[string]any }
		env.Do("GET", list, nil).Decode(t, &page)
		if len(page.Items) != 1 {
			t.Fatalf("page %v", page.Items)
		}
		l, _ := page.Items[0]["lease"].(map[string]any)
		return page.Items[0]["status"].(string), l
	}
	if status, l := lease(); status != "todo" || l != nil {
		t.Fatalf("before the claim: %s %v", status, l)
	}
	claim := env.Do("POST", "/api/v2/tasks/"+task.ID+"/claim", map[string]any{"sessionId": sess.ID, "leaseSeconds": 5})
	if claim.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", claim.Status, claim.Body)
	}
	status, l := lease()
	if status != "in_progress" || l == nil || l["sessionId"] != sess.ID {
		t.Fatalf("after the claim: %s %v", status, l)
	}
	token := fmt.Sprint(l["token"])
	expires := l["expiresAt"]
	env.Clock.Advance(time.Second)
	if r := env.Do("PUT", "/api/v2/tasks/"+task.ID+"/lease", map[string]any{"leaseSeconds": 5}, "Lease-Token", token); r.Status != http.StatusOK {
		t.Fatalf("renew: %d %s", r.Status, r.Body)
	}
	if _, l := lease(); l == nil || l["expiresAt"] == expires {
		t.Fatalf("after the renewal the list still shows expiresAt %v: %v", expires, l)
	}
	env.Clock.Advance(10 * time.Second)
	if status, l := lease(); status != "in_progress" || l == nil {
		t.Fatalf("expired, not yet swept: %s %v", status, l)
	}
	if n, err := env.Services.Leases.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if status, l := lease(); status != "todo" || l != nil {
		t.Fatalf("after the sweep: %s %v", status, l)
	}
}
