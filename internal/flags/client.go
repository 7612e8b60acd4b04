package flags

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
)

// Options configure New.
type Options struct {
	// Logger receives flag changes and refresh failures; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock of flag writes; time.Now when nil.
	Now func() time.Time
}

// Change is one flag whose effective value changed.
type Change struct {
	Key      Key
	Enabled  bool
	Previous bool
	// Source is where the new value comes from: SourceDB or SourceDefault.
	Source string
}

// retryInterval is how soon a failed reload is retried (a change must take effect within a second).
const retryInterval = 500 * time.Millisecond

// Flags evaluates feature flags for the server and keeps them current. The zero of *Flags (nil) is
// usable: every flag is at its default and nothing ever changes, which is what a server built without a
// database (the OpenAPI generator) needs.
type Flags struct {
	*Admin
	api    *openfeature.EvaluationAPI
	client *openfeature.Client
	prov   *provider
	st     *store.Store
	log    *slog.Logger

	refreshMu sync.Mutex // one reload at a time, so listeners see changes in order

	subMu     sync.Mutex
	listeners map[int]func(Change)
	nextID    int

	stop chan struct{}
	done chan struct{}
}

// New loads the flags from st, registers our provider on a new isolated OpenFeature API, and starts
// following database changes: a commit by any connection or process (data_version) reloads the rows,
// so a change is in effect within a second. Close stops it.
func New(ctx context.Context, st *store.Store, opts Options) (*Flags, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	rows, err := st.Read().ListFlagRows(ctx)
	if err != nil {
		return nil, fmt.Errorf("flags: load: %w", err)
	}
	f := &Flags{
		Admin: NewAdmin(st, opts.Now), prov: newProvider(rows), st: st, log: opts.Logger,
		listeners: map[int]func(Change){}, stop: make(chan struct{}), done: make(chan struct{}),
	}
	f.api = isolated.NewAPI()
	if err := f.api.SetProviderAndWait(ctx, f.prov); err != nil {
		_ = f.api.Shutdown(ctx)
		return nil, fmt.Errorf("flags: register provider: %w", err)
	}
	f.client = f.api.NewClient()
	changes, unsubscribe := st.SubscribeChanges()
	go f.follow(changes, unsubscribe)
	return f, nil
}

// API returns the OpenFeature API instance the flags are evaluated through (to add hooks or handlers).
func (f *Flags) API() *openfeature.EvaluationAPI { return f.api }

// Close stops following the database and shuts the OpenFeature API down.
func (f *Flags) Close() error {
	if f == nil {
		return nil
	}
	select {
	case <-f.stop:
		return nil // already closed
	default:
	}
	close(f.stop)
	<-f.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return f.api.Shutdown(ctx)
}

// Enabled evaluates a flag through the OpenFeature client. Should evaluation fail (it cannot for a
// declared flag), the flag's default applies.
func (f *Flags) Enabled(ctx context.Context, key Key) bool {
	d, ok := Lookup(string(key))
	if !ok {
		return false
	}
	if f == nil {
		return d.Default
	}
	return f.client.Boolean(ctx, string(key), d.Default, openfeature.EvaluationContext{})
}

// Require returns nil when the flag is on, and otherwise the FEATURE_DISABLED error (404) naming it
// in details.flag, for endpoints and parameters the flag gates.
func (f *Flags) Require(ctx context.Context, key Key) error {
	if f.Enabled(ctx, key) {
		return nil
	}
	return &maestro.Error{
		Code:    maestro.CodeFeatureDisabled,
		Message: fmt.Sprintf("This feature is disabled by the feature flag '%s'", key),
		Details: map[string]any{"flag": string(key)},
	}
}

// OnChange calls fn, in order, for every change of a flag's effective value, whoever made it (this
// server's API, or the command line in another process). fn runs on the reload goroutine and must not
// block or change flags itself. The returned function ends the subscription.
func (f *Flags) OnChange(fn func(Change)) (cancel func()) {
	if f == nil {
		return func() {}
	}
	f.subMu.Lock()
	defer f.subMu.Unlock()
	id := f.nextID
	f.nextID++
	f.listeners[id] = fn
	return func() {
		f.subMu.Lock()
		defer f.subMu.Unlock()
		delete(f.listeners, id)
	}
}

// Set sets a flag and puts it in effect at once in this server (other processes follow within a second).
// Errors: NOT_FOUND (not a flag), PRECONDITION_FAILED (If-Match).
func (f *Flags) Set(ctx context.Context, key string, enabled bool, o Origin, opts ...maestro.WriteOpts) (State, error) {
	s, err := f.Admin.Set(ctx, key, enabled, o, opts...)
	if err == nil {
		f.Refresh(ctx)
	}
	return s, err
}

// Unset returns a flag to its default, in effect at once. Errors: NOT_FOUND, PRECONDITION_FAILED.
func (f *Flags) Unset(ctx context.Context, key string, o Origin, opts ...maestro.WriteOpts) (State, error) {
	s, err := f.Admin.Unset(ctx, key, o, opts...)
	if err == nil {
		f.Refresh(ctx)
	}
	return s, err
}

// Import applies a flagd document, in effect at once. Errors: VALIDATION_ERROR.
func (f *Flags) Import(ctx context.Context, doc []byte, o Origin) ([]State, error) {
	s, err := f.Admin.Import(ctx, doc, o)
	if err == nil {
		f.Refresh(ctx)
	}
	return s, err
}

// follow reloads the flags after every database commit until Close. A failed reload keeps the last
// good values and is retried shortly.
func (f *Flags) follow(changes <-chan struct{}, unsubscribe func()) {
	defer close(f.done)
	defer unsubscribe()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-f.stop:
			retry.Stop()
			return
		case <-changes:
		case <-retry.C:
		}
		if !f.Refresh(context.Background()) {
			retry.Reset(retryInterval)
		}
	}
}

// Refresh reloads the flag rows now and reports whether it could. Changed flags are logged, announced
// to OpenFeature handlers, and passed to OnChange listeners.
func (f *Flags) Refresh(ctx context.Context) bool {
	if f == nil {
		return true
	}
	f.refreshMu.Lock()
	defer f.refreshMu.Unlock()
	rows, err := f.st.Read().ListFlagRows(ctx)
	if err != nil {
		f.log.Warn("feature flags: reload failed; keeping the last values", "error", err)
		return false
	}
	before := make(map[Key]State, len(definitions))
	for _, d := range definitions {
		before[d.Key] = f.prov.state(d)
	}
	f.prov.snap.Store(indexRows(rows))
	var changed []Change
	var keys []string
	for _, d := range definitions {
		now := f.prov.state(d)
		if was := before[d.Key]; now.Enabled != was.Enabled {
			changed = append(changed, Change{Key: d.Key, Enabled: now.Enabled, Previous: was.Enabled, Source: now.Source})
			keys = append(keys, string(d.Key))
			f.log.Info("feature flag changed", "flag", string(d.Key), "enabled", now.Enabled,
				"source", now.Source, "updated_by", now.UpdatedBy)
		}
	}
	if len(changed) == 0 {
		return true
	}
	f.prov.configChanged(keys)
	f.subMu.Lock()
	fns := make([]func(Change), 0, len(f.listeners))
	for _, fn := range f.listeners {
		fns = append(fns, fn)
	}
	f.subMu.Unlock()
	for _, c := range changed {
		for _, fn := range fns {
			fn(c)
		}
	}
	return true
}
