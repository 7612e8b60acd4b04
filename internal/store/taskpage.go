package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// The v2 task list is built here rather than in queries/: its filters combine freely (project, statuses,
// priority, parent or root, session, updatedSince, full-text) with six sort orders and a keyset, and
// one static sqlc query per combination would be hundreds. Each filter is a plain equality or range
// term, never `(? IS NULL OR …)`, so SQLite can seek an index on it; TestListQueryPlans checks that
// every shape is an index seek.

// taskColumns selects a task row (in db.Task's field order) plus its sessionIds in link order.
const taskColumns = `t.seq, t.id, t.project_id, t.parent_id, t.title, t.description, t.status, t.session_status,
       t.priority, t.initial_prompt, t.skill_ids, t.agent_ids, t.dependencies, t.created_at, t.updated_at,
       t.started_at, t.completed_at,
       CAST((SELECT json_group_array(l.session_id) FROM (SELECT session_id FROM task_sessions WHERE task_id = t.id ORDER BY task_pos) l) AS TEXT) AS session_ids`

// priorityRankSQL ranks priorities most urgent first. It must stay identical to the expression of the
// tasks_priority_rank index (migrations/00002_api_v2.sql), or SQLite stops using that index.
const priorityRankSQL = `(CASE t.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END)`

// priorityRank is priorityRankSQL in Go, for building the keyset of the last row.
func priorityRank(p string) int64 {
	switch p {
	case maestro.PriorityCritical:
		return 0
	case maestro.PriorityHigh:
		return 1
	case maestro.PriorityMedium:
		return 2
	case maestro.PriorityLow:
		return 3
	}
	return 4
}

// bm25Weights weigh a match in the title ten times, in the description four times, as much as one in
// the initial prompt: a task whose title says it ranks above one that mentions it in passing.
const bm25Weights = "10.0, 4.0, 1.0"

// taskSort describes one sort order: its ORDER BY columns (ascending form), and how to read and write
// the keyset of a row.
type taskSort struct {
	columns []string
	desc    bool
	args    func(k *keyset) []any
	key     func(t db.Task, score float64) keyset
}

var taskSorts = map[string]taskSort{
	maestro.SortCreatedAt:     createdSort(false),
	maestro.SortCreatedAtDesc: createdSort(true),
	maestro.SortUpdatedAt:     updatedSort(false),
	maestro.SortUpdatedAtDesc: updatedSort(true),
	maestro.SortPriority:      prioritySort(false),
	maestro.SortPriorityDesc:  prioritySort(true),
	maestro.SortRelevance: {
		columns: []string{"m.score", "t.seq"},
		args:    func(k *keyset) []any { return []any{k.Score, k.Seq} },
		key:     func(t db.Task, score float64) keyset { return keyset{Score: score, Seq: t.Seq} },
	},
}

// createdSort breaks ties by id, matching the (…, created_at, id) indexes of 00001.
func createdSort(desc bool) taskSort {
	return taskSort{
		columns: []string{"t.created_at", "t.id"}, desc: desc,
		args: func(k *keyset) []any { return []any{k.A, k.ID} },
		key:  func(t db.Task, _ float64) keyset { return keyset{A: t.CreatedAt, ID: t.ID} },
	}
}

// updatedSort breaks ties by seq, the rowid every index implicitly ends with, so that the
// (project_id, updated_at) and (updated_at) indexes serve it without an id column.
func updatedSort(desc bool) taskSort {
	return taskSort{
		columns: []string{"t.updated_at", "t.seq"}, desc: desc,
		args: func(k *keyset) []any { return []any{k.A, k.Seq} },
		key:  func(t db.Task, _ float64) keyset { return keyset{A: t.UpdatedAt, Seq: t.Seq} },
	}
}

