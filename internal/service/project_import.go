package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// maxConflictsListed bounds the ids a CONFLICT of an import names.
const maxConflictsListed = 20

// Import stores a project export document (API v2) in ONE transaction: the project, its tasks, its
// sessions with their event logs, timelines and links (both sides' orders restored), and the queues.
// Every timestamp of the document is kept as it is.
//
// With mode ImportKeepIDs every record keeps its id, and any id already taken (the project, a task, a
// session, or a queue left behind by a deleted session) is CONFLICT, listing them; with ImportNewIDs
// ("" too) the project, every task and every session get a new id, and every reference to them is
// rewritten: parentId, dependencies, both sides of every link, queue item taskIds, the taskId of
// timeline entries and a spawned session's metadata.spawnedBy. Those last three are history rather than
// links, so they may name records that are not in the document (a deleted task, a parent session of
// another project): those are kept as they are. Entry ids (evt_…) are kept: nothing refers to them.
//
// The document is checked whole before anything is written: the format and version, every field (the
// limits of v1, enums as lenient as v1's, since v1 may have stored any value), ids unique within the
// document, every hard reference (parentId, dependencies, sessionIds, taskIds, a queue's sessionId)
// resolved within the document, both sides of every link agreeing, no parent or dependency cycle.
//
// Records project:created, task:created per task and session:created per session (document order, each
// with its record as stored, links included), then queue:created per queue: what a client that applies
// those events needs to show the imported project. No task:session_added is recorded: the links are in
// the task and session payloads. An Idempotency-Key (v2) is honoured.
//
// Errors: VALIDATION_ERROR (the document, naming the field), DEPENDENCY_CYCLE, CONFLICT (keep mode).
func (s *Projects) Import(ctx context.Context, doc maestro.ProjectExport, mode string, opts ...maestro.WriteOpts) (maestro.ImportResult, error) {
	if mode == "" {
		mode = maestro.ImportNewIDs
	}
	if mode != maestro.ImportKeepIDs && mode != maestro.ImportNewIDs {
		return maestro.ImportResult{}, maestro.InvalidField("ids", "ids must be 'keep' or 'new', not '%s'", mode)
	}
	plan, err := checkImport(&doc, mode)
	if err != nil {
		return maestro.ImportResult{}, err
	}
	now := s.now()
	ids := make(map[string]string, 1+len(doc.Tasks)+len(doc.Sessions))
	mint := func(prefix, id string) {
		if mode == maestro.ImportKeepIDs {
			ids[id] = id
		} else {
			ids[id] = maestro.NewID(prefix, now)
		}
	}
	mint(maestro.PrefixProject, doc.Project.ID)
	for _, t := range doc.Tasks {
		mint(maestro.PrefixTask, t.ID)
	}
	for _, sess := range doc.Sessions {
		mint(maestro.PrefixSession, sess.ID)
	}
	res := maestro.ImportResult{Mode: mode, IDs: ids}
	err = once(ctx, s.st, opts, &res, func(q *store.Q) error {
		if mode == maestro.ImportKeepIDs {
			if err := checkFree(ctx, q, &doc); err != nil {
				return err
			}
		}
		w := importWriter{q: q, ids: ids, res: &res}
		if err := w.write(ctx, &doc, plan); err != nil {
			if errors.Is(err, store.ErrUnique) {
				// Only possible with new ids if a minted id collided: retrying the import mints others.
				return maestro.Errorf(maestro.CodeConflict, "an id of the import is already taken; retry the import")
			}
			return err
		}
		return nil
	})
	if err != nil {
		return maestro.ImportResult{}, err
	}
	return res, nil
}

// importPlan is what checking a document worked out for writing it.
type importPlan struct {
	// order lists the task indexes parents first (the parent_id foreign key needs the parent stored).
	order []int
	// taskPos is the position of each link in its task's sessionIds, by (taskId, sessionId).
	taskPos map[[2]string]int
}

