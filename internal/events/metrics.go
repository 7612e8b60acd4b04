package events

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus collectors. Without a registerer they still count, unregistered, so
// the code that updates them needs no nil checks.
type metrics struct {
	events *prometheus.CounterVec
	slow   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		events: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_events_total",
			Help: "Events published to subscribers, by event type (each seq counted once).",
		}, []string{"type"})),
		slow: Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "maestro_ws_slow_consumers_total",
			Help: "Subscribers dropped because their buffer was full (closed with 1008; they resume with since).",
		})),
	}
}

// Register registers c on reg and returns it; when an equal collector is already registered (two hubs
// or servers on one registry, as in tests), it returns that one so both count into the same series. A
// nil reg leaves c unregistered.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// A different collector under the same name is a programming error, caught by any test.
		panic(err)
	}
	return c
}
