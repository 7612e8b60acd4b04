package flags_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/open-feature/go-sdk/openfeature"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func newFlags(t *testing.T) (*flags.Flags, *store.Store) {
	t.Helper()
	st := dbtest.New(t)
	f, err := flags.New(context.Background(), st, flags.Options{Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, st
}

var cli = flags.Origin{Actor: "cli:test", Method: "CLI", Route: "maestro-server flags set", RequestID: "cli-1"}

// TestDefinitions checks the one list of flags: the keys the design names, each a boolean with the
// documented default and a description.
func TestDefinitions(t *testing.T) {
	t.Parallel()
	want := map[flags.Key]bool{flags.APIV2: true, flags.WSStreaming: true, flags.WSReplay: true, flags.TaskSearch: true,
		flags.AdminData: true, flags.DocsLogin: true, flags.TaskLeases: true, flags.MCP: true,
		flags.WSFlushWait: true}
	defs := flags.Definitions()
	if len(defs) != len(want) {
		t.Fatalf("%d flags, want %d", len(defs), len(want))
	}
	for _, d := range defs {
		def, ok := want[d.Key]
		if !ok || d.Default != def || d.Type != flags.Boolean || d.Description == "" {
			t.Errorf("flag %+v", d)
		}
	}
	if _, ok := flags.Lookup("nope"); ok {
		t.Error("Lookup found an undeclared flag")
	}
}

func TestFlags_DefaultsWithoutRows(t *testing.T) {
	t.Parallel()
	f, _ := newFlags(t)
	ctx := context.Background()
	for _, d := range flags.Definitions() {
		if got := f.Enabled(ctx, d.Key); got != d.Default {
			t.Errorf("%s = %v, want default %v", d.Key, got, d.Default)
		}
	}
	states, err := f.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Source != flags.SourceDefault || s.UpdatedBy != "" || s.UpdatedAt != 0 {
			t.Errorf("%+v", s)
		}
	}
	var nilFlags *flags.Flags
	if !nilFlags.Enabled(ctx, flags.APIV2) || nilFlags.Require(ctx, flags.TaskSearch) != nil {
		t.Error("a nil *Flags must answer the defaults")
	}
}

// TestFlags_OpenFeature checks that evaluation goes through OpenFeature with our provider on an
// isolated API: the details name our provider's reasons and variants, other types are a type mismatch,
// unknown keys are not found, and the SDK's global API knows nothing of our flags.
func TestFlags_OpenFeature(t *testing.T) {
	t.Parallel()
	f, _ := newFlags(t)
	ctx := context.Background()
	client := f.API().NewClient()

	d, err := client.BooleanValueDetails(ctx, string(flags.APIV2), false, openfeature.EvaluationContext{})
	if err != nil || !d.Value || d.Reason != openfeature.DefaultReason || d.Variant != "on" {
		t.Fatalf("default evaluation = %+v, %v", d, err)
	}
	if src, _ := d.FlagMetadata.GetString("source"); src != flags.SourceDefault {
		t.Errorf("source = %q", src)
	}
	if _, err := f.Set(ctx, string(flags.APIV2), false, cli); err != nil {
		t.Fatal(err)
	}
	d, err = client.BooleanValueDetails(ctx, string(flags.APIV2), true, openfeature.EvaluationContext{})
	if err != nil || d.Value || d.Reason != openfeature.StaticReason || d.Variant != "off" {
		t.Fatalf("stored evaluation = %+v, %v", d, err)
	}
	// The SDK's global singleton has no provider of ours: it answers the caller's default (on), not the
	// value just stored (off).
	if !openfeature.NewDefaultClient().Boolean(ctx, string(flags.APIV2), true, openfeature.EvaluationContext{}) {
		t.Error("the global OpenFeature API sees our flag: it must stay untouched")
	}
	if _, err := client.StringValue(ctx, string(flags.APIV2), "x", openfeature.EvaluationContext{}); err == nil ||
		!strings.Contains(err.Error(), string(openfeature.TypeMismatchCode)) {
		t.Errorf("string evaluation of a boolean flag: %v", err)
	}
	if _, err := client.BooleanValue(ctx, "no-such-flag", true, openfeature.EvaluationContext{}); err == nil ||
		!strings.Contains(err.Error(), string(openfeature.FlagNotFoundCode)) {
		t.Errorf("unknown flag: %v", err)
	}
}