// checkImport validates a whole document before anything is stored.
func checkImport(doc *maestro.ProjectExport, mode string) (importPlan, error) {
	plan := importPlan{taskPos: map[[2]string]int{}}
	if doc.Format != maestro.ExportFormat {
		return plan, maestro.InvalidField("format", "format must be '%s', not '%s': this is not a Maestro project export",
			maestro.ExportFormat, doc.Format)
	}
	if doc.Version != maestro.ExportVersion {
		e := maestro.InvalidField("version", "export version %d is not supported; this server reads version %d",
			doc.Version, maestro.ExportVersion)
		e.Details["supported"] = []int{maestro.ExportVersion}
		return plan, e
	}
	seen := map[string]string{}
	claim := func(field, id string) error {
		if id == "" {
			return maestro.InvalidField(field, "%s is required", field)
		}
		if err := maestro.CheckChars(field, id, maestro.MaxIDChars); err != nil {
			return err
		}
		if prev, ok := seen[id]; ok {
			return maestro.InvalidField(field, "%s '%s' is already the id of %s: ids must be unique in the document", field, id, prev)
		}
		seen[id] = field
		return nil
	}
	p := doc.Project
	if err := claim("project.id", p.ID); err != nil {
		return plan, err
	}
	if strings.TrimSpace(p.Name) == "" {
		return plan, maestro.InvalidField("project.name", "project.name must not be blank")
	}
	if err := validateProjectFields(&p.Name, &p.WorkingDir, &p.Description); err != nil {
		return plan, prefixField(err, "project.")
	}

	tasks := make(map[string]int, len(doc.Tasks))
	for i, t := range doc.Tasks {
		f := fmt.Sprintf("tasks[%d].", i)
		if err := claim(f+"id", t.ID); err != nil {
			return plan, err
		}
		tasks[t.ID] = i
		if t.ProjectID != p.ID {
			return plan, maestro.InvalidField(f+"projectId", "%sprojectId is '%s', not the project of the document ('%s')", f, t.ProjectID, p.ID)
		}
		if strings.TrimSpace(t.Title) == "" {
			return plan, maestro.InvalidField(f+"title", "%stitle must not be blank", f)
		}
		if err := firstErr(
			validateTaskText(&t.Title, &t.Description, &t.InitialPrompt),
			requiredEnum("status", t.Status),
			requiredEnum("priority", t.Priority),
			validateEnum("sessionStatus", t.SessionStatus),
			maestro.CheckList("skillIds", t.SkillIDs, maestro.MaxIDChars),
			maestro.CheckList("agentIds", t.AgentIDs, maestro.MaxIDChars),
			maestro.CheckList("dependencies", t.Dependencies, maestro.MaxIDChars),
			maestro.CheckList("sessionIds", t.SessionIDs, maestro.MaxIDChars),
		); err != nil {
			return plan, prefixField(err, f)
		}
	}
	sessions := make(map[string]int, len(doc.Sessions))
	for j, sess := range doc.Sessions {
		f := fmt.Sprintf("sessions[%d].", j)
		if err := claim(f+"id", sess.ID); err != nil {
			return plan, err
		}
		if mode == maestro.ImportKeepIDs && !validSessionID.MatchString(sess.ID) {
			return plan, maestro.InvalidField(f+"id", "%sid must be 1 to 128 characters of letters, digits, '_', '.' or '-' to be kept", f)
		}
		sessions[sess.ID] = j
		if sess.ProjectID != p.ID {
			return plan, maestro.InvalidField(f+"projectId", "%sprojectId is '%s', not the project of the document ('%s')", f, sess.ProjectID, p.ID)
		}
		if err := firstErr(
			maestro.CheckChars("name", sess.Name, maestro.MaxNameChars),
			checkIDField("agentId", sess.AgentID),
			requiredEnum("strategy", sess.Strategy),
			requiredEnum("status", sess.Status),
			maestro.CheckChars("hostname", sess.Hostname, maestro.MaxNameChars),
			maestro.CheckChars("platform", sess.Platform, maestro.MaxEnumChars),
			validateEnv(sess.Env),
			validateObject("metadata", sess.Metadata),
			maestro.CheckList("taskIds", sess.TaskIDs, maestro.MaxIDChars),
			checkEntries("events", sess.Events),
			checkEntries("timeline", sess.Timeline),
		); err != nil {
			return plan, prefixField(err, f)
		}
	}

	// References: every one must resolve within the document, and both sides of a link must agree.
	fromTasks := map[[2]string]bool{}
	for i, t := range doc.Tasks {
		f := fmt.Sprintf("tasks[%d].", i)
		if t.ParentID != nil {
			if _, ok := tasks[*t.ParentID]; !ok || *t.ParentID == t.ID {
				return plan, missingRef(f+"parentId", "task", *t.ParentID)
			}
		}
		if err := refsIn(f+"dependencies", t.Dependencies, tasks, "task"); err != nil {
			return plan, err
		}
		if err := refsIn(f+"sessionIds", t.SessionIDs, sessions, "session"); err != nil {
			return plan, err
		}
		for k, sid := range t.SessionIDs {
			fromTasks[[2]string{t.ID, sid}] = true
			plan.taskPos[[2]string{t.ID, sid}] = k
		}
	}
	links := 0
	for j, sess := range doc.Sessions {
		f := fmt.Sprintf("sessions[%d].", j)
		if err := refsIn(f+"taskIds", sess.TaskIDs, tasks, "task"); err != nil {
			return plan, err
		}
		for _, tid := range sess.TaskIDs {
			if !fromTasks[[2]string{tid, sess.ID}] {
				return plan, maestro.InvalidField(f+"taskIds", "%staskIds links task '%s', but that task's sessionIds do not list session '%s': "+
					"both sides of a link must name each other", f, tid, sess.ID)
			}
			links++
		}
	}
	if links != len(fromTasks) {
		for i, t := range doc.Tasks {
			for _, sid := range t.SessionIDs {
				if !slices.Contains(doc.Sessions[sessions[sid]].TaskIDs, t.ID) {
					return plan, maestro.InvalidField(fmt.Sprintf("tasks[%d].sessionIds", i),
						"tasks[%d].sessionIds links session '%s', but that session's taskIds do not list task '%s': "+
							"both sides of a link must name each other", i, sid, t.ID)
				}
			}
		}
	}
	var err error
	if plan.order, err = parentOrder(doc.Tasks, tasks); err != nil {
		return plan, err
	}
	if err := dependencyCycle(doc.Tasks, tasks); err != nil {
		return plan, err
	}

	queued := map[string]bool{}
	for k, qu := range doc.Queues {
		f := fmt.Sprintf("queues[%d].", k)
		if _, ok := sessions[qu.SessionID]; !ok {
			return plan, missingRef(f+"sessionId", "session", qu.SessionID)
		}
		if queued[qu.SessionID] {
			return plan, maestro.InvalidField(f+"sessionId", "%ssessionId: session '%s' has two queues", f, qu.SessionID)
		}
		queued[qu.SessionID] = true
		if qu.Strategy != "" && qu.Strategy != maestro.StrategyQueue {
			return plan, maestro.InvalidField(f+"strategy", "%sstrategy must be 'queue'", f)
		}
		if qu.CurrentIndex < -1 || qu.CurrentIndex >= len(qu.Items) {
			return plan, maestro.InvalidField(f+"currentIndex", "%scurrentIndex must be -1 or the index of an item", f)
		}
		inQueue := map[string]bool{}
		for n, it := range qu.Items {
			fi := fmt.Sprintf("%sitems[%d].", f, n)
			if it.TaskID == "" || inQueue[it.TaskID] {
				return plan, maestro.InvalidField(fi+"taskId", "%staskId must be set and appear once per queue", fi)
			}
			inQueue[it.TaskID] = true
			if err := maestro.CheckChars(fi+"taskId", it.TaskID, maestro.MaxIDChars); err != nil {
				return plan, err
			}
			switch it.Status {
			case maestro.QueueQueued, maestro.QueueProcessing, maestro.QueueCompleted, maestro.QueueFailed, maestro.QueueSkipped:
			default:
				return plan, maestro.InvalidField(fi+"status", "%sstatus must be queued, processing, completed, failed or skipped", fi)
			}
			if it.FailReason != nil {
				if err := maestro.CheckBytes(fi+"failReason", *it.FailReason, maestro.MaxTextBytes); err != nil {
					return plan, err
				}
			}
		}
	}
	return plan, nil
}

