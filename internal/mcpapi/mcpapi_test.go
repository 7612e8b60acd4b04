package mcpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/mcpapi"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// skillsFake is a one-skill catalog.
type skillsFake struct{}

var reviewSkill = maestro.SkillDetail{SkillSummary: maestro.SkillSummary{ID: "code-review", Name: "Code review",
	Description: "Reviews diffs"}, Instructions: "# Review\nRead the diff twice."}

func (skillsFake) ListSkills() []maestro.SkillDetail { return []maestro.SkillDetail{reviewSkill} }
func (skillsFake) GetSkill(id string) (maestro.SkillDetail, error) {
	if id == reviewSkill.ID {
		return reviewSkill, nil
	}
	return maestro.SkillDetail{}, maestro.NotFound("Skill", id)
}
func (skillsFake) SkillsForRole(string) ([]maestro.SkillDetail, error) { return nil, nil }
func (skillsFake) ReloadSkill(context.Context, string) (maestro.SkillDetail, error) {
	return maestro.SkillDetail{}, nil
}
func (skillsFake) InvalidSkills() []maestro.InvalidSkill { return nil }

type mcpEnv struct {
	*apitest.Env
	url string
}

func newEnv(t *testing.T) *mcpEnv {
	t.Helper()
	env := apitest.New(t, func(o *httpapi.Options) {
		o.MCP = mcpapi.Handler(mcpapi.Options{Services: o.Services, Flags: o.Flags, Skills: skillsFake{}, Logger: o.Logger})
	})
	srv := httptest.NewServer(env.Handler)
	t.Cleanup(srv.Close)
	return &mcpEnv{Env: env, url: srv.URL + "/mcp"}
}

func (e *mcpEnv) connect(t *testing.T, name string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1.0"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: e.url, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call runs a tool and decodes its structured result into out (nil: not decoded). It returns the
// result for error checks.
func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v", tool, err)
	}
	if out != nil {
		if res.IsError {
			t.Fatalf("%s: tool error %v", tool, text(res))
		}
		raw, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v in %s", tool, err, raw)
		}
	}
	return res
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// toolError checks that res is a tool error carrying code.
func toolError(t *testing.T, res *mcp.CallToolResult, code maestro.Code) {
	t.Helper()
	if !res.IsError || res.Meta["code"] != string(code) || !strings.HasPrefix(text(res), string(code)+": ") || res.StructuredContent != nil {
		t.Fatalf("result %+v (%s), want a tool error with code %s", res, text(res), code)
	}
}

type taskOut struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Lease  *struct {
		SessionID string `json:"sessionId"`
		Token     int64  `json:"token"`
	} `json:"lease"`
}

