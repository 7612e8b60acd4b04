package service

import (
	"context"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Timeline appends an entry about a task ({type, message, taskId}, type defaulting to progress) to the
// timeline of the session in.SessionID, bumps the session's lastActivity and records session:updated
// (SPEC §2.5). It returns the input with its defaults applied.
// Errors: VALIDATION_ERROR (no message, then no sessionId, then a field too long), NOT_FOUND (task, then
// session).
func (s *Tasks) Timeline(ctx context.Context, taskID string, in maestro.TaskTimelineAppend) (maestro.TaskTimelineAppend, error) {
	if in.Message == "" {
		return in, maestro.InvalidField("message", "message is required")
	}
	if in.SessionID == "" {
		return in, maestro.InvalidField("sessionId", "sessionId is required")
	}
	if in.Type == "" {
		in.Type = maestro.TimelineProgress
	}
	if err := firstErr(
		validateEnum("type", &in.Type),
		maestro.CheckBytes("message", in.Message, maestro.MaxTextBytes),
	); err != nil {
		return in, err
	}
	err := s.st.InTx(ctx, func(q *store.Q) error {
		ok, err := q.TaskExists(ctx, taskID)
		if err != nil {
			return err
		}
		if !ok {
			return maestro.NotFound("Task", taskID)
		}
		if ok, err = q.SessionExists(ctx, in.SessionID); err != nil {
			return err
		}
		if !ok {
			return maestro.NotFound("Session", in.SessionID)
		}
		now := s.nowMs()
		if err := s.appendEntry(ctx, q, in.SessionID, maestro.TimelineEntry{
			Type: in.Type, Timestamp: now, Message: in.Message, TaskID: taskID,
		}); err != nil {
			return err
		}
		_, err = sessionUpdated(ctx, q, in.SessionID, now)
		return err
	})
	return in, err
}