// requiredEnum requires a v1-lenient enum value: any non-empty string of at most 64 characters.
func requiredEnum(field, v string) error {
	if v == "" {
		return maestro.InvalidField(field, "%s is required", field)
	}
	return validateEnum(field, &v)
}

// checkEntries requires every event or timeline entry to be a JSON object. Unlike a PATCH, a document
// may carry any number of them (the body limit bounds it).
func checkEntries(field string, entries []json.RawMessage) error {
	for i, e := range entries {
		if !isJSONObject(e) {
			return maestro.InvalidField(field, "%s[%d] must be a JSON object", field, i)
		}
	}
	return nil
}

// prefixField puts the path of the record in front of the field a validation error names.
func prefixField(err error, prefix string) error {
	var e *maestro.Error
	if !errors.As(err, &e) || e.Code != maestro.CodeValidation {
		return err
	}
	out := *e
	out.Details = map[string]any{}
	for k, v := range e.Details {
		out.Details[k] = v
	}
	if f, ok := e.Details["field"].(string); ok {
		out.Details["field"] = prefix + f
	}
	out.Message = prefix + e.Message
	return &out
}

func missingRef(field, kind, id string) error {
	e := maestro.InvalidField(field, "%s names %s '%s', which is not in the document", field, kind, id)
	e.Details["missing"] = id
	return e
}

