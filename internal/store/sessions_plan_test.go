package store

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// fullScan matches a plan step that reads a whole table (or a subquery's result) without an index;
// coRoutine names the subquery results, whose scans are fine: they hold one session's rows only.
var (
	fullScan  = regexp.MustCompile(`(?m)^SCAN (\w+)$`)
	coRoutine = regexp.MustCompile(`(?m)^CO-ROUTINE (\w+)$`)
)

// TestListSessions_QueryPlans checks that every session list filter shape is an index seek on the
// index made for it (DESIGN §3), and that loading each session's links, events and timeline seeks too.
func TestListSessions_QueryPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, Options{
		Path: filepath.Join(t.TempDir(), "plan.db"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NoBackup: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A few rows; no ANALYZE, as in production, so the planner uses its built-in estimates.
	err = st.InTx(ctx, func(q *Q) error {
		if err := q.InsertProject(ctx, maestro.Project{ID: "p", Name: "p", CreatedAt: 1, UpdatedAt: 1}); err != nil {
			return err
		}
		for i, id := range []string{"t1", "t2"} {
			if err := q.InsertTask(ctx, maestro.Task{ID: id, ProjectID: "p", Title: id, Status: "todo", Priority: "medium", CreatedAt: int64(i)}); err != nil {
				return err
			}
		}
		for i, status := range []string{"idle", "completed", "working"} {
			id := "s" + status
			if err := q.InsertSession(ctx, maestro.Session{ID: id, ProjectID: "p", Name: id, Status: status, Strategy: "simple", StartedAt: int64(i)}); err != nil {
				return err
			}
			if _, err := q.Link(ctx, "t1", id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		f      maestro.SessionFilter
		want   string // the main table access
		wantN  int
		noSort bool
	}{
		{"all", maestro.SessionFilter{}, "SCAN s USING INDEX sessions_started", 3, true},
		{"project", maestro.SessionFilter{ProjectID: "p"}, "SEARCH s USING INDEX sessions_project_started (project_id=?)", 3, true},
		{"project+status+active", maestro.SessionFilter{ProjectID: "p", Status: "idle", Active: true}, "SEARCH s USING INDEX sessions_project_started (project_id=?)", 1, true},
		{"task", maestro.SessionFilter{TaskID: "t1"}, "SEARCH ts USING COVERING INDEX task_sessions_task (task_id=?)", 3, false},
		{"task+project+status", maestro.SessionFilter{TaskID: "t1", ProjectID: "p", Status: "working"}, "SEARCH ts USING COVERING INDEX task_sessions_task (task_id=?)", 1, false},
		{"status", maestro.SessionFilter{Status: "working"}, "SEARCH s USING INDEX sessions_status_started (status=?)", 1, true},
		{"active", maestro.SessionFilter{Active: true}, "(status<?)", 2, false}, // either status index: both seek
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &planRecorder{db: st.r}
			got, err := (&Q{q: db.New(rec), s: st, x: rec}).ListSessions(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.wantN {
				t.Errorf("%d sessions, want %d", len(got), tc.wantN)
			}
			if len(rec.plans) != 1 {
				t.Fatalf("%d queries, want 1", len(rec.plans))
			}
			if rec.err != nil {
				t.Fatal(rec.err)
			}
			plan := strings.Join(rec.plans[0].lines, "\n")
			if !strings.Contains(plan, tc.want) {
				t.Errorf("plan lacks %q:\n%s", tc.want, plan)
			}
			subqueries := map[string]bool{}
			for _, m := range coRoutine.FindAllStringSubmatch(plan, -1) {
				subqueries[m[1]] = true
			}
			for _, m := range fullScan.FindAllStringSubmatch(plan, -1) {
				if !subqueries[m[1]] {
					t.Errorf("full scan of %s:\n%s", m[1], plan)
				}
			}
			for _, sub := range []string{"task_sessions_session (session_id=?)", "session_events_session (session_id=?)", "session_timeline_session (session_id=?)"} {
				if !strings.Contains(plan, sub) {
					t.Errorf("plan does not seek %s:\n%s", sub, plan)
				}
			}
			if tc.noSort && strings.Contains(plan, "TEMP B-TREE FOR ORDER BY") {
				t.Errorf("plan sorts although the index is in order:\n%s", plan)
			}
		})
	}
}
