package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// listJSONQuery builds the v1 list of a project's tasks inside SQLite, one row, one column: the lever
// "build list JSON inside SQLite" of DESIGN §10, measured against the store's list and encoding/json.
const listJSONQuery = `SELECT json_group_array(json_object(
  'id', t.id, 'projectId', t.project_id, 'parentId', t.parent_id, 'title', t.title,
  'description', t.description, 'status', t.status, 'sessionStatus', t.session_status,
  'priority', t.priority, 'createdAt', t.created_at, 'updatedAt', t.updated_at,
  'startedAt', t.started_at, 'completedAt', t.completed_at, 'initialPrompt', t.initial_prompt,
  'sessionIds', (SELECT json_group_array(l.session_id) FROM (SELECT session_id FROM task_sessions WHERE task_id = t.id ORDER BY task_pos) l),
  'skillIds', json(t.skill_ids), 'agentIds', json(t.agent_ids), 'dependencies', json(t.dependencies)))
FROM (SELECT * FROM tasks WHERE project_id = ? ORDER BY created_at, id) t`

// BenchmarkList1000 compares the two ways to answer a cold (uncached) v1 list of 1,000 tasks:
//
//	go test -run '^$' -bench List1000 -benchtime 100x ./internal/store/
func BenchmarkList1000(b *testing.B) {
	ctx := context.Background()
	st := dbtest.New(b)
	if err := st.InTx(ctx, func(q *store.Q) error {
		if err := q.InsertProject(ctx, maestro.Project{ID: "p", Name: "bench", CreatedAt: 1, UpdatedAt: 1}); err != nil {
			return err
		}
		for i := range 1000 {
			n := int64(1000 + i)
			if err := q.InsertTask(ctx, maestro.Task{ID: fmt.Sprintf("task_%d", i), ProjectID: "p", Title: fmt.Sprintf("listed task %d", i),
				Description: "a task in the listed project", Status: maestro.TaskTodo, Priority: "medium", CreatedAt: n, UpdatedAt: n,
				SkillIDs: []string{}, AgentIDs: []string{}, Dependencies: []string{}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open("sqlite", store.DSN(st.Path()))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	stmt, err := raw.Prepare(listJSONQuery)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()

	b.Run("store+encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			ts, err := st.Read().ListTasks(ctx, maestro.TaskFilter{ProjectID: "p"})
			if err != nil || len(ts) != 1000 {
				b.Fatal(len(ts), err)
			}
			if _, err := json.Marshal(ts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store-scan-only", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if ts, err := st.Read().ListTasks(ctx, maestro.TaskFilter{ProjectID: "p"}); err != nil || len(ts) != 1000 {
				b.Fatal(len(ts), err)
			}
		}
	})
	b.Run("json-in-sqlite", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var out string
			if err := stmt.QueryRowContext(ctx, "p").Scan(&out); err != nil || len(out) < 1000 {
				b.Fatal(len(out), err)
			}
		}
	})
}
