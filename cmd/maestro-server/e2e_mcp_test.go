package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearer adds the API token to every request of the MCP client, as an agent's MCP configuration does
// with an Authorization header.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// TestE2E_MCP drives the real binary (with an API token) through the SDK's own MCP client over
// streamable HTTP: initialize, list the tools, claim the next task, report progress, complete it — while
// a WebSocket client sees the matching events in order. The endpoint takes the API's token, and the mcp
// flag switches it off.
func TestE2E_MCP(t *testing.T) {
	t.Parallel()
	const token = "e2e-mcp-token-0123456789"
	s := startServer(t, "MAESTRO_API_TOKEN="+token)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	auth := []string{"Authorization", "Bearer " + token}
	rest := func(method, path string, body any, want int, out any) {
		t.Helper()
		status, raw := s.Do(method, path, body, auth...)
		if status != want {
			t.Fatalf("%s %s: %d, want %d\n%s", method, path, status, want, raw)
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
		}
	}
	var proj, first, second, sess struct{ ID string }
	rest("POST", "/api/v2/projects", map[string]any{"name": "mcp e2e"}, 201, &proj)
	rest("POST", "/api/v2/tasks", map[string]any{"projectId": proj.ID, "title": "first", "priority": "high"}, 201, &first)
	rest("POST", "/api/v2/tasks", map[string]any{"projectId": proj.ID, "title": "second", "dependencies": []string{first.ID}}, 201, &second)
	rest("POST", "/api/sessions", map[string]any{"projectId": proj.ID, "taskIds": []string{}}, 201, &sess)

	ws, _, err := websocket.Dial(ctx, "ws://"+s.Addr, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.CloseNow()

	// Without the token the endpoint is closed, like the rest of the API.
	if status, _ := s.Do("POST", "/mcp", `{"jsonrpc":"2.0","id":1,"method":"ping"}`); status != http.StatusUnauthorized {
		t.Fatalf("POST /mcp without the token: %d", status)
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-agent", Version: "1.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: s.URL + "/mcp", DisableStandaloneSSE: true,
		HTTPClient: &http.Client{Transport: bearer{token: token, next: http.DefaultTransport}},
	}, nil)
	if err != nil {
		t.Fatalf("initialize: %v\n%s", err, s.Logs())
	}
	defer cs.Close()
	if ir := cs.InitializeResult(); ir == nil || ir.ServerInfo == nil || ir.ServerInfo.Name != "maestro-server" {
		t.Fatalf("initialize result %+v", ir)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	for _, want := range []string{"claim_next_task", "report_progress", "complete_task", "get_ready_tasks"} {
		if !slices.Contains(names, want) {
			t.Fatalf("tools %v lack %s", names, want)
		}
	}
	callTool := func(name string, args map[string]any, out any) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %+v", name, err, res)
		}
		raw, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %s: %v", name, raw, err)
		}
	}
	var claimed struct {
		Task *struct {
			ID     string
			Status string
			Lease  *struct{ Token int64 }
		}
	}
	callTool("claim_next_task", map[string]any{"projectId": proj.ID, "sessionId": sess.ID, "leaseSeconds": 120}, &claimed)
	if claimed.Task == nil || claimed.Task.ID != first.ID || claimed.Task.Status != "in_progress" || claimed.Task.Lease == nil {
		t.Fatalf("claimed %+v", claimed.Task)
	}
	var progress map[string]any
	callTool("report_progress", map[string]any{"taskId": first.ID, "sessionId": sess.ID, "message": "tests pass"}, &progress)
	var done struct{ Status string }
	callTool("complete_task", map[string]any{"taskId": first.ID, "leaseToken": claimed.Task.Lease.Token}, &done)
	if done.Status != "completed" {
		t.Fatalf("complete: %+v", done)
	}

	// The socket saw what the tools did, in order: the claim (task in progress, linked to the session),
	// the progress entry (session:updated), the completion.
	type envelope struct {
		Type, Event string
		Data        map[string]any
	}
	var got []string
	for len(got) < 6 {
		_, raw, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read after %v: %v", got, err)
		}
		var m envelope
		if err := json.Unmarshal(raw, &m); err != nil || m.Event == "" {
			continue
		}
		desc := m.Event
		if m.Event == "task:updated" {
			desc += " " + m.Data["id"].(string) + " " + m.Data["status"].(string)
		}
		got = append(got, desc)
	}
	want := []string{
		"task:updated " + first.ID + " in_progress", "task:session_added", "session:task_added", "session:updated",
		"session:updated",
		"task:updated " + first.ID + " completed",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n%v\nwant\n%v", got, want)
	}

	// The next task is ready now that its dependency is completed.
	var ready struct {
		Items []struct {
			Task  struct{ ID string }
			Ready bool
		}
	}
	rest("GET", "/api/v2/projects/"+proj.ID+"/tasks/ready", nil, 200, &ready)
	if len(ready.Items) != 1 || ready.Items[0].Task.ID != second.ID || !ready.Items[0].Ready {
		t.Fatalf("ready %+v", ready)
	}
	var audit struct {
		Items []struct{ Actor, Method, Route string }
	}
	rest("GET", "/api/v2/admin/audit?method=MCP", nil, 200, &audit)
	if len(audit.Items) != 3 || audit.Items[0].Actor != "mcp:e2e-agent" || audit.Items[0].Route != "tools/complete_task" {
		t.Fatalf("audit %+v", audit)
	}

	// mcp off: the endpoint is refused.
	rest("PUT", "/api/v2/flags/mcp", map[string]any{"enabled": false}, 200, nil)
	status, body := s.Do("POST", "/mcp", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, auth...)
	if status != http.StatusNotFound {
		t.Fatalf("POST /mcp with mcp off: %d %s", status, body)
	}
}

