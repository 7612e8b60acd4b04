package v1_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/manifesttest"
	"github.com/maestro-hq/maestro-server/internal/store"
	_ "modernc.org/sqlite"
)

// sessNothingStored checks that no session, link, queue, event or manifest exists: what a refused or
// failed spawn must leave behind (D1).
func sessNothingStored(t *testing.T, env *apitest.Env, seq int64, tasks ...maestro.Task) {
	t.Helper()
	if types := env.OutboxTypesSince(seq); len(types) != 0 {
		t.Errorf("events recorded: %v", types)
	}
	for _, e := range env.Published.Events() {
		if e.Seq > seq {
			t.Errorf("event published: %s", e.Type)
		}
	}
	ss, err := env.Services.Sessions.List(context.Background(), maestro.SessionFilter{})
	if err != nil || len(ss) != 0 {
		t.Errorf("sessions stored: %d (%v)", len(ss), err)
	}
	for _, tk := range tasks {
		now := sessTask(t, env, tk.ID)
		if len(now.SessionIDs) != 0 || now.UpdatedAt != tk.UpdatedAt {
			t.Errorf("task %s changed: %+v", tk.ID, now)
		}
	}
	entries, _ := os.ReadDir(env.SessionDir)
	for _, e := range entries {
		t.Errorf("left in SESSION_DIR: %s", e.Name())
	}
	for _, table := range []string{"sessions", "task_sessions", "session_timeline", "queues", "queue_items"} {
		if n := sessCountRows(t, env, table); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
}

// sessCountRows counts the rows of a table, read straight from the database file.
func sessCountRows(t *testing.T, env *apitest.Env, table string) int {
	t.Helper()
	raw, err := sql.Open("sqlite", store.DSN(env.Store.Path()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSpawnAPI_Validation(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		sessSeed(t, env)
		p := env.Project("")
		tk := env.Task(p.ID, maestro.TaskCreate{})
		parent := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{}})
		tk = sessTask(t, env, tk.ID)
		seq := env.LastSeq()
		path := pre + "/sessions/spawn"
		ids := []string{tk.ID}
		wantTask := func(id string) func(*testing.T, *apitest.Response) {
			return func(t *testing.T, r *apitest.Response) {
				sessWantErr(maestro.CodeTaskNotFound, "Task "+id+" not found")(t, r)
				if d, _ := r.Object(t)["details"].(map[string]any); d["taskId"] != id {
					t.Errorf("details = %v, want taskId %s", d, id)
				}
			}
		}
		cases := []apitest.Case{
			{Name: "1 no projectId", Body: map[string]any{}, Status: 400,
				Check: sessWantErr(maestro.CodeMissingProjectID, "projectId is required")},
			{Name: "1 projectId before everything", Body: map[string]any{"taskIds": "x", "role": "bad", "spawnSource": "bad"}, Status: 400,
				Check: sessWantErr(maestro.CodeMissingProjectID, "projectId is required")},
			{Name: "1 empty body", Body: nil, Status: 400, Check: sessWantErr(maestro.CodeMissingProjectID, "projectId is required")},
			{Name: "2 no taskIds", Body: map[string]any{"projectId": p.ID}, Status: 400,
				Check: sessWantErr(maestro.CodeInvalidTaskIDs, "taskIds must be a non-empty array")},
			{Name: "2 null taskIds", Body: `{"projectId":"` + p.ID + `","taskIds":null}`, Status: 400, Check: sessWantErr(maestro.CodeInvalidTaskIDs, "taskIds must be a non-empty array")},
			{Name: "2 empty taskIds", Body: map[string]any{"projectId": p.ID, "taskIds": []string{}}, Status: 400, Check: sessWantErr(maestro.CodeInvalidTaskIDs, "taskIds must be a non-empty array")},
			{Name: "2 D23 string taskIds", Body: map[string]any{"projectId": p.ID, "taskIds": "abc"}, Status: 400, Check: sessWantErr(maestro.CodeInvalidTaskIDs, "taskIds must be a non-empty array")},
			{Name: "2 D23 object taskIds", Body: map[string]any{"projectId": p.ID, "taskIds": map[string]any{"a": 1}}, Status: 400, Check: sessWantErr(maestro.CodeInvalidTaskIDs, "taskIds must be a non-empty array")},
			{Name: "2 D23 numbers in taskIds", Body: map[string]any{"projectId": p.ID, "taskIds": []int{1}}, Status: 400, Check: sessWantErr(maestro.CodeInvalidTaskIDs, "taskIds must be a non-empty array")},
			{Name: "2 taskIds before spawnSource", Body: map[string]any{"projectId": p.ID, "spawnSource": "agent"}, Status: 400, Check: sessWantErr(maestro.CodeInvalidTaskIDs, "taskIds must be a non-empty array")},
			{Name: "3 agent spawnSource", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "spawnSource": "agent"}, Status: 400,
				Check: sessWantErr(maestro.CodeInvalidSpawnSource, `spawnSource must be "ui" or "session"`)},
			{Name: "3 spawnSource before role", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "spawnSource": "x", "role": "x"}, Status: 400,
				Check: sessWantErr(maestro.CodeInvalidSpawnSource, `spawnSource must be "ui" or "session"`)},
			{Name: "4 session source without sessionId", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "spawnSource": "session"}, Status: 400,
				Check: sessWantErr(maestro.CodeMissingSessionID, `sessionId is required when spawnSource is "session"`)},
			{Name: "4 parent missing, before role", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "spawnSource": "session", "sessionId": "sess_nope", "role": "x"}, Status: 404,
				Check: sessWantErr(maestro.CodeParentSessionMissing, "Parent session sess_nope not found")},
			{Name: "5 bad role", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "spawnSource": "session", "sessionId": parent.ID, "role": "tester"}, Status: 400,
				Check: sessWantErr(maestro.CodeInvalidRole, `role must be "worker" or "orchestrator"`)},
			{Name: "5 role before tasks", Body: map[string]any{"projectId": p.ID, "taskIds": []string{"task_nope"}, "role": "tester"}, Status: 400,
				Check: sessWantErr(maestro.CodeInvalidRole, `role must be "worker" or "orchestrator"`)},
			{Name: "6 first missing task", Body: map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID, "task_a", "task_b"}}, Status: 404,
				Check: wantTask("task_a")},
			{Name: "6 tasks before project", Body: map[string]any{"projectId": "proj_nope", "taskIds": []string{"task_a"}}, Status: 404,
				Check: wantTask("task_a")},
			{Name: "7 project missing", Body: map[string]any{"projectId": "proj_nope", "taskIds": ids}, Status: 404,
				Check: sessWantErr(maestro.CodeProjectNotFound, "Project proj_nope not found")},
			{Name: "7 project before strategy", Body: map[string]any{"projectId": "proj_nope", "taskIds": ids, "strategy": "tree"}, Status: 404,
				Check: sessWantErr(maestro.CodeProjectNotFound, "Project proj_nope not found")},
			{Name: "8 D3 tree", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "strategy": "tree"}, Status: 400,
				Check: sessWantErr(maestro.CodeInvalidStrategy, `strategy must be "simple" or "queue" ("tree" cannot be spawned)`)},
			{Name: "8 unknown strategy", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "strategy": "parallel"}, Status: 400,
				Check: sessWantErr(maestro.CodeInvalidStrategy, `strategy must be "simple" or "queue"`)},
			{Name: "D23 skills not an array", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "skills": "a,b"}, Status: 400,
				Check: sessWantField("skills")},
			{Name: "D23 skills not strings", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "skills": []int{1}}, Status: 400,
				Check: sessWantErr(maestro.CodeValidation, "")},
			{Name: "D23 context not an object", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "context": "x"}, Status: 400,
				Check: sessWantField("context")},
			{Name: "D23 role not a string", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "role": 1}, Status: 400,
				Check: sessWantField("role")},
			{Name: "D19 sessionName too long", Body: map[string]any{"projectId": p.ID, "taskIds": ids, "sessionName": strings.Repeat("n", 513)}, Status: 400,
				Check: sessWantField("sessionName")},
		}
		for i := range cases {
			cases[i].Method, cases[i].Path = "POST", path
		}
		env.Run(t, cases)
		// The parent session is the only session; nothing else was stored or sent.
		if types := env.OutboxTypesSince(seq); len(types) != 0 {
			t.Errorf("refused spawns recorded events: %v", types)
		}
		if ss, _ := env.Services.Sessions.List(context.Background(), maestro.SessionFilter{}); len(ss) != 1 {
			t.Errorf("refused spawns stored sessions: %d", len(ss))
		}
		if now := sessTask(t, env, tk.ID); len(now.SessionIDs) != 0 || now.UpdatedAt != tk.UpdatedAt {
			t.Errorf("refused spawns changed the task: %+v", now)
		}
		if entries, _ := os.ReadDir(env.SessionDir); len(entries) != 0 {
			t.Errorf("refused spawns wrote manifests: %v", entries)
		}
	})
}

