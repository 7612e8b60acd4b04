package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/maestro-hq/maestro-server/db"
)

// FlagRow is a stored feature flag override. A flag without a row takes its coded default.
type FlagRow struct {
	Key         string
	Enabled     bool
	Description string
	UpdatedAt   int64
	UpdatedBy   string
}

func flagFromRow(r db.FeatureFlag) FlagRow {
	return FlagRow{Key: r.Key, Enabled: r.Enabled != 0, Description: r.Description, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
}

// ListFlagRows returns every stored flag override, by key.
func (q *Q) ListFlagRows(ctx context.Context) ([]FlagRow, error) {
	rows, err := q.q.ListFeatureFlags(q.c(ctx))
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]FlagRow, len(rows))
	for i, r := range rows {
		out[i] = flagFromRow(r)
	}
	return out, nil
}

// GetFlagRow returns the stored override of key, or ErrNotFound when the flag is at its default.
func (q *Q) GetFlagRow(ctx context.Context, key string) (FlagRow, error) {
	r, err := q.q.GetFeatureFlag(q.c(ctx), key)
	if err != nil {
		return FlagRow{}, mapErr(err)
	}
	return flagFromRow(r), nil
}

// PutFlagRow stores (inserts or replaces) a flag override.
func (q *Q) PutFlagRow(ctx context.Context, f FlagRow) error {
	var enabled int64
	if f.Enabled {
		enabled = 1
	}
	return mapErr(q.q.UpsertFeatureFlag(q.c(ctx), db.UpsertFeatureFlagParams{
		Key: f.Key, Enabled: enabled, Description: f.Description, UpdatedAt: f.UpdatedAt, UpdatedBy: f.UpdatedBy,
	}))
}

// DeleteFlagRow removes a flag override (the flag returns to its default). It reports whether there was one.
func (q *Q) DeleteFlagRow(ctx context.Context, key string) (bool, error) {
	n, err := q.q.DeleteFeatureFlag(q.c(ctx), key)
	return n > 0, mapErr(err)
}

// FlagAudit is the audit_log row of one flag change: who changed which flag, from where, from what to what.
type FlagAudit struct {
	At        int64
	Actor     string
	Method    string
	Route     string
	Key       string
	Status    int
	RequestID string
	// Detail is stored as JSON (e.g. the old and new value).
	Detail any
}

// InsertFlagAudit writes the audit row of a flag change, in the transaction of the change.
func (q *Q) InsertFlagAudit(ctx context.Context, a FlagAudit) error {
	detail, err := json.Marshal(a.Detail)
	if err != nil {
		return fmt.Errorf("store: marshal flag audit detail: %w", err)
	}
	return mapErr(q.q.InsertAuditEntry(q.c(ctx), db.InsertAuditEntryParams{
		At: a.At, Actor: a.Actor, Method: a.Method, Route: a.Route,
		EntityID: nullString(a.Key), Status: int64(a.Status),
		RequestID: a.RequestID, Detail: sql.NullString{String: string(detail), Valid: true},
	}))
}