func TestFlags_SetUnset(t *testing.T) {
	t.Parallel()
	f, st := newFlags(t)
	ctx := context.Background()
	s, err := f.Set(ctx, "task-search", false, cli)
	if err != nil {
		t.Fatal(err)
	}
	if s.Enabled || s.Source != flags.SourceDB || s.UpdatedBy != "cli:test" || s.UpdatedAt == 0 {
		t.Fatalf("after set: %+v", s)
	}
	if f.Enabled(ctx, flags.TaskSearch) {
		t.Fatal("set off, still enabled")
	}
	err = f.Require(ctx, flags.TaskSearch)
	var me *maestro.Error
	if !errors.As(err, &me) || me.Code != maestro.CodeFeatureDisabled || me.Details["flag"] != "task-search" {
		t.Fatalf("Require = %v", err)
	}
	if s, err = f.Unset(ctx, "task-search", cli); err != nil || !s.Enabled || s.Source != flags.SourceDefault {
		t.Fatalf("after unset: %+v %v", s, err)
	}
	if !f.Enabled(ctx, flags.TaskSearch) {
		t.Fatal("unset, still disabled")
	}
	// Unsetting a flag at its default is fine (and still audited).
	if _, err := f.Unset(ctx, "task-search", cli); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Set(ctx, "no-such-flag", true, cli); maestro.ErrorCode(err) != maestro.CodeNotFound {
		t.Fatalf("unknown flag: %v", err)
	}
	// Each successful change wrote exactly one flag:updated event.
	evs, err := st.Read().EventsSince(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
}

// TestFlags_EventAndAudit checks that a change writes its flag:updated event and its audit row (actor,
// route, request id, old and new value) in the transaction of the change.
func TestFlags_EventAndAudit(t *testing.T) {
	t.Parallel()
	f, st := newFlags(t)
	ctx := context.Background()
	if _, err := f.Set(ctx, "ws-replay", false, cli); err != nil {
		t.Fatal(err)
	}
	evs, err := st.Read().EventsSince(ctx, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Type != maestro.EventFlagUpdated {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	var p maestro.FlagUpdatedPayload
	if err := json.Unmarshal(evs[0].Data, &p); err != nil {
		t.Fatal(err)
	}
	if p.Key != "ws-replay" || p.Enabled || !p.Default || p.Source != flags.SourceDB || p.UpdatedBy != "cli:test" || p.UpdatedAt == 0 {
		t.Fatalf("payload = %+v", p)
	}
	raw := openRaw(t, st)
	var actor, method, route, entity, reqID, detail string
	if err := raw.QueryRow(`SELECT actor, method, route, entity_id, request_id, detail FROM audit_log`).
		Scan(&actor, &method, &route, &entity, &reqID, &detail); err != nil {
		t.Fatal(err)
	}
	if actor != "cli:test" || method != "CLI" || route != "maestro-server flags set" || entity != "ws-replay" || reqID != "cli-1" {
		t.Errorf("audit row = %s %s %s %s %s", actor, method, route, entity, reqID)
	}
	var d struct {
		Flag     string
		Old, New struct {
			Enabled bool
			Source  string
		}
	}
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		t.Fatal(err)
	}
	if d.Flag != "ws-replay" || !d.Old.Enabled || d.Old.Source != "default" || d.New.Enabled || d.New.Source != "db" {
		t.Errorf("audit detail = %s", detail)
	}
}

// TestFlags_PreconditionInTransaction checks that a request precondition (If-Match) is evaluated against
// the stored state inside the write, and that a failed one changes nothing.
func TestFlags_PreconditionInTransaction(t *testing.T) {
	t.Parallel()
	f, st := newFlags(t)
	stored, err := f.Get(context.Background(), "api-v2")
	if err != nil || stored.Source != flags.SourceDefault {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	refuse := maestro.WriteOpts{IfMatch: maestro.IfMatch{Tags: []string{`"changed"`}, Stated: `"changed"`, Resource: "Flag 'api-v2'"}}
	_, err = f.Set(context.Background(), "api-v2", false, cli, refuse)
	if maestro.ErrorCode(err) != maestro.CodePrecondition {
		t.Fatalf("err = %v", err)
	}
	// The condition was compared with the state as stored: the error names its version.
	if tag := maestro.AsError(err).Details["etag"]; tag != stored.VersionTag() {
		t.Errorf("precondition saw version %v, want the stored %s", tag, stored.VersionTag())
	}
	if !f.Enabled(context.Background(), flags.APIV2) {
		t.Fatal("a refused change took effect")
	}
	if evs, _ := st.Read().EventsSince(context.Background(), 0, 10); len(evs) != 0 {
		t.Fatalf("a refused change recorded %d events", len(evs))
	}
}

// TestFlags_ChangeByAnotherProcessWithin1s writes the flag through a second, independent store on the
// same file (what `maestro-server flags set` does from another process) and requires the running Flags
// to see it, and to tell its listeners, within one second.
func TestFlags_ChangeByAnotherProcessWithin1s(t *testing.T) {
	t.Parallel()
	f, st := newFlags(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []flags.Change
	stop := f.OnChange(func(c flags.Change) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
	})
	defer stop()

	other, err := store.Open(ctx, store.Options{Path: st.Path(), Logger: discard, NoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	time.Sleep(2 * store.ChangePollInterval) // the change feed takes its baseline
	start := time.Now()
	if _, err := flags.NewAdmin(other, nil).Set(ctx, "ws-streaming", false, cli); err != nil {
		t.Fatal(err)
	}
	for f.Enabled(ctx, flags.WSStreaming) {
		if time.Since(start) > time.Second {
			t.Fatal("a change made by another process was not in effect within 1s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != (flags.Change{Key: flags.WSStreaming, Enabled: false, Previous: true, Source: flags.SourceDB}) {
		t.Fatalf("listeners got %+v", got)
	}
}

// TestFlags_OnChangeOnlyOnEffectiveChanges checks that listeners hear about a flag whose value changed,
// once, and not about writes that leave the value as it was.
func TestFlags_OnChangeOnlyOnEffectiveChanges(t *testing.T) {
	t.Parallel()
	f, _ := newFlags(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []flags.Change
	stop := f.OnChange(func(c flags.Change) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
	})
	mustSet := func(key string, on bool) {
		t.Helper()
		if _, err := f.Set(ctx, key, on, cli); err != nil {
			t.Fatal(err)
		}
	}
	mustSet("api-v2", true) // default is on: no effective change
	mustSet("api-v2", false)
	mustSet("api-v2", false)
	stop()
	mustSet("api-v2", true) // after stop: not delivered
	time.Sleep(3 * store.ChangePollInterval)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Key != flags.APIV2 || got[0].Enabled || !got[0].Previous {
		t.Fatalf("changes = %+v", got)
	}
}

// TestFlags_OpenFeatureConfigChangeEvent checks that a change is announced to OpenFeature handlers.
func TestFlags_OpenFeatureConfigChangeEvent(t *testing.T) {
	t.Parallel()
	f, _ := newFlags(t)
	got := make(chan []string, 4)
	cb := func(d openfeature.EventDetails) { got <- d.FlagChanges }
	f.API().AddHandler(openfeature.ProviderConfigChange, &cb)
	if _, err := f.Set(context.Background(), "task-search", false, cli); err != nil {
		t.Fatal(err)
	}
	select {
	case keys := <-got:
		if len(keys) != 1 || keys[0] != "task-search" {
			t.Fatalf("FlagChanges = %v", keys)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no PROVIDER_CONFIGURATION_CHANGED event")
	}
}

func TestAdmin_Import(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		doc  string
		// want maps flag → enabled after the import; errs lists substrings the error must contain.
		want map[flags.Key]bool
		errs []string
	}{
		{name: "ok", doc: `{"$schema":"https://flagd.dev/schema/v0/flags.json","flags":{
			"api-v2":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off"},
			"task-search":{"state":"ENABLED","variants":{"yes":true,"no":false},"defaultVariant":"yes","targeting":{}}}}`,
			want: map[flags.Key]bool{flags.APIV2: false, flags.TaskSearch: true}},
		{name: "disabled means default", doc: `{"flags":{"ws-replay":{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"off"}}}`,
			want: map[flags.Key]bool{flags.WSReplay: true}},
		{name: "targeting refused", doc: `{"flags":{
			"api-v2":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",
			          "targeting":{"if":[{"==":[{"var":"email"},"a@b"]},"on","off"]}}}}`,
			errs: []string{`flag "api-v2": targeting is not supported`}},
		{name: "shared evaluators refused", doc: `{"$evaluators":{"x":{}},"flags":{"api-v2":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}}}`,
			errs: []string{"$evaluators"}},
		{name: "unknown flag", doc: `{"flags":{"dark-mode":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}}}`,
			errs: []string{`flag "dark-mode": not a flag of this server`}},
		{name: "non-boolean variant", doc: `{"flags":{"api-v2":{"state":"ENABLED","variants":{"on":"yes","off":false},"defaultVariant":"on"}}}`,
			errs: []string{`flag "api-v2": variant "on" is "yes", not a boolean`}},
		{name: "bad default variant and state", doc: `{"flags":{"ws-replay":{"state":"ON","variants":{"on":true},"defaultVariant":"maybe"}}}`,
			errs: []string{`flag "ws-replay": state must be`, `defaultVariant "maybe" is not one of the variants`}},
		{name: "unknown member", doc: `{"flags":{"api-v2":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","rollout":5}}}`,
			errs: []string{`flag "api-v2": unknown key "rollout"`}},
		{name: "one bad flag stops all", doc: `{"flags":{
			"api-v2":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off"},
			"task-search":{"state":"ENABLED","variants":{"on":1},"defaultVariant":"on"}}}`,
			errs: []string{`flag "task-search"`}},
		{name: "not json", doc: `flags: {}`, errs: []string{"not a flagd JSON document"}},
		{name: "empty", doc: `{"flags":{}}`, errs: []string{"nothing to import"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, st := newFlags(t)
			ctx := context.Background()
			states, err := f.Import(ctx, []byte(c.doc), cli)
			if len(c.errs) > 0 {
				if maestro.ErrorCode(err) != maestro.CodeValidation {
					t.Fatalf("err = %v, want VALIDATION_ERROR", err)
				}
				for _, e := range c.errs {
					if !strings.Contains(err.Error(), e) {
						t.Errorf("error %q does not say %q", err, e)
					}
				}
				for _, d := range flags.Definitions() {
					if f.Enabled(ctx, d.Key) != d.Default {
						t.Errorf("a refused import changed %s", d.Key)
					}
				}
				if evs, _ := st.Read().EventsSince(ctx, 0, 10); len(evs) != 0 {
					t.Errorf("a refused import recorded %d events", len(evs))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(states) != len(c.want) {
				t.Fatalf("%d states, want %d", len(states), len(c.want))
			}
			for k, v := range c.want {
				if f.Enabled(ctx, k) != v {
					t.Errorf("%s = %v, want %v", k, !v, v)
				}
			}
			if evs, _ := st.Read().EventsSince(ctx, 0, 10); len(evs) != len(c.want) {
				t.Errorf("%d events, want one per imported flag", len(evs))
			}
		})
	}
}

// openRaw opens a plain connection to a test database for reading tables the store does not expose.
func openRaw(t *testing.T, st *store.Store) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", store.DSN(st.Path()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	return raw
}
