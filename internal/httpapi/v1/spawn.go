package v1

import (
	"context"
	"encoding/json"
	"github.com/maestro-hq/maestro-server/internal/httpapi/wire"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// SpawnBody is the body of POST /sessions/spawn (SPEC §4.1). Other keys (spawnedBy, model) are ignored.
type SpawnBody struct {
	ProjectID *string `json:"projectId" required:"false" doc:"Required."`
	// TaskIDs is raw so that a wrong type gets spawn's own code (invalid_task_ids, D23) rather than a
	// generic validation error.
	TaskIDs     json.RawMessage `json:"taskIds" required:"false" doc:"Required: a non-empty array of task ids (invalid_task_ids otherwise)."`
	Role        *string         `json:"role" required:"false" doc:"worker (default) or orchestrator."`
	Strategy    *string         `json:"strategy" required:"false" doc:"simple (default) or queue; tree is refused (D3)."`
	SpawnSource *string         `json:"spawnSource" required:"false" doc:"ui (default) or session."`
	SessionID   *string         `json:"sessionId" required:"false" doc:"Parent session: required and must exist with spawnSource session; recorded either way."`
	SessionName *string         `json:"sessionName" required:"false" doc:"Defaults to \"<Role> for <first task id>\"."`
	Skills      []string        `json:"skills" required:"false" doc:"Skill ids written to the manifest."`
	Context     json.RawMessage `json:"context" required:"false" doc:"A JSON object kept in the session's metadata only."`
}

// SpawnResponse is the reply of a successful spawn (SPEC §4.2 step 17).
type SpawnResponse struct {
	Success      bool            `json:"success" doc:"Always true."`
	SessionID    string          `json:"sessionId"`
	ManifestPath string          `json:"manifestPath" doc:"Absolute path of the manifest file (D27)."`
	Message      string          `json:"message" doc:"Spawn request sent to Agents UI."`
	Session      maestro.Session `json:"session" doc:"The new session; its env holds the spawn variables."`
}

type spawnInput struct {
	Body *SpawnBody
}

type spawnOutput struct{ Body SpawnResponse }

// spawnV1 holds what the Spawn operations need; each method serves one of them and is named
// after its operation ID.
type spawnV1 struct {
	svc *service.Sessions
}

func registerSpawn(api huma.API, d Deps) {
	h := spawnV1{svc: d.Services.Sessions}
	huma.Register(api, created(op("spawn-session", http.MethodPost, Prefix+"/sessions/spawn", "Sessions",
		"Spawn an agent session",
		"Creates a session in status spawning, its queue (strategy queue) and its manifest file at "+
			"`<SESSION_DIR>/<id>/manifest.json`, all or nothing (D1). The UI opens a terminal when it receives "+
			"`session:spawn`. Broadcasts `session:updated`, `session:spawn`, `task:session_added` per task, then "+
			"`queue:created` for the queue strategy. Checks, in order: projectId (missing_project_id), taskIds "+
			"(invalid_task_ids), spawnSource (invalid_spawn_source), the parent session with source session "+
			"(missing_session_id, parent_session_not_found), role (invalid_role), each task (task_not_found), the "+
			"project (project_not_found), strategy (invalid_strategy). A manifest that cannot be written is 500 "+
			"manifest_generation_failed; any other failure 500 spawn_error.",
		http.StatusBadRequest, http.StatusNotFound, http.StatusInternalServerError)),
		h.spawnSession)
}

func (h spawnV1) spawnSession(ctx context.Context, in *spawnInput) (*spawnOutput, error) {
	b := wire.Deref(in.Body)
	res, err := h.svc.Spawn(ctx, maestro.SpawnRequest{
		ProjectID: wire.Str(b.ProjectID), TaskIDs: b.TaskIDs, Role: wire.Str(b.Role), Strategy: wire.Str(b.Strategy),
		SpawnSource: wire.Str(b.SpawnSource), SessionID: wire.Str(b.SessionID), SessionName: wire.Str(b.SessionName),
		Skills: b.Skills, Context: b.Context,
	})
	if err != nil {
		return nil, err
	}
	return &spawnOutput{Body: SpawnResponse{
		Success: true, SessionID: res.Session.ID, ManifestPath: res.ManifestPath,
		Message: service.SpawnMessage, Session: res.Session,
	}}, nil
}
