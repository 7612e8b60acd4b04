package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// planRecorder is a db.DBTX that asks SQLite for the plan of every query before running it, so that a
// test can call the real store methods (sqlc-generated and hand-written alike) and inspect how each of
// their queries is executed.
type planRecorder struct {
	db *sql.DB
	mu sync.Mutex
	// plans holds one entry per query run: its SQL and its plan lines.
	plans []queryPlan
	err   error
}

type queryPlan struct {
	sql   string
	lines []string
}

func (p *planRecorder) explain(ctx context.Context, query string, args []any) {
	rows, err := p.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.err = fmt.Errorf("explain %s: %w", query, err)
		return
	}
	defer rows.Close()
	qp := queryPlan{sql: query}
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			p.err = err
			return
		}
		qp.lines = append(qp.lines, detail)
	}
	p.plans = append(p.plans, qp)
}

func (p *planRecorder) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, query, args...)
}

func (p *planRecorder) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

func (p *planRecorder) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	p.explain(ctx, query, args)
	return p.db.QueryContext(ctx, query, args...)
}

func (p *planRecorder) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	p.explain(ctx, query, args)
	return p.db.QueryRowContext(ctx, query, args...)
}

// guardedTables are the big tables no list may scan, under their names and the aliases the queries use.
var guardedTables = map[string]string{"tasks": "tasks", "t": "tasks", "dt": "tasks", "sessions": "sessions", "s": "sessions",
	"session_timeline": "session_timeline", "session_events": "session_events", "task_leases": "task_leases"}

var scanLine = regexp.MustCompile(`^SCAN (\w+)`)

// planCase is one list/filter shape. run calls the store the way the service does. mayWalkIndex allows
// the plan to walk an index in order from its start (the first page of an unfiltered list, which stops
// after one page); every filtered shape, and every next page, must SEARCH (seek) instead.
type planCase struct {
	name         string
	mayWalkIndex bool
	run          func(ctx context.Context, q *Q) error
}

func v1Tasks(f maestro.TaskFilter) func(context.Context, *Q) error {
	return func(ctx context.Context, q *Q) error { _, err := q.ListTasks(ctx, f); return err }
}

func v1Sessions(f maestro.SessionFilter) func(context.Context, *Q) error {
	return func(ctx context.Context, q *Q) error { _, err := q.ListSessions(ctx, f); return err }
}

