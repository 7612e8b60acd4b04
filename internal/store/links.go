package store

import (
	"context"
	"slices"

	"github.com/maestro-hq/maestro-server/db"
)

// SessionIDsOfTask returns the sessions linked to a task, in the task's order.
func (q *Q) SessionIDsOfTask(ctx context.Context, taskID string) ([]string, error) {
	ids, err := q.q.ListSessionIDsOfTask(q.c(ctx), taskID)
	return ids, mapErr(err)
}

// TaskIDsOfSession returns the tasks linked to a session, in the session's order.
func (q *Q) TaskIDsOfSession(ctx context.Context, sessionID string) ([]string, error) {
	ids, err := q.q.ListTaskIDsOfSession(q.c(ctx), sessionID)
	return ids, mapErr(err)
}

// Link links a task and a session, appending each to the end of the other's list. It reports whether a
// new link was made (false when they were already linked).
func (q *Q) Link(ctx context.Context, taskID, sessionID string) (bool, error) {
	n, err := q.q.InsertLink(q.c(ctx), db.InsertLinkParams{TaskID: taskID, SessionID: sessionID})
	return n > 0, mapErr(err)
}

// Unlink removes the link between a task and a session. It reports whether there was one.
func (q *Q) Unlink(ctx context.Context, taskID, sessionID string) (bool, error) {
	n, err := q.q.DeleteLink(q.c(ctx), db.DeleteLinkParams{TaskID: taskID, SessionID: sessionID})
	return n > 0, mapErr(err)
}

// ReplaceSessionsOfTask makes sessionIDs (already de-duplicated) the task's exact, ordered list of
// linked sessions, updating the session side in the same rows (D5). Sessions that stay linked keep their
// place in the session's own list; newly linked ones go to its end. It returns the ids of every session
// whose list changed (removed ones first, then added ones).
func (q *Q) ReplaceSessionsOfTask(ctx context.Context, taskID string, sessionIDs []string) (changed []string, err error) {
	current, err := q.SessionIDsOfTask(ctx, taskID)
	if err != nil {
		return nil, err
	}
	for _, sid := range current {
		if !slices.Contains(sessionIDs, sid) {
			if _, err := q.Unlink(ctx, taskID, sid); err != nil {
				return nil, err
			}
			changed = append(changed, sid)
		}
	}
	for i, sid := range sessionIDs {
		added, err := q.Link(ctx, taskID, sid)
		if err != nil {
			return nil, err
		}
		if added {
			changed = append(changed, sid)
		}
		if err := mapErr(q.q.SetLinkTaskPos(q.c(ctx), db.SetLinkTaskPosParams{TaskPos: int64(i), TaskID: taskID, SessionID: sid})); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

// ReplaceTasksOfSession is ReplaceSessionsOfTask seen from the session side: taskIDs becomes the
// session's ordered list; it returns the ids of every task whose list changed.
func (q *Q) ReplaceTasksOfSession(ctx context.Context, sessionID string, taskIDs []string) (changed []string, err error) {
	current, err := q.TaskIDsOfSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	for _, tid := range current {
		if !slices.Contains(taskIDs, tid) {
			if _, err := q.Unlink(ctx, tid, sessionID); err != nil {
				return nil, err
			}
			changed = append(changed, tid)
		}
	}
	for i, tid := range taskIDs {
		added, err := q.Link(ctx, tid, sessionID)
		if err != nil {
			return nil, err
		}
		if added {
			changed = append(changed, tid)
		}
		if err := mapErr(q.q.SetLinkSessionPos(q.c(ctx), db.SetLinkSessionPosParams{SessionPos: int64(i), TaskID: tid, SessionID: sessionID})); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

// LinkAt links a task and a session at the given positions of each side's list, so that an import
// restores both orders exactly. The pair must not be linked yet (it is ErrUnique otherwise).
func (q *Q) LinkAt(ctx context.Context, taskID, sessionID string, taskPos, sessionPos int) error {
	return q.LinkPositions(ctx, taskID, sessionID, &taskPos, &sessionPos)
}

// LinkPositions links a task and a session that are not linked yet (ErrUnique otherwise), placing the
// link at taskPos of the task's list and sessionPos of the session's; a nil position appends the link
// at the end of that side, as Link does.
func (q *Q) LinkPositions(ctx context.Context, taskID, sessionID string, taskPos, sessionPos *int) error {
	added, err := q.Link(ctx, taskID, sessionID)
	if err != nil {
		return err
	}
	if !added {
		return ErrUnique
	}
	if taskPos != nil {
		if err := mapErr(q.q.SetLinkTaskPos(q.c(ctx), db.SetLinkTaskPosParams{TaskPos: int64(*taskPos), TaskID: taskID, SessionID: sessionID})); err != nil {
			return err
		}
	}
	if sessionPos != nil {
		return mapErr(q.q.SetLinkSessionPos(q.c(ctx), db.SetLinkSessionPosParams{SessionPos: int64(*sessionPos), TaskID: taskID, SessionID: sessionID}))
	}
	return nil
}
