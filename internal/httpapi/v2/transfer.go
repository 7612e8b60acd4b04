package v2

import (
	"context"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// importPath is the route of the project import, the one v2 operation whose body may exceed
// maestro.MaxBodyBytes (its MaxBodyBytes is maestro.MaxImportBytes).
const importPath = Prefix + "/projects/import"

// ExportDocument is a project export: what GET /api/v2/projects/{id}/export answers and what
// POST /api/v2/projects/import takes. Every member is required (lists may be empty).
type ExportDocument struct {
	Format     string          `json:"format" enum:"maestro.project-export" doc:"Always maestro.project-export."`
	Version    int             `json:"version" doc:"The document version; this server writes and reads 1."`
	ExportedAt int64           `json:"exportedAt" doc:"When the export was taken, ms since the epoch (an import ignores it)."`
	Project    Project         `json:"project"`
	Tasks      []Task          `json:"tasks" doc:"The project's tasks, oldest first."`
	Sessions   []ExportSession `json:"sessions" doc:"The project's sessions, oldest first, with their events and timelines."`
	Queues     []Queue         `json:"queues" doc:"The queues of the sessions that have one, in session order."`
	Omitted    []OmittedRef    `json:"omitted" doc:"References the export left out because they lead outside the project (an import ignores them)."`
}

// ExportSession is a session with its event log and timeline, every entry as stored.
type ExportSession struct {
	Session
	Events   []Entry `json:"events"`
	Timeline []Entry `json:"timeline"`
}

// OmittedRef is a reference an export left out: from names the task or session that had it.
type OmittedRef struct {
	Kind string `json:"kind" enum:"link,parent,dependency" doc:"link: a task-session link; parent: a parentId; dependency: an entry of dependencies."`
	From string `json:"from" doc:"The task or session of the document."`
	To   string `json:"to" doc:"The task or session of another project it named."`
}

// ImportResult is the answer of an import.
type ImportResult struct {
	Project Project              `json:"project" doc:"The project as stored."`
	IDs     string               `json:"ids" doc:"How ids were treated: keep or new."`
	IDMap   map[string]string    `json:"idMap" doc:"Each document id (the project's, every task's, every session's) mapped to the id it was stored under."`
	Counts  maestro.ImportCounts `json:"counts" doc:"How many records of each kind were stored."`
}

func importDTO(r maestro.ImportResult) ImportResult {
	return ImportResult{Project: projectDTO(r.Project), IDs: r.Mode, IDMap: r.IDs, Counts: r.Counts}
}

func exportDTO(doc maestro.ProjectExport) ExportDocument {
	out := ExportDocument{
		Format: doc.Format, Version: doc.Version, ExportedAt: doc.ExportedAt, Project: projectDTO(doc.Project),
		Tasks: mapItems(doc.Tasks, taskDTO), Queues: mapItems(doc.Queues, queueDTO),
		Omitted: make([]OmittedRef, len(doc.Omitted)),
	}
	out.Sessions = mapItems(doc.Sessions, func(s maestro.Session) ExportSession {
		return ExportSession{Session: sessionDTO(s), Events: rawEntries(s.Events), Timeline: rawEntries(s.Timeline)}
	})
	for i, o := range doc.Omitted {
		out.Omitted[i] = OmittedRef(o)
	}
	return out
}

// domainExport converts an import body to the domain document.
func domainExport(in ExportDocument) maestro.ProjectExport {
	p := in.Project
	doc := maestro.ProjectExport{
		Format: in.Format, Version: in.Version, ExportedAt: in.ExportedAt,
		Project: maestro.Project{ID: p.ID, Name: p.Name, WorkingDir: p.WorkingDir, Description: p.Description,
			CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt},
	}
	doc.Tasks = mapItems(in.Tasks, func(t Task) maestro.Task {
		return maestro.Task{ID: t.ID, ProjectID: t.ProjectID, ParentID: t.ParentID, Title: t.Title,
			Description: t.Description, Status: t.Status, SessionStatus: t.SessionStatus, Priority: t.Priority,
			CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, StartedAt: t.StartedAt, CompletedAt: t.CompletedAt,
			InitialPrompt: t.InitialPrompt, SessionIDs: nonNil(t.SessionIDs), SkillIDs: nonNil(t.SkillIDs),
			AgentIDs: nonNil(t.AgentIDs), Dependencies: nonNil(t.Dependencies)}
	})
	doc.Sessions = mapItems(in.Sessions, func(s ExportSession) maestro.Session {
		return maestro.Session{ID: s.ID, ProjectID: s.ProjectID, TaskIDs: nonNil(s.TaskIDs), Name: s.Name,
			AgentID: s.AgentID, Env: s.Env, Strategy: s.Strategy, Status: s.Status, StartedAt: s.StartedAt,
			LastActivity: s.LastActivity, CompletedAt: s.CompletedAt, Hostname: s.Hostname, Platform: s.Platform,
			Events: domainEntries(s.Events), Timeline: domainEntries(s.Timeline), Metadata: []byte(s.Metadata)}
	})
	doc.Queues = mapItems(in.Queues, func(q Queue) maestro.Queue {
		return maestro.Queue{SessionID: q.SessionID, Strategy: q.Strategy, CurrentIndex: q.CurrentIndex,
			CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt, Items: mapItems(q.Items, func(it QueueItem) maestro.QueueItem {
				return maestro.QueueItem{TaskID: it.TaskID, Status: it.Status, AddedAt: it.AddedAt, StartedAt: it.StartedAt,
					CompletedAt: it.CompletedAt, FailReason: it.FailReason}
			})}
	})
	return doc
}

type exportInput struct {
	IDPath
}

type exportOutput struct{ Body ExportDocument }

type importInput struct {
	IDs            ImportMode `query:"ids" doc:"new (the default): store a copy under new ids; keep: store every record under its document id."`
	IdempotencyKey string     `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the import safe to retry: a repeated key returns the first response and imports nothing."`
	Body           ExportDocument
}

type importOutput struct {
	Status   int
	ETag     string `header:"ETag" doc:"The imported project's version."`
	Location string `header:"Location" doc:"The imported project."`
	Body     ImportResult
}

// exportFormatDoc is the part of the export and import descriptions about the document.
const exportFormatDoc = "\n\nThe document (format maestro.project-export, version 1) holds the project, its tasks (oldest " +
	"first), its sessions (oldest first) each with its events and timeline exactly as stored and its taskIds, and the " +
	"queues of its sessions. A link is listed on both sides, each in its own order (task.sessionIds, session.taskIds). " +
	"References that lead outside the project (a link to another project's task or session, a parent or dependency in " +
	"another project) are left out of the records and listed in omitted, so that the document imports on its own. " +
	"Queues whose session was deleted are not exported."

// transferV2 holds what the Transfer operations need; each method serves one of them and is named
// after its operation ID.
type transferV2 struct {
	svc *service.Projects
}

func registerTransfer(api huma.API, d Deps) {
	const tag = "Projects"

	h := transferV2{svc: d.Services.Projects}
	huma.Register(api, op("export-project", http.MethodGet, Prefix+"/projects/{id}/export", tag, "Export a project",
		"One JSON document with the project and everything that belongs to it, read from one consistent snapshot; "+
			"POST /api/v2/projects/import takes it back."+exportFormatDoc),
		h.exportProject)

	o := create(op("import-project", http.MethodPost, importPath, tag, "Import a project",
		"Stores an export document in one transaction and answers 201 with the project, the id map and counts. "+
			"Every timestamp of the document is kept.\n\n"+
			"With ids=new (the default) the project, every task and every session get new ids and every reference is "+
			"rewritten: parentId, dependencies, both sides of every link, queue item taskIds, the taskId of timeline "+
			"entries and a spawned session's metadata.spawnedBy (those three are history: a value naming a record that "+
			"is not in the document is kept as is). With ids=keep every record keeps its id, and 409 CONFLICT lists the "+
			"ids already taken. Entry ids (evt_…) are always kept.\n\n"+
			"The whole document is checked before anything is stored: 422 names the member at fault, e.g. a parentId, "+
			"dependency, sessionId or taskId that is not in the document, links whose two sides disagree, a duplicate "+
			"id, a field over its limit (DEPENDENCY_CYCLE for a dependency cycle). Field values written through v1 "+
			"(any status or priority string) are accepted.\n\n"+
			"Broadcasts `project:created`, `task:created` per task and `session:created` per session (document order, "+
			"each record as stored, links included), then `queue:created` per queue; no `task:session_added`. The body "+
			"may be up to 32 MiB."+exportFormatDoc, http.StatusConflict))
	o.MaxBodyBytes = maestro.MaxImportBytes
	huma.Register(api, o, h.importProject)
}

func (h transferV2) exportProject(ctx context.Context, in *exportInput) (*exportOutput, error) {
	doc, err := h.svc.Export(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &exportOutput{Body: exportDTO(doc)}, nil
}

func (h transferV2) importProject(ctx context.Context, in *importInput) (*importOutput, error) {
	res, err := h.svc.Import(ctx, domainExport(in.Body), string(in.IDs), createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return importResult(res), nil
}

func importResult(res maestro.ImportResult) *importOutput {
	return &importOutput{Status: http.StatusCreated, ETag: res.Project.VersionTag(),
		Location: Prefix + "/projects/" + res.Project.ID, Body: importDTO(res)}
}