// TestListQueryPlans runs EXPLAIN QUERY PLAN for every list and filter shape of v1 and v2 (first page,
// next page, and with total) and fails on a full scan of tasks or sessions. Sessions' shapes are added
// here as rows when their lists exist.
func TestListQueryPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, Options{
		Path: filepath.Join(t.TempDir(), "plans.db"), NoBackup: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	cases := []planCase{
		{name: "v1 tasks", mayWalkIndex: true, run: v1Tasks(maestro.TaskFilter{})},
		{name: "v1 tasks by project", run: v1Tasks(maestro.TaskFilter{ProjectID: "p"})},
		{name: "v1 tasks by project+status", run: v1Tasks(maestro.TaskFilter{ProjectID: "p", Status: "todo"})},
		{name: "v1 tasks by project, root", run: v1Tasks(maestro.TaskFilter{ProjectID: "p", RootOnly: true})},
		{name: "v1 tasks by project+parent", run: v1Tasks(maestro.TaskFilter{ProjectID: "p", ParentSet: true, ParentID: "x"})},
		{name: "v1 tasks by parent", run: v1Tasks(maestro.TaskFilter{ParentSet: true, ParentID: "x"})},
		{name: "v1 tasks by parent+status", run: v1Tasks(maestro.TaskFilter{ParentSet: true, ParentID: "x", Status: "todo"})},
		{name: "v1 root tasks", run: v1Tasks(maestro.TaskFilter{RootOnly: true})},
		{name: "v1 root tasks+status", run: v1Tasks(maestro.TaskFilter{RootOnly: true, Status: "todo"})},
		{name: "v1 tasks by status", run: v1Tasks(maestro.TaskFilter{Status: "todo"})},
		{name: "v1 task children ids", run: func(ctx context.Context, q *Q) error { _, err := q.ListChildTaskIDs(ctx, "x"); return err }},
		{name: "task dependents", run: func(ctx context.Context, q *Q) error { _, err := q.DependentTaskIDs(ctx, "p", "x"); return err }},
		{name: "v1 projects", mayWalkIndex: true, run: func(ctx context.Context, q *Q) error { _, err := q.ListProjects(ctx); return err }},
		{name: "v1 sessions", mayWalkIndex: true, run: v1Sessions(maestro.SessionFilter{})},
		{name: "v1 sessions by project", run: v1Sessions(maestro.SessionFilter{ProjectID: "p"})},
		{name: "v1 sessions by project+status+active", run: v1Sessions(maestro.SessionFilter{ProjectID: "p", Status: "idle", Active: true})},
		{name: "v1 sessions by task", run: v1Sessions(maestro.SessionFilter{TaskID: "t"})},
		{name: "v1 sessions by task+project+status", run: v1Sessions(maestro.SessionFilter{TaskID: "t", ProjectID: "p", Status: "idle"})},
		{name: "v1 sessions by status", run: v1Sessions(maestro.SessionFilter{Status: "working"})},
		{name: "v1 active sessions", run: v1Sessions(maestro.SessionFilter{Active: true})},
		{name: "session by id", run: func(ctx context.Context, q *Q) error {
			if _, err := q.GetSession(ctx, "s"); err != ErrNotFound {
				return err
			}
			return nil
		}},
	}
	cases = append(cases, v2TaskPlanCases()...)
	cases = append(cases, v2ProjectPlanCases()...)
	cases = append(cases, v2SessionPlanCases()...)
	cases = append(cases, v2EntryPlanCases()...)
	cases = append(cases, v2TemplatePlanCases()...)
	cases = append(cases, leasePlanCases()...)
	cases = append(cases, planCase{name: "v2 session head", run: func(ctx context.Context, q *Q) error {
		if _, err := q.GetSessionHead(ctx, "s"); err != ErrNotFound {
			return err
		}
		return nil
	}})

	for _, c := range cases {
		rec := &planRecorder{db: st.r}
		q := &Q{q: db.New(rec), s: st, x: rec}
		if err := c.run(ctx, q); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if rec.err != nil {
			t.Errorf("%s: %v", c.name, rec.err)
			continue
		}
		if len(rec.plans) == 0 {
			t.Errorf("%s: ran no query", c.name)
		}
		for _, p := range rec.plans {
			if os.Getenv("PLANS_VERBOSE") != "" {
				t.Logf("%s:\n  %s", c.name, strings.Join(p.lines, "\n  "))
			}
			if msg := checkPlan(p.lines, c.mayWalkIndex); msg != "" {
				t.Errorf("%s: %s\nquery: %s\nplan:\n  %s", c.name, msg, p.sql, strings.Join(p.lines, "\n  "))
			}
		}
	}
}

// checkPlan returns why a plan is not acceptable, or "".
func checkPlan(lines []string, mayWalkIndex bool) string {
	for _, l := range lines {
		m := scanLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		table, guarded := guardedTables[m[1]]
		if !guarded {
			continue
		}
		if !strings.Contains(l, " USING ") {
			return "full scan of " + table + ": " + l
		}
		if !mayWalkIndex {
			return "a filtered list walks a whole index of " + table + " instead of seeking: " + l
		}
	}
	return ""
}

