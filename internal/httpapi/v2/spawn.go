package v2

import (
	"context"
	"encoding/json"
	"github.com/maestro-hq/maestro-server/internal/service"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// SpawnBody is the body of POST /api/v2/sessions/spawn. Unlike v1 every member is typed and checked
// (422 before the spawn runs): roles, strategies and sources are enums, taskIds a non-empty list.
type SpawnBody struct {
	ProjectID   string          `json:"projectId" minLength:"1" maxLength:"128" doc:"The project; must exist (404 project_not_found)."`
	TaskIDs     []string        `json:"taskIds" minItems:"1" maxItems:"1000" doc:"The tasks to work on, in order; each must exist (404 task_not_found, details.taskId). Duplicates are dropped."`
	Role        Role            `json:"role,omitempty" doc:"Default worker."`
	Strategy    SessionStrategy `json:"strategy,omitempty" doc:"Default simple; queue also creates the session's work queue from taskIds."`
	SpawnSource SpawnSource     `json:"spawnSource,omitempty"`
	SessionID   string          `json:"sessionId,omitempty" maxLength:"128" doc:"The parent session: required with spawnSource session (422 missing_session_id) and must exist (404 parent_session_not_found); recorded as metadata.spawnedBy either way."`
	SessionName string          `json:"sessionName,omitempty" maxLength:"512" doc:"Default \"<Role> for <first task id>\"."`
	Skills      []string        `json:"skills,omitempty" maxItems:"1000" doc:"Skill ids written to the manifest."`
	Context     JSONObject      `json:"context,omitempty" doc:"Kept in the session's metadata only."`
}

type spawnInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"257" doc:"At most 255 characters (257 with the quotes of the structured-header form). Makes the spawn safe to retry: a repeated key returns the first response and spawns nothing."`
	Body           SpawnBody
}

type spawnOutput struct {
	Status   int
	ETag     string `header:"ETag" doc:"The new session's version."`
	Location string `header:"Location" doc:"The new session."`
	Body     SpawnResult
}

// spawnV2 holds what the Spawn operations need; each method serves one of them and is named
// after its operation ID.
type spawnV2 struct {
	svc *service.Sessions
}

func registerSpawn(api huma.API, d Deps) {
	h := spawnV2{svc: d.Services.Sessions}
	huma.Register(api, create(op("spawn-session", http.MethodPost, Prefix+"/sessions/spawn", "Sessions",
		"Spawn an agent session",
		"Creates a session in status spawning with its tasks linked, its queue (strategy queue) and its manifest file "+
			"at `<SESSION_DIR>/<id>/manifest.json`, all or nothing. The UI opens a terminal for the agent when it "+
			"receives `session:spawn`. Broadcasts `session:updated`, `session:spawn`, `task:session_added` per task, "+
			"then `queue:created` for the queue strategy. Answers 201 with the session, its ETag and Location.\n\n"+
			"Errors keep spawn's own codes: 422 missing_session_id, 404 parent_session_not_found, task_not_found and "+
			"project_not_found, 500 manifest_generation_failed and spawn_error. A wrong type or enum value is 422 "+
			"VALIDATION_ERROR naming the member (v1 answers invalid_role, invalid_strategy and the like with 400).",
		http.StatusInternalServerError)),
		h.spawnSession)
}

func (h spawnV2) spawnSession(ctx context.Context, in *spawnInput) (*spawnOutput, error) {
	b := in.Body
	taskIDs, err := json.Marshal(b.TaskIDs)
	if err != nil {
		return nil, err
	}
	res, err := h.svc.Spawn(ctx, maestro.SpawnRequest{
		ProjectID: b.ProjectID, TaskIDs: taskIDs, Role: string(b.Role), Strategy: string(b.Strategy),
		SpawnSource: string(b.SpawnSource), SessionID: b.SessionID, SessionName: b.SessionName,
		Skills: b.Skills, Context: json.RawMessage(b.Context),
	}, createOpts(ctx))
	if err != nil {
		return nil, err
	}
	return spawnResult(res), nil
}

func spawnResult(res maestro.SpawnResult) *spawnOutput {
	return &spawnOutput{Status: http.StatusCreated, ETag: res.Session.VersionTag(),
		Location: Prefix + "/sessions/" + res.Session.ID, Body: spawnDTO(res)}
}