// TestMCP_tools drives an agent through the tools with the SDK's own client: it sees the tool list with
// schemas, claims the next task, reports progress, is refused with a stale token, and completes the task;
// the events are those of REST, and the audit rows name the MCP client.
func TestMCP_tools(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.Project("agents")
	first := e.Task(p.ID, maestro.TaskCreate{Title: "first"})
	e.Task(p.ID, maestro.TaskCreate{Title: "second", Dependencies: []string{first.ID}})
	sess, err := e.Services.Sessions.Create(context.Background(), maestro.SessionCreate{ProjectID: p.ID, TaskIDs: &[]string{}})
	if err != nil {
		t.Fatal(err)
	}
	cs := e.connect(t, "test-agent")
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
		if tl.InputSchema == nil || tl.OutputSchema == nil {
			t.Errorf("tool %s without generated schemas", tl.Name)
		}
	}
	for _, want := range []string{"list_projects", "list_tasks", "get_task", "create_task", "update_task", "claim_next_task",
		"claim_task", "renew_lease", "release_task", "complete_task", "report_progress", "get_ready_tasks"} {
		if !slices.Contains(names, want) {
			t.Errorf("tool %s missing from %v", want, names)
		}
	}

	var projects struct {
		Projects []struct{ ID string } `json:"projects"`
	}
	call(t, cs, "list_projects", nil, &projects)
	if len(projects.Projects) != 1 || projects.Projects[0].ID != p.ID {
		t.Fatalf("projects %+v", projects)
	}
	var ready struct {
		Tasks []struct {
			Task      taskOut  `json:"task"`
			Ready     bool     `json:"ready"`
			BlockedBy []string `json:"blockedBy"`
		} `json:"tasks"`
	}
	call(t, cs, "get_ready_tasks", map[string]any{"projectId": p.ID}, &ready)
	if len(ready.Tasks) != 2 || !ready.Tasks[0].Ready || ready.Tasks[1].Ready || ready.Tasks[1].BlockedBy[0] != first.ID {
		t.Fatalf("ready %+v", ready)
	}

	seq := e.LastSeq()
	var claimed struct {
		Task *taskOut `json:"task"`
	}
	call(t, cs, "claim_next_task", map[string]any{"projectId": p.ID, "sessionId": sess.ID, "leaseSeconds": 60}, &claimed)
	if claimed.Task == nil || claimed.Task.ID != first.ID || claimed.Task.Lease == nil || claimed.Task.Lease.Token != 1 {
		t.Fatalf("claim %+v", claimed.Task)
	}
	if got := e.OutboxTypesSince(seq); !slices.Equal(got, []string{maestro.EventTaskUpdated, maestro.EventTaskSessionAdded,
		maestro.EventSessionTaskAdded, maestro.EventSessionUpdated}) {
		t.Fatalf("claim events %v", got)
	}
	var nothing struct {
		Task *taskOut `json:"task"`
	}
	call(t, cs, "claim_next_task", map[string]any{"projectId": p.ID, "sessionId": sess.ID}, &nothing)
	if nothing.Task != nil {
		t.Fatalf("second claim got %+v, want null", nothing.Task)
	}
	toolError(t, call(t, cs, "claim_task", map[string]any{"taskId": first.ID, "sessionId": sess.ID}, nil), maestro.CodeTaskNotClaimable)

	var progress struct{ Type, Message string }
	call(t, cs, "report_progress", map[string]any{"taskId": first.ID, "sessionId": sess.ID, "message": "half way"}, &progress)
	if progress.Type != maestro.TimelineProgress || progress.Message != "half way" {
		t.Fatalf("progress %+v", progress)
	}
	toolError(t, call(t, cs, "complete_task", map[string]any{"taskId": first.ID, "leaseToken": 9}, nil), maestro.CodeLeaseTokenStale)
	toolError(t, call(t, cs, "get_task", map[string]any{"taskId": "task_nope"}, nil), maestro.CodeNotFound)
	toolError(t, call(t, cs, "update_task", map[string]any{"taskId": first.ID, "status": "done"}, nil), maestro.CodeValidation)

	var done taskOut
	call(t, cs, "complete_task", map[string]any{"taskId": first.ID, "leaseToken": 1}, &done)
	if done.Status != maestro.TaskCompleted || done.Lease != nil {
		t.Fatalf("complete %+v", done)
	}

	// The audit log: one row per mutating tool call, actor mcp:<client>, and none for the POSTs.
	r := e.Do("GET", "/api/v2/admin/audit?limit=100", nil)
	var audit struct {
		Items []maestro.AuditEntry `json:"items"`
	}
	r.Decode(t, &audit)
	var routes []string
	for _, it := range audit.Items {
		if it.Route == "/mcp" {
			t.Errorf("HTTP audit row for a successful MCP POST: %+v", it)
		}
		if it.Method == "MCP" {
			if it.Actor != "mcp:test-agent" || it.RequestID == "" {
				t.Errorf("audit row %+v", it)
			}
			routes = append(routes, it.Route+" "+http.StatusText(it.Status))
		}
	}
	slices.Reverse(routes)
	want := []string{"tools/claim_next_task OK", "tools/claim_next_task OK", "tools/claim_task Conflict",
		"tools/report_progress OK", "tools/complete_task Conflict", "tools/update_task Unprocessable Entity", "tools/complete_task OK"}
	if !slices.Equal(routes, want) {
		t.Fatalf("MCP audit rows\n%v\nwant\n%v", routes, want)
	}
}