// v2TaskPlanCases is every v2 task filter shape under every sort, as first page, next page and total.
func v2TaskPlanCases() []planCase {
	since := int64(1)
	shapes := []struct {
		name     string
		q        maestro.TaskQuery
		unfilter bool
	}{
		{name: "no filter", unfilter: true},
		{name: "project", q: maestro.TaskQuery{ProjectID: "p"}},
		{name: "project+status", q: maestro.TaskQuery{ProjectID: "p", Statuses: []string{"todo"}}},
		{name: "project+statuses", q: maestro.TaskQuery{ProjectID: "p", Statuses: []string{"todo", "blocked"}}},
		{name: "status", q: maestro.TaskQuery{Statuses: []string{"todo"}}},
		{name: "statuses", q: maestro.TaskQuery{Statuses: []string{"todo", "in_progress", "blocked"}}},
		{name: "priority", q: maestro.TaskQuery{Priority: "high"}},
		{name: "project+priority", q: maestro.TaskQuery{ProjectID: "p", Priority: "high"}},
		{name: "parent", q: maestro.TaskQuery{ParentID: "x"}},
		{name: "parent+status", q: maestro.TaskQuery{ParentID: "x", Statuses: []string{"todo"}}},
		{name: "root", q: maestro.TaskQuery{Root: true}},
		{name: "project+root", q: maestro.TaskQuery{ProjectID: "p", Root: true}},
		{name: "session", q: maestro.TaskQuery{SessionID: "s"}},
		{name: "session+project", q: maestro.TaskQuery{SessionID: "s", ProjectID: "p"}},
		{name: "updatedSince", q: maestro.TaskQuery{UpdatedSince: &since}},
		{name: "project+updatedSince", q: maestro.TaskQuery{ProjectID: "p", UpdatedSince: &since}},
		{name: "search", q: maestro.TaskQuery{Search: "login bug"}},
		{name: "search+project", q: maestro.TaskQuery{Search: "login", ProjectID: "p"}},
		{name: "search+session", q: maestro.TaskQuery{Search: "login", SessionID: "s"}},
		{name: "everything", q: maestro.TaskQuery{ProjectID: "p", Statuses: []string{"todo", "blocked"},
			Priority: "high", Root: true, UpdatedSince: &since}},
	}
	sorts := []string{maestro.SortCreatedAt, maestro.SortCreatedAtDesc, maestro.SortUpdatedAt,
		maestro.SortUpdatedAtDesc, maestro.SortPriority, maestro.SortPriorityDesc}
	var out []planCase
	for _, sh := range shapes {
		ss := sorts
		if sh.q.Search != "" {
			ss = append([]string{maestro.SortRelevance}, sorts...)
		}
		for _, srt := range ss {
			tq := sh.q
			tq.Sort = srt
			name := fmt.Sprintf("v2 tasks %s sort=%s", sh.name, srt)
			out = append(out,
				planCase{name: name, mayWalkIndex: sh.unfilter, run: func(ctx context.Context, q *Q) error {
					tq := tq
					tq.WithTotal = true
					_, err := q.TaskPage(ctx, tq)
					return err
				}},
				// A next page must seek to its cursor, never walk the index from the start.
				planCase{name: name + " next page", run: func(ctx context.Context, q *Q) error {
					tq := tq
					tq.Cursor = encodeCursor(keyset{Sort: srt, Filter: taskFilterFingerprint(tq), A: 1, B: 1, ID: "x", Seq: 1, Score: -1})
					_, err := q.TaskPage(ctx, tq)
					return err
				}})
		}
	}
	return out
}

func v2ProjectPlanCases() []planCase {
	var out []planCase
	for _, srt := range []string{maestro.SortCreatedAt, maestro.SortCreatedAtDesc} {
		out = append(out,
			planCase{name: "v2 projects sort=" + srt, mayWalkIndex: true, run: func(ctx context.Context, q *Q) error {
				_, err := q.ProjectPage(ctx, maestro.ProjectQuery{Sort: srt, WithTotal: true})
				return err
			}},
			planCase{name: "v2 projects next page sort=" + srt, run: func(ctx context.Context, q *Q) error {
				_, err := q.ProjectPage(ctx, maestro.ProjectQuery{Sort: srt,
					Cursor: encodeCursor(keyset{Sort: srt, Filter: fingerprint("projects"), A: 1, ID: "x"})})
				return err
			}})
	}
	return out
}

