package events

import (
	"github.com/maestro-hq/maestro-server/internal/obs"
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
		events: obs.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_events_total",
			Help: "Events published to subscribers, by event type (each seq counted once).",
		}, []string{"type"})),
		slow: obs.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "maestro_ws_slow_consumers_total",
			Help: "Subscribers dropped because their buffer was full (closed with 1008; they resume with since).",
		})),
	}
}