func TestSpawnAPI_WorkerSimple(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		sessSeed(t, env)
		worker, err := env.Services.Templates.ForRole(context.Background(), maestro.RoleWorker)
		if err != nil {
			t.Fatal(err)
		}
		// A newer custom worker template never wins over the older default (SPEC §6.2).
		env.Do("POST", pre+"/templates", map[string]any{"name": "Custom", "role": "worker", "content": "c"})
		p := env.Project("")
		t1 := env.Task(p.ID, maestro.TaskCreate{Title: "First", Description: "Do <this> & that"})
		t2 := env.Task(p.ID, maestro.TaskCreate{Title: "Second", ParentID: t1.ID, Priority: "critical"})
		seq := env.LastSeq()
		r := env.Do("POST", pre+"/sessions/spawn", map[string]any{
			"projectId": p.ID, "taskIds": []string{t1.ID, t2.ID, t1.ID}, "skills": []string{"maestro-worker"},
			"spawnedBy": "ignored", "model": "opus",
		})
		if r.Status != 201 {
			t.Fatalf("spawn: %d %s", r.Status, r.Body)
		}
		var reply struct {
			Success      bool            `json:"success"`
			SessionID    string          `json:"sessionId"`
			ManifestPath string          `json:"manifestPath"`
			Message      string          `json:"message"`
			Session      maestro.Session `json:"session"`
		}
		r.Decode(t, &reply)
		if keys := r.Object(t); len(keys) != 5 {
			t.Errorf("reply has extra members (no envVars/command/cwd): %s", r.Body)
		}
		s := reply.Session
		if !reply.Success || reply.Message != "Spawn request sent to Agents UI" || reply.SessionID != s.ID {
			t.Errorf("reply = %+v", reply)
		}
		wantPath := filepath.Join(env.SessionDir, s.ID, "manifest.json")
		if !filepath.IsAbs(reply.ManifestPath) || reply.ManifestPath != wantPath {
			t.Errorf("manifestPath = %s, want %s (absolute, D27)", reply.ManifestPath, wantPath)
		}
		wantEnv := map[string]string{
			"MAESTRO_SESSION_ID": s.ID, "MAESTRO_MANIFEST_PATH": wantPath,
			"MAESTRO_SERVER_URL": "http://localhost:3000", "MAESTRO_STRATEGY": "simple",
		}
		if fmt.Sprint(s.Env) != fmt.Sprint(wantEnv) {
			t.Errorf("env = %v, want %v", s.Env, wantEnv)
		}
		if s.Status != "spawning" || s.Strategy != "simple" || s.Name != "Worker for "+t1.ID ||
			!slices.Equal(s.TaskIDs, []string{t1.ID, t2.ID}) || s.ProjectID != p.ID || s.LastActivity <= s.StartedAt {
			t.Errorf("session = %+v", s)
		}
		if string(s.Metadata) != `{"skills":["maestro-worker"],"spawnedBy":null,"spawnSource":"ui","role":"worker","strategy":"simple","context":{}}` {
			t.Errorf("metadata = %s", s.Metadata)
		}
		tl := sessTimeline(t, s)
		if len(tl) != 3 || tl[0]["type"] != "session_started" || tl[1]["taskId"] != t1.ID || tl[2]["taskId"] != t2.ID {
			t.Errorf("timeline = %v", tl)
		}
		for _, tk := range []maestro.Task{t1, t2} {
			if got := sessTask(t, env, tk.ID); !slices.Equal(got.SessionIDs, []string{s.ID}) {
				t.Errorf("task %s sessionIds = %v", tk.ID, got.SessionIDs)
			}
		}
		if stored := sessGet(t, env, s.ID); fmt.Sprint(stored.Env) != fmt.Sprint(wantEnv) {
			t.Errorf("stored env = %v", stored.Env)
		}

		// The manifest file: what the CLI reads at init.
		data, err := os.ReadFile(wantPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := manifesttest.Validate(data); err != nil {
			t.Errorf("manifest fails the CLI's schema: %v\n%s", err, data)
		}
		if err := manifesttest.CheckKeyOrder(data); err != nil {
			t.Errorf("manifest key order: %v", err)
		}
		var m maestro.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Role != "worker" || m.Strategy != "simple" || m.TemplateID != worker.ID || len(m.Tasks) != 2 ||
			m.Tasks[0].ID != t1.ID || m.Tasks[1].ParentID == nil || *m.Tasks[1].ParentID != t1.ID ||
			m.Tasks[1].Priority != "critical" || m.Session.WorkingDirectory != p.WorkingDir ||
			!slices.Equal(m.Skills, []string{"maestro-worker"}) || !slices.Equal(m.Context.Custom.TaskIDs, []string{t1.ID, t2.ID}) {
			t.Errorf("manifest = %+v", m)
		}
		if !strings.Contains(string(data), "\n  \"role\": \"worker\",\n") || !strings.Contains(string(data), "Do <this> & that") {
			t.Errorf("manifest is not 2-space JSON without HTML escaping:\n%s", data)
		}

		// Events: session:updated, session:spawn, task:session_added per task; never session:created.
		evs := sessWantTypes(t, env, seq, maestro.EventSessionUpdated, maestro.EventSessionSpawn,
			maestro.EventTaskSessionAdded, maestro.EventTaskSessionAdded)
		if len(evs) != 4 {
			return
		}
		if upd := sessPayload(t, evs[0]); upd["status"] != "spawning" || upd["env"].(map[string]any)["MAESTRO_SESSION_ID"] != s.ID {
			t.Errorf("session:updated = %v", upd)
		}
		var spawn maestro.SpawnPayload
		if err := json.Unmarshal(evs[1].Data, &spawn); err != nil {
			t.Fatal(err)
		}
		if spawn.Command != "maestro worker init" || spawn.Cwd != p.WorkingDir || fmt.Sprint(spawn.EnvVars) != fmt.Sprint(wantEnv) ||
			spawn.ProjectID != p.ID || !slices.Equal(spawn.TaskIDs, []string{t1.ID, t2.ID}) || spawn.SpawnSource != "ui" ||
			spawn.ParentSessionID != nil || !spawn.IsSpawnCreated || spawn.Session.ID != s.ID ||
			spawn.Session.Status != "spawning" || spawn.Session.Env["MAESTRO_STRATEGY"] != "simple" {
			t.Errorf("session:spawn = %+v", spawn)
		}
		if !strings.Contains(string(evs[1].Data), `"parentSessionId":null`) || !strings.Contains(string(evs[1].Data), `"_isSpawnCreated":true`) {
			t.Errorf("session:spawn payload: %s", evs[1].Data)
		}
		var em maestro.Manifest
		if err := json.Unmarshal(spawn.Manifest, &em); err != nil || em.TemplateID != worker.ID || len(em.Tasks) != 2 {
			t.Errorf("session:spawn manifest = %s (%v)", spawn.Manifest, err)
		}
		for i, tk := range []maestro.Task{t1, t2} {
			if got := sessPayload(t, evs[2+i]); got["taskId"] != tk.ID || got["sessionId"] != s.ID {
				t.Errorf("task:session_added %d = %v", i, got)
			}
		}
	})
}