func prioritySort(desc bool) taskSort {
	return taskSort{
		columns: []string{priorityRankSQL, "t.created_at", "t.id"}, desc: desc,
		args: func(k *keyset) []any { return []any{k.A, k.B, k.ID} },
		key: func(t db.Task, _ float64) keyset {
			return keyset{A: priorityRank(t.Priority), B: t.CreatedAt, ID: t.ID}
		},
	}
}

// orderBy renders the ORDER BY list.
func (s taskSort) orderBy() string {
	if !s.desc {
		return strings.Join(s.columns, ", ")
	}
	cols := make([]string, len(s.columns))
	for i, c := range s.columns {
		cols[i] = c + " DESC"
	}
	return strings.Join(cols, ", ")
}

// after renders the keyset condition "strictly after the cursor row" as a row-value comparison, which
// SQLite turns into an index range. The first column is also bounded on its own (implied by the row
// value, so the result is the same): SQLite seeks an expression index (the priority rank) only on a
// plain comparison of the expression.
func (s taskSort) after() string {
	op, first := ">", ">="
	if s.desc {
		op, first = "<", "<="
	}
	return s.columns[0] + " " + first + " ? AND (" + strings.Join(s.columns, ", ") + ") " + op + " (" +
		placeholders(len(s.columns)) + ")"
}

// taskListSQL is one v2 task list query under construction.
type taskListSQL struct {
	with  string
	from  string
	conds []string
	args  []any // arguments of with/from and conds, in order
}

// buildTaskList turns the filters of tq into SQL. It picks the table that drives the query: the
// full-text matches when searching, the session's links when filtering by session, else tasks through
// whichever index SQLite finds for the other filters. CROSS JOIN fixes that order (SQLite never
// reorders a CROSS JOIN), so a filter on links or words is never answered by walking all tasks.
func buildTaskList(tq maestro.TaskQuery, match string) taskListSQL {
	var b taskListSQL
	switch {
	case match != "":
		b.with = "WITH m AS MATERIALIZED (SELECT rowid AS seq, bm25(tasks_fts, " + bm25Weights + ") AS score " +
			"FROM tasks_fts WHERE tasks_fts MATCH ?) "
		b.args = append(b.args, match)
		b.from = "m CROSS JOIN tasks t ON t.seq = m.seq"
		if tq.SessionID != "" {
			b.conds = append(b.conds, "EXISTS (SELECT 1 FROM task_sessions ts WHERE ts.task_id = t.id AND ts.session_id = ?)")
			b.args = append(b.args, tq.SessionID)
		}
	case tq.SessionID != "":
		b.from = "task_sessions ts CROSS JOIN tasks t ON t.id = ts.task_id"
		b.conds = append(b.conds, "ts.session_id = ?")
		b.args = append(b.args, tq.SessionID)
	default:
		b.from = "tasks t"
	}
	if tq.ProjectID != "" {
		b.conds = append(b.conds, "t.project_id = ?")
		b.args = append(b.args, tq.ProjectID)
	}
	if len(tq.Statuses) > 0 {
		b.conds = append(b.conds, "t.status IN ("+placeholders(len(tq.Statuses))+")")
		for _, s := range tq.Statuses {
			b.args = append(b.args, s)
		}
	}
	if tq.Priority != "" {
		b.conds = append(b.conds, "t.priority = ?")
		b.args = append(b.args, tq.Priority)
	}
	switch {
	case tq.Root:
		b.conds = append(b.conds, "t.parent_id IS NULL")
	case tq.ParentID != "":
		b.conds = append(b.conds, "t.parent_id = ?")
		b.args = append(b.args, tq.ParentID)
	}
	if tq.UpdatedSince != nil {
		b.conds = append(b.conds, "t.updated_at >= ?")
		b.args = append(b.args, *tq.UpdatedSince)
		if b.from == "tasks t" && len(b.conds) == 1 {
			// updatedSince alone: SQLite would rather walk the index of the sort order and test every task
			// than seek the recent ones and sort them. updatedSince serves sync ("what changed since I last
			// looked"), which selects few tasks, so the seek is the right plan.
			b.from = "tasks t INDEXED BY tasks_updated"
		}
	}
	return b
}

