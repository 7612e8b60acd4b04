package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/manifesttest"
)

type e2eSpawnReply struct {
	Success      bool            `json:"success"`
	SessionID    string          `json:"sessionId"`
	ManifestPath string          `json:"manifestPath"`
	Message      string          `json:"message"`
	Session      maestro.Session `json:"session"`
}

// TestE2E_SpawnAndQueue runs the real binary: it spawns a worker (simple), a worker (queue) and an
// orchestrator over HTTP, checks each manifest FILE the way the CLI does at init (schema, key order,
// template id), and drives the queue to the end.
func TestE2E_SpawnAndQueue(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	_, port, _ := net.SplitHostPort(s.Addr)

	var project maestro.Project
	s.JSON("POST", "/api/projects", map[string]any{"name": "E2E spawn", "workingDir": "/tmp/e2e-spawn"}, 201, &project)
	newTask := func(title string, extra map[string]any) maestro.Task {
		body := map[string]any{"projectId": project.ID, "title": title}
		for k, v := range extra {
			body[k] = v
		}
		var tk maestro.Task
		s.JSON("POST", "/api/tasks", body, 201, &tk)
		return tk
	}
	t1 := newTask("Parent", map[string]any{"priority": "high"})
	t2 := newTask("Child", map[string]any{"parentId": t1.ID, "description": "x"})
	t3 := newTask("Third", nil)
	t4 := newTask("Pushed later", nil)

	// The server seeded the default templates at start; spawn records the role's template in the manifest.
	templateOf := func(role string) string {
		var tmpl maestro.Template
		s.JSON("GET", "/api/templates/role/"+role, nil, 200, &tmpl)
		if !tmpl.IsDefault {
			t.Fatalf("role %s template is not the seeded default: %+v", role, tmpl)
		}
		return tmpl.ID
	}

	spawn := func(body map[string]any) (e2eSpawnReply, maestro.Manifest) {
		t.Helper()
		var reply e2eSpawnReply
		s.JSON("POST", "/api/sessions/spawn", body, 201, &reply)
		want := filepath.Join(s.SessionDir, reply.SessionID, "manifest.json")
		if !reply.Success || reply.Message != "Spawn request sent to Agents UI" || reply.ManifestPath != want {
			t.Fatalf("reply = %+v (manifest want %s)", reply, want)
		}
		env := reply.Session.Env
		if env["MAESTRO_SESSION_ID"] != reply.SessionID || env["MAESTRO_MANIFEST_PATH"] != want ||
			env["MAESTRO_SERVER_URL"] != "http://localhost:"+port || env["MAESTRO_STRATEGY"] != body["strategy"] {
			t.Errorf("env = %v", env)
		}
		data, err := os.ReadFile(env["MAESTRO_MANIFEST_PATH"])
		if err != nil {
			t.Fatalf("manifest file: %v", err)
		}
		if err := manifesttest.Validate(data); err != nil {
			t.Errorf("manifest fails the CLI schema: %v\n%s", err, data)
		}
		if err := manifesttest.CheckKeyOrder(data); err != nil {
			t.Errorf("manifest key order: %v\n%s", err, data)
		}
		var m maestro.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return reply, m
	}

	// A worker, simple strategy, one skill.
	w, wm := spawn(map[string]any{"projectId": project.ID, "taskIds": []string{t1.ID}, "strategy": "simple", "skills": []string{"maestro-worker"}})
	if wm.Role != "worker" || wm.Strategy != "simple" || wm.TemplateID != templateOf("worker") ||
		!slices.Equal(wm.Skills, []string{"maestro-worker"}) || wm.Session.WorkingDirectory != "/tmp/e2e-spawn" ||
		len(wm.Tasks) != 1 || wm.Tasks[0].Priority != "high" || w.Session.Status != "spawning" {
		t.Errorf("worker manifest = %+v", wm)
	}

	// An orchestrator over two tasks, no skills: "skills": [] (never [""]).
	o, om := spawn(map[string]any{"projectId": project.ID, "taskIds": []string{t1.ID, t2.ID}, "role": "orchestrator", "strategy": "simple"})
	if om.Role != "orchestrator" || om.TemplateID != templateOf("orchestrator") || om.Skills == nil || len(om.Skills) != 0 ||
		len(om.Tasks) != 2 || om.Tasks[1].ParentID == nil || *om.Tasks[1].ParentID != t1.ID || o.Session.Name != "Orchestrator for "+t1.ID {
		t.Errorf("orchestrator manifest = %+v", om)
	}

	// A worker with the queue strategy, spawned by the orchestrator (as the CLI's agent spawn does).
	q, qm := spawn(map[string]any{
		"projectId": project.ID, "taskIds": []string{t2.ID, t3.ID}, "strategy": "queue", "skills": []string{"a", "b"},
		"spawnSource": "session", "sessionId": o.SessionID, "sessionName": "Queue worker", "context": map[string]any{"reason": "split"},
	})
	if qm.Strategy != "queue" || q.Session.Name != "Queue worker" || !strings.Contains(string(q.Session.Metadata), `"spawnedBy":"`+o.SessionID+`"`) {
		t.Errorf("queue worker = %+v / %+v", q.Session, qm)
	}

	// Drive the queue to the end as the CLI does: top, start, complete/fail/skip, push.
	base := "/api/sessions/" + q.SessionID + "/queue"
	var top struct {
		HasMore bool               `json:"hasMore"`
		Item    *maestro.QueueItem `json:"item"`
		Message string             `json:"message"`
	}
	var step struct {
		Success       bool               `json:"success"`
		Empty         bool               `json:"empty"`
		Item          *maestro.QueueItem `json:"item"`
		CompletedItem *maestro.QueueItem `json:"completedItem"`
		FailedItem    *maestro.QueueItem `json:"failedItem"`
		SkippedItem   *maestro.QueueItem `json:"skippedItem"`
		NextItem      *maestro.QueueItem `json:"nextItem"`
		HasMore       bool               `json:"hasMore"`
		Message       string             `json:"message"`
	}
	reset := func() {
		step.Item, step.CompletedItem, step.FailedItem, step.SkippedItem, step.NextItem = nil, nil, nil, nil, nil
	}

	s.JSON("GET", base+"/top", nil, 200, &top)
	if !top.HasMore || top.Item.TaskID != t2.ID {
		t.Fatalf("top = %+v", top)
	}
	s.JSON("POST", base+"/start", map[string]any{}, 200, &step)
	if step.Item.TaskID != t2.ID || step.Item.Status != "processing" {
		t.Fatalf("start = %+v", step)
	}
	var task maestro.Task
	s.JSON("GET", "/api/tasks/"+t2.ID, nil, 200, &task)
	if task.SessionStatus == nil || *task.SessionStatus != "working" {
		t.Errorf("task sessionStatus after start = %v", task.SessionStatus)
	}
	reset()
	s.JSON("POST", base+"/complete", map[string]any{}, 200, &step)
	if step.CompletedItem.TaskID != t2.ID || step.NextItem.TaskID != t3.ID || !step.HasMore || step.Message != "Completed "+t2.ID+". Next: "+t3.ID {
		t.Fatalf("complete = %+v", step)
	}
	reset()
	s.JSON("POST", base+"/start", map[string]any{}, 200, &step)
	reset()
	s.JSON("POST", base+"/fail", map[string]any{"reason": "cannot build"}, 200, &step)
	if step.FailedItem.TaskID != t3.ID || *step.FailedItem.FailReason != "cannot build" || step.HasMore || step.Message != "Failed "+t3.ID+". Queue is empty." {
		t.Fatalf("fail = %+v", step)
	}
	reset()
	s.JSON("POST", base+"/push", map[string]any{"taskId": t4.ID}, 200, &step)
	if step.Item.TaskID != t4.ID || step.Item.Status != "queued" {
		t.Fatalf("push = %+v", step)
	}
	status, body := s.Do("POST", base+"/push", map[string]any{"taskId": t2.ID})
	if status != 400 || !strings.Contains(string(body), "already in queue") {
		t.Errorf("push of a finished task: %d %s", status, body)
	}
	reset()
	s.JSON("POST", base+"/skip", map[string]any{}, 200, &step)
	if step.SkippedItem.TaskID != t4.ID || step.NextItem != nil || step.HasMore {
		t.Fatalf("skip = %+v", step)
	}
	// Empty now: top says so, start answers empty, skip has nothing left.
	s.JSON("GET", base+"/top", nil, 200, &top)
	if top.HasMore || top.Item != nil || top.Message != "Queue is empty - all tasks processed" {
		t.Errorf("top at the end = %+v", top)
	}
	reset()
	s.JSON("POST", base+"/start", map[string]any{}, 200, &step)
	if !step.Empty || step.Item != nil {
		t.Errorf("start at the end = %+v", step)
	}
	if status, _ := s.Do("POST", base+"/skip", map[string]any{}); status != 400 {
		t.Errorf("skip at the end: %d", status)
	}
	var items struct {
		Items []maestro.QueueItem `json:"items"`
		Stats maestro.QueueStats  `json:"stats"`
	}
	s.JSON("GET", base+"/items", nil, 200, &items)
	if items.Stats != (maestro.QueueStats{Total: 3, Completed: 1, Failed: 1, Skipped: 1}) {
		t.Errorf("stats = %+v", items.Stats)
	}

	// The CLI's hooks then register and finish the session.
	var done maestro.Session
	s.JSON("PATCH", "/api/sessions/"+q.SessionID, map[string]any{"status": "completed", "completedAt": 1}, 200, &done)
	if done.Status != "completed" || done.CompletedAt == nil || *done.CompletedAt == 1 {
		t.Errorf("completed session = %+v", done)
	}
	var active []maestro.Session
	s.JSON("GET", "/api/sessions?active=true", nil, 200, &active)
	if len(active) != 2 {
		t.Errorf("active sessions = %d, want 2", len(active))
	}
}