func TestSpawnAPI_OrchestratorQueueFromSession(t *testing.T) {
	t.Parallel()
	sessForEachPrefix(t, func(t *testing.T, env *apitest.Env, pre string) {
		sessSeed(t, env)
		orch, err := env.Services.Templates.ForRole(context.Background(), maestro.RoleOrchestrator)
		if err != nil {
			t.Fatal(err)
		}
		p, err := env.Services.Projects.Create(context.Background(), maestro.ProjectCreate{Name: "No dir"})
		if err != nil {
			t.Fatal(err)
		}
		t1 := env.Task(p.ID, maestro.TaskCreate{})
		t2 := env.Task(p.ID, maestro.TaskCreate{})
		parent := sessCreate(t, env, pre, map[string]any{"projectId": p.ID, "taskIds": []string{t1.ID}})
		seq := env.LastSeq()
		s := sessSpawn(t, env, pre, map[string]any{
			"projectId": p.ID, "taskIds": []string{t1.ID, t2.ID}, "role": "orchestrator", "strategy": "queue",
			"spawnSource": "session", "sessionId": parent.ID, "sessionName": "Plan it",
			"context": json.RawMessage(`{"reason":"split","b":[1]}`),
		})
		if s.Name != "Plan it" || s.Strategy != "queue" || s.Env["MAESTRO_STRATEGY"] != "queue" {
			t.Errorf("session = %+v", s)
		}
		if string(s.Metadata) != `{"skills":[],"spawnedBy":"`+parent.ID+`","spawnSource":"session","role":"orchestrator","strategy":"queue","context":{"reason":"split","b":[1]}}` {
			t.Errorf("metadata = %s", s.Metadata)
		}
		evs := sessWantTypes(t, env, seq, maestro.EventSessionUpdated, maestro.EventSessionSpawn,
			maestro.EventTaskSessionAdded, maestro.EventTaskSessionAdded, maestro.EventQueueCreated)
		if len(evs) == 5 {
			var spawn maestro.SpawnPayload
			_ = json.Unmarshal(evs[1].Data, &spawn)
			if spawn.Command != "maestro orchestrator init" || spawn.Cwd != "" || spawn.SpawnSource != "session" ||
				spawn.ParentSessionID == nil || *spawn.ParentSessionID != parent.ID {
				t.Errorf("session:spawn = %+v", spawn)
			}
			var qc maestro.QueueCreatedPayload
			_ = json.Unmarshal(evs[4].Data, &qc)
			if qc.SessionID != s.ID || len(qc.Queue.Items) != 2 || qc.Queue.CurrentIndex != -1 || qc.Queue.Strategy != "queue" {
				t.Errorf("queue:created = %s", evs[4].Data)
			}
		}
		data, err := os.ReadFile(s.Env["MAESTRO_MANIFEST_PATH"])
		if err != nil {
			t.Fatal(err)
		}
		if err := manifesttest.Validate(data); err != nil {
			t.Errorf("schema: %v\n%s", err, data)
		}
		var m maestro.Manifest
		_ = json.Unmarshal(data, &m)
		if m.Role != "orchestrator" || m.Strategy != "queue" || m.TemplateID != orch.ID || m.Session.WorkingDirectory != "" ||
			m.Skills == nil || len(m.Skills) != 0 || strings.Contains(string(data), "workingDirectory") || strings.Contains(string(data), `"reason"`) {
			t.Errorf("manifest:\n%s", data)
		}
		r := env.Do("GET", pre+"/sessions/"+s.ID+"/queue", nil)
		var q struct {
			Queue maestro.Queue
			Stats maestro.QueueStats
		}
		r.Decode(t, &q)
		if r.Status != 200 || len(q.Queue.Items) != 2 || q.Queue.Items[0].TaskID != t1.ID || q.Queue.Items[1].Status != "queued" ||
			q.Stats.Queued != 2 || q.Stats.Total != 2 {
			t.Errorf("queue: %d %s", r.Status, r.Body)
		}
	})
}

