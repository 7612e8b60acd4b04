package v2

import (
	"context"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// leasesV2 serves task claims, leases and the ready set (issue 14), all gated by the task-leases flag.
type leasesV2 struct {
	svc *service.Leases
}

// ClaimBody is the body of a claim of one task.
type ClaimBody struct {
	SessionID    string `json:"sessionId" minLength:"1" maxLength:"128" doc:"The session that takes the task; it is linked to the task."`
	LeaseSeconds int    `json:"leaseSeconds,omitempty" minimum:"1" maximum:"86400" doc:"How long the lease lasts unless renewed; default 300."`
}

// NextBody is the body of a claim of a project's next ready task.
type NextBody struct {
	SessionID       string       `json:"sessionId" minLength:"1" maxLength:"128" doc:"The session that takes the task; it is linked to the task."`
	LeaseSeconds    int          `json:"leaseSeconds,omitempty" minimum:"1" maximum:"86400" doc:"How long the lease lasts unless renewed; default 300."`
	PriorityAtLeast TaskPriority `json:"priorityAtLeast,omitempty" doc:"Only consider tasks of this priority or a more urgent one."`
	ParentID        string       `json:"parentId,omitempty" maxLength:"128" doc:"Only consider the direct children of this task."`
}

// ClaimResult is the answer of a claim.
type ClaimResult struct {
	Task *ClaimedTask `json:"task" doc:"The claimed task, in_progress, with its lease (lease.token is the fencing token); null when no task is ready."`
}

// ClaimedTask is the task a claim took (a Task), or null when nothing was ready.
type ClaimedTask struct {
	_ struct{} `nullable:"true"`
	Task
}

// RenewBody is the body of a lease renewal.
type RenewBody struct {
	LeaseSeconds int `json:"leaseSeconds,omitempty" minimum:"1" maximum:"86400" doc:"The lease lasts this long from now; default 300."`
}

// ReadyTask is one entry of a ready set.
type ReadyTask struct {
	Task      Task     `json:"task"`
	Ready     bool     `json:"ready" doc:"Whether the task can be claimed now: every dependency is completed."`
	BlockedBy []string `json:"blockedBy" doc:"The dependencies that are not completed yet, in the task's order; empty when ready."`
}

// ReadyList is one page of a ready set.
type ReadyList struct {
	Items      []ReadyTask `json:"items"`
	NextCursor *string     `json:"nextCursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page."`
	Total      *int64      `json:"total,omitempty" doc:"Number of todo tasks; only with total=true."`
}

type claimInput struct {
	IDPath
	Body ClaimBody
}

type nextInput struct {
	IDPath
	Body NextBody
}

type claimOutput struct{ Body ClaimResult }

// LeaseTokenHeader is the required Lease-Token header of the lease operations.
type LeaseTokenHeader struct {
	LeaseToken string `header:"Lease-Token" required:"true" maxLength:"20" pattern:"^[0-9]+$" doc:"The fencing token of the lease (lease.token)."`
}

type renewInput struct {
	IDPath
	LeaseTokenHeader
	Body *RenewBody
}

type releaseInput struct {
	IDPath
	LeaseTokenHeader
	Status TaskStatus `query:"status" doc:"The status the task returns to: todo (the default), completed, blocked or cancelled."`
}

type readyInput struct {
	IDPath
	PageParams
	ParentID string `query:"parentId" maxLength:"128" doc:"Only the direct children of this task."`
}

type readyOutput struct{ Body ReadyList }

// leaseToken parses a Lease-Token header value; "" means none was sent (an error when required). Any
// token is refused with FEATURE_DISABLED while the task-leases flag is off: honouring it halfway would
// be worse than saying so.
func leaseToken(ctx context.Context, fl *flags.Flags, header string, required bool) (*int64, error) {
	if header == "" {
		if required {
			return nil, maestro.InvalidField("Lease-Token", "the Lease-Token header is required")
		}
		return nil, nil
	}
	if err := fl.Require(ctx, flags.TaskLeases); err != nil {
		return nil, err
	}
	tok, err := strconv.ParseInt(header, 10, 64)
	if err != nil || tok <= 0 {
		return nil, maestro.InvalidField("Lease-Token", "Lease-Token must be a positive integer (the lease's token)")
	}
	return &tok, nil
}

func claimResult(t *maestro.Task) *claimOutput {
	if t == nil {
		return &claimOutput{}
	}
	return &claimOutput{Body: ClaimResult{Task: &ClaimedTask{Task: taskDTO(*t)}}}
}

func (h leasesV2) claim(ctx context.Context, in *claimInput) (*claimOutput, error) {
	t, err := h.svc.Claim(ctx, in.ID, maestro.ClaimRequest{SessionID: in.Body.SessionID, LeaseSeconds: in.Body.LeaseSeconds})
	if err != nil {
		return nil, err
	}
	return claimResult(&t), nil
}

func (h leasesV2) next(ctx context.Context, in *nextInput) (*claimOutput, error) {
	b := in.Body
	t, err := h.svc.Next(ctx, maestro.NextRequest{
		ProjectID: in.ID, PriorityAtLeast: string(b.PriorityAtLeast), ParentID: b.ParentID,
		ClaimRequest: maestro.ClaimRequest{SessionID: b.SessionID, LeaseSeconds: b.LeaseSeconds},
	})
	if err != nil {
		return nil, err
	}
	return claimResult(t), nil
}

func (h leasesV2) renew(ctx context.Context, in *renewInput) (*taskOutput, error) {
	tok, err := leaseToken(ctx, nil, in.LeaseToken, true)
	if err != nil {
		return nil, err
	}
	secs := 0
	if in.Body != nil {
		secs = in.Body.LeaseSeconds
	}
	t, err := h.svc.Renew(ctx, in.ID, *tok, secs)
	if err != nil {
		return nil, err
	}
	return taskResult(http.StatusOK, t), nil
}

func (h leasesV2) release(ctx context.Context, in *releaseInput) (*taskOutput, error) {
	tok, err := leaseToken(ctx, nil, in.LeaseToken, true)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.Release(ctx, in.ID, maestro.LeaseRelease{Token: *tok, Status: string(in.Status)})
	if err != nil {
		return nil, err
	}
	return taskResult(http.StatusOK, t), nil
}

func (h leasesV2) ready(ctx context.Context, in *readyInput) (*readyOutput, error) {
	page, err := h.svc.Ready(ctx, maestro.ReadyQuery{
		ProjectID: in.ID, ParentID: in.ParentID, Limit: in.Limit, Cursor: in.Cursor, WithTotal: in.Total,
	})
	if err != nil {
		return nil, err
	}
	return &readyOutput{Body: ReadyList{
		Items: mapItems(page.Items, func(r maestro.ReadyTask) ReadyTask {
			return ReadyTask{Task: taskDTO(r.Task), Ready: len(r.BlockedBy) == 0, BlockedBy: nonNil(r.BlockedBy)}
		}),
		NextCursor: nextCursor(page.NextCursor), Total: page.Total,
	}}, nil
}

const leaseRules = "\n\nLease rules: a claimed task is in_progress and carries `lease: {sessionId, acquiredAt, expiresAt, token}`. " +
	"The fencing token grows with every claim of the task. The holder renews with PUT .../lease and finishes with " +
	"PATCH /api/v2/tasks/{id} or DELETE .../lease, sending the token as `Lease-Token`; a token that no longer names the " +
	"lease held now (it expired, was released, or the task was claimed again) gets 409 LEASE_TOKEN_STALE and changes " +
	"nothing. A lease that is not renewed in time is swept: the task goes back to todo, the session's timeline gets a " +
	"`lease_expired` entry, and `task:lease_expired` is broadcast."

func registerLeases(api huma.API, d Deps) {
	h := leasesV2{svc: d.Services.Leases}
	const tag = "Task leases"
	gated := func(o huma.Operation) huma.Operation { return gatedBy(flags.TaskLeases, o) }

	huma.Register(api, gated(op("claim-task", http.MethodPost, Prefix+"/tasks/{id}/claim", tag, "Claim a task",
		"Leases one task to a session: the task becomes in_progress, the session is linked to it, and the answer "+
			"carries the lease with its fencing token. Broadcasts `task:updated` (and `task:session_added`, "+
			"`session:task_added` for a new link, then `session:updated`). A task that is leased, not todo, or "+
			"waiting for a dependency that is not completed answers 409 TASK_NOT_CLAIMABLE with details.reason "+
			"(leased, status or blocked; blockedBy lists the dependencies)."+leaseRules,
		http.StatusConflict)), h.claim)

	huma.Register(api, gated(op("claim-next-task", http.MethodPost, Prefix+"/projects/{id}/tasks/next", tag,
		"Claim the project's next ready task",
		"Picks and claims, in one transaction, the most urgent then oldest task of the project that is todo, has "+
			"every dependency completed and nobody holds (the first ready entry of GET .../tasks/ready). "+
			"Concurrent callers never get the same task. Answers 200 with `task: null` when nothing is ready — "+
			"a normal outcome, not an error. Events as for a claim."+leaseRules)), h.next)

	huma.Register(api, gated(op("renew-task-lease", http.MethodPut, Prefix+"/tasks/{id}/lease", tag, "Renew a lease",
		"Moves the expiry of the lease named by Lease-Token to now + leaseSeconds and answers the task. No event "+
			"is broadcast. A stale token answers 409 LEASE_TOKEN_STALE."+leaseRules, http.StatusConflict)), h.renew)

	huma.Register(api, gated(op("release-task-lease", http.MethodDelete, Prefix+"/tasks/{id}/lease", tag, "Release a lease",
		"Ends the lease named by Lease-Token and sets the task's status (todo unless ?status= says otherwise); "+
			"answers the task and broadcasts `task:updated`. A stale token answers 409 LEASE_TOKEN_STALE."+leaseRules,
		http.StatusConflict)), h.release)

	huma.Register(api, gated(op("list-ready-tasks", http.MethodGet, Prefix+"/projects/{id}/tasks/ready", tag,
		"List the project's ready set",
		"The project's todo tasks in the order a claim of the next task considers them — most urgent, then "+
			"oldest — one page at a time, each with `blockedBy`, the dependencies that are not completed yet "+
			"(`ready` is true when there are none). The next claim takes the first ready entry. 404 when the "+
			"project does not exist.")), h.ready)
}