// refsIn checks that every id of a reference list names a record of the document, once. (A task that
// depends on itself is left to dependencyCycle, which reports it as the cycle it is.)
func refsIn(field string, ids []string, in map[string]int, kind string) error {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if _, ok := in[id]; !ok {
			return missingRef(field, kind, id)
		}
		if seen[id] {
			return maestro.InvalidField(field, "%s lists '%s' twice", field, id)
		}
		seen[id] = true
	}
	return nil
}

// parentOrder returns the task indexes with every parent before its children, or a VALIDATION_ERROR
// when parents form a cycle.
func parentOrder(tasks []maestro.Task, index map[string]int) ([]int, error) {
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(tasks))
	order := make([]int, 0, len(tasks))
	for start := range tasks {
		// Walk up to the first stored (or root) ancestor, then store the chain top-down.
		var chain []int
		for i := start; state[i] != done; {
			if state[i] == active {
				return nil, maestro.InvalidField(fmt.Sprintf("tasks[%d].parentId", i),
					"tasks[%d].parentId: the parents of task '%s' form a cycle", i, tasks[i].ID)
			}
			state[i] = active
			chain = append(chain, i)
			if tasks[i].ParentID == nil {
				break
			}
			i = index[*tasks[i].ParentID]
		}
		for k := len(chain) - 1; k >= 0; k-- {
			state[chain[k]] = done
			order = append(order, chain[k])
		}
	}
	return order, nil
}