func TestSpawnAPI_UISourceRecordsUncheckedParentAndNoTemplate(t *testing.T) {
	t.Parallel()
	env := apitest.New(t) // no templates seeded: the manifest simply has no templateId
	p := env.Project("")
	tk := env.Task(p.ID, maestro.TaskCreate{})
	s := sessSpawn(t, env, "/api", map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}, "sessionId": "sess_elsewhere"})
	if !strings.Contains(string(s.Metadata), `"spawnedBy":"sess_elsewhere"`) {
		t.Errorf("metadata = %s", s.Metadata)
	}
	data, err := os.ReadFile(s.Env["MAESTRO_MANIFEST_PATH"])
	if err != nil {
		t.Fatal(err)
	}
	if err := manifesttest.Validate(data); err != nil || strings.Contains(string(data), "templateId") {
		t.Errorf("manifest (%v):\n%s", err, data)
	}
}

// TestSpawnAPI_ManifestCombinations spawns every role × strategy × skills × working directory × parent
// task combination over HTTP and validates each manifest FILE against the CLI's schema and the
// predecessor's key order.
func TestSpawnAPI_ManifestCombinations(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	sessSeed(t, env)
	withDir := env.Project("with dir")
	noDir, err := env.Services.Projects.Create(context.Background(), maestro.ProjectCreate{Name: "no dir"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, role := range []string{"worker", "orchestrator"} {
		for _, strategy := range []string{"simple", "queue"} {
			for _, skills := range [][]string{nil, {"maestro-cli", "maestro-" + role}} {
				for _, p := range []maestro.Project{withDir, noDir} {
					for _, withParent := range []bool{false, true} {
						name := fmt.Sprintf("%s/%s/skills=%d/dir=%t/parent=%t", role, strategy, len(skills), p.WorkingDir != "", withParent)
						root := env.Task(p.ID, maestro.TaskCreate{Title: "Root"})
						tk := root
						if withParent {
							tk = env.Task(p.ID, maestro.TaskCreate{Title: "Child", ParentID: root.ID, Priority: "low"})
						}
						body := map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}, "role": role, "strategy": strategy}
						if skills != nil {
							body["skills"] = skills
						}
						s := sessSpawn(t, env, "/api", body)
						data, err := os.ReadFile(s.Env["MAESTRO_MANIFEST_PATH"])
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						if err := manifesttest.Validate(data); err != nil {
							t.Errorf("%s: schema: %v\n%s", name, err, data)
						}
						if err := manifesttest.CheckKeyOrder(data); err != nil {
							t.Errorf("%s: %v", name, err)
						}
						if skills == nil && !strings.Contains(string(data), `"skills": []`) {
							t.Errorf("%s: skills must be []:\n%s", name, data)
						}
						if withParent != strings.Contains(string(data), `"parentId": "`+root.ID+`"`) {
							t.Errorf("%s: parentId:\n%s", name, data)
						}
						n++
					}
				}
			}
		}
	}
	if n != 32 {
		t.Fatalf("ran %d combinations", n)
	}
}