// TestE2E_ClaimRace has 100 concurrent HTTP clients claim the next task of one project on the real
// binary until nothing is ready: every task is handed out exactly once.
func TestE2E_ClaimRace(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var proj struct{ ID string }
	s.JSON("POST", "/api/v2/projects", map[string]any{"name": "race"}, 201, &proj)
	const tasks, claimers = 60, 100
	for i := range tasks {
		s.JSON("POST", "/api/v2/tasks", map[string]any{"projectId": proj.ID, "title": "t" + strconv.Itoa(i)}, 201, nil)
	}
	sessions := make([]string, claimers)
	for i := range sessions {
		var sess struct{ ID string }
		s.JSON("POST", "/api/sessions", map[string]any{"projectId": proj.ID, "taskIds": []string{}}, 201, &sess)
		sessions[i] = sess.ID
	}
	var mu sync.Mutex
	claimedBy := map[string][]string{}
	var wg sync.WaitGroup
	for i := range claimers {
		wg.Go(func() {
			for {
				raw, err := json.Marshal(map[string]any{"sessionId": sessions[i], "leaseSeconds": 600})
				if err != nil {
					t.Error(err)
					return
				}
				resp, err := http.Post(s.URL+"/api/v2/projects/"+proj.ID+"/tasks/next", "application/json", bytes.NewReader(raw))
				if err != nil {
					t.Error(err)
					return
				}
				var out struct {
					Task *struct{ ID string }
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || err != nil {
					t.Errorf("next: %d %v", resp.StatusCode, err)
					return
				}
				if out.Task == nil {
					return
				}
				mu.Lock()
				claimedBy[out.Task.ID] = append(claimedBy[out.Task.ID], sessions[i])
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimedBy) != tasks {
		t.Fatalf("%d of %d tasks claimed", len(claimedBy), tasks)
	}
	for id, by := range claimedBy {
		if len(by) != 1 {
			t.Errorf("task %s claimed %d times: %v", id, len(by), by)
		}
	}
}