// v2SessionPlanCases is every v2 session filter shape under every sort, as first page (with total) and
// next page.
func v2SessionPlanCases() []planCase {
	shapes := []struct {
		name     string
		q        maestro.SessionQuery
		unfilter bool
	}{
		{name: "no filter", unfilter: true},
		{name: "project", q: maestro.SessionQuery{ProjectID: "p"}},
		{name: "task", q: maestro.SessionQuery{TaskID: "t"}},
		{name: "status", q: maestro.SessionQuery{Statuses: []string{"running"}}},
		{name: "statuses", q: maestro.SessionQuery{Statuses: []string{"idle", "running", "working"}}},
		{name: "active", q: maestro.SessionQuery{Active: true}},
		{name: "statuses+active", q: maestro.SessionQuery{Statuses: []string{"completed", "idle"}, Active: true}},
		{name: "project+status", q: maestro.SessionQuery{ProjectID: "p", Statuses: []string{"idle"}}},
		{name: "project+statuses", q: maestro.SessionQuery{ProjectID: "p", Statuses: []string{"idle", "running"}}},
		{name: "project+active", q: maestro.SessionQuery{ProjectID: "p", Active: true}},
		{name: "task+project+status", q: maestro.SessionQuery{TaskID: "t", ProjectID: "p", Statuses: []string{"idle"}}},
		{name: "task+active", q: maestro.SessionQuery{TaskID: "t", Active: true}},
	}
	sorts := []string{maestro.SortStartedAt, maestro.SortStartedAtDesc, maestro.SortLastActivity, maestro.SortLastActivityDesc}
	var out []planCase
	for _, sh := range shapes {
		for _, srt := range sorts {
			sq := sh.q
			sq.Sort = srt
			name := fmt.Sprintf("v2 sessions %s sort=%s", sh.name, srt)
			out = append(out,
				planCase{name: name, mayWalkIndex: sh.unfilter, run: func(ctx context.Context, q *Q) error {
					sq := sq
					sq.WithTotal = true
					_, err := q.SessionPage(ctx, sq)
					return err
				}},
				planCase{name: name + " next page", run: func(ctx context.Context, q *Q) error {
					sq := sq
					sq.Cursor = encodeCursor(keyset{Sort: srt, Filter: sessionFilterFingerprint(sq), A: 1, ID: "x"})
					_, err := q.SessionPage(ctx, sq)
					return err
				}})
		}
	}
	return out
}

// v2EntryPlanCases is a session's timeline and event log, with and without a type, in both orders.
func v2EntryPlanCases() []planCase {
	var out []planCase
	for _, kind := range []string{maestro.EntryTimeline, maestro.EntryEvents} {
		for _, typ := range []string{"", "progress"} {
			for _, srt := range []string{maestro.SortAppended, maestro.SortAppendedDesc} {
				eq := maestro.EntryQuery{SessionID: "s", Type: typ, Sort: srt}
				name := fmt.Sprintf("v2 session %s type=%q sort=%s", kind, typ, srt)
				out = append(out,
					planCase{name: name, run: func(ctx context.Context, q *Q) error {
						eq := eq
						eq.WithTotal = true
						_, err := q.EntryPage(ctx, kind, eq)
						return err
					}},
					planCase{name: name + " next page", run: func(ctx context.Context, q *Q) error {
						eq := eq
						eq.Cursor = encodeCursor(keyset{Sort: srt, Filter: fingerprint(kind, "s", typ), Seq: 1})
						_, err := q.EntryPage(ctx, kind, eq)
						return err
					}})
			}
		}
	}
	return out
}

func v2TemplatePlanCases() []planCase {
	var out []planCase
	for _, role := range []string{"", "worker"} {
		for _, srt := range []string{maestro.SortCreatedAt, maestro.SortCreatedAtDesc} {
			tq := maestro.TemplateQuery{Role: role, Sort: srt}
			name := fmt.Sprintf("v2 templates role=%q sort=%s", role, srt)
			out = append(out,
				planCase{name: name, mayWalkIndex: role == "", run: func(ctx context.Context, q *Q) error {
					tq := tq
					tq.WithTotal = true
					_, err := q.TemplatePage(ctx, tq)
					return err
				}},
				planCase{name: name + " next page", run: func(ctx context.Context, q *Q) error {
					tq := tq
					tq.Cursor = encodeCursor(keyset{Sort: srt, Filter: fingerprint("templates", role), A: 1, ID: "x"})
					_, err := q.TemplatePage(ctx, tq)
					return err
				}})
		}
	}
	return out
}