func TestSpawnAPI_D1FailedManifestStoresNothing(t *testing.T) {
	t.Parallel()
	t.Run("session dir unusable", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		sessSeed(t, env)
		p := env.Project("")
		tk := env.Task(p.ID, maestro.TaskCreate{})
		// SESSION_DIR is a regular file: mkdir -p <SESSION_DIR>/<id> cannot succeed, whoever runs the test.
		if err := os.WriteFile(env.SessionDir, []byte("not a directory"), 0o644); err != nil {
			t.Fatal(err)
		}
		seq := env.LastSeq()
		r := env.Do("POST", "/api/sessions/spawn", map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}, "strategy": "queue"})
		if r.Status != 500 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		sessWantErr(maestro.CodeManifestFailed, "")(t, r)
		if msg := r.Object(t)["message"].(string); !strings.HasPrefix(msg, "Failed to generate manifest: ") || !strings.Contains(msg, "not a directory") {
			t.Errorf("message = %q", msg)
		}
		if types := env.OutboxTypesSince(seq); len(types) != 0 {
			t.Errorf("events recorded: %v", types)
		}
		if ss, _ := env.Services.Sessions.List(context.Background(), maestro.SessionFilter{}); len(ss) != 0 {
			t.Errorf("sessions stored: %d", len(ss))
		}
		if got := sessTask(t, env, tk.ID); len(got.SessionIDs) != 0 || got.UpdatedAt != tk.UpdatedAt {
			t.Errorf("task changed: %+v", got)
		}
		for _, table := range []string{"sessions", "task_sessions", "session_timeline", "queues", "queue_items"} {
			if n := sessCountRows(t, env, table); n != 0 {
				t.Errorf("%d rows left in %s", n, table)
			}
		}
	})
	t.Run("task priority the manifest refuses", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		p := env.Project("")
		ok := env.Task(p.ID, maestro.TaskCreate{})
		bad := env.Task(p.ID, maestro.TaskCreate{Priority: "urgent"}) // v1 stores any priority string
		seq := env.LastSeq()
		r := env.Do("POST", "/api/sessions/spawn", map[string]any{"projectId": p.ID, "taskIds": []string{ok.ID, bad.ID}, "strategy": "queue"})
		if r.Status != 500 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		sessWantErr(maestro.CodeManifestFailed, "")(t, r)
		if msg := r.Object(t)["message"].(string); !strings.Contains(msg, bad.ID) || !strings.Contains(msg, "urgent") {
			t.Errorf("message does not say what is wrong: %q", msg)
		}
		sessNothingStored(t, env, seq, ok, bad)
	})
	t.Run("failure after the manifest was written removes it", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		p := env.Project("")
		tk := env.Task(p.ID, maestro.TaskCreate{})
		// Make the last write of the spawn (the env update, after the manifest file exists) fail.
		raw, err := sql.Open("sqlite", store.DSN(env.Store.Path()))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Exec(`CREATE TRIGGER fail_spawn_env BEFORE UPDATE OF env ON sessions
			WHEN NEW.env LIKE '%MAESTRO_MANIFEST_PATH%' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
			t.Fatal(err)
		}
		seq := env.LastSeq()
		r := env.Do("POST", "/api/sessions/spawn", map[string]any{"projectId": p.ID, "taskIds": []string{tk.ID}})
		if r.Status != 500 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		sessWantErr(maestro.CodeSpawnError, "Failed to spawn session")(t, r)
		if strings.Contains(string(r.Body), "injected") {
			t.Errorf("internal cause leaked to the client: %s", r.Body)
		}
		sessNothingStored(t, env, seq, tk)
	})
}