func (b taskListSQL) where(extra ...string) string {
	return where(append(slices.Clone(b.conds), extra...))
}

// taskFilterFingerprint identifies the filters of tq (not its page position), for cursor checks.
func taskFilterFingerprint(tq maestro.TaskQuery) string {
	statuses := slices.Clone(tq.Statuses)
	slices.Sort(statuses)
	since := ""
	if tq.UpdatedSince != nil {
		since = strconv.FormatInt(*tq.UpdatedSince, 10)
	}
	return fingerprint("tasks", tq.ProjectID, strings.Join(statuses, ","), tq.Priority, tq.ParentID,
		strconv.FormatBool(tq.Root), tq.SessionID, since, tq.Search)
}

// resolveTaskSort returns the effective sort of tq: its own, or relevance when searching, else createdAt.
func resolveTaskSort(tq maestro.TaskQuery) string {
	if tq.Sort != "" {
		return tq.Sort
	}
	if tq.Search != "" {
		return maestro.SortRelevance
	}
	return maestro.SortCreatedAt
}

// TaskPage returns one page of the tasks matching tq, which the service has validated (service.checkTaskQuery).
// Errors: VALIDATION_ERROR (a cursor that does not belong to this query).
func (q *Q) TaskPage(ctx context.Context, tq maestro.TaskQuery) (maestro.Page[maestro.Task], error) {
	var page maestro.Page[maestro.Task]
	sortName := resolveTaskSort(tq)
	srt, ok := taskSorts[sortName]
	if !ok {
		return page, unknownSort(sortName)
	}
	match := ftsQuery(tq.Search)
	if (tq.Search != "" || sortName == maestro.SortRelevance) && match == "" {
		// The service refuses a search without words and relevance without a search.
		return page, fmt.Errorf("store: task query with search %q and sort %q has nothing to match", tq.Search, sortName)
	}
	filter := taskFilterFingerprint(tq)
	after, err := decodeCursor(tq.Cursor, sortName, filter)
	if err != nil {
		return page, err
	}
	limit := pageLimit(tq.Limit)
	b := buildTaskList(tq, match)

	if tq.WithTotal {
		if page.Total, err = q.countRows(ctx, b.with+"SELECT COUNT(*) FROM "+b.from+b.where(), b.args...); err != nil {
			return page, err
		}
	}

	args := slices.Clone(b.args)
	var extra []string
	if after != nil {
		extra = append(extra, srt.after())
		kargs := srt.args(after)
		args = append(args, kargs[0])
		args = append(args, kargs...)
	}
	cols := taskColumns
	if match != "" {
		cols += ", m.score"
	}
	query := b.with + "SELECT " + cols + " FROM " + b.from + b.where(extra...) +
		" ORDER BY " + srt.orderBy() + " LIMIT ?"
	args = append(args, limit+1)
	err = readPage(ctx, q, &page, limit, sortName, filter, func(rows *sql.Rows) (maestro.Task, keyset, error) {
		var r db.GetTaskRow
		var score float64
		dest := taskScanDest(&r)
		if match != "" {
			dest = append(dest, &score)
		}
		if err := rows.Scan(dest...); err != nil {
			return maestro.Task{}, keyset{}, err
		}
		t, err := taskFromRow(r)
		return t, srt.key(r.Task, score), err
	}, query, args...)
	return page, err
}

// taskScanDest lists the scan destinations of taskColumns.
func taskScanDest(r *db.GetTaskRow) []any {
	t := &r.Task
	return []any{&t.Seq, &t.ID, &t.ProjectID, &t.ParentID, &t.Title, &t.Description, &t.Status,
		&t.SessionStatus, &t.Priority, &t.InitialPrompt, &t.SkillIds, &t.AgentIds, &t.Dependencies,
		&t.CreatedAt, &t.UpdatedAt, &t.StartedAt, &t.CompletedAt, &r.SessionIds}
}