// dependencyCycle returns DEPENDENCY_CYCLE naming a cycle of the document's dependencies, if any.
func dependencyCycle(tasks []maestro.Task, index map[string]int) error {
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(tasks))
	var path []string
	var visit func(i int) []string
	visit = func(i int) []string {
		state[i] = active
		path = append(path, tasks[i].ID)
		for _, d := range tasks[i].Dependencies {
			j := index[d]
			switch state[j] {
			case active:
				for k, id := range path {
					if id == d {
						return append(append([]string{}, path[k:]...), d)
					}
				}
			case unseen:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range tasks {
		if state[i] == unseen {
			if c := visit(i); c != nil {
				return cycleErrorAt(fmt.Sprintf("tasks[%d].dependencies", index[c[0]]), c)
			}
		}
	}
	return nil
}

func cycleErrorAt(field string, cycle []string) error {
	return &maestro.Error{
		Code:    maestro.CodeDependencyCycle,
		Message: field + ": dependencies form a cycle: " + strings.Join(cycle, " -> "),
		Details: map[string]any{"field": field, "cycle": cycle},
	}
}

// checkFree returns CONFLICT listing the document ids that are already taken (keep mode).
func checkFree(ctx context.Context, q *store.Q, doc *maestro.ProjectExport) error {
	var taken []string
	_, err := q.GetProject(ctx, doc.Project.ID)
	switch {
	case err == nil:
		taken = append(taken, doc.Project.ID)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	for _, t := range doc.Tasks {
		ok, err := q.TaskExists(ctx, t.ID)
		if err != nil {
			return err
		}
		if ok {
			taken = append(taken, t.ID)
		}
	}
	for _, sess := range doc.Sessions {
		ok, err := q.SessionExists(ctx, sess.ID)
		if err != nil {
			return err
		}
		if ok {
			taken = append(taken, sess.ID)
			continue
		}
		// A deleted session leaves its queue behind (SPEC §2.6), and the queue is keyed by the session id.
		_, err = q.GetQueue(ctx, sess.ID)
		switch {
		case err == nil:
			taken = append(taken, sess.ID)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	if len(taken) == 0 {
		return nil
	}
	listed := taken[:min(len(taken), maxConflictsListed)]
	more := ""
	if len(taken) > len(listed) {
		more = fmt.Sprintf(" and %d more", len(taken)-len(listed))
	}
	return &maestro.Error{
		Code: maestro.CodeConflict,
		Message: fmt.Sprintf("%d ids of the document already exist (%s%s): import with ids=new to store a copy",
			len(taken), strings.Join(listed, ", "), more),
		Details: map[string]any{"ids": listed, "count": len(taken)},
	}
}

// importWriter stores a checked document under the ids of the map.
type importWriter struct {
	q   *store.Q
	ids map[string]string
	res *maestro.ImportResult
}

// id maps a document id to its stored id, keeping ids that are not in the document (history).
func (w importWriter) id(id string) string {
	if to, ok := w.ids[id]; ok {
		return to
	}
	return id
}

func (w importWriter) list(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = w.ids[id]
	}
	return out
}

func (w importWriter) write(ctx context.Context, doc *maestro.ProjectExport, plan importPlan) error {
	q := w.q
	p := doc.Project
	p.ID = w.ids[p.ID]
	if err := q.InsertProject(ctx, p); err != nil {
		return err
	}
	w.res.Project = p
	for _, i := range plan.order {
		t := doc.Tasks[i]
		t.ID, t.ProjectID = w.ids[t.ID], p.ID
		if t.ParentID != nil {
			parent := w.ids[*t.ParentID]
			t.ParentID = &parent
		}
		t.Dependencies = w.list(t.Dependencies)
		t.SkillIDs, t.AgentIDs = orEmpty(t.SkillIDs), orEmpty(t.AgentIDs)
		if err := q.InsertTask(ctx, t); err != nil {
			return err
		}
	}
	for _, sess := range doc.Sessions {
		stored := sess
		stored.ID, stored.ProjectID = w.ids[sess.ID], p.ID
		meta, err := rewriteMember(nullIfJSONNull(sess.Metadata), "spawnedBy", w.id)
		if err != nil {
			return err
		}
		stored.Metadata = meta
		if err := q.InsertSession(ctx, stored); err != nil {
			return err
		}
		for _, e := range sess.Events {
			e = compactJSON(e)
			if err := q.AppendSessionEvent(ctx, stored.ID, entryType(e), entryTime(e, sess.StartedAt), e); err != nil {
				return err
			}
		}
		for _, e := range sess.Timeline {
			e, err := rewriteMember(compactJSON(e), "taskId", w.id)
			if err != nil {
				return err
			}
			if err := q.AppendTimeline(ctx, stored.ID, entryType(e), entryTime(e, sess.StartedAt), e); err != nil {
				return err
			}
		}
		for k, tid := range sess.TaskIDs {
			if err := q.LinkAt(ctx, w.ids[tid], stored.ID, plan.taskPos[[2]string{tid, sess.ID}], k); err != nil {
				return err
			}
		}
		w.res.Counts.Events += len(sess.Events)
		w.res.Counts.Timeline += len(sess.Timeline)
		w.res.Counts.Links += len(sess.TaskIDs)
	}
	for _, qu := range doc.Queues {
		stored := maestro.Queue{SessionID: w.ids[qu.SessionID], CurrentIndex: qu.CurrentIndex, CreatedAt: qu.CreatedAt, UpdatedAt: qu.UpdatedAt}
		for _, it := range qu.Items {
			it.TaskID = w.id(it.TaskID)
			stored.Items = append(stored.Items, it)
		}
		if err := q.InsertQueue(ctx, stored); err != nil {
			return err
		}
		// InsertQueue stores each item as pushed; the rest of its state follows.
		for n, it := range stored.Items {
			if it.StartedAt != nil || it.CompletedAt != nil || it.FailReason != nil {
				if err := q.UpdateQueueItem(ctx, stored.SessionID, n, it); err != nil {
					return err
				}
			}
		}
		w.res.Counts.QueueItems += len(qu.Items)
	}
	w.res.Counts.Tasks, w.res.Counts.Sessions, w.res.Counts.Queues = len(doc.Tasks), len(doc.Sessions), len(doc.Queues)
	return w.emit(ctx, doc, p)
}

// emit records the events of an import, each with its record as finally stored.
func (w importWriter) emit(ctx context.Context, doc *maestro.ProjectExport, p maestro.Project) error {
	q := w.q
	if err := q.Emit(ctx, maestro.EventProjectCreated, p.ID, p); err != nil {
		return err
	}
	for _, t := range doc.Tasks {
		stored, err := q.GetTask(ctx, w.ids[t.ID])
		if err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventTaskCreated, p.ID, stored); err != nil {
			return err
		}
	}
	for _, sess := range doc.Sessions {
		stored, err := q.GetSession(ctx, w.ids[sess.ID])
		if err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventSessionCreated, p.ID, stored); err != nil {
			return err
		}
	}
	for _, qu := range doc.Queues {
		sid := w.ids[qu.SessionID]
		stored, err := q.GetQueue(ctx, sid)
		if err != nil {
			return err
		}
		if err := q.Emit(ctx, maestro.EventQueueCreated, p.ID, maestro.QueueCreatedPayload{SessionID: sid, Queue: stored}); err != nil {
			return err
		}
	}
	return nil
}

// entryTime is an entry's timestamp member when it is an integer, else fallback. It only feeds the
// created_at column kept for inspection with sqlite3; clients read the entry itself.
func entryTime(raw json.RawMessage, fallback int64) int64 {
	var e struct {
		Timestamp json.Number `json:"timestamp"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return fallback
	}
	if n, err := e.Timestamp.Int64(); err == nil {
		return n
	}
	return fallback
}

// rewriteMember replaces the value of a top-level string member of a JSON object with fn(value),
// keeping every other member, the member order and every other byte as they were. Anything that is not
// an object, or a member that is absent or not a string, is returned unchanged.
func rewriteMember(raw json.RawMessage, key string, fn func(string) string) (json.RawMessage, error) {
	if len(raw) == 0 || !isJSONObject(raw) {
		return raw, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteByte('{')
	changed := false
	for first := true; dec.More(); first = false {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := kt.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if k == key {
			var str string
			if json.Unmarshal(v, &str) == nil {
				if to := fn(str); to != str {
					var b bytes.Buffer
					if err := writeJSONString(&b, to); err != nil {
						return nil, err
					}
					v, changed = b.Bytes(), true
				}
			}
		}
		if !first {
			out.WriteByte(',')
		}
		if err := writeJSONString(&out, k); err != nil {
			return nil, err
		}
		out.WriteByte(':')
		out.Write(v)
	}
	if !changed {
		return raw, nil
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// writeJSONString writes s as a JSON string without HTML escaping (what the entry's author sent is kept).
func writeJSONString(buf *bytes.Buffer, s string) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}
