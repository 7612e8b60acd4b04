package flags

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Where a flag's value comes from.
const (
	// SourceDB: the flag was set (a row in feature_flags).
	SourceDB = "db"
	// SourceDefault: the flag is at its coded default (no row).
	SourceDefault = "default"
)

// State is a flag's definition and its current value.
type State struct {
	Definition
	Enabled bool
	// Source is SourceDB or SourceDefault.
	Source string
	// UpdatedAt (ms) and UpdatedBy say who last set the flag; both are zero at the default.
	UpdatedAt int64
	UpdatedBy string
}

// VersionTag implements maestro.Versioned: a flag's version is its value, source and last change.
func (s State) VersionTag() string {
	return maestro.VersionTag("flag", string(s.Key), strconv.FormatBool(s.Enabled), s.Source,
		strconv.FormatInt(s.UpdatedAt, 10), s.UpdatedBy)
}

func stateOf(d Definition, row *store.FlagRow) State {
	if row == nil {
		return State{Definition: d, Enabled: d.Default, Source: SourceDefault}
	}
	return State{Definition: d, Enabled: row.Enabled, Source: SourceDB, UpdatedAt: row.UpdatedAt, UpdatedBy: row.UpdatedBy}
}

// Origin says who changes a flag and through what, for the flag's updatedBy, its audit row and its
// flag:updated event.
type Origin struct {
	// Actor is who: "cli:<os user>" for the command line, "api:<actor>" for the HTTP API.
	Actor string
	// Method and Route say through what: "PUT" and "/api/v2/flags/{key}", or "CLI" and
	// "maestro-server flags set".
	Method string
	Route  string
	// Status is the HTTP status the change answers with (0 for the command line).
	Status int
	// RequestID ties the audit row to the request's logs; the command line makes its own.
	RequestID string
}

// Admin reads and changes flags in the database. The command line uses it directly; the server uses it
// through Flags, which also refreshes its cache at once.
type Admin struct {
	st  *store.Store
	now func() time.Time
}

// NewAdmin returns an Admin over st; now is the clock (time.Now when nil).
func NewAdmin(st *store.Store, now func() time.Time) *Admin {
	if now == nil {
		now = time.Now
	}
	return &Admin{st: st, now: now}
}

// unknownFlag is the NOT_FOUND error of a key that is not a flag.
func unknownFlag(key string) error {
	return &maestro.Error{
		Code:    maestro.CodeNotFound,
		Message: fmt.Sprintf("Flag with id '%s' not found (flags: %s)", key, strings.Join(Keys(), ", ")),
		Details: map[string]any{"flag": key, "known": Keys()},
	}
}

// List returns every flag with its current value as stored. Rows of keys that are not flags (left by an
// older version, or typed into sqlite3) are ignored.
func (a *Admin) List(ctx context.Context) ([]State, error) {
	rows, err := a.st.Read().ListFlagRows(ctx)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]*store.FlagRow, len(rows))
	for i := range rows {
		byKey[rows[i].Key] = &rows[i]
	}
	out := make([]State, 0, len(definitions))
	for _, d := range definitions {
		out = append(out, stateOf(d, byKey[string(d.Key)]))
	}
	return out, nil
}

// Get returns one flag's current value. Errors: NOT_FOUND (not a flag).
func (a *Admin) Get(ctx context.Context, key string) (State, error) {
	d, ok := Lookup(key)
	if !ok {
		return State{}, unknownFlag(key)
	}
	return a.current(ctx, a.st.Read(), d)
}

func (a *Admin) current(ctx context.Context, q *store.Q, d Definition) (State, error) {
	row, err := q.GetFlagRow(ctx, string(d.Key))
	if errors.Is(err, store.ErrNotFound) {
		return stateOf(d, nil), nil
	}
	if err != nil {
		return State{}, err
	}
	return stateOf(d, &row), nil
}

// change is one flag write: set to Enabled, or back to the default when Unset.
type change struct {
	Key     string
	Enabled bool
	Unset   bool
}

