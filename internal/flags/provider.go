package flags

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/open-feature/go-sdk/openfeature"
)

// ProviderName is the name our provider reports to OpenFeature.
const ProviderName = "maestro-sqlite"

// provider is the OpenFeature provider over the feature_flags table. It answers from an in-memory
// snapshot of the rows (an evaluation never touches the database); Flags replaces the snapshot when the
// database changes and tells OpenFeature through a PROVIDER_CONFIGURATION_CHANGED event.
type provider struct {
	snap   atomic.Pointer[map[string]store.FlagRow]
	events chan openfeature.Event
}

func newProvider(rows []store.FlagRow) *provider {
	p := &provider{events: make(chan openfeature.Event, 16)}
	p.snap.Store(indexRows(rows))
	return p
}

func indexRows(rows []store.FlagRow) *map[string]store.FlagRow {
	m := make(map[string]store.FlagRow, len(rows))
	for _, r := range rows {
		m[r.Key] = r
	}
	return &m
}

// state returns a flag's current state from the snapshot.
func (p *provider) state(d Definition) State {
	if r, ok := (*p.snap.Load())[string(d.Key)]; ok {
		return stateOf(d, &r)
	}
	return stateOf(d, nil)
}

// configChanged tells OpenFeature which flags changed. It never blocks: the SDK drains the channel, and
// should it fall behind, the next change reports again.
func (p *provider) configChanged(keys []string) {
	ev := openfeature.Event{
		ProviderName: ProviderName,
		EventType:    openfeature.ProviderConfigChange,
		ProviderEventDetails: openfeature.ProviderEventDetails{
			Message: "feature flags changed", FlagChanges: keys,
		},
	}
	select {
	case p.events <- ev:
	default:
	}
}

// Metadata implements openfeature.FeatureProvider.
func (p *provider) Metadata() openfeature.Metadata {
	return openfeature.Metadata{Name: ProviderName}
}

// Hooks implements openfeature.FeatureProvider.
func (p *provider) Hooks() []openfeature.Hook { return nil }

// Init implements openfeature.StateHandler: the snapshot is loaded before the provider is registered.
func (p *provider) Init(openfeature.EvaluationContext) error { return nil }

// Shutdown implements openfeature.StateHandler.
func (p *provider) Shutdown() {}

// EventChannel implements openfeature.EventHandler.
func (p *provider) EventChannel() <-chan openfeature.Event { return p.events }

// BooleanEvaluation implements openfeature.FeatureProvider. A flag that is set answers its stored value
// (reason STATIC); one that is not answers its coded default (reason DEFAULT). The variant is "on" or
// "off", and the flag metadata names the source ("db" or "default").
func (p *provider) BooleanEvaluation(_ context.Context, flag string, defaultValue bool, _ openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	d, ok := Lookup(flag)
	if !ok {
		return openfeature.BoolResolutionDetail{Value: defaultValue, ProviderResolutionDetail: notFound(flag)}
	}
	s := p.state(d)
	reason := openfeature.DefaultReason
	if s.Source == SourceDB {
		reason = openfeature.StaticReason
	}
	variant := "off"
	if s.Enabled {
		variant = "on"
	}
	return openfeature.BoolResolutionDetail{
		Value: s.Enabled,
		ProviderResolutionDetail: openfeature.ProviderResolutionDetail{
			Reason: reason, Variant: variant, FlagMetadata: openfeature.FlagMetadata{"source": s.Source},
		},
	}
}

// StringEvaluation implements openfeature.FeatureProvider; there are no string flags.
func (p *provider) StringEvaluation(_ context.Context, flag string, defaultValue string, _ openfeature.FlattenedContext) openfeature.StringResolutionDetail {
	return openfeature.StringResolutionDetail{Value: defaultValue, ProviderResolutionDetail: wrongType(flag, "string")}
}

// FloatEvaluation implements openfeature.FeatureProvider; there are no float flags.
func (p *provider) FloatEvaluation(_ context.Context, flag string, defaultValue float64, _ openfeature.FlattenedContext) openfeature.FloatResolutionDetail {
	return openfeature.FloatResolutionDetail{Value: defaultValue, ProviderResolutionDetail: wrongType(flag, "float")}
}

// IntEvaluation implements openfeature.FeatureProvider; there are no integer flags.
func (p *provider) IntEvaluation(_ context.Context, flag string, defaultValue int64, _ openfeature.FlattenedContext) openfeature.IntResolutionDetail {
	return openfeature.IntResolutionDetail{Value: defaultValue, ProviderResolutionDetail: wrongType(flag, "integer")}
}

// ObjectEvaluation implements openfeature.FeatureProvider; there are no object flags.
func (p *provider) ObjectEvaluation(_ context.Context, flag string, defaultValue any, _ openfeature.FlattenedContext) openfeature.InterfaceResolutionDetail {
	return openfeature.InterfaceResolutionDetail{Value: defaultValue, ProviderResolutionDetail: wrongType(flag, "object")}
}

func notFound(flag string) openfeature.ProviderResolutionDetail {
	return openfeature.ProviderResolutionDetail{
		ResolutionError: openfeature.NewFlagNotFoundResolutionError(fmt.Sprintf("no flag %q", flag)),
		Reason:          openfeature.ErrorReason,
	}
}

func wrongType(flag, asked string) openfeature.ProviderResolutionDetail {
	if _, ok := Lookup(flag); !ok {
		return notFound(flag)
	}
	return openfeature.ProviderResolutionDetail{
		ResolutionError: openfeature.NewTypeMismatchResolutionError(fmt.Sprintf("flag %q is a boolean, not a %s", flag, asked)),
		Reason:          openfeature.ErrorReason,
	}
}