// TestMCP_promptsAndResources: templates are prompts, skills are resources.
func TestMCP_promptsAndResources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tmpl, err := e.Services.Templates.Create(context.Background(), maestro.TemplateCreate{Name: "Reviewer", Role: maestro.RoleWorker, Content: "Review ${TASK_TITLE}"})
	if err != nil {
		t.Fatal(err)
	}
	cs := e.connect(t, "prompt-reader")
	prompts, err := cs.ListPrompts(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range prompts.Prompts {
		found = found || (p.Name == tmpl.ID && p.Title == "Reviewer")
	}
	if !found {
		t.Fatalf("prompts %+v lack the template", prompts.Prompts)
	}
	got, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: tmpl.ID})
	if err != nil || len(got.Messages) != 1 || got.Messages[0].Content.(*mcp.TextContent).Text != tmpl.Content {
		t.Fatalf("prompt %+v, %v", got, err)
	}
	res, err := cs.ListResources(context.Background(), nil)
	if err != nil || len(res.Resources) != 1 || res.Resources[0].URI != "skill://code-review" {
		t.Fatalf("resources %+v, %v", res, err)
	}
	rr, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "skill://code-review"})
	if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != reviewSkill.Instructions {
		t.Fatalf("read %+v, %v", rr, err)
	}
	if _, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "skill://nope"}); err == nil {
		t.Fatal("reading an unknown skill succeeded")
	}
}

// TestMCP_flagsOff: with mcp off the endpoint refuses every request with 404 FEATURE_DISABLED (a client
// cannot even initialize); with task-leases off the lease tools answer FEATURE_DISABLED tool errors.
func TestMCP_flagsOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.Project("agents")
	task := e.Task(p.ID, maestro.TaskCreate{Title: "t"})
	cs := e.connect(t, "flag-tester")
	if r := e.Do("PUT", "/api/v2/flags/task-leases", map[string]any{"enabled": false}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"claim_next_task", map[string]any{"projectId": p.ID, "sessionId": "s"}},
		{"claim_task", map[string]any{"taskId": task.ID, "sessionId": "s"}},
		{"renew_lease", map[string]any{"taskId": task.ID, "leaseToken": 1}},
		{"release_task", map[string]any{"taskId": task.ID, "leaseToken": 1}},
		{"complete_task", map[string]any{"taskId": task.ID, "leaseToken": 1}},
		{"get_ready_tasks", map[string]any{"projectId": p.ID}},
	} {
		toolError(t, call(t, cs, c.tool, c.args, nil), maestro.CodeFeatureDisabled)
	}
	if r := e.Do("PUT", "/api/v2/flags/mcp", map[string]any{"enabled": false}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	r := e.Do("POST", "/mcp", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`, "Accept", "application/json, text/event-stream")
	var prob map[string]any
	r.Decode(t, &prob)
	if d, _ := prob["details"].(map[string]any); r.Status != 404 || prob["code"] != "FEATURE_DISABLED" || d["flag"] != "mcp" {
		t.Fatalf("POST /mcp with mcp off: %d %s", r.Status, r.Body)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "late", Version: "1"}, nil)
	if _, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: e.url, DisableStandaloneSSE: true}, nil); err == nil {
		t.Fatal("a client connected with mcp off")
	}
	if _, err := cs.ListTools(context.Background(), nil); err == nil {
		t.Fatal("an open session kept working with mcp off")
	}
}

// TestMCP_origin: a browser page of a foreign origin is refused; the UI's origins are not.
func TestMCP_origin(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(o *httpapi.Options) {
		o.CORSOrigins = []string{"tauri://localhost"}
		o.MCP = mcpapi.Handler(mcpapi.Options{Services: o.Services, Flags: o.Flags, Origins: o.CORSOrigins})
	})
	body := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	if r := e.Do("POST", "/mcp", body, "Origin", "https://evil.example"); r.Status != 403 {
		t.Fatalf("foreign origin: %d %s", r.Status, r.Body)
	}
	// The server's guard refuses unsafe methods from foreign origins; the MCP endpoint refuses its event
	// stream (GET) to them too.
	if r := e.Do("GET", "/mcp", nil, "Origin", "https://evil.example", "Accept", "text/event-stream"); r.Status != 403 {
		t.Fatalf("foreign origin GET: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/mcp", body, "Origin", "tauri://localhost", "Accept", "application/json, text/event-stream"); r.Status == 403 {
		t.Fatalf("UI origin refused: %s", r.Body)
	}
	// DNS rebinding: on a loopback connection, a Host that is not a loopback name is refused.
	srv := httptest.NewServer(e.Handler)
	defer srv.Close()
	req, err := http.NewRequest("POST", srv.URL+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "rebind.example"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("Host rebind.example on loopback: %d", resp.StatusCode)
	}
}
