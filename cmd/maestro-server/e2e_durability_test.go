package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
)

// TestE2E_KillNineLosesNoAcknowledgedWrite writes concurrently (so writes are group-committed), kills
// the server with SIGKILL — no shutdown, no checkpoint — and restarts it on the same data directory:
// every write that was acknowledged is there, with its event.
func TestE2E_KillNineLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var proj struct{ ID string }
	s.JSON("POST", "/api/projects", map[string]any{"name": "durable"}, 201, &proj)

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				// Do, not JSON: a goroutine other than the test's must not call t.Fatal.
				status, raw := s.Do("POST", "/api/tasks", map[string]any{"projectId": proj.ID, "title": fmt.Sprint("t", w, "-", i)})
				var task struct{ ID string }
				if status != 201 || json.Unmarshal(raw, &task) != nil {
					t.Errorf("create: %d %s", status, raw)
					return
				}
				mu.Lock()
				acked[task.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited

	s2 := startServer(t, "DATA_DIR="+s.DataDir)
	var tasks []struct{ ID string }
	s2.JSON("GET", "/api/tasks?projectId="+proj.ID, nil, 200, &tasks)
	found := map[string]bool{}
	for _, tk := range tasks {
		found[tk.ID] = true
	}
	for id := range acked {
		if !found[id] {
			t.Errorf("acknowledged task %s lost after kill -9", id)
		}
	}
	if len(acked) != 200 {
		t.Fatalf("%d writes acknowledged, want 200", len(acked))
	}
	var page struct {
		Items []struct{ Type string }
	}
	s2.JSON("GET", "/api/v2/events?limit=500", nil, 200, &page)
	created := 0
	for _, ev := range page.Items {
		if ev.Type == "task:created" {
			created++
		}
	}
	if created != 200 {
		t.Fatalf("%d task:created events after restart, want 200", created)
	}
}