// Set sets a flag on or off. Errors: NOT_FOUND (not a flag), PRECONDITION_FAILED (If-Match).
func (a *Admin) Set(ctx context.Context, key string, enabled bool, o Origin, opts ...maestro.WriteOpts) (State, error) {
	out, err := a.apply(ctx, []change{{Key: key, Enabled: enabled}}, o, maestro.OptsOf(opts).IfMatch)
	if err != nil {
		return State{}, err
	}
	return out[0], nil
}

// Unset returns a flag to its coded default. Errors: NOT_FOUND (not a flag), PRECONDITION_FAILED.
func (a *Admin) Unset(ctx context.Context, key string, o Origin, opts ...maestro.WriteOpts) (State, error) {
	out, err := a.apply(ctx, []change{{Key: key, Unset: true}}, o, maestro.OptsOf(opts).IfMatch)
	if err != nil {
		return State{}, err
	}
	return out[0], nil
}

// Import applies a flagd JSON document (see parseFlagd) in one transaction: every flag in it or none.
// Errors: VALIDATION_ERROR naming each offending flag.
func (a *Admin) Import(ctx context.Context, doc []byte, o Origin) ([]State, error) {
	changes, err := parseFlagd(doc)
	if err != nil {
		return nil, err
	}
	return a.apply(ctx, changes, o, maestro.IfMatch{})
}

// apply writes changes in one transaction. For each flag it checks the condition ifMatch against
// the current state, writes or deletes the row, records flag:updated and an audit row with the old and
// new value — so the change, its broadcast and its trace commit together or not at all. The outbox
// event reaches WebSocket clients even when another process (the command line) made the change.
func (a *Admin) apply(ctx context.Context, changes []change, o Origin, ifMatch maestro.IfMatch) ([]State, error) {
	defs := make([]Definition, len(changes))
	for i, c := range changes {
		d, ok := Lookup(c.Key)
		if !ok {
			return nil, unknownFlag(c.Key)
		}
		defs[i] = d
	}
	out := make([]State, len(changes))
	err := a.st.InTx(ctx, func(q *store.Q) error {
		for i, c := range changes {
			d := defs[i]
			old, err := a.current(ctx, q, d)
			if err != nil {
				return err
			}
			if err := ifMatch.Check(old); err != nil {
				return err
			}
			now := a.now().UnixMilli()
			var nw State
			if c.Unset {
				if _, err := q.DeleteFlagRow(ctx, c.Key); err != nil {
					return err
				}
				nw = stateOf(d, nil)
			} else {
				row := store.FlagRow{Key: c.Key, Enabled: c.Enabled, Description: d.Description, UpdatedAt: now, UpdatedBy: o.Actor}
				if err := q.PutFlagRow(ctx, row); err != nil {
					return err
				}
				nw = stateOf(d, &row)
			}
			if err := q.Emit(ctx, maestro.EventFlagUpdated, "", maestro.FlagUpdatedPayload{
				Key: c.Key, Enabled: nw.Enabled, Default: d.Default, Source: nw.Source, UpdatedBy: o.Actor, UpdatedAt: now,
			}); err != nil {
				return err
			}
			if err := q.InsertFlagAudit(ctx, store.FlagAudit{
				At: now, Actor: o.Actor, Method: o.Method, Route: o.Route, Key: c.Key, Status: o.Status,
				RequestID: o.RequestID, Detail: auditDetail{
					Flag: c.Key,
					Old:  auditValue{Enabled: old.Enabled, Source: old.Source},
					New:  auditValue{Enabled: nw.Enabled, Source: nw.Source},
				},
			}); err != nil {
				return err
			}
			out[i] = nw
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// auditDetail is the detail column of a flag change's audit row.
type auditDetail struct {
	Flag string     `json:"flag"`
	Old  auditValue `json:"old"`
	New  auditValue `json:"new"`
}

type auditValue struct {
	Enabled bool   `json:"enabled"`
	Source  string `json:"source"`
}
