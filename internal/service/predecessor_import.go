package service

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// predecessorDefaults is the built-in text of the predecessor's two default templates, as its data
// directories hold them when nobody edited them. It tells an unedited default (skipped: ours is kept)
// from an edited one (imported with its text).
//
//go:embed templates/predecessor-worker.md templates/predecessor-orchestrator.md
var predecessorDefaults embed.FS

func predecessorDefaultContent(role string) string {
	b, err := predecessorDefaults.ReadFile("templates/predecessor-" + role + ".md")
	if err != nil {
		return ""
	}
	return string(b)
}

// Predecessor imports the TypeScript predecessor's data directory (SPEC §7).
type Predecessor struct{ base }

// errDryRun rolls a dry run's transaction back after it did (and counted) everything.
var errDryRun = errors.New("service: dry run")

// Import reads the predecessor data directory fsys (projects/, tasks/<projectId>/ and the legacy flat
// tasks/<id>.json, sessions/, queues/, templates/) into the database in ONE transaction: everything or,
// on an error, nothing.
//
// It applies the predecessor loader's defaults (SPEC §7): a session's legacy taskId becomes taskIds,
// and missing lists, names, env, strategy and status get the loader's defaults. Ids are kept as they
// are. A record whose id is already stored is left as it is and counted as existing, or overwritten
// with opts.Update, so a second run imports nothing new and changes nothing.
//
// A directory without any of the five subdirectories is VALIDATION_ERROR (field from): most likely the
// wrong directory was named. A file that is not a readable record (bad JSON, a wrong type, no id) is reported as corrupt and
// skipped; the rest imports. Records this schema cannot hold are reported and skipped: a task or session
// whose project does not exist, a template of an unknown role, a queue naming one task twice or with a
// current index outside its items. References the predecessor left dangling are imported the way it
// served them where the schema can hold them (queue items naming deleted tasks, queues of deleted
// sessions, dependencies), and otherwise dropped and reported: a parentId naming a task that does not
// exist is cleared (the task becomes a root task, as D6 does on delete), and a link naming a task or
// session that does not exist is dropped. Every link both sides agree on, and every link only one side
// lists, is stored once in the join table (D5), each side keeping its file order (links only the other
// side lists follow, in that side's record order). Links are imported with their records: a link
// between two records that were already stored is left alone.
//
// The predecessor's default templates replace nothing: an unedited one is skipped (this server's
// default is kept), an edited one is imported with its text as a custom template (isDefault false,
// its own id), which the role lookup serves ahead of our newer default, just as the predecessor served
// the edited text. The defaults of this server are seeded first when missing.
//
// Nothing is broadcast (the predecessor kept no event history); one audit row records the counts.
// With opts.DryRun the whole import runs and is rolled back: the report is what a real run would do.
func (s *Predecessor) Import(ctx context.Context, fsys fs.FS, opts maestro.PredecessorOptions) (maestro.PredecessorReport, error) {
	files := readPredecessorDir(fsys)
	if !files.found {
		return maestro.PredecessorReport{}, maestro.InvalidField("from",
			"the directory has none of projects/, tasks/, sessions/, queues/, templates/: it is not the predecessor's DATA_DIR")
	}
	var rep maestro.PredecessorReport
	err := s.st.InTx(ctx, func(q *store.Q) error {
		// The writer may run fn again after a failed group commit: every count starts here.
		rep = files.report(opts)
		im := &predImporter{q: q, rep: &rep, opts: opts, now: s.nowMs(), files: files,
			projects: map[string]bool{}, tasks: map[string]bool{}, sessions: map[string]bool{},
			newTasks: map[string]bool{}, newSessions: map[string]bool{}}
		if err := im.run(ctx); err != nil {
			return err
		}
		if err := q.InsertAuditEntries(ctx, []maestro.AuditEntry{im.auditEntry(ctx)}); err != nil {
			return err
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return maestro.PredecessorReport{}, err
	}
	return rep, nil
}

// predFiles is what reading the directory found: the records, in file-name order, and the problems of
// the files that could not be read.
type predFiles struct {
	projects  []predRecord[predProject]
	tasks     []predRecord[predTask]
	sessions  []predRecord[predSession]
	queues    []predRecord[predQueue]
	templates []predRecord[predTemplate]
	corrupt   []maestro.PredecessorProblem
	// found says whether any of the five directories exists.
	found bool
}

type predRecord[T any] struct {
	File string
	V    T
}

// report starts a report: the corrupt files are known before the transaction.
func (f *predFiles) report(opts maestro.PredecessorOptions) maestro.PredecessorReport {
	rep := maestro.PredecessorReport{DryRun: opts.DryRun, Update: opts.Update, Problems: slices.Clone(f.corrupt)}
	for _, p := range f.corrupt {
		tallyOf(&rep, p.Entity).Corrupt++
	}
	if rep.Problems == nil {
		rep.Problems = []maestro.PredecessorProblem{}
	}
	return rep
}

func tallyOf(rep *maestro.PredecessorReport, entity string) *maestro.ImportTally {
	switch entity {
	case "project":
		return &rep.Projects
	case "task":
		return &rep.Tasks
	case "session":
		return &rep.Sessions
	case "queue":
		return &rep.Queues
	default:
		return &rep.Templates
	}
}

// The files' shapes. Pointers tell an absent member (which gets the loader's default) from a present
// one; a member of the wrong JSON type fails the decode and makes the file corrupt. Unknown members are
// ignored, as v1 ignores them (D15).
type predProject struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WorkingDir  string `json:"workingDir"`
	Description string `json:"description"`
	CreatedAt   int64  `json:"createdAt"`
	UpdatedAt   int64  `json:"updatedAt"`
}

type predTask struct {
	ID            string   `json:"id"`
	ProjectID     string   `json:"projectId"`
	ParentID      *string  `json:"parentId"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Status        *string  `json:"status"`
	SessionStatus *string  `json:"sessionStatus"`
	Priority      *string  `json:"priority"`
	CreatedAt     int64    `json:"createdAt"`
	UpdatedAt     int64    `json:"updatedAt"`
	StartedAt     *int64   `json:"startedAt"`
	CompletedAt   *int64   `json:"completedAt"`
	InitialPrompt string   `json:"initialPrompt"`
	SessionIDs    []string `json:"sessionIds"`
	SkillIDs      []string `json:"skillIds"`
	AgentIDs      []string `json:"agentIds"`
	Dependencies  []string `json:"dependencies"`
}

type predSession struct {
	ID           string            `json:"id"`
	ProjectID    string            `json:"projectId"`
	TaskIDs      []string          `json:"taskIds"`
	TaskID       *string           `json:"taskId"`
	Name         *string           `json:"name"`
	AgentID      *string           `json:"agentId"`
	Env          map[string]string `json:"env"`
	Strategy     *string           `json:"strategy"`
	Status       *string           `json:"status"`
	StartedAt    *int64            `json:"startedAt"`
	LastActivity *int64            `json:"lastActivity"`
	CompletedAt  *int64            `json:"completedAt"`
	Hostname     string            `json:"hostname"`
	Platform     string            `json:"platform"`
	Events       []json.RawMessage `json:"events"`
	Timeline     []json.RawMessage `json:"timeline"`
	Metadata     json.RawMessage   `json:"metadata"`
}

type predQueue struct {
	SessionID    string              `json:"sessionId"`
	Items        []maestro.QueueItem `json:"items"`
	CurrentIndex *int                `json:"currentIndex"`
	CreatedAt    int64               `json:"createdAt"`
	UpdatedAt    int64               `json:"updatedAt"`
}

type predTemplate struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Content   string `json:"content"`
	IsDefault bool   `json:"isDefault"`
	CreatedAt int64  `json:"createdAt"`
	UpdatedAt int64  `json:"updatedAt"`
}

// readPredecessorDir reads every record file of the directory. Missing directories hold no records;
// files that are not *.json are not records and are ignored.
func readPredecessorDir(fsys fs.FS) *predFiles {
	f := &predFiles{}
	readRecords(fsys, "projects", "project", f, &f.projects, func(p *predProject, _ string) error { return needID(p.ID) })
	readRecords(fsys, "tasks", "task", f, &f.tasks, checkPredTask)
	// tasks/<projectId>/<taskId>.json, beside the legacy flat tasks/<taskId>.json read above.
	if dirs, err := fs.ReadDir(fsys, "tasks"); err == nil {
		for _, d := range dirs {
			if d.IsDir() {
				readRecords(fsys, path.Join("tasks", d.Name()), "task", f, &f.tasks, checkPredTask)
			}
		}
	}
	readRecords(fsys, "sessions", "session", f, &f.sessions, checkPredSession)
	readRecords(fsys, "queues", "queue", f, &f.queues, checkPredQueue)
	readRecords(fsys, "templates", "template", f, &f.templates, func(t *predTemplate, _ string) error { return needID(t.ID) })
	return f
}

// readRecords decodes every *.json file directly in dir into a T, checked by check (which may also fill
// defaults; it gets the file name without .json), appending good ones to out and bad ones to f.corrupt.
func readRecords[T any](fsys fs.FS, dir, entity string, f *predFiles, out *[]predRecord[T], check func(*T, string) error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		f.found = true
	}
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.corrupt = append(f.corrupt, maestro.PredecessorProblem{Kind: maestro.ProblemCorrupt, Entity: entity,
				File: dir, Message: "directory unreadable: " + err.Error()})
		}
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		file := path.Join(dir, name)
		bad := func(msg string) {
			f.corrupt = append(f.corrupt, maestro.PredecessorProblem{Kind: maestro.ProblemCorrupt, Entity: entity,
				File: file, Message: msg})
		}
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			bad("unreadable: " + err.Error())
			continue
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			bad("not a valid " + entity + " record: " + err.Error())
			continue
		}
		if err := check(&v, strings.TrimSuffix(name, ".json")); err != nil {
			bad(err.Error())
			continue
		}
		*out = append(*out, predRecord[T]{File: file, V: v})
	}
}

func needID(id string) error {
	if strings.TrimSpace(id) == "" {
		return errors.New("no id")
	}
	return nil
}

func checkPredTask(t *predTask, _ string) error {
	if err := needID(t.ID); err != nil {
		return err
	}
	if t.ProjectID == "" {
		return errors.New("no projectId")
	}
	return nil
}

// checkPredSession requires an id and a project, and checks that every log and timeline entry is an
// object and the metadata an object or null.
func checkPredSession(s *predSession, _ string) error {
	if err := needID(s.ID); err != nil {
		return err
	}
	if s.ProjectID == "" {
		return errors.New("no projectId")
	}
	for i, e := range s.Events {
		if !isJSONObject(e) {
			return fmt.Errorf("events[%d] is not a JSON object", i)
		}
	}
	for i, e := range s.Timeline {
		if !isJSONObject(e) {
			return fmt.Errorf("timeline[%d] is not a JSON object", i)
		}
	}
	s.Metadata = nullIfJSONNull(s.Metadata)
	if s.Metadata != nil && !isJSONObject(s.Metadata) {
		return errors.New("metadata is not a JSON object")
	}
	return nil
}

// checkPredQueue takes the session id from the file name when the record has none (the predecessor
// named queue files after their session).
func checkPredQueue(qu *predQueue, name string) error {
	if qu.SessionID == "" {
		qu.SessionID = name
	}
	for i, it := range qu.Items {
		if it.TaskID == "" {
			return fmt.Errorf("items[%d] has no taskId", i)
		}
		switch it.Status {
		case maestro.QueueQueued, maestro.QueueProcessing, maestro.QueueCompleted, maestro.QueueFailed, maestro.QueueSkipped:
		default:
			return fmt.Errorf("items[%d].status '%s' is not queued, processing, completed, failed or skipped", i, it.Status)
		}
	}
	return nil
}

// predImporter writes the records of one import in its transaction.
type predImporter struct {
	q     *store.Q
	rep   *maestro.PredecessorReport
	opts  maestro.PredecessorOptions
	now   int64
	files *predFiles
	// projects, tasks and sessions hold the ids known to exist once this import commits (records of
	// the files that were stored or already there, and records of the database the files referred to),
	// with false for ids known not to exist; newTasks and newSessions the records this import inserts.
	projects, tasks, sessions map[string]bool
	newTasks, newSessions     map[string]bool
	// accepted tasks and sessions of the files (not skipped), in record order.
	acceptedTasks    []*predRecord[predTask]
	acceptedSessions []*predRecord[predSession]
}

func (im *predImporter) problem(kind, entity, id, file, format string, args ...any) {
	im.rep.Problems = append(im.rep.Problems, maestro.PredecessorProblem{
		Kind: kind, Entity: entity, ID: id, File: file, Message: fmt.Sprintf(format, args...),
	})
	if kind == maestro.ProblemSkipped {
		tallyOf(im.rep, entity).Skipped++
	}
}

func (im *predImporter) run(ctx context.Context) error {
	for _, step := range []func(context.Context) error{
		im.importTemplates, im.importProjects, im.importTasks, im.importSessions, im.importLinks, im.importQueues,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// exists reports whether id is (or, once this import commits, will be) stored, asking the database
// once per id that the files do not hold.
func exists(ctx context.Context, known map[string]bool, id string, lookup func(context.Context, string) (bool, error)) (bool, error) {
	if ok, seen := known[id]; seen {
		return ok, nil
	}
	ok, err := lookup(ctx, id)
	if err != nil {
		return false, err
	}
	known[id] = ok
	return ok, nil
}

func (im *predImporter) projectExists(ctx context.Context, id string) (bool, error) {
	return exists(ctx, im.projects, id, func(ctx context.Context, id string) (bool, error) {
		_, err := im.q.GetProject(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
}

// duplicate reports (and skips) a record whose id an earlier file of the same entity already had: the
// predecessor kept only one of them in memory too.
func duplicate(seen map[string]string, im *predImporter, entity, id, file string) bool {
	if first, ok := seen[id]; ok {
		im.problem(maestro.ProblemSkipped, entity, id, file, "the id is also the id of %s, which was read first", first)
		return true
	}
	seen[id] = file
	return false
}

// inStoredProjects returns the records of an entity (tasks, sessions) that are the first with their id
// and belong to a project stored here, in file order; it reports the others as skipped. ids gives a
// record's id and project id.
func inStoredProjects[T any](ctx context.Context, im *predImporter, entity string, recs []predRecord[T], ids func(T) (id, projectID string)) ([]*predRecord[T], error) {
	seen := map[string]string{}
	var out []*predRecord[T]
	for i := range recs {
		r := &recs[i]
		id, projectID := ids(r.V)
		if duplicate(seen, im, entity, id, r.File) {
			continue
		}
		ok, err := im.projectExists(ctx, projectID)
		if err != nil {
			return nil, err
		}
		if !ok {
			im.problem(maestro.ProblemSkipped, entity, id, r.File,
				"project '%s' does not exist, and a %s must belong to a stored project here", projectID, entity)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func (im *predImporter) importTemplates(ctx context.Context) error {
	q := im.q
	// Our defaults first, when missing, so that an edited predecessor default imported as a custom
	// template does not stop the server from seeding its own default of that role.
	for i, role := range []string{maestro.RoleWorker, maestro.RoleOrchestrator} {
		_, err := q.TemplateOfRole(ctx, role)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := im.now + int64(i)
		if err := q.InsertTemplate(ctx, maestro.Template{
			ID: maestro.NewID(maestro.PrefixTemplate, time.UnixMilli(now)), Name: defaultTemplateNames[role], Role: role,
			Content: DefaultTemplateContent(role), IsDefault: true, CreatedAt: now, UpdatedAt: now,
		}); err != nil {
			return err
		}
	}
	seen := map[string]string{}
	for _, r := range im.files.templates {
		t := r.V
		if duplicate(seen, im, "template", t.ID, r.File) {
			continue
		}
		if !maestro.ValidRole(t.Role) {
			im.problem(maestro.ProblemSkipped, "template", t.ID, r.File, "role '%s' is neither worker nor orchestrator", t.Role)
			continue
		}
		stored, err := q.GetTemplate(ctx, t.ID)
		switch {
		case err == nil:
			if im.opts.Update && !stored.IsDefault && (stored.Name != t.Name || stored.Content != t.Content || stored.UpdatedAt != t.UpdatedAt) {
				stored.Name, stored.Content, stored.UpdatedAt = t.Name, t.Content, t.UpdatedAt
				if err := q.UpdateTemplate(ctx, stored); err != nil {
					return err
				}
				im.rep.Templates.Updated++
			} else {
				im.rep.Templates.Existing++
			}
			continue
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if t.IsDefault {
			if t.Content == predecessorDefaultContent(t.Role) || t.Content == DefaultTemplateContent(t.Role) {
				im.problem(maestro.ProblemSkipped, "template", t.ID, r.File,
					"unedited default %s template: this server's own default is kept", t.Role)
				continue
			}
			ours, err := ourDefault(ctx, q, t.Role)
			if err != nil {
				return err
			}
			if ours != nil && ours.Content != DefaultTemplateContent(t.Role) && t.CreatedAt <= ours.CreatedAt {
				// Our default was edited too: the imported text must not take the role lookup (the oldest
				// template of the role) from it, so it is stamped as created just after ours.
				t.CreatedAt = ours.CreatedAt + 1
				t.UpdatedAt = max(t.UpdatedAt, t.CreatedAt)
				im.problem(maestro.ProblemChanged, "template", t.ID, r.File,
					"edited default %s template: imported with its text as a custom template (isDefault false), "+
						"created after this server's edited default, which keeps serving the role", t.Role)
			} else {
				im.problem(maestro.ProblemChanged, "template", t.ID, r.File,
					"edited default %s template: imported with its text as a custom template (isDefault false), "+
						"which serves the role ahead of this server's unedited default", t.Role)
			}
		}
		if err := q.InsertTemplate(ctx, maestro.Template{
			ID: t.ID, Name: t.Name, Role: t.Role, Content: t.Content, IsDefault: false,
			CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		}); err != nil {
			return err
		}
		im.rep.Templates.Imported++
	}
	return nil
}

// ourDefault is this server's default template of role, or nil.
func ourDefault(ctx context.Context, q *store.Q, role string) (*maestro.Template, error) {
	all, err := q.ListTemplates(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].IsDefault && all[i].Role == role {
			return &all[i], nil
		}
	}
	return nil, nil
}

func (im *predImporter) importProjects(ctx context.Context) error {
	q := im.q
	seen := map[string]string{}
	for _, r := range im.files.projects {
		p := maestro.Project{ID: r.V.ID, Name: r.V.Name, WorkingDir: r.V.WorkingDir, Description: r.V.Description,
			CreatedAt: r.V.CreatedAt, UpdatedAt: r.V.UpdatedAt}
		if duplicate(seen, im, "project", p.ID, r.File) {
			continue
		}
		im.projects[p.ID] = true
		stored, err := q.GetProject(ctx, p.ID)
		switch {
		case err == nil:
			if im.opts.Update && stored != p {
				if err := q.UpdateProject(ctx, p); err != nil {
					return err
				}
				im.rep.Projects.Updated++
			} else {
				im.rep.Projects.Existing++
			}
		case errors.Is(err, store.ErrNotFound):
			if err := q.InsertProject(ctx, p); err != nil {
				return err
			}
			im.rep.Projects.Imported++
		default:
			return err
		}
	}
	return nil
}

// predTaskOf is a task record with the loader's defaults (SPEC §7) and the create defaults for the
// fields every stored task has.
func predTaskOf(v predTask) maestro.Task {
	return maestro.Task{
		ID: v.ID, ProjectID: v.ProjectID, ParentID: v.ParentID, Title: v.Title, Description: v.Description,
		Status: deref(v.Status, maestro.TaskTodo), SessionStatus: v.SessionStatus,
		Priority: deref(v.Priority, maestro.PriorityMedium), CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		StartedAt: v.StartedAt, CompletedAt: v.CompletedAt, InitialPrompt: v.InitialPrompt,
		SessionIDs: dedupe(v.SessionIDs), SkillIDs: orEmpty(v.SkillIDs), AgentIDs: orEmpty(v.AgentIDs),
		Dependencies: orEmpty(v.Dependencies),
	}
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func (im *predImporter) importTasks(ctx context.Context) error {
	q := im.q
	byID := map[string]*predRecord[predTask]{}
	accepted, err := inStoredProjects(ctx, im, "task", im.files.tasks, func(t predTask) (string, string) { return t.ID, t.ProjectID })
	if err != nil {
		return err
	}
	for _, r := range accepted {
		im.acceptedTasks = append(im.acceptedTasks, r)
		byID[r.V.ID] = r
		im.tasks[r.V.ID] = true
	}
	slices.SortStableFunc(im.acceptedTasks, func(a, b *predRecord[predTask]) int {
		return cmp.Or(cmp.Compare(a.V.CreatedAt, b.V.CreatedAt), cmp.Compare(a.V.ID, b.V.ID))
	})

	// Parents first (the parent_id foreign key); a parent that exists nowhere, or a parent cycle, is
	// cleared and reported.
	const (
		active = 1
		done   = 2
	)
	state := map[string]int{}
	var order []*predRecord[predTask]
	var visit func(r *predRecord[predTask]) error
	visit = func(r *predRecord[predTask]) error {
		state[r.V.ID] = active
		if pid := r.V.ParentID; pid != nil {
			if parent, inFiles := byID[*pid]; inFiles {
				switch state[*pid] {
				case active:
					im.problem(maestro.ProblemChanged, "task", r.V.ID, r.File,
						"parentId '%s' closes a cycle of parents: cleared, the task is a root task", *pid)
					r.V.ParentID = nil
				case 0:
					if err := visit(parent); err != nil {
						return err
					}
				}
			} else {
				ok, err := exists(ctx, im.tasks, *pid, q.TaskExists)
				if err != nil {
					return err
				}
				if !ok {
					im.problem(maestro.ProblemChanged, "task", r.V.ID, r.File,
						"parentId '%s' names a task that does not exist: cleared, the task is a root task (as D6 does on delete)", *pid)
					r.V.ParentID = nil
				}
			}
		}
		state[r.V.ID] = done
		order = append(order, r)
		return nil
	}
	for _, r := range im.acceptedTasks {
		if state[r.V.ID] == 0 {
			if err := visit(r); err != nil {
				return err
			}
		}
	}

	for _, r := range order {
		t := predTaskOf(r.V)
		stored, err := q.GetTask(ctx, t.ID)
		switch {
		case err == nil:
			if im.opts.Update && taskFieldsDiffer(stored, t) {
				if err := q.UpdateTask(ctx, t); err != nil {
					return err
				}
				im.rep.Tasks.Updated++
			} else {
				im.rep.Tasks.Existing++
			}
		case errors.Is(err, store.ErrNotFound):
			if err := q.InsertTask(ctx, t); err != nil {
				return err
			}
			im.newTasks[t.ID] = true
			im.rep.Tasks.Imported++
		default:
			return err
		}
	}
	return nil
}

// taskFieldsDiffer compares the fields UpdateTask writes.
func taskFieldsDiffer(a, b maestro.Task) bool {
	return a.Title != b.Title || a.Description != b.Description || a.Status != b.Status ||
		!equalPtr(a.SessionStatus, b.SessionStatus) || a.Priority != b.Priority || a.UpdatedAt != b.UpdatedAt ||
		!equalPtr(a.StartedAt, b.StartedAt) || !equalPtr(a.CompletedAt, b.CompletedAt) ||
		!slices.Equal(a.SkillIDs, b.SkillIDs) || !slices.Equal(a.AgentIDs, b.AgentIDs) ||
		!slices.Equal(a.Dependencies, b.Dependencies)
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// predSessionOf is a session record with the loader's defaults (SPEC §7: taskId → taskIds, taskIds [],
// name "Session <id>", env {}, events [], timeline [], strategy simple) and, for what every stored
// session has, status idle and the start time as last activity (and the other way round).
func predSessionOf(v predSession) maestro.Session {
	taskIDs := v.TaskIDs
	if taskIDs == nil && v.TaskID != nil && *v.TaskID != "" {
		taskIDs = []string{*v.TaskID}
	}
	started, last := v.StartedAt, v.LastActivity
	if started == nil {
		started = last
	}
	if last == nil {
		last = started
	}
	var startedAt, lastActivity int64
	if started != nil {
		startedAt, lastActivity = *started, *last
	}
	env := v.Env
	if env == nil {
		env = map[string]string{}
	}
	return maestro.Session{
		ID: v.ID, ProjectID: v.ProjectID, TaskIDs: dedupe(taskIDs), Name: deref(v.Name, "Session "+v.ID),
		AgentID: v.AgentID, Env: env, Strategy: deref(v.Strategy, maestro.StrategySimple),
		Status: deref(v.Status, maestro.SessionIdle), StartedAt: startedAt, LastActivity: lastActivity,
		CompletedAt: v.CompletedAt, Hostname: v.Hostname, Platform: v.Platform, Metadata: compactMetadata(v.Metadata),
	}
}

// compactMetadata strips the pretty-printing of the files from a session's metadata (nil stays nil).
func compactMetadata(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	return compactJSON(raw)
}

func (im *predImporter) importSessions(ctx context.Context) error {
	q := im.q
	accepted, err := inStoredProjects(ctx, im, "session", im.files.sessions, func(s predSession) (string, string) { return s.ID, s.ProjectID })
	if err != nil {
		return err
	}
	for _, r := range accepted {
		im.acceptedSessions = append(im.acceptedSessions, r)
		im.sessions[r.V.ID] = true
	}
	slices.SortStableFunc(im.acceptedSessions, func(a, b *predRecord[predSession]) int {
		sa, sb := predSessionOf(a.V), predSessionOf(b.V)
		return cmp.Or(cmp.Compare(sa.StartedAt, sb.StartedAt), cmp.Compare(sa.ID, sb.ID))
	})
	for _, r := range im.acceptedSessions {
		sess := predSessionOf(r.V)
		stored, err := q.GetSessionHead(ctx, sess.ID)
		switch {
		case err == nil:
			if im.opts.Update && sessionFieldsDiffer(stored, sess) {
				if err := q.UpdateSession(ctx, sess); err != nil {
					return err
				}
				im.rep.Sessions.Updated++
			} else {
				im.rep.Sessions.Existing++
			}
			continue
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := q.InsertSession(ctx, sess); err != nil {
			return err
		}
		im.newSessions[sess.ID] = true
		im.rep.Sessions.Imported++
		for _, e := range r.V.Events {
			e = compactJSON(e)
			if err := q.AppendSessionEvent(ctx, sess.ID, entryType(e), entryTime(e, sess.StartedAt), e); err != nil {
				return err
			}
		}
		for _, e := range r.V.Timeline {
			e = compactJSON(e)
			if err := q.AppendTimeline(ctx, sess.ID, entryType(e), entryTime(e, sess.StartedAt), e); err != nil {
				return err
			}
		}
		im.rep.Events += len(r.V.Events)
		im.rep.Timeline += len(r.V.Timeline)
	}
	return nil
}

// sessionFieldsDiffer compares the fields UpdateSession writes.
func sessionFieldsDiffer(a, b maestro.Session) bool {
	if !equalPtr(a.AgentID, b.AgentID) || a.Status != b.Status || a.LastActivity != b.LastActivity ||
		!equalPtr(a.CompletedAt, b.CompletedAt) || len(a.Env) != len(b.Env) {
		return true
	}
	for k, v := range a.Env {
		if w, ok := b.Env[k]; !ok || w != v {
			return true
		}
	}
	return false
}

// importLinks stores the links of the records this import inserted: the union of what the tasks'
// sessionIds and the sessions' taskIds say, each link once (D5). A new record's side keeps its file
// order, with the links only the other side lists after it, in the other side's record order; a
// record that was already stored gets its new links appended. A link naming a record that exists
// nowhere is dropped and reported.
func (im *predImporter) importLinks(ctx context.Context) error {
	q := im.q
	type pair struct{ task, session string }
	taskSide := map[string][]string{}    // task id -> session ids, in the new task's order
	sessionSide := map[string][]string{} // session id -> task ids, in the new session's order
	var all []pair
	seen := map[pair]bool{}
	add := func(p pair) {
		if !seen[p] {
			seen[p] = true
			all = append(all, p)
		}
	}
	for _, r := range im.acceptedTasks {
		t := r.V
		for _, sid := range dedupe(t.SessionIDs) {
			ok, err := exists(ctx, im.sessions, sid, q.SessionExists)
			if err != nil {
				return err
			}
			if !ok {
				if im.newTasks[t.ID] {
					im.rep.LinksDropped++
					im.problem(maestro.ProblemChanged, "task", t.ID, r.File, "sessionIds names session '%s', which does not exist: link dropped", sid)
				}
				continue
			}
			add(pair{t.ID, sid})
			taskSide[t.ID] = append(taskSide[t.ID], sid)
		}
	}
	for _, r := range im.acceptedSessions {
		sess := predSessionOf(r.V)
		for _, tid := range sess.TaskIDs {
			ok, err := exists(ctx, im.tasks, tid, q.TaskExists)
			if err != nil {
				return err
			}
			if !ok {
				if im.newSessions[sess.ID] {
					im.rep.LinksDropped++
					im.problem(maestro.ProblemChanged, "session", sess.ID, r.File, "taskIds names task '%s', which does not exist: link dropped", tid)
				}
				continue
			}
			add(pair{tid, sess.ID})
			sessionSide[sess.ID] = append(sessionSide[sess.ID], tid)
		}
	}
	// Links only the session side lists go after the task's own, in session order, and the other way
	// round; all is in exactly that order already (tasks' links first, then sessions').
	for _, p := range all {
		if !slices.Contains(taskSide[p.task], p.session) {
			taskSide[p.task] = append(taskSide[p.task], p.session)
		}
	}
	for _, r := range im.acceptedTasks {
		for _, sid := range taskSide[r.V.ID] {
			if !slices.Contains(sessionSide[sid], r.V.ID) {
				sessionSide[sid] = append(sessionSide[sid], r.V.ID)
			}
		}
	}
	for _, p := range all {
		newTask, newSession := im.newTasks[p.task], im.newSessions[p.session]
		if !newTask && !newSession {
			// Both were stored before: their links are theirs now (a link unlinked since the last
			// import stays unlinked).
			continue
		}
		var taskPos, sessionPos *int
		if newTask {
			i := slices.Index(taskSide[p.task], p.session)
			taskPos = &i
		}
		if newSession {
			j := slices.Index(sessionSide[p.session], p.task)
			sessionPos = &j
		}
		err := q.LinkPositions(ctx, p.task, p.session, taskPos, sessionPos)
		if errors.Is(err, store.ErrUnique) {
			continue
		}
		if err != nil {
			return err
		}
		im.rep.Links++
	}
	return nil
}

func (im *predImporter) importQueues(ctx context.Context) error {
	q := im.q
	seen := map[string]string{}
	for _, r := range im.files.queues {
		v := r.V
		if duplicate(seen, im, "queue", v.SessionID, r.File) {
			continue
		}
		cur := -1
		if v.CurrentIndex != nil {
			cur = *v.CurrentIndex
		}
		if cur < -1 || cur >= len(v.Items) {
			im.problem(maestro.ProblemSkipped, "queue", v.SessionID, r.File, "currentIndex %d is not -1 or the index of an item", cur)
			continue
		}
		inQueue := map[string]bool{}
		twice := ""
		for _, it := range v.Items {
			if inQueue[it.TaskID] {
				twice = it.TaskID
			}
			inQueue[it.TaskID] = true
		}
		if twice != "" {
			im.problem(maestro.ProblemSkipped, "queue", v.SessionID, r.File, "task '%s' is in the queue twice, and a queue holds a task once here", twice)
			continue
		}
		_, err := q.GetQueue(ctx, v.SessionID)
		switch {
		case err == nil:
			// Queues change only through their steps; an import never rewrites one.
			im.rep.Queues.Existing++
			continue
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		qu := maestro.Queue{SessionID: v.SessionID, Items: v.Items, CurrentIndex: cur, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
		if err := q.InsertQueue(ctx, qu); err != nil {
			return err
		}
		for n, it := range qu.Items {
			if it.StartedAt != nil || it.CompletedAt != nil || it.FailReason != nil {
				if err := q.UpdateQueueItem(ctx, qu.SessionID, n, it); err != nil {
					return err
				}
			}
		}
		im.rep.Queues.Imported++
	}
	return nil
}

// auditEntry is the one audit row of an import: who ran it and, per entity, the counts.
func (im *predImporter) auditEntry(ctx context.Context) maestro.AuditEntry {
	tally := func(t maestro.ImportTally) string {
		return fmt.Sprintf("imported=%d updated=%d existing=%d skipped=%d corrupt=%d", t.Imported, t.Updated, t.Existing, t.Skipped, t.Corrupt)
	}
	r := im.rep
	return maestro.AuditEntry{
		At: im.now, Actor: cmp.Or(im.opts.Actor, "cli"), Method: cmp.Or(im.opts.Method, "CLI"),
		Route: cmp.Or(im.opts.Route, "maestro-server import"), Status: 200, RequestID: maestro.RequestIDFrom(ctx),
		Detail: map[string]string{
			"projects": tally(r.Projects), "tasks": tally(r.Tasks), "sessions": tally(r.Sessions),
			"queues": tally(r.Queues), "templates": tally(r.Templates),
			"links":   fmt.Sprintf("imported=%d dropped=%d", r.Links, r.LinksDropped),
			"entries": fmt.Sprintf("events=%d timeline=%d", r.Events, r.Timeline),
			"update":  fmt.Sprint(r.Update),
		},
	}
}
